//! Emergencies: an admin declares an outage or a disaster for some municipalities or 圏域, with a
//! message, and ends it; each step is audited. Anyone may read them (the family page shows them);
//! the audit trail is for key holders.
//!
//! - `POST /v1/emergencies` (admin) — declare.
//! - `GET /v1/emergencies[?status=current|all]` — not ended (default), or every one.
//! - `GET /v1/emergencies/{id}`, `POST /v1/emergencies/{id}/end` (admin),
//!   `GET /v1/emergencies/{id}/history` (reader).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tsunagu_model::MunicipalityCode;
use tsunagu_model::emergency::{Emergency, EmergencyKind};

use crate::AppState;
use crate::auth::{Admin, Reader};
use crate::params::Params;
use crate::problem::{InvalidParam, Problem};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/emergencies", get(list).post(declare))
        .route("/v1/emergencies/{id}", get(one))
        .route("/v1/emergencies/{id}/end", post(end))
        .route("/v1/emergencies/{id}/history", get(history))
}

const MEMBERS: [&str; 7] = ["kind", "message_ja", "message_en", "municipalities", "regions", "starts_at", "ends_at"];

/// An emergency as anyone may read it.
pub fn view(s: &AppState, e: &Emergency, now: DateTime<Utc>) -> Value {
    let g = s.gazetteer;
    json!({
        "id": e.id,
        "kind": e.kind,
        "kind_ja": e.kind.ja(),
        "kind_en": e.kind.en(),
        "message_ja": e.message_ja,
        "message_en": e.message_en,
        "regions": e.regions.iter().filter_map(|id| g.region(id)).map(|r| json!({"id": r.id, "name": r.name})).collect::<Vec<_>>(),
        "municipalities": e.municipalities.iter().map(|c| json!({"code": c, "name": g.municipality(*c).map(|m| m.name.as_str())})).collect::<Vec<_>>(),
        "starts_at": e.starts_at,
        "ends_at": e.ends_at,
        "active": e.active_at(now),
    })
}

/// The emergencies in force at `now` in any of `codes`.
pub async fn in_force(s: &AppState, codes: &[MunicipalityCode], now: DateTime<Utc>) -> Vec<Emergency> {
    let listed = s.directory.store.emergencies(Some(now)).await.unwrap_or_else(|e| {
        // The answer goes out without its banner rather than not at all; the failure is logged.
        tracing::error!(error = %e, "emergencies could not be read");
        Vec::new()
    });
    listed.into_iter().filter(|e| e.active_at(now) && codes.iter().any(|c| e.covers(*c))).collect()
}

fn text(v: &Value, name: &str, errs: &mut Vec<InvalidParam>) -> Option<String> {
    match v.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            errs.push(InvalidParam::param(name, "must be a string"));
            None
        }
    }
}

fn time(v: &Value, name: &str, errs: &mut Vec<InvalidParam>) -> Option<DateTime<Utc>> {
    let t = text(v, name, errs)?;
    match DateTime::parse_from_rfc3339(&t) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(_) => {
            errs.push(InvalidParam::param(name, "must be an RFC 3339 date-time, e.g. 2026-12-03T09:00:00+09:00"));
            None
        }
    }
}

fn strings(v: &Value, name: &str, errs: &mut Vec<InvalidParam>) -> Vec<String> {
    match v.get(name) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) if a.iter().all(Value::is_string) && a.len() <= 200 => {
            a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()
        }
        Some(_) => {
            errs.push(InvalidParam::param(name, "must be a list of at most 200 strings"));
            Vec::new()
        }
    }
}

