//! `GET /v1/training?audience=…&region=…&course=…&open=…`: training sessions (研修) still to
//! come, soonest first (past ones are left out), and `GET /v1/training.ics` with the same
//! filters: an iCalendar feed (RFC 5545) a nursery or school subscribes to.

use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use serde_json::{Value, json};
use tsunagu_directory::offers::{SessionEntry, SessionQuery};
use tsunagu_exchange::ical::{self, FeedEvent};
use tsunagu_model::details::japan_date;
use tsunagu_model::{Audience, CourseType};

use crate::AppState;
use crate::params::Params;
use crate::problem::{InvalidParam, Problem};
use crate::routes::places::region_param;
use crate::routes::search::list;
use crate::views::LabelView;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/training", get(sessions)).route("/v1/training.ics", get(calendar))
}

/// Most sessions one answer lists.
pub const MAX_LIMIT: usize = 500;

/// The filters of both forms; bad values are recorded in `p`.
pub fn query_of(s: &AppState, p: &mut Params) -> SessionQuery {
    let audience = list::<Audience>(p, "audience");
    let course = list::<CourseType>(p, "course");
    if course.len() > 1 {
        p.error(InvalidParam::param("course", "give one course type"));
    }
    if course.is_empty() && p.one("course").is_some_and(|v| v.trim().is_empty()) {
        p.error(
            InvalidParam::param("course", "is empty: give a course type, or leave the parameter out")
                .with_allowed(CourseType::codes()),
        );
    }
    let region = region_param(s.gazetteer, p).map(|r| r.id.clone());
    let open_only = p.bool("open").unwrap_or(false);
    SessionQuery { audience, course: course.first().copied(), region, open_only }
}

pub async fn entries(s: &AppState, q: &SessionQuery) -> Result<Vec<SessionEntry>, Problem> {
    s.directory
        .sessions(&s.planner, q, Utc::now(), s.config.serve_sample_data)
        .await
        .map_err(|e| Problem::internal(format!("training: {e}")))
}

/// One session as the API gives it; `today` (Japan's date) decides whether it still takes
/// applications.
pub fn session_json(s: &AppState, e: &SessionEntry, today: chrono::NaiveDate) -> Value {
    let r = &e.resource;
    let t = r.training.as_ref().expect("sessions come from courses");
    json!({
        "resource_id": r.id,
        "name": r.name,
        "course": LabelView::from(t.course.labels()),
        "organiser": t.organiser,
        "audience": t.audience.iter().map(|a| LabelView::from(a.labels())).collect::<Vec<_>>(),
        "session": e.index,
        "starts_at": e.session.starts_at,
        "ends_at": e.session.ends_at,
        "venue": e.session.venue,
        "online": e.session.online,
        "capacity": e.session.capacity,
        "seats_left": e.session.seats_left,
        "apply_by": e.session.apply_by,
        "open_for_applications": e.session.open_for_applications(today),
        "note": e.session.note,
        "fee": t.fee,
        "how_to_apply": t.how_to_apply,
        "phone": r.contact.phone,
        "url": format!("{}/resources/{}", s.config.public_url.trim_end_matches('/'), r.id),
        "sample": r.sample,
    })
}

/// The feed's path and query for the same filters, for the answer's `calendar` link and the page.
pub fn calendar_path(q: &SessionQuery) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for a in &q.audience {
        out.append_pair("audience", a.code());
    }
    if let Some(c) = q.course {
        out.append_pair("course", c.code());
    }
    if let Some(r) = &q.region {
        out.append_pair("region", r);
    }
    let query = out.finish();
    format!("/v1/training.ics{}{query}", if query.is_empty() { "" } else { "?" })
}

async fn sessions(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Result<Json<Value>, Problem> {
    let mut p = Params::parse(raw.as_deref(), &["audience", "course", "region", "open", "limit"])?;
    let q = query_of(&s, &mut p);
    let limit: usize = p.parsed("limit", "is not a whole number").unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        p.error(InvalidParam::param("limit", format!("must be 1–{MAX_LIMIT}")));
    }
    p.finish()?;
    let found = entries(&s, &q).await?;
    let today = japan_date(Utc::now());
    Ok(Json(json!({
        "total": found.len(),
        "sessions": found.iter().take(limit).map(|e| session_json(&s, e, today)).collect::<Vec<_>>(),
        "calendar": calendar_path(&q),
    })))
}

/// The feed's title, from its filters: 「研修（保育士・松本圏域）」.
fn title(s: &AppState, q: &SessionQuery) -> String {
    let mut parts: Vec<String> = q.audience.iter().map(|a| a.labels().ja.to_string()).collect();
    if let Some(c) = q.course {
        parts.push(c.labels().ja.to_string());
    }
    if let Some(r) = q.region.as_deref().and_then(|id| s.gazetteer.region(id)) {
        parts.push(format!("{}圏域", r.name));
    }
    if parts.is_empty() { "tsunagu 研修".to_string() } else { format!("tsunagu 研修（{}）", parts.join("・")) }
}

pub fn event_of(s: &AppState, e: &SessionEntry) -> FeedEvent {
    let r = &e.resource;
    let t = r.training.as_ref().expect("sessions come from courses");
    let sess = &e.session;
    let mut lines = vec![format!("{}（主催：{}）", t.course.labels().ja, t.organiser)];
    let who: Vec<&str> = t.audience.iter().map(|a| a.labels().ja).collect();
    lines.push(format!("対象：{}", who.join("、")));
    if let Some(n) = &sess.note {
        lines.push(n.clone());
    }
    match (sess.capacity, sess.seats_left) {
        (Some(c), Some(l)) => lines.push(format!("定員：{c}人（残り{l}人）")),
        (Some(c), None) => lines.push(format!("定員：{c}人")),
        _ => {}
    }
    if let Some(d) = sess.apply_by {
        lines.push(format!("申込締切：{d}"));
    }
    if let Some(h) = &t.how_to_apply {
        lines.push(format!("申込方法：{h}"));
    }
    if let Some(phone) = &r.contact.phone {
        lines.push(format!("電話：{phone}"));
    }
    if r.sample {
        lines.push("※架空のサンプルデータです。".to_string());
    }
    let location = match (&sess.venue, sess.online) {
        (Some(v), true) => Some(format!("{v}／オンライン")),
        (Some(v), false) => Some(v.clone()),
        (None, true) => Some("オンライン".to_string()),
        (None, false) => None,
    };
    FeedEvent {
        uid: e.uid(),
        summary: r.name.clone(),
        description: lines.join("\n"),
        location,
        url: Some(format!("{}/resources/{}", s.config.public_url.trim_end_matches('/'), r.id)),
        starts: sess.starts_at.with_timezone(&Utc),
        ends: sess.ends_at.with_timezone(&Utc),
        categories: vec![t.course.labels().ja.to_string()],
        updated: r.updated_at,
    }
}

async fn calendar(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, Problem> {
    let mut p = Params::parse(raw.as_deref(), &["audience", "course", "region"])?;
    let q = query_of(&s, &mut p);
    p.finish()?;
    let found = entries(&s, &q).await?;
    let events: Vec<FeedEvent> = found.iter().map(|e| event_of(&s, e)).collect();
    let body = ical::feed(&title(&s, &q), "tsunagu: 医療的ケア児の支援に関わる研修の日程", &events, Utc::now());
    Ok((
        [
            (header::CONTENT_TYPE, ical::MEDIA_TYPE),
            (header::CONTENT_DISPOSITION, "inline; filename=\"tsunagu-training.ics\""),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response())
}
