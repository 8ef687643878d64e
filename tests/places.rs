//! Places end to end: `near=` with addresses, postal codes, municipalities and 圏域; "who comes to
//! me" (`covers=true`); geocoding, reverse geocoding and region endpoints.

use crate::common;

use common::{enc, results, server, strs};
use serde_json::Value;
use tsunagu_model::LatLon;

fn point(v: &Value) -> LatLon {
    LatLon::new(v["lat"].as_f64().unwrap(), v["lon"].as_f64().unwrap()).unwrap()
}

fn distances(rs: &[Value]) -> Vec<f64> {
    rs.iter().map(|r| r["distance_km"].as_f64().unwrap()).collect()
}

#[test]
fn a_coordinator_lists_transport_whose_area_covers_komoro() {
    let r = server().get(&format!("/v1/search?near={}&kinds=transport&covers=true&limit=100", enc("小諸市")));
    assert_eq!(r.status, 200, "{:?}", r.body);
    let place = &r.body["query"]["near"]["place"];
    assert_eq!(place["municipality_code"], "20208");
    assert_eq!(place["precision"], "municipality");
    let komoro = point(&place["point"]);
    let g = tsunagu_places::Gazetteer::bundled();
    let rs = results(&r);
    assert!(rs.len() >= 3, "{}", rs.len());
    let mut by_list = 0;
    for x in rs {
        assert_eq!(x["kind"], "transport");
        let area = &x["service_area"];
        let covered = match area["type"].as_str().unwrap() {
            "radius" => point(&x["location"]).distance_km(komoro) <= area["radius_km"].as_f64().unwrap(),
            "municipalities" => {
                by_list += 1;
                strs(&area["codes"])
                    .iter()
                    .any(|c| g.expand(c.parse().unwrap()).iter().any(|e| e.to_string() == "20208"))
            }
            other => panic!("unexpected area {other}"),
        };
        assert!(covered, "{} does not cover 小諸市: {area}", x["name"]);
    }
    assert!(by_list > 0, "some services list the municipalities they serve");
    let d = distances(rs);
    assert!(d.windows(2).all(|w| w[0] <= w[1]), "nearest office first");
    // Those not returned do not cover 小諸市.
    let all = server().get("/v1/search?kinds=transport&limit=100&municipalities=20208,20217,20203,20321,20219");
    for x in results(&all) {
        let listed = rs.iter().any(|y| y["id"] == x["id"]);
        let area = &x["service_area"];
        if area["type"] == "radius" && !listed {
            assert!(
                point(&x["location"]).distance_km(komoro) > area["radius_km"].as_f64().unwrap(),
                "{} was missed",
                x["name"]
            );
        }
    }
}

#[test]
fn transport_features_narrow_who_can_come() {
    let r = server().get(&format!(
        "/v1/search?near={}&kinds=transport&covers=true&transport=ventilator_onboard,wheelchair",
        enc("佐久市")
    ));
    assert_eq!(r.status, 200, "{:?}", r.body);
    for x in results(&r) {
        assert_eq!(x["transport"]["ventilator_onboard"], true);
        assert_eq!(x["transport"]["wheelchair"], true);
    }
    let bad = server().get("/v1/search?transport=helicopter");
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["errors"][0]["name"], "transport");
}

#[test]
fn a_postal_code_or_an_address_works_as_near() {
    let r = server().get(&format!("/v1/search?near={}&kinds=home_nursing&limit=5", enc("〒384-0000")));
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["query"]["near"]["place"]["municipality_code"], "20208");
    assert_eq!(r.body["query"]["near"]["place"]["postal_code"], "384-0000");
    let d = distances(results(&r));
    assert!(!d.is_empty() && d.windows(2).all(|w| w[0] <= w[1]));

    let r = server().get(&format!(
        "/v1/search?near={}&kinds=daycare&care_types=suction_oral_nasal&radius_km=10",
        enc("松本市丸の内３－７")
    ));
    assert_eq!(r.status, 200);
    assert_eq!(r.body["query"]["near"]["place"]["precision"], "town");
    assert_eq!(r.body["query"]["near"]["place"]["town"], "丸の内");
    assert!(!results(&r).is_empty());
    assert!(distances(results(&r)).iter().all(|d| *d <= 10.0));
}

#[test]
fn a_region_as_near_keeps_results_inside_it() {
    let r = server().get(&format!("/v1/search?near={}&kinds=short_stay&limit=100", enc("北信圏域")));
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["query"]["region"], "20-10");
    for x in results(&r) {
        assert_eq!(x["municipality"]["region"]["name"], "北信");
    }
}

