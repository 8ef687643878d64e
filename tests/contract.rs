//! The contract: real responses validate against `api-spec/openapi.yaml`, every documented path
//! is exercised, and the spec's vocabularies equal the model's — so the file cannot drift.

use crate::common;

use std::collections::BTreeSet;

use common::{Server, enc, results};
use serde_json::{Value, json};

/// Its own server: the contract test writes records, which the other modules must not see.
fn server() -> &'static Server {
    static S: std::sync::OnceLock<Server> = std::sync::OnceLock::new();
    S.get_or_init(|| common::start(&[]))
}

fn spec() -> Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../api-spec/openapi.yaml")).expect("spec");
    serde_yaml::from_str(&text).expect("spec is YAML")
}

/// The spec's path template matching a concrete path, e.g. /v1/resources/{id}.
fn template_for<'a>(spec: &'a Value, path: &str) -> Option<&'a str> {
    let segs: Vec<&str> = path.split('/').collect();
    spec["paths"].as_object()?.keys().map(String::as_str).find(|t| {
        let ts: Vec<&str> = t.split('/').collect();
        ts.len() == segs.len() && ts.iter().zip(&segs).all(|(t, s)| t.starts_with('{') || t == s)
    })
}

/// Validate one real response against the spec; returns the (template, method) it matched.
fn validate(
    spec: &Value,
    method: &str,
    path_and_query: &str,
    status: u16,
    content_type: &str,
    body: &Value,
) -> (String, String) {
    let path = path_and_query.split('?').next().unwrap();
    let template = template_for(spec, path).unwrap_or_else(|| panic!("{path} is not in the spec"));
    let op = &spec["paths"][template][method];
    assert!(!op.is_null(), "{method} {template} is not in the spec");
    let resp = &op["responses"][status.to_string()];
    assert!(!resp.is_null(), "{method} {path_and_query}: status {status} is not documented");
    let resp = match resp["$ref"].as_str() {
        Some(rf) => &spec["components"]["responses"][rf.rsplit('/').next().unwrap()],
        None => resp,
    };
    if status != 204 {
        let media = content_type.split(';').next().unwrap().trim();
        let schema = &resp["content"][media]["schema"];
        assert!(!schema.is_null(), "{method} {path_and_query}: {media} for {status} is not documented");
        let root = json!({ "allOf": [schema], "components": spec["components"] });
        let validator =
            jsonschema::options().with_draft(jsonschema::Draft::Draft202012).build(&root).expect("schema compiles");
        let errors: Vec<String> =
            validator.iter_errors(body).map(|e| format!("{} at {}", e, e.instance_path)).take(5).collect();
        assert!(
            errors.is_empty(),
            "{method} {path_and_query} ({status}) does not match the spec:\n{}",
            errors.join("\n")
        );
    }
    (template.to_string(), method.to_string())
}

fn check(spec: &Value, path_and_query: &str) -> (String, String) {
    let r = server().get(path_and_query);
    validate(spec, "get", path_and_query, r.status, &r.content_type, &r.body)
}

