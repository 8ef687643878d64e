//! No input yields a 5xx: random query strings against the real router over the bundled data.

use crate::common;

use proptest::prelude::*;

fn param_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("q"),
        Just("lat"),
        Just("lon"),
        Just("radius_km"),
        Just("kinds"),
        Just("care_types"),
        Just("municipalities"),
        Just("region"),
        Just("has_vacancy"),
        Just("nurse_on"),
        Just("age"),
        Just("include_sample"),
        Just("sort"),
        Just("limit"),
        Just("offset"),
        Just("facets"),
        Just("bogus"),
    ]
    .prop_map(String::from)
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9.eE+-]{0,12}",
        "-?[0-9]{1,4}(\\.[0-9]{1,6})?",
        "(daycare|transport|ventilator|suction_oral_nasal|mon|20202|11100|松本|北信|true|false|distance|name|relevance)(,[a-z_0-9]{0,12}){0,3}",
        "\\PC{0,40}",
        "(%[0-9A-Fa-f]{2}|%[g-z]{2}|%|[a-z+]){0,12}",
        ".{0,300}",
    ]
}

fn encode_lossy(s: &str) -> String {
    // Keep `%` escapes as generated (valid or not); escape what a URI cannot carry raw.
    s.chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' | '~' | '%' | '+' | ',' => c.to_string(),
            c => c.to_string().bytes().map(|b| format!("%{b:02X}")).collect(),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_query_strings_never_get_a_server_error(pairs in prop::collection::vec((param_name(), value()), 0..6)) {
        let app = app();
        let qs: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", encode_lossy(v))).collect();
        let uri = format!("/v1/search?{}", qs.join("&"));
        let (status, body) = app.get_raw(&uri);
        prop_assert!(status < 500, "{uri} → {status}: {}", String::from_utf8_lossy(&body));
        prop_assert!(matches!(status, 200 | 400 | 414), "{uri} → {status}");
        let json: serde_json::Value = serde_json::from_slice(&body).expect("always JSON");
        if status == 400 {
            prop_assert!(json["errors"].as_array().is_some_and(|e| !e.is_empty()), "{uri}: {json}");
        }
    }

    #[test]
    fn random_resource_ids_never_get_a_server_error(id in "\\PC{0,50}") {
        let app = app();
        let uri = format!("/v1/resources/{}", encode_lossy(&id).replace('/', "%2F"));
        let (status, _) = app.get_raw(&uri);
        prop_assert!(matches!(status, 400 | 404), "{uri} → {status}");
    }
}

/// Inputs proptest once found that made the server fail; kept as fixed cases.
#[test]
fn known_bad_inputs_stay_fixed() {
    let app = app();
    for q in ["ꬰ:\u{11080}A", "ꬰ", "\u{11080}\u{11080}", "ꬰ ꬱ", "a:b:c"] {
        let uri = format!("/v1/search?q={}", encode_lossy(q));
        let (status, body) = app.get_raw(&uri);
        assert!(status < 500, "{q:?} → {status}: {}", String::from_utf8_lossy(&body));
    }
}

fn app() -> &'static common::InProcess {
    static APP: std::sync::OnceLock<common::InProcess> = std::sync::OnceLock::new();
    APP.get_or_init(common::in_process)
}
