//! Writes (API key required): create, replace, merge-patch, delete and restore resources; update
//! availability; confirm a record; read its history.
//!
//! Every change is committed in the store first (with an audit entry naming the key) and is
//! searchable when the response is sent. Updates need `If-Match` with the record's ETag and get
//! 412 when someone else changed it meanwhile; POST honours `Idempotency-Key` (claimed in the
//! write's own transaction, per key). What a key may change is decided by the one authorisation
//! decision the store asks inside each write.

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
use std::sync::Arc;
use tsunagu_directory::Policy;
use tsunagu_model::{Resource, ResourceId, TimeRange, WeeklyHours};
use tsunagu_places::Places;
use tsunagu_store::{
    Actor, Authorize, Idempotency, Modification, Proposal, Refusal, Remembered, Versioned, Write, WriteOp,
    WriteOutcome, WriteRefused,
};

use crate::AppState;
use crate::auth::{Admin, Editor, forbidden};
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

/// Parse and check a resource: forms (serde), rules (model) and places (gazetteer).
fn checked(places: &Places, v: Value) -> Result<Resource, Vec<tsunagu_model::FieldError>> {
    let r = Resource::from_json(v)?;
    let errs = places.check(&r);
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(r)
}

fn validated(places: &Places, v: Value) -> Result<Resource, Problem> {
    checked(places, v).map_err(unprocessable)
}

/// What `If-Match` asks for (RFC 9110 §13.1.1): `*`, or a list of entity tags.
#[derive(Debug, PartialEq)]
enum Precondition {
    /// `*`: whatever version is current (the client does not mind overwriting).
    Any,
    /// The versions the listed tags name. Tags this API never made (not `"v<number>"`) name none
    /// and can never match; an empty list gets 412.
    Versions(Vec<i64>),
}

impl Precondition {
    /// The version a write must find: the current one when it is asked for, else one that was
    /// asked for (the store then refuses the write as stale, with 412).
    fn expected(&self, current: i64) -> i64 {
        match self {
            Precondition::Any => current,
            Precondition::Versions(v) if v.contains(&current) => current,
            Precondition::Versions(v) => v.first().copied().unwrap_or(-1),
        }
    }
}

fn if_match(headers: &HeaderMap) -> Result<Precondition, Problem> {
    let values: Vec<_> = headers.get_all(header::IF_MATCH).iter().collect();
    if values.is_empty() {
        return Err(Problem::new(
            StatusCode::PRECONDITION_REQUIRED,
            "/problems/if-match-required",
            "If-Match required",
            "send If-Match with the record's ETag (from GET) so that concurrent edits are not lost",
        ));
    }
    let bad = || {
        Problem::invalid(vec![InvalidParam::param(
            "If-Match",
            "is not * or a list of entity tags (RFC 9110), e.g. \"v3\"",
        )])
    };
    let mut versions = Vec::new();
    for v in values {
        let text = v.to_str().map_err(|_| bad())?;
        if text.trim() == "*" {
            return Ok(Precondition::Any);
        }
        for tag in entity_tags(text).ok_or_else(bad)? {
            if let Some(n) = tag.strip_prefix('v').and_then(|n| n.parse::<i64>().ok()) {
                versions.push(n);
            }
        }
    }
    Ok(Precondition::Versions(versions))
}

/// The opaque tags of a comma-separated list of entity tags (`"x"` or `W/"x"`, RFC 9110 §8.8.3),
/// or `None` when the text is not one. Weak tags are taken as their opaque tag: this API's tags
/// are strong, and a proxy that weakened one still means that version.
fn entity_tags(text: &str) -> Option<Vec<&str>> {
    let mut tags = Vec::new();
    let mut rest = text.trim_matches([' ', '\t']);
    loop {
        rest = rest.strip_prefix("W/").unwrap_or(rest);
        let body = rest.strip_prefix('"')?;
        let close = body.find('"')?;
        let tag = &body[..close];
        if !tag.bytes().all(|b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80) {
            return None;
        }
        tags.push(tag);
        rest = body[close + 1..].trim_start_matches([' ', '\t']);
        if rest.is_empty() {
            return Some(tags);
        }
        rest = rest.strip_prefix(',')?.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return Some(tags);
        }
    }
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
        WriteRefused::Forbidden(why) => forbidden(why),
        WriteRefused::Invalid(errors) => unprocessable(errors),
        WriteRefused::IdempotencyMismatch => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "/problems/idempotency-key-reused",
            "Idempotency key reused",
            "this Idempotency-Key was used with a different request",
        ),
    }
}

