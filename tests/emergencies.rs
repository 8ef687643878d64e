//! Emergencies: an admin declares an outage for a 圏域, the family page and the search there
//! show it (and lead with power, shelters and whom to call) while other places do not; it ends
//! cleanly, is audited, and only admins of the place may declare or end one.

use crate::common;

use common::{enc, key};
use serde_json::{Value, json};

fn post(server: &common::Server, path: &str, key: Option<&str>, body: Option<&Value>) -> (u16, Value) {
    let mut req = reqwest::blocking::Client::new().post(format!("{}{path}", server.base));
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let res = req.send().unwrap();
    let status = res.status().as_u16();
    (status, res.json().unwrap_or(Value::Null))
}

fn page(server: &common::Server, path: &str) -> String {
    reqwest::blocking::get(format!("{}{path}", server.base)).unwrap().text().unwrap()
}

fn with_key(server: &common::Server, path: &str, key: &str) -> (u16, Value) {
    let res = reqwest::blocking::Client::new().get(format!("{}{path}", server.base)).bearer_auth(key).send().unwrap();
    (res.status().as_u16(), res.json().unwrap_or(Value::Null))
}

#[test]
fn an_outage_changes_the_page_and_the_api_there_and_then_ends_cleanly() {
    let server = common::start(&[]);
    let admin = key(&server, "admin", "防災担当", None);
    let declare = json!({
        "kind": "outage",
        "message_ja": "松本圏域で停電が続いています。医療機器の電源は下の電源供給場所へ。",
        "message_en": "A power outage continues in the Matsumoto region.",
        "regions": ["松本"]
    });
    let (status, e) = post(&server, "/v1/emergencies", Some(&admin), Some(&declare));
    assert_eq!(status, 201, "{e}");
    let id = e["id"].as_str().unwrap().to_string();
    assert_eq!(e["active"], true);
    assert_eq!(e["regions"][0]["id"], "20-07");
    assert!(e["municipalities"].as_array().unwrap().iter().any(|m| m["name"] == "松本市"));

    // The API: searches about the region say so; others do not.
    let near = server.get(&format!("/v1/search?near={}&limit=1", enc("松本市")));
    assert_eq!(near.body["emergencies"][0]["id"], id.as_str(), "{}", near.body["emergencies"]);
    let by_point = server.get("/v1/search?lat=36.2305&lon=137.9642&limit=1");
    assert_eq!(by_point.body["emergencies"].as_array().unwrap().len(), 1);
    let elsewhere = server.get(&format!("/v1/search?near={}&limit=1", enc("長野市")));
    assert_eq!(elsewhere.body["emergencies"], json!([]));
    let current = server.get("/v1/emergencies");
    assert_eq!(current.body["emergencies"][0]["id"], id.as_str());

    // The page: a banner, whom to call, power and shelters first — in 松本, not in 長野.
    let html = page(&server, &format!("/?q={}", enc("訪問看護 松本市")));
    let banner = html.find("緊急のお知らせ").expect("a banner");
    assert!(html.contains("松本圏域で停電が続いています"));
    let power = html.find("電源を借りられる所（機器に使える所・開いている所から）").expect("power points listed");
    let shelters = html.find("福祉避難所（近い順）").expect("welfare shelters listed");
    let results = html.find("件みつかりました").unwrap();
    assert!(banner < power && power < shelters && shelters < results, "emergency information first");
    assert!(html[banner..results].contains("最初の相談先"), "whom to call, inside the emergency block");
    let power_link = format!("href=\"/power?near={}", enc("松本市"));
    assert!(html[banner..results].contains(&power_link), "a way to find power there for the family's devices");
    let en = page(&server, &format!("/?lang=en&q={}", enc("visiting nurse matsumoto")));
    assert!(en.contains("A power outage continues in the Matsumoto region."));
    assert!(!page(&server, &format!("/?q={}", enc("訪問看護 長野市"))).contains("緊急のお知らせ"));

    // Only an admin: anonymous 401, an editor 403; an admin of another 圏域 403.
    assert_eq!(post(&server, "/v1/emergencies", None, Some(&declare)).0, 401);
    let editor = key(&server, "editor", "編集者", None);
    assert_eq!(post(&server, "/v1/emergencies", Some(&editor), Some(&declare)).0, 403);
    let hokushin_admin = key(&server, "admin", "北信の管理者", Some("20-09"));
    let (status, body) = post(&server, "/v1/emergencies", Some(&hokushin_admin), Some(&declare));
    assert_eq!(status, 403, "{body}");
    assert_eq!(post(&server, &format!("/v1/emergencies/{id}/end"), Some(&hokushin_admin), None).0, 403);
    assert_eq!(post(&server, &format!("/v1/emergencies/{id}/end"), Some(&editor), None).0, 403);

    // It ends: gone from the page and the search, kept in the list of all, audited.
    let (status, ended) = post(&server, &format!("/v1/emergencies/{id}/end"), Some(&admin), None);
    assert_eq!(status, 200, "{ended}");
    assert_eq!(ended["active"], false);
    assert!(ended["ends_at"].is_string());
    assert_eq!(post(&server, &format!("/v1/emergencies/{id}/end"), Some(&admin), None).0, 409, "ending twice");
    assert_eq!(server.get(&format!("/v1/search?near={}&limit=1", enc("松本市"))).body["emergencies"], json!([]));
    assert!(!page(&server, &format!("/?q={}", enc("訪問看護 松本市"))).contains("緊急のお知らせ"));
    assert_eq!(server.get("/v1/emergencies").body["emergencies"], json!([]));
    assert_eq!(server.get("/v1/emergencies?status=all").body["emergencies"][0]["id"], id.as_str());
    let reader = key(&server, "reader", "閲覧者", None);
    let (status, h) = with_key(&server, &format!("/v1/emergencies/{id}/history"), &reader);
    assert_eq!(status, 200);
    let actions: Vec<(&str, &str)> = h["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["action"].as_str().unwrap(), x["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(actions, [("declare", "防災担当"), ("end", "防災担当")]);
    assert_eq!(server.get(&format!("/v1/emergencies/{id}/history")).status, 401, "the trail is for key holders");
    // Its start and end survive a restart of the server? They are in the store: read it back.
    assert_eq!(server.get(&format!("/v1/emergencies/{id}")).body["ends_at"], ended["ends_at"]);
}

#[test]
fn bad_declarations_are_problems_naming_the_field() {
    let server = common::start(&[]);
    let admin = key(&server, "admin", "防災担当", None);
    let base = json!({"kind": "disaster", "message_ja": "大雪", "municipalities": ["20202"]});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    for (body, field) in [
        (with("kind", json!("fire")), "kind"),
        (with("message_ja", json!("  ")), "message_ja"),
        (with("message_ja", json!("あ".repeat(501))), "message_ja"),
        (with("municipalities", json!(["99999"])), "municipalities"),
        (with("municipalities", json!([])), "municipalities"),
        (with("regions", json!(["どこでもない"])), "regions"),
        (with("starts_at", json!("tomorrow")), "starts_at"),
        (with("ends_at", json!("2020-01-01T00:00:00Z")), "ends_at"),
        (
            json!({"kind": "outage", "message_ja": "x", "municipalities": ["20202"], "starts_at": "2099-01-02T00:00:00Z", "ends_at": "2099-01-01T00:00:00Z"}),
            "ends_at",
        ),
        (with("colour", json!("red")), "colour"),
        (json!({"message_ja": "x", "municipalities": ["20202"]}), "kind"),
    ] {
        let (status, p) = post(&server, "/v1/emergencies", Some(&admin), Some(&body));
        assert_eq!(status, 400, "{body}: {p}");
        let names: Vec<&str> = p["errors"].as_array().unwrap().iter().filter_map(|e| e["name"].as_str()).collect();
        assert!(names.contains(&field), "{body}: {names:?}");
    }
    let res = reqwest::blocking::Client::new()
        .post(format!("{}/v1/emergencies", server.base))
        .bearer_auth(&admin)
        .body("{not json")
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert_eq!(server.get("/v1/emergencies?status=some").status, 400);
    assert_eq!(server.get("/v1/emergencies/nope").status, 404);
    assert_eq!(post(&server, "/v1/emergencies/nope/end", Some(&admin), None).0, 404);
    // Nothing was declared by any of these.
    assert_eq!(server.get("/v1/emergencies?status=all").body["emergencies"], json!([]));
    // One that starts later is not in force yet, and ending it before it starts means it never is.
    let (status, later) =
        post(&server, "/v1/emergencies", Some(&admin), Some(&with("starts_at", json!("2099-01-01T00:00:00Z"))));
    assert_eq!(status, 201);
    assert_eq!(later["active"], false);
    assert_eq!(server.get(&format!("/v1/search?near={}&limit=1", enc("松本市"))).body["emergencies"], json!([]));
    let (_, ended) =
        post(&server, &format!("/v1/emergencies/{}/end", later["id"].as_str().unwrap()), Some(&admin), None);
    assert_eq!(ended["ends_at"], ended["starts_at"]);
}
