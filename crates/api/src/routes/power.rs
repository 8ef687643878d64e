//! A power supply point's live status: `PUT /v1/resources/{id}/power_status` (editor of its 圏域;
//! every report is kept with who made it) and `GET /v1/resources/{id}/power_status` (anyone). A
//! status older than `--power-status-stale-hours` is stale: shown as stale, never as open.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use serde_json::{Value, json};
use tsunagu_model::emergency::{PowerState, PowerStatus};
use tsunagu_model::{Kind, Resource, ResourceId};
use tsunagu_store::{Authorize, Proposal, Refusal};

use crate::AppState;
use crate::auth::Editor;
use crate::problem::{InvalidParam, Problem};

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/resources/{id}/power_status", get(read).put(write))
}

/// A status as anyone may read it: `null` state when none was ever reported.
pub fn view(s: &AppState, status: Option<&PowerStatus>) -> Value {
    let hours = s.config.power_status_stale_hours;
    match status {
        None => {
            json!({"state": null, "state_ja": null, "state_en": null, "at": null, "stale": false, "stale_after_hours": hours})
        }
        Some(p) => json!({
            "state": p.state.code(),
            "state_ja": p.state.ja(),
            "state_en": p.state.en(),
            "at": p.at,
            "stale": p.is_stale(Utc::now(), hours),
            "stale_after_hours": hours,
        }),
    }
}

/// The power point, if it is one this server shows.
pub async fn power_point(s: &AppState, id: &str) -> Result<Resource, Problem> {
    let not_found = || Problem::not_found(format!("no resource `{}`", tsunagu_model::codes::truncate(id, 40)));
    let rid: ResourceId = id.parse().map_err(|_| not_found())?;
    let r = s.directory.store.get(rid).await?.filter(|r| s.config.serves(r)).ok_or_else(not_found)?;
    if r.kind != Kind::PowerSupply {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "/problems/not-a-power-point",
            "Not a power supply point",
            format!("only power supply points (kind power_supply) have a power status; this is {}", r.kind.code()),
        ));
    }
    Ok(r)
}

/// Record a report by `who`, if its key may change the record (an editor of its 圏域).
pub async fn report(s: &AppState, who: &Editor, r: &Resource, state: PowerState) -> Result<PowerStatus, Problem> {
    match who.policy(s).allow(Proposal::Update { stored: r, new: r }) {
        Ok(()) => {}
        Err(Refusal::Forbidden(why)) => {
            return Err(Problem::new(StatusCode::FORBIDDEN, "/problems/forbidden", "Forbidden", why));
        }
        Err(_) => return Err(Problem::not_found("no such resource")),
    }
    let status = PowerStatus { state, at: Utc::now() };
    s.directory.store.set_power_status(r.id, &status, &who.actor()).await?;
    Ok(status)
}

async fn read(State(s): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let r = power_point(&s, &id).await?;
    let found = s.directory.store.power_statuses(&[r.id]).await?;
    Ok(Json(view(&s, found.get(&r.id))))
}

async fn write(
    State(s): State<AppState>,
    who: Editor,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    let r = power_point(&s, &id).await?;
    let v = super::json_object(&body)?;
    let obj = v.as_object().expect("json_object gives an object");
    let allowed: Vec<&str> = PowerState::ALL.iter().map(|p| p.code()).collect();
    let mut errs: Vec<InvalidParam> = obj
        .keys()
        .filter(|k| k.as_str() != "state")
        .map(|k| InvalidParam::param(tsunagu_model::codes::truncate(k, 40), "unknown member; allowed: state"))
        .collect();
    let state = match obj.get("state").and_then(Value::as_str) {
        Some(v) => PowerState::parse(v),
        None => None,
    };
    if state.is_none() {
        errs.push(InvalidParam::param("state", format!("must be one of {}", allowed.join(", "))).with_allowed(allowed));
    }
    if !errs.is_empty() {
        return Err(Problem::invalid(errs));
    }
    let status = report(&s, &who, &r, state.expect("checked")).await?;
    Ok(Json(view(&s, Some(&status))))
}
