//! Reports from the public: `POST /v1/resources/{id}/reports` ("this is wrong / closed /
//! moved"), no key needed, rate-limited per client; stored for editors and never applied
//! automatically. Editors list them (`GET /v1/reports`) and close them (`PATCH /v1/reports/{id}`).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tsunagu_directory::authz::municipalities_of;
use tsunagu_model::ResourceId;
use tsunagu_store::{Refusal, Report, ReportQuery};

use crate::AppState;
use crate::auth::{Editor, forbidden};
use crate::clients::Client;
use crate::limits::{REPORT_CLIENT_WINDOW, too_many};
use crate::params::Params;
use crate::problem::{InvalidParam, Problem};

pub const KINDS: [&str; 4] = ["wrong", "closed", "moved", "other"];
const MAX_MESSAGE_CHARS: usize = 2_000;
const MAX_CONTACT_CHARS: usize = 200;
pub const MAX_REPORT_BYTES: usize = 16 << 10;

/// Reports accepted per client per 10 minutes, by default (see [`crate::limits`]).
pub const PER_CLIENT: u32 = 5;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/resources/{id}/reports", post(create))
        .route("/v1/reports", get(list))
        .route("/v1/reports/{id}", patch(handle))
}

fn invalid(pointer: &str, reason: impl Into<String>) -> InvalidParam {
    InvalidParam { name: None, pointer: Some(pointer.into()), reason: reason.into(), allowed: Vec::new() }
}

async fn create(State(s): State<AppState>, Path(id): Path<String>, req: Request) -> Result<Response, Problem> {
    let client = req.extensions().get::<Client>().copied();
    let body = axum::body::to_bytes(req.into_body(), MAX_REPORT_BYTES).await.map_err(|_| {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "/problems/too-large",
            "Request body too large",
            format!("a report is at most {MAX_REPORT_BYTES} bytes"),
        )
    })?;
    let rid: ResourceId = id.parse().map_err(|_| {
        Problem::invalid(vec![InvalidParam::param(
            "id",
            format!("`{}` is not a resource id", tsunagu_model::codes::truncate(&id, 40)),
        )])
    })?;
    let report = match submit(&s, client, rid, &body).await? {
        Submitted::Accepted(r) => r,
        Submitted::TooMany { wait, detail } => return Ok(too_many(wait, detail)),
    };
    let body = json!({
        "id": report.id,
        "resource_id": rid,
        "status": "open",
        "received_at": report.created_at,
        "message_ja": THANKS_JA,
        "message_en": THANKS_EN,
    });
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

/// What the public is told when a report is stored.
pub const THANKS_JA: &str = "ご報告ありがとうございます。担当者が確認します（自動では反映されません）。";
pub const THANKS_EN: &str = "Thank you. Staff will check your report; it is not applied automatically.";

/// The outcome of a report that was well formed.
pub enum Submitted {
    Accepted(Report),
    /// The client or its network sent its share; try again after `wait`.
    TooMany {
        wait: crate::limits::Wait,
        detail: String,
    },
}

/// Validate and store a report on a public record (the API's and the page's way in): 400/422 for
/// a bad body, 404 for a record the public cannot see, rate-limited per client and network.
pub async fn submit(s: &AppState, client: Option<Client>, rid: ResourceId, body: &[u8]) -> Result<Submitted, Problem> {
    let (kind, message, contact) = parse(body)?;
    // Only records the public can see can be reported.
    let found = s.served(rid).await?.filter(|v| !v.deleted);
    if found.is_none() {
        return Err(Problem::not_found(format!("no resource {rid}")));
    }
    if let Err(wait) = s.limits.admit_report(client) {
        let c = s.limits.config();
        return Ok(Submitted::TooMany {
            wait,
            detail: format!(
                "at most {} reports per {} minutes from one client, and {} per hour from one network",
                c.reports_per_client,
                REPORT_CLIENT_WINDOW.as_secs() / 60,
                c.reports_per_network
            ),
        });
    }
    let report = Report {
        id: ResourceId::new_random().to_string(),
        resource_id: rid,
        kind,
        message,
        contact,
        created_at: chrono::Utc::now(),
        status: "open".into(),
        handled_by: None,
        handled_by_key_id: None,
        handled_at: None,
        note: None,
    };
    s.directory.store.insert_report(&report).await?;
    Ok(Submitted::Accepted(report))
}

