//! The page in a real browser: headless Chromium driven over WebDriver (chromedriver, W3C
//! protocol, spoken directly with a small client below). A parent types a colloquial query on a
//! phone-sized window, sees chips and results, removes a chip, switches to English and opens a
//! detail page; the main pages pass axe-core with no serious or critical violations.
//! Screenshots at 375 px and 1280 px go to `target/test-artifacts/screenshots/`.
//!
//! `scripts/test.sh` installs Chromium, chromedriver, a Japanese font and axe-core when absent
//! (`scripts/browser-setup.sh`) and passes axe's path in `TSUNAGU_AXE_JS`.

use crate::common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    child: Child,
    base: String,
    session: String,
    http: reqwest::blocking::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.http.delete(format!("{}/session/{}", self.base, self.session)).send();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    fn start() -> Driver {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (run ./scripts/browser-setup.sh)");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{base}/status")).send().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=ja"]}
        }}});
        let res: Value = http.post(format!("{base}/session")).json(&caps).send().unwrap().json().unwrap();
        let session = res["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {res}")).to_string();
        Driver { child, base, session, http }
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        self.try_call(method, path, body).unwrap_or_else(|e| panic!("WebDriver {path}: {e}"))
    }
    /// The command's value, or WebDriver's error object.
    fn try_call(&self, method: reqwest::Method, path: &str, body: Value) -> Result<Value, Value> {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let req = self.http.request(method.clone(), url);
        let req = if method == reqwest::Method::GET { req } else { req.json(&body) };
        let res: Value = req.send().unwrap().json().unwrap();
        if res["value"].get("error").is_some() { Err(res["value"].clone()) } else { Ok(res["value"].clone()) }
    }
    fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, body)
    }
    fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, Value::Null)
    }
    fn size(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({"width": width, "height": height}));
    }
    fn go(&self, url: &str) {
        self.post("/url", json!({"url": url}));
    }
    fn find(&self, css: &str) -> String {
        self.post("/element", json!({"using": "css selector", "value": css}))[ELEMENT].as_str().unwrap().to_string()
    }
    /// Click a link or submit button and wait until the new page has loaded: a click does not
    /// always wait for the navigation it starts, and reading the old page is a flaky test.
    fn click(&self, css: &str) {
        self.js("window.__before_click = true; return null;");
        let e = self.find(css);
        self.post(&format!("/element/{e}/click"), json!({}));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            // While the page is being replaced a script may fail to run: that is "not yet".
            let script = "return !window.__before_click && document.readyState === 'complete';";
            let loaded = self.try_call(reqwest::Method::POST, "/execute/sync", json!({"script": script, "args": []}));
            if loaded == Ok(json!(true)) {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "clicking {css} did not load a new page");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.post(&format!("/element/{e}/value"), json!({"text": text}));
    }
    fn js(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": []}))
    }
    fn texts(&self, css: &str) -> Vec<String> {
        let v = self.js(&format!(
            "return Array.from(document.querySelectorAll({})).map(e => e.textContent.trim());",
            json!(css)
        ));
        v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
    }
    fn screenshot(&self, name: &str) -> PathBuf {
        let b64 = self.get("/screenshot");
        let png = base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap()).unwrap();
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }
    /// axe-core violations of serious or critical impact on the current page.
    fn serious_violations(&self, axe: &str) -> Vec<String> {
        self.js(&format!("{axe}\nreturn true;"));
        let out = self.post(
            "/execute/async",
            json!({"script": "const done = arguments[arguments.length - 1];\
                axe.run(document).then(r => done(JSON.stringify(r.violations.map(v => \
                ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)})))))\
                .catch(e => done('ERROR ' + e));", "args": []}),
        );
        let text = out.as_str().unwrap();
        assert!(!text.starts_with("ERROR"), "{text}");
        let all: Vec<Value> = serde_json::from_str(text).unwrap();
        all.iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .map(|v| v.to_string())
            .collect()
    }
}

fn axe_source() -> String {
    let path = std::env::var("TSUNAGU_AXE_JS").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/browser-tools/node_modules/axe-core/axe.min.js").into()
    });
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("axe-core at {path}: {e} (run ./scripts/browser-setup.sh)"))
}

