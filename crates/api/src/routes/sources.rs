//! `GET /v1/sources`: every data source with its licence, required attribution, record counts
//! and dates.

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use tsunagu_exchange::bundled::{SourceKind, sources};

use crate::AppState;
use crate::params::Params;
use crate::problem::Problem;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/sources", get(list))
}

async fn list(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Result<Json<Value>, Problem> {
    Params::parse(raw.as_deref(), &[])?.finish()?;
    let counts = s.directory.store.source_counts().await?;
    let serve_sample = s.config.serve_sample_data;
    let mut registered = Vec::new();
    for src in sources().iter().filter(|src| serve_sample || src.kind != SourceKind::Sample) {
        let mine: Vec<_> = counts.iter().filter(|c| src.names.contains(&c.name)).collect();
        let records: u64 =
            mine.iter().map(|c| if serve_sample { c.records } else { c.records - c.sample_records }).sum();
        let mut v = serde_json::to_value(src).expect("sources serialise");
        v["records"] = json!(records);
        registered.push(v);
    }
    // Records from sources not in the registry (e.g. imported by the centre's editors).
    let other: Vec<Value> = counts
        .iter()
        .filter(|c| !sources().iter().any(|src| src.names.contains(&c.name)))
        .filter_map(|c| {
            let records = if serve_sample { c.records } else { c.records - c.sample_records };
            (records > 0).then(
                || json!({"name": c.name, "records": records, "first_date": c.first_date, "last_date": c.last_date}),
            )
        })
        .collect();
    let attribution_ja: Vec<&str> =
        sources().iter().filter(|src| src.kind != SourceKind::Sample).map(|src| src.attribution_ja.as_str()).collect();
    Ok(Json(json!({
        "sources": registered,
        "other_sources": other,
        "attribution_ja": attribution_ja.join("\n"),
    })))
}
