//! The centre's survey pages: sign in with an editor key (kept in an HttpOnly, SameSite=Strict
//! cookie), then see each campaign's dashboard and review queue, and act on it.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use tsunagu_directory::keys;
use tsunagu_directory::survey::{self as sv, Decision, SurveyError};
use tsunagu_model::survey::{SurveyAnswers, diff};

use super::{Lang, html_response, lang_of, page, pairs};
use crate::AppState;
use crate::auth::{Caller, Editor, KEY_COOKIE};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/surveys", get(list))
        .route("/surveys/{id}", get(dashboard))
        .route("/surveys/{id}/review/{invitation}", post(review))
}

fn login_body(lang: Lang, message: Option<&str>) -> Markup {
    html! {
        h1 { (lang.t("センター職員のサインイン", "Sign in (centre staff)")) }
        @if let Some(m) = message { p.error role="alert" { (m) } }
        form.search method="post" action="/login" {
            label.main for="key" { (lang.t("APIキー（編集者）", "API key (editor)")) }
            input #key type="password" name="key" autocomplete="off" required;
            button type="submit" { (lang.t("サインイン", "Sign in")) }
        }
        p.meta { (lang.t("キーはこのブラウザに保存され、サインアウトで消えます。共用のパソコンでは使わないでください。", "The key is kept in this browser until you sign out; do not use a shared computer.")) }
    }
}

async fn login_form(RawQuery(raw): RawQuery) -> Response {
    let lang = lang_of(&pairs(raw.as_deref()));
    html_response(StatusCode::OK, page(lang, lang.t("サインイン", "Sign in"), "/login", login_body(lang, None)))
}