#[test]
fn a_parent_on_a_phone_finds_a_suction_daycare_near_matsumoto_and_the_pages_are_accessible() {
    let server = common::start(&[]);
    let axe = axe_source();
    let d = Driver::start();
    d.size(375, 900);
    d.go(&format!("{}/", server.base));
    // Tap 1: the search box; type; tap 2: search.
    d.type_into("#q", "たん吸引できる保育園 松本駅");
    d.click("form.search button[type=submit]");
    let chips = d.texts(".chips li span");
    assert!(chips.iter().any(|c| c.contains("たん吸引")), "{chips:?}");
    assert!(chips.iter().any(|c| c.contains("保育所")), "{chips:?}");
    let names = d.texts("ol.cards h2 a");
    assert!(!names.is_empty(), "results are shown");
    // 「松本駅」 is 松本 (the station is by the city office): found as asked, nothing relaxed.
    let relaxed = d.texts("main > p.notice");
    assert!(relaxed.is_empty(), "{relaxed:?}");
    let kinds = d.texts("ol.cards .badge.kind");
    assert!(kinds.iter().all(|k| k.contains("保育所")), "{kinds:?}");
    let shot = d.screenshot("search-375");
    let width = d.js("return document.documentElement.scrollWidth;").as_u64().unwrap();
    assert!(width <= 375, "no horizontal scrolling at 375 px (page is {width} px wide)");
    let mut problems = Vec::new();
    problems.extend(d.serious_violations(&axe).into_iter().map(|v| format!("results: {v}")));
    // The narrowest phones: still no horizontal scrolling at 320 px.
    d.size(320, 900);
    let width = d.js("return document.documentElement.scrollWidth;").as_u64().unwrap();
    assert!(width <= 320, "no horizontal scrolling at 320 px (page is {width} px wide)");
    d.screenshot("search-320");
    d.size(375, 900);

    // The filters open, with a facility asked for: no horizontal scrolling, and the notice.
    d.go(&format!("{}/?q={}&accessibility=power_outlet", server.base, common::enc("人工呼吸器 訪問看護 松本市中央")));
    let width = d.js("return document.documentElement.scrollWidth;").as_u64().unwrap();
    let wide = d.js(
        "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)\
         .map(e => e.tagName + '.' + e.className + '#' + e.id + ':' + Math.round(e.getBoundingClientRect().right)).slice(0, 8).join(' ');",
    );
    assert!(width <= 375, "no horizontal scrolling with the filters open (page is {width} px wide: {wide})");
    assert_eq!(d.js("return document.querySelector('#access-power_outlet').checked;"), true);
    assert!(d.texts("main p.notice").iter().any(|t| t.contains("登録されているところだけ")));
    problems.extend(d.serious_violations(&axe).into_iter().map(|v| format!("filters: {v}")));
    d.screenshot("filters-375");
    d.go(&format!("{}/?q={}", server.base, common::enc("たん吸引できる保育園 松本駅")));

    // Remove the kind chip: the search widens beyond daycare.
    d.click(".chips li:nth-child(2) a");
    let chips_after = d.texts(".chips li span");
    assert!(chips_after.len() < chips.len(), "{chips:?} → {chips_after:?}");

    // English, then a detail page.
    d.click("header.site nav a[hreflang=en]");
    assert_eq!(d.js("return document.documentElement.lang;"), "en");
    assert!(d.texts(".summary").iter().any(|s| s.contains("found")));
    d.click("ol.cards h2 a");
    assert!(!d.texts("dl.facts dt").is_empty(), "the detail page lists the facts");
    d.screenshot("detail-375");
    problems.extend(d.serious_violations(&axe).into_iter().map(|v| format!("detail: {v}")));

    // Wide pages: the family page, a coordinator map with gaps, the print sheet, the credits.
    d.size(1280, 1000);
    for (name, path) in [
        ("home-1280", "/".to_string()),
        ("region-1280", format!("/regions/{}?kind=short_stay&care=tracheostomy", common::enc("北信"))),
        ("print-1280", format!("/print?near={}&care=ventilator", common::enc("松本市"))),
        ("about-1280", "/about".to_string()),
    ] {
        d.go(&format!("{}{path}", server.base));
        d.screenshot(name);
        problems.extend(d.serious_violations(&axe).into_iter().map(|v| format!("{path}: {v}")));
    }
    println!("screenshots in {}", shot.parent().unwrap().display());
    assert!(problems.is_empty(), "axe-core serious/critical violations:\n{}", problems.join("\n"));
}

