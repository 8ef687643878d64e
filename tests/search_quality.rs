//! Searches that must not fail the family (issue 21): umbrella words, everyday words, places
//! outside the served area, misspelt places and dead ends, through the real router.

use crate::common;

use serde_json::Value;

fn search(query: &str) -> Value {
    let app = common::in_process();
    let (status, body) = app.get_raw(&format!("/v1/search?{query}"));
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, 200, "{query}: {body}");
    body
}

/// A search on the real binary serving the bundled real and sample records.
fn served(query: &str) -> Value {
    let r = common::server().get(&format!("/v1/search?{query}"));
    assert_eq!(r.status, 200, "{query}: {:?}", r.body);
    r.body
}

fn codes(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().map(|x| x.as_str().unwrap_or_default().to_string()).collect()).unwrap_or_default()
}

#[test]
fn an_umbrella_word_takes_any_of_its_care_types_confirmed_first() {
    let body = search(&format!("q={}&limit=50", common::enc("経管栄養 放デイ")));
    assert_eq!(body["query"]["care_any"], serde_json::json!([["tube_feeding_nasal", "gastrostomy"]]));
    assert_eq!(body["query"]["care_types"], serde_json::json!([]));
    let chip = &body["interpretation"]["recognized"][0];
    assert_eq!(
        (chip["type"].as_str(), chip["code"].as_str(), chip["applied"].as_bool()),
        (Some("care_group"), Some("tube_feeding"), Some(true))
    );
    let rs = body["results"].as_array().unwrap();
    assert!(!rs.is_empty());
    let takes = |x: &Value| {
        let care = codes(&x["care_types"]);
        care.contains(&"tube_feeding_nasal".to_string()) || care.contains(&"gastrostomy".to_string())
    };
    let confirmed = body["confirmed_total"].as_u64().unwrap() as usize;
    assert!(confirmed > 0, "some after-school services take tube feeding");
    // Those that take one come first, and say which they take.
    for x in rs.iter().take(confirmed.min(rs.len())) {
        assert!(takes(x), "{}", x["name"]);
        assert!(!codes(&x["matched_care_types"]).is_empty(), "{}", x["name"]);
    }
    // Nobody that declines both is offered.
    for x in rs {
        let declined = codes(&x["care_types_declined"]);
        assert!(
            !(declined.contains(&"tube_feeding_nasal".to_string()) && declined.contains(&"gastrostomy".to_string())),
            "{}",
            x["name"]
        );
    }
    // The explicit parameter means the same.
    let explicit = search("kinds=after_school_day_service&care_any=tube_feeding&limit=50");
    assert_eq!(explicit["total"], body["total"]);
    let by_codes = search("kinds=after_school_day_service&care_any=tube_feeding_nasal|gastrostomy&limit=50");
    assert_eq!(by_codes["total"], body["total"]);
}

#[test]
fn any_medical_care_narrows_a_daycare_search_but_not_a_coordinator_search() {
    let daycare = search(&format!("q={}", common::enc("医ケア 保育園 長野市")));
    assert_eq!(daycare["query"]["care_any"].as_array().map(Vec::len), Some(1));
    assert_eq!(daycare["query"]["care_any"][0].as_array().map(Vec::len), Some(17), "every care type");
    let coordinator = search(&format!("q={}", common::enc("医ケア コーディネーター 松本")));
    assert_eq!(coordinator["query"]["care_any"], serde_json::json!([]), "「医ケア」 says who it is for");
    let chip = coordinator["interpretation"]["recognized"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "care_group")
        .cloned()
        .expect("recognised");
    assert_eq!(chip["applied"], false);
    assert!(coordinator["total"].as_u64().unwrap() > 0);
}

#[test]
fn a_bad_umbrella_parameter_is_a_clear_problem() {
    let app = common::in_process();
    let (status, body) = app.get_raw("/v1/search?care_any=tube_feedin");
    assert_eq!(status, 400);
    let body: Value = serde_json::from_slice(&body).unwrap();
    let invalid = &body["errors"][0];
    assert_eq!(invalid["name"], "care_any", "{body}");
    assert!(invalid["reason"].as_str().unwrap().contains("did you mean `tube_feeding`?"), "{body}");
}

