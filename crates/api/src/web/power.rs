//! Power on the page:
//!
//! - `/power`: 「医療機器の電源をさがす」 — a family names where they are and the devices they bring;
//!   the power points within 30 km, those that can take the devices and are open first, each with
//!   its status (never "open" when stale), what it says of the devices, and its phone;
//! - `/resources/{id}/status`: the power point's status page for its editor on a phone,
//!   bookmarked or opened from the record; one tap on one of four large buttons records the status
//!   (two taps in all). Signed in with an editor key (`/login`); anyone else is told to sign in.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::html;
use tsunagu_model::Device;
use tsunagu_model::emergency::PowerState;
use tsunagu_store::Role;

use super::{
    Lang, checkbox_options, html_response, lang_of, lang_suffix, page, pairs, problem_text, tel, value, values,
};
use crate::AppState;
use crate::auth::{Caller, Editor};

pub fn router() -> Router<AppState> {
    Router::new().route("/power", get(finder)).route("/resources/{id}/status", get(form).post(set))
}

fn when(lang: Lang, at: chrono::DateTime<chrono::Utc>) -> String {
    let jst = at.with_timezone(&super::jst());
    if lang.en {
        jst.format("%Y-%m-%d %H:%M JST").to_string()
    } else {
        jst.format("%Y年%-m月%-d日 %H:%M").to_string()
    }
}

/// A power point's status as a page says it: never "open" when it is stale.
pub fn status_text(
    lang: Lang,
    s: &AppState,
    status: Option<&tsunagu_model::emergency::PowerStatus>,
) -> (String, &'static str) {
    let hours = s.config.power_status_stale_hours;
    match status {
        None => (
            lang.t("開設状況：未報告（電話でご確認ください）", "Status: not reported (call first)").to_string(),
            "unknown",
        ),
        Some(p) if p.is_stale(chrono::Utc::now(), hours) => (
            if lang.en {
                format!(
                    "Status unknown: the last report ({}, {}) is over {hours} hours old",
                    p.state.en(),
                    when(lang, p.at)
                )
            } else {
                format!(
                    "開設状況は不明：最後の報告（{}・{}）から{hours}時間以上たっています",
                    p.state.ja(),
                    when(lang, p.at)
                )
            },
            "stale",
        ),
        Some(p) => (
            if lang.en {
                format!("{} (as of {})", p.state.en(), when(lang, p.at))
            } else {
                format!("{}（{} 時点）", p.state.ja(), when(lang, p.at))
            },
            match p.state {
                PowerState::Open | PowerState::PowerAvailable => "open",
                PowerState::Full | PowerState::Closed => "closed",
            },
        ),
    }
}

/// A point's live status as a page shows it (see [`status_text`]); `None` for a shelter that states
/// its power, which has no live status of its own.
pub fn point_status(
    lang: Lang,
    s: &AppState,
    pp: &tsunagu_directory::offers::PowerPoint,
) -> Option<(String, &'static str)> {
    (pp.resource.kind == tsunagu_model::Kind::PowerSupply).then(|| status_text(lang, s, pp.status.as_ref()))
}

/// Points the page lists.
const PAGE_POINTS: usize = 10;

