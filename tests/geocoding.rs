//! Geocoding accuracy on a judged set of real addresses, postal codes, town and place names in
//! many written forms (`tests/geocoding_cases.tsv`), and honest failures for garbage.

use tsunagu_places::{GeocodeError, Geocoder, Precision};

#[test]
fn judged_addresses_resolve_to_the_right_municipality_with_honest_precision() {
    let cases = include_str!("geocoding_cases.tsv");
    let g = Geocoder::bundled();
    let (mut right, mut total) = (0, 0);
    let mut misses = Vec::new();
    for line in cases.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (query, want, precision) = (cols[0], cols[1], cols[2]);
        total += 1;
        let got = match g.geocode(query) {
            Ok(got) => got,
            Err(e) => {
                misses.push(format!("{query}: {e}"));
                continue;
            }
        };
        let p = &got.place;
        let place_id = match p.precision {
            Precision::Region => p.region_id.clone().unwrap_or_default(),
            _ => p.municipality_code.map(|c| c.to_string()).unwrap_or_default(),
        };
        let want_precision = match precision {
            "town" => Precision::Town,
            "municipality" => Precision::Municipality,
            _ => Precision::Region,
        };
        // Alternatives are fine only within the same municipality (a postal code covering two
        // towns); alternatives in another municipality mean the answer is not settled.
        let settled =
            got.alternatives.iter().all(|a| a.municipality_code == p.municipality_code && a.region_id == p.region_id);
        if place_id == want && p.precision == want_precision && settled {
            right += 1;
        } else {
            misses.push(format!(
                "{query}: got {} {:?} ({}) +{} alternatives, want {want} {precision}",
                place_id,
                p.precision,
                p.name,
                got.alternatives.len()
            ));
        }
    }
    println!("geocoding: {right}/{total} correct ({:.1} %)", 100.0 * right as f64 / total as f64);
    assert!(total >= 60, "the judged set has {total} cases");
    assert!(misses.is_empty(), "{} misses:\n{}", misses.len(), misses.join("\n"));
}

#[test]
fn garbage_and_unknown_places_are_refused_with_suggestions() {
    let g = Geocoder::bundled();
    assert_eq!(g.geocode("  "), Err(GeocodeError::Empty));
    assert!(matches!(g.geocode(&"あ".repeat(200)), Err(GeocodeError::TooLong(_))));
    for q in ["xyzzy", "東京都千代田区丸の内1-1", "999-9999", "!!!", "札幌市"] {
        assert!(matches!(g.geocode(q), Err(GeocodeError::NotFound { .. })), "{q} → {:?}", g.geocode(q));
    }
    let Err(GeocodeError::NotFound { suggestions, .. }) = g.geocode("松元市") else {
        panic!("松元市 is not a place")
    };
    assert!(suggestions.iter().any(|s| s.contains("松本市")), "{suggestions:?}");
}

#[test]
fn an_ambiguous_town_name_lists_every_candidate() {
    let g = Geocoder::bundled();
    // 「中軽井沢」 is a town of both 軽井沢町 and 南相木村.
    let both = g.geocode("中軽井沢").unwrap();
    let mut codes: Vec<String> = std::iter::once(&both.place)
        .chain(&both.alternatives)
        .filter_map(|p| p.municipality_code)
        .map(|c| c.to_string())
        .collect();
    codes.sort();
    assert_eq!(codes, ["20306", "20321"]);
    // 「本町」 is a town in many municipalities: never silently pick one.
    let got = g.geocode("本町").unwrap();
    assert!(!got.alternatives.is_empty(), "{got:?}");
    let names: Vec<_> = std::iter::once(&got.place).chain(&got.alternatives).map(|p| p.name.clone()).collect();
    assert!(names.len() > 3 && names.iter().all(|n| n.ends_with("本町") || n.contains("本町")), "{names:?}");
}
