//! The page's second pass (issue 22), over HTTP without a browser: filters as removable chips,
//! everyday words with a remembered やさしい日本語 mode, the print sheet, the coordinator's gap
//! table counted by service area, CSV downloads Excel opens, and the installable shell. The
//! browser half (layout, PDF pages, offline) is in tests/browser.rs.

use crate::common;

use common::enc;
use tsunagu_model::{CareType, Kind};

fn get(app: &common::InProcess, uri: &str) -> (u16, String) {
    let (status, body) = app.get_raw(uri);
    (status, String::from_utf8(body).expect("UTF-8 HTML"))
}

/// The chips of a results page: (label, remove link).
fn chips(html: &str) -> Vec<(String, Option<String>)> {
    let Some(list) = html.split("<ul class=\"chips\">").nth(1).and_then(|s| s.split("</ul>").next()) else {
        return Vec::new();
    };
    list.split("<li>")
        .skip(1)
        .map(|li| {
            let label = li.split("<span>").nth(1).and_then(|s| s.split("</span>").next()).unwrap_or("").to_string();
            let href = li.split("<a href=\"").nth(1).and_then(|s| s.split('"').next()).map(|h| h.replace("&amp;", "&"));
            (label, href)
        })
        .collect()
}

#[test]
fn filters_set_in_the_panel_become_chips_and_every_chip_removes_exactly_itself() {
    let app = common::in_process();
    let uri = format!(
        "/?q={}&care_types=gastrostomy&accessibility=elevator&radius_km=10&nurse_on=mon&has_vacancy=true&include_unconfirmed=false",
        enc("たん吸引できる保育園 松本市中央")
    );
    let (status, html) = get(&app, &uri);
    assert_eq!(status, 200);
    // The panel is closed once filters are applied (the results start on the first screen) and
    // says how many are set.
    assert!(html.contains("<details class=\"filters\">"), "the filter panel is closed");
    assert!(html.contains("（6件設定中）"), "the summary counts the filters set");
    let all = chips(&html);
    let labels: Vec<&str> = all.iter().map(|(l, _)| l.as_str()).collect();
    for want in [
        CareType::Gastrostomy.labels().ja,
        "エレベーター",
        "10 km以内",
        "看護師がいる曜日：月",
        "空きあり",
        "対応確認済みのみ",
        "保育所・認定こども園",
        "長野県松本市中央",
    ] {
        assert!(labels.contains(&want), "chip {want} in {labels:?}");
    }
    // Every chip has a remove link, and following it takes away that chip and no other.
    for (label, href) in &all {
        let href = href.as_deref().unwrap_or_else(|| panic!("chip {label} has no remove link"));
        let (status, after) = get(&app, href);
        assert_eq!(status, 200, "{href}");
        let left: Vec<String> = chips(&after).into_iter().map(|(l, _)| l).collect();
        assert!(!left.contains(label), "removing {label} via {href} left {left:?}");
        // A distance needs a place: taking the place away takes its distance too.
        let place = label == "長野県松本市中央";
        let others: Vec<&String> =
            all.iter().map(|(l, _)| l).filter(|l| *l != label && !(place && l.as_str() == "10 km以内")).collect();
        for o in others {
            assert!(left.contains(o), "removing {label} also removed {o}: {left:?}");
        }
    }
}

