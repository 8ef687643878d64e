//! `GET /v1/municipalities` and `GET /v1/regions`: the bundled places.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use tsunagu_directory::SearchIntent;
use tsunagu_places::{Gazetteer, GeocodeError, Municipality, Region};

use crate::AppState;
use crate::params::Params;
use crate::problem::{InvalidParam, Problem};
use crate::views::FacetsView;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/municipalities", get(municipalities))
        .route("/v1/regions", get(regions))
        .route("/v1/regions/{id}", get(region))
        .route("/v1/places/geocode", get(geocode))
        .route("/v1/places/reverse", get(reverse))
}

/// Parse `prefecture=` (code or name) into a prefecture code.
fn prefecture(g: &Gazetteer, p: &mut Params) -> Option<u8> {
    // An empty value is no choice (as a form sends it).
    let v = p.one("prefecture").filter(|v| !v.trim().is_empty())?;
    let v = v.trim();
    let found = g.prefectures().iter().find(|p| {
        p.name == v
            || p.name.trim_end_matches(['都', '道', '府', '県']) == v
            || p.name_en.eq_ignore_ascii_case(v)
            || format!("{:02}", p.code) == v
    });
    if found.is_none() {
        p.error(
            InvalidParam::param(
                "prefecture",
                format!("unknown prefecture `{}`", tsunagu_model::codes::truncate(v, 20)),
            )
            .with_allowed(g.prefectures().iter().flat_map(|p| [format!("{:02}", p.code), p.name.clone()])),
        );
    }
    found.map(|p| p.code)
}