async fn login(State(s): State<AppState>, RawQuery(raw): RawQuery, body: Bytes) -> Response {
    let lang = lang_of(&pairs(raw.as_deref()));
    let text =
        form_urlencoded::parse(&body).find(|(k, _)| k == "key").map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    match keys::check(s.directory.store.as_ref(), &text).await {
        Ok(k) if k.role >= tsunagu_store::Role::Editor => {
            let mut res = (StatusCode::SEE_OTHER, "").into_response();
            res.headers_mut().insert(header::LOCATION, HeaderValue::from_static("/surveys"));
            if let Ok(v) =
                HeaderValue::from_str(&format!("{KEY_COOKIE}={text}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200"))
            {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        }
        _ => html_response(
            StatusCode::UNAUTHORIZED,
            page(
                lang,
                lang.t("サインイン", "Sign in"),
                "/login",
                login_body(
                    lang,
                    Some(lang.t(
                        "キーが正しくないか、編集者のキーではありません。",
                        "The key is not valid, or not an editor's key.",
                    )),
                ),
            ),
        ),
    }
}

async fn logout() -> Response {
    let mut res = (StatusCode::SEE_OTHER, "").into_response();
    res.headers_mut().insert(header::LOCATION, HeaderValue::from_static("/login"));
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("tsunagu_key=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    res
}

fn signed_out(lang: Lang) -> Response {
    let mut res = (StatusCode::SEE_OTHER, "").into_response();
    res.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(if lang.en { "/login?lang=en" } else { "/login" }));
    res
}

async fn list(State(s): State<AppState>, Caller(key): Caller, RawQuery(raw): RawQuery) -> Response {
    let lang = lang_of(&pairs(raw.as_deref()));
    if key.as_ref().is_none_or(|k| k.role < tsunagu_store::Role::Editor) {
        return signed_out(lang);
    }
    let campaigns = s.directory.store.campaigns().await.unwrap_or_default();
    let body = html! {
        h1 { (lang.t("医療的ケアの受け入れ状況調査", "Surveys of medical care")) }
        @if campaigns.is_empty() { p { (lang.t("調査はまだありません。", "No surveys yet.")) } }
        ul { @for c in &campaigns { li { a href=(format!("/surveys/{}", c.id)) { (c.name) } " — " (lang.t("期限 ", "due ")) (c.deadline) } } }
        form method="post" action="/logout" { button.secondary type="submit" { (lang.t("サインアウト", "Sign out")) } }
    };
    html_response(StatusCode::OK, page(lang, lang.t("調査", "Surveys"), "/surveys", body))
}

async fn dashboard(
    State(s): State<AppState>,
    Caller(key): Caller,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let lang = lang_of(&pairs(raw.as_deref()));
    let Some(key) = key.filter(|k| k.role >= tsunagu_store::Role::Editor) else { return signed_out(lang) };
    let Ok(Some(c)) = s.directory.store.campaign(&id).await else {
        return html_response(
            StatusCode::NOT_FOUND,
            page(lang, "404", "/surveys", html! { h1 { (lang.t("調査が見つかりません", "No such survey")) } }),
        );
    };
    let d = match sv::dashboard(s.directory.store.as_ref(), s.gazetteer, &c, Some(&key)).await {
        Ok(d) => d,
        Err(_) => {
            return html_response(
                StatusCode::SERVICE_UNAVAILABLE,
                page(lang, "503", "/surveys", html! { p { "503" } }),
            );
        }
    };
    let who = Editor(key);
    let visible: std::collections::HashMap<String, tsunagu_model::Resource> =
        crate::routes::survey::visible(&s, &c, &who)
            .await
            .map(|v| v.into_iter().map(|(i, r)| (i.id, r)).collect())
            .unwrap_or_default();
    let queue: Vec<(tsunagu_store::SurveyResponse, tsunagu_model::Resource)> = s
        .directory
        .store
        .responses(&c.id)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.status == "submitted")
        .filter_map(|r| visible.get(&r.invitation_id).cloned().map(|rec| (r, rec)))
        .collect();
    let body = html! {
        h1 { (c.name) }
        p.meta { (lang.t("期限 ", "Due ")) (c.deadline) " · " (if c.mode == "publish" { lang.t("回答はすぐ公開（未確認として）", "answers show at once (unverified)") } else { lang.t("センターが確認してから公開", "reviewed before they show") }) }
        p.summary { (lang.t("回答率 ", "Answered: ")) (d.overall.responded) " / " (d.overall.invited) " (" (format!("{:.0}", d.overall.rate * 100.0)) " %)" }
        div.scroll { table.gaps {
            tr { th { (lang.t("圏域", "Region")) } th { (lang.t("種別", "Kind")) } th { (lang.t("回答", "Answered")) } th { (lang.t("依頼", "Invited")) } }
            @for (region, kinds) in &d.by_region_and_kind {
                @for (kind, r) in kinds {
                    tr {
                        th scope="row" { (s.gazetteer.region(region).map(|g| g.name.clone()).unwrap_or_else(|| region.clone())) }
                        td { (kind.parse::<tsunagu_model::Kind>().map(|k| if lang.en { k.labels().en } else { k.labels().ja }).unwrap_or("")) }
                        td { (r.responded) } td { (r.invited) }
                    }
                }
            }
        } }
        @if !d.changes.is_empty() {
            h2 { (lang.t("この調査で変わったこと（確認済みの件数）", "What the survey changed (confirmed)")) }
            ul { @for ch in &d.changes { li { (if lang.en { ch.care_type.labels().en } else { ch.care_type.labels().ja }) " · " (ch.region_name) (lang.t("圏域", " region")) ": " (ch.before) " → " (ch.now) } } }
        }
        h2 { (lang.t("確認待ちの回答", "Answers to review")) " (" (queue.len()) ")" }
        @for (r, rec) in &queue {
            @let answers: SurveyAnswers = serde_json::from_value(r.answers.clone()).unwrap_or_default();
            article.card {
                h3 { (rec.name) }
                p.meta { (if r.channel == "paper" { lang.t("紙の調査票", "paper") } else { lang.t("フォーム", "form") }) " · " (r.submitted_at.map(|t| t.date_naive().to_string()).unwrap_or_default()) }
                div.scroll { table.gaps {
                    tr { th { (lang.t("項目", "Field")) } th { (lang.t("いま", "Now")) } th { (lang.t("回答", "Answer")) } }
                    @for ch in diff(rec, &answers) {
                        tr { th scope="row" { (field_label(lang, &ch.field)) } td { (value_text(lang, &ch.before)) } td { (value_text(lang, &ch.after)) } }
                    }
                } }
                form method="post" action=(format!("/surveys/{}/review/{}", c.id, r.invitation_id)) {
                    div.row {
                        button type="submit" name="decision" value="accept_all" { (lang.t("すべて承認", "Accept all")) }
                        button.secondary type="submit" name="decision" value="reject" { (lang.t("却下", "Reject")) }
                    }
                    label { (lang.t("メモ（却下の理由など）", "Note (why rejected)")) input type="text" name="note" maxlength="2000"; }
                }
            }
        }
        h2 { (lang.t("未回答", "Not answered yet")) " (" (d.non_responders.len()) ")" }
        div.scroll { table.gaps {
            tr { th { (lang.t("コード", "Code")) } th { (lang.t("事業所", "Provider")) } th { (lang.t("電話", "Phone")) } th { "FAX" } }
            @for n in &d.non_responders { tr { td { (n.code) } th scope="row" { (n.name) } td { (n.phone.as_deref().unwrap_or("-")) } td { (n.fax.as_deref().unwrap_or("-")) } } }
        } }
        p {
            a href=(format!("/v1/surveys/{}/non_responders.csv", c.id)) { (lang.t("未回答の一覧（CSV）", "Non-responders (CSV)")) } " · "
            a href=(format!("/v1/surveys/{}/answers.csv", c.id)) { (lang.t("回答の一覧（CSV）", "Answers (CSV)")) } " · "
            a href=(format!("/v1/surveys/{}/questionnaires", c.id)) { (lang.t("白紙の調査票を印刷", "Print blank questionnaires")) }
        }
        form method="post" action=(format!("/v1/surveys/{}/letters", c.id)) {
            button type="submit" { (lang.t("未回答の事業所への依頼状を印刷（新しいリンクを発行）", "Print letters to non-responders (new links)")) }
        }
    };
    let mut res = html_response(StatusCode::OK, page(lang, &c.name, &format!("/surveys/{id}"), body));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

async fn review(
    State(s): State<AppState>,
    who: Editor,
    Path((id, invitation)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let form: Vec<(String, String)> =
        form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string()).filter(|v| !v.is_empty());
    let decision = match get("decision").as_deref() {
        Some("accept_all") => Decision::AcceptAll,
        Some("reject") => Decision::Reject,
        _ => return (StatusCode::BAD_REQUEST, "decision: accept_all or reject").into_response(),
    };
    let policy = who.policy(&s);
    let note = get("note");
    let outcome = sv::review(&s.directory, &who.actor(), &policy, &invitation, decision, note.as_deref()).await;
    match outcome {
        Ok(_) | Err(SurveyError::Reviewed) => {
            let mut res = (StatusCode::SEE_OTHER, "").into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("/surveys/{id}")) {
                res.headers_mut().insert(header::LOCATION, v);
            }
            res
        }
        Err(e) => crate::routes::survey::problem(e).into_response(),
    }
}

