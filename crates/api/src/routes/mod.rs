//! One module per resource; each exposes a `router()` merged in [`crate::router`].

pub mod contacts;
pub mod emergencies;
pub mod exchange;
pub mod health;
pub mod places;
pub mod power;
pub mod programmes;
pub mod reports;
pub mod resources;
pub mod search;
pub mod sources;
pub mod suggest;
pub mod survey;
pub mod training;
pub mod vocabulary;
pub mod write;

/// A request body that must be one JSON object: otherwise a problem naming `body`.
pub fn json_object(body: &[u8]) -> Result<serde_json::Value, crate::problem::Problem> {
    use crate::problem::{InvalidParam, Problem};
    let v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| Problem::invalid(vec![InvalidParam::param("body", format!("not JSON: {e}"))]))?;
    if v.is_object() {
        Ok(v)
    } else {
        Err(Problem::invalid(vec![InvalidParam::param("body", "must be a JSON object")]))
    }
}
