//! The centre keeps the directory alive: keys and roles, edits with ETags, audit trail, private
//! fields — end to end against the real binary, keys made with the real CLI.

use crate::common;

use std::process::Command;
use std::sync::OnceLock;

use common::{BIN, Server, enc, results};
use reqwest::blocking::{Client, RequestBuilder};
use serde_json::{Value, json};

struct Keys {
    reader: String,
    editor_matsumoto: String,
    editor_all: String,
    admin: String,
    revoked: String,
}

fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| common::start(&[]))
}

fn make_key(role: &str, name: &str, regions: Option<&str>) -> String {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir").arg(server().data_dir()).args(["keys", "create", "--role", role, "--name", name]);
    if let Some(r) = regions {
        cmd.args(["--regions", r]);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn keys() -> &'static Keys {
    static K: OnceLock<Keys> = OnceLock::new();
    K.get_or_init(|| {
        let revoked = make_key("admin", "old admin", None);
        let id = revoked.strip_prefix("tsu_").unwrap().split('_').next().unwrap().to_string();
        let out = Command::new(BIN)
            .arg("--data-dir")
            .arg(server().data_dir())
            .args(["keys", "revoke", &id])
            .output()
            .unwrap();
        assert!(out.status.success());
        Keys {
            reader: make_key("reader", "保健師 A", None),
            editor_matsumoto: make_key("editor", "松本圏域コーディネーター", Some("20-07")),
            editor_all: make_key("editor", "支援センター 編集", None),
            admin: make_key("admin", "支援センター 管理者", None),
            revoked,
        }
    })
}

fn http() -> Client {
    Client::new()
}

fn url(path: &str) -> String {
    format!("{}{path}", server().base)
}

fn with_key(b: RequestBuilder, key: Option<&str>) -> RequestBuilder {
    match key {
        Some(k) => b.header("Authorization", format!("Bearer {k}")),
        None => b,
    }
}

fn send(b: RequestBuilder) -> (u16, Option<String>, Value) {
    let res = b.send().unwrap();
    let status = res.status().as_u16();
    let etag = res.headers().get("etag").map(|v| v.to_str().unwrap().to_string());
    let text = res.text().unwrap();
    (status, etag, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A new real (non-sample) resource in 松本市 (or elsewhere).
fn new_resource(name: &str, municipality: &str) -> Value {
    json!({
        "name": name,
        "kind": "daycare",
        "care_types": ["suction_oral_nasal"],
        "description": "看護師が常駐し、たんの吸引に対応します。",
        "municipality_code": municipality,
        "location": {"lat": 36.2381, "lon": 137.9720},
        "contact": {"phone": "0263-00-0000"},
        "private": {"staff_name": "担当 山田", "staff_phone": "090-0000-0000", "notes": "見学は火曜午後"},
        "source": {"name": "松本市 子育て支援課 (test)"},
        "sample": false
    })
}

fn create(key: &str, body: &Value) -> (String, String) {
    let (status, etag, v) = send(with_key(http().post(url("/v1/resources")), Some(key)).json(body));
    assert_eq!(status, 201, "{v}");
    (v["id"].as_str().unwrap().to_string(), etag.unwrap())
}

#[test]
fn an_editor_creates_a_record_that_is_searchable_at_once_with_an_etag_and_history() {
    let k = keys();
    let (id, etag) = create(&k.editor_matsumoto, &new_resource("ひだまり医療的ケア保育室", "20202"));
    assert_eq!(etag, "\"v1\"");
    let found = server().get(&format!("/v1/search?q={}&interpret=false", enc("ひだまり医療的ケア保育室")));
    assert!(results(&found).iter().any(|x| x["id"] == id.as_str()), "searchable when the response is sent");
    let (status, _, h) = send(with_key(http().get(url(&format!("/v1/resources/{id}/history"))), Some(&k.editor_all)));
    assert_eq!(status, 200);
    assert_eq!(h["history"][0]["actor"], "松本圏域コーディネーター");
    assert_eq!(h["history"][0]["action"], "create");
}

#[test]
fn private_fields_are_for_key_holders_only() {
    let k = keys();
    let (id, _) = create(&k.editor_all, &new_resource("さくら医ケア保育園", "20202"));
    let public = server().get(&format!("/v1/resources/{id}"));
    assert!(public.body.get("private").is_none(), "{}", public.body);
    let (status, _, mine) = send(with_key(http().get(url(&format!("/v1/resources/{id}"))), Some(&k.reader)));
    assert_eq!(status, 200);
    assert_eq!(mine["private"]["staff_name"], "担当 山田");
    let found = server().get(&format!("/v1/search?q={}&interpret=false", enc("さくら医ケア保育園")));
    assert!(results(&found).iter().all(|x| x.get("private").is_none()));
}

#[test]
fn two_edits_with_the_same_etag_give_one_412_and_nothing_is_lost() {
    let k = keys();
    let (id, etag) = create(&k.editor_all, &new_resource("競合テスト保育園", "20202"));
    let first = send(
        with_key(http().patch(url(&format!("/v1/resources/{id}"))), Some(&k.editor_all))
            .header("If-Match", &etag)
            .json(&json!({"description": "一人目の編集"})),
    );
    let second = send(
        with_key(http().patch(url(&format!("/v1/resources/{id}"))), Some(&k.admin))
            .header("If-Match", &etag)
            .json(&json!({"description": "二人目の編集"})),
    );
    assert_eq!((first.0, second.0), (200, 412), "{} / {}", first.2, second.2);
    assert_eq!(first.1.as_deref(), Some("\"v2\""));
    let now = server().get(&format!("/v1/resources/{id}"));
    assert_eq!(now.body["description"], "一人目の編集");
    // Without If-Match an edit is refused outright.
    let blind = send(
        with_key(http().patch(url(&format!("/v1/resources/{id}"))), Some(&k.admin)).json(&json!({"description": "x"})),
    );
    assert_eq!(blind.0, 428);
    // If-Match: * (RFC 9110) says "whatever is current": it applies to v2.
    let any = send(
        with_key(http().patch(url(&format!("/v1/resources/{id}"))), Some(&k.admin))
            .header("If-Match", "*")
            .json(&json!({"description": "上書きを承知の編集"})),
    );
    assert_eq!((any.0, any.1.as_deref()), (200, Some("\"v3\"")), "{}", any.2);
}

#[test]
fn invalid_records_get_422_with_a_pointer_per_problem() {
    let k = keys();
    let mut bad = new_resource("", "99999");
    bad["care_types"] = json!(["suction"]);
    let (status, _, v) = send(with_key(http().post(url("/v1/resources")), Some(&k.editor_all)).json(&bad));
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["errors"][0]["pointer"], "/");
    let mut bad = new_resource("", "20202");
    bad["capacity"] = json!({"total": 3, "vacancies": 9});
    let (status, _, v) = send(with_key(http().post(url("/v1/resources")), Some(&k.editor_all)).json(&bad));
    assert_eq!(status, 422, "{v}");
    let pointers: Vec<&str> = v["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/name", "/capacity/vacancies"]);
    let (status, _, _) = send(with_key(http().post(url("/v1/resources")), Some(&k.editor_all)).body("not json"));
    assert_eq!(status, 400);
}

#[test]
fn an_idempotency_key_makes_a_retried_post_create_one_record() {
    let k = keys();
    let body = new_resource("再送テスト保育園", "20202");
    let post = || {
        send(
            with_key(http().post(url("/v1/resources")), Some(&k.editor_all))
                .header("Idempotency-Key", "retry-1")
                .json(&body),
        )
    };
    let (a, b) = (post(), post());
    assert_eq!((a.0, b.0), (201, 201));
    assert_eq!(a.2["id"], b.2["id"]);
    let found = server().get(&format!("/v1/search?q={}&interpret=false", enc("再送テスト保育園")));
    assert_eq!(found.body["total"], 1);
    let mut other = body.clone();
    other["name"] = json!("別の内容");
    let c = send(
        with_key(http().post(url("/v1/resources")), Some(&k.editor_all))
            .header("Idempotency-Key", "retry-1")
            .json(&other),
    );
    assert_eq!(c.0, 422);
}

#[test]
fn availability_updates_are_searchable_and_carry_their_own_time() {
    let k = keys();
    let (id, _) = create(&k.editor_matsumoto, &new_resource("空き情報テスト保育園", "20202"));
    let (status, _, v) =
        send(with_key(http().put(url(&format!("/v1/resources/{id}/availability"))), Some(&k.editor_matsumoto)).json(
            &json!({
                "nurse_schedule": {"mon": ["09:00-17:00"], "wed": ["09:00-12:00"]},
                "vacancies": 2,
                "accepting_new_children": true
            }),
        ));
    assert_eq!(status, 200, "{v}");
    assert!(v["availability_updated_at"].is_string());
    assert_eq!(v["availability_stale"], false);
    let found = server()
        .get(&format!("/v1/search?q={}&interpret=false&nurse_on=wed&has_vacancy=true", enc("空き情報テスト保育園")));
    assert_eq!(found.body["total"], 1);
    let bad = send(
        with_key(http().put(url(&format!("/v1/resources/{id}/availability"))), Some(&k.editor_all))
            .json(&json!({"vacancies": -1})),
    );
    assert_eq!(bad.0, 422);
}

#[test]
fn delete_is_soft_and_an_admin_restores() {
    let k = keys();
    let (id, etag) = create(&k.editor_all, &new_resource("削除テスト保育園", "20202"));
    let del =
        send(with_key(http().delete(url(&format!("/v1/resources/{id}"))), Some(&k.admin)).header("If-Match", &etag));
    assert_eq!(del.0, 204);
    assert_eq!(server().get(&format!("/v1/resources/{id}")).status, 404);
    assert_eq!(server().get(&format!("/v1/search?q={}&interpret=false", enc("削除テスト保育園"))).body["total"], 0);
    let back = send(with_key(http().post(url(&format!("/v1/resources/{id}/restore"))), Some(&k.admin)));
    assert_eq!(back.0, 200);
    assert_eq!(server().get(&format!("/v1/search?q={}&interpret=false", enc("削除テスト保育園"))).body["total"], 1);
}

#[test]
fn auth_matrix_every_write_endpoint_by_every_kind_of_caller() {
    let k = keys();
    // A record in 佐久市 (圏域 20-01): outside the 松本 editor's region.
    let mut saku = new_resource("権限テスト施設", "20217");
    saku["location"] = json!({"lat": 36.2489, "lon": 138.4769});
    let (id, etag) = create(&k.editor_all, &saku);
    let bad_key = "tsu_000000000000_0000000000000000000000000000000000000000000000000000000000000000".to_string();
    let callers: [(&str, Option<&str>); 6] = [
        ("no key", None),
        ("bad key", Some(&bad_key)),
        ("revoked", Some(&k.revoked)),
        ("reader", Some(&k.reader)),
        ("editor out of region", Some(&k.editor_matsumoto)),
        ("admin", Some(&k.admin)),
    ];
    for (who, key) in callers {
        let want = |min_role: &str| -> u16 {
            match who {
                "no key" | "bad key" | "revoked" => 401,
                "reader" => 403,
                // Reading a history is not an edit: any editor may.
                "editor out of region" if min_role == "reader+" => 0,
                "editor out of region" => 403,
                _ => 0, // success, checked below
            }
        };
        let cases: Vec<(&str, &str, RequestBuilder)> = vec![
            ("editor", "POST /v1/resources", with_key(http().post(url("/v1/resources")), key).json(&saku)),
            (
                "editor",
                "PUT",
                with_key(http().put(url(&format!("/v1/resources/{id}"))), key).header("If-Match", &etag).json(&saku),
            ),
            (
                "editor",
                "PATCH",
                with_key(http().patch(url(&format!("/v1/resources/{id}"))), key)
                    .header("If-Match", &etag)
                    .json(&json!({})),
            ),
            (
                "editor",
                "PUT availability",
                with_key(http().put(url(&format!("/v1/resources/{id}/availability"))), key)
                    .json(&json!({"vacancies": 1})),
            ),
            ("editor", "POST verify", with_key(http().post(url(&format!("/v1/resources/{id}/verify"))), key)),
            ("reader+", "GET history", with_key(http().get(url(&format!("/v1/resources/{id}/history"))), key)),
            ("admin", "POST restore", with_key(http().post(url(&format!("/v1/resources/{id}/restore"))), key)),
            (
                "admin",
                "DELETE",
                with_key(http().delete(url(&format!("/v1/resources/{id}"))), key).header("If-Match", "\"v999\""),
            ),
        ];
        for (min_role, what, req) in cases {
            let (status, _, body) = send(req);
            let expected = want(min_role);
            if expected == 0 {
                // The admin may do everything; the only refusals left are about the data itself
                // (a stale ETag, an existing id), never about the key.
                assert!(![401, 403].contains(&status), "{who} {what}: {status} {body}");
            } else {
                // A region-limited editor meets the region check only for editor endpoints;
                // admin endpoints are refused for the role first. Both are 403.
                assert_eq!(status, expected, "{who} {what}: {body}");
                if status == 401 {
                    assert!(body["type"] == "/problems/unauthorized", "{who} {what}: {body}");
                }
            }
        }
    }
}

#[test]
fn a_cp932_file_is_imported_over_http_with_a_row_report_and_exported_back() {
    let k = keys();
    let csv = "外部ID,名称,種別,住所,医療的ケア対応,出典\n\
               H-1,HTTP取込テスト保育園,保育所,長野県松本市丸の内3-7,たん吸引,松本市\n\
               H-2,HTTP取込テスト佐久,保育所,佐久市中込3056,たん吸引,佐久市\n\
               H-3,,保育所,松本市丸の内3-7,,松本市\n";
    let body = tsunagu_exchange::text::encode_shift_jis(csv);
    let post = |mode: &str, key: &str| {
        let res = http()
            .post(url(&format!("/v1/imports?format=csv&mode={mode}")))
            .header("Authorization", format!("Bearer {key}"))
            .body(body.clone())
            .send()
            .unwrap();
        (res.status().as_u16(), res.json::<Value>().unwrap())
    };
    // The 松本 editor: the 佐久 row is outside its regions, the third has no name.
    let (status, report) = post("all_or_nothing", &k.editor_matsumoto);
    assert_eq!(status, 422, "{report}");
    assert_eq!((report["encoding"].as_str(), report["written"].as_bool()), (Some("shift_jis"), Some(false)));
    let rows: Vec<u64> = report["errors"].as_array().unwrap().iter().map(|e| e["row"].as_u64().unwrap()).collect();
    assert_eq!(rows, [3, 4], "{report}");
    let (status, report) = post("skip_invalid", &k.editor_matsumoto);
    assert_eq!((status, report["created"].as_u64()), (200, Some(1)), "{report}");
    assert_eq!(server().get(&format!("/v1/search?q={}&interpret=false", enc("HTTP取込テスト保育園"))).body["total"], 1);
    let export = http()
        .get(url("/v1/export?format=csv&headers=en"))
        .header("Authorization", format!("Bearer {}", k.editor_all))
        .send()
        .unwrap();
    assert_eq!(export.status().as_u16(), 200);
    assert!(export.text().unwrap().contains("HTTP取込テスト保育園"));
}

#[test]
fn geojson_and_hsds_files_are_imported_over_http_by_content_type_and_exported_back() {
    let k = keys();
    let geo = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [137.9685, 36.2381]},
         "properties": {"外部ID": "G-1", "名称": "GeoJSON取込テスト訪問看護", "種別": "訪問看護", "市区町村コード": "20202",
                        "医療的ケア対応": "人工呼吸器", "出典": "松本市"}},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[137.9, 36.2], [138.0, 36.3]]},
         "properties": {"名称": "線の施設", "種別": "訪問看護", "市区町村コード": "20202"}}
    ]});
    let post = |ct: &str, body: String, mode: &str| {
        let res = http()
            .post(url(&format!("/v1/imports?mode={mode}")))
            .header("Authorization", format!("Bearer {}", k.editor_all))
            .header("Content-Type", ct)
            .body(body)
            .send()
            .unwrap();
        (res.status().as_u16(), res.json::<Value>().unwrap())
    };
    let (status, report) = post("application/geo+json", geo.to_string(), "skip_invalid");
    assert_eq!(
        (status, report["format"].as_str(), report["created"].as_u64()),
        (200, Some("geojson"), Some(1)),
        "{report}"
    );
    assert_eq!(report["errors"][0]["row"], 2, "{report}");
    assert_eq!(report["errors"][0]["field"], "geometry", "{report}");
    let found = server().get(&format!("/v1/search?q={}&interpret=false", enc("GeoJSON取込テスト")));
    assert_eq!(found.body["total"], 1, "searchable when the import answers");

    // The same record exported as HSDS and imported again updates nothing.
    let export = |format: &str| {
        let res = http()
            .get(url(&format!("/v1/export?format={format}")))
            .header("Authorization", format!("Bearer {}", k.editor_all))
            .send()
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
        let ct = res.headers()["content-type"].to_str().unwrap().to_string();
        (ct, res.text().unwrap())
    };
    let (ct, hsds) = export("hsds");
    assert_eq!(ct, "application/json");
    let doc: Value = serde_json::from_str(&hsds).unwrap();
    let ours = doc["contents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "GeoJSON取込テスト訪問看護")
        .cloned()
        .expect("in the HSDS export");
    assert_eq!(ours["status"], "active");
    assert_eq!(ours["service_at_locations"][0]["location"]["latitude"], 36.2381);
    let (status, report) = post("application/json", json!([ours]).to_string(), "all_or_nothing");
    assert_eq!(
        (status, report["format"].as_str(), report["unchanged"].as_u64()),
        (200, Some("hsds"), Some(1)),
        "{report}"
    );
    let (ct, geojson) = export("geojson");
    assert_eq!(ct, "application/geo+json");
    assert!(geojson.contains("GeoJSON取込テスト訪問看護"));
    // A broken document is one clear 400 about the body.
    let (status, problem) =
        post("application/geo+json", "{\"type\":\"FeatureCollection\",\"features\":[".into(), "dry_run");
    assert_eq!(status, 400, "{problem}");
    assert!(problem["errors"][0]["reason"].as_str().unwrap().contains("not valid JSON"), "{problem}");
}
