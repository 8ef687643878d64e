//! Writes (API key required): create, replace, merge-patch, delete and restore resources; update
//! availability; confirm a record; read its history.
//!
//! Every change is committed in the store first (with an audit entry naming the key) and is
//! searchable when the response is sent. Updates need `If-Match` with the record's ETag and get
//! 412 when someone else changed it meanwhile; POST honours `Idempotency-Key`.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::Utc;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tsunagu_model::{Resource, ResourceId, TimeRange, WeeklyHours};
use tsunagu_store::{ApiKey, Remembered, Role, Versioned, WriteOp, WriteRefused};

use crate::AppState;
use crate::auth::{forbidden, require};
use crate::problem::{InvalidParam, Problem};
use crate::views::ResourceView;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/resources", post(create))
        .route("/v1/resources/{id}/availability", put(availability))
        .route("/v1/resources/{id}/verify", post(verify))
        .route("/v1/resources/{id}/restore", post(restore))
        .route("/v1/resources/{id}/history", get(history))
}

/// The ETag of a version.
pub fn etag(version: i64) -> String {
    format!("\"v{version}\"")
}

fn parse_id(id: Result<Path<String>, PathRejection>) -> Result<ResourceId, Problem> {
    let Path(raw) = id.map_err(|e| Problem::invalid(vec![InvalidParam::param("id", e.body_text())]))?;
    raw.parse().map_err(|e: tsunagu_model::FieldError| Problem::invalid(vec![InvalidParam::param("id", e.reason)]))
}

/// 422 with one entry per problem, each with a JSON pointer.
fn unprocessable(errors: Vec<tsunagu_model::FieldError>) -> Problem {
    let invalid: Vec<InvalidParam> = errors
        .into_iter()
        .map(|e| InvalidParam {
            name: None,
            pointer: Some(format!("/{}", e.field)),
            reason: e.reason,
            allowed: Vec::new(),
        })
        .collect();
    let detail = invalid
        .iter()
        .map(|p| format!("{}: {}", p.pointer.as_deref().unwrap_or("/"), p.reason))
        .collect::<Vec<_>>()
        .join("; ");
    Problem {
        invalid,
        ..Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "/problems/invalid-resource", "Invalid resource", detail)
    }
}

fn json_body(body: &Bytes) -> Result<Value, Problem> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| Problem::invalid(vec![InvalidParam::param("body", format!("not JSON: {e}"))]))?;
    if !v.is_object() {
        return Err(Problem::invalid(vec![InvalidParam::param("body", "must be a JSON object")]));
    }
    Ok(v)
}

/// Parse and check a resource: forms (serde), rules (model) and places (gazetteer).
fn validated(v: Value) -> Result<Resource, Problem> {
    let r = Resource::from_json(v).map_err(|errs| {
        unprocessable(
            errs.into_iter()
                .map(|e| if e.field.is_empty() { tsunagu_model::FieldError::new("", e.reason) } else { e })
                .collect(),
        )
    })?;
    let places = tsunagu_places::check_places(tsunagu_places::Gazetteer::bundled(), &r);
    if !places.is_empty() {
        return Err(unprocessable(places));
    }
    Ok(r)
}

/// An editor limited to some 圏域 may only touch records located there.
fn check_region(s: &AppState, key: &ApiKey, r: &Resource) -> Result<(), Problem> {
    if key.role >= Role::Admin || key.regions.is_empty() {
        return Ok(());
    }
    let region = s.gazetteer.region_of(r.municipality_code).map(|x| x.id.clone()).unwrap_or_default();
    if key.regions.contains(&region) {
        Ok(())
    } else {
        Err(forbidden(format!(
            "the key `{}` may edit records in {} only; this one is in {region}",
            key.name,
            key.regions.join(", ")
        )))
    }
}

fn if_match(headers: &HeaderMap) -> Result<i64, Problem> {
    let v = headers.get(header::IF_MATCH).ok_or_else(|| {
        Problem::new(
            StatusCode::PRECONDITION_REQUIRED,
            "/problems/if-match-required",
            "If-Match required",
            "send If-Match with the record's ETag (from GET) so that concurrent edits are not lost",
        )
    })?;
    v.to_str()
        .ok()
        .and_then(|s| {
            s.trim().trim_start_matches("W/").trim_matches('"').strip_prefix('v').and_then(|n| n.parse().ok())
        })
        .ok_or_else(|| {
            Problem::invalid(vec![InvalidParam::param("If-Match", "is not an ETag of this API (\"v<number>\")")])
        })
}

fn refused(r: WriteRefused, id: ResourceId) -> Problem {
    match r {
        WriteRefused::NotFound => not_found(id),
        WriteRefused::Exists => Problem::new(
            StatusCode::CONFLICT,
            "/problems/exists",
            "Already exists",
            format!("a resource with id {id} exists"),
        ),
        WriteRefused::Conflict { current } => Problem::new(
            StatusCode::PRECONDITION_FAILED,
            "/problems/edit-conflict",
            "Edit conflict",
            format!(
                "the record changed meanwhile; its ETag is now {}: reload it and apply your change again",
                etag(current)
            ),
        ),
    }
}

