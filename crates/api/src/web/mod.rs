//! The page for families, coordinators and nurses: server-rendered HTML (maud escapes every
//! value), one small stylesheet and a little progressive JavaScript, all embedded in the binary —
//! no CDN, works offline on a LAN.
//!
//! - `/` — one search box that understands 「たん吸引できる保育園 松本」, a postal code or an address;
//!   "use my location"; removable chips for what was understood; filters; result cards.
//! - `/resources/{id}` — everything public about one resource.
//! - `/about` — data sources, licences and the required attributions.
//!
//! Japanese by default (やさしい日本語 where families read), `lang=en` for English.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use tsunagu_model::{Accessibility, CareType, Kind, Labels, Resource, ResourceId, Weekday};
// Japan Standard Time, in which pages give dates and times (submodules call `super::jst()`).
use tsunagu_model::details::jst;

mod contacts;
mod coordinator;
mod offers;
mod power;
mod regions;
pub mod survey;

use crate::AppState;
use crate::params::Params;
use crate::problem::Problem;
use crate::routes::search::{self, ResultItem, SearchResponse};
use crate::views::{Freshness, Provenance};

const CSS: &str = include_str!("site.css");
const JS: &str = include_str!("site.js");
const SW: &str = include_str!("sw.js");
const ICON_SVG: &str = include_str!("icons/icon.svg");
const ICON_192: &[u8] = include_bytes!("icons/icon-192.png");
const ICON_512: &[u8] = include_bytes!("icons/icon-512.png");

/// The service worker with its cache version: a hash of everything it keeps, so that a new
/// release replaces what devices hold.
fn service_worker() -> Response {
    static BODY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in [
            CSS.as_bytes(),
            JS.as_bytes(),
            SW.as_bytes(),
            manifest_json().as_bytes(),
            env!("CARGO_PKG_VERSION").as_bytes(),
        ]
        .concat()
        {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        SW.replace("__VERSION__", &format!("{h:016x}"))
    });
    let mut res = BODY.as_str().into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

/// The web app manifest (installable on a phone's home screen).
fn manifest_json() -> String {
    serde_json::json!({
        "name": "つなぐ 医療的ケア児の支援をさがす",
        "short_name": "つなぐ",
        "description": "医療的ケアが必要なお子さんの支援（保育・訪問看護・短期入所・移動支援など）をさがす / Find support for children who need medical care",
        "lang": "ja",
        "dir": "ltr",
        "id": "/",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#fafaf7",
        "theme_color": "#1f5f3f",
        "icons": [
            {"src": "/assets/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": "/assets/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {"src": "/assets/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
            {"src": "/assets/icon.svg", "sizes": "any", "type": "image/svg+xml"}
        ]
    })
    .to_string()
}

fn binary_asset(body: &'static [u8], ctype: &'static str) -> Response {
    let mut res = body.into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    res
}

/// A button that deletes the pages this device saved for use without a signal (they hold what
/// was searched for: on a shared device, a family may want them gone). Shown by the page's
/// script only where there are saved pages to delete.
fn forget_saved(lang: Lang, both: bool) -> Markup {
    let (ja, en) = ("この端末に保存した画面を消す", "Delete the pages saved on this device");
    let (done_ja, done_en) = ("消しました。", "Deleted.");
    html! {
        div #forget-saved hidden {
            button type="button" {
                @if both { (ja) " / " span lang="en" { (en) } } @else { (lang.t(ja, en)) }
            }
            p #forget-done role="status" hidden {
                @if both { (done_ja) " / " span lang="en" { (done_en) } } @else { (lang.t(done_ja, done_en)) }
            }
        }
    }
}

/// What the service worker shows for a page it has not kept, without a signal.
async fn offline() -> Response {
    let lang = Lang { en: false, easy: false };
    let body = html! {
        h1 { "電波がありません" span.en lang="en" { " / No connection" } }
        p { "この端末に保存した画面を開けます。情報が変わっていることがあります。お出かけの前に電話でご確認ください。" }
        p lang="en" { "You can open the pages saved on this device. They may be out of date: call before you go." }
        h2 { "保存した画面" span.en lang="en" { " / Saved pages" } }
        ul #saved-pages {}
        p #saved-none { "保存した画面はまだありません。 / No saved pages yet." }
        (forget_saved(lang, true))
    };
    html_response(StatusCode::OK, page(lang, "電波がありません / Offline", "/offline", body))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/resources/{id}", get(detail))
        .route("/resources/{id}/report", post(report))
        .route("/about", get(about))
        .route("/print", get(print))
        .route("/programmes", get(offers::programmes))
        .route("/training", get(offers::training))
        .route("/regions", get(regions::index))
        .route("/regions/{id}", get(regions::detail))
        .route("/regions/{id}/gaps.csv", get(regions::gaps_csv))
        .route("/regions/{id}/transport.csv", get(regions::transport_csv))
        .merge(survey::router())
        .merge(coordinator::router())
        .merge(power::router())
        .route("/assets/site.css", get(|| async { asset(CSS, "text/css; charset=utf-8") }))
        .route("/assets/site.js", get(|| async { asset(JS, "text/javascript; charset=utf-8") }))
        .route("/assets/icon.svg", get(|| async { asset(ICON_SVG, "image/svg+xml") }))
        .route("/assets/icon-192.png", get(|| async { binary_asset(ICON_192, "image/png") }))
        .route("/assets/icon-512.png", get(|| async { binary_asset(ICON_512, "image/png") }))
        .route(
            "/manifest.webmanifest",
            get(|| async {
                let mut res = manifest_json().into_response();
                res.headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/manifest+json; charset=utf-8"));
                res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
                res
            }),
        )
        .route("/sw.js", get(|| async { service_worker() }))
        .route("/offline", get(offline))
        .layer(axum::middleware::from_fn(remember_lang))
}

fn asset(body: &'static str, ctype: &'static str) -> Response {
    let mut res = body.into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    res
}

/// A term with its three wordings: Japanese, やさしい日本語, English.
pub trait Worded {
    fn words(&self) -> (&'static str, &'static str, &'static str);
}

impl Worded for Labels {
    fn words(&self) -> (&'static str, &'static str, &'static str) {
        (self.ja, self.easy_ja, self.en)
    }
}

impl Worded for &crate::views::LabelView {
    fn words(&self) -> (&'static str, &'static str, &'static str) {
        (self.ja, self.easy_ja, self.en)
    }
}

/// The page's language: Japanese (everyday words: 吸引, 胃ろう), やさしい日本語 (a mode a family
/// switches on, and the site remembers), or English.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Lang {
    en: bool,
    easy: bool,
}

impl Lang {
    fn t<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        if self.en { en } else { ja }
    }
    /// A text that has its own やさしい日本語 wording.
    fn t3<'a>(self, ja: &'a str, easy: &'a str, en: &'a str) -> &'a str {
        if self.en {
            en
        } else if self.easy {
            easy
        } else {
            ja
        }
    }
    /// A vocabulary term as this page says it.
    fn label(self, l: impl Worded) -> &'static str {
        let (ja, easy, en) = l.words();
        self.t3(ja, easy, en)
    }
    /// The `html lang` attribute.
    fn code(self) -> &'static str {
        if self.en { "en" } else { "ja" }
    }
    /// The `lang` parameter that asks for this page's language.
    fn param(self) -> &'static str {
        if self.en {
            "en"
        } else if self.easy {
            "easy"
        } else {
            "ja"
        }
    }
}

/// The query string as (name, value) pairs, without empty values (forms send empty fields).
fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn encode(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

fn value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn values<'a>(pairs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    pairs.iter().filter(|(k, _)| k == name).flat_map(|(_, v)| v.split(',')).map(str::trim).collect()
}

fn lang_of(pairs: &[(String, String)]) -> Lang {
    let asked = value(pairs, "lang");
    Lang { en: asked == Some("en"), easy: asked == Some("easy") }
}

/// `here` (a path with its query) asking for another language.
fn with_lang(here: &str, code: &str) -> String {
    let (path, query) = here.split_once('?').unwrap_or((here, ""));
    let mut p = pairs(Some(query));
    p.retain(|(k, _)| k != "lang");
    // Even plain Japanese is said (`lang=ja`), or the remembered choice would come back.
    p.push(("lang".into(), code.into()));
    format!("{path}?{}", encode(&p))
}

/// The cookie that remembers the language a person chose (not sensitive: ja, easy or en).
pub const LANG_COOKIE: &str = "tsunagu_lang";