#[test]
fn a_provider_answers_the_survey_on_a_phone_with_two_taps_per_care_type() {
    let server = common::start(&[]);
    let axe = axe_source();
    let out = Command::new(common::BIN)
        .arg("--data-dir")
        .arg(server.data_dir())
        .args(["keys", "create", "--role", "editor", "--name", "ブラウザ試験 調査"])
        .output()
        .unwrap();
    let key = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let http = reqwest::blocking::Client::new();
    let c: Value = http
        .post(format!("{}/v1/surveys", server.base))
        .header("Authorization", format!("Bearer {key}"))
        .json(&json!({"name": "ブラウザ試験 調査", "target": {"kinds": ["short_stay"], "regions": ["20-07"]}, "deadline": "2099-01-31"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id = c["id"].as_str().unwrap();
    let inv: Value = http
        .post(format!("{}/v1/surveys/{id}/invitations", server.base))
        .header("Authorization", format!("Bearer {key}"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let url = inv["invitations"][0]["form_url"].as_str().unwrap().to_string();

    let d = Driver::start();
    d.size(375, 900);
    d.go(&url);
    let timing = d.js("const n = performance.getEntriesByType('navigation')[0]; \
         return {ms: n.domComplete - n.startTime, bytes: n.encodedBodySize};");
    println!(
        "survey form at 375 px: rendered in {:.0} ms, {} bytes of HTML",
        timing["ms"].as_f64().unwrap(),
        timing["bytes"]
    );
    let width = d.js("return document.documentElement.scrollWidth;").as_u64().unwrap();
    assert!(width <= 375, "no horizontal scrolling at 375 px (page is {width} px wide)");
    let mut problems: Vec<String> = d.serious_violations(&axe).into_iter().map(|v| format!("form: {v}")).collect();
    d.screenshot("survey-form-375");
    // Two taps per care type: the answer, then who does it.
    for care in ["suction_oral_nasal", "gastrostomy", "ventilator"] {
        let fs = format!("fieldset[id='f-care.{care}']");
        let e = d.find(&format!("{fs} input[value=can]"));
        d.post(&format!("/element/{e}/click"), json!({}));
        let e = d.find(&format!("{fs} input[value=nurse]"));
        d.post(&format!("/element/{e}/click"), json!({}));
    }
    d.click("button[value=submit]");
    let notices = d.texts("p.notice");
    assert!(notices.iter().any(|n| n.contains("提出しました")), "{notices:?}");
    d.screenshot("survey-submitted-375");
    problems.extend(d.serious_violations(&axe).into_iter().map(|v| format!("submitted: {v}")));
    let q: Value = http
        .get(format!("{}/v1/surveys/{id}/responses", server.base))
        .header("Authorization", format!("Bearer {key}"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let care = &q["responses"][0]["answers"]["care"];
    for c in ["suction_oral_nasal", "gastrostomy", "ventilator"] {
        assert_eq!(care[c], json!({"answer": "can", "by": ["nurse"]}), "{q}");
    }
    // やさしい日本語 and English; the letters print at desk width.
    d.go(&format!("{url}?lang=easy"));
    assert!(d.texts("h1").iter().any(|h| h.contains("しらべ")));
    d.screenshot("survey-form-easy-375");
    d.size(1280, 1000);
    d.go(&format!("{url}?lang=en"));
    assert_eq!(d.js("return document.documentElement.lang;"), "en");
    problems.extend(d.serious_violations(&axe).into_iter().map(|v| format!("form en: {v}")));
    d.screenshot("survey-form-en-1280");
    // The centre signs in and sees the dashboard with the answer to review.
    // The form was last shown in English, and the site remembers that: the centre asks for Japanese.
    d.go(&format!("{}/login?lang=ja", server.base));
    d.type_into("#key", &key);
    d.click("form.search button[type=submit]");
    d.go(&format!("{}/surveys/{id}", server.base));
    assert!(d.texts("h2").iter().any(|h| h.contains("確認待ちの回答 (1)")), "{:?}", d.texts("h2"));
    d.screenshot("survey-dashboard-1280");
    problems.extend(d.serious_violations(&axe).into_iter().map(|v| format!("dashboard: {v}")));
    assert!(problems.is_empty(), "axe-core serious/critical violations:\n{}", problems.join("\n"));
}

impl Driver {
    /// The page's width in CSS pixels, and the elements that stick out of the window, if any.
    fn overflow(&self) -> (u64, String) {
        let width = self.js("return document.documentElement.scrollWidth;").as_u64().unwrap();
        let wide = self.js(
            "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)\
             .map(e => e.tagName + '.' + e.className + '#' + e.id + ':' + Math.round(e.getBoundingClientRect().right)).slice(0, 6).join(' ');",
        );
        (width, wide.as_str().unwrap_or("").to_string())
    }
    /// Wait until a script returns true (at most 10 s).
    fn wait_for(&self, script: &str, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.try_call(reqwest::Method::POST, "/execute/sync", json!({"script": script, "args": []}))
            != Ok(json!(true))
        {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    /// A Chrome DevTools command, through chromedriver.
    fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.post("/goog/cdp/execute", json!({"cmd": cmd, "params": params}))
    }
    /// The page printed to PDF on A4 (WebDriver "Print Page"), as bytes.
    fn print_pdf(&self) -> Vec<u8> {
        let b64 = self.post(
            "/print",
            json!({"page": {"width": 21.0, "height": 29.7}, "margin": {"top": 0.9, "bottom": 0.9, "left": 1.0, "right": 1.0}, "background": true}),
        );
        base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap()).unwrap()
    }
}

/// Pages in a PDF: its page objects (`/Type /Page`, not `/Pages`).
fn pdf_pages(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    text.match_indices("/Type")
        .filter(|(i, _)| {
            text[i + 5..].trim_start().starts_with("/Page") && !text[i + 5..].trim_start().starts_with("/Pages")
        })
        .count()
}

#[test]
fn the_second_pass_screens_fit_phones_and_desks_print_on_one_page_and_work_offline() {
    let server = common::start(&[]);
    let axe = axe_source();
    let d = Driver::start();
    let mut problems = Vec::new();
    let results_q = format!("/?q={}", common::enc("たん吸引できる保育園 松本市中央"));

    // 1. No horizontal scrolling at 320, 375 and 1280 px, in Japanese and English, with the
    //    filter panel open.
    for width in [320u32, 375, 1280] {
        d.size(width, 900);
        for lang in ["", "&lang=en", "&lang=easy"] {
            d.go(&format!("{}{results_q}{lang}", server.base));
            d.js("document.querySelector('details.filters').open = true; return null;");
            let (w, wide) = d.overflow();
            assert!(w <= u64::from(width), "{width} px{lang}: the page is {w} px wide ({wide})");
        }
        // The print sheet and a region page on the same screen.
        for path in [
            format!("/print?near={}&kinds=home_nursing&care=ventilator", common::enc("松本市")),
            "/regions/20-01?lang=en".to_string(),
        ] {
            d.go(&format!("{}{path}", server.base));
            let (w, wide) = d.overflow();
            assert!(w <= u64::from(width), "{width} px {path}: the page is {w} px wide ({wide})");
        }
    }
    d.size(375, 900);
    d.go(&format!("{}/print?near={}&kinds=home_nursing&care=ventilator", server.base, common::enc("松本市")));
    d.screenshot("print-sheet-375");
    d.size(375, 900);
    d.go(&format!("{}{results_q}&lang=en", server.base));
    d.js("document.querySelector('details.filters').open = true; return null;");
    d.screenshot("filters-open-en-375");
    problems.extend(d.serious_violations(&axe).into_iter().map(|v| format!("filters open (en): {v}")));

    // 2. Filters applied on a phone: the panel closes, the choices are chips, and the first
    //    result is on the first screen.
    d.size(375, 812);
    // The last page asked for English, and the site remembers it: back to Japanese.
    d.go(&format!("{}/?lang=ja", server.base));
    d.go(&format!("{}/?q={}", server.base, common::enc("訪問看護 松本市中央")));
    assert_eq!(d.js("return document.documentElement.lang;"), "ja");
    d.js("document.querySelector('details.filters').open = true; return null;");
    for id in ["#care-ventilator", "#care-gastrostomy"] {
        let e = d.find(id);
        d.post(&format!("/element/{e}/click"), json!({}));
    }
    d.click("details.filters button[type=submit]");
    assert_eq!(d.js("return document.querySelector('details.filters').open;"), false, "the panel closed");
    let chips = d.texts(".chips li span");
    for want in ["人工呼吸器の管理", "胃ろう・腸ろうからの経管栄養"] {
        assert!(chips.iter().any(|c| c == want), "{want} in {chips:?}");
    }
    let top = d.js("return document.querySelector('ol.cards li').getBoundingClientRect().top;").as_f64().unwrap();
    assert!(top < 812.0, "the first result starts at {top} px, within the first screen");
    let target =
        d.js("return Math.min(...[...document.querySelectorAll('.chips a')].map(a => Math.min(a.offsetWidth, a.offsetHeight)));");
    assert!(target.as_f64().unwrap() >= 44.0, "chip remove targets are at least 44 px ({target})");
    d.screenshot("filters-applied-375");
    problems.extend(d.serious_violations(&axe).into_iter().map(|v| format!("filters applied: {v}")));

    // 3. Every chip can be removed, one after another, until none is left.
    let mut left = d.texts(".chips li span").len();
    assert!(left >= 4, "{left} chips");
    while left > 0 {
        d.click(".chips li a");
        let now = d.texts(".chips li span").len();
        assert!(now < left, "removing a chip left {now} of {left}");
        left = now;
    }

    // 4. やさしい日本語 is a mode, remembered: switched on once, it stays on.
    d.go(&format!("{}{results_q}", server.base));
    d.click("header.site nav a:first-child");
    assert!(d.texts("header.site nav a").iter().any(|t| t == "ふつうの日本語"));
    d.go(&format!("{}/?q={}", server.base, common::enc("訪問看護 松本市")));
    let kinds = d.texts("ol.cards .badge.kind");
    assert!(kinds.iter().all(|k| k.contains("かんごし")), "remembered: {kinds:?}");
    d.screenshot("easy-375");
    problems.extend(d.serious_violations(&axe).into_iter().map(|v| format!("easy: {v}")));
    d.click("header.site nav a:first-child");
    assert!(d.texts("header.site nav a").iter().any(|t| t == "やさしい日本語"));

    // 5. As-you-type suggestions: type, pick one with the keyboard, and the word is completed.
    d.go(&format!("{}/", server.base));
    d.type_into("#q", "胃ろ");
    d.wait_for(
        "const l = document.getElementById('q-suggestions'); return !l.hidden && l.children.length > 0;",
        "suggestions",
    );
    assert_eq!(d.js("return document.getElementById('q').getAttribute('aria-expanded');"), "true");
    d.screenshot("suggest-375");
    problems.extend(d.serious_violations(&axe).into_iter().map(|v| format!("suggestions: {v}")));
    d.type_into("#q", "\u{E015}\u{E007}");
    let typed = d.js("return document.getElementById('q').value;").as_str().unwrap().to_string();
    assert!(typed.ends_with(' ') && typed.trim() != "胃ろ", "a suggestion was taken: {typed:?}");
    assert_eq!(d.js("return document.getElementById('q-suggestions').hidden;"), true);

    // 6. The print sheet: 12 rows on one A4 page, the button not printed, phones and dates
    //    unbroken, first contacts on top.
    d.size(1280, 1000);
    d.go(&format!("{}/print?near={}&kinds=home_nursing&care=ventilator", server.base, common::enc("松本市")));
    assert_eq!(d.js("return document.querySelectorAll('table.print tbody tr').length;"), 12);
    assert!(d.texts(".first-contacts li").len() >= 2, "first contacts: the coordinator and the centre");
    d.screenshot("print-sheet-1280");
    problems.extend(d.serious_violations(&axe).into_iter().map(|v| format!("print: {v}")));
    let pdf = d.print_pdf();
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts/screenshots");
    std::fs::write(dir.join("print-sheet.pdf"), &pdf).unwrap();
    assert_eq!(pdf_pages(&pdf), 1, "12 rows fit one A4 page");
    d.cdp("Emulation.setEmulatedMedia", json!({"media": "print"}));
    assert_eq!(d.js("return getComputedStyle(document.getElementById('print')).display === 'none' || getComputedStyle(document.querySelector('.noprint')).display === 'none';"), true, "the print button is not printed");
    let broken = d.js(
        "return [...document.querySelectorAll('table.print td.nowrap, .first-contacts a.tel')]\
         .filter(e => e.getClientRects().length > 1 || e.scrollWidth > e.clientWidth + 1 && e.tagName === 'TD').map(e => e.textContent).slice(0, 5);",
    );
    assert_eq!(broken, json!([]), "phone numbers, distances and dates do not break");
    d.cdp("Emulation.setEmulatedMedia", json!({"media": ""}));

    // 7. The coordinator's map and gap table (kinds told apart, a legend, a scale bar).
    d.go(&format!("{}/regions/20-07", server.base));
    let markers = d.js(
        "const sig = [...document.querySelectorAll('ul.legend svg.marker')].map(s => { const e = s.children[1];\
         return e.tagName + e.getAttribute('fill') + (e.tagName === 'path' ? (e.getAttribute('d').match(/L/g) || []).length : ''); });\
         return new Set(sig).size === document.querySelectorAll('ul.legend li').length && sig.length > 8;",
    );
    assert_eq!(markers, true, "every kind in the legend has its own marker");
    assert!(
        d.js("return document.querySelectorAll('figure.map text.muni').length;").as_u64().unwrap() >= 8,
        "municipality labels"
    );
    assert!(d.texts("figure.map .scale text").iter().any(|t| t.ends_with(" km")), "a scale bar");
    d.screenshot("region-map-1280");
    problems.extend(d.serious_violations(&axe).into_iter().map(|v| format!("region: {v}")));

    // 8. Page weight: the decoded sizes of the page and what it loads (the transfer sizes here go
    //    through the service worker; the compressed sizes are in the closing note, from curl).
    d.size(375, 812);
    d.go(&format!("{}{results_q}", server.base));
    let weight = d.js(
        "const n = performance.getEntriesByType('navigation')[0]; const r = performance.getEntriesByType('resource');\
         return {html: n.decodedBodySize, assets: r.map(e => [e.name.replace(location.origin, ''), e.decodedBodySize])};",
    );
    println!("page weight (results at 375 px): {weight}");

    // 9. Installable, and offline: the service worker keeps the pages opened and shows them,
    //    marked as saved, once the server is gone.
    d.wait_for(
        "return !!navigator.serviceWorker && !!navigator.serviceWorker.controller;",
        "a controlling service worker",
    );
    let manifest = d.js("return document.querySelector('link[rel=manifest]').href;");
    assert!(manifest.as_str().unwrap().ends_with("/manifest.webmanifest"));
    d.go(&format!("{}{results_q}", server.base));
    d.wait_for("return caches.keys().then(k => k.length > 0) && true;", "caches");
    d.wait_for("return document.readyState === 'complete';", "the page");
    // Give the worker a moment to store the page it just served.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = d.post(
            "/execute/async",
            json!({"script": "const done = arguments[arguments.length - 1]; caches.keys().then(ns => Promise.all(ns.filter(n => n.startsWith('pages-')).map(n => caches.open(n).then(c => c.keys())))).then(ks => done([].concat(...ks).map(k => k.url)));", "args": []}),
        );
        if out.as_array().is_some_and(|a| a.iter().any(|u| u.as_str().unwrap_or("").contains("q="))) {
            break;
        }
        assert!(Instant::now() < deadline, "the results page was not kept: {out}");
        std::thread::sleep(Duration::from_millis(200));
    }
    server.stop();
    d.go(&format!("{}{results_q}", server.base));
    assert!(d.texts("p.notice.offline").iter().any(|t| t.contains("電波がありません")), "marked as a saved copy");
    assert!(!d.texts("ol.cards h2 a").is_empty(), "the last results are readable offline");
    assert!(!d.texts(".first-contacts li").is_empty(), "and so is 最初の相談先");
    d.screenshot("offline-results-375");
    problems.extend(d.serious_violations(&axe).into_iter().map(|v| format!("offline results: {v}")));
    d.go(&format!("{}/?q={}", server.base, common::enc("まだ開いていない検索")));
    assert!(d.texts("h1").iter().any(|h| h.contains("電波がありません")), "the offline page");
    d.wait_for("return document.querySelectorAll('#saved-pages li').length > 0;", "the saved pages listed");
    d.screenshot("offline-page-375");
    problems.extend(d.serious_violations(&axe).into_iter().map(|v| format!("offline page: {v}")));
    // On a shared device the saved pages (and so what was searched for) can be deleted.
    d.wait_for(
        "return !document.getElementById('forget-saved').hidden;",
        "the delete button, shown as pages are saved",
    );
    let button = d.find("#forget-saved button");
    d.post(&format!("/element/{button}/click"), json!({}));
    d.wait_for("return !document.getElementById('forget-done').hidden;", "deleted, and said so");
    d.wait_for(
        "return caches.keys().then(ns => ns.filter(n => n.startsWith('pages-')).length === 0) && true;",
        "no saved pages left",
    );
    let left = d.post(
        "/execute/async",
        json!({"script": "const done = arguments[arguments.length - 1]; caches.keys().then(ns => done(ns.filter(n => n.startsWith('pages-')).length));", "args": []}),
    );
    assert_eq!(left, json!(0), "the saved pages are gone from the device");
    assert_eq!(d.js("return document.querySelectorAll('#saved-pages li').length;"), json!(0));
    d.screenshot("offline-page-deleted-375");
    assert!(problems.is_empty(), "axe-core serious/critical violations:\n{}", problems.join("\n"));
}

#[test]
fn the_programme_training_and_power_pages_fit_phones_and_desks_and_pass_axe() {
    let server = common::start(&[]);
    let axe = axe_source();
    let d = Driver::start();
    let mut problems = Vec::new();
    let programmes = format!("/programmes?near={}&age=5&care_types=ventilator", common::enc("松本市"));
    let training = "/training?audience=nursery_teacher&region=20-07";
    let power = format!("/power?near={}&devices=ventilator&devices=suction", common::enc("松本市"));
    for width in [320u32, 375, 1280] {
        d.size(width, 812);
        for lang in ["", "&lang=en", "&lang=easy"] {
            for path in [programmes.as_str(), training, power.as_str()] {
                d.go(&format!("{}{path}{lang}", server.base));
                let (w, wide) = d.overflow();
                assert!(w <= u64::from(width), "{width} px {path}{lang}: the page is {w} px wide ({wide})");
            }
        }
        d.go(&format!("{}/?lang=ja", server.base));
        d.go(&format!("{}{programmes}", server.base));
        d.screenshot(&format!("programmes-{width}"));
        problems.extend(d.serious_violations(&axe).into_iter().map(|v| format!("programmes {width}: {v}")));
        d.go(&format!("{}{training}", server.base));
        d.screenshot(&format!("training-{width}"));
        problems.extend(d.serious_violations(&axe).into_iter().map(|v| format!("training {width}: {v}")));
        d.go(&format!("{}{power}", server.base));
        d.screenshot(&format!("power-{width}"));
        problems.extend(d.serious_violations(&axe).into_iter().map(|v| format!("power {width}: {v}")));
    }
    // On a phone, the answer starts on the first screen: the optional part of the form is closed.
    d.size(375, 812);
    d.go(&format!("{}{programmes}", server.base));
    let top = d.js("return document.querySelector('ol.cards li').getBoundingClientRect().top;").as_f64().unwrap();
    assert!(top < 812.0, "the first programme starts at {top} px");
    d.go(&format!("{}{power}", server.base));
    let top = d.js("return document.querySelector('ol.cards li').getBoundingClientRect().top;").as_f64().unwrap();
    assert!(top < 812.0, "the first power point starts at {top} px");
    // A parent types where they live and gets their municipality's programmes.
    d.go(&format!("{}/programmes", server.base));
    d.type_into("#near", "小諸市");
    d.click("form.programmes button[type=submit]");
    let heading = d.texts("main h2");
    assert!(heading.iter().any(|h| h.starts_with("長野県小諸市に住んでいる人が使える制度")), "{heading:?}");
    let names = d.texts("ol.cards h3 a");
    assert!(!names.is_empty() && names.iter().any(|n| n.contains("小諸市")), "{names:?}");
    // The calendar link carries the filters.
    d.go(&format!("{}{training}", server.base));
    let href = d.js("return document.querySelector('section.subscribe a.button').getAttribute('href');");
    assert!(
        href.as_str().unwrap().starts_with("webcal://")
            && href.as_str().unwrap().ends_with("/v1/training.ics?audience=nursery_teacher&region=20-07"),
        "{href}"
    );
    assert!(problems.is_empty(), "axe: serious or critical violations:\n{}", problems.join("\n"));
    server.stop();
}
