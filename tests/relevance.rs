//! The judged relevance set (`tests/relevance.tsv`): queries as families, coordinators and nurses
//! type them, each with the intent its top 5 must satisfy, scored over the bundled data through
//! the real router. Fails below 0.9 and prints the score.
//!
//! Score = results in the top 5 that satisfy the intent ÷ results that could (5, or fewer when
//! the bundled data has fewer resources satisfying the intent).

use crate::common;

use tsunagu_model::{LatLon, MunicipalityCode, Resource};
use tsunagu_places::Gazetteer;

#[derive(Debug, Default)]
struct Intent {
    kinds: Vec<String>,
    /// All of these groups; within a group any one care type (`*`: any care type at all).
    care: Vec<Vec<String>>,
    place: Option<String>,
    near: Option<(LatLon, f64)>,
}

fn parse_intent(s: &str) -> Intent {
    let mut it = Intent::default();
    for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').expect("key=value");
        match k {
            "kind" => it.kinds = v.split('|').map(String::from).collect(),
            "care" => it.care = v.split('+').map(|g| g.split('|').map(String::from).collect()).collect(),
            "place" => it.place = Some(v.to_string()),
            "near" => {
                let n: Vec<f64> = v.split(',').map(|x| x.parse().unwrap()).collect();
                it.near = Some((LatLon::new(n[0], n[1]).unwrap(), n[2]));
            }
            other => panic!("unknown intent key {other}"),
        }
    }
    it
}

fn satisfies(g: &Gazetteer, it: &Intent, r: &Resource) -> bool {
    if !it.kinds.is_empty() && !it.kinds.iter().any(|k| k == r.kind.code()) {
        return false;
    }
    let takes = |c: &str| c == "*" && !r.care_types.is_empty() || r.care_types.iter().any(|x| x.code() == c);
    if !it.care.iter().all(|group| group.iter().any(|c| takes(c))) {
        return false;
    }
    if let Some(place) = &it.place {
        let ok = if place.contains('-') {
            g.region(place).is_some_and(|reg| g.region_codes(reg).contains(&r.municipality_code))
        } else {
            let m: MunicipalityCode = place.parse().unwrap();
            let office = g.municipality(m).unwrap().point;
            g.expand(m).contains(&r.municipality_code) || r.location.is_some_and(|l| l.distance_km(office) <= 20.0)
        };
        if !ok {
            return false;
        }
    }
    if let Some((p, km)) = it.near
        && r.location.is_none_or(|l| l.distance_km(p) > km)
    {
        return false;
    }
    true
}

#[test]
fn judged_queries_find_what_was_meant() {
    let app = common::in_process();
    let g = Gazetteer::bundled();
    let all = tsunagu_sample::bundled().unwrap();
    let (mut got, mut possible) = (0usize, 0usize);
    let mut groups: std::collections::BTreeMap<String, (usize, usize, usize)> = Default::default();
    let mut misses = Vec::new();
    for line in include_str!("relevance.tsv").lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (query, extra, intent, group) = (cols[0], cols[1], parse_intent(cols[2]), cols[3]);
        let could = all.iter().filter(|r| satisfies(g, &intent, r)).count().min(5);
        assert!(could > 0, "{query}: no bundled resource satisfies {intent:?}; fix the judged set");
        let mut uri = format!("/v1/search?q={}&limit=5", common::enc(query));
        for kv in extra.split('&').filter(|s| !s.is_empty()) {
            let (k, v) = kv.split_once('=').unwrap();
            uri.push_str(&format!("&{k}={}", common::enc(v)));
        }
        let (status, body) = app.get_raw(&uri);
        assert_eq!(status, 200, "{query}: {}", String::from_utf8_lossy(&body));
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let results = body["results"].as_array().unwrap();
        let ok = results
            .iter()
            .filter(|x| {
                let id: tsunagu_model::ResourceId = x["id"].as_str().unwrap().parse().unwrap();
                all.iter().find(|r| r.id == id).is_some_and(|r| satisfies(g, &intent, r))
            })
            .count()
            .min(could);
        got += ok;
        possible += could;
        let e = groups.entry(group.to_string()).or_default();
        e.0 += ok;
        e.1 += could;
        e.2 += 1;
        if ok < could {
            misses.push(format!(
                "{query} [{group}]: {ok}/{could} — {} | relaxed {}",
                body["interpretation"]["summary_ja"], body["relaxed"]
            ));
        }
    }
    let score = got as f64 / possible as f64;
    println!("relevance: {got}/{possible} top-5 results satisfy the intent = {score:.3}");
    for (g, (ok, could, n)) in &groups {
        println!("  {g}: {n} queries, {ok}/{could} = {:.3}", *ok as f64 / *could as f64);
    }
    for m in &misses {
        println!("  miss: {m}");
    }
    let queries: usize = groups.values().map(|v| v.2).sum();
    assert!(queries >= 80 && groups["ja"].2 >= 50 && groups["en"].2 >= 20 && groups["typo"].2 >= 10);
    assert!(score >= 0.9, "relevance {score:.3} is below 0.9");
}
