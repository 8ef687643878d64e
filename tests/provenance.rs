//! Real records and honest provenance: the bundled 厚生労働省 records, tri-state care types,
//! provenance on every answer, sources, public reports, and a server that serves no sample data.

use crate::common;

use std::collections::BTreeMap;
use std::process::Command;

use common::{BIN, Server, enc, results, server};
use serde_json::{Value, json};

#[test]
fn the_real_csvs_import_with_the_counts_of_their_source_md_and_place_inside_each_prefecture() {
    let mut rows = Vec::new();
    for (name, bytes) in tsunagu_exchange::bundled::REAL_FILES {
        let (file_rows, _) =
            tsunagu_exchange::read_all(&tsunagu_places::Places::bundled(), tsunagu_exchange::Format::Csv, bytes)
                .unwrap();
        rows.extend(file_rows.into_iter().map(|(row, r)| (format!("{name}:{row}"), r)));
    }
    let g = tsunagu_places::Gazetteer::bundled();
    let b = tsunagu_places::Boundaries::bundled();
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut pediatric: BTreeMap<String, usize> = BTreeMap::new();
    let mut outside = Vec::new();
    for (row, r) in rows {
        let r = r.unwrap_or_else(|e| panic!("row {row}: {e:?}"));
        assert!(!r.sample, "row {row}");
        assert!(r.source.id.is_some() && r.source.date.is_some() && !r.source.name.is_empty(), "row {row}");
        let m = g.municipality(r.municipality_code).unwrap_or_else(|| panic!("row {row}: unknown municipality"));
        *counts.entry((r.kind.code().to_string(), m.prefecture.clone())).or_default() += 1;
        if r.departments.iter().any(|d| d.contains("小児")) {
            *pediatric.entry(m.prefecture.clone()).or_default() += 1;
        }
        if let Some(p) = r.location {
            // The point lies in the record's prefecture (boundaries are simplified, so the
            // nearest-town fallback near borders counts too).
            let found = b.locate(p).and_then(|l| g.municipality(l.municipality)).map(|m| m.prefecture_code);
            if found != Some(m.prefecture_code) {
                outside.push((row, r.name.clone(), found));
            }
        }
        assert!(r.care_types.is_empty() && r.care_types_declined.is_empty(), "open data says nothing about care types");
    }
    let want: BTreeMap<(String, String), usize> = [
        (("hospital", "埼玉県"), 327),
        (("hospital", "長野県"), 120),
        (("regular_patrol_home_care_nursing", "埼玉県"), 82),
        (("regular_patrol_home_care_nursing", "長野県"), 23),
        // WAM NET (data/real/SOURCE.md, from ../shared/data/facilities/SOURCE.md).
        (("short_stay", "埼玉県"), 281),
        (("short_stay", "長野県"), 163),
        (("nursery_visit_support", "埼玉県"), 176),
        (("nursery_visit_support", "長野県"), 49),
        (("home_visit_child_development_support", "埼玉県"), 7),
        (("home_visit_child_development_support", "長野県"), 7),
        (("medical_child_development_support", "埼玉県"), 1),
        (("medical_child_development_support", "長野県"), 2),
        (("medical_disabled_child_residential", "埼玉県"), 6),
        (("medical_disabled_child_residential", "長野県"), 5),
        (("welfare_disabled_child_residential", "埼玉県"), 5),
        (("welfare_disabled_child_residential", "長野県"), 1),
        (("medical_long_term_care", "埼玉県"), 8),
        (("medical_long_term_care", "長野県"), 7),
    ]
    .into_iter()
    .map(|((k, p), n)| ((k.to_string(), p.to_string()), n))
    .collect();
    assert_eq!(counts, want);
    assert_eq!(pediatric.get("埼玉県"), Some(&103));
    assert_eq!(pediatric.get("長野県"), Some(&70));
    assert!(outside.is_empty(), "points outside their prefecture: {outside:?}");
}