fn send(
    spec: &Value,
    method: &str,
    path: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> ((String, String), u16, Option<String>, Value) {
    let client = reqwest::blocking::Client::new();
    let url = format!("{}{path}", server().base);
    let mut req = client.request(reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(), url);
    if let Some(k) = key {
        req = req.header("Authorization", format!("Bearer {k}"));
    }
    for (h, v) in headers {
        req = req.header(*h, *v);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let res = req.send().unwrap();
    let status = res.status().as_u16();
    let ct = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let etag = res.headers().get("etag").and_then(|v| v.to_str().ok()).map(String::from);
    let text = res.text().unwrap();
    let body: Value =
        if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    (validate(spec, method, path, status, &ct, &body), status, etag, body)
}

fn key(role: &str, regions: Option<&str>) -> String {
    common::key(server(), role, &format!("contract {role}"), regions)
}

#[test]
fn real_responses_match_the_spec_and_every_operation_is_exercised() {
    let spec = spec();
    let some_id = results(&server().get("/v1/search?limit=1"))[0]["id"].as_str().unwrap().to_string();
    let requests = [
        format!("/v1/search?q={}&lat=36.238&lon=137.972&radius_km=10", enc("吸引")),
        "/v1/search?kinds=transport&lat=36.326944&lon=138.426111&radius_km=20&limit=50".to_string(),
        "/v1/search?kinds=daycare&care_types=suction_oral_nasal&nurse_on=mon&has_vacancy=true&age=2".to_string(),
        format!("/v1/search?region={}&facets=false&sort=name", enc("北信")),
        "/v1/search?q=zzzzqqqq".to_string(),
        "/v1/search?lat=95&lon=0".to_string(),
        "/v1/search?care_types=suction".to_string(),
        format!("/v1/search?q=a&pad={}", "x".repeat(9_000)),
        format!("/v1/resources/{some_id}"),
        "/v1/resources/0190c6b2-7d3e-7c41-9f6a-2b5d1e8a4c21".to_string(),
        "/v1/resources/nope".to_string(),
        "/v1/vocabulary".to_string(),
        "/v1/municipalities".to_string(),
        format!("/v1/municipalities?region={}", enc("さいたま")),
        "/v1/municipalities?prefecture=xx".to_string(),
        "/v1/regions?prefecture=11".to_string(),
        format!("/v1/search?near={}&kinds=transport&covers=true", enc("小諸市")),
        format!("/v1/search?near={}&kinds=transport&covers=true&transport=wheelchair", enc("384-0000")),
        format!("/v1/search?near={}", enc("松元市")),
        format!("/v1/search?near={}", enc("本町")),
        format!("/v1/regions/{}", enc("北信")),
        "/v1/regions/99-99".to_string(),
        format!("/v1/places/geocode?q={}", enc("松本市丸の内3-7")),
        format!("/v1/places/geocode?q={}", enc("xyzzy")),
        "/v1/places/geocode".to_string(),
        "/v1/places/reverse?lat=36.238&lon=137.972".to_string(),
        "/v1/places/reverse?lat=35.68&lon=139.76".to_string(),
        "/v1/places/reverse?lat=91&lon=0".to_string(),
        format!("/v1/contacts?near={}", enc("〒390-0811")),
        "/v1/contacts?lat=35.86&lon=139.65".to_string(),
        "/v1/contacts?lat=35.68&lon=139.76".to_string(),
        format!("/v1/contacts?near={}", enc("xyzzy町")),
        format!("/v1/contacts?near={}&lat=36.2&lon=138", enc("松本市")),
        "/v1/contacts".to_string(),
        format!("/v1/programmes?near={}&age=5&care_types=ventilator", enc("松本市")),
        format!("/v1/programmes?near={}&certificates=none", enc("さいたま市浦和区")),
        "/v1/programmes?lat=36.2&lon=138&age=x".to_string(),
        format!("/v1/programmes?near={}", enc("xyzzy町")),
        "/v1/training?audience=nursery_teacher,teacher&region=20-07".to_string(),
        "/v1/training?open=true&limit=3".to_string(),
        "/v1/training?course=nope".to_string(),
        "/v1/training.ics?audience=nurse".to_string(),
        "/v1/training.ics?region=nowhere".to_string(),
        format!("/v1/power_points?near={}&devices=ventilator,suction&watts=800", enc("松本市中央")),
        "/v1/power_points?lat=35.86&lon=139.65&limit=20".to_string(),
        "/v1/power_points?devices=toaster".to_string(),
        "/v1/search?kinds=program,training,power_supply,welfare_shelter&limit=50&include_sample=true".to_string(),
        format!("/v1/suggest?q={}", enc("きゅう")),
        "/v1/suggest?q=vent&limit=3".to_string(),
        "/v1/suggest?limit=0".to_string(),
        "/healthz".to_string(),
        "/readyz".to_string(),
    ];
    let mut covered: BTreeSet<(String, String)> = requests.iter().map(|r| check(&spec, r)).collect();

    // Writes, with keys made by the real CLI.
    let (admin, editor, reader) = (key("admin", None), key("editor", Some("20-07")), key("reader", None));
    let body = json!({
        "name": "契約テスト保育園", "kind": "daycare", "municipality_code": "20202",
        "location": {"lat": 36.24, "lon": 137.97}, "source": {"name": "contract test"}, "sample": false,
        "private": {"notes": "内部メモ"}
    });
    let mut outside = body.clone();
    outside["municipality_code"] = json!("20217");
    let (op, status, etag, created) =
        send(&spec, "post", "/v1/resources", Some(&editor), &[("Idempotency-Key", "contract-1")], Some(&body));
    assert_eq!(status, 201);
    covered.insert(op);
    let id = created["id"].as_str().unwrap().to_string();
    let etag = etag.unwrap();
    let p = format!("/v1/resources/{id}");
    for (method, path, k, headers, b) in [
        ("post", "/v1/resources".to_string(), None, vec![], Some(body.clone())),
        ("post", "/v1/resources".to_string(), Some(reader.as_str()), vec![], Some(body.clone())),
        ("post", "/v1/resources".to_string(), Some(editor.as_str()), vec![], Some(outside.clone())),
        ("post", "/v1/resources".to_string(), Some(editor.as_str()), vec![], Some(json!({"name": ""}))),
        ("get", p.clone(), Some(reader.as_str()), vec![], None),
        (
            "patch",
            p.clone(),
            Some(editor.as_str()),
            vec![("If-Match", etag.as_str())],
            Some(json!({"description": "更新"})),
        ),
        (
            "patch",
            p.clone(),
            Some(editor.as_str()),
            vec![("If-Match", etag.as_str())],
            Some(json!({"description": "古い版から"})),
        ),
        ("patch", p.clone(), Some(editor.as_str()), vec![], Some(json!({"description": "x"}))),
        ("put", p.clone(), Some(editor.as_str()), vec![("If-Match", "\"v2\"")], Some(body.clone())),
        (
            "put",
            format!("{p}/availability"),
            Some(editor.as_str()),
            vec![],
            Some(json!({"vacancies": 3, "accepting_new_children": true})),
        ),
        ("put", format!("{p}/availability"), Some(editor.as_str()), vec![], Some(json!({"vacancies": "many"}))),
        ("post", format!("{p}/verify"), Some(editor.as_str()), vec![], None),
        ("get", format!("{p}/history"), Some(editor.as_str()), vec![], None),
        ("get", format!("{p}/history"), None, vec![], None),
        ("delete", p.clone(), Some(editor.as_str()), vec![("If-Match", "\"v5\"")], None),
        ("delete", p.clone(), Some(admin.as_str()), vec![("If-Match", "\"v5\"")], None),
        ("post", format!("{p}/restore"), Some(admin.as_str()), vec![], None),
        (
            "delete",
            "/v1/resources/0190c6b2-7d3e-7c41-9f6a-2b5d1e8a4c29".to_string(),
            Some(admin.as_str()),
            vec![("If-Match", "\"v1\"")],
            None,
        ),
        ("get", "/v1/export?format=jsonl".to_string(), Some(admin.as_str()), vec![], None),
        ("get", "/v1/export?format=hsds".to_string(), Some(editor.as_str()), vec![], None),
        ("get", "/v1/export?format=geojson".to_string(), Some(editor.as_str()), vec![], None),
        ("get", "/v1/export".to_string(), None, vec![], None),
        ("get", "/v1/export?format=xml".to_string(), Some(admin.as_str()), vec![], None),
    ] {
        let (op, _, _, _) = send(&spec, method, &path, k, &headers, b.as_ref());
        covered.insert(op);
    }
    // Reports from the public: no key; then an editor lists and closes them.
    let rp = format!("{p}/reports");
    for (b, want) in [
        (json!({"kind": "closed"}), 202),
        (json!({"kind": "wrong"}), 422),
        (json!({"kind": "vanished", "extra": 1}), 422),
    ] {
        let (op, status, _, _) = send(&spec, "post", &rp, None, &[], Some(&b));
        assert_eq!(status, want, "{b}");
        covered.insert(op);
    }
    let (_, status, _, _) = send(
        &spec,
        "post",
        "/v1/resources/0190c6b2-7d3e-7c41-9f6a-2b5d1e8a4c29/reports",
        None,
        &[],
        Some(&json!({"kind": "moved"})),
    );
    assert_eq!(status, 404);
    let (op, status, _, listed) = send(&spec, "get", "/v1/reports", Some(&editor), &[], None);
    assert_eq!(status, 200);
    covered.insert(op);
    let report_id = listed["reports"][0]["id"].as_str().expect("the report is listed").to_string();
    for (k, b) in [
        (Some(editor.as_str()), json!({"status": "resolved", "note": "閉所を確認"})),
        (Some(editor.as_str()), json!({"status": "resolved"})),
        (None, json!({"status": "dismissed"})),
    ] {
        let (op, _, _, _) = send(&spec, "patch", &format!("/v1/reports/{report_id}"), k, &[], Some(&b));
        covered.insert(op);
    }
    covered.insert(check(&spec, "/v1/sources"));
    let metrics = server().get("/metrics");
    assert!(metrics.body.as_str().is_some_and(|t| t.contains("tsunagu_http_requests") && t.ends_with("# EOF\n")));
    covered.insert(check(&spec, "/metrics"));
    // Imports send a file, not JSON.
    for (mode, csv_text) in [
        ("dry_run", "名称,種別,住所,出典\n契約テスト園,保育所,松本市丸の内3-7,test\n"),
        ("all_or_nothing", "名称,種別,住所,出典\n契約テスト園2,保育園の一種,松本市丸の内3-7,test\n"),
    ] {
        let res = reqwest::blocking::Client::new()
            .post(format!("{}/v1/imports?format=csv&mode={mode}", server().base))
            .header("Authorization", format!("Bearer {admin}"))
            .header("Content-Type", "text/csv")
            .body(csv_text)
            .send()
            .unwrap();
        let status = res.status().as_u16();
        let ct = res.headers()["content-type"].to_str().unwrap().to_string();
        let body: Value = res.json().unwrap();
        covered.insert(validate(&spec, "post", "/v1/imports", status, &ct, &body));
    }
    // The survey: a campaign, its invitations and papers, a provider's answer, review, dashboard.
    let (op, status, _, bad) = send(&spec, "post", "/v1/surveys", Some(&editor), &[], Some(&json!({"name": ""})));
    assert_eq!(status, 400, "{bad}");
    covered.insert(op);
    let campaign = json!({"name": "契約テスト調査", "target": {"kinds": ["short_stay"], "regions": ["20-07"]}, "deadline": "2099-12-31"});
    let (op, status, _, c) = send(&spec, "post", "/v1/surveys", Some(&editor), &[], Some(&campaign));
    assert_eq!(status, 201, "{c}");
    covered.insert(op);
    let sid = c["id"].as_str().unwrap().to_string();
    let (op, status, _, inv) = send(&spec, "post", &format!("/v1/surveys/{sid}/invitations"), Some(&editor), &[], None);
    assert_eq!(status, 201, "{inv}");
    covered.insert(op);
    let first = inv["invitations"][0].clone();
    let (inv_id, token, code) = (
        first["id"].as_str().unwrap().to_string(),
        first["token"].as_str().unwrap().to_string(),
        first["code"].as_str().unwrap().to_string(),
    );
    // The provider answers on the form (a page, not an API operation).
    let form = reqwest::blocking::get(format!("{}/survey/{token}", server().base)).unwrap().text().unwrap();
    let at = form.find("name=\"form_key\" value=\"").unwrap() + 23;
    let res = reqwest::blocking::Client::new()
        .post(format!("{}/survey/{token}", server().base))
        .form(&[("care.ventilator", "can"), ("action", "submit"), ("form_key", &form[at..at + 64])])
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let second = inv["invitations"][1]["code"].as_str().unwrap().to_string();
    let third = inv["invitations"][2]["id"].as_str().unwrap().to_string();
    for (method, path, b) in [
        ("get", "/v1/surveys".to_string(), None),
        ("get", format!("/v1/surveys/{sid}"), None),
        ("get", "/v1/surveys/nope".to_string(), None),
        ("get", format!("/v1/surveys/{sid}/invitations"), None),
        ("post", format!("/v1/surveys/{sid}/letters?which=all&lang=easy"), None),
        ("post", format!("/v1/surveys/{sid}/letters?which=some"), None),
        ("get", format!("/v1/surveys/{sid}/questionnaires"), None),
        ("get", format!("/v1/surveys/{sid}/responses"), None),
        ("get", format!("/v1/surveys/{sid}/responses?status=maybe"), None),
        ("post", format!("/v1/surveys/{sid}/responses/{inv_id}/review"), Some(json!({"decision": "accept_all"}))),
        ("post", format!("/v1/surveys/{sid}/responses/{inv_id}/review"), Some(json!({"decision": "accept_all"}))),
        ("post", format!("/v1/surveys/{sid}/responses/{inv_id}/review"), Some(json!({"decision": "maybe"}))),
        (
            "post",
            format!("/v1/surveys/{sid}/paper"),
            Some(json!({"code": second, "answers": {"care": {"oxygen": {"answer": "cannot"}}}})),
        ),
        ("post", format!("/v1/surveys/{sid}/paper"), Some(json!({"code": "NONE-NONE-NONE", "answers": {}}))),
        ("get", format!("/v1/surveys/{sid}/dashboard"), None),
        ("get", format!("/v1/surveys/{sid}/non_responders.csv"), None),
        ("get", format!("/v1/surveys/{sid}/answers.csv"), None),
        ("post", format!("/v1/invitations/{third}/revoke"), None),
        ("post", "/v1/invitations/none/revoke".to_string(), None),
    ] {
        let (op, _, _, _) = send(&spec, method, &path, Some(&editor), &[], b.as_ref());
        covered.insert(op);
    }
    let (_, status, _, _) = send(&spec, "get", "/v1/surveys", None, &[], None);
    assert_eq!(status, 401);

    // A power point's status, then a daycare's (409), with and without keys.
    let power_id = results(&server().get(&format!("/v1/search?kinds=power_supply&near={}&limit=1", enc("松本市"))))[0]
        ["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (method, path, k, b) in [
        ("get", format!("/v1/resources/{power_id}/power_status"), None, None),
        ("put", format!("/v1/resources/{power_id}/power_status"), Some(&admin), Some(json!({"state": "open"}))),
        ("get", format!("/v1/resources/{power_id}/power_status"), None, None),
        ("put", format!("/v1/resources/{power_id}/power_status"), Some(&admin), Some(json!({"state": "x"}))),
        ("put", format!("/v1/resources/{power_id}/power_status"), None, Some(json!({"state": "open"}))),
        ("put", format!("/v1/resources/{power_id}/power_status"), Some(&reader), Some(json!({"state": "open"}))),
        ("get", format!("/v1/resources/{some_id}/power_status"), None, None),
        ("get", "/v1/resources/0190c6b2-7d3e-7c41-9f6a-2b5d1e8a4c21/power_status".to_string(), None, None),
    ] {
        let (op, _, _, _) = send(&spec, method, &path, k.map(|x| x.as_str()), &[], b.as_ref());
        covered.insert(op);
    }

    // Emergencies: one that starts in 2099 (so that it changes no other test's answers), ended.
    let future = json!({"kind": "disaster", "message_ja": "契約テスト", "regions": ["松本"], "starts_at": "2099-01-01T00:00:00Z"});
    let (op, status, _, declared) = send(&spec, "post", "/v1/emergencies", Some(&admin), &[], Some(&future));
    assert_eq!(status, 201, "{declared}");
    covered.insert(op);
    let eid = declared["id"].as_str().unwrap().to_string();
    for (method, path, k, b) in [
        ("post", "/v1/emergencies".to_string(), Some(&editor), Some(future.clone())),
        ("post", "/v1/emergencies".to_string(), Some(&admin), Some(json!({"kind": "fire"}))),
        ("get", "/v1/emergencies".to_string(), None, None),
        ("get", "/v1/emergencies?status=all".to_string(), None, None),
        ("get", "/v1/emergencies?status=x".to_string(), None, None),
        ("get", format!("/v1/emergencies/{eid}"), None, None),
        ("get", "/v1/emergencies/none".to_string(), None, None),
        ("get", format!("/v1/emergencies/{eid}/history"), Some(&reader), None),
        ("get", format!("/v1/emergencies/{eid}/history"), None, None),
        ("post", format!("/v1/emergencies/{eid}/end"), Some(&editor), None),
        ("post", format!("/v1/emergencies/{eid}/end"), Some(&admin), None),
        ("post", format!("/v1/emergencies/{eid}/end"), Some(&admin), None),
        ("post", "/v1/emergencies/none/end".to_string(), Some(&admin), None),
    ] {
        let (op, _, _, _) = send(&spec, method, &path, k.map(|x| x.as_str()), &[], b.as_ref());
        covered.insert(op);
    }
    let _ = code;
    let documented: BTreeSet<(String, String)> = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(p, ops)| ops.as_object().unwrap().keys().map(move |m| (p.clone(), m.clone())))
        .collect();
    assert_eq!(covered, documented, "every documented operation is exercised");
}

#[test]
fn the_specs_vocabularies_equal_the_models() {
    let spec = spec();
    let e = |name: &str| common::strs(&spec["components"]["schemas"][name]["enum"]);
    assert_eq!(e("Kind"), tsunagu_model::Kind::codes());
    assert_eq!(e("CareType"), tsunagu_model::CareType::codes());
    assert_eq!(e("Weekday"), tsunagu_model::Weekday::codes());
    assert_eq!(e("Accessibility"), tsunagu_model::Accessibility::codes());
    assert_eq!(e("TransportFeature"), tsunagu_model::TransportFeature::codes());
    assert_eq!(e("Certificate"), tsunagu_model::Certificate::codes());
    assert_eq!(e("Audience"), tsunagu_model::Audience::codes());
    assert_eq!(e("CourseType"), tsunagu_model::CourseType::codes());
    assert_eq!(e("Device"), tsunagu_model::Device::codes());
}

#[test]
fn the_search_parameters_in_the_spec_are_the_ones_the_server_accepts() {
    let spec = spec();
    let documented: BTreeSet<String> = spec["paths"]["/v1/search"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    let accepted: BTreeSet<String> = tsunagu_api::routes::search::PARAMS.iter().map(|s| s.to_string()).collect();
    assert_eq!(documented, accepted);
}