/// `/power?near=…&devices=…&watts=…`: where a family can power its devices.
async fn finder(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let p = pairs(raw.as_deref());
    let lang = lang_of(&p);
    let here = format!("/power?{}", super::encode(&p));
    let title = lang.t3("医療機器の電源をさがす", "いりょうききの でんきを さがす", "Power for medical devices");
    let asked = value(&p, "near").is_some();
    let outcome = if asked {
        let params = super::offers::params(&p, &["near", "devices", "watts"]);
        Some(crate::routes::power::answer(&s, params, PAGE_POINTS).await)
    } else {
        None
    };
    let devices: Vec<&str> = values(&p, "devices");
    let status = super::answer_status(&outcome);
    let body = html! {
        h1 { (title) }
        p { (lang.t3(
            "停電のときに、人工呼吸器・吸引器などの電源を借りられる場所です。30 km以内で、持っていく機器に使えて開いている所から順に出ます。向かう前に必ず電話で確認してください。",
            "ていでんの とき、いりょうききの でんきを かりられる ところです。いく まえに かならず でんわ して ください。",
            "Places that can power a ventilator, suction and other devices in an outage, within 30 km: those that say they can take your devices and are open come first. Always call before you go."
        )) }
        form.search.power-finder action="/power" method="get" {
            @if lang.en { input type="hidden" name="lang" value="en"; }
            label.main for="near" { (lang.t3("いる場所（住所・市町村・郵便番号）", "いまいる ところ", "Where you are (address, municipality or postal code)")) }
            input #near type="text" name="near" required value=(value(&p, "near").unwrap_or("")) placeholder=(lang.t("例：松本市中央", "e.g. Matsumoto"));
            // Open until the first answer; then closed, so that the answer starts on a phone's
            // first screen, saying what is chosen.
            details open[!asked] {
                summary {
                    (lang.t3("持っていく機器", "もっていく きかい", "Devices you bring"))
                    @if !devices.is_empty() {
                        (if lang.en { format!(" ({} chosen)", devices.len()) } else { format!("（{}件選択中）", devices.len()) })
                    }
                }
                (checkbox_options(lang, lang.t3("持っていく機器", "もっていく きかい", "Devices you bring"), "devices", "dev", Device::ALL.iter().map(|d| d.labels()), &devices))
                label for="watts" { (lang.t3("機器の消費電力の合計（W・わかれば）", "でんきの つよさ（わかれば）", "Their total draw in watts (if you know it)")) }
                input #watts type="number" name="watts" min="1" max="100000" inputmode="numeric" value=(value(&p, "watts").unwrap_or(""));
            }
            button type="submit" { (lang.t3("さがす", "さがす", "Search")) }
        }
        @match &outcome {
            None => {}
            Some(Err(problem)) => p.error role="alert" { (problem_text(lang, problem)) },
            Some(Ok(a)) => {
                @let name = a.place.municipality_code.and_then(|c| s.gazetteer.display_name(c)).unwrap_or_else(|| a.place.name.clone());
                h2 { (if lang.en {
                    format!("Power near {name}: {}", a.points.len())
                } else if lang.easy {
                    format!("{name}の ちかくの でんき：{}けん", a.points.len())
                } else {
                    format!("{name}の近くの電源：{}件", a.points.len())
                }) }
                @if a.points.is_empty() {
                    p { (lang.t(
                        "30 km以内に登録された電源供給場所はありません。市町村の防災担当か、医療的ケア児支援センターにご相談ください。",
                        "No power point on record within 30 km. Ask the municipality's disaster office or the support centre."
                    )) }
                }
                ol.cards {
                    @for pp in &a.points {
                        @let r = &pp.resource;
                        li.card {
                            h3 {
                                @if r.sample { span.badge.sample { (lang.t("サンプルデータ", "Sample data")) } }
                                a href=(format!("/resources/{}{}", r.id, lang_suffix(lang))) { (r.name) }
                            }
                            p.meta {
                                (lang.label(r.kind.labels()))
                                @if let Some(d) = pp.distance_km { " · " span.nowrap { (format!("{d:.1} km")) } }
                                @if let Some(ph) = &r.contact.phone { " · " a.tel.nowrap href=(format!("tel:{}", tel(ph))) { (ph) } }
                            }
                            @if let Some((text, class)) = point_status(lang, &s, pp) { p class=(format!("power-status {class}")) { (text) } }
                            @if !a.devices.is_empty() { p { span.devices { (super::offers::devices_line(lang, &pp.devices)) } } }
                            (super::offers::card_lines(lang, r))
                            @if let Some(addr) = &r.address { p.meta { (addr) } }
                        }
                    }
                }
                p.meta { (lang.t(
                    "開設・受け入れの状況は変わります。向かう前に電話で確認してください。機器の対応は各施設の回答で、「要確認」は回答がないことを示します（使えないという意味ではありません）。",
                    "Whether a place is open changes: call before you go. What a place can power is what it told us; \"ask first\" means it has not said (not that it cannot)."
                )) }
            }
        }
    };
    html_response(status, page(lang, title, &here, body))
}