/// `POST /v1/emergencies`
async fn declare(State(s): State<AppState>, who: Admin, body: Bytes) -> Result<Response, Problem> {
    let v = super::json_object(&body)?;
    let obj = v.as_object().expect("json_object gives an object");
    let mut errs = Vec::new();
    for k in obj.keys() {
        if !MEMBERS.contains(&k.as_str()) {
            errs.push(InvalidParam::param(
                tsunagu_model::codes::truncate(k, 40),
                format!("unknown member; allowed: {}", MEMBERS.join(", ")),
            ));
        }
    }
    let kind = match text(&v, "kind", &mut errs).as_deref() {
        Some("outage") => Some(EmergencyKind::Outage),
        Some("disaster") => Some(EmergencyKind::Disaster),
        Some(_) => {
            errs.push(InvalidParam::param("kind", "must be outage or disaster").with_allowed(["outage", "disaster"]));
            None
        }
        None => {
            errs.push(
                InvalidParam::param("kind", "is required: outage or disaster").with_allowed(["outage", "disaster"]),
            );
            None
        }
    };
    let message_ja = text(&v, "message_ja", &mut errs);
    if message_ja.is_none() && !errs.iter().any(|e| e.name.as_deref() == Some("message_ja")) {
        errs.push(InvalidParam::param("message_ja", "is required"));
    }
    let message_en = text(&v, "message_en", &mut errs);
    let g = s.gazetteer;
    let mut codes: Vec<MunicipalityCode> = Vec::new();
    for c in strings(&v, "municipalities", &mut errs) {
        match c.parse::<MunicipalityCode>().ok().filter(|c| g.municipality(*c).is_some()) {
            Some(code) => codes.extend(g.expand(code)),
            None => errs.push(InvalidParam::param(
                "municipalities",
                format!("unknown municipality `{}`", tsunagu_model::codes::truncate(&c, 20)),
            )),
        }
    }
    let mut regions = Vec::new();
    for r in strings(&v, "regions", &mut errs) {
        match g.region_by_name(&r) {
            Some(region) => {
                regions.push(region.id.clone());
                codes.extend(g.region_codes(region).into_iter().flat_map(|c| g.expand(c)));
            }
            None => errs.push(
                InvalidParam::param("regions", format!("unknown region `{}`", tsunagu_model::codes::truncate(&r, 30)))
                    .with_allowed(g.regions().iter().map(|r| r.id.clone())),
            ),
        }
    }
    codes.sort();
    codes.dedup();
    regions.sort();
    regions.dedup();
    let now = Utc::now();
    let starts_at = time(&v, "starts_at", &mut errs).unwrap_or(now);
    let ends_at = time(&v, "ends_at", &mut errs);
    if ends_at.is_some_and(|e| e <= now) {
        errs.push(InvalidParam::param("ends_at", "is in the past"));
    }
    let e = Emergency {
        id: uuid::Uuid::now_v7().to_string(),
        kind: kind.unwrap_or(EmergencyKind::Disaster),
        message_ja: message_ja.unwrap_or_default(),
        message_en,
        regions,
        municipalities: codes,
        starts_at,
        ends_at,
        created_at: now,
    };
    for p in e.problems() {
        if !errs.iter().any(|x| x.name.as_deref() == Some(p.field.as_str())) {
            errs.push(InvalidParam::param(p.field, p.reason));
        }
    }
    if !errs.is_empty() {
        return Err(Problem::invalid(errs));
    }
    forbid_outside(&s, &who, &e)?;
    s.directory.store.insert_emergency(&e, &who.actor()).await?;
    let mut res = (StatusCode::CREATED, Json(view(&s, &e, Utc::now()))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/emergencies/{}", e.id)) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// An admin limited to some 圏域 declares and ends emergencies there only.
fn forbid_outside(s: &AppState, who: &Admin, e: &Emergency) -> Result<(), Problem> {
    if who.0.regions.is_empty() {
        return Ok(());
    }
    let g = s.gazetteer;
    let outside: Vec<String> = e
        .municipalities
        .iter()
        .filter(|c| g.region_of(**c).is_none_or(|r| !who.0.regions.contains(&r.id)))
        .filter_map(|c| g.municipality(*c).map(|m| m.name.clone()))
        .collect();
    if outside.is_empty() {
        Ok(())
    } else {
        Err(Problem::new(
            StatusCode::FORBIDDEN,
            "/problems/forbidden",
            "Forbidden",
            format!(
                "this key may act in its regions only ({}); outside: {}",
                who.0.regions.join(", "),
                outside.join("、")
            ),
        ))
    }
}

fn not_found(id: &str) -> Problem {
    Problem::not_found(format!("no emergency `{}`", tsunagu_model::codes::truncate(id, 40)))
}

/// `GET /v1/emergencies`
async fn list(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Result<Json<Value>, Problem> {
    let mut p = Params::parse(raw.as_deref(), &["status"])?;
    let status = p.one("status").unwrap_or_else(|| "current".into());
    if !["current", "all"].contains(&status.as_str()) {
        p.error(InvalidParam::param("status", "must be current or all").with_allowed(["current", "all"]));
    }
    p.finish()?;
    let now = Utc::now();
    let found = s.directory.store.emergencies((status == "current").then_some(now)).await?;
    Ok(Json(json!({ "emergencies": found.iter().map(|e| view(&s, e, now)).collect::<Vec<_>>() })))
}

/// `GET /v1/emergencies/{id}`
async fn one(State(s): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let e = s.directory.store.emergency(&id).await?.ok_or_else(|| not_found(&id))?;
    Ok(Json(view(&s, &e, Utc::now())))
}

/// `POST /v1/emergencies/{id}/end`
async fn end(State(s): State<AppState>, who: Admin, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let e = s.directory.store.emergency(&id).await?.ok_or_else(|| not_found(&id))?;
    forbid_outside(&s, &who, &e)?;
    match s.directory.store.end_emergency(&id, Utc::now(), &who.actor()).await? {
        None => Err(not_found(&id)),
        Some(Ok(e)) => Ok(Json(view(&s, &e, Utc::now()))),
        Some(Err(e)) => Err(Problem::new(
            StatusCode::CONFLICT,
            "/problems/already-ended",
            "Already ended",
            format!("the emergency ended at {}", e.ends_at.map(|t| t.to_rfc3339()).unwrap_or_default()),
        )),
    }
}

/// `GET /v1/emergencies/{id}/history`
async fn history(State(s): State<AppState>, _who: Reader, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    s.directory.store.emergency(&id).await?.ok_or_else(|| not_found(&id))?;
    let entries = s.directory.store.emergency_history(&id).await?;
    Ok(Json(json!({ "id": id, "history": entries })))
}