/// A survey field as a person reads it.
fn field_label(lang: Lang, field: &str) -> String {
    if let Some(code) = field.strip_prefix("care/")
        && let Ok(c) = code.parse::<tsunagu_model::CareType>()
    {
        return (if lang.en { c.labels().en } else { c.labels().ja }).to_string();
    }
    let (ja, en) = match field {
        "nurse_schedule" => ("看護師がいる曜日と時間", "Nurse on site"),
        "opening_hours" => ("開所時間", "Opening hours"),
        "vacancies" => ("空き", "Vacancies"),
        "ages" => ("受け入れ年齢", "Ages"),
        "transport" => ("車両の設備", "Vehicle equipment"),
        "phone" => ("電話番号", "Phone"),
        "contact" => ("担当者（非公開）", "Contact person (private)"),
        "comment" => ("コメント（非公開）", "Comment (private)"),
        other => (other, other),
    };
    (if lang.en { en } else { ja }).to_string()
}

/// A diff value as a person reads it: care states in words, other values as they are.
fn value_text(lang: Lang, v: &serde_json::Value) -> String {
    if let Some(state) = v.get("state").and_then(|s| s.as_str()) {
        let mut out = match state {
            "can" => lang.t("できる", "can"),
            "conditional" => lang.t("条件つき", "conditional"),
            "cannot" => lang.t("できない", "cannot"),
            _ => lang.t("わからない", "unknown"),
        }
        .to_string();
        let by: Vec<String> = v
            .get("by")
            .and_then(|b| b.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|p| p.as_str().and_then(tsunagu_model::survey::Performer::parse))
                    .map(|p| {
                        let (ja, en, _) = p.labels();
                        (if lang.en { en } else { ja }).to_string()
                    })
                    .collect()
            })
            .unwrap_or_default();
        if !by.is_empty() {
            out.push_str(&format!("（{}）", by.join(lang.t("、", ", "))));
        }
        if let Some(n) = v.get("note").and_then(|n| n.as_str()) {
            out.push_str(&format!("：{n}"));
        }
        return out;
    }
    match v {
        serde_json::Value::Null => "—".into(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