#[test]
fn a_place_outside_the_served_prefectures_is_said_not_searched_as_words() {
    let body = search(&format!("q={}", common::enc("訪問看護 大阪市")));
    let hint = &body["interpretation"]["place_hints"][0];
    assert_eq!((hint["typed"].as_str(), hint["outside"].as_bool()), (Some("大阪市"), Some(true)), "{body}");
    let detail = hint["detail_ja"].as_str().unwrap();
    assert!(detail.contains("埼玉県・長野県"), "{detail}");
    assert!(hint["detail_en"].as_str().unwrap().contains("Saitama and Nagano"));
    assert_eq!(body["interpretation"]["remaining_text"], "", "大阪市 is not searched as words");
    assert_eq!(body["relaxed"], serde_json::json!([]), "nothing had to be dropped");
    assert_eq!(body["query"]["kinds"], serde_json::json!(["home_nursing"]));
    let body = search(&format!("q={}", common::enc("東京都新宿区 保育園")));
    assert_eq!(body["interpretation"]["place_hints"][0]["outside"], true, "{body}");
}

#[test]
fn a_municipality_one_edit_away_is_offered_as_a_link() {
    // Every municipality misspelt by one character (the middle one replaced) gets a suggestion
    // naming it, and the suggested query finds the place.
    let g = tsunagu_places::Gazetteer::bundled();
    let app = common::in_process();
    let (mut checked, mut skipped) = (0, 0);
    for m in g.municipalities().iter().filter(|m| m.parent.is_none()) {
        let chars: Vec<char> = m.name.chars().collect();
        if chars.len() < 3 {
            continue;
        }
        let mut typo = chars.clone();
        typo[1] = if typo[1] == '野' { '乃' } else { '野' };
        let typo: String = typo.into_iter().collect();
        // Skip a typo that is, or contains, another place's name (「長野町」 for 長瀞町 reads as 長野).
        if g.municipalities().iter().any(|o| {
            let bare = o.name.trim_end_matches(['市', '町', '村']);
            o.name == typo || (bare.chars().count() >= 2 && typo.contains(bare))
        }) {
            skipped += 1;
            continue;
        }
        let (status, body) = app.get_raw(&format!("/v1/search?q={}&limit=1", common::enc(&format!("訪問看護 {typo}"))));
        assert_eq!(status, 200);
        let body: Value = serde_json::from_slice(&body).unwrap();
        let hints = body["interpretation"]["place_hints"].as_array().cloned().unwrap_or_default();
        let offered = hints
            .iter()
            .flat_map(|h| h["suggestions"].as_array().cloned().unwrap_or_default())
            .any(|s| s["code"] == m.code.to_string());
        assert!(offered, "{typo} (for {}): {}", m.name, body["interpretation"]);
        checked += 1;
    }
    println!(
        "misspelt municipalities: {checked} offered their municipality, {skipped} skipped (the typo names another place)"
    );
    assert!(checked > 100, "{checked}");
    let body = search(&format!("q={}", common::enc("訪問看護 松元")));
    let sug = &body["interpretation"]["place_hints"][0]["suggestions"];
    let matsumoto = sug.as_array().unwrap().iter().find(|s| s["code"] == "20202").expect("松本市 offered");
    assert_eq!(matsumoto["q"], "訪問看護 松本市");
}

