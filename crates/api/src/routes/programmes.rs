//! `GET /v1/programmes?near=…&age=…&care_types=…&certificates=…`: the programmes (制度・手当・助成)
//! a family can use where it lives. A programme applies to the residents of its municipalities,
//! so the place only decides the municipality; distance plays no part. The child's age, care types
//! and certificates, when given, rule out programmes they cannot fit; when not given, the
//! conditions are listed as still to check (unknown is not "no"). Nothing asked is logged.

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use tsunagu_directory::offers::{ProgrammeMatch, residents_of};
use tsunagu_model::details::{Child, Fit};
use tsunagu_model::{CareType, Certificate};
use tsunagu_places::Place;

use crate::AppState;
use crate::params::Params;
use crate::problem::{InvalidParam, Problem};
use crate::routes::contacts::{place_json, place_of};
use crate::routes::search::list;
use crate::views::LabelView;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/programmes", get(programmes))
}

/// The child as the query describes them; bad values are recorded in `p`.
pub fn child_of(p: &mut Params) -> Child {
    let age = p.one("age").and_then(|v| match v.trim().parse::<u8>() {
        Ok(a) if a <= 40 => Some(a),
        _ => {
            p.error(InvalidParam::param(
                "age",
                format!("`{}` is not an age in years (0–40)", tsunagu_model::codes::truncate(&v, 20)),
            ));
            None
        }
    });
    let care_types = list::<CareType>(p, "care_types").into_iter().collect();
    let given = p.list(&["certificates"]);
    let certificates = if given.is_empty() {
        None
    } else if given.iter().all(|(_, v)| v == "none") {
        Some(Vec::new())
    } else {
        Some(list::<Certificate>(p, "certificates"))
    };
    Child { age, care_types, certificates }
}

pub fn programme_json(s: &AppState, m: &ProgrammeMatch) -> Value {
    let r = &m.resource;
    let g = s.gazetteer;
    let residents = residents_of(g, r);
    let prefecture_wide = g.municipality(r.municipality_code).is_some_and(|home| {
        g.municipalities()
            .iter()
            .filter(|x| x.prefecture_code == home.prefecture_code)
            .all(|x| residents.contains(&x.code))
    });
    let (fit, to_check) = match &m.fit {
        Fit::Fits => ("fits", Vec::new()),
        Fit::ToCheck(v) => ("to_check", v.clone()),
        Fit::No(_) => ("no", Vec::new()),
    };
    let p = r.programme.as_ref();
    json!({
        "id": r.id,
        "name": r.name,
        "description": r.description,
        "fit": fit,
        "to_check": to_check,
        "ages": r.ages,
        "eligibility": p.map(|p| json!({
            "care_types": p.eligibility.care_types.iter().map(|c| LabelView::from(c.labels())).collect::<Vec<_>>(),
            "certificates": p.eligibility.certificates.iter().map(|c| LabelView::from(c.labels())).collect::<Vec<_>>(),
            "income_note": p.eligibility.income_note,
            "note": p.eligibility.note,
        })),
        "benefit": p.map(|p| p.benefit.clone()),
        "apply": p.map(|p| &p.apply),
        "official_url": p.and_then(|p| p.official_url.clone()).or_else(|| r.contact.url.clone()),
        "residents": if prefecture_wide {
            json!({"prefecture": g.municipality(r.municipality_code).map(|m| m.prefecture.clone())})
        } else {
            json!({"municipalities": residents.iter().filter_map(|c| g.municipality(*c)).filter(|m| m.parent.is_none()).map(|m| m.name.clone()).collect::<Vec<_>>()})
        },
        "source": r.source.name,
        "verified_at": r.verified_at,
        "sample": r.sample,
    })
}

/// The place `p` asks about and its programmes for the child `p` describes: one answer for the API
/// and the page. Bad parameters are one problem naming each.
pub async fn answer(s: &AppState, mut p: Params) -> Result<(Place, Vec<ProgrammeMatch>), Problem> {
    let place = place_of(s, &mut p);
    let child = child_of(&mut p);
    p.finish()?;
    let place = place?.ok_or_else(|| Problem::invalid(vec![InvalidParam::param("near", "is required")]))?;
    let code = place
        .municipality_code
        .ok_or_else(|| Problem::invalid(vec![InvalidParam::param("near", "names no municipality")]))?;
    let found = s
        .directory
        .programmes_for(&s.planner, code, &child, s.config.serve_sample_data)
        .await
        .map_err(|e| Problem::internal(format!("programmes: {e}")))?;
    Ok((place, found))
}

async fn programmes(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Result<Json<Value>, Problem> {
    let p = Params::parse(raw.as_deref(), &["near", "lat", "lon", "age", "care_types", "certificates"])?;
    let (place, found) = answer(&s, p).await?;
    Ok(Json(json!({
        "place": place_json(&s, &place),
        "total": found.len(),
        "programmes": found.iter().map(|m| programme_json(&s, m)).collect::<Vec<_>>(),
    })))
}