/// Pages remember the language last asked for: a `lang` parameter sets the cookie, and a page
/// asked for without one is served in the remembered language (the query gets its `lang`, so
/// every link on the page keeps it).
pub async fn remember_lang(mut req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let get = matches!(*req.method(), axum::http::Method::GET | axum::http::Method::HEAD);
    let path = req.uri().path();
    if !get || path.starts_with("/v1/") || path.starts_with("/assets/") || path.contains('.') {
        return next.run(req).await;
    }
    let query = req.uri().query().unwrap_or("").to_string();
    let asked = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "lang").map(|(_, v)| v.into_owned());
    match asked {
        Some(code) => {
            let mut res = next.run(req).await;
            if matches!(code.as_str(), "ja" | "en" | "easy") {
                let cookie = format!("{LANG_COOKIE}={code}; Path=/; Max-Age=31536000; SameSite=Lax");
                if let Ok(v) = HeaderValue::from_str(&cookie) {
                    res.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            res.headers_mut().append(header::VARY, HeaderValue::from_static("Cookie"));
            res
        }
        None => {
            let remembered = req
                .headers()
                .get_all(header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(';'))
                .filter_map(|c| c.trim().strip_prefix(LANG_COOKIE)?.strip_prefix('='))
                .find(|v| matches!(*v, "en" | "easy"))
                .map(str::to_string);
            if let Some(code) = remembered {
                let pq = if query.is_empty() {
                    format!("{}?lang={code}", req.uri().path())
                } else {
                    format!("{}?{query}&lang={code}", req.uri().path())
                };
                if let Ok(pq) = pq.parse::<axum::http::uri::PathAndQuery>() {
                    let mut parts = req.uri().clone().into_parts();
                    parts.path_and_query = Some(pq);
                    if let Ok(uri) = axum::http::Uri::from_parts(parts) {
                        *req.uri_mut() = uri;
                    }
                }
            }
            let mut res = next.run(req).await;
            res.headers_mut().append(header::VARY, HeaderValue::from_static("Cookie"));
            res
        }
    }
}

/// A link to the same page with `pairs` changed by `f`.
fn link(pairs: &[(String, String)], f: impl FnOnce(&mut Vec<(String, String)>)) -> String {
    let mut p = pairs.to_vec();
    f(&mut p);
    let q = encode(&p);
    if q.is_empty() { "/".into() } else { format!("/?{q}") }
}

/// The page's query with `q` replaced (none when empty), from the first page of results.
fn with_q(pairs: &[(String, String)], q: &str) -> String {
    link(pairs, |v| {
        v.retain(|(k, _)| k != "q" && k != "offset");
        if !q.is_empty() {
            v.insert(0, ("q".into(), q.to_string()));
        }
    })
}

/// The page's query with `phrase` taken out of `q`; `None` when `q` does not hold it.
fn without_words(pairs: &[(String, String)], phrase: &str) -> Option<String> {
    let q = value(pairs, "q").unwrap_or("");
    (!phrase.is_empty() && q.contains(phrase))
        .then(|| with_q(pairs, &q.replacen(phrase, " ", 1).split_whitespace().collect::<Vec<_>>().join(" ")))
}

/// The page's query without one condition: its words taken out of `q` when the text set it,
/// otherwise its value taken out of its parameter. `None` when neither can be found.
fn without_link(pairs: &[(String, String)], w: &tsunagu_directory::loosen::Without) -> Option<String> {
    if let Some(href) = w.phrase.as_deref().and_then(|ph| without_words(pairs, ph)) {
        return Some(href);
    }
    if !pairs.iter().any(|(k, _)| k == w.param) {
        return None;
    }
    // List parameters lose the one value; the others go.
    let list = matches!(w.param, "care_types" | "care_any" | "transport" | "accessibility");
    Some(link(pairs, |v| {
        v.retain(|(k, _)| k != "offset" && (list || k != w.param));
        for (_, val) in v.iter_mut().filter(|(k, _)| k == w.param) {
            let kept: Vec<&str> = val.split(',').map(str::trim).filter(|x| !x.is_empty() && *x != w.value).collect();
            *val = kept.join(",");
        }
        v.retain(|(k, val)| k != w.param || !val.is_empty());
    }))
}

fn page(lang: Lang, title: &str, here: &str, body: Markup) -> Markup {
    // The language switches keep everything else the page was asked for.
    let (other_href, other_label, other_lang) =
        if lang.en { (with_lang(here, "ja"), "日本語", "ja") } else { (with_lang(here, "en"), "English", "en") };
    let easy_switch = (!lang.en).then(|| {
        if lang.easy {
            (with_lang(here, "ja"), "ふつうの日本語")
        } else {
            (with_lang(here, "easy"), "やさしい日本語")
        }
    });
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — " (lang.t("つなぐ 医療的ケア児の支援をさがす", "tsunagu — support for children with medical care needs")) }
                link rel="stylesheet" href="/assets/site.css";
                link rel="manifest" href="/manifest.webmanifest";
                link rel="icon" href="/assets/icon.svg" type="image/svg+xml";
                link rel="apple-touch-icon" href="/assets/icon-192.png";
                meta name="theme-color" content="#1f5f3f";
            }
            body {
                a.skip href="#main" { (lang.t("本文へ移動", "Skip to content")) }
                header.site {
                    a.brand href=(if lang.en { "/?lang=en" } else { "/" }) { "つなぐ tsunagu" }
                    nav aria-label=(lang.t("言語", "Language")) {
                        @if let Some((href, label)) = &easy_switch { a href=(href) { (label) } }
                        a href=(other_href) lang=(other_lang) hreflang=(other_lang) { (other_label) }
                    }
                }
                main #main { (body) }
                footer.site {
                    p {
                        a href=(if lang.en { "/regions?lang=en" } else { "/regions" }) { (lang.t("圏域ごとの資源と不足（コーディネーター向け）", "Regions and gaps (for coordinators)")) }
                        " · "
                        a href=(if lang.en { "/about?lang=en" } else { "/about" }) { (lang.t("データの出典・ライセンス", "Data sources and licences")) }
                        " · "
                        (lang.t("【サンプル】の付いた情報は架空のデータです。", "Entries marked 【サンプル】 are synthetic sample data."))
                    }
                }
                script src="/assets/site.js" defer {}
            }
        }
    }
}

/// What went wrong, for a person, in the page's language: each offending field and why, else what
/// the status means. The API's reasons are English; a Japanese page never shows them.
fn problem_text(lang: Lang, problem: &Problem) -> String {
    if lang.en {
        return if problem.invalid.is_empty() {
            problem.detail.clone()
        } else {
            problem.invalid.iter().map(|e| e.reason.clone()).collect::<Vec<_>>().join(" / ")
        };
    }
    if problem.kind == "/problems/unknown-place" && problem.invalid.is_empty() {
        let mut text = "その場所が見つかりませんでした。市町村名・住所・郵便番号で入力してください。".to_string();
        if !problem.suggestions.is_empty() {
            text.push_str(&format!("候補：{}", problem.suggestions.join("、")));
        }
        return text;
    }
    if problem.invalid.is_empty() {
        return match problem.status {
            404 => "見つかりませんでした。".into(),
            408 | 503 => "混み合っています。少し待ってから、もう一度お試しください。".into(),
            413 | 414 => "入力が長すぎます。短くしてください。".into(),
            429 => "続けて送られたため、しばらく受け付けられません。少し待ってからお試しください。".into(),
            s if s >= 500 => "サーバーで問題が起きました。時間をおいてお試しください。".into(),
            _ => "入力を読み取れませんでした。".into(),
        };
    }
    problem.invalid.iter().map(field_problem_ja).collect::<Vec<_>>().join("／")
}

/// One field's problem in Japanese: the field by its name on the page, then what to do.
fn field_problem_ja(e: &crate::problem::InvalidParam) -> String {
    let name = e.name.as_deref().or(e.pointer.as_deref()).unwrap_or("");
    let label = match name {
        "q" => "ことば",
        "/message" => "内容",
        "/kind" => "どうちがうか",
        "/contact" => "連絡先",
        "near" => "場所",
        "lat" | "lon" | "radius_km" | "covers" => "場所の範囲",
        "kinds" | "kind" => "種類",
        "care_types" | "care_any" | "care" => "医療的ケア",
        "municipalities" => "市町村",
        "region" => "圏域",
        "age" => "年齢",
        "certificates" => "手帳・受給者証",
        "audience" => "対象",
        "course" => "研修の種類",
        "open" => "申し込めるものだけ",
        "devices" => "持っていく機器",
        "watts" => "消費電力",
        "nurse_on" => "看護師のいる曜日",
        "transport" | "accessibility" => "設備・送迎",
        "sort" => "並び順",
        "limit" | "offset" => "ページ",
        _ => "入力",
    };
    let reason = &e.reason;
    let what = if reason.starts_with("say what is wrong") {
        "何が違うかを書いてください。"
    } else if reason.contains("unknown place") || reason.contains("not a place") {
        "見つかりませんでした。市町村名・住所・郵便番号で入力してください。"
    } else if reason.starts_with("unknown") || !e.allowed.is_empty() {
        "選べるものの中にありません。"
    } else if reason.contains("at most") || reason.contains("too long") || reason.contains("longer") {
        "長すぎます。短くしてください。"
    } else if reason.contains("not both") || reason.contains("either") {
        "場所の指定が重なっています。どちらか一つにしてください。"
    } else {
        "読み取れませんでした。"
    };
    format!("{label}：{what}")
}

fn html_response(status: StatusCode, markup: Markup) -> Response {
    let mut res = (status, markup.into_string()).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    res
}

