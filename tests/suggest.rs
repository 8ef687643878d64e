//! As-you-type suggestions over HTTP.

use crate::common;

use common::{enc, server};

fn suggestions(q: &str) -> Vec<(String, String, String)> {
    let r = server().get(&format!("/v1/suggest?q={}", enc(q)));
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (s["type"].as_str().unwrap().into(), s["code"].as_str().unwrap().into(), s["text"].as_str().unwrap().into())
        })
        .collect()
}

#[test]
fn kana_in_any_width_completes_to_care_types() {
    for q in ["きゅう", "キュウ", "ｷｭｳ"] {
        let s = suggestions(q);
        // 「きゅういん」 alone is the umbrella word: oral/nasal or tracheal suction.
        assert!(s.iter().any(|(t, c, _)| t == "care_group" && c == "suction"), "{q}: {s:?}");
        assert!(s.iter().any(|(t, c, _)| t == "care_type" && c == "nebulizer"), "{q}: {s:?}");
    }
}

#[test]
fn places_kinds_and_resource_names_are_suggested() {
    let s = suggestions("まつも");
    assert!(s.iter().any(|(t, c, _)| t == "place" && c == "20202"), "{s:?}");
    let s = suggestions("放デ");
    assert!(s.iter().any(|(t, c, _)| t == "kind" && c == "after_school_day_service"), "{s:?}");
    let s = suggestions("ひまわり");
    assert!(s.iter().any(|(t, _, name)| t == "resource" && name.contains("ひまわり")), "{s:?}");
    let s = suggestions("vent");
    assert!(s.iter().any(|(t, c, _)| t == "care_type" && c == "ventilator"), "{s:?}");
}

#[test]
fn a_latin_typo_suggests_the_term_meant() {
    let s = suggestions("ventilater");
    assert_eq!(s.first().map(|x| x.1.as_str()), Some("ventilator"), "{s:?}");
}

#[test]
fn bad_suggest_input_is_a_problem() {
    assert_eq!(server().get("/v1/suggest?limit=0").status, 400);
    assert_eq!(server().get(&format!("/v1/suggest?q={}", "a".repeat(51))).status, 400);
    assert_eq!(server().get("/v1/suggest").body["suggestions"].as_array().unwrap().len(), 0);
}
