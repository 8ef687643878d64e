//! The page: server-rendered HTML for families, with chips, filters, cards, details and
//! credits; every user-supplied text escaped.

use crate::common;

use common::enc;

fn get(app: &common::InProcess, uri: &str) -> (u16, String) {
    let (status, body) = app.get_raw(uri);
    (status, String::from_utf8(body).expect("UTF-8 HTML"))
}

fn hrefs_with<'a>(html: &'a str, needle: &str) -> Vec<&'a str> {
    html.split("href=\"").skip(1).filter_map(|s| s.split('"').next()).filter(|h| h.contains(needle)).collect()
}

#[test]
fn a_colloquial_query_shows_chips_results_and_a_removable_chip() {
    let app = common::in_process();
    let (status, html) = get(&app, &format!("/?q={}", enc("たん吸引できる保育園 松本")));
    assert_eq!(status, 200);
    assert!(html.starts_with("<!DOCTYPE html><html lang=\"ja\">"), "{}", &html[..80]);
    for chip in ["口腔・鼻腔内の吸引（たん吸引）", "保育所・認定こども園", "松本市"] {
        assert!(html.contains(&format!("<span>{chip}</span>")), "chip {chip}");
    }
    assert!(html.contains("件みつかりました"));
    assert!(html.contains("class=\"badge sample\">サンプルデータ</span>"), "sample records are badged");
    assert!(html.contains("href=\"tel:"), "phone numbers are tap-to-call links");
    assert!(
        html.contains("role=\"search\"") && html.contains("<label class=\"main\" for=\"q\">"),
        "labelled search landmark"
    );
    // Removing the place chip searches without 松本.
    let remove = html
        .split("<li><span>松本市</span><a href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a remove link on the place chip")
        .replace("&amp;", "&");
    let (status, without) = get(&app, &remove);
    assert_eq!(status, 200);
    assert!(!without.contains("<span>松本市</span>"));
    assert!(without.contains("<span>保育所・認定こども園</span>"));
}

#[test]
fn english_filters_details_and_credits_render() {
    let app = common::in_process();
    let (status, html) = get(&app, "/?lang=en&q=suction+daycare+matsumoto");
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("found"), "English summary");
    assert!(html.contains("hreflang=\"ja\""), "a switch back to Japanese");
    // Filters use plain words and explain each care type.
    let (_, home) = get(&app, "/");
    assert!(home.contains("name=\"care_types\" value=\"ventilator\""));
    assert!(home.contains("<small>"), "care types are explained");
    // A detail page for a result, and a 404 page for an unknown or malformed id.
    let detail = hrefs_with(&html, "/resources/")[0].replace("&amp;", "&");
    let (status, page) = get(&app, &detail);
    assert_eq!(status, 200, "{detail}");
    assert!(page.contains("<dl class=\"facts\">") && page.contains("Source"));
    assert_eq!(get(&app, "/resources/0190c6b2-7d3e-7c41-9f6a-2b5d1e8a4c29").0, 404);
    assert_eq!(get(&app, "/resources/%3Cscript%3E").0, 404);
    let (status, about) = get(&app, "/about");
    assert_eq!(status, 200);
    for needle in ["国土数値情報", "Geolonia", "CC BY 4.0", "厚生労働省"] {
        assert!(about.contains(needle), "credits lack {needle}");
    }
    // What is kept where: nothing searched for on the server, the last pages on the device, and a
    // way to delete those (shown by the script once pages are saved).
    assert!(about.contains("サーバーの記録に残しません") && about.contains("この端末だけに保存します"));
    assert!(about.contains("<div id=\"forget-saved\" hidden>"), "the delete button starts hidden");
    // Assets are served from the binary.
    assert_eq!(app.get_raw("/assets/site.css").0, 200);
    assert_eq!(app.get_raw("/assets/site.js").0, 200);
}

#[test]
fn bad_input_is_a_clear_page_not_a_500() {
    let app = common::in_process();
    let (status, html) = get(&app, "/?q=x&radius_km=abc");
    assert_eq!(status, 400);
    assert!(html.contains("class=\"error\" role=\"alert\""), "{html}");
    let (status, _) = get(&app, &format!("/?q={}", enc(&"あ".repeat(500))));
    assert_eq!(status, 400);
}

/// The text of the page's error alert.
fn alert(html: &str) -> &str {
    let start = html.find("role=\"alert\">").map(|i| i + "role=\"alert\">".len()).unwrap_or_else(|| panic!("{html}"));
    &html[start..start + html[start..].find("</p>").unwrap()]
}

