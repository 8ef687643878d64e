//! The page: server-rendered HTML for families, with chips, filters, cards, details and
//! credits; every user-supplied text escaped.

mod common;

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