#[test]
fn everyday_words_by_default_and_a_remembered_easy_japanese_mode() {
    let app = common::in_process();
    let suction = CareType::SuctionOralNasal.labels();
    // Default: the filters say what parents know (吸引), not the やさしい wording.
    let (_, home) = get(&app, "/");
    assert!(home.contains(&format!(" {}<small>", suction.ja)), "everyday label in the filters");
    assert!(!home.contains(suction.easy_ja), "no やさしい日本語 by default");
    assert!(home.contains(">やさしい日本語</a>"), "a switch to やさしい日本語");
    // Switching sets a cookie; the next page without `lang` comes in やさしい日本語.
    let (status, headers, _) = app.get_with("/?lang=easy", &[]);
    assert_eq!(status, 200);
    let cookie = headers.get("set-cookie").and_then(|v| v.to_str().ok()).expect("a language cookie").to_string();
    assert!(cookie.starts_with("tsunagu_lang=easy;") && cookie.contains("SameSite=Lax"), "{cookie}");
    let pair = cookie.split(';').next().unwrap();
    let (_, _, body) = app.get_with(&format!("/?q={}", enc("訪問看護 松本市")), &[("cookie", pair)]);
    let easy = String::from_utf8(body).unwrap();
    assert!(easy.contains(suction.easy_ja), "the remembered mode uses やさしい日本語");
    assert!(easy.contains(">ふつうの日本語</a>"), "and offers the way back");
    assert!(easy.contains(Kind::HomeNursing.labels().easy_ja), "cards say the kind in やさしい日本語");
    // Asking for plain Japanese wins over the cookie and replaces it.
    let (_, headers, body) = app.get_with("/?lang=ja", &[("cookie", pair)]);
    let plain = String::from_utf8(body).unwrap();
    assert!(!plain.contains(suction.easy_ja));
    assert!(headers.get("set-cookie").and_then(|v| v.to_str().ok()).unwrap().starts_with("tsunagu_lang=ja;"));
    // A remembered English is English; a forged cookie value is ignored.
    let (_, _, body) = app.get_with("/", &[("cookie", "tsunagu_lang=en")]);
    assert!(String::from_utf8(body).unwrap().contains("<html lang=\"en\">"));
    let (status, _, body) = app.get_with("/", &[("cookie", "tsunagu_lang=<script>")]);
    assert_eq!(status, 200);
    assert!(String::from_utf8(body).unwrap().contains("<html lang=\"ja\">"));
}

#[test]
fn vacancies_have_a_unit_and_a_date_and_lists_join_with_the_japanese_comma() {
    let app = common::in_process();
    let (_, html) = get(&app, &format!("/?q={}", enc("短期入所 松本市")));
    let line = html.split("空き：").nth(1).and_then(|s| s.split("</p>").next()).expect("a vacancy line");
    assert!(line.contains("人（") && (line.contains("時点）") || line.contains("時点不明）")), "{line}");
    let (_, en) = get(&app, &format!("/?lang=en&q={}", enc("short stay matsumoto")));
    let line = en.split("Vacancies: ").nth(1).and_then(|s| s.split("</p>").next()).expect("a vacancy line");
    assert!(line.contains("place") && (line.contains("(as of ") || line.contains("(date unknown)")), "{line}");
    assert!(!html.contains("</a>, <a"), "Japanese lists never join with \", \"");
}

#[test]
fn the_print_sheet_leads_with_first_contacts_and_lists_twelve_with_address_and_qr() {
    let app = common::in_process();
    let (status, html) = get(&app, &format!("/print?near={}&care=ventilator&kinds=home_nursing", enc("松本市")));
    assert_eq!(status, 200);
    let first = html.split("最初の相談先").nth(1).expect("a 最初の相談先 block");
    assert!(first.find("コーディネーター").is_some(), "the 圏域 coordinator");
    assert!(first.find("支援センター").is_some(), "the prefecture's centre");
    assert!(
        html.find("最初の相談先").unwrap() < html.find("<table class=\"print\">").unwrap(),
        "first contacts come before the list"
    );
    let rows = html.split("<table class=\"print\">").nth(1).unwrap().matches("<tr>").count() - 1;
    assert_eq!(rows, 12, "twelve rows");
    assert_eq!(html.matches("<td class=\"qr\"><svg").count(), 12, "a QR code per row");
    assert!(html.matches("class=\"address\"").count() >= 10, "addresses on the rows");
    assert!(!html.contains("対応可（確認済み）"), "no column repeating 対応可 on every row");
    assert!(html.contains("class=\"noprint\""), "the print button is marked not to print");
    // A results page links to the sheet for the same search, and that link works.
    let (_, results) = get(&app, &format!("/?q={}", enc("訪問看護 人工呼吸器 松本市中央")));
    let href = results
        .split("<p class=\"print-link\"><a href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("この結果を印刷")
        .replace("&amp;", "&");
    assert!(href.starts_with("/print?"), "{href}");
    let (status, sheet) = get(&app, &href);
    assert_eq!(status, 200);
    assert!(sheet.contains("最初の相談先") && sheet.contains("人工呼吸器"), "the sheet prints that search");
    // The sheet's own bad input: a message in the page's language.
    let (status, bad) = get(&app, &format!("/print?near={}&care=bogus", enc("松本市")));
    assert_eq!(status, 400);
    assert!(
        bad.contains("role=\"alert\"") && bad.contains("医療的ケア：") && !bad.contains("unknown"),
        "Japanese error"
    );
}

/// Every live, listed record the in-process app serves.
fn records() -> Vec<tsunagu_model::Resource> {
    tsunagu_sample::bundled().expect("samples").into_iter().filter(|r| r.source.not_listed_since.is_none()).collect()
}

fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).expect("UTF-8").strip_prefix('\u{feff}').expect("a BOM").to_string();
    text.lines().map(|l| l.split(',').map(str::to_string).collect()).collect()
}

