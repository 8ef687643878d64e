//! `GET /v1/resources/{id}`: one resource with everything public about it (with a key, its
//! private fields too), and the ETag that edits need. PUT/PATCH/DELETE are in [`super::write`].

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tsunagu_model::ResourceId;

use crate::AppState;
use crate::auth::Caller;
use crate::problem::{InvalidParam, Problem};
use crate::routes::write;
use crate::views::ResourceView;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/resources/{id}", get(get_resource).put(write::replace).patch(write::patch).delete(write::delete))
}

async fn get_resource(
    State(s): State<AppState>,
    Caller(key): Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, Problem> {
    let Path(raw) = id.map_err(|e| Problem::invalid(vec![InvalidParam::param("id", e.body_text())]))?;
    let id: ResourceId = raw
        .parse()
        .map_err(|e: tsunagu_model::FieldError| Problem::invalid(vec![InvalidParam::param("id", e.reason)]))?;
    let found = s.served(id).await?.filter(|v| !v.deleted);
    let v = found.ok_or_else(|| Problem::not_found(format!("no resource with id {id}")))?;
    let view = if key.is_some() {
        ResourceView::with_private(s.gazetteer, v.resource, &s.config)
    } else {
        ResourceView::of(s.gazetteer, v.resource, &s.config)
    };
    let mut res = Json(view).into_response();
    if let Ok(h) = HeaderValue::from_str(&write::etag(v.version)) {
        res.headers_mut().insert(header::ETAG, h);
    }
    Ok(res)
}
