//! The judged relevance set (`tests/relevance.tsv`): queries as families, coordinators and nurses
//! type them, each with the intent its top 5 must satisfy, scored over the bundled data through
//! the real router. Prints the score per tag, on the sample data and (kinds and places only) on
//! the real records; fails below 0.95 (sample) and 0.90 (real).
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
    /// A place hint the answer must give: `outside`, or a municipality code it must suggest.
    hint: Option<String>,
}

fn parse_intent(s: &str) -> Intent {
    let mut it = Intent::default();
    for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').expect("key=value");
        match k {
            "kind" => it.kinds = v.split('|').map(String::from).collect(),
            "care" => it.care = v.split('+').map(|g| g.split('|').map(String::from).collect()).collect(),
            "place" => it.place = Some(v.to_string()),
            "hint" => it.hint = Some(v.to_string()),
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

/// Whether the answer gives the place hint the intent asks for.
fn gives_hint(body: &serde_json::Value, hint: &str) -> bool {
    let hints = body["interpretation"]["place_hints"].as_array().cloned().unwrap_or_default();
    hints.iter().any(|h| {
        if hint == "outside" {
            h["outside"] == true
        } else {
            h["suggestions"].as_array().is_some_and(|s| s.iter().any(|x| x["code"] == hint))
        }
    })
}

/// Per tag: (results that satisfy, results that could, queries).
type Scores = std::collections::BTreeMap<String, (usize, usize, usize)>;

/// Score every judged query over `all` served by `app`. `kind_and_place_only` judges kinds and
/// places and ignores care (the real records do not say what care they take), and skips queries
/// nothing in `all` can satisfy.
fn score(app: &common::InProcess, all: &[Resource], kind_and_place_only: bool) -> (Scores, Vec<String>) {
    let g = Gazetteer::bundled();
    let mut groups = Scores::new();
    let mut misses = Vec::new();
    let mut far_first = Vec::new();
    for line in include_str!("relevance.tsv").lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (query, extra, mut intent, group) = (cols[0], cols[1], parse_intent(cols[2]), cols[3]);
        if kind_and_place_only {
            intent.care.clear();
        }
        let could = all.iter().filter(|r| satisfies(g, &intent, r)).count().min(5);
        if could == 0 && kind_and_place_only {
            continue;
        }
        assert!(could > 0, "{query}: no bundled resource satisfies {intent:?}; fix the judged set");
        let mut uri = format!("/v1/search?q={}&limit=5", common::enc(query));
        for kv in extra.split('&').filter(|s| !s.is_empty()) {
            let (k, v) = kv.split_once('=').unwrap();
            uri.push_str(&format!("&{k}={}", common::enc(v)));
        }
        let (status, body) = app.get_raw(&uri);
        assert_eq!(status, 200, "{query}: {}", String::from_utf8_lossy(&body));
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        if let Some(h) = &intent.hint {
            assert!(gives_hint(&body, h), "{query}: no place hint {h}: {}", body["interpretation"]);
        }
        let results = body["results"].as_array().unwrap();
        // The first result never lies beyond the named municipality's 20 km while a match lies
        // inside them.
        if let Some(place) = intent.place.as_deref().filter(|p| !p.contains('-')) {
            let office = g.municipality(place.parse().unwrap()).unwrap().point;
            let near = |r: &Resource| r.location.is_some_and(|l| l.distance_km(office) <= 20.0);
            let first = results.first().and_then(|x| {
                let id: tsunagu_model::ResourceId = x["id"].as_str()?.parse().ok()?;
                all.iter().find(|r| r.id == id)
            });
            if let Some(first) = first
                && !near(first)
                && all.iter().any(|r| near(r) && satisfies(g, &intent, r))
            {
                far_first.push(format!("{query}: first result {} lies beyond 20 km", first.name));
            }
        }
        let ok = results
            .iter()
            .filter(|x| {
                let id: tsunagu_model::ResourceId = x["id"].as_str().unwrap().parse().unwrap();
                all.iter().find(|r| r.id == id).is_some_and(|r| satisfies(g, &intent, r))
            })
            .count()
            .min(could);
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
    assert!(far_first.is_empty(), "{far_first:#?}");
    (groups, misses)
}

fn report(label: &str, groups: &Scores, misses: &[String]) -> f64 {
    let (got, possible) = groups.values().fold((0, 0), |(a, b), v| (a + v.0, b + v.1));
    let queries: usize = groups.values().map(|v| v.2).sum();
    let score = got as f64 / possible as f64;
    println!("relevance ({label}): {queries} queries, {got}/{possible} top-5 results satisfy the intent = {score:.3}");
    for (g, (ok, could, n)) in groups {
        println!("  {g}: {n} queries, {ok}/{could} = {:.3}", *ok as f64 / *could as f64);
    }
    for m in misses {
        println!("  miss: {m}");
    }
    score
}

#[test]
fn judged_queries_find_what_was_meant() {
    let app = common::in_process();
    let all = tsunagu_sample::bundled().unwrap();
    let (groups, misses) = score(&app, &all, false);
    let sample_score = report("sample data", &groups, &misses);
    let queries: usize = groups.values().map(|v| v.2).sum();
    assert!(queries >= 150 && groups["ja"].2 >= 50 && groups["en"].2 >= 20 && groups["typo"].2 >= 10);
    for tag in ["town", "umbrella", "region_en", "outside"] {
        assert!(groups.get(tag).is_some_and(|g| g.2 >= 6), "{tag}: too few queries");
    }
    // Kinds and places must be right on the real records too, where care is not known.
    let real = tsunagu_exchange::bundled::real_records(&tsunagu_places::Places::bundled()).unwrap();
    let real_app = common::in_process_with(real.clone());
    let (real_groups, real_misses) = score(&real_app, &real, true);
    let real_score = report("real records, kinds and places", &real_groups, &real_misses);
    assert!(sample_score >= 0.95, "relevance {sample_score:.3} is below 0.95");
    for (tag, (ok, could, _)) in &groups {
        assert!(*ok as f64 / *could as f64 >= 0.90, "relevance of {tag} is below 0.90");
    }
    assert!(real_score >= 0.90, "relevance on the real records {real_score:.3} is below 0.90");
}
