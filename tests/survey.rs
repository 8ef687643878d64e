//! The centre's survey end to end over HTTP, on the bundled real records of 松本圏域 (20-07):
//! campaign → invitations → three providers answer on their forms → review → search shows the
//! answers with who said them; plus every bad-token case, races, the paper path and the dashboard.

use crate::common;

use std::collections::HashMap;
use std::process::Command;
use std::sync::OnceLock;

use common::{BIN, Server, enc, results};
use reqwest::blocking::{Client, RequestBuilder};
use serde_json::{Value, json};

fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| common::start(&[]))
}

fn key(s: &Server, role: &str, name: &str, regions: Option<&str>) -> String {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir").arg(s.data_dir()).args(["keys", "create", "--role", role, "--name", name]);
    if let Some(r) = regions {
        cmd.args(["--regions", r]);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn editor() -> &'static str {
    static K: OnceLock<String> = OnceLock::new();
    K.get_or_init(|| key(server(), "editor", "調査 松本圏域コーディネーター", Some("20-07")))
}

fn http() -> Client {
    Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn send(b: RequestBuilder) -> (u16, Value) {
    let res = b.send().unwrap();
    let status = res.status().as_u16();
    let text = res.text().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn api(s: &Server, method: &str, path: &str, k: &str, body: Option<Value>) -> (u16, Value) {
    let url = format!("{}{path}", s.base);
    let b = match method {
        "POST" => http().post(url),
        "PATCH" => http().patch(url),
        _ => http().get(url),
    }
    .header("Authorization", format!("Bearer {k}"));
    send(match body {
        Some(v) => b.json(&v),
        None => b,
    })
}

/// The form's hidden key, read from the page as a browser would.
fn form_key(html: &str) -> String {
    let at = html.find("name=\"form_key\" value=\"").expect("the form has its key") + 23;
    html[at..at + 64].to_string()
}

fn open_form(s: &Server, token: &str) -> (u16, String) {
    let res = http().get(format!("{}/survey/{token}", s.base)).send().unwrap();
    (res.status().as_u16(), res.text().unwrap())
}

fn post_form(s: &Server, token: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let (_, html) = open_form(s, token);
    let mut all: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    all.push(("form_key".into(), form_key(&html)));
    let res = http().post(format!("{}/survey/{token}", s.base)).form(&all).send().unwrap();
    (res.status().as_u16(), res.text().unwrap())
}

struct Campaign {
    id: String,
    /// resource id → (invitation id, token, code, name)
    invitations: Vec<(String, String, String, String, String)>,
}

fn campaign() -> &'static Campaign {
    static C: OnceLock<Campaign> = OnceLock::new();
    C.get_or_init(|| {
        let s = server();
        let (status, c) = api(
            s,
            "POST",
            "/v1/surveys",
            editor(),
            Some(json!({"name": "令和9年度 医療的ケア受入状況調査", "target": {"kinds": ["short_stay", "daycare"], "regions": ["20-07"]}, "deadline": "2099-01-31"})),
        );
        assert_eq!(status, 201, "{c}");
        let id = c["id"].as_str().unwrap().to_string();
        let (status, inv) = api(s, "POST", &format!("/v1/surveys/{id}/invitations"), editor(), None);
        assert_eq!(status, 201, "{inv}");
        let invitations = inv["invitations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["resource_id"].as_str().unwrap().to_string(),
                    i["id"].as_str().unwrap().to_string(),
                    i["token"].as_str().unwrap().to_string(),
                    i["code"].as_str().unwrap().to_string(),
                    i["resource_name"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        Campaign { id, invitations }
    })
}

fn record(s: &Server, id: &str) -> Value {
    s.get(&format!("/v1/resources/{id}")).body
}

#[test]
fn a_campaign_for_one_region_runs_from_invitation_to_confirmed_search_results() {
    let s = server();
    let c = campaign();
    // Every targeted record is a real short stay or daycare of 松本圏域, each with one invitation.
    assert!(c.invitations.len() >= 20, "{}", c.invitations.len());
    for (rid, ..) in &c.invitations {
        let r = record(s, rid);
        assert_eq!(r["municipality"]["region"]["id"], "20-07");
        assert!(["short_stay", "daycare"].contains(&r["kind"].as_str().unwrap()));
        assert_eq!(r["sample"], false);
    }
    let [a, b, x] = [&c.invitations[0], &c.invitations[1], &c.invitations[2]];
    // Three providers answer: できる (nurse), 条件つき (with a nurse schedule too), できない.
    let (st, html) =
        post_form(s, &a.2, &[("care.ventilator", "can"), ("by.ventilator", "nurse"), ("action", "submit")]);
    assert_eq!(st, 200, "{html}");
    assert!(html.contains("提出しました"));
    let (st, _) = post_form(
        s,
        &b.2,
        &[
            ("care.ventilator", "conditional"),
            ("note.ventilator", "事前に面談が必要です"),
            ("nurse.mon", "09:00-17:00"),
            ("action", "submit"),
        ],
    );
    assert_eq!(st, 200);
    let (st, _) = post_form(s, &x.2, &[("care.ventilator", "cannot"), ("action", "submit")]);
    assert_eq!(st, 200);

    let (st, queue) = api(s, "GET", &format!("/v1/surveys/{}/responses", c.id), editor(), None);
    assert_eq!(st, 200, "{queue}");
    let by_inv: HashMap<String, Value> = queue["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["invitation_id"].as_str().unwrap().to_string(), r.clone()))
        .collect();
    let b_fields: Vec<&str> =
        by_inv[&b.1]["changes"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert!(b_fields.contains(&"care/ventilator") && b_fields.contains(&"nurse_schedule"), "{b_fields:?}");

    // The first accepted whole, the second field by field (the condition, not the schedule), the third rejected.
    let review = |inv: &str, body: Value| {
        api(s, "POST", &format!("/v1/surveys/{}/responses/{inv}/review", c.id), editor(), Some(body))
    };
    assert_eq!(review(&a.1, json!({"decision": "accept_all"})).0, 200);
    let (st, v) = review(&b.1, json!({"decision": "accept_fields", "fields": ["care/ventilator"]}));
    assert_eq!(st, 200, "{v}");
    assert_eq!(review(&x.1, json!({"decision": "reject", "note": "電話で確認します"})).0, 200);
    assert_eq!(review(&x.1, json!({"decision": "accept_all"})).0, 409, "reviewed once");

    // Search now finds the first as confirmed, the second as conditional; the third is unchanged.
    let r = s.get("/v1/search?care_types=ventilator&region=20-07&include_sample=false&limit=100");
    let rs = results(&r);
    let find = |id: &str| rs.iter().find(|x| x["id"] == id).cloned();
    let first = find(&a.0).expect("the first is found");
    assert_eq!(first["care_answers"][0]["state"], "confirmed", "{first}");
    assert!(first["care_answers"][0]["ja"].as_str().unwrap().contains("センター確認済み"));
    let second = find(&b.0).expect("the second is found");
    assert_eq!(second["care_answers"][0]["state"], "conditional");
    assert_eq!(second["care_answers"][0]["note"], "事前に面談が必要です");
    let pos = |id: &str| rs.iter().position(|x| x["id"] == id).unwrap();
    assert!(pos(&a.0) < pos(&b.0), "confirmed before conditional");
    let third = find(&x.0).expect("a rejected answer changes nothing: still unknown");
    assert_eq!(third["care_answers"][0]["state"], "unknown");
    assert!(r.body["confirmed_total"].as_u64().unwrap() >= 1 && r.body["reported_total"].as_u64().unwrap() >= 1);
    let b_rec = record(s, &b.0);
    assert!(b_rec.get("nurse_schedule").is_none(), "the schedule was not accepted: {b_rec}");
    assert!(record(s, &x.0)["care_types_declined"].as_array().unwrap().is_empty());

    // History shows the provider as actor, with the reviewer's key.
    let (_, h) = api(s, "GET", &format!("/v1/resources/{}/history", a.0), editor(), None);
    let last = h["history"].as_array().unwrap().last().unwrap().clone();
    assert!(last["actor"].as_str().unwrap().ends_with("(survey 令和9年度 医療的ケア受入状況調査)"), "{last}");
    assert!(last["actor"].as_str().unwrap().starts_with(&a.4));
    assert!(last["actor_key_id"].is_string());
    assert!(last["changes"]["care_types"].is_object(), "the audit trail holds the diff: {last}");
    // A reviewed form cannot be changed any more.
    let (st, html) = open_form(s, &a.2);
    assert_eq!(st, 200);
    assert!(html.contains("確認済み"), "{html}");
}

#[test]
fn every_bad_token_gets_a_clear_page_that_names_nothing() {
    let s = server();
    let c = campaign();
    let (st, html) = open_form(s, "0000000000000000000000000000000000000000000000000000000000000000");
    assert_eq!(st, 404);
    assert!(html.contains("見つかりません") && !html.contains("御中"));
    assert_eq!(open_form(s, "not-a-token").0, 404);
    assert_eq!(open_form(s, &"z".repeat(5000)).0, 404);
    // Revoked.
    let inv = &c.invitations[3];
    let (st, v) = api(s, "POST", &format!("/v1/invitations/{}/revoke", inv.1), editor(), None);
    assert_eq!(st, 200, "{v}");
    let (st, html) = open_form(s, &inv.2);
    assert_eq!(st, 410);
    assert!(html.contains("使えなくなりました") && !html.contains(&inv.4), "no name leaks");
    // Expired: its deadline moved into the past in the store.
    let inv = &c.invitations[4];
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        use tsunagu_store::Store;
        let store = tsunagu_store::SqliteStore::open(&s.data_dir().join("tsunagu.sqlite3")).await.unwrap();
        let hash = tsunagu_directory::survey::token_hash(&inv.2);
        assert!(store.reissue_invitation(&inv.1, &hash, chrono::Utc::now() - chrono::Duration::days(1)).await.unwrap());
    });
    let (st, html) = open_form(s, &inv.2);
    assert_eq!(st, 410);
    assert!(html.contains("期限") && !html.contains(&inv.4));
    let en = http().get(format!("{}/survey/{}?lang=en", s.base, inv.2)).send().unwrap().text().unwrap();
    assert!(en.contains("deadline"));
    // A POST from another site is refused; so is one without the form's key.
    let ok = &c.invitations[5];
    let res = http()
        .post(format!("{}/survey/{}", s.base, ok.2))
        .header("Origin", "https://evil.example")
        .form(&[("care.ventilator", "can"), ("action", "submit")])
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    let res = http()
        .post(format!("{}/survey/{}", s.base, ok.2))
        .form(&[("care.ventilator", "can"), ("action", "submit")])
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    // A token opens its own record only: the form names that record and no other.
    let (_, html) = open_form(s, &ok.2);
    assert!(html.contains(&ok.4));
}

#[test]
fn guessing_tokens_is_rate_limited() {
    let s = common::start(&[]);
    let mut last = 0;
    for i in 0..25 {
        let (st, _) = open_form(&s, &format!("{i:064x}"));
        last = st;
        if st == 429 {
            break;
        }
    }
    assert_eq!(last, 429, "failed lookups are limited per client");
}

#[test]
fn the_same_token_submitted_twice_at_once_keeps_one_response() {
    let s = server();
    let c = campaign();
    let inv = &c.invitations[6];
    let (_, html) = open_form(s, &inv.2);
    let key = form_key(&html);
    let statuses: Vec<u16> = std::thread::scope(|sc| {
        let hs: Vec<_> = ["can", "cannot"]
            .iter()
            .map(|answer| {
                let key = key.clone();
                sc.spawn(move || {
                    http()
                        .post(format!("{}/survey/{}", s.base, inv.2))
                        .form(&[("care.tracheostomy", *answer), ("action", "submit"), ("form_key", key.as_str())])
                        .send()
                        .unwrap()
                        .status()
                        .as_u16()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(statuses, [200, 200]);
    let (_, queue) = api(s, "GET", &format!("/v1/surveys/{}/responses?status=all", c.id), editor(), None);
    let mine: Vec<&Value> =
        queue["responses"].as_array().unwrap().iter().filter(|r| r["invitation_id"] == inv.1.as_str()).collect();
    assert_eq!(mine.len(), 1, "one response per invitation");
    assert_eq!(mine[0]["revision"], 2, "both saves applied, one after the other");
}

#[test]
fn a_review_never_overwrites_a_newer_edit_silently() {
    let s = server();
    let c = campaign();
    let inv = &c.invitations[7];
    let (st, _) = post_form(s, &inv.2, &[("care.oxygen", "can"), ("phone", "0263-11-2222"), ("action", "submit")]);
    assert_eq!(st, 200);
    // Meanwhile an editor changes the phone number.
    let res = http().get(format!("{}/v1/resources/{}", s.base, inv.0)).send().unwrap();
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let (st, v) = send(
        http()
            .patch(format!("{}/v1/resources/{}", s.base, inv.0))
            .header("Authorization", format!("Bearer {}", editor()))
            .header("If-Match", etag)
            .header("Content-Type", "application/merge-patch+json")
            .body(json!({"contact": {"phone": "0263-99-9999"}}).to_string()),
    );
    assert_eq!(st, 200, "{v}");
    let review =
        |body: Value| api(s, "POST", &format!("/v1/surveys/{}/responses/{}/review", c.id, inv.1), editor(), Some(body));
    let (st, problem) = review(json!({"decision": "accept_all"}));
    assert_eq!(st, 409, "{problem}");
    assert_eq!(problem["errors"][0]["name"], "phone", "{problem}");
    assert_eq!(record(s, &inv.0)["contact"]["phone"], "0263-99-9999", "the newer edit stands");
    // Accepting the other field works, and the edit still stands.
    let (st, v) = review(json!({"decision": "accept_fields", "fields": ["care/oxygen"]}));
    assert_eq!(st, 200, "{v}");
    let r = record(s, &inv.0);
    assert_eq!(r["contact"]["phone"], "0263-99-9999");
    assert!(r["care_types"].as_array().unwrap().contains(&json!("oxygen")));
}

#[test]
fn paper_answers_private_fields_and_the_dashboard() {
    let s = server();
    // A campaign of its own (four records by id), so that its counts are this test's alone.
    let picked: Vec<String> = campaign().invitations[10..14].iter().map(|i| i.0.clone()).collect();
    let (st, c) = api(
        s,
        "POST",
        "/v1/surveys",
        editor(),
        Some(json!({"name": "追加調査", "target": {"resources": picked}, "deadline": "2099-03-31", "mode": "review"})),
    );
    assert_eq!(st, 201, "{c}");
    let cid = c["id"].as_str().unwrap().to_string();
    let (_, inv) = api(s, "POST", &format!("/v1/surveys/{cid}/invitations"), editor(), None);
    let invs = inv["invitations"].as_array().unwrap().clone();
    assert_eq!(invs.len(), 4);
    let (code, inv_id, rid) = (
        invs[0]["code"].as_str().unwrap().to_string(),
        invs[0]["id"].as_str().unwrap().to_string(),
        invs[0]["resource_id"].as_str().unwrap().to_string(),
    );
    // Paper answers by code, in bulk from a CSV (the code as staff type it, lower case, no dashes).
    let csv = format!(
        "回答用コード,suction_tracheal,suction_tracheal_行う人,担当者,担当者電話,コメント\n{},できる,看護師;研修職員,担当 太田,0263-00-1111,\"=HYPERLINK(\"\"http://x\"\")\"\nXXXX-XXXX-XXXX,できる,,,,\n",
        code.to_lowercase().replace('-', "")
    );
    let (st, v) = send(
        http()
            .post(format!("{}/v1/surveys/{cid}/paper", s.base))
            .header("Authorization", format!("Bearer {}", editor()))
            .header("Content-Type", "text/csv")
            .body(csv),
    );
    assert_eq!(st, 422, "one of two rows has an unknown code: {v}");
    assert_eq!(v["entered"], 1);
    assert!(v["report"][1]["error"].as_str().unwrap().contains("no invitation"), "{v}");
    let (st, v) = api(
        s,
        "POST",
        &format!("/v1/surveys/{cid}/responses/{inv_id}/review"),
        editor(),
        Some(json!({"decision": "accept_all"})),
    );
    assert_eq!(st, 200, "{v}");
    // The contact person is for key holders only.
    let public = record(s, &rid);
    assert!(public.get("private").is_none(), "{public}");
    let (_, mine) = api(s, "GET", &format!("/v1/resources/{rid}"), editor(), None);
    assert_eq!(mine["private"]["staff_name"], "担当 太田");
    // Answer CSV: a cell that starts like a formula is neutralised.
    let csv = http()
        .get(format!("{}/v1/surveys/{cid}/answers.csv", s.base))
        .header("Authorization", format!("Bearer {}", editor()))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(csv.starts_with('\u{FEFF}'));
    assert!(csv.contains("'\"\"=HYPERLINK") || csv.contains("'=HYPERLINK"), "{csv}");
    assert!(!csv.contains(",\"=HYPERLINK") && !csv.contains(",=HYPERLINK"), "{csv}");

    // The dashboard's counts equal counts made from the store's invitations and responses.
    let (st, d) = api(s, "GET", &format!("/v1/surveys/{cid}/dashboard"), editor(), None);
    assert_eq!(st, 200, "{d}");
    let (_, all) = api(s, "GET", &format!("/v1/surveys/{cid}/responses?status=all"), editor(), None);
    let responded = all["responses"].as_array().unwrap().iter().filter(|r| r["status"] != "draft").count() as u64;
    assert_eq!((d["overall"]["invited"].as_u64(), d["overall"]["responded"].as_u64()), (Some(4), Some(responded)));
    assert_eq!(responded, 1);
    let per_cell: u64 =
        d["by_region_and_kind"]["20-07"].as_object().unwrap().values().map(|r| r["responded"].as_u64().unwrap()).sum();
    assert_eq!(per_cell, 1);
    assert_eq!(d["non_responders"].as_array().unwrap().len(), 3);
    let n = &d["non_responders"][0];
    assert!(n["code"].is_string() && n.get("phone").is_some());
    let ch: Vec<&Value> =
        d["changes"].as_array().unwrap().iter().filter(|ch| ch["care_type"] == "suction_tracheal").collect();
    assert_eq!(ch.len(), 1, "{d}");
    assert_eq!(ch[0]["now"].as_u64().unwrap(), ch[0]["before"].as_u64().unwrap() + 1);
    let nr = http()
        .get(format!("{}/v1/surveys/{cid}/non_responders.csv", s.base))
        .header("Authorization", format!("Bearer {}", editor()))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(nr.lines().count(), 4, "a header and three facilities: {nr}");

    // Letters for the non-responders: one page each, with a QR code and the code.
    let res = http()
        .post(format!("{}/v1/surveys/{cid}/letters", s.base))
        .header("Authorization", format!("Bearer {}", editor()))
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let html = res.text().unwrap();
    assert_eq!(html.matches("<section class=\"letter\"").count(), 3);
    assert!(html.contains("<svg") && html.contains(n["code"].as_str().unwrap()));
    let q = http()
        .get(format!("{}/v1/surveys/{cid}/questionnaires", s.base))
        .header("Authorization", format!("Bearer {}", editor()))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(q.contains("調査票") && q.contains("人工呼吸器"));
    // Another 圏域's editor sees none of it and cannot review.
    let other = key(s, "editor", "調査 佐久圏域", Some("20-01"));
    let (_, d) = api(s, "GET", &format!("/v1/surveys/{cid}/dashboard"), &other, None);
    assert_eq!(d["overall"]["invited"], 0);
    let other_inv = invs[1]["id"].as_str().unwrap();
    let (st, v) = api(
        s,
        "POST",
        &format!("/v1/surveys/{cid}/responses/{other_inv}/review"),
        &other,
        Some(json!({"decision": "reject"})),
    );
    assert!([403, 404, 400].contains(&st), "{st} {v}");
    let _ = enc;
}

#[test]
fn the_centre_signs_in_and_reviews_on_the_page() {
    let s = server();
    let picked: Vec<String> = campaign().invitations[14..16].iter().map(|i| i.0.clone()).collect();
    let (_, c) = api(
        s,
        "POST",
        "/v1/surveys",
        editor(),
        Some(json!({"name": "画面での確認", "target": {"resources": picked}, "deadline": "2099-03-31"})),
    );
    let cid = c["id"].as_str().unwrap().to_string();
    let (_, inv) = api(s, "POST", &format!("/v1/surveys/{cid}/invitations"), editor(), None);
    let first = &inv["invitations"][0];
    let (st, _) = post_form(s, first["token"].as_str().unwrap(), &[("care.nebulizer", "can"), ("action", "submit")]);
    assert_eq!(st, 200);
    // Without signing in the page sends you to sign in; a wrong key is refused.
    let res = http().get(format!("{}/surveys/{cid}", s.base)).send().unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let res = http().post(format!("{}/login", s.base)).form(&[("key", "tsu_nope_nope")]).send().unwrap();
    assert_eq!(res.status().as_u16(), 401);
    let res = http().post(format!("{}/login", s.base)).form(&[("key", editor())]).send().unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    assert!(res.headers()["set-cookie"].to_str().unwrap().contains("HttpOnly"));
    let html =
        http().get(format!("{}/surveys/{cid}", s.base)).header("Cookie", &cookie).send().unwrap().text().unwrap();
    assert!(html.contains("画面での確認") && html.contains("確認待ちの回答 (1)"), "{html}");
    // A review posted from another site with the cookie is refused; from the page it is applied.
    let path = format!("{}/surveys/{cid}/review/{}", s.base, first["id"].as_str().unwrap());
    let res = http()
        .post(&path)
        .header("Cookie", &cookie)
        .header("Origin", "https://evil.example")
        .form(&[("decision", "accept_all")])
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 401, "the cookie does not count cross-site");
    let host = s.base.trim_start_matches("http://").to_string();
    let res = http()
        .post(&path)
        .header("Cookie", &cookie)
        .header("Origin", format!("http://{host}"))
        .form(&[("decision", "accept_all")])
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let r = record(s, first["resource_id"].as_str().unwrap());
    assert!(r["care_types"].as_array().unwrap().contains(&json!("nebulizer")), "{r}");
}

#[test]
fn in_publish_mode_an_answer_shows_at_once_as_the_providers_and_ranks_between_confirmed_and_unknown() {
    let s = server();
    let picked: Vec<String> = campaign().invitations[16..18].iter().map(|i| i.0.clone()).collect();
    let (st, c) = api(
        s,
        "POST",
        "/v1/surveys",
        editor(),
        Some(
            json!({"name": "公開モード調査", "target": {"resources": picked}, "deadline": "2099-03-31", "mode": "publish"}),
        ),
    );
    assert_eq!(st, 201, "{c}");
    let cid = c["id"].as_str().unwrap().to_string();
    let (_, inv) = api(s, "POST", &format!("/v1/surveys/{cid}/invitations"), editor(), None);
    let first = inv["invitations"][0].clone();
    let rid = first["resource_id"].as_str().unwrap().to_string();
    let (st, html) = post_form(
        s,
        first["token"].as_str().unwrap(),
        &[("care.dialysis", "can"), ("by.dialysis", "nurse"), ("action", "submit")],
    );
    assert_eq!(st, 200);
    assert!(html.contains("未確認"), "the provider is told how it shows");
    let r = s.get("/v1/search?care_types=dialysis&region=20-07&include_sample=false&limit=100");
    let rs = results(&r);
    let mine = rs.iter().find(|x| x["id"] == rid.as_str()).expect("shown at once");
    assert_eq!(mine["care_answers"][0]["state"], "provider_reported", "{mine}");
    assert!(mine["care_answers"][0]["ja"].as_str().unwrap().contains("事業所の回答"));
    assert_eq!(mine["reported_care_types"], json!(["dialysis"]));
    // It comes after every confirmed match and before every unknown one.
    let tiers: Vec<u8> = rs
        .iter()
        .map(|x| match x["care_answers"][0]["state"].as_str().unwrap() {
            "confirmed" => 0,
            "provider_reported" | "conditional" => 1,
            _ => 2,
        })
        .collect();
    assert!(tiers.windows(2).all(|w| w[0] <= w[1]), "{tiers:?}");
    // The centre's review then verifies it.
    let (st, _) = api(
        s,
        "POST",
        &format!("/v1/surveys/{cid}/responses/{}/review", first["id"].as_str().unwrap()),
        editor(),
        Some(json!({"decision": "accept_all"})),
    );
    assert_eq!(st, 200);
    let r = s.get("/v1/search?care_types=dialysis&region=20-07&include_sample=false&limit=100");
    let mine = results(&r).iter().find(|x| x["id"] == rid.as_str()).cloned().unwrap();
    assert_eq!(mine["care_answers"][0]["state"], "confirmed", "{mine}");
}