fn with_etag(status: StatusCode, s: &AppState, v: Versioned) -> Response {
    let tag = etag(v.version);
    let mut res = (status, Json(ResourceView::with_private(s.gazetteer, v.resource, &s.config))).into_response();
    if let Ok(h) = HeaderValue::from_str(&tag) {
        res.headers_mut().insert(header::ETAG, h);
    }
    res
}

async fn write(s: &AppState, op: WriteOp, key: &ApiKey) -> Result<Versioned, Problem> {
    let id = match &op {
        WriteOp::Create(r) | WriteOp::Replace { resource: r, .. } => r.id,
        WriteOp::Delete { id, .. } | WriteOp::Restore { id } => *id,
    };
    match s.directory.write(op, &key.name).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(r)) => Err(refused(r, id)),
        Err(e) => Err(Problem::internal(e.to_string())),
    }
}

/// `POST /v1/resources`
async fn create(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, Problem> {
    let key = require(&headers, s.directory.store.as_ref(), Role::Editor).await?;
    let idem = headers.get("idempotency-key").map(|v| v.to_str().unwrap_or_default().to_string());
    let request_hash = format!("{:x}", Sha256::digest(&body));
    if let Some(k) = &idem {
        if k.is_empty() || k.len() > 200 {
            return Err(Problem::invalid(vec![InvalidParam::param(
                "Idempotency-Key",
                "must be 1–200 visible characters",
            )]));
        }
        if let Some(prev) = s.directory.store.remembered(k, &key.name).await? {
            if prev.request_hash != request_hash {
                return Err(Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "/problems/idempotency-key-reused",
                    "Idempotency key reused",
                    "this Idempotency-Key was used with a different request",
                ));
            }
            let mut res =
                (StatusCode::from_u16(prev.status).unwrap_or(StatusCode::CREATED), prev.response).into_response();
            res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            return Ok(res);
        }
    }
    let mut v = json_body(&body)?;
    let obj = v.as_object_mut().expect("checked object");
    if !obj.contains_key("id") {
        let id = match obj.get("source").and_then(|x| x.get("id")).and_then(|x| x.as_str()) {
            Some(sid) => ResourceId::from_source_id(sid),
            None => ResourceId::new_random(),
        };
        obj.insert("id".into(), Value::String(id.to_string()));
    }
    let r = validated(v)?;
    check_region(&s, &key, &r)?;
    let written = write(&s, WriteOp::Create(r), &key).await?;
    let id = written.resource.id;
    let mut res = with_etag(StatusCode::CREATED, &s, written);
    if let Ok(h) = HeaderValue::from_str(&format!("/v1/resources/{id}")) {
        res.headers_mut().insert(header::LOCATION, h);
    }
    if let Some(k) = idem {
        let body = axum::body::to_bytes(std::mem::take(res.body_mut()), 1 << 22)
            .await
            .map_err(|e| Problem::internal(e.to_string()))?;
        s.directory
            .store
            .remember(
                &k,
                &key.name,
                &Remembered { request_hash, status: 201, response: String::from_utf8_lossy(&body).into_owned() },
            )
            .await?;
        *res.body_mut() = axum::body::Body::from(body);
    }
    Ok(res)
}

/// The live record (404 otherwise), the caller's key checked against its region.
async fn current(s: &AppState, id: ResourceId) -> Result<Versioned, Problem> {
    s.served(id).await?.filter(|v| !v.deleted).ok_or_else(|| not_found(id))
}

fn not_found(id: ResourceId) -> Problem {
    Problem::not_found(format!("no resource with id {id}"))
}

/// The caller's editor key and the live record it may edit (401/403/404 otherwise).
async fn editable(
    s: &AppState,
    id: Result<Path<String>, PathRejection>,
    headers: &HeaderMap,
) -> Result<(ApiKey, Versioned), Problem> {
    let key = require(headers, s.directory.store.as_ref(), Role::Editor).await?;
    let now = current(s, parse_id(id)?).await?;
    check_region(s, &key, &now.resource)?;
    Ok((key, now))
}

/// The stored JSON of a record, without store-managed members, for merging.
fn editable_json(r: &Resource) -> Value {
    serde_json::to_value(r.clone().without_timestamps()).expect("resources serialise")
}