#[test]
fn the_gap_table_counts_what_serves_each_municipality_as_a_brute_force_count_does() {
    let app = common::in_process();
    let g = tsunagu_places::Gazetteer::bundled();
    let region = g.region("20-07").expect("松本圏域");
    let all = records();
    for kind in [None, Some(Kind::HomeNursing), Some(Kind::Transport)] {
        let uri = match kind {
            None => "/regions/20-07/gaps.csv".to_string(),
            Some(k) => format!("/regions/20-07/gaps.csv?kind={}", k.code()),
        };
        let (status, body) = app.get_raw(&uri);
        assert_eq!(status, 200, "{uri}");
        let rows = csv_rows(&body);
        let header = &rows[0];
        let codes: Vec<u32> =
            header.iter().skip(2).step_by(2).map(|h| h.split(' ').next().unwrap().parse().expect("code")).collect();
        assert_eq!(codes.len(), g.region_codes(region).len(), "a pair of columns per municipality");
        for row in &rows[1..] {
            let care: CareType = row[0].parse().expect("care code");
            for (i, code) in codes.iter().enumerate() {
                let m = g.municipality(tsunagu_model::MunicipalityCode::from_u32(*code).unwrap()).unwrap();
                let confirming = all.iter().filter(|r| kind.is_none_or(|k| r.kind == k) && r.care_types.contains(care));
                let (mut serves, mut located) = (0usize, 0usize);
                for r in confirming {
                    let here = r.municipality_code == m.code;
                    let comes = tsunagu_places::service::covers(g, &r.service_area, r.location, m.point, Some(m.code));
                    serves += usize::from(here || comes);
                    located += usize::from(here);
                }
                let got: (usize, usize) = (row[2 + 2 * i].parse().unwrap(), row[3 + 2 * i].parse().unwrap());
                assert_eq!(got, (serves, located), "{uri}: {} × {} (serves, located)", care.code(), m.name);
            }
        }
    }
    // Somewhere a resource serves a municipality it is not located in: the columns differ.
    let (_, body) = app.get_raw("/regions/20-07/gaps.csv?kind=home_nursing");
    let rows = csv_rows(&body);
    assert!(
        rows[1..].iter().any(|r| (2..r.len()).step_by(2).any(|i| r[i] != r[i + 1])),
        "visiting nurses reach villages they are not located in"
    );
}

