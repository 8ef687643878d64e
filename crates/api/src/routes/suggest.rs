//! `GET /v1/suggest?q=`: as-you-type completion of care types, kinds, places and resource names.

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::AppState;
use crate::params::Params;
use crate::problem::{InvalidParam, Problem};

/// Longest text to complete, in characters.
pub const MAX_SUGGEST_CHARS: usize = 50;
pub const MAX_SUGGESTIONS: usize = 20;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/suggest", get(suggest))
}

async fn suggest(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Result<Json<Value>, Problem> {
    let mut p = Params::parse(raw.as_deref(), &["q", "limit"])?;
    let q = p.one("q").unwrap_or_default();
    if q.chars().count() > MAX_SUGGEST_CHARS {
        p.error(InvalidParam::param("q", format!("is longer than {MAX_SUGGEST_CHARS} characters")));
    }
    let limit = p.parsed::<usize>("limit", &format!("is not a whole number from 1 to {MAX_SUGGESTIONS}")).unwrap_or(8);
    if !(1..=MAX_SUGGESTIONS).contains(&limit) {
        p.error(InvalidParam::param("limit", format!("must be from 1 to {MAX_SUGGESTIONS}")));
    }
    p.finish()?;
    let mut suggestions = s.directory.index.suggest(s.planner.understanding(), &q, limit);
    if !s.config.serve_sample_data {
        let index = &s.directory.index;
        suggestions.retain(|x| x.kind != "resource" || !index.is_sample(&x.code));
    }
    Ok(Json(json!({ "query": q, "suggestions": suggestions })))
}