async fn home(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let p = pairs(raw.as_deref());
    let lang = lang_of(&p);
    let here = format!("/?{}", encode(&p));
    // The search's own parameters, except facets (the page shows none).
    let asked: Vec<&(String, String)> =
        p.iter().filter(|(k, _)| k != "facets" && search::PARAMS.contains(&k.as_str())).collect();
    let searching = !asked.iter().all(|(k, _)| matches!(k.as_str(), "sort" | "offset" | "limit"));
    let (status, outcome) = if searching {
        let mut params = Params::from_pairs(asked, search::PARAMS);
        let intent = search::intent_of(&mut params, s.config.serve_sample_data);
        match search::find(&s, params, intent).await {
            Ok(r) => {
                let contacts = match search::place_municipality(&s, &r.query) {
                    Some(code) => contacts::first_contacts(&s, code, searched_point(&r)).await,
                    None => None,
                };
                let (urgent, texts) =
                    if r.emergencies.is_empty() { Default::default() } else { emergency_places(&s, lang, &r).await };
                (StatusCode::OK, Ok((r, contacts, urgent, texts)))
            }
            Err(problem) => (
                StatusCode::from_u16(problem.status).unwrap_or(StatusCode::BAD_REQUEST),
                Err(problem_text(lang, &problem)),
            ),
        }
    } else {
        (StatusCode::OK, Err(String::new()))
    };
    let title = value(&p, "q").map_or_else(|| lang.t("さがす", "Search").to_string(), str::to_string);
    let body = html! {
        (search_form(lang, &p))
        @match &outcome {
            Ok((r, contacts, urgent, texts)) => {
                @if !r.emergencies.is_empty() { (emergency_block(lang, r, urgent, texts, contacts.as_ref())) }
                (offer_links(lang, &s, r))
                (results(lang, &p, r, if r.emergencies.is_empty() { contacts.as_ref() } else { None }))
            }
            Err(e) if !e.is_empty() => p.error role="alert" { (lang.t("条件を読み取れませんでした：", "Could not read the request: ")) (e) },
            Err(_) => (intro(lang)),
        }
    };
    html_response(status, page(lang, &title, &here, body))
}

/// A search for programmes or training is better answered by their own pages: say so, with the
/// search's place, age and care carried over.
fn offer_links(lang: Lang, s: &AppState, r: &SearchResponse) -> Markup {
    let q = &r.query;
    let suffix = if lang.en { "&lang=en" } else { "" };
    // The place: `near=` as typed, else the municipality of the point searched around (a place
    // named in the text becomes one).
    let code = search::place_municipality(s, q);
    let near = q
        .near
        .as_ref()
        .map(|n| n.text.clone())
        .or_else(|| code.and_then(|c| s.gazetteer.municipality(c)).map(|m| m.full_name.clone()));
    let programme_href = near.map(|text| {
        let mut out = form_urlencoded::Serializer::new(String::new());
        out.append_pair("near", &text);
        if let Some(a) = q.age {
            out.append_pair("age", &a.to_string());
        }
        let care: Vec<&str> = q.care_types.iter().map(|c| c.code()).collect();
        if !care.is_empty() {
            out.append_pair("care_types", &care.join(","));
        }
        format!("/programmes?{}{suffix}", out.finish())
    });
    let region = code.and_then(|c| s.gazetteer.region_of(c)).map(|r| r.id.clone());
    html! {
        @if q.kinds.contains(&Kind::Program) {
            p.notice.offer-link {
                (lang.t3("制度は、近さではなく住んでいる市町村で決まります。", "せいどは すんでいる まちで きまります。", "Programmes depend on where you live, not on distance. "))
                " "
                a href=(programme_href.unwrap_or_else(|| format!("/programmes?{}", suffix.trim_start_matches('&')))) {
                    (lang.t3("使える制度をしらべる", "つかえる せいどを しらべる", "Find the programmes you can use"))
                }
            }
        }
        @if q.kinds.contains(&Kind::Training) {
            p.notice.offer-link {
                a href=(match &region { Some(r) => format!("/training?region={r}{suffix}"), None => format!("/training?{}", suffix.trim_start_matches('&')) }) {
                    (lang.t3("研修の日程（これからの回・カレンダー登録）", "けんしゅうの ひにち", "Training sessions to come, with a calendar feed"))
                }
            }
        }
    }
}

fn intro(lang: Lang) -> Markup {
    html! {
        section aria-labelledby="intro-h" {
            h1 #intro-h { (lang.t("医療的ケアが必要なお子さんの支援をさがす", "Find support for a child who needs medical care")) }
            p { (lang.t(
                "ことばで入力できます。例：「たん吸引できる保育園 松本」「胃ろう 訪問看護 さいたま市」「390-0874」。",
                "Type what you need, e.g. \"suction daycare Matsumoto\", \"gastrostomy visiting nurse Saitama\", or a postal code."
            )) }
            ul.other-ways {
                li { a href=(if lang.en { "/programmes?lang=en" } else { "/programmes" }) { (lang.t3("使える制度・手当をしらべる", "つかえる せいど・てあてを しらべる", "Programmes and allowances you can use")) } }
                li { a href=(if lang.en { "/training?lang=en" } else { "/training" }) { (lang.t3("研修の日程（保育士・教員・看護師など）", "けんしゅうの ひにち", "Training sessions (nursery staff, teachers, nurses…)")) } }
                li { a href=(if lang.en { "/power?lang=en" } else { "/power" }) { (lang.t3("停電のときの医療機器の電源をさがす", "ていでんの ときの でんきを さがす", "Power for medical devices in an outage")) } }
            }
        }
    }
}

/// A fieldset of checkboxes over a vocabulary, each with its plain label and explanation.
fn checkbox_options(
    lang: Lang,
    legend: &str,
    name: &str,
    id_prefix: &str,
    labels: impl Iterator<Item = Labels>,
    checked: &[&str],
) -> Markup {
    html! {
        fieldset {
            legend { (legend) }
            div.care-options {
                @for l in labels {
                    @let id = format!("{id_prefix}-{}", l.code);
                    label for=(id) {
                        input #(id) type="checkbox" name=(name) value=(l.code) checked[checked.contains(&l.code)];
                        " " (lang.label(l))
                        small { (if lang.en { l.explain_en } else { l.explain_ja }) }
                    }
                }
            }
        }
    }
}

fn search_form(lang: Lang, p: &[(String, String)]) -> Markup {
    let q = value(p, "q").unwrap_or("");
    let care: Vec<&str> = values(p, "care_types");
    let kind = value(p, "kinds").unwrap_or("");
    let radius = value(p, "radius_km").unwrap_or("");
    let nurse = value(p, "nurse_on").unwrap_or("");
    let access: Vec<&str> = values(p, "accessibility");
    // Filters already applied show as chips above the results; the panel stays closed so that
    // the results begin on the first screen of a phone. It says how many are set.
    let set = care.len()
        + access.len()
        + [kind, radius, nurse].iter().filter(|v| !v.is_empty()).count()
        + usize::from(value(p, "has_vacancy") == Some("true"))
        + usize::from(value(p, "include_unconfirmed") == Some("false"));
    html! {
        form.search role="search" action="/" method="get" {
            label.main for="q" { (lang.t("さがしたいこと・場所", "What and where")) }
            div.row {
                div.suggest {
                    input #q type="search" name="q" value=(q) autocomplete="off"
                        placeholder=(lang.t("例：たん吸引できる保育園 松本", "e.g. suction daycare Matsumoto"));
                    ul #q-suggestions role="listbox" aria-label=(lang.t("候補", "Suggestions")) hidden {}
                }
                button type="submit" { (lang.t3("さがす", "さがす", "Search")) }
            }
            input type="hidden" name="lat" value=(value(p, "lat").unwrap_or(""));
            input type="hidden" name="lon" value=(value(p, "lon").unwrap_or(""));
            @if lang.en { input type="hidden" name="lang" value="en"; }
            div.row {
                button.secondary #locate type="button"
                    data-waiting=(lang.t("現在地を確認しています…", "Finding your location…"))
                    data-failed=(lang.t("現在地がわかりませんでした。場所を入力してください。", "Could not get your location; type a place instead.")) {
                    (lang.t("現在地から探す", "Use my location"))
                }
                span #locate-status role="status" aria-live="polite" {}
            }
            details.filters {
                summary {
                    (lang.t3("条件をしぼる", "じょうけんを しぼる", "Filters"))
                    @if set > 0 { " " span.count { (lang.t("（", "(")) (set) (lang.t("件設定中）", " set)")) } }
                }
                (checkbox_options(lang, lang.t("必要なケア", "Care needed"), "care_types", "care", CareType::ALL.iter().map(|c| c.labels()), &care))
                (checkbox_options(lang, lang.t("設備・バリアフリー", "Facilities and access"), "accessibility", "access", Accessibility::ALL.iter().map(|a| a.labels()), &access))
                div.row {
                    label { (lang.t("種類", "Kind")) " "
                        select name="kinds" {
                            option value="" { (lang.t("すべて", "Any")) }
                            @for k in Kind::ALL {
                                option value=(k.code()) selected[kind == k.code()] { (lang.label(k.labels())) }
                            }
                        }
                    }
                    label { (lang.t("距離", "Distance")) " "
                        select name="radius_km" {
                            option value="" { (lang.t("指定なし", "Any")) }
                            @for km in ["3", "5", "10", "20", "50"] {
                                option value=(km) selected[radius == km] { (km) " km" }
                            }
                        }
                    }
                    label { (lang.t("看護師がいる曜日", "Nurse on")) " "
                        select name="nurse_on" {
                            option value="" { (lang.t("指定なし", "Any day")) }
                            @for d in Weekday::ALL {
                                option value=(d.code()) selected[nurse == d.code()] { (lang.label(d.labels())) }
                            }
                        }
                    }
                }
                div.row {
                    label { input type="checkbox" name="has_vacancy" value="true" checked[value(p, "has_vacancy") == Some("true")]; " " (lang.t("空きがある", "Has a vacancy")) }
                    label { input type="checkbox" name="include_unconfirmed" value="false" checked[value(p, "include_unconfirmed") == Some("false")]; " " (lang.t("対応が確認できたところだけ", "Confirmed only")) }
                }
                button type="submit" { (lang.t("この条件でさがす", "Apply")) }
            }
        }
    }
}