#[test]
fn pediatric_hospitals_near_nagano_city_are_real_with_their_source_and_date() {
    let r = server().get(&format!("/v1/search?q={}&near={}", enc("小児科 病院"), enc("長野市")));
    assert_eq!(r.status, 200);
    let real: Vec<&Value> = results(&r).iter().filter(|x| x["sample"] == false).collect();
    assert!(real.len() >= 5, "{}", r.body);
    for x in real {
        assert_eq!(x["kind"], "hospital");
        assert!(x["departments"].as_array().unwrap().iter().any(|d| d.as_str().unwrap().contains("小児")), "{x}");
        let p = &x["provenance"];
        assert_eq!(p["source_name"], "厚生労働省 医療情報ネット オープンデータ 01-1 病院 施設票");
        assert_eq!(p["source_date"], "2025-06-01");
        assert_eq!(p["source_id"], "mhlw-iryo-hospital");
        assert!(["fresh", "aging", "stale"].contains(&p["freshness"].as_str().unwrap()));
        assert!(p["licence"].as_str().unwrap().contains("CC BY 4.0"));
    }
}

#[test]
fn care_type_searches_put_confirmed_first_mark_unknown_and_never_return_declined() {
    let q = format!("/v1/search?care_types=ventilator&near={}&radius_km=30&limit=100", enc("長野市"));
    let all = server().get(&q);
    let res = results(&all);
    let confirmed = all.body["confirmed_total"].as_u64().unwrap() as usize;
    assert!(confirmed > 0 && all.body["total"].as_u64().unwrap() as usize > confirmed, "{}", all.body["total"]);
    for (i, x) in res.iter().enumerate() {
        let accepts = x["care_types"].as_array().unwrap().contains(&json!("ventilator"));
        assert_eq!(accepts, i < confirmed, "confirmed ones come first (#{i}: {})", x["name"]);
        assert!(!x["care_types_declined"].as_array().unwrap().contains(&json!("ventilator")), "{}", x["name"]);
        if accepts {
            assert!(x["care_notice"].is_null());
        } else {
            assert_eq!(x["unconfirmed_care_types"], json!(["ventilator"]));
            assert!(x["care_notice"]["ja"].as_str().unwrap().starts_with("対応未確認 — 事前にお問い合わせください"));
            assert!(x["care_notice"]["en"].as_str().unwrap().starts_with("not confirmed — call first"));
        }
    }
    // Real hospitals appear, as unconfirmed.
    assert!(res.iter().any(|x| x["sample"] == false && x["kind"] == "hospital" && !x["care_notice"].is_null()));
    // Only confirmed ones when asked.
    let strict = server().get(&format!("{q}&include_unconfirmed=false"));
    assert_eq!(strict.body["total"].as_u64().unwrap() as usize, confirmed);
    assert!(results(&strict).iter().all(|x| x["care_notice"].is_null()));
    // A record that declines a care type never appears for it, even with nothing else asked.
    let declined = tsunagu_sample::bundled()
        .unwrap()
        .into_iter()
        .find(|r| r.care_types_declined.contains(tsunagu_model::CareType::Dialysis))
        .expect("a sample declining dialysis");
    let r =
        server().get(&format!("/v1/search?q={}&care_types=dialysis&interpret=false&limit=100", enc(&declined.name)));
    assert!(results(&r).iter().all(|x| x["id"] != declined.id.to_string()), "{}", declined.name);
    let r = server().get(&format!("/v1/search?q={}&interpret=false&limit=100", enc(&declined.name)));
    assert!(results(&r).iter().any(|x| x["id"] == declined.id.to_string()), "found without the care filter");
}

#[test]
fn sources_list_licences_attributions_and_counts() {
    let r = server().get("/v1/sources");
    assert_eq!(r.status, 200);
    let by_id = |id: &str| r.body["sources"].as_array().unwrap().iter().find(|s| s["id"] == id).cloned().unwrap();
    assert_eq!(by_id("mhlw-iryo-hospital")["records"], 447);
    assert_eq!(by_id("mhlw-kaigo-760")["records"], 105);
    assert_eq!(by_id("tsunagu-sample")["records"], 1938);
    let text = r.body["attribution_ja"].as_str().unwrap();
    for needle in ["国土数値情報", "Geolonia", "CC BY 4.0", "厚生労働省 医療情報ネット", "介護サービス情報公表システム"]
    {
        assert!(text.contains(needle), "attribution lacks {needle}");
    }
}