#[test]
fn where_in_hokushin_is_there_no_short_stay_for_tracheostomy() {
    // The coordinator's gap question, answered from facets: members minus those with results.
    let s = server();
    let region = s.get(&format!("/v1/regions/{}", enc("北信")));
    assert_eq!(region.status, 200);
    let members: Vec<String> =
        region.body["members"].as_array().unwrap().iter().map(|m| m["code"].as_str().unwrap().to_string()).collect();
    assert_eq!(members.len(), 6);
    let r = s.get(&format!("/v1/search?region={}&kinds=short_stay&care_types=tracheostomy&limit=100", enc("北信")));
    let with: Vec<String> = r.body["facets"]["municipalities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    let gaps: Vec<&String> = members.iter().filter(|m| !with.contains(m)).collect();
    assert!(with.iter().all(|c| members.contains(c)));
    assert_eq!(gaps.len() + with.len(), members.len());
    let sum: u64 = region.body["members"].as_array().unwrap().iter().map(|m| m["resources"].as_u64().unwrap()).sum();
    assert_eq!(sum, region.body["total"].as_u64().unwrap());
    let kinds: u64 = region.body["kinds"].as_array().unwrap().iter().map(|k| k["count"].as_u64().unwrap()).sum();
    assert_eq!(kinds, sum);
}

#[test]
fn unknown_places_get_404_with_suggestions_and_ambiguous_ones_400() {
    let r = server().get(&format!("/v1/search?near={}", enc("松元市")));
    assert_eq!(r.status, 404);
    assert_eq!(r.content_type, "application/problem+json");
    assert!(strs(&r.body["suggestions"]).iter().any(|s| s.contains("松本市")), "{:?}", r.body);
    let r = server().get(&format!("/v1/search?near={}", enc("本町")));
    assert_eq!(r.status, 400);
    assert!(strs(&r.body["suggestions"]).len() > 3);
    let r = server().get(&format!("/v1/search?near={}&lat=36&lon=138", enc("松本市")));
    assert_eq!(r.status, 400);
    let r = server().get("/v1/search?covers=true&kinds=transport");
    assert_eq!((r.status, r.body["errors"][0]["name"].as_str()), (400, Some("covers")));
}

#[test]
fn geocode_and_reverse_endpoints() {
    let s = server();
    let r = s.get(&format!("/v1/places/geocode?q={}", enc("越谷市越ヶ谷四丁目2番1号")));
    assert_eq!(r.status, 200);
    assert_eq!(r.body["place"]["municipality_code"], "11222");
    assert_eq!(r.body["place"]["precision"], "town");
    let r = s.get(&format!("/v1/places/geocode?q={}", enc("xyzzy")));
    assert_eq!(r.status, 404);
    let r = s.get("/v1/places/geocode");
    assert_eq!(r.status, 400);

    let r = s.get("/v1/places/reverse?lat=36.238&lon=137.972");
    assert_eq!(r.status, 200);
    assert_eq!(r.body["municipality"]["code"], "20202");
    assert_eq!(r.body["region"]["name"], "松本");
    let r = s.get("/v1/places/reverse?lat=35.6812&lon=139.7671");
    assert_eq!(r.status, 404, "東京駅 is outside the bundled prefectures");
    let r = s.get("/v1/places/reverse?lat=36.2");
    assert_eq!(r.status, 400);
}

#[test]
fn municipality_facets_list_the_largest_hundred_and_count_the_rest() {
    // Everything, all pages: the distinct municipalities of the matches, counted by hand.
    let s = server();
    let first = s.get("/v1/search?limit=100&sort=name");
    assert_eq!(first.status, 200, "{:?}", first.body);
    // Paging stops at offset 1,000, so the matches are read kind by kind.
    let mut by_code: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    let mut seen = 0;
    for kind in tsunagu_model::Kind::ALL {
        let url = |offset: usize| format!("/v1/search?kinds={kind}&limit=100&sort=name&facets=false&offset={offset}");
        let mut offset = 0;
        loop {
            let page = s.get(&url(offset));
            let of_kind = page.body["total"].as_u64().unwrap() as usize;
            assert!(of_kind <= 1_100, "{kind}: {of_kind} outgrew this test's paging");
            for x in results(&page) {
                *by_code.entry(x["municipality"]["code"].as_str().unwrap().to_string()).or_default() += 1;
                seen += 1;
            }
            offset += 100;
            if offset >= of_kind {
                break;
            }
        }
    }
    // Kind by kind nothing is folded into a site's card; unfiltered, a site is one result.
    let records = first.body["total"].as_u64().unwrap() + first.body["collapsed"].as_u64().unwrap();
    assert_eq!(seen, records as usize);
    assert!(by_code.len() > 100, "the bundled data spans {} municipalities: the cap is not exercised", by_code.len());
    let f = &first.body["facets"];
    let listed = f["municipalities"].as_array().unwrap();
    assert!(listed.len() <= 100);
    assert_eq!(listed.len() + f["municipalities_omitted"].as_u64().unwrap() as usize, by_code.len());
    let counts: Vec<u64> = listed.iter().map(|m| m["count"].as_u64().unwrap()).collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "largest first: {counts:?}");
    for m in listed {
        assert_eq!(by_code.get(m["code"].as_str().unwrap()), Some(&m["count"].as_u64().unwrap()));
    }
    // Every omitted municipality has no more matches than the last one listed.
    if let Some(last) = counts.last() {
        let listed_codes: Vec<&str> = listed.iter().map(|m| m["code"].as_str().unwrap()).collect();
        assert!(by_code.iter().filter(|(c, _)| !listed_codes.contains(&c.as_str())).all(|(_, n)| n <= last));
    }
}