/// Parse `region=` (id or name) into a region.
pub fn region_param(g: &'static Gazetteer, p: &mut Params) -> Option<&'static Region> {
    let v = p.one("region").filter(|v| !v.trim().is_empty())?;
    let r = g.region_by_name(&v);
    if r.is_none() {
        p.error(
            InvalidParam::param("region", format!("unknown region `{}`", tsunagu_model::codes::truncate(&v, 30)))
                .with_allowed(g.regions().iter().map(|r| format!("{} ({})", r.id, r.name))),
        );
    }
    r
}

fn municipality_json(g: &Gazetteer, m: &Municipality) -> Value {
    json!({
        "code": m.code,
        "name": m.name,
        "full_name": m.full_name,
        "name_kana": m.name_kana,
        "prefecture": m.prefecture,
        "prefecture_code": format!("{:02}", m.prefecture_code),
        "kind": m.kind,
        "parent_code": m.parent,
        "location": m.point,
        "region": g.region(&m.region_id).map(|r| json!({"id": r.id, "name": r.name})),
    })
}

async fn municipalities(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Result<Json<Value>, Problem> {
    let g = s.gazetteer;
    let mut p = Params::parse(raw.as_deref(), &["prefecture", "region"])?;
    let pref = prefecture(g, &mut p);
    let region = region_param(g, &mut p);
    p.finish()?;
    let region_codes = region.map(|r| g.region_codes(r));
    let items: Vec<Value> = g
        .municipalities()
        .iter()
        .filter(|m| pref.is_none_or(|c| m.prefecture_code == c))
        .filter(|m| region_codes.as_ref().is_none_or(|codes| codes.contains(&m.code)))
        .map(|m| municipality_json(g, m))
        .collect();
    Ok(Json(json!({"total": items.len(), "municipalities": items})))
}

async fn regions(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Result<Json<Value>, Problem> {
    let g = s.gazetteer;
    let mut p = Params::parse(raw.as_deref(), &["prefecture"])?;
    let pref = prefecture(g, &mut p);
    p.finish()?;
    let items: Vec<Value> = g
        .regions()
        .iter()
        .filter(|r| pref.is_none_or(|c| r.prefecture_code == c))
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.name,
                "aliases": r.aliases,
                "name_kana": r.name_kana,
                "name_en": r.names_en.first(),
                "prefecture": r.prefecture,
                "members": r.members.iter().filter_map(|c| g.municipality(*c)).map(|m| json!({"code": m.code, "name": m.name})).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(json!({"total": items.len(), "regions": items})))
}

/// `GET /v1/regions/{id}`: a region (by id or name) with its members and counts of resources by
/// kind and care type.
async fn region(State(s): State<AppState>, id: Result<Path<String>, PathRejection>) -> Result<Json<Value>, Problem> {
    let g = s.gazetteer;
    let Path(id) = id.map_err(|e| Problem::invalid(vec![InvalidParam::param("id", e.body_text())]))?;
    let r = g.region_by_name(&id).ok_or_else(|| {
        let mut p = Problem::not_found(format!("no region `{}`", tsunagu_model::codes::truncate(&id, 30)));
        p.suggestions = g.regions().iter().map(|r| format!("{} ({})", r.id, r.name)).collect();
        p
    })?;
    let intent = SearchIntent {
        region: Some(r.id.clone()),
        include_sample: s.config.serve_sample_data,
        group_sites: false,
        relax: false,
        limit: 1,
        ..SearchIntent::default()
    };
    // Only the counts are wanted: plan and run, without reading any record.
    let plan = s.planner.plan(intent).map_err(|e| crate::routes::search::problem_of(g, Vec::new(), e.into()))?;
    let found = s.directory.run(&plan.request).await?;
    let facets = found.facets.unwrap_or_default();
    let count_in = |code: tsunagu_model::MunicipalityCode| -> usize {
        let all = g.expand(code);
        facets.municipalities.iter().filter(|(c, _)| all.contains(c)).map(|(_, n)| n).sum()
    };
    let view = FacetsView::of(g, &facets);
    Ok(Json(json!({
        "id": r.id,
        "name": r.name,
        "aliases": r.aliases,
        "name_kana": r.name_kana,
        "name_en": r.names_en.first(),
        "prefecture": r.prefecture,
        "total": found.total,
        "members": r.members.iter().filter_map(|c| g.municipality(*c)).map(|m| json!({"code": m.code, "name": m.name, "resources": count_in(m.code)})).collect::<Vec<_>>(),
        "kinds": view.kinds,
        "care_types": view.care_types,
    })))
}

/// `GET /v1/places/geocode?q=`: an address, postal code, municipality, town or 圏域 → a place.
async fn geocode(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Result<Json<Value>, Problem> {
    let mut p = Params::parse(raw.as_deref(), &["q"])?;
    let q = p.one("q");
    p.finish()?;
    let Some(q) = q else {
        return Err(Problem::invalid(vec![InvalidParam::param(
            "q",
            "is required: an address, postal code or place name",
        )]));
    };
    match s.planner.places().geocoder.geocode(&q) {
        Ok(g) => Ok(Json(json!({
            "query": q,
            "normalized": g.normalized,
            "place": g.place,
            "alternatives": g.alternatives,
        }))),
        Err(GeocodeError::NotFound { suggestions, .. }) => Err(Problem::unknown_place(&q, suggestions, s.gazetteer)),
        Err(e) => Err(Problem::invalid(vec![InvalidParam::param("q", e.to_string())])),
    }
}

/// `GET /v1/places/reverse?lat=&lon=`: the municipality (and 圏域) at a point.
async fn reverse(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Result<Json<Value>, Problem> {
    let mut p = Params::parse(raw.as_deref(), &["lat", "lon"])?;
    let point = p.point();
    if !p.has("lat") && !p.has("lon") {
        p.error(InvalidParam::param("lat", "is required"));
        p.error(InvalidParam::param("lon", "is required"));
    }
    p.finish()?;
    let point = point.ok_or_else(|| Problem::invalid(vec![InvalidParam::param("lat", "is required")]))?;
    let g = s.gazetteer;
    let found = s.planner.places().boundaries.locate(point).ok_or_else(|| Problem::point_outside(g))?;
    let m = g.municipality(found.municipality).ok_or_else(|| Problem::internal("located municipality is missing"))?;
    Ok(Json(json!({
        "point": point,
        "municipality": {"code": m.code, "name": m.name, "prefecture": m.prefecture},
        "region": g.region(&m.region_id).map(|r| json!({"id": r.id, "name": r.name})),
        "town": found.town,
        "town_distance_km": found.town_distance_km,
        "method": found.method,
    })))
}
