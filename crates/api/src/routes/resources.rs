//! `GET /v1/resources/{id}`: one resource with everything public about it.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use tsunagu_model::ResourceId;

use crate::AppState;
use crate::problem::{InvalidParam, Problem};
use crate::views::ResourceView;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/resources/{id}", get(get_resource))
}

async fn get_resource(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<ResourceView>, Problem> {
    let Path(raw) = id.map_err(|e| Problem::invalid(vec![InvalidParam::param("id", e.body_text())]))?;
    let id: ResourceId = raw
        .parse()
        .map_err(|e: tsunagu_model::FieldError| Problem::invalid(vec![InvalidParam::param("id", e.reason)]))?;
    let resource = s.directory.store.get(id).await?.filter(|r| s.config.serve_sample_data || !r.sample);
    let resource = resource.ok_or_else(|| Problem::not_found(format!("no resource with id {id}")))?;
    Ok(Json(ResourceView::of(s.gazetteer, resource)))
}
