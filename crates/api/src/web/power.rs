//! The power point's status page for its editor on a phone: `/resources/{id}/status`, bookmarked
//! or opened from the record; one tap on one of four large buttons records the status (two taps
//! in all). Signed in with an editor key (`/login`); anyone else is told to sign in.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::html;
use tsunagu_model::emergency::PowerState;
use tsunagu_store::Role;

use super::{Lang, html_response, lang_of, page, pairs, value};
use crate::AppState;
use crate::auth::{Caller, Editor};

pub fn router() -> Router<AppState> {
    Router::new().route("/resources/{id}/status", get(form).post(set))
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