#[test]
fn error_messages_are_in_the_pages_language() {
    let app = common::in_process();
    for (query, expect) in [
        ("/?q=x&radius_km=abc".to_string(), "場所の範囲：読み取れませんでした"),
        (format!("/?near={}", enc("松元市")), "場所：見つかりませんでした"),
        ("/?kinds=bogus".to_string(), "種類：選べるものの中にありません"),
        (format!("/?near={}&lat=36.2&lon=137.9", enc("松本市")), "どちらか一つ"),
        (format!("/print?near={}&care=bogus", enc("松本市")), "医療的ケア：選べるものの中にありません"),
    ] {
        let (status, html) = get(&app, &query);
        assert!(status == 400 || status == 404, "{query}: {status}");
        let text = alert(&html);
        assert!(text.contains(expect), "{query}: {text}");
        assert!(!text.chars().any(|c| c.is_ascii_alphabetic()), "{query}: English in a Japanese message: {text}");
    }
    let (_, html) = get(&app, "/?kinds=bogus&lang=en");
    let text = alert(&html);
    assert!(text.contains("unknown kind") && !text.contains("種類"), "{text}");
}

#[test]
fn user_supplied_text_is_escaped() {
    let app = common::in_process();
    let mut r = tsunagu_sample::bundled().unwrap()[0].clone();
    r.id = tsunagu_model::ResourceId::from_source_id("page-escape-test");
    r.source.id = Some("page-escape-test".into());
    r.name = "【サンプル】<script>alert(1)</script> \"園\" & <b>".into();
    r.description = "<img src=x onerror=alert(2)>".into();
    app.runtime.block_on(app.directory.upsert(vec![r.clone()], "test")).unwrap();
    let (status, html) = get(&app, &format!("/?q={}&interpret=false", enc("alert")));
    assert_eq!(status, 200);
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &quot;園&quot; &amp; &lt;b&gt;"), "{html}");
    assert!(!html.contains("<script>alert"), "a name never becomes markup");
    let (_, page) = get(&app, &format!("/resources/{}", r.id));
    assert!(page.contains("&lt;img src=x onerror=alert(2)&gt;") && !page.contains("<img"));
    // The query itself is echoed escaped too.
    let (_, echoed) = get(&app, &format!("/?q={}", enc("\"><script>alert(3)</script>")));
    assert!(!echoed.contains("<script>alert(3)"));
}

#[test]
fn every_region_of_both_prefectures_renders_its_map_gap_table_and_csv() {
    let app = common::in_process();
    let g = tsunagu_places::Gazetteer::bundled();
    assert_eq!(g.regions().len(), 20);
    let (status, list) = get(&app, "/regions");
    assert_eq!(status, 200);
    for r in g.regions() {
        assert!(list.contains(&format!("href=\"/regions/{}\"", r.id)), "{} listed", r.id);
        let (status, html) = get(&app, &format!("/regions/{}", r.id));
        assert_eq!(status, 200, "{}", r.id);
        let members = g.region_codes(r).len();
        assert!(html.contains("<svg") && html.matches("<path d=\"M").count() >= 1, "{}: a map", r.id);
        assert!(html.contains("<circle"), "{}: resources as points", r.id);
        assert!(html.contains("<table class=\"gaps\">"), "{}: a gap table", r.id);
        assert_eq!(html.matches("<th scope=\"row\">").count(), tsunagu_model::CareType::ALL.len(), "{}", r.id);
        assert!(members >= 1);
        let (status, csv) = get(&app, &format!("/regions/{}/gaps.csv", r.id));
        assert_eq!(status, 200);
        assert_eq!(csv.lines().count(), 1 + tsunagu_model::CareType::ALL.len(), "{}", r.id);
        assert_eq!(get(&app, &format!("/regions/{}/transport.csv", r.id)).0, 200);
    }
    // "Where in 北信圏域 is there no short stay that accepts a tracheostomy?": zero cells are marked,
    // and the choropleth shades municipalities by count.
    let (status, html) = get(&app, &format!("/regions/{}?kind=short_stay&care=tracheostomy", enc("北信")));
    assert_eq!(status, 200);
    assert!(html.contains("<td class=\"zero\">0</td>"), "gaps are highlighted");
    assert!(html.contains("fill=\"#f4c7c3\""), "the choropleth marks municipalities with none");
    assert_eq!(get(&app, "/regions/nowhere").0, 404);
    // Names read in the page's language: 「長野県 松本圏域」, "Matsumoto region, Nagano".
    let (_, ja) = get(&app, "/regions/20-07?lang=ja");
    assert!(ja.contains("<h1>長野県 松本圏域</h1>"), "Japanese heading");
    let (_, en) = get(&app, "/regions/20-07?lang=en");
    assert!(en.contains("<h1>Matsumoto region, Nagano</h1>"), "English heading");
    let (_, list_en) = get(&app, "/regions?lang=en");
    assert!(list_en.contains("<h2>Saitama</h2>") && list_en.contains(">Hokushin region</a>"), "English list");
    assert!(
        list_en.contains(">Saitama City Area</a>") && !list_en.contains("圏域</a>"),
        "no Japanese suffix in English"
    );
    assert_eq!(get(&app, "/regions/20-01?care=nothing").0, 400);
    assert_eq!(get(&app, "/regions/20-01?kind=nothing").0, 400);
}

