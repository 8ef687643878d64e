//! A power supply point's live status: an editor of its 圏域 sets it (over the API, or on the page
//! in two taps), everyone reads it, and a report older than the stale limit is shown as stale,
//! never as open.

use crate::common;

use common::{enc, key};
use serde_json::{Value, json};

fn put(server: &common::Server, id: &str, key: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req =
        reqwest::blocking::Client::new().put(format!("{}/v1/resources/{id}/power_status", server.base)).json(body);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let res = req.send().unwrap();
    (res.status().as_u16(), res.json().unwrap_or(Value::Null))
}

fn nearest(server: &common::Server, kind: &str, near: &str) -> String {
    let r = server.get(&format!("/v1/search?kinds={kind}&near={}&sort=distance&limit=1", enc(near)));
    r.body["results"][0]["id"].as_str().unwrap().to_string()
}

#[test]
fn an_editor_sets_the_status_and_everyone_reads_it() {
    let server = common::start(&[]);
    let id = nearest(&server, "power_supply", "松本市");
    assert_eq!(server.get(&format!("/v1/resources/{id}/power_status")).body["state"], Value::Null, "not reported yet");
    let editor = key(&server, "editor", "電源担当", None);
    let (status, v) = put(&server, &id, Some(&editor), &json!({"state": "power_available"}));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["state"], "power_available");
    assert_eq!(v["stale"], false);
    assert_eq!(v["stale_after_hours"], 6);
    let read = server.get(&format!("/v1/resources/{id}/power_status"));
    assert_eq!(read.body["state"], "power_available");
    let page = reqwest::blocking::get(format!("{}/resources/{id}", server.base)).unwrap().text().unwrap();
    assert!(page.contains("power-status open") && page.contains("開設中・電源あり（"), "the record page shows it");

    // Who may: anonymous 401, a reader 403, an editor of another 圏域 403.
    assert_eq!(put(&server, &id, None, &json!({"state": "open"})).0, 401);
    let reader = key(&server, "reader", "閲覧", None);
    assert_eq!(put(&server, &id, Some(&reader), &json!({"state": "open"})).0, 403);
    let other = key(&server, "editor", "北信の編集者", Some("20-09"));
    assert_eq!(put(&server, &id, Some(&other), &json!({"state": "open"})).0, 403);
    // Bad input names the field; a record that is not a power point is refused.
    for (body, field) in
        [(json!({"state": "maybe"}), "state"), (json!({}), "state"), (json!({"state": "open", "x": 1}), "x")]
    {
        let (status, p) = put(&server, &id, Some(&editor), &body);
        assert_eq!(status, 400, "{body}");
        let names: Vec<&str> = p["errors"].as_array().unwrap().iter().filter_map(|e| e["name"].as_str()).collect();
        assert!(names.contains(&field), "{body}: {names:?}");
    }
    let daycare = nearest(&server, "daycare", "松本市");
    assert_eq!(put(&server, &daycare, Some(&editor), &json!({"state": "open"})).0, 409);
    assert_eq!(server.get(&format!("/v1/resources/{daycare}/power_status")).status, 409);
    assert_eq!(server.get("/v1/resources/nope/power_status").status, 404);
    assert_eq!(read.body["state"], "power_available", "refused writes changed nothing");

    // Two taps on a phone: the status page (bookmarked), then one button.
    let http = reqwest::blocking::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let form =
        http.get(format!("{}/resources/{id}/status", server.base)).bearer_auth(&editor).send().unwrap().text().unwrap();
    assert_eq!(form.matches("<button type=\"submit\" name=\"state\"").count(), 4, "four buttons");
    let res = http
        .post(format!("{}/resources/{id}/status", server.base))
        .bearer_auth(&editor)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("state=full")
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(server.get(&format!("/v1/resources/{id}/power_status")).body["state"], "full");
    let anonymous = reqwest::blocking::get(format!("{}/resources/{id}/status", server.base)).unwrap().text().unwrap();
    assert!(!anonymous.contains("name=\"state\"") && anonymous.contains("/login"), "others are asked to sign in");
}

