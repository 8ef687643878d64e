//! Every kind of bad input gets its documented status and a problem document naming the
//! offending parameter — never a 500.

use crate::common;

use common::{enc, server};

/// (request, status, parameter named in `errors`, text the reason or detail must contain)
const CASES: &[(&str, u16, &str, &str)] = &[
    ("/v1/search?care_types=suction", 400, "care_types", "did you mean `suction_oral_nasal`"),
    ("/v1/search?care_types=ventilator,nonsense", 400, "care_types", "unknown care type `nonsense`"),
    ("/v1/search?kinds=daycar", 400, "kinds", "did you mean `daycare`"),
    ("/v1/search?lat=91&lon=138", 400, "lat", "outside"),
    ("/v1/search?lat=-90.5&lon=138", 400, "lat", "outside"),
    ("/v1/search?lat=36&lon=181", 400, "lon", "outside"),
    ("/v1/search?lat=abc&lon=138", 400, "lat", "not a number"),
    ("/v1/search?lat=36.2", 400, "lon", "required with lat"),
    ("/v1/search?lat=36.2&lon=138&radius_km=0", 400, "radius_km", "more than 0"),
    ("/v1/search?lat=36.2&lon=138&radius_km=-3", 400, "radius_km", "more than 0"),
    ("/v1/search?lat=36.2&lon=138&radius_km=501", 400, "radius_km", "at most 500"),
    ("/v1/search?lat=36.2&lon=138&radius_km=NaN", 400, "radius_km", "radius"),
    ("/v1/search?radius_km=5", 400, "radius_km", "needs a point"),
    ("/v1/search?limit=101", 400, "limit", "from 1 to 100"),
    ("/v1/search?limit=0", 400, "limit", "from 1 to 100"),
    ("/v1/search?limit=-1", 400, "limit", "whole number"),
    ("/v1/search?offset=1001", 400, "offset", "at most 1000"),
    ("/v1/search?sort=random", 400, "sort", "unknown sort"),
    ("/v1/search?sort=distance", 400, "sort", "needs a point"),
    ("/v1/search?nurse_on=monday", 400, "nurse_on", "unknown weekday"),
    ("/v1/search?age=200", 400, "age", "age"),
    ("/v1/search?has_vacancy=maybe", 400, "has_vacancy", "not a boolean"),
    ("/v1/search?municipalities=99999", 400, "municipalities", "prefecture"),
    ("/v1/search?municipalities=13101", 400, "municipalities", "has data for"),
    ("/v1/search?region=atlantis", 400, "region", "unknown region"),
    ("/v1/search?care_type=ventilator", 400, "care_type", "did you mean `care_types`"),
    ("/v1/search?q=%E5%90", 400, "query", "percent-encoded UTF-8"),
    ("/v1/search?q=%zz", 400, "query", "percent-encoded UTF-8"),
    ("/v1/search?q=%FF%FE", 400, "query", "percent-encoded UTF-8"),
    ("/v1/search?limit=5&limit=6", 400, "limit", "more than once"),
    ("/v1/resources/not-a-uuid", 400, "id", "not a resource id"),
    ("/v1/municipalities?prefecture=tokyo", 400, "prefecture", "unknown prefecture"),
];

#[test]
fn each_bad_parameter_gets_a_problem_naming_it() {
    let s = server();
    for (path, status, param, text) in CASES {
        let r = s.get(path);
        assert_eq!(r.status, *status, "{path}: {:?}", r.body);
        assert_eq!(r.content_type, "application/problem+json", "{path}");
        assert_eq!(r.body["status"].as_u64(), Some(u64::from(*status)), "{path}");
        assert!(r.body["type"].as_str().is_some_and(|t| t.starts_with("/problems/")), "{path}");
        let errors = r.body["errors"].as_array().unwrap_or_else(|| panic!("{path}: no errors[] in {:?}", r.body));
        let named = errors
            .iter()
            .find(|e| e["name"] == *param)
            .unwrap_or_else(|| panic!("{path}: {param} not named in {errors:?}"));
        let reason = named["reason"].as_str().unwrap();
        assert!(
            reason.contains(text) || r.body["detail"].as_str().unwrap().contains(text),
            "{path}: {reason:?} lacks {text:?}"
        );
    }
}

#[test]
fn closed_vocabularies_list_the_allowed_values() {
    let r = server().get("/v1/search?care_types=suckton");
    let allowed = common::strs(&r.body["errors"][0]["allowed"]);
    assert_eq!(allowed, tsunagu_model::CareType::codes());
}

#[test]
fn every_problem_in_one_request_is_reported_at_once() {
    let r = server().get("/v1/search?lat=95&lon=200&limit=500&kinds=x");
    assert_eq!(r.status, 400);
    let names: Vec<_> =
        r.body["errors"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap().to_string()).collect();
    for n in ["lat", "kinds", "limit"] {
        assert!(names.contains(&n.to_string()), "{n} missing from {names:?}");
    }
}

#[test]
fn a_query_longer_than_200_characters_is_rejected() {
    let long = "吸".repeat(201);
    let r = server().get(&format!("/v1/search?q={}", enc(&long)));
    assert_eq!(r.status, 400);
    assert_eq!(r.body["errors"][0]["name"], "q");
    let ok = server().get(&format!("/v1/search?q={}", enc(&"吸".repeat(200))));
    assert_eq!(ok.status, 200);
}

#[test]
fn unknown_ids_and_paths_are_404_and_wrong_methods_405() {
    let s = server();
    let r = s.get("/v1/resources/0190c6b2-7d3e-7c41-9f6a-2b5d1e8a4c21");
    assert_eq!((r.status, r.content_type.as_str()), (404, "application/problem+json"));
    let r = s.get("/v1/nothing-here");
    assert_eq!((r.status, r.content_type.as_str()), (404, "application/problem+json"));
    let res = reqwest::blocking::Client::new().post(format!("{}/v1/search", s.base)).send().unwrap();
    assert_eq!(res.status().as_u16(), 405);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
}

#[test]
fn oversized_urls_are_refused_with_414() {
    let r = server().get(&format!("/v1/search?q=a&pad={}", "x".repeat(9_000)));
    assert_eq!(r.status, 414);
    assert_eq!(r.content_type, "application/problem+json");
    // Long but within the URI limit: the query-string limit answers 400.
    let r = server().get(&format!("/v1/search?q=a&pad={}", "x".repeat(5_000)));
    assert_eq!(r.status, 400);
}
