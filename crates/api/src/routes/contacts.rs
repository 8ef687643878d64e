//! `GET /v1/contacts?near=` (an address, postal code, municipality or town) or `?lat=&lon=`: whom to
//! call first there — the 圏域 coordinators, the prefecture's centre, the municipality's window and
//! the 相談支援 offices serving it, in that order, each with its phone and hours (null when none is
//! on record). The place a family gives is not logged.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use tsunagu_directory::contacts::Contacts;
use tsunagu_places::{GeocodeError, Place};

use crate::AppState;
use crate::params::Params;
use crate::problem::{InvalidParam, Problem};

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/contacts", get(contacts))
}

/// The place asked for: `near`, or `lat` + `lon` (not both). Bad values are recorded in `p`; a
/// place tsunagu does not know is an unknown-place problem (404).
pub fn place_of(s: &AppState, p: &mut Params) -> Result<Option<Place>, Problem> {
    let near = p.one("near").filter(|v| !v.trim().is_empty());
    let point_given = p.has("lat") || p.has("lon");
    let point = p.point();
    let places = s.planner.places();
    if near.is_some() && point_given {
        p.error(InvalidParam::param("near", "give either near, or lat and lon, not both"));
        return Ok(None);
    }
    if let Some(text) = near {
        if text.chars().count() > 200 {
            p.error(InvalidParam::param("near", "is longer than 200 characters"));
            return Ok(None);
        }
        return match places.geocoder.geocode(&text) {
            Ok(g) => {
                let others: Vec<String> = g
                    .alternatives
                    .iter()
                    .filter(|a| a.municipality_code != g.place.municipality_code)
                    .map(|a| a.name.clone())
                    .collect();
                if others.is_empty() {
                    Ok(Some(g.place))
                } else {
                    p.error(InvalidParam::param(
                        "near",
                        format!("is in more than one municipality: {}, {}", g.place.name, others.join(", ")),
                    ));
                    Ok(None)
                }
            }
            Err(GeocodeError::NotFound { suggestions, .. }) => {
                Err(Problem::unknown_place(&text, suggestions, s.gazetteer))
            }
            Err(e) => {
                p.error(InvalidParam::param("near", e.to_string()));
                Ok(None)
            }
        };
    }
    if let Some(point) = point {
        let located = places.boundaries.locate(point).ok_or_else(|| Problem::point_outside(s.gazetteer))?;
        return Ok(places.geocoder.municipality_place(located.municipality).map(|m| Place { point, ..m }));
    }
    if !point_given {
        p.error(InvalidParam::param("near", "is required: an address, postal code or place (or lat and lon)"));
    }
    Ok(None)
}

/// The place an answer is about: its name and municipality.
pub fn place_json(s: &AppState, place: &Place) -> Value {
    let m = place.municipality_code.and_then(|c| s.gazetteer.municipality(c));
    json!({
        "name": place.name,
        "municipality": m.map(|m| json!({"code": m.code, "name": m.name, "prefecture": m.prefecture})),
    })
}

pub fn contacts_json(s: &AppState, place: &Place, c: &Contacts) -> Value {
    let g = s.gazetteer;
    let mut at = place_json(s, place);
    at["region"] =
        json!(c.region_id.as_deref().and_then(|id| g.region(id)).map(|r| json!({"id": r.id, "name": r.name})));
    json!({
        "place": at,
        "contacts": c.entries.iter().map(|e| json!({
            "role": e.role,
            "role_ja": e.role.ja(),
            "role_en": e.role.en(),
            "name": e.name,
            "phone": e.phone,
            "hours": e.hours,
            "distance_km": e.distance_km,
            "resource_id": e.resource.as_ref().map(|r| r.id),
            "sample": e.resource.as_ref().is_some_and(|r| r.sample),
        })).collect::<Vec<_>>(),
    })
}

async fn contacts(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Result<Json<Value>, Problem> {
    let mut p = Params::parse(raw.as_deref(), &["near", "lat", "lon"])?;
    let place = place_of(&s, &mut p);
    p.finish()?;
    let place = place?;
    let place = place.ok_or_else(|| Problem::invalid(vec![InvalidParam::param("near", "is required")]))?;
    let found = s
        .directory
        .first_contacts(&s.planner, &place, s.config.serve_sample_data)
        .await
        .map_err(|e| Problem::internal(format!("contacts: {e}")))?;
    let found = found.ok_or_else(|| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "/problems/unknown-place",
            "Unknown place",
            "the place is not in a known municipality",
        )
    })?;
    Ok(Json(contacts_json(&s, &place, &found)))
}
