//! The contract: real responses validate against `api-spec/openapi.yaml`, every documented path
//! is exercised, and the spec's vocabularies equal the model's — so the file cannot drift.

mod common;

use std::collections::BTreeSet;

use common::{enc, results, server};
use serde_json::{Value, json};

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

/// Validate one real response against the spec; returns the template it matched.
fn check(spec: &Value, path_and_query: &str) -> String {
    let r = server().get(path_and_query);
    let path = path_and_query.split('?').next().unwrap();
    let template = template_for(spec, path).unwrap_or_else(|| panic!("{path} is not in the spec"));
    let op = &spec["paths"][template]["get"];
    let resp = &op["responses"][r.status.to_string()];
    assert!(!resp.is_null(), "{path_and_query}: status {} is not documented", r.status);
    let resp = match resp["$ref"].as_str() {
        Some(rf) => &spec["components"]["responses"][rf.rsplit('/').next().unwrap()],
        None => resp,
    };
    let media = r.content_type.split(';').next().unwrap().trim();
    let schema = &resp["content"][media]["schema"];
    assert!(!schema.is_null(), "{path_and_query}: {media} for {} is not documented", r.status);
    let root = json!({ "allOf": [schema], "components": spec["components"] });
    let validator =
        jsonschema::options().with_draft(jsonschema::Draft::Draft202012).build(&root).expect("schema compiles");
    let errors: Vec<String> =
        validator.iter_errors(&r.body).map(|e| format!("{} at {}", e, e.instance_path)).take(5).collect();
    assert!(errors.is_empty(), "{path_and_query} ({}) does not match the spec:\n{}", r.status, errors.join("\n"));
    template.to_string()
}

#[test]
fn real_responses_match_the_spec_and_every_path_is_exercised() {
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
        format!("/v1/suggest?q={}", enc("きゅう")),
        "/v1/suggest?q=vent&limit=3".to_string(),
        "/v1/suggest?limit=0".to_string(),
        "/healthz".to_string(),
        "/readyz".to_string(),
    ];
    let covered: BTreeSet<String> = requests.iter().map(|r| check(&spec, r)).collect();
    let documented: BTreeSet<String> = spec["paths"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(covered, documented, "every documented path is exercised");
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
