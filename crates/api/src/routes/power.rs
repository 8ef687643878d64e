//! A power supply point's live status: `PUT /v1/resources/{id}/power_status` (editor of its 圏域;
//! every report is kept with who made it) and `GET /v1/resources/{id}/power_status` (anyone). A
//! status older than `--power-status-stale-hours` is stale: shown as stale, never as open.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use serde_json::{Value, json};
use tsunagu_directory::offers::PowerPoint;
use tsunagu_model::emergency::{PowerState, PowerStatus};
use tsunagu_model::{Device, Kind, Resource, ResourceId};
use tsunagu_store::{Authorize, Proposal, Refusal};

use crate::AppState;
use crate::auth::Editor;
use crate::params::Params;
use crate::problem::{InvalidParam, Problem};
use crate::routes::contacts::place_of;
use crate::routes::search::list;
use crate::views::LabelView;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/resources/{id}/power_status", get(read).put(write)).route("/v1/power_points", get(nearest))
}

/// Most power points one answer lists.
pub const MAX_POINTS: usize = 20;

/// `devices=` and `watts=`: what a family brings, and its total draw if they know it.
pub fn devices_of(p: &mut Params) -> (Vec<Device>, Option<u32>) {
    let devices = list::<Device>(p, "devices");
    let watts = p.one("watts").and_then(|v| match v.trim().parse::<u32>() {
        Ok(w) if (1..=100_000).contains(&w) => Some(w),
        _ => {
            p.error(InvalidParam::param(
                "watts",
                format!("`{}` is not a number of watts (1–100000)", tsunagu_model::codes::truncate(&v, 20)),
            ));
            None
        }
    });
    (devices, watts)
}

pub fn point_json(s: &AppState, pp: &PowerPoint) -> Value {
    let r = &pp.resource;
    let d = &pp.devices;
    let label = |x: &Device| LabelView::from(x.labels());
    json!({
        "id": r.id,
        "name": r.name,
        "kind": r.kind.code(),
        "distance_km": pp.distance_km,
        "address": r.address,
        "phone": r.contact.phone,
        "devices": {
            "supported": d.supported.iter().map(label).collect::<Vec<_>>(),
            "unknown": d.unknown.iter().map(label).collect::<Vec<_>>(),
            "too_few_outlets": d.too_few_outlets,
            "over_capacity": d.over_capacity,
            "all_supported": d.all_supported(),
        },
        "power_supply": r.power_supply,
        "status": (r.kind == Kind::PowerSupply).then(|| view(s, pp.status.as_ref())),
        "sample": r.sample,
    })
}

/// What a family asked about power: the place, the devices they bring and their draw, and the
/// points found for them.
pub struct PowerAnswer {
    pub place: tsunagu_places::Place,
    pub devices: Vec<Device>,
    pub watts: Option<u32>,
    pub points: Vec<PowerPoint>,
}

/// Power points near a place, ranked for what the family brings (see `Directory::power_points`):
/// the API's answer and the page's. Bad parameters are one problem naming each.
pub async fn answer(s: &AppState, mut p: Params, default_limit: usize) -> Result<PowerAnswer, Problem> {
    let place = place_of(s, &mut p);
    let (devices, watts) = devices_of(&mut p);
    let limit: usize = p.parsed("limit", "is not a whole number").unwrap_or(default_limit);
    if !(1..=MAX_POINTS).contains(&limit) {
        p.error(InvalidParam::param("limit", format!("must be 1–{MAX_POINTS}")));
    }
    p.finish()?;
    let place = place?.ok_or_else(|| Problem::invalid(vec![InvalidParam::param("near", "is required")]))?;
    let points = s
        .directory
        .power_points(
            &s.planner,
            place.point,
            &devices,
            watts,
            Utc::now(),
            s.config.power_status_stale_hours,
            s.config.serve_sample_data,
            limit,
        )
        .await
        .map_err(|e| Problem::internal(format!("power points: {e}")))?;
    Ok(PowerAnswer { place, devices, watts, points })
}

/// `GET /v1/power_points?near=…&devices=ventilator,suction&watts=…`: power points near a place,
/// ranked for what the family brings.
async fn nearest(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Result<Json<Value>, Problem> {
    let p = Params::parse(raw.as_deref(), &["near", "lat", "lon", "devices", "watts", "limit"])?;
    let a = answer(&s, p, 5).await?;
    Ok(Json(json!({
        "place": crate::routes::contacts::place_json(&s, &a.place),
        "devices": a.devices.iter().map(|d| d.code()).collect::<Vec<_>>(),
        "watts": a.watts,
        "points": a.points.iter().map(|pp| point_json(&s, pp)).collect::<Vec<_>>(),
    })))
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