#[test]
fn a_status_goes_stale_and_is_then_never_shown_as_open() {
    let app = common::in_process();
    let store = app.directory.store.clone();
    let id: tsunagu_model::ResourceId = {
        let (_, body) =
            app.get_raw(&format!("/v1/search?kinds=power_supply&near={}&sort=distance&limit=1", enc("松本市")));
        let v: Value = serde_json::from_slice(&body).unwrap();
        v["results"][0]["id"].as_str().unwrap().parse().unwrap()
    };
    use tsunagu_model::emergency::{PowerState, PowerStatus};
    let report = |hours_ago: i64| {
        let status =
            PowerStatus { state: PowerState::Open, at: chrono::Utc::now() - chrono::Duration::hours(hours_ago) };
        app.runtime.block_on(store.set_power_status(id, &status, &tsunagu_store::Actor::system("test"))).unwrap();
    };
    report(5);
    let (_, body) = app.get_raw(&format!("/v1/resources/{id}/power_status"));
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((v["state"].as_str(), v["stale"].as_bool()), (Some("open"), Some(false)), "5 hours old: fresh");
    report(7);
    let (_, body) = app.get_raw(&format!("/v1/resources/{id}/power_status"));
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["stale"], true, "7 hours old: stale (limit 6)");
    let (_, page) = app.get_raw(&format!("/resources/{id}"));
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains("power-status stale") && page.contains("開設状況は不明"), "shown as stale");
    assert!(!page.contains("power-status open"), "never as open");
}

/// The names of the cards on a page, in order.
fn card_names(html: &str) -> Vec<String> {
    html.split("<li class=\"card\">")
        .skip(1)
        .map(|card| {
            let link = &card[card.find("<h3>").unwrap()..card.find("</h3>").unwrap()];
            let name = &link[link.rfind("\">").unwrap() + 2..link.rfind("</a>").unwrap()];
            name.to_string()
        })
        .collect()
}

#[test]
fn a_family_finds_power_for_its_devices_on_the_page() {
    let server = common::start(&[]);
    let get = |path: &str| {
        let res = reqwest::blocking::get(format!("{}{path}", server.base)).unwrap();
        (res.status().as_u16(), res.text().unwrap())
    };
    // The page ranks as the API does: the same points in the same order.
    let (status, html) = get(&format!("/power?near={}&devices=ventilator&devices=suction&lang=ja", enc("松本市")));
    assert_eq!(status, 200);
    assert!(html.contains("長野県松本市の近くの電源："), "heading names the place");
    let api = server.get(&format!("/v1/power_points?near={}&devices=ventilator,suction&limit=10", enc("松本市")));
    let expected: Vec<String> =
        api.body["points"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect();
    assert!(expected.len() >= 3, "{expected:?}");
    assert_eq!(card_names(&html), expected);
    // Each card says what it does with the devices; unknown is "ask first", never "no".
    assert!(html.contains("人工呼吸器・吸引器：使えると回答") || html.contains("：要確認"));
    assert!(html.contains("checked") && html.contains("value=\"ventilator\""), "the form keeps the devices");
    // A fresh report shows as open on the page; unreported points say so.
    let first = api.body["points"][0]["id"].as_str().unwrap().to_string();
    let editor = key(&server, "editor", "電源担当", None);
    assert_eq!(put(&server, &first, Some(&editor), &json!({"state": "open"})).0, 200);
    let (_, html) = get(&format!("/power?near={}&devices=ventilator", enc("松本市")));
    assert!(html.contains("power-status open"), "the reported point is open");
    assert!(html.contains("開設状況：未報告"), "the others are not reported");
    // In English, and bad input in the page's language.
    let (_, en) = get(&format!("/power?near={}&devices=oxygen_concentrator&lang=en", enc("松本市")));
    assert!(en.contains("Power near") && en.contains("Oxygen concentrator"), "English page");
    let (status, html) = get(&format!("/power?near={}&devices=toaster&watts=lots&lang=ja", enc("松本市")));
    assert_eq!(status, 400);
    assert!(
        html.contains("持っていく機器：選べるものの中にありません。")
            && html.contains("消費電力：読み取れませんでした。")
    );
    let (status, html) = get(&format!("/power?near={}&lang=ja", enc("松元市")));
    assert_eq!(status, 404);
    assert!(
        html.contains("その場所が見つかりませんでした。") && html.contains("候補："),
        "a place it knows is offered"
    );
    // The home page leads here.
    let (_, home) = get("/?lang=ja");
    assert!(home.contains("href=\"/power\""));
    server.stop();
}
