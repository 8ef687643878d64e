//! `GET /v1/contacts`: whom to call first, for every municipality of both prefectures, in order,
//! with no invented phone numbers; and bad places answered as problems.

use crate::common;

use common::{enc, server};
use serde_json::Value;

fn roles(v: &Value) -> Vec<String> {
    v["contacts"].as_array().unwrap().iter().map(|c| c["role"].as_str().unwrap().to_string()).collect()
}

#[test]
fn every_municipality_of_both_prefectures_gets_its_coordinator_and_centre_first() {
    let s = server();
    let g = tsunagu_places::Gazetteer::bundled();
    let mut checked = 0;
    for m in g.municipalities() {
        // A designated city is asked for by its wards.
        if g.municipalities().iter().any(|w| w.parent == Some(m.code)) {
            continue;
        }
        let r = s.get(&format!("/v1/contacts?near={}", enc(&format!("{}{}", m.prefecture, m.name))));
        assert_eq!(r.status, 200, "{}{}: {}", m.prefecture, m.name, r.body);
        assert_eq!(r.body["place"]["municipality"]["code"], m.code.to_string(), "{}", m.name);
        let roles = roles(&r.body);
        let first_non_coordinator = roles.iter().position(|x| x != "coordinator").unwrap();
        assert!(first_non_coordinator >= 1, "{}: a coordinator first: {roles:?}", m.name);
        assert_eq!(roles[first_non_coordinator], "centre", "{}: then the centre: {roles:?}", m.name);
        assert!(roles.contains(&"municipal_window".to_string()), "{}", m.name);
        // In order: coordinators, centre, window, offices.
        let rank = |x: &str| {
            ["coordinator", "centre", "municipal_window", "consultation_support"].iter().position(|r| *r == x).unwrap()
        };
        assert!(roles.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])), "{}: {roles:?}", m.name);
        for c in r.body["contacts"].as_array().unwrap() {
            match c["role"].as_str().unwrap() {
                "coordinator" | "centre" | "consultation_support" => {
                    assert!(c["resource_id"].is_string(), "{c}");
                }
                _ => {
                    // The municipal window is not a record: no phone is made up for it.
                    assert!(c["resource_id"].is_null() && c["phone"].is_null(), "{c}");
                    assert!(c["name"].as_str().unwrap().contains(&m.name), "{c}");
                }
            }
        }
        // The coordinator is the one for the municipality's own 圏域.
        let coordinator = &r.body["contacts"][0];
        let region = g.region_of(m.code).unwrap();
        assert!(
            coordinator["name"].as_str().unwrap().contains(&region.name),
            "{} ({}): {coordinator}",
            m.name,
            region.name
        );
        checked += 1;
    }
    assert!(checked > 130, "{checked} municipalities");
}

#[test]
fn offices_serve_the_place_nearest_first_and_a_point_or_postal_code_works() {
    let s = server();
    let by_code = s.get(&format!("/v1/contacts?near={}", enc("〒390-0811")));
    assert_eq!(by_code.status, 200);
    assert_eq!(by_code.body["place"]["municipality"]["name"], "松本市");
    let offices: Vec<f64> = by_code.body["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["role"] == "consultation_support")
        .map(|c| c["distance_km"].as_f64().unwrap())
        .collect();
    assert!(!offices.is_empty() && offices.len() <= 5, "{offices:?}");
    assert!(offices.windows(2).all(|w| w[0] <= w[1]), "nearest first: {offices:?}");
    let by_point = s.get("/v1/contacts?lat=36.2305&lon=137.9642");
    assert_eq!(by_point.status, 200);
    assert_eq!(by_point.body["place"]["municipality"]["name"], "松本市");
    assert_eq!(roles(&by_point.body)[..2], roles(&by_code.body)[..2]);
}

#[test]
fn bad_places_are_problems_naming_the_field() {
    let s = server();
    for (q, status, field) in [
        ("".to_string(), 400, Some("near")),
        (format!("near={}&lat=36&lon=138", enc("松本市")), 400, Some("near")),
        ("lat=36.2".to_string(), 400, Some("lon")),
        ("lat=north&lon=138".to_string(), 400, Some("lat")),
        ("lat=95&lon=138".to_string(), 400, Some("lat")),
        (format!("near={}", enc(&"松".repeat(201))), 400, Some("near")),
        (format!("near={}", enc("xyzzy町")), 404, None),
        ("lat=35.68&lon=139.76".to_string(), 404, None),
        ("nearr=x".to_string(), 400, Some("nearr")),
    ] {
        let r = s.get(&format!("/v1/contacts?{q}"));
        assert_eq!(r.status, status, "{q}: {}", r.body);
        assert!(r.content_type.starts_with("application/problem+json"), "{q}");
        if let Some(f) = field {
            let names: Vec<&str> =
                r.body["errors"].as_array().unwrap().iter().filter_map(|e| e["name"].as_str()).collect();
            assert!(names.contains(&f), "{q}: {names:?}");
        }
    }
}