async fn form(
    State(s): State<AppState>,
    Caller(key): Caller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let p = pairs(raw.as_deref());
    let lang = lang_of(&p);
    let title = lang.t("開設状況の更新", "Update the status");
    let here = format!("/resources/{}/status", super::utf8_path(&id));
    let r = match crate::routes::power::power_point(&s, &id).await {
        Ok(r) => r,
        Err(problem) => {
            let body = html! { h1 { (title) } p.error role="alert" { (super::problem_text(lang, &problem)) } };
            return html_response(
                StatusCode::from_u16(problem.status).unwrap_or(StatusCode::NOT_FOUND),
                page(lang, title, &here, body),
            );
        }
    };
    let current = s.directory.store.power_statuses(&[r.id]).await.unwrap_or_default();
    let (now_text, class) = status_text(lang, &s, current.get(&r.id));
    let editor = key.as_ref().is_some_and(|k| k.role >= Role::Editor);
    let body = html! {
        h1 { (title) }
        p { strong { (r.name) } }
        p class=(format!("power-status {class}")) role="status" { (now_text) }
        @if value(&p, "done").is_some() { p.notice role="status" { (lang.t("更新しました。", "Updated.")) } }
        @if editor {
            form.power method="post" action=(here.clone()) {
                @if lang.en { input type="hidden" name="lang" value="en"; }
                @for st in PowerState::ALL {
                    button type="submit" name="state" value=(st.code()) class=(format!("state {}", st.code())) { (if lang.en { st.en() } else { st.ja() }) }
                }
            }
            p.meta { (lang.t(
                format!("報告は{}時間で古くなり、「不明」と表示されます。", s.config.power_status_stale_hours).as_str(),
                format!("A report goes stale after {} hours and is then shown as unknown.", s.config.power_status_stale_hours).as_str()
            )) }
        } @else {
            p { (lang.t("更新するには、センターから受け取った編集用のキーでサインインしてください。", "To update it, sign in with the editor key the centre gave you.")) " "
                a href="/login" { (lang.t("サインイン", "Sign in")) } }
        }
        p { a href=(format!("/resources/{}{}", r.id, super::lang_suffix(lang))) { (lang.t("施設のページへ", "To the record")) } }
    };
    html_response(StatusCode::OK, page(lang, title, &format!("{here}?{}", super::encode(&p)), body))
}

async fn set(
    State(s): State<AppState>,
    who: Result<Editor, crate::problem::Problem>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form: Vec<(String, String)> =
        form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let lang = lang_of(&form);
    let title = lang.t("開設状況の更新", "Update the status");
    let here = format!("/resources/{}/status", super::utf8_path(&id));
    let fail = |problem: crate::problem::Problem| {
        let body = html! { h1 { (title) } p.error role="alert" { (super::problem_text(lang, &problem)) } p { a href=(here.clone()) { (lang.t("戻る", "Back")) } } };
        html_response(
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::BAD_REQUEST),
            page(lang, title, &here, body),
        )
    };
    let who = match who {
        Ok(w) => w,
        Err(p) => return fail(p),
    };
    let Some(state) = value(&form, "state").and_then(PowerState::parse) else {
        return fail(crate::problem::Problem::invalid(vec![crate::problem::InvalidParam::param(
            "state",
            "unknown state",
        )]));
    };
    let r = match crate::routes::power::power_point(&s, &id).await {
        Ok(r) => r,
        Err(p) => return fail(p),
    };
    if let Err(p) = crate::routes::power::report(&s, &who, &r, state).await {
        return fail(p);
    }
    let to = format!("{here}?done=1{}", if lang.en { "&lang=en" } else { "" });
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&to) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}