fn parse(body: &[u8]) -> Result<(String, String, Option<String>), Problem> {
    let v = super::json_object(body)?;
    let obj = v.as_object().expect("json_object gives an object");
    let mut errs = Vec::new();
    for k in obj.keys().filter(|k| !["kind", "message", "contact"].contains(&k.as_str())) {
        errs.push(invalid(&format!("/{k}"), "unknown member; allowed: kind, message, contact"));
    }
    let kind = match obj.get("kind").and_then(Value::as_str) {
        Some(k) if KINDS.contains(&k) => k.to_string(),
        Some(k) => {
            errs.push(
                invalid("/kind", format!("unknown kind `{}`", tsunagu_model::codes::truncate(k, 20)))
                    .with_allowed(KINDS),
            );
            String::new()
        }
        None => {
            errs.push(invalid("/kind", "required: what is wrong").with_allowed(KINDS));
            String::new()
        }
    };
    let message = match obj.get("message") {
        None | Some(Value::Null) => String::new(),
        // Blank is blank whichever definition a client's validator uses (Rust's, or ECMA-262's,
        // which counts U+FEFF as space).
        Some(Value::String(m)) => m.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}').to_string(),
        Some(_) => {
            errs.push(invalid("/message", "must be text"));
            String::new()
        }
    };
    if message.chars().count() > MAX_MESSAGE_CHARS {
        errs.push(invalid("/message", format!("at most {MAX_MESSAGE_CHARS} characters")));
    }
    if message.is_empty() && matches!(kind.as_str(), "wrong" | "other") {
        errs.push(invalid("/message", "say what is wrong (何が違うかを書いてください)"));
    }
    let contact = match obj.get("contact") {
        None | Some(Value::Null) => None,
        Some(Value::String(c)) if c.trim().is_empty() => None,
        Some(Value::String(c)) if c.chars().count() > MAX_CONTACT_CHARS => {
            errs.push(invalid("/contact", format!("at most {MAX_CONTACT_CHARS} characters")));
            None
        }
        Some(Value::String(c)) => Some(c.trim().to_string()),
        Some(_) => {
            errs.push(invalid("/contact", "must be text"));
            None
        }
    };
    if errs.is_empty() {
        Ok((kind, message, contact))
    } else {
        let detail = errs
            .iter()
            .map(|e| format!("{}: {}", e.pointer.as_deref().unwrap_or("/"), e.reason))
            .collect::<Vec<_>>()
            .join("; ");
        Err(Problem {
            invalid: errs,
            ..Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "/problems/invalid-report", "Invalid report", detail)
        })
    }
}

async fn list(State(s): State<AppState>, who: Editor, RawQuery(raw): RawQuery) -> Result<Response, Problem> {
    let mut p = Params::parse(raw.as_deref(), &["status", "limit", "offset"])?;
    let status = match p.one("status").as_deref() {
        None | Some("open") => Some("open"),
        Some("resolved") => Some("resolved"),
        Some("dismissed") => Some("dismissed"),
        Some("all") => None,
        Some(other) => {
            p.error(
                InvalidParam::param(
                    "status",
                    format!("unknown status `{}`", tsunagu_model::codes::truncate(other, 20)),
                )
                .with_allowed(["open", "resolved", "dismissed", "all"]),
            );
            None
        }
    };
    let limit = p.parsed::<u32>("limit", "is not a whole number").unwrap_or(100);
    if !(1..=1_000).contains(&limit) {
        p.error(InvalidParam::param("limit", "must be 1–1000"));
    }
    let offset = p.parsed::<u32>("offset", "is not a whole number").unwrap_or(0);
    if offset > 100_000 {
        p.error(InvalidParam::param("offset", "must be at most 100000"));
    }
    p.finish()?;
    // A region-limited editor sees reports about records of its regions; the filter applies
    // before the page is cut.
    let within = municipalities_of(&who.0, s.gazetteer);
    let q = ReportQuery { status, municipalities: within.as_deref(), limit, offset };
    let reports = s.directory.store.reports(&q).await?;
    Ok(Json(json!({ "reports": reports })).into_response())
}

async fn handle(
    State(s): State<AppState>,
    who: Editor,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Problem> {
    let v = super::json_object(&body)?;
    let obj = v.as_object().expect("json_object gives an object");
    let mut errs = Vec::new();
    for k in obj.keys().filter(|k| !["status", "note"].contains(&k.as_str())) {
        errs.push(invalid(&format!("/{k}"), "unknown member; allowed: status, note"));
    }
    let status = obj.get("status").and_then(Value::as_str).unwrap_or("");
    if !["resolved", "dismissed"].contains(&status) {
        errs.push(invalid("/status", "must be resolved or dismissed").with_allowed(["resolved", "dismissed"]));
    }
    let note = match obj.get("note") {
        None | Some(Value::Null) => None,
        Some(Value::String(n)) if n.chars().count() > MAX_MESSAGE_CHARS => {
            errs.push(invalid("/note", format!("at most {MAX_MESSAGE_CHARS} characters")));
            None
        }
        Some(Value::String(n)) => Some(n.trim()).filter(|n| !n.is_empty()),
        Some(_) => {
            errs.push(invalid("/note", "must be text or null"));
            None
        }
    };
    if !errs.is_empty() {
        return Err(Problem::invalid(errs));
    }
    let no_such = || Problem::not_found(format!("no open report `{}`", tsunagu_model::codes::truncate(&id, 40)));
    let policy = who.policy(&s);
    match s.directory.store.handle_report(&id, status, &who.actor(), note, &policy).await? {
        None => Err(no_such()),
        Some(Err(Refusal::NotServed)) => Err(no_such()),
        Some(Err(Refusal::Forbidden(why))) => Err(forbidden(why)),
        Some(Ok(report)) => Ok(Json(json!({
            "id": report.id,
            "resource_id": report.resource_id,
            "status": report.status,
            "handled_by": report.handled_by,
            "handled_at": report.handled_at,
            "note": report.note,
        }))
        .into_response()),
    }
}
