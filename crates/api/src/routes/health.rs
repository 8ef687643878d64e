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
    // The index publishes its position only after its readers see the documents, so
    // `caught_up` means every record written so far is searchable.
    let index = s.directory.index.state();
    Ok(Json(json!({
        "status": "ready",
        "caught_up": index.seq >= store.seq,
        "behind": (store.seq - index.seq).max(0),
        "resources": store.count,
        "indexed": s.directory.index.len(),
        "store_seq": store.seq,
        "index_seq": index.seq,
    })))
}