#[test]
fn a_dead_end_says_which_condition_empties_it_and_how_many_without() {
    // No visiting-nurse station in the bundled data has a nurse on Saturdays (nurse days are a
    // daycare's and school's fact).
    let body = search("kinds=home_nursing&nurse_on=sat");
    assert_eq!(body["total"], 0, "{body}");
    let without = body["without"].as_array().expect("without");
    let find = |param: &str| {
        without.iter().find(|w| w["param"] == param).cloned().unwrap_or_else(|| panic!("{param}: {body}"))
    };
    // Each count is what the search finds without that one condition, most first.
    let nurse = find("nurse_on");
    assert_eq!(nurse["total"], search("kinds=home_nursing&limit=1")["total"]);
    assert_eq!(nurse["label_ja"], "土曜日に看護師がいる");
    assert_eq!(nurse["detail_ja"], format!("「土曜日に看護師がいる」の条件をはずすと {} 件", nurse["total"]));
    assert_eq!(nurse["detail_en"], format!("{} without \"a nurse on Saturday\"", nurse["total"]));
    let kinds = find("kinds");
    assert_eq!(kinds["total"], search("nurse_on=sat&limit=1")["total"]);
    let totals: Vec<u64> = without.iter().map(|w| w["total"].as_u64().unwrap()).collect();
    assert!(totals.windows(2).all(|p| p[0] >= p[1]) && totals.iter().all(|t| *t > 0), "{totals:?}");
    // Text that set a condition is named, so the page can take the words out of q.
    let body = search(&format!("q={}&nurse_on=sat", common::enc("訪問看護")));
    assert_eq!(body["total"], 0);
    let kinds = body["without"].as_array().unwrap().iter().find(|w| w["param"] == "kinds").cloned().expect("kinds");
    assert_eq!(kinds["phrase"], "訪問看護");
    // A search that finds something says nothing of the kind.
    assert_eq!(search("kinds=home_nursing")["without"], serde_json::json!([]));
}

#[test]
fn when_nothing_nearby_confirms_the_care_the_nearest_that_does_is_offered_first() {
    // The served binary holds the real records too: near 木曽町 only real short stays, whose
    // care is not known.
    let body = served(&format!("q={}&limit=5", common::enc("人工呼吸器 ショートステイ 木曽町")));
    assert!(body["total"].as_u64().unwrap() > 0, "short stays near 木曽町 exist");
    assert_eq!(body["confirmed_total"], 0, "none nearby confirms ventilator care");
    let further = &body["confirmed_further"];
    let km = further["nearest_km"].as_f64().expect("a distance");
    assert!(km > 20.0, "beyond the 20 km around 木曽町: {km}");
    assert_eq!(
        further["detail_ja"],
        format!("この近くには対応が確認できたところがありません。確認済みの最寄り: {km} km")
    );
    let rs = further["results"].as_array().unwrap();
    assert!(!rs.is_empty() && rs.len() <= 3);
    for x in rs {
        assert_eq!(x["kind"], "short_stay");
        assert!(codes(&x["matched_care_types"]).contains(&"ventilator".to_string()), "{}", x["name"]);
    }
    // It is the nearest confirmed one there is.
    let (lat, lon) = (body["query"]["lat"].as_f64().unwrap(), body["query"]["lon"].as_f64().unwrap());
    let direct = served(&format!(
        "kinds=short_stay&care_types=ventilator&include_unconfirmed=false&lat={lat}&lon={lon}&sort=distance&limit=1"
    ));
    assert_eq!(direct["results"][0]["id"], rs[0]["id"]);
    // Where something nearby confirms it, nothing further is offered.
    let body = served(&format!("q={}", common::enc("人工呼吸器 ショートステイ 松本市")));
    assert!(body["confirmed_total"].as_u64().unwrap() > 0);
    assert_eq!(body["confirmed_further"], Value::Null);
}

#[test]
fn every_chip_can_be_removed_whatever_form_was_typed() {
    let app = common::in_process();
    for (q, left) in
        [("G-Tube 保育園", "保育園"), ("胃瘻 放デイ", "放デイ"), ("ｲﾛｳ 児発", "児発"), ("Saitama daycare", "daycare")]
    {
        let (status, body) = app.get_raw(&format!("/?q={}", common::enc(q)));
        assert_eq!(status, 200);
        let html = String::from_utf8(body).unwrap();
        let removes = html.matches("を外す").count();
        assert!(removes >= 2, "{q}: {removes} removable chips");
        // The first chip's link searches the rest of the words.
        assert!(
            html.contains(&format!("href=\"/?q={}\"", common::enc(left).replace("%20", "+"))),
            "{q}: no link to {left}"
        );
    }
}