/// A refusal from the authorisation decision as a problem.
pub(crate) fn refusal(r: Refusal, id: ResourceId) -> Problem {
    match r {
        Refusal::Forbidden(why) => forbidden(why),
        Refusal::NotServed => not_found(id),
    }
}

/// The response to a write: the record as its editors see it, with its ETag (and, for a new
/// record, its Location). Made once; an idempotent replay sends the same again.
fn answer(s: &AppState, status: StatusCode, v: &Versioned, location: bool) -> Remembered {
    let view = ResourceView::with_private(s.gazetteer, v.resource.clone(), &s.config);
    let mut headers = vec![(header::ETAG.to_string(), etag(v.version))];
    if location {
        headers.push((header::LOCATION.to_string(), format!("/v1/resources/{}", v.resource.id)));
    }
    Remembered {
        request_hash: String::new(),
        status: status.as_u16(),
        response: serde_json::to_string(&view).expect("views serialise"),
        headers,
    }
}

fn respond(r: Remembered) -> Response {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK);
    let mut res = (status, r.response).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in r.headers {
        if let (Ok(n), Ok(v)) = (header::HeaderName::try_from(name), HeaderValue::from_str(&value)) {
            res.headers_mut().insert(n, v);
        }
    }
    res
}

/// Make one write as `who`; the answer for a written record is made by `answer`.
async fn write(
    s: &AppState,
    op: WriteOp,
    actor: &Actor,
    policy: &Policy,
    idempotency: Option<Idempotency<'_>>,
) -> Result<WriteOutcome, Problem> {
    let id = op.id();
    let w = Write { op, actor, authorize: policy, idempotency };
    match s.directory.write(w).await {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(r)) => Err(refused(r, id)),
        Err(e) => Err(Problem::internal(e.to_string())),
    }
}

async fn write_answer(s: &AppState, op: WriteOp, who: &Editor, status: StatusCode) -> Result<Response, Problem> {
    match write(s, op, &who.actor(), &who.policy(s), None).await? {
        WriteOutcome::Written(w) => Ok(respond(answer(s, status, &w.versioned, false))),
        WriteOutcome::Replayed(r) => Ok(respond(r)),
    }
}

/// `POST /v1/resources`
async fn create(State(s): State<AppState>, who: Editor, headers: HeaderMap, body: Bytes) -> Result<Response, Problem> {
    let idem = match headers.get("idempotency-key") {
        None => None,
        Some(v) => match v.to_str() {
            Ok(k) if !k.is_empty() && k.len() <= 200 => Some(k.to_string()),
            _ => {
                return Err(Problem::invalid(vec![InvalidParam::param(
                    "Idempotency-Key",
                    "must be 1–200 visible characters",
                )]));
            }
        },
    };
    let request_hash = format!("{:x}", Sha256::digest(&body));
    let mut v = super::json_object(&body)?;
    let obj = v.as_object_mut().expect("checked object");
    if !obj.contains_key("id") {
        let id = match obj.get("source").and_then(|x| x.get("id")).and_then(|x| x.as_str()) {
            Some(sid) => ResourceId::from_source_id(sid),
            None => ResourceId::new_random(),
        };
        obj.insert("id".into(), Value::String(id.to_string()));
    }
    let r = validated(&s.places, v)?;
    let respond_with =
        |v: &Versioned| Remembered { request_hash: request_hash.clone(), ..answer(&s, StatusCode::CREATED, v, true) };
    let claim = idem.as_deref().map(|key| Idempotency { key, request_hash: &request_hash, respond: &respond_with });
    match write(&s, WriteOp::Create(r), &who.actor(), &who.policy(&s), claim).await? {
        WriteOutcome::Written(w) => Ok(respond(respond_with(&w.versioned))),
        WriteOutcome::Replayed(r) => Ok(respond(r)),
    }
}

/// The live record (404 otherwise).
async fn current(s: &AppState, id: ResourceId) -> Result<Versioned, Problem> {
    s.served(id).await?.filter(|v| !v.deleted).ok_or_else(|| not_found(id))
}