#[test]
fn the_nurse_visit_sheet_lists_the_nearest_with_phones_and_care_status() {
    let app = common::in_process();
    let (status, form) = get(&app, "/print");
    assert_eq!(status, 200);
    assert!(form.contains("name=\"near\""));
    let (status, html) = get(&app, &format!("/print?near={}&care=ventilator", enc("松本市")));
    assert_eq!(status, 200);
    assert!(html.contains("<table class=\"print\">"));
    let rows = html.matches("<tr><td>").count();
    assert!((1..=12).contains(&rows), "{rows} rows");
    assert!(html.contains("href=\"tel:"));
    assert!(html.contains("人工呼吸器"), "the care asked for is named");
    // Nearest first.
    let km: Vec<f64> = html
        .split("<td class=\"nowrap\">")
        .filter_map(|c| c.split("</td>").next()?.strip_suffix(" km"))
        .filter_map(|n| n.parse().ok())
        .collect();
    assert!(!km.is_empty() && km.windows(2).all(|w| w[0] <= w[1]), "{km:?}");
    assert_eq!(get(&app, &format!("/print?near={}", enc("松元市"))).0, 404);
    assert_eq!(get(&app, &format!("/print?near={}&care=bogus", enc("松本市"))).0, 400);
}

#[test]
fn a_record_page_has_directions_a_way_back_to_the_search_and_a_report_form_that_works() {
    let app = common::in_process();
    // From a results page, the record's link carries the search.
    let (_, results) = get(&app, &format!("/?q={}", enc("たん吸引できる保育園 松本")));
    let link = hrefs_with(&results, "/resources/")[0].replace("&amp;", "&");
    assert!(link.contains("back=%2F%3Fq%3D"), "{link}");
    let (status, html) = get(&app, &link);
    assert_eq!(status, 200);
    assert!(html.contains("href=\"/?q="), "the back link returns to the same search");
    assert!(html.contains("href=\"geo:") && html.contains("https://maps.gsi.go.jp/#16/"), "directions");
    assert!(html.contains("誤りを報告") && html.contains("action=\"/resources/"), "report form");
    // A back link to another site is never made.
    let id = link.split("/resources/").nth(1).unwrap().split('?').next().unwrap().to_string();
    let (_, html) = get(&app, &format!("/resources/{id}?back={}", enc("https://evil.example/")));
    assert!(!html.contains("evil.example\">") && !html.contains("href=\"https://evil"), "open redirect");
    // Without a phone number the page says so.
    let mut r = tsunagu_sample::bundled().unwrap()[3].clone();
    r.contact.phone = None;
    let app2 = common::in_process_with(vec![r.clone()]);
    let (_, html) = get(&app2, &format!("/resources/{}", r.id));
    assert!(html.contains("電話番号は登録されていません") && !html.contains("href=\"tel:"), "no empty call button");

    // The form stores a report through the reports API's rules.
    let uri = format!("/resources/{id}/report");
    let (status, html) = app.post_form(&uri, &[("kind", "closed")]);
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("ご報告ありがとうございます"), "{html}");
    let (status, html) = app.post_form(&uri, &[("kind", "other"), ("message", "  "), ("contact", "tel 0263")]);
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("value=\"other\" required checked") && html.contains("value=\"tel 0263\""), "kept");
    assert!(alert(&html).contains("内容：何が違うかを書いてください"), "{}", alert(&html));
    let (status, html) = app.post_form(&uri, &[("kind", "wrong"), ("message", "電話番号が違います"), ("lang", "en")]);
    assert_eq!(status, 200);
    assert!(html.contains("Thank you"), "{html}");
    let (status, _) = app.post_form("/resources/not-an-id/report", &[("kind", "closed")]);
    assert_eq!(status, 404);
    let q = tsunagu_store::ReportQuery { status: None, municipalities: None, limit: 100, offset: 0 };
    let stored = app.runtime.block_on(app.directory.store.reports(&q)).unwrap();
    assert_eq!(stored.len(), 2, "two reports stored: {stored:?}");
}