/// RFC 7396 JSON merge patch.
fn merge_patch(target: &mut Value, patch: &Value) {
    match (target.as_object_mut(), patch.as_object()) {
        (Some(t), Some(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        _ => *target = patch.clone(),
    }
}

/// `PUT /v1/resources/{id}` (replace) and `PATCH` (merge patch).
pub async fn replace(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    update(s, id, headers, body, false).await
}

pub async fn patch(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    update(s, id, headers, body, true).await
}

async fn update(
    s: AppState,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
    merge: bool,
) -> Result<Response, Problem> {
    let key = require(&headers, s.directory.store.as_ref(), Role::Editor).await?;
    let id = parse_id(id)?;
    let expected = if_match(&headers)?;
    let now = current(&s, id).await?;
    check_region(&s, &key, &now.resource)?;
    let incoming = json_body(&body)?;
    let mut v = if merge {
        let mut base = editable_json(&now.resource);
        merge_patch(&mut base, &incoming);
        base
    } else {
        incoming
    };
    let obj = v.as_object_mut().expect("object");
    match obj.get("id").and_then(Value::as_str) {
        Some(other) if other != id.to_string() => {
            return Err(unprocessable(vec![tsunagu_model::FieldError::new("id", "differs from the id in the path")]));
        }
        _ => {
            obj.insert("id".into(), Value::String(id.to_string()));
        }
    }
    obj.remove("created_at");
    obj.remove("updated_at");
    let r = validated(v)?;
    check_region(&s, &key, &r)?;
    let written = write(&s, WriteOp::Replace { resource: r, expected }, &key).await?;
    Ok(with_etag(StatusCode::OK, &s, written))
}

/// `DELETE /v1/resources/{id}` (admin; soft, restorable).
pub async fn delete(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let key = require(&headers, s.directory.store.as_ref(), Role::Admin).await?;
    let id = parse_id(id)?;
    let expected = if_match(&headers)?;
    current(&s, id).await?;
    write(&s, WriteOp::Delete { id, expected }, &key).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /v1/resources/{id}/restore` (admin).
async fn restore(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let key = require(&headers, s.directory.store.as_ref(), Role::Admin).await?;
    let id = parse_id(id)?;
    if s.served(id).await?.is_none() {
        return Err(not_found(id));
    }
    let written = write(&s, WriteOp::Restore { id }, &key).await?;
    Ok(with_etag(StatusCode::OK, &s, written))
}

/// `PUT /v1/resources/{id}/availability` (editor): nurse on site, vacancies, accepting new children.
async fn availability(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let (key, now) = editable(&s, id, &headers).await?;
    let v = json_body(&body)?;
    let mut errors = Vec::new();
    let allowed = ["nurse_schedule", "vacancies", "accepting_new_children"];
    for k in v.as_object().expect("object").keys().filter(|k| !allowed.contains(&k.as_str())) {
        errors.push(tsunagu_model::FieldError::new(
            k.clone(),
            format!("unknown member; allowed: {}", allowed.join(", ")),
        ));
    }
    let mut r = now.resource.clone();
    if let Some(n) = v.get("nurse_schedule") {
        match serde_json::from_value::<std::collections::BTreeMap<tsunagu_model::Weekday, Vec<TimeRange>>>(n.clone()) {
            Ok(m) => r.nurse_schedule = WeeklyHours(m),
            Err(e) => errors.push(tsunagu_model::FieldError::new("nurse_schedule", e.to_string())),
        }
    }
    if let Some(n) = v.get("vacancies") {
        match n.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) => {
                let mut c = r.capacity.unwrap_or(tsunagu_model::Capacity { total: None, vacancies: None });
                c.vacancies = Some(n);
                r.capacity = Some(c);
            }
            None if n.is_null() => {
                if let Some(c) = &mut r.capacity {
                    c.vacancies = None;
                }
            }
            None => errors.push(tsunagu_model::FieldError::new("vacancies", "must be a whole number ≥ 0 or null")),
        }
    }
    if let Some(a) = v.get("accepting_new_children") {
        match a {
            Value::Bool(b) => r.accepting_new_children = Some(*b),
            Value::Null => r.accepting_new_children = None,
            _ => errors.push(tsunagu_model::FieldError::new("accepting_new_children", "must be true, false or null")),
        }
    }
    if !errors.is_empty() {
        return Err(unprocessable(errors));
    }
    r.availability_updated_at = Some(Utc::now());
    let r = validated(editable_json(&r))?;
    let written = write(&s, WriteOp::Replace { resource: r, expected: now.version }, &key).await?;
    Ok(with_etag(StatusCode::OK, &s, written))
}

/// `POST /v1/resources/{id}/verify` (editor): the record was checked and is unchanged.
async fn verify(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let (key, now) = editable(&s, id, &headers).await?;
    let mut r = now.resource.clone().without_timestamps();
    r.verified_at = Some(Utc::now().date_naive());
    let written = write(&s, WriteOp::Replace { resource: r, expected: now.version }, &key).await?;
    Ok(with_etag(StatusCode::OK, &s, written))
}

/// `GET /v1/resources/{id}/history` (editor).
async fn history(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Json<Value>, Problem> {
    require(&headers, s.directory.store.as_ref(), Role::Editor).await?;
    let id = parse_id(id)?;
    if s.served(id).await?.is_none() {
        return Err(not_found(id));
    }
    let entries = s.directory.store.history(id).await?;
    Ok(Json(json!({ "id": id, "history": entries })))
}