fn not_found(id: ResourceId) -> Problem {
    Problem::not_found(format!("no resource with id {id}"))
}

/// The live record an editor asks to change, if the editor may change it at all (404/403
/// otherwise, before the request body is looked at). The store asks the same decision again,
/// with what it holds then, when the change is written.
async fn editable(s: &AppState, who: &Editor, id: ResourceId) -> Result<Versioned, Problem> {
    let now = current(s, id).await?;
    who.policy(s).allow(Proposal::Update { stored: &now.resource, new: &now.resource }).map_err(|r| refusal(r, id))?;
    Ok(now)
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
    who: Editor,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    update(s, who, id, headers, body, false).await
}

pub async fn patch(
    State(s): State<AppState>,
    who: Editor,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    update(s, who, id, headers, body, true).await
}

async fn update(
    s: AppState,
    who: Editor,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
    merge: bool,
) -> Result<Response, Problem> {
    let id = parse_id(id)?;
    let asked = if_match(&headers)?;
    let now = editable(&s, &who, id).await?;
    let expected = asked.expected(now.version);
    let incoming = super::json_object(&body)?;
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
    let r = validated(&s.places, v)?;
    write_answer(&s, WriteOp::Replace { resource: r, expected }, &who, StatusCode::OK).await
}

/// `DELETE /v1/resources/{id}` (admin; soft, restorable).
pub async fn delete(
    State(s): State<AppState>,
    Admin(key): Admin,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let id = parse_id(id)?;
    let asked = if_match(&headers)?;
    let who = Editor(key);
    let expected = match asked {
        Precondition::Versions(v) if v.len() == 1 => v[0],
        asked => asked.expected(current(&s, id).await?.version),
    };
    write(&s, WriteOp::Delete { id, expected }, &who.actor(), &who.policy(&s), None).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /v1/resources/{id}/restore` (admin).
async fn restore(
    State(s): State<AppState>,
    Admin(key): Admin,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, Problem> {
    let id = parse_id(id)?;
    write_answer(&s, WriteOp::Restore { id }, &Editor(key), StatusCode::OK).await
}

/// What `PUT …/availability` may set: each member given replaces that part of the record.
#[derive(Clone, Default)]
struct Availability {
    nurse_schedule: Option<WeeklyHours>,
    vacancies: Option<Option<u32>>,
    accepting_new_children: Option<Option<bool>>,
}

impl Availability {
    fn parse(v: &Value) -> Result<Availability, Vec<tsunagu_model::FieldError>> {
        let mut errors = Vec::new();
        let allowed = ["nurse_schedule", "vacancies", "accepting_new_children"];
        for k in v.as_object().expect("object").keys().filter(|k| !allowed.contains(&k.as_str())) {
            errors.push(tsunagu_model::FieldError::new(
                k.clone(),
                format!("unknown member; allowed: {}", allowed.join(", ")),
            ));
        }
        let mut a = Availability::default();
        if let Some(n) = v.get("nurse_schedule") {
            match serde_json::from_value::<std::collections::BTreeMap<tsunagu_model::Weekday, Vec<TimeRange>>>(
                n.clone(),
            ) {
                Ok(m) => a.nurse_schedule = Some(WeeklyHours(m)),
                Err(e) => errors.push(tsunagu_model::FieldError::new("nurse_schedule", e.to_string())),
            }
        }
        if let Some(n) = v.get("vacancies") {
            match n.as_u64().and_then(|n| u32::try_from(n).ok()) {
                Some(n) => a.vacancies = Some(Some(n)),
                None if n.is_null() => a.vacancies = Some(None),
                None => errors.push(tsunagu_model::FieldError::new("vacancies", "must be a whole number ≥ 0 or null")),
            }
        }
        if let Some(x) = v.get("accepting_new_children") {
            match x {
                Value::Bool(b) => a.accepting_new_children = Some(Some(*b)),
                Value::Null => a.accepting_new_children = Some(None),
                _ => {
                    errors.push(tsunagu_model::FieldError::new("accepting_new_children", "must be true, false or null"))
                }
            }
        }
        if errors.is_empty() { Ok(a) } else { Err(errors) }
    }

    /// The record with this availability, as of now.
    fn apply(&self, places: &Places, r: &Resource) -> Result<Resource, Vec<tsunagu_model::FieldError>> {
        let mut r = r.clone();
        if let Some(n) = &self.nurse_schedule {
            r.nurse_schedule = n.clone();
        }
        match self.vacancies {
            Some(Some(n)) => {
                let mut c = r.capacity.unwrap_or(tsunagu_model::Capacity { total: None, vacancies: None });
                c.vacancies = Some(n);
                r.capacity = Some(c);
            }
            Some(None) => {
                if let Some(c) = &mut r.capacity {
                    c.vacancies = None;
                }
            }
            None => {}
        }
        if let Some(a) = self.accepting_new_children {
            r.accepting_new_children = a;
        }
        r.availability_updated_at = Some(Utc::now());
        checked(places, editable_json(&r))
    }
}

/// `PUT /v1/resources/{id}/availability` (editor): nurse on site, vacancies, accepting new
/// children. It takes no If-Match: it changes only these members, applied to whatever version is
/// current, so concurrent updates apply one after another.
async fn availability(
    State(s): State<AppState>,
    who: Editor,
    id: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<Response, Problem> {
    let id = parse_id(id)?;
    editable(&s, &who, id).await?;
    let update = Availability::parse(&super::json_object(&body)?).map_err(unprocessable)?;
    let places = s.places;
    let change: Modification = Arc::new(move |r: &Resource| update.apply(&places, r));
    write_answer(&s, WriteOp::Modify { id, change }, &who, StatusCode::OK).await
}

/// `POST /v1/resources/{id}/verify` (editor): the record was checked and is unchanged.
async fn verify(
    State(s): State<AppState>,
    who: Editor,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, Problem> {
    let id = parse_id(id)?;
    editable(&s, &who, id).await?;
    let change: Modification = Arc::new(|r: &Resource| {
        let mut r = r.clone().without_timestamps();
        r.verified_at = Some(Utc::now().date_naive());
        Ok(r)
    });
    write_answer(&s, WriteOp::Modify { id, change }, &who, StatusCode::OK).await
}

/// `GET /v1/resources/{id}/history` (editor).
async fn history(
    State(s): State<AppState>,
    _who: Editor,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, Problem> {
    let id = parse_id(id)?;
    if s.served(id).await?.is_none() {
        return Err(not_found(id));
    }
    let entries = s.directory.store.history(id).await?;
    Ok(Json(json!({ "id": id, "history": entries })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(values: &[&str]) -> Result<Precondition, u16> {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::IF_MATCH, v.parse().unwrap());
        }
        if_match(&h).map_err(|p| p.status)
    }

    #[test]
    fn if_match_takes_star_and_entity_tag_lists_and_refuses_other_text() {
        assert_eq!(asked(&[]), Err(428));
        assert_eq!(asked(&["*"]), Ok(Precondition::Any));
        assert_eq!(asked(&["\"v3\""]), Ok(Precondition::Versions(vec![3])));
        assert_eq!(asked(&["W/\"v3\""]), Ok(Precondition::Versions(vec![3])));
        assert_eq!(asked(&["\"v1\", \"v2\""]), Ok(Precondition::Versions(vec![1, 2])));
        assert_eq!(asked(&["\"v1\"", "\"v4\""]), Ok(Precondition::Versions(vec![1, 4])));
        // Tags this API never made are valid and match nothing (412 later, not 400).
        assert_eq!(asked(&["\"w\", \"jVwa[\", W/\"\""]), Ok(Precondition::Versions(vec![])));
        assert_eq!(asked(&["\"a,b\""]), Ok(Precondition::Versions(vec![])));
        for bad in ["v3", "\"v3", "\"v3\" x", "W/v3", "\"v3\";\"v4\""] {
            assert_eq!(asked(&[bad]), Err(400), "{bad}");
        }
    }

    #[test]
    fn the_expected_version_is_the_current_one_only_when_asked_for() {
        assert_eq!(Precondition::Any.expected(7), 7);
        assert_eq!(Precondition::Versions(vec![6, 7]).expected(7), 7);
        assert_eq!(Precondition::Versions(vec![6]).expected(7), 6);
        assert_eq!(Precondition::Versions(vec![]).expected(7), -1);
    }
}
