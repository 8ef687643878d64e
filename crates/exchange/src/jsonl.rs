//! JSON Lines: one resource per line.

use tsunagu_model::{Resource, ResourceId};

use tsunagu_places::Places;

use crate::{RowError, RowResult, check_places};

/// Parse one line (1-based `row`): fills a missing id from `source.id` (stable across re-imports)
/// or makes a new one; validates forms, rules and places.
pub fn parse_line(places: &Places, row: usize, line: &str) -> RowResult {
    let v: serde_json::Value = serde_json::from_str(line)
        .map_err(|e| vec![RowError { row, field: String::new(), reason: format!("not JSON: {e}") }])?;
    parse_value(places, row, v)
}

/// One resource as JSON (the API's shape): fills a missing id from `source.id` (stable across
/// re-imports) or makes a new one; store-managed timestamps are ignored; validates forms, rules
/// and places.
pub fn parse_value(places: &Places, row: usize, mut v: serde_json::Value) -> RowResult {
    let err = |field: &str, reason: String| vec![RowError { row, field: field.to_string(), reason }];
    let Some(obj) = v.as_object_mut() else { return Err(err("", "not a JSON object".into())) };
    if !obj.contains_key("id") {
        let id = match obj.get("source").and_then(|s| s.get("id")).and_then(|i| i.as_str()) {
            Some(sid) => ResourceId::from_source_id(sid),
            None => ResourceId::new_random(),
        };
        obj.insert("id".into(), serde_json::Value::String(id.to_string()));
    }
    obj.remove("created_at");
    obj.remove("updated_at");
    let r = Resource::from_json(v).map_err(|errs| {
        errs.into_iter().map(|e| RowError { row, field: e.field, reason: e.reason }).collect::<Vec<_>>()
    })?;
    check_places(places, row, r)
}

/// One line for a resource (without store-managed timestamps).
pub fn line(r: &Resource) -> String {
    serde_json::to_string(&r.clone().without_timestamps()).expect("resources serialise")
}
