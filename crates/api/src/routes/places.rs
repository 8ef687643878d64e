//! `GET /v1/municipalities` and `GET /v1/regions`: the bundled places.

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use tsunagu_places::{Gazetteer, Municipality, Region};

use crate::AppState;
use crate::params::Params;
use crate::problem::{InvalidParam, Problem};

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/municipalities", get(municipalities)).route("/v1/regions", get(regions))
}

/// Parse `prefecture=` (code or name) into a prefecture code.
fn prefecture(g: &Gazetteer, p: &mut Params) -> Option<u8> {
    let v = p.one("prefecture")?;
    let v = v.trim();
    let found = g.municipalities().iter().find(|m| {
        m.prefecture == v || m.prefecture.trim_end_matches('県') == v || format!("{:02}", m.prefecture_code) == v
    });
    if found.is_none() {
        p.error(
            InvalidParam::param(
                "prefecture",
                format!("unknown prefecture `{}`", tsunagu_model::codes::truncate(v, 20)),
            )
            .with_allowed(["20", "長野県", "11", "埼玉県"]),
        );
    }
    found.map(|m| m.prefecture_code)
}

/// Parse `region=` (id or name) into a region.
pub fn region_param(g: &'static Gazetteer, p: &mut Params) -> Option<&'static Region> {
    let v = p.one("region")?;
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
                "prefecture": r.prefecture,
                "members": r.members.iter().filter_map(|c| g.municipality(*c)).map(|m| json!({"code": m.code, "name": m.name})).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(json!({"total": items.len(), "regions": items})))
}