#[test]
fn csv_downloads_open_in_japanese_excel() {
    let app = common::in_process();
    for uri in ["/regions/20-07/gaps.csv?kind=short_stay", "/regions/20-07/transport.csv", "/regions/11-01/gaps.csv"] {
        let (status, headers, body) = app.get_with(uri, &[]);
        assert_eq!(status, 200, "{uri}");
        assert!(body.starts_with("\u{feff}".as_bytes()), "{uri} starts with a BOM");
        let disposition = headers.get("content-disposition").unwrap().to_str().unwrap();
        assert!(disposition.contains("filename*=UTF-8''"), "{disposition}");
        // One language per header row.
        let text = String::from_utf8(body.clone()).unwrap();
        let header = text.trim_start_matches('\u{feff}').lines().next().unwrap();
        assert!(!header.chars().any(|c| c.is_ascii_lowercase()), "a Japanese header row: {header}");
        // Python's csv reads it back with utf-8-sig, every row as wide as the header.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, &body).unwrap();
        let out = std::process::Command::new("python3")
            .arg("-c")
            .arg(
                "import csv,sys\nrows=list(csv.reader(open(sys.argv[1],encoding='utf-8-sig',newline='')))\n\
                 assert not rows[0][0].startswith('\\ufeff'), rows[0][0]\n\
                 assert all(len(r)==len(rows[0]) for r in rows), [len(r) for r in rows]\nprint(len(rows), rows[0][0])",
            )
            .arg(&path)
            .output()
            .expect("python3");
        assert!(out.status.success(), "{uri}: {}", String::from_utf8_lossy(&out.stderr));
    }
    // The filter is in the file's name; English gives an English header; cp932 decodes.
    let (_, headers, _) = app.get_with("/regions/20-07/gaps.csv?kind=short_stay&count=located", &[]);
    let d = headers.get("content-disposition").unwrap().to_str().unwrap().to_string();
    assert!(d.contains("gaps-20-07-short_stay-located.csv"), "{d}");
    let encoded = format!("n={}", d.split("UTF-8''").nth(1).unwrap());
    let name = form_urlencoded::parse(encoded.as_bytes()).next().unwrap().1.into_owned();
    assert_eq!(name, "松本圏域_ケア別資源数_短期入所（ショートステイ・レスパイト）_所在.csv");
    let (_, _, en) = app.get_with("/regions/20-07/gaps.csv?lang=en", &[]);
    let en = String::from_utf8(en).unwrap();
    let header = en.trim_start_matches('\u{feff}').lines().next().unwrap();
    assert!(header.starts_with("care_type,care,20202 Matsumoto (serves)"), "{header}");
    assert!(!header.chars().any(|c| ('\u{3040}'..='\u{9fff}').contains(&c)), "no Japanese in the English header");
    let (status, headers, sjis) = app.get_with("/regions/20-07/transport.csv?encoding=cp932", &[]);
    assert_eq!(status, 200);
    assert!(headers.get("content-type").unwrap().to_str().unwrap().contains("shift_jis"));
    let (decoded, _, bad) = encoding_rs::SHIFT_JIS.decode(&sjis);
    assert!(!bad && decoded.starts_with("市区町村コード,市区町村"), "{}", &decoded[..40]);
    // Bad parameters are problems naming the field.
    for (uri, field) in [
        ("/regions/20-07/gaps.csv?encoding=latin1", "encoding"),
        ("/regions/20-07/gaps.csv?count=all", "count"),
        ("/regions/20-07/transport.csv?encoding=x", "encoding"),
    ] {
        let (status, headers, body) = app.get_with(uri, &[]);
        assert_eq!(status, 400, "{uri}");
        assert!(headers.get("content-type").unwrap().to_str().unwrap().starts_with("application/problem+json"));
        assert!(String::from_utf8(body).unwrap().contains(&format!("\"name\":\"{field}\"")), "{uri}");
    }
}

/// A PNG's width and height, from its IHDR chunk.
fn png_size(b: &[u8]) -> (u32, u32) {
    assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    (be(16), be(20))
}

#[test]
fn the_page_is_installable_and_has_an_offline_shell() {
    let app = common::in_process();
    let (status, headers, body) = app.get_with("/manifest.webmanifest", &[]);
    assert_eq!(status, 200);
    assert!(headers.get("content-type").unwrap().to_str().unwrap().starts_with("application/manifest+json"));
    let m: serde_json::Value = serde_json::from_slice(&body).expect("the manifest is JSON");
    for field in ["name", "short_name", "start_url", "scope", "display", "theme_color", "background_color", "icons"] {
        assert!(m.get(field).is_some(), "manifest has {field}");
    }
    assert_eq!(m["display"], "standalone");
    let icons = m["icons"].as_array().unwrap();
    for want in ["192x192", "512x512"] {
        let icon = icons.iter().find(|i| i["sizes"] == want && i["type"] == "image/png").expect(want);
        let (status, headers, png) = app.get_with(icon["src"].as_str().unwrap(), &[]);
        assert_eq!(status, 200);
        assert_eq!(headers.get("content-type").unwrap(), "image/png");
        let (w, h) = png_size(&png);
        assert_eq!(format!("{w}x{h}"), want, "the icon is the size the manifest says");
    }
    assert!(icons.iter().any(|i| i["purpose"] == "maskable"));
    let (_, home) = get(&app, "/");
    assert!(home.contains("<link rel=\"manifest\" href=\"/manifest.webmanifest\">"));
    // The service worker: served from the root (its scope), not cached by the HTTP cache, and
    // keeping no API answers, survey forms or staff pages.
    let (status, headers, sw) = app.get_with("/sw.js", &[]);
    assert_eq!(status, 200);
    assert!(headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/javascript"));
    assert_eq!(headers.get("cache-control").unwrap(), "no-cache");
    let sw = String::from_utf8(sw).unwrap();
    assert!(!sw.contains("__VERSION__"), "the cache is versioned");
    assert!(sw.contains("'/v1/'") && !sw.contains("/survey"), "the API and survey forms are not kept");
    let (status, offline) = get(&app, "/offline");
    assert_eq!(status, 200);
    assert!(offline.contains("電波がありません") && offline.contains("id=\"saved-pages\""));
}
