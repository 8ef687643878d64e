//! `GET /healthz` (the process is alive) and `GET /readyz` (store and index answer).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::AppState;
use crate::problem::Problem;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

async fn readyz(State(s): State<AppState>) -> Result<Json<Value>, Problem> {
    let store = s.directory.store.state().await.map_err(|e| Problem::unavailable(format!("store: {e}")))?;
    let index = s.directory.index.state();
    Ok(Json(json!({
        "status": "ready",
        "resources": store.count,
        "indexed": s.directory.index.len(),
        "store_seq": store.seq,
        "index_seq": index.seq,
    })))
}