fn post_report(base: &str, id: &str, body: &Value) -> (u16, Option<String>, Value) {
    let res =
        reqwest::blocking::Client::new().post(format!("{base}/v1/resources/{id}/reports")).json(body).send().unwrap();
    let retry = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    (res.status().as_u16(), retry, res.json().unwrap_or(Value::Null))
}

#[test]
fn reports_are_validated_rate_limited_and_for_editors_only() {
    // A server of its own, so other tests' reports do not count against the limit.
    let s = common::start(&[]);
    let id = results(&s.get(&format!("/v1/search?q={}", enc("病院"))))[0]["id"].as_str().unwrap().to_string();
    for (body, field) in [
        (json!({"kind": "gone"}), "/kind"),
        (json!({"kind": "wrong"}), "/message"),
        (json!({"kind": "other", "message": "x".repeat(2001)}), "/message"),
        (json!({"kind": "closed", "secret": 1}), "/secret"),
    ] {
        let (status, _, problem) = post_report(&s.base, &id, &body);
        assert_eq!(status, 422, "{body}");
        assert!(problem["errors"].as_array().unwrap().iter().any(|e| e["pointer"] == field), "{problem}");
    }
    let (status, _, _) = post_report(&s.base, "not-an-id", &json!({"kind": "closed"}));
    assert_eq!(status, 400);
    let (status, _, _) = post_report(&s.base, "0190c6b2-7d3e-7c41-9f6a-2b5d1e8a4c29", &json!({"kind": "closed"}));
    assert_eq!(status, 404);
    let mut accepted = 0;
    let mut limited = None;
    for i in 0..8 {
        let (status, retry, body) = post_report(
            &s.base,
            &id,
            &json!({"kind": "moved", "message": format!("移転しました {i}"), "contact": "090-0000-0000"}),
        );
        match status {
            202 => accepted += 1,
            429 => {
                limited = Some(retry.expect("Retry-After"));
                assert_eq!(body["status"], 429);
                break;
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(accepted, tsunagu_api::routes::reports::PER_CLIENT as usize);
    assert!(limited.unwrap().parse::<u64>().unwrap() > 0);
    // Not public: no key, no list; the record itself is unchanged and shows no reports.
    assert_eq!(s.get("/v1/reports").status, 401);
    let record = s.get(&format!("/v1/resources/{id}"));
    assert!(!record.body.to_string().contains("移転しました"));
    // An editor sees them, with the reporter's contact.
    let key = make_key(&s, "editor", "報告確認");
    let list: Value = reqwest::blocking::Client::new()
        .get(format!("{}/v1/reports", s.base))
        .bearer_auth(&key)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let reports = list["reports"].as_array().unwrap();
    assert_eq!(reports.len(), accepted);
    assert!(reports.iter().all(|r| r["status"] == "open" && r["contact"] == "090-0000-0000" && r["resource_id"] == id));
}

/// The sample generator's records, and a store that holds them next to the real ones.
fn store_with_samples_and_real_records() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let samples = dir.path().join("samples.jsonl");
    std::fs::write(&samples, tsunagu_sample::bundled_text()).unwrap();
    let real = dir.path().join("real.csv");
    std::fs::write(&real, tsunagu_exchange::bundled::REAL_FACILITIES_CSV).unwrap();
    for f in [&samples, &real] {
        let out = Command::new(BIN).arg("--data-dir").arg(dir.path()).arg("import").arg(f).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    dir
}

/// A key made by the real CLI in the server's data directory.
fn make_key(s: &Server, role: &str, name: &str) -> String {
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(s.data_dir())
        .args(["keys", "create", "--role", role, "--name", name])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().split_whitespace().find(|w| w.starts_with("tsu_")).unwrap().to_string()
}

#[test]
fn with_no_sample_data_no_sample_record_is_reachable_through_any_endpoint() {
    let s = common::start_in(store_with_samples_and_real_records(), &["--no-sample-data"]);
    let samples = tsunagu_sample::bundled().unwrap();
    let key = make_key(&s, "admin", "監査");
    let http = reqwest::blocking::Client::new();
    let get = |path: &str, auth: bool| -> (u16, String) {
        let mut req = http.get(format!("{}{path}", s.base));
        if auth {
            req = req.bearer_auth(&key);
        }
        let res = req.send().unwrap();
        (res.status().as_u16(), res.text().unwrap())
    };
    let leaks = |text: &str| {
        // The query echo may repeat what was typed; look at what came back.
        let shown = match serde_json::from_str::<Value>(text) {
            Ok(mut v) => {
                if let Some(o) = v.as_object_mut() {
                    o.remove("query");
                    o.remove("interpretation");
                }
                v.to_string()
            }
            Err(_) => text.to_string(),
        };
        shown.contains("【サンプル】") || shown.contains("\"sample\":true") || shown.contains("架空")
    };
    // Searches of every shape, asking for samples explicitly too.
    let mut paths: Vec<String> = vec![
        "/v1/search?limit=100".into(),
        "/v1/search?include_sample=true&limit=100".into(),
        format!("/v1/search?q={}&limit=100", enc("サンプル")),
        format!("/v1/search?q={}&limit=100", enc("たん吸引できる保育園 松本")),
        format!("/v1/search?near={}&radius_km=50&limit=100", enc("松本市")),
        format!("/v1/search?covers=true&near={}&limit=100", enc("小諸市")),
        "/v1/search?care_types=ventilator&include_unconfirmed=false&limit=100".into(),
        "/v1/search?sort=name&limit=100&offset=100".into(),
        format!("/v1/suggest?q={}", enc("【サンプル】")),
        format!("/v1/suggest?q={}", enc("さくら")),
        "/v1/regions/20-07".into(),
        "/v1/regions".into(),
        "/v1/sources".into(),
    ];
    for k in tsunagu_model::Kind::ALL {
        paths.push(format!("/v1/search?kinds={}&limit=100", k.code()));
    }
    for p in &paths {
        let (status, text) = get(p, false);
        assert!(status == 200 || status == 404, "{p}: {status} {text}");
        assert!(!leaks(&text), "{p} shows a sample record: {}", &text[..text.len().min(300)]);
    }
    let (_, sources) = get("/v1/sources", false);
    assert!(!sources.contains("tsunagu-sample"));
    // Every sample id, directly and through key-holder endpoints: 404, never the record.
    for r in samples.iter().step_by(97) {
        for (path, auth) in [
            (format!("/v1/resources/{}", r.id), false),
            (format!("/v1/resources/{}", r.id), true),
            (format!("/v1/resources/{}/history", r.id), true),
        ] {
            let (status, text) = get(&path, auth);
            assert_eq!(status, 404, "{path}: {text}");
        }
        let res = http
            .patch(format!("{}/v1/resources/{}", s.base, r.id))
            .bearer_auth(&key)
            .header("If-Match", "\"v1\"")
            .header("Content-Type", "application/merge-patch+json")
            .body("{\"description\":\"x\"}")
            .send()
            .unwrap();
        assert_eq!(res.status().as_u16(), 404);
        let (status, _, _) = post_report(&s.base, &r.id.to_string(), &json!({"kind": "closed"}));
        assert_eq!(status, 404);
    }
    // Exports hold real records only.
    for format in ["jsonl", "csv", "hsds", "geojson"] {
        let (status, text) = get(&format!("/v1/export?format={format}"), true);
        assert_eq!(status, 200);
        assert!(!leaks(&text), "{format} export shows a sample record");
        assert!(text.contains("諏訪共立病院"), "{format} export has the real records");
    }
    // And the real records are all there.
    let all = s.get("/v1/search?limit=1");
    assert_eq!(all.body["total"], 552);
}
