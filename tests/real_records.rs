//! The real WAM NET records families ask for first: short stays and the children's services
//! around them, one card per site, official files re-imported, and records the newest list no
//! longer has — against the real binary.

use crate::common;

use std::process::Command;
use std::sync::OnceLock;

use common::{BIN, Server, enc, results};
use serde_json::Value;

fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| common::start(&[]))
}

/// A server of its own for the test that re-imports official files (they change many records).
fn importing() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| common::start(&[]))
}

fn admin() -> &'static str {
    static K: OnceLock<String> = OnceLock::new();
    K.get_or_init(|| {
        let out = Command::new(BIN)
            .arg("--data-dir")
            .arg(importing().data_dir())
            .args(["keys", "create", "--role", "admin", "--name", "実データ試験 管理者"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    })
}

fn import(query: &str, body: Vec<u8>) -> (u16, Value) {
    let res = reqwest::blocking::Client::new()
        .post(format!("{}/v1/imports?{query}", importing().base))
        .header("Authorization", format!("Bearer {}", admin()))
        .body(body)
        .send()
        .unwrap();
    (res.status().as_u16(), res.json().unwrap())
}

#[test]
fn short_stays_in_matsumoto_are_real_nearest_first_with_phones_and_care_not_confirmed() {
    let r = server().get(&format!("/v1/search?q={}&include_sample=false&limit=10", enc("短期入所 松本")));
    assert_eq!(r.status, 200, "{:?}", r.body);
    let rs = results(&r);
    assert!(r.body["total"].as_u64().unwrap() >= 10, "{}", r.body["total"]);
    let mut last = 0.0;
    for x in rs {
        assert_eq!(x["kind"], "short_stay");
        assert_eq!(x["sample"], false);
        assert_eq!(x["provenance"]["source_id"], "wam-sfk-opendata");
        assert_eq!(x["provenance"]["source_date"], "2024-03-31");
        assert!(x["contact"]["phone"].as_str().is_some_and(|p| p.chars().filter(char::is_ascii_digit).count() >= 10));
        assert_eq!(x["care_status"]["known"], false);
        assert!(x["care_status"]["ja"].as_str().unwrap().contains("対応未確認"));
        let d = x["distance_km"].as_f64().unwrap();
        assert!(d >= last && d <= 20.0, "nearest first, within 20 km of 松本市: {d}");
        last = d;
    }
}

#[test]
fn one_site_is_one_card_listing_its_other_services_unless_one_kind_is_asked_for() {
    // 福祉医療センター太陽の園 (熊谷市): five WAM NET services at one address, one 法人.
    let q = format!("/v1/search?q={}&interpret=false&include_sample=false", enc("福祉医療センター太陽の園"));
    let grouped = server().get(&q);
    let cards: Vec<&Value> =
        results(&grouped).iter().filter(|x| x["source"]["id"].as_str().unwrap_or("").starts_with("wam:")).collect();
    assert_eq!(cards.len(), 1, "{:#?}", results(&grouped));
    let card = cards[0];
    let others: Vec<&str> =
        card["site_services"].as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(others.len(), 4, "{others:?}");
    assert!(grouped.body["collapsed"].as_u64().unwrap() >= 4);
    assert_eq!(card["site"]["basis"], "corporate_number_and_address");
    let apart = server().get(&format!("{q}&group_sites=false"));
    let wam = results(&apart).iter().filter(|x| x["source"]["id"].as_str().unwrap_or("").starts_with("wam:")).count();
    assert_eq!(wam, 5);
    let short = server().get(&format!("{q}&kinds=short_stay"));
    assert_eq!(results(&short).len(), 1);
    assert_eq!(results(&short)[0]["site_services"].as_array().unwrap().len(), 4, "its other services still listed");
}

#[test]
fn the_wam_file_re_imports_and_a_record_it_no_longer_lists_is_marked_and_hidden_but_kept() {
    let sample = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/wam_sample_layout.csv")).unwrap();
    // Without its data date an official file is refused as a whole, naming what to give.
    let (status, problem) = import("format=wam", sample.clone());
    assert_eq!(status, 400, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("source_date"), "{problem}");
    let (status, report) = import("format=wam&source_date=2025-03-31&mode=dry_run", sample.clone());
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        (report["rows"].as_u64(), report["valid"].as_u64(), report["skipped"].as_u64()),
        (Some(4), Some(4), Some(1))
    );
    assert_eq!(report["skipped_reasons"]["outside the served prefectures (福岡県)"], 1, "{report}");
    assert_eq!(report["written"], false);

    // The same file without カルガモの家: as the newer full list, it no longer has that record.
    let text = String::from_utf8(sample).unwrap();
    let without: String = text.lines().filter(|l| !l.contains("カルガモの家")).map(|l| format!("{l}\n")).collect();
    let (status, report) = import("format=wam&source_date=2025-03-31", without.into_bytes());
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["written"], true, "{report}");
    assert!(report["not_listed"].as_u64().unwrap() >= 1, "{report}");
    let name = enc("カルガモの家");
    let family = importing().get(&format!("/v1/search?q={name}&interpret=false"));
    assert!(
        results(&family)
            .iter()
            .all(|x| x["name"] != "カルガモの家" || x["kind"] != "medical_disabled_child_residential"),
        "hidden from family search: {:#?}",
        results(&family)
    );
    let listed = importing().get(&format!("/v1/search?q={name}&interpret=false&listing=delisted"));
    let marked = results(&listed)
        .iter()
        .find(|x| x["kind"] == "medical_disabled_child_residential")
        .unwrap_or_else(|| panic!("{:#?}", listed.body));
    assert_eq!(marked["source"]["not_listed_since"], "2025-03-31");
    assert!(marked["provenance"]["listing_notice"]["ja"].as_str().unwrap().contains("最新の公表データに掲載なし"));
    // Kept, never deleted: the record still reads by id.
    let one = importing().get(&format!("/v1/resources/{}", marked["id"].as_str().unwrap()));
    assert_eq!(one.status, 200);

    // The whole file again lists it again.
    let whole = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/wam_sample_layout.csv")).unwrap();
    let (status, report) = import("format=wam&source_date=2025-03-31", whole);
    assert_eq!(status, 200, "{report}");
    let back = importing().get(&format!("/v1/resources/{}", marked["id"].as_str().unwrap()));
    assert!(back.body["source"].get("not_listed_since").is_none(), "{}", back.body);
}

#[test]
fn the_detail_page_lists_the_other_services_of_the_site_with_fax_and_operator() {
    let q = format!("/v1/search?q={}&interpret=false&kinds=short_stay", enc("福祉医療センター太陽の園"));
    let found = server().get(&q);
    let id = results(&found)[0]["id"].as_str().unwrap().to_string();
    let page = server().get(&format!("/resources/{id}"));
    assert_eq!(page.status, 200);
    let html = page.body.as_str().unwrap();
    assert!(html.contains("この施設の他のサービス"), "{html}");
    for kind in ["居宅訪問型児童発達支援", "保育所等訪問支援", "医療型障害児入所施設", "療養介護"]
    {
        assert!(html.contains(kind), "{kind} missing");
    }
    assert!(html.contains("FAX") && html.contains("運営法人") && html.contains("定員"), "{html}");
    let en = server().get(&format!("/resources/{id}?lang=en"));
    assert!(en.body.as_str().unwrap().contains("Other services at this site"));
}