/// Places of one kind, nearest first, with their distance.
type Nearest = (Kind, Vec<(Resource, Option<f64>)>);

/// What the emergency block says under a power point: its status (never "open" when stale; none
/// for a shelter) and, when the search implies devices, what it says of them.
type PowerLines = std::collections::HashMap<ResourceId, (Option<(String, &'static str)>, Option<String>)>;

/// While an emergency applies: the power supply points best for the devices the search's care
/// suggests (open ones first, see `Directory::power_points`), with their status and a line on
/// those devices, and the nearest welfare shelters (3 each).
async fn emergency_places(s: &AppState, lang: Lang, r: &SearchResponse) -> (Vec<Nearest>, PowerLines) {
    let Some(point) = searched_point(r) else { return Default::default() };
    let mut out = Vec::new();
    let mut lines = PowerLines::new();
    let devices = searched_devices(r);
    if let Ok(points) = s
        .directory
        .power_points(
            &s.planner,
            point,
            &devices,
            None,
            chrono::Utc::now(),
            s.config.power_status_stale_hours,
            s.config.serve_sample_data,
            3,
        )
        .await
    {
        let mut list = Vec::new();
        for pp in points {
            let on_devices = (!devices.is_empty()).then(|| offers::devices_line(lang, &pp.devices));
            lines.insert(pp.resource.id, (power::point_status(lang, s, &pp), on_devices));
            list.push((pp.resource, pp.distance_km));
        }
        out.push((Kind::PowerSupply, list));
    }
    let intent = tsunagu_directory::SearchIntent {
        place: Some(tsunagu_directory::PlaceAsked::Point(point)),
        kinds: Some(vec![Kind::WelfareShelter]),
        include_sample: s.config.serve_sample_data,
        sort: Some(tsunagu_search::Sort::Distance),
        limit: 3,
        facets: false,
        relax: true,
        ..tsunagu_directory::SearchIntent::default()
    };
    if let Ok(a) = s.directory.find(&s.planner, intent).await {
        out.push((Kind::WelfareShelter, a.records.into_iter().map(|(h, r)| (r, h.distance_km)).collect()));
    }
    (out, lines)
}

/// The emergency banner and what to reach first while it lasts: whom to call, power, shelters.
fn emergency_block(
    lang: Lang,
    r: &SearchResponse,
    places: &[Nearest],
    power: &PowerLines,
    contacts: Option<&tsunagu_directory::contacts::Contacts>,
) -> Markup {
    html! {
        section.emergency aria-labelledby="emergency-h" {
            h2 #emergency-h role="alert" { (lang.t3("緊急のお知らせ", "きんきゅうの おしらせ", "Emergency")) }
            @for e in &r.emergencies {
                p {
                    strong { (if lang.en { e["kind_en"].as_str().unwrap_or("") } else { e["kind_ja"].as_str().unwrap_or("") }) "：" }
                    (if lang.en { e["message_en"].as_str().or(e["message_ja"].as_str()).unwrap_or("") } else { e["message_ja"].as_str().unwrap_or("") })
                }
            }
            @if let Some(c) = contacts { (first_contacts_block(lang, c, false)) }
            @for (kind, list) in places {
                @if !list.is_empty() {
                    h3 {
                        @if *kind == Kind::PowerSupply {
                            (lang.t3("電源を借りられる所（機器に使える所・開いている所から）", "でんきを かりられる ところ", "Where to get power (those for your devices and open first)"))
                        } @else {
                            (lang.label(kind.labels())) (lang.t("（近い順）", " (nearest first)"))
                        }
                    }
                    ul {
                        @for (res, km) in list {
                            li {
                                @if res.sample { span.badge.sample { (lang.t("サンプルデータ", "Sample data")) } }
                                a href=(detail_href(lang, res.id, &[])) { (res.name) }
                                @if let Some(d) = km { " · " (format!("{d:.1} km")) }
                                @if let Some(ph) = &res.contact.phone { " · " a.tel.nowrap href=(format!("tel:{}", tel(ph))) { (ph) } }
                                @if let Some((status, devices)) = power.get(&res.id) {
                                    @if let Some((text, class)) = status { br; span class=(format!("power-status {class}")) { (text) } }
                                    @if let Some(d) = devices { br; span.devices { (d) } }
                                }
                            }
                        }
                    }
                }
            }
            p { a href=(power_href(lang, r)) { (lang.t3("機器を選んで電源をさがす", "きかいを えらんで でんきを さがす", "Find power for your devices")) } }
            p.meta { (lang.t(
                "開設・受け入れの状況は変わります。向かう前に電話で確認してください。",
                "Whether a place is open changes: call before you go."
            )) }
        }
    }
}

/// The devices a search's care implies (人工呼吸器 → ventilator, 吸引 → suction, …).
fn searched_devices(r: &SearchResponse) -> Vec<tsunagu_model::Device> {
    tsunagu_model::details::devices_for(r.query.care_any.iter().fold(r.query.care_types, |a, g| a.union(*g)))
}

/// `/power` for the place a search was about, with the devices its care implies.
fn power_href(lang: Lang, r: &SearchResponse) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    // The place as asked (`near=`), else as understood from the words (「訪問看護 松本市」).
    let understood = r.interpretation.as_ref().and_then(|i| {
        i.recognized.iter().find(|x| x.applied && x.recognized.kind == tsunagu_search::ConceptKind::Place)
    });
    if let Some(text) = r.query.near.as_ref().map(|n| n.text.as_str()).or(understood.map(|x| x.recognized.ja.as_str()))
    {
        q.append_pair("near", text);
    }
    for d in searched_devices(r) {
        q.append_pair("devices", d.code());
    }
    if lang.en {
        q.append_pair("lang", "en");
    }
    format!("/power?{}", q.finish())
}

/// The point a search was about, if any.
fn searched_point(r: &SearchResponse) -> Option<tsunagu_model::LatLon> {
    r.query.near.as_ref().map(|n| n.place.point).or_else(|| tsunagu_model::LatLon::new(r.query.lat?, r.query.lon?).ok())
}

/// Fewer results than this, and 「最初の相談先」 leads the page.
const FEW_RESULTS: usize = 3;

fn results(
    lang: Lang,
    p: &[(String, String)],
    r: &SearchResponse,
    contacts: Option<&tsunagu_directory::contacts::Contacts>,
) -> Markup {
    let few = r.total < FEW_RESULTS;
    html! {
        @if few { @if let Some(c) = contacts { (first_contacts_block(lang, c, true)) } }
        @let text_chips: Vec<(String, Option<String>)> = r.interpretation.iter()
            .flat_map(|it| it.recognized.iter().filter(|x| x.applied))
            .map(|x| {
                let label = chip_label(lang, &x.recognized);
                let href = without_words(p, x.recognized.typed.as_str());
                // A distance needs a place: without the place, the distance goes too.
                let href = if x.recognized.kind == tsunagu_search::ConceptKind::Place && value(p, "lat").is_none() {
                    href.map(|h| without_distance(&h))
                } else {
                    href
                };
                (label, href)
            })
            .collect();
        @let chips: Vec<(String, Option<String>)> = text_chips.iter().cloned()
            .chain(filter_chips(lang, p).into_iter().filter(|(l, _)| !text_chips.iter().any(|(t, _)| t == l)))
            .collect();
        @if !chips.is_empty() {
            section aria-label=(lang.t("読み取った条件", "Understood as")) {
                ul.chips {
                    @for (label, href) in &chips {
                        li {
                            span { (label) }
                            @if let Some(href) = href {
                                a href=(href) aria-label=(format!("{} {}", label, lang.t("を外す", "— remove"))) { "×" }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(it) = &r.interpretation {
            @for h in &it.place_hints {
                p.notice.place-hint {
                    (if lang.en { &h.detail_en } else { &h.detail_ja })
                    @if !h.suggestions.is_empty() {
                        " " (lang.t("もしかして：", "Did you mean: "))
                        @for (i, sug) in h.suggestions.iter().enumerate() {
                            @if i > 0 { (lang.t("、", ", ")) }
                            a href=(with_q(p, &sug.q)) {
                                (if lang.en { &sug.name_en } else { &sug.name })
                            }
                        }
                        @if lang.en { "?" }
                    }
                }
            }
        }
        @if r.total == 0 && !r.without.is_empty() {
            section.dead-end aria-label=(lang.t("条件をひとつはずすと", "With one condition fewer")) {
                p { (lang.t("すべての条件に合うところはみつかりませんでした。ひとつはずすと：", "Nothing matches every condition. With one fewer:")) }
                ul {
                    @for w in &r.without {
                        li {
                            @match without_link(p, w) {
                                Some(href) => a href=(href) { (if lang.en { &w.detail_en } else { &w.detail_ja }) },
                                None => (if lang.en { &w.detail_en } else { &w.detail_ja }),
                            }
                        }
                    }
                }
            }
        }
        @for step in &r.relaxed {
            p.notice { (if lang.en { &step.detail_en } else { &step.detail_ja }) }
        }
        @if let Some(f) = &r.confirmed_further {
            section.further aria-labelledby="further-title" {
                h2 #further-title { (if lang.en { &f.detail_en } else { &f.detail_ja }) }
                ol.cards {
                    @for item in &f.results {
                        li { (card(lang, p, item)) }
                    }
                }
                p.notice { (lang.t("この下は近くの結果です（対応は未確認 — 事前にお問い合わせください）。", "Below: the results nearby (not confirmed — call first).")) }
            }
        }
        p.summary #results-summary role="status" {
            @if lang.en { (r.total) " found" } @else if lang.easy { (r.total) " けん みつかりました" } @else { (r.total) " 件みつかりました" }
            @if (r.query.care_types.iter().count() > 0 || !r.query.care_any.is_empty()) && r.confirmed_total < r.total {
                " — " (lang.t("対応確認済み ", "confirmed: ")) (r.confirmed_total) (lang.t(" 件", ""))
            }
        }
        @if !r.query.accessibility.is_empty() {
            p.notice { (lang.t(
                "設備の条件は、その設備が「ある」と登録されているところだけを表示しています。登録のないところにもある場合があります。お問い合わせください。",
                "The facility filters show only places recorded as having them. Others may have them too: call to ask."
            )) }
        }
        @if !r.results.is_empty() {
            p.print-link {
                a href=(format!("/print?{}", encode(&p.iter().filter(|(k, _)| k != "offset").cloned().collect::<Vec<_>>()))) {
                    (lang.t3("この結果を印刷（近い12件）", "この けっかを いんさつ（ちかい 12けん）", "Print these results (nearest 12)"))
                }
            }
        }
        ol.cards aria-labelledby="results-summary" {
            @for item in &r.results {
                li { (card(lang, p, item)) }
            }
        }
        @if !few { @if let Some(c) = contacts { (first_contacts_block(lang, c, true)) } }
        @if let Some(next) = r.next_offset {
            p.pager {
                a href=(link(p, |v| { v.retain(|(k, _)| k != "offset"); v.push(("offset".into(), next.to_string())); })) {
                    (lang.t("次の結果", "More results"))
                }
            }
        }
    }
}

/// A chip for words the search understood: in やさしい日本語 mode, care types and kinds in its
/// wording; otherwise as understood.
fn chip_label(lang: Lang, x: &tsunagu_search::Recognized) -> String {
    use tsunagu_search::ConceptKind;
    let easy = match x.kind {
        ConceptKind::CareType if lang.easy => x.code.parse::<CareType>().ok().map(|c| c.labels().easy_ja),
        ConceptKind::Kind if lang.easy => x.code.parse::<Kind>().ok().map(|k| k.labels().easy_ja),
        _ => None,
    };
    match easy {
        Some(e) => e.to_string(),
        None if lang.en => x.en.clone(),
        None => x.ja.clone(),
    }
}

/// A link without its distance filter (and a distance sort), for when its place is taken away.
fn without_distance(href: &str) -> String {
    let query = href.strip_prefix("/?").unwrap_or("");
    let mut p = pairs(Some(query));
    p.retain(|(k, v)| k != "radius_km" && !(k == "sort" && v == "distance"));
    link(&p, |_| {})
}

/// The filters set by the panel (parameters, not words), as removable chips: each with the
/// page's query without it.
fn filter_chips(lang: Lang, p: &[(String, String)]) -> Vec<(String, Option<String>)> {
    let drop = |name: &str, val: &str| {
        let (name, val) = (name.to_string(), val.to_string());
        Some(link(p, move |v| {
            v.retain(|(k, _)| k != "offset");
            for (_, x) in v.iter_mut().filter(|(k, _)| *k == name) {
                *x = x.split(',').map(str::trim).filter(|e| !e.is_empty() && *e != val).collect::<Vec<_>>().join(",");
            }
            v.retain(|(k, x)| *k != name || !x.is_empty());
        }))
    };
    let mut out = Vec::new();
    for c in values(p, "care_types") {
        if let Ok(c) = c.parse::<CareType>() {
            out.push((lang.label(c.labels()).to_string(), drop("care_types", c.code())));
        }
    }
    for k in values(p, "kinds") {
        if let Ok(k) = k.parse::<Kind>() {
            out.push((lang.label(k.labels()).to_string(), drop("kinds", k.code())));
        }
    }
    for a in values(p, "accessibility") {
        if let Ok(a) = a.parse::<Accessibility>() {
            out.push((lang.label(a.labels()).to_string(), drop("accessibility", a.code())));
        }
    }
    if let Some(km) = value(p, "radius_km") {
        out.push((format!("{km} km{}", lang.t("以内", " or less")), drop("radius_km", km)));
    }
    if let Some(d) = value(p, "nurse_on").and_then(|d| d.parse::<Weekday>().ok()) {
        let day = lang.label(d.labels());
        out.push((format!("{}{day}", lang.t("看護師がいる曜日：", "Nurse on ")), drop("nurse_on", d.code())));
    }
    if value(p, "has_vacancy") == Some("true") {
        out.push((lang.t3("空きあり", "あきが ある", "Has a vacancy").to_string(), drop("has_vacancy", "true")));
    }
    if value(p, "include_unconfirmed") == Some("false") {
        out.push((lang.t("対応確認済みのみ", "Confirmed only").to_string(), drop("include_unconfirmed", "false")));
    }
    out
}

/// The status of a page that may carry an answer: a problem's own status, else 200.
fn answer_status<T>(outcome: &Option<Result<T, Problem>>) -> StatusCode {
    match outcome {
        Some(Err(problem)) => StatusCode::from_u16(problem.status).unwrap_or(StatusCode::BAD_REQUEST),
        _ => StatusCode::OK,
    }
}

/// A 圏域's name as a reader of the page says it: 「松本圏域」, "Matsumoto region".
fn region_label(lang: Lang, r: &tsunagu_places::Region) -> String {
    match r.names_en.first() {
        Some(en) if lang.en && en.ends_with("Area") => en.clone(),
        Some(en) if lang.en => format!("{en} region"),
        _ if lang.en => format!("{} region", r.name),
        _ => format!("{}圏域", r.name),
    }
}

/// A 圏域's prefecture as a reader of the page says it: 長野県, Nagano.
fn prefecture_label(lang: Lang, g: &tsunagu_places::Gazetteer, r: &tsunagu_places::Region) -> String {
    match g.prefecture(r.prefecture_code) {
        Some(p) if lang.en => p.name_en.clone(),
        _ => r.prefecture.clone(),
    }
}

fn lang_suffix(lang: Lang) -> &'static str {
    match lang.param() {
        "en" => "?lang=en",
        "easy" => "?lang=easy",
        _ => "",
    }
}

fn days(r: &Resource, lang: Lang) -> String {
    Weekday::ALL
        .iter()
        .filter(|d| r.nurse_schedule.has_day(**d))
        .map(|d| lang.label(d.labels()))
        .collect::<Vec<_>>()
        .join(if lang.en { ", " } else { "・" })
}

/// 「5人（2026-11-20 時点）」: a vacancy count with its unit and the day it was given (JST).
fn vacancy_text(lang: Lang, vacancies: u32, r: &Resource) -> String {
    let jst = jst();
    let as_of = r.availability_updated_at.map(|t| t.with_timezone(&jst).date_naive());
    match (lang.en, as_of) {
        (false, Some(d)) => format!("{vacancies}人（{d} 時点）"),
        (false, None) => format!("{vacancies}人（時点不明）"),
        (true, Some(d)) => format!("{vacancies} {} (as of {d})", if vacancies == 1 { "place" } else { "places" }),
        (true, None) => format!("{vacancies} {} (date unknown)", if vacancies == 1 { "place" } else { "places" }),
    }
}

fn tel(phone: &str) -> String {
    phone.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect()
}

fn freshness_line(lang: Lang, p: &Provenance) -> Markup {
    html! {
        span class=(match p.freshness { Freshness::Fresh => "fresh", Freshness::Aging => "aging", Freshness::Stale => "stale" }) {
            (if lang.en { p.freshness_en } else { p.freshness_ja })
        }
    }
}

/// A record's page, with the search it was found by, so that its back link returns there.
fn detail_href(lang: Lang, id: ResourceId, search: &[(String, String)]) -> String {
    let mut q: Vec<(String, String)> = Vec::new();
    if lang.en {
        q.push(("lang".into(), "en".into()));
    }
    if !search.is_empty() {
        q.push(("back".into(), format!("/?{}", encode(search))));
    }
    if q.is_empty() { format!("/resources/{id}") } else { format!("/resources/{id}?{}", encode(&q)) }
}

/// Where a record page's back link goes: the search it came from (only this site's search page,
/// never another site), else the search page.
fn back_href(lang: Lang, p: &[(String, String)]) -> String {
    match value(p, "back") {
        Some(b) if b.starts_with("/?") && !b.contains(['\\', '\r', '\n']) => b.to_string(),
        _ => format!("/{}", lang_suffix(lang)),
    }
}

fn card(lang: Lang, search: &[(String, String)], item: &ResultItem) -> Markup {
    let v = &item.resource;
    let r = &v.resource;
    let nurse = days(r, lang);
    html! {
        article.card {
            h2 {
                @if r.sample { span.badge.sample { (lang.t("サンプルデータ", "Sample data")) } }
                a href=(detail_href(lang, r.id, search)) { (r.name) }
            }
            p.meta {
                span.badge.kind { (lang.label(&v.kind_label)) }
                @if let Some(m) = &v.municipality { (m.prefecture) (m.name) }
                @if let Some(d) = item.distance_km { " · " (format!("{d:.1} km")) }
            }
            @if !v.care_type_labels.is_empty() {
                ul.care aria-label=(lang.t("対応できるケア", "Care it accepts")) {
                    @for l in &v.care_type_labels { li { (lang.label(l)) } }
                }
            }
            @if item.care_answers.iter().any(|a| a.state != "unknown") {
                ul.answers aria-label=(lang.t("さがしているケアについて", "About the care you asked for")) {
                    @for a in item.care_answers.iter().filter(|a| a.state != "unknown") {
                        li {
                            @match a.state {
                                "confirmed" => span.badge.confirmed { (lang.t("確認済み", "Verified")) },
                                "conditional" => span.badge.unconfirmed { (lang.t("条件つき", "Conditional")) },
                                _ => span.badge.unconfirmed { (lang.t("事業所の回答・未確認", "Provider's answer")) },
                            }
                            (if lang.en { &a.en } else { &a.ja })
                        }
                    }
                }
            }
            @if let Some(n) = &item.care_notice {
                p.notice { span.badge.unconfirmed { (lang.t("対応未確認", "Not confirmed")) } (if lang.en { &n.en } else { &n.ja }) }
            } @else if !v.care_status.known {
                p.notice { span.badge.unconfirmed { (lang.t("対応未確認", "Not confirmed")) } (lang.t("医療的ケアへの対応はわかっていません。事前にお問い合わせください", "Which medical care it takes is not known: call first")) }
            }
            @if let Some(n) = &v.provenance.listing_notice {
                p.notice { span.badge.unconfirmed { (lang.t("掲載なし", "Not listed")) } (if lang.en { &n.en } else { &n.ja }) }
            }
            @if !item.site_services.is_empty() {
                p.meta {
                    (lang.t("同じ場所のサービス：", "Also at this site: "))
                    @for (i, o) in item.site_services.iter().enumerate() {
                        @if i > 0 { (lang.t("、", ", ")) }
                        a href=(format!("/resources/{}{}", o.id, lang_suffix(lang))) { (lang.label(&o.kind_label)) }
                    }
                }
            }
            @if !nurse.is_empty() { p.meta { (lang.t("看護師がいる日：", "Nurse on: ")) (nurse) } }
            (offers::card_lines(lang, r))
            @if let Some(vac) = r.capacity.and_then(|c| c.vacancies) {
                p.meta { (lang.t3("空き：", "あき：", "Vacancies: ")) (vacancy_text(lang, vac, r)) }
            }
            @if let Some(phone) = &r.contact.phone {
                p { a.tel href=(format!("tel:{}", tel(phone))) { (lang.t("電話する ", "Call ")) (phone) } }
            }
            p.meta {
                @if let Some(d) = r.verified_at { (lang.t("最終確認日：", "Last verified: ")) (d) " · " }
                (freshness_line(lang, &v.provenance))
            }
        }
    }
}

async fn detail(State(s): State<AppState>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let p = pairs(raw.as_deref());
    let lang = lang_of(&p);
    let here = format!("/resources/{}?{}", utf8_path(&id), encode(&p));
    let found = match id.parse::<ResourceId>() {
        Ok(rid) => s.served(rid).await.ok().flatten(),
        Err(_) => None,
    }
    .filter(|v| !v.deleted);
    let Some(v) = found else {
        let body = html! {
            h1 { (lang.t("見つかりませんでした", "Not found")) }
            p { a href=(format!("/{}", lang_suffix(lang))) { (lang.t("さがすページへ戻る", "Back to search")) } }
        };
        return html_response(
            StatusCode::NOT_FOUND,
            page(lang, lang.t("見つかりませんでした", "Not found"), &here, body),
        );
    };
    let others: Vec<Resource> = match &v.resource.site {
        Some(site) => s
            .directory
            .store
            .site_members(&site.id)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|m| m.id != v.resource.id && s.config.serves(m))
            .collect(),
        None => Vec::new(),
    };
    let power = if v.resource.kind == Kind::PowerSupply {
        let found = s.directory.store.power_statuses(&[v.resource.id]).await.unwrap_or_default();
        Some(power::status_text(lang, &s, found.get(&v.resource.id)))
    } else {
        None
    };
    let view = crate::views::ResourceView::of(s.gazetteer, v.resource, &s.config);
    let r = &view.resource;
    let nurse = days(r, lang);
    let declined: Vec<&str> = r.care_types_declined.iter().map(|c| lang.label(c.labels())).collect();
    let body = html! {
        article.detail {
            h1 {
                @if r.sample { span.badge.sample { (lang.t("サンプルデータ", "Sample data")) } }
                (r.name)
            }
            @if let Some(k) = &r.name_kana { p.meta lang="ja" { (k) } }
            @if r.sample {
                p.notice { (lang.t("これは架空のサンプルデータです。実在の施設ではありません。", "This is synthetic sample data, not a real facility.")) }
            }
            @if let Some(n) = &view.provenance.listing_notice {
                p.notice { span.badge.unconfirmed { (lang.t("掲載なし", "Not listed")) } (if lang.en { &n.en } else { &n.ja }) }
            }
            dl.facts {
                dt { (lang.t("種類", "Kind")) } dd { (lang.label(&view.kind_label)) }
                @if let Some((text, class)) = &power {
                    dt { (lang.t("開設状況", "Status")) }
                    dd {
                        span class=(format!("power-status {class}")) { (text) }
                        " " a href=(format!("/resources/{}/status{}", r.id, lang_suffix(lang))) { (lang.t("更新する（担当者）", "Update (staff)")) }
                    }
                }
                @if let Some(a) = &r.address { dt { (lang.t("住所", "Address")) } dd { (a) } }
                @if let Some(pt) = r.location {
                    dt { (lang.t("地図", "Map")) }
                    dd {
                        a href=(format!("geo:{:.6},{:.6}?q={:.6},{:.6}", pt.lat(), pt.lon(), pt.lat(), pt.lon())) { (lang.t("地図アプリで開く", "Open in a map app")) }
                        " · "
                        a href=(format!("https://maps.gsi.go.jp/#16/{:.6}/{:.6}/", pt.lat(), pt.lon())) rel="noopener" { (lang.t("地理院地図", "GSI map")) }
                    }
                }
                @if let Some(m) = &view.municipality {
                    dt { (lang.t("市区町村", "Municipality")) } dd { (m.prefecture) (m.name) @if let Some(g) = &m.region { " (" (g.name) (lang.t("圏域", " region")) ")" } }
                }
                dt { (lang.t("電話", "Phone")) }
                dd {
                    @if let Some(phone) = &r.contact.phone { a.tel href=(format!("tel:{}", tel(phone))) { (phone) } }
                    @else { (lang.t("電話番号は登録されていません", "No phone number on record")) }
                }
                @if let Some(fax) = &r.contact.fax { dt { "FAX" } dd { (fax) } }
                @if let Some(u) = &r.contact.url { dt { "URL" } dd { a href=(u) rel="noopener" { (u) } } }
                @if let Some(h) = &r.hours_note { dt { (lang.t("営業日・時間", "Hours")) } dd { (h) } }
                @if let Some(o) = &r.operator { dt { (lang.t("運営法人", "Operated by")) } dd { (o.name) } }
                // A course, a programme or an office gives no care itself: no empty care row for it.
                @if r.kind.gives_care() || !view.care_type_labels.is_empty() {
                    dt { (lang.t("対応できるケア", "Care it accepts")) }
                    dd {
                        @if view.care_type_labels.is_empty() { (lang.t("確認されていません — 事前にお問い合わせください", "Not confirmed — call first")) }
                        @else { ul.care { @for l in &view.care_type_labels { li { (lang.label(l)) } } } }
                    }
                }
                @if !r.care_types_conditional.is_empty() {
                    dt { (lang.t("条件つきでできるケア（要相談）", "Care possible under conditions (ask)")) }
                    dd { ul.care { @for c in r.care_types_conditional.iter() {
                        li { (lang.label(c.labels())) @if let Some(n) = r.care_statements.get(&c).and_then(|s| s.note.as_deref()) { "：" (n) } }
                    } } }
                }
                @if !declined.is_empty() { dt { (lang.t("対応できないケア", "Care it does not accept")) } dd { (declined.join(lang.t("、", ", "))) } }
                @if !r.care_statements.is_empty() {
                    dt { (lang.t("回答の記録", "Who said so")) }
                    dd { ul { @for c in r.care_types.union(r.care_types_conditional).iter() {
                        li { (crate::routes::search::CareAnswerView::of(r, c).ja_or_en(lang.en)) }
                    } } }
                }
                @if !r.departments.is_empty() { dt { (lang.t("診療科目", "Departments")) } dd { (r.departments.join("・")) } }
                @if !nurse.is_empty() { dt { (lang.t("看護師がいる日", "Nurse on")) } dd { (nurse) @if view.availability_stale { " " span.badge.unconfirmed { (lang.t("情報が古い可能性", "may be out of date")) } } } }
                @if let Some(a) = r.ages { dt { (lang.t("対象年齢", "Ages")) } dd { (a.min_years) "–" (a.max_years) (lang.t("歳", " years")) } }
                @if let Some(c) = r.capacity {
                    @if let Some(total) = c.total { dt { (lang.t("定員", "Capacity")) } dd { (total) (lang.t("人", "")) } }
                    @if let Some(vac) = c.vacancies { dt { (lang.t3("空き", "あき", "Vacancies")) } dd { (vacancy_text(lang, vac, r)) } }
                }
                dt { (lang.t("出典", "Source")) } dd { (r.source.name) @if let Some(d) = r.source.date { " (" (d) ")" } }
                dt { (lang.t("最終確認日", "Last verified")) } dd { @if let Some(d) = r.verified_at { (d) " · " } (freshness_line(lang, &view.provenance)) }
            }
            @if !r.description.is_empty() { p { (r.description) } }
            (offers::details(lang, r))
            @if !others.is_empty() {
                section.site {
                    h2 { (lang.t("この施設の他のサービス", "Other services at this site")) }
                    ul {
                        @for o in &others {
                            li {
                                a href=(format!("/resources/{}{}", o.id, lang_suffix(lang))) { (o.name) }
                                " — " (lang.label(o.kind.labels()))
                            }
                        }
                    }
                }
            }
            (report_form(lang, r.id, &p, None))
            p { a href=(back_href(lang, &p)) { (lang.t("検索結果へ戻る", "Back to the results")) } }
        }
    };
    let title = r.name.clone();
    html_response(StatusCode::OK, page(lang, &title, &here, body))
}

/// 「誤りを報告」: a plain form (no script needed) posting to the page's report route, which
/// stores it through the reports API's own validation and limits.
fn report_form(lang: Lang, id: ResourceId, p: &[(String, String)], error: Option<&str>) -> Markup {
    let kinds = [
        ("wrong", "情報が違う", "Something is wrong"),
        ("closed", "閉所・休止している", "Closed or paused"),
        ("moved", "移転した", "Moved"),
        ("other", "その他", "Other"),
    ];
    html! {
        details.report open[error.is_some()] {
            summary { (lang.t("誤りを報告", "Report a mistake")) }
            form method="post" action=(format!("/resources/{id}/report")) {
                @if let Some(e) = error { p.error role="alert" { (e) } }
                fieldset {
                    legend { (lang.t("どうちがいますか", "What is wrong?")) }
                    @for (i, (code, ja, en)) in kinds.iter().enumerate() {
                        label { input type="radio" name="kind" value=(code) required checked[value(p, "kind").map_or(i == 0, |k| k == *code)]; " " (lang.t(ja, en)) }
                    }
                }
                label for="report-message" { (lang.t("内容（閉所・移転以外は必須）", "Details (required unless closed or moved)")) }
                textarea #report-message name="message" maxlength="2000" rows="3" { (value(p, "message").unwrap_or("")) }
                label for="report-contact" { (lang.t("連絡先（任意・担当者だけが見ます）", "How to reach you (optional; staff only)")) }
                input #report-contact type="text" name="contact" maxlength="200" autocomplete="email" value=(value(p, "contact").unwrap_or(""));
                @if lang.en { input type="hidden" name="lang" value="en"; }
                @if let Some(b) = value(p, "back") { input type="hidden" name="back" value=(b); }
                p.meta { (lang.t("報告は担当者が確認します。自動では反映されません。", "Staff check every report; nothing changes automatically.")) }
                button type="submit" { (lang.t("報告を送る", "Send the report")) }
            }
        }
    }
}

/// `POST /resources/{id}/report` (a form): the report goes through the reports API's validation
/// and rate limits; the answer is a page in the form's language.
async fn report(State(s): State<AppState>, Path(id): Path<String>, req: axum::extract::Request) -> Response {
    let client = req.extensions().get::<crate::clients::Client>().copied();
    let body = axum::body::to_bytes(req.into_body(), crate::routes::reports::MAX_REPORT_BYTES).await;
    let form: Vec<(String, String)> = match &body {
        Ok(b) => form_urlencoded::parse(b).map(|(k, v)| (k.into_owned(), v.into_owned())).collect(),
        Err(_) => Vec::new(),
    };
    let lang = lang_of(&form);
    let here = format!("/resources/{}", utf8_path(&id));
    let title = lang.t("誤りを報告", "Report a mistake");
    let Ok(rid) = id.parse::<ResourceId>() else {
        let body = html! { h1 { (lang.t("見つかりませんでした", "Not found")) } };
        return html_response(StatusCode::NOT_FOUND, page(lang, title, &here, body));
    };
    if body.is_err() {
        let text = problem_text(
            lang,
            &Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "", "", "The report is too long; shorten it."),
        );
        let body = html! { (report_form(lang, rid, &form, Some(&text))) };
        return html_response(StatusCode::PAYLOAD_TOO_LARGE, page(lang, title, &here, body));
    }
    let mut json = serde_json::Map::new();
    for name in ["kind", "message", "contact"] {
        if let Some(v) = value(&form, name).filter(|v| !v.trim().is_empty()) {
            json.insert(name.into(), serde_json::Value::String(v.to_string()));
        }
    }
    let back = html! { p { a href=(back_href(lang, &form)) { (lang.t("検索結果へ戻る", "Back to the results")) } } };
    let detail =
        html! { p { a href=(detail_href(lang, rid, &[])) { (lang.t("施設のページへ戻る", "Back to the record")) } } };
    let bytes = serde_json::Value::Object(json).to_string();
    match crate::routes::reports::submit(&s, client, rid, bytes.as_bytes()).await {
        Ok(crate::routes::reports::Submitted::Accepted(_)) => {
            let body = html! {
                h1 { (title) }
                p role="status" { (lang.t(crate::routes::reports::THANKS_JA, crate::routes::reports::THANKS_EN)) }
                (detail) (back)
            };
            html_response(StatusCode::OK, page(lang, title, &here, body))
        }
        Ok(crate::routes::reports::Submitted::TooMany { wait, .. }) => {
            let text = problem_text(
                lang,
                &Problem::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "",
                    "",
                    "Too many reports from you for now; please try again later.",
                ),
            );
            let body = html! { h1 { (title) } p.error role="alert" { (text) } (detail) (back) };
            let mut res = html_response(StatusCode::TOO_MANY_REQUESTS, page(lang, title, &here, body));
            if let Ok(v) = HeaderValue::from_str(&wait.seconds().max(1).to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
        Err(problem) => {
            let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::BAD_REQUEST);
            let text = problem_text(lang, &problem);
            let body = html! { h1 { (title) } (report_form(lang, rid, &form, Some(&text))) (detail) };
            html_response(status, page(lang, title, &here, body))
        }
    }
}

/// The nurse-visit sheet: the nearest resources for a child's care needs, on one A4 page, led
/// by 「最初の相談先」. Any search's parameters (so 「この結果を印刷」 on a results page prints
/// that search), or the sheet's own: `near` (a place) or `lat`+`lon`, `care` (care type codes,
/// comma-separated), `kinds`, `radius_km`.
async fn print(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let p = pairs(raw.as_deref());
    let lang = lang_of(&p);
    let here = format!("/print?{}", encode(&p));
    let title = lang.t("訪問用シート", "Nurse-visit sheet");
    let mut asked: Vec<(String, String)> = p
        .iter()
        .filter(|(k, _)| search::PARAMS.contains(&k.as_str()) && !matches!(k.as_str(), "limit" | "offset" | "facets"))
        .cloned()
        .collect();
    for c in values(&p, "care") {
        asked.push(("care_types".into(), c.to_string()));
    }
    // The sheet's own form until something is asked (`sort` alone asks nothing).
    if asked.iter().all(|(k, _)| k == "sort") {
        let body = html! {
            h1 { (title) }
            form method="get" action="/print" {
                label { (lang.t("場所（住所・市町村・郵便番号）", "Place (address, municipality or postal code)")) " " input type="search" name="near" required; }
                fieldset {
                    legend { (lang.t("必要なケア", "Care needed")) }
                    div.care-options {
                        @for c in CareType::ALL {
                            label { input type="checkbox" name="care" value=(c.code()); " " (lang.label(c.labels())) }
                        }
                    }
                }
                @if lang.param() != "ja" { input type="hidden" name="lang" value=(lang.param()); }
                button type="submit" { (lang.t("シートを作る", "Make the sheet")) }
            }
        };
        return html_response(StatusCode::OK, page(lang, title, &here, body));
    }
    asked.extend([("limit".into(), "12".into()), ("facets".into(), "false".into())]);
    if value(&p, "near").is_some() || value(&p, "lat").is_some() {
        asked.push(("sort".into(), "distance".into()));
    }
    let mut params = Params::from_pairs(&asked, search::PARAMS);
    let intent = search::intent_of(&mut params, s.config.serve_sample_data);
    let found = match search::find(&s, params, intent).await {
        Ok(r) => r,
        Err(problem) => {
            let body = html! { p.error role="alert" { (problem_text(lang, &problem)) } };
            let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::BAD_REQUEST);
            return html_response(status, page(lang, title, &here, body));
        }
    };
    let mut care: Vec<String> = found.query.care_types.iter().map(|c| lang.label(c.labels()).to_string()).collect();
    // Umbrella words: their own label, or their care types with "or".
    for group in &found.query.care_any {
        care.push(match tsunagu_model::terms::Vocabulary::bundled().group_of(*group) {
            Some(g) => (if lang.en { &g.label_en } else { &g.label_ja }).clone(),
            None => group.iter().map(|c| lang.label(c.labels())).collect::<Vec<_>>().join(lang.t(" または ", " or ")),
        });
    }
    let place_name: Option<String> = found.query.near.as_ref().map(|n| n.place.name.clone()).or_else(|| {
        found.interpretation.as_ref().and_then(|it| {
            it.recognized
                .iter()
                .find(|x| x.applied && x.recognized.kind == tsunagu_search::ConceptKind::Place)
                .map(|x| x.recognized.ja.clone())
        })
    });
    let contacts = match search::place_municipality(&s, &found.query) {
        Some(code) => contacts::first_contacts(&s, code, searched_point(&found)).await,
        None => None,
    };
    let unconfirmed = found.results.iter().filter(|i| !i.unconfirmed_care_types.is_empty()).count();
    let asked_care = !care.is_empty();
    let today = tsunagu_model::details::japan_date(chrono::Utc::now());
    let public = s.config.public_url.trim_end_matches('/');
    let body = html! {
        div.sheet {
        h1 { (lang.t("お近くの支援先", "Support near you")) @if let Some(pl) = &place_name { (lang.t("（", " (")) (pl) (lang.t("）", ")")) } }
        p.meta {
            (lang.t("作成日：", "Made on: ")) span.nowrap { (today) }
            @if !care.is_empty() { " · " (lang.t("必要なケア：", "Care needed: ")) (care.join("、")) }
        }
        @if let Some(c) = &contacts { (first_contacts_block(lang, c, false)) }
        p.noprint { button #print type="button" { (lang.t("印刷する", "Print")) } }
        @if asked_care {
            p.meta {
                @if unconfirmed == 0 {
                    (lang.t("下の支援先は、すべて必要なケアへの対応が確認されています。", "Every place below has confirmed the care needed."))
                } @else {
                    (lang.t("「要確認」の付いた支援先は、必要なケアへの対応が確認できていません。事前に電話でお問い合わせください。",
                        "Places marked \"ask first\" have not confirmed the care needed: call before you go."))
                }
            }
        }
        table.print {
            thead { tr {
                th scope="col" { (lang.t("名称・種類・住所", "Name, kind, address")) }
                th scope="col" { (lang.t("距離", "Distance")) }
                th scope="col" { (lang.t("電話", "Phone")) }
                th scope="col" { (lang.t("最終確認", "Verified")) }
                th scope="col" { (lang.t("詳しく", "More")) }
            } }
            tbody {
                @for item in &found.results {
                    @let r = &item.resource.resource;
                    @let url = format!("{public}/resources/{}", r.id);
                    tr {
                        td {
                            @if r.sample { span.badge.sample { (lang.t("サンプルデータ", "Sample data")) } }
                            @if asked_care && !item.unconfirmed_care_types.is_empty() { span.badge.unconfirmed { (lang.t("要確認", "Ask first")) } }
                            strong { (r.name) } br;
                            (lang.label(&item.resource.kind_label))
                            @if let Some(a) = &r.address { br; span.address { (a) } }
                        }
                        td.nowrap { @if let Some(d) = item.distance_km { (format!("{d:.1} km")) } }
                        td.nowrap { @if let Some(ph) = &r.contact.phone { a.tel href=(format!("tel:{}", tel(ph))) { (ph) } } @else { "—" } }
                        td.nowrap { @if let Some(d) = r.verified_at { (d) } @else { "—" } }
                        td.qr { (PreEscaped(survey::qr_svg_small(&url))) }
                    }
                }
            }
        }
        p.meta { (lang.t(
            "情報は変わることがあります。利用の前に必ず電話で確認してください。【サンプル】の付いた施設は架空のデータです。QRコードから各施設のページを開けます。",
            "Information changes: always call before you go. Entries marked 【サンプル】 are synthetic sample data. Each QR code opens the place's page."
        )) }
        }
    };
    html_response(StatusCode::OK, page(lang, title, &here, body))
}

/// The 「最初の相談先」 block: the 圏域 coordinators, the prefecture's centre and the municipality's
/// window, with phones and hours; `full` adds the 相談支援 offices serving the place (the print
/// sheet leaves them out to stay on one page).
fn first_contacts_block(lang: Lang, c: &tsunagu_directory::contacts::Contacts, full: bool) -> Markup {
    use tsunagu_directory::contacts::ContactRole;
    let shown: Vec<_> = c.entries.iter().filter(|e| full || e.role != ContactRole::ConsultationSupport).collect();
    html! {
        section.first-contacts aria-labelledby="first-h" {
            h2 #first-h { (lang.t3("最初の相談先", "はじめに そうだん するところ", "Call first")) }
            ul {
                @for e in &shown {
                    li {
                        span.role { (if lang.en { e.role.en() } else { e.role.ja() }) "：" }
                        @if e.resource.as_ref().is_some_and(|r| r.sample) { span.badge.sample { (lang.t("サンプルデータ", "Sample data")) } }
                        @match &e.resource {
                            Some(r) => strong { a href=(detail_href(lang, r.id, &[])) { (e.name) } },
                            None => strong { (e.name) },
                        }
                        " "
                        @if let Some(ph) = &e.phone { a.tel.nowrap href=(format!("tel:{}", tel(ph))) { (ph) } }
                        @else { span.meta { (lang.t("（電話番号は登録されていません）", "(no phone number on record)")) } }
                        @if let Some(h) = &e.hours { " " span.meta { "（" (h) "）" } }
                    }
                }
            }
            @if !c.entries.iter().any(|e| e.role == ContactRole::Coordinator) {
                p.meta { (lang.t("この圏域のコーディネーターは登録されていません。センターにご相談ください。", "No coordinator is on record for this region: call the centre.")) }
            }
        }
    }
}

/// A path segment as it may appear in a link (the id is checked before use; anything else is
/// percent-encoded so it cannot break out of the attribute).
fn utf8_path(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn about(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let p = pairs(raw.as_deref());
    let lang = lang_of(&p);
    let counts = s.directory.store.source_counts().await.unwrap_or_default();
    let sources: Vec<_> = tsunagu_exchange::bundled::sources()
        .iter()
        .filter(|src| s.config.serve_sample_data || src.kind != tsunagu_exchange::bundled::SourceKind::Sample)
        .collect();
    let body = html! {
        h1 { (lang.t("データの出典・ライセンス", "Data sources and licences")) }
        p { (lang.t(
            "つなぐが表示する情報の出典です。医療的ケアへの対応が公開データに含まれない施設は「対応未確認」と表示します。",
            "Where tsunagu's information comes from. Facilities whose open data says nothing about medical care are shown as \"not confirmed\"."
        )) }
        @for src in sources {
            @let n: u64 = counts.iter().filter(|c| src.names.contains(&c.name)).map(|c| c.records).sum();
            section.card {
                h2 { (if lang.en { &src.title_en } else { &src.title_ja }) }
                dl.facts {
                    dt { (lang.t("提供", "Publisher")) } dd { (src.publisher) }
                    @if let Some(d) = &src.date { dt { (lang.t("データ時点", "As of")) } dd { (d) } }
                    dt { (lang.t("ライセンス", "Licence")) } dd { (src.licence) }
                    @if !src.names.is_empty() { dt { (lang.t("件数", "Records")) } dd { (n) } }
                    dt { (lang.t("表示", "Attribution")) } dd { (if lang.en { &src.attribution_en } else { &src.attribution_ja }) }
                }
                @if let Some(u) = &src.url { p { a href=(u) rel="noopener" { (u) } } }
            }
        }
        section.card aria-labelledby="privacy-h" {
            h2 #privacy-h { (lang.t("プライバシー", "Privacy")) }
            p { (lang.t(
                "さがした内容（ケア・場所・郵便番号）は、サーバーの記録に残しません。アクセス解析も使っていません。",
                "What you search for (care, place, postal code) is not kept in the server's logs, and there are no analytics."
            )) }
            p { (lang.t(
                "電波がないときのために、最近開いた画面（20画面まで）をこの端末だけに保存します。共用の端末では、下のボタンで消してください。",
                "So that pages open without a signal, the last 20 pages you opened are saved on this device only. On a shared device, delete them with the button below."
            )) }
            (forget_saved(lang, false))
        }
    };
    let here = format!("/about?{}", encode(&p));
    html_response(StatusCode::OK, page(lang, lang.t("データの出典", "Data sources"), &here, body))
}
