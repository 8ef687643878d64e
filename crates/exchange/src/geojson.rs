//! GeoJSON (RFC 7946): a FeatureCollection with one Point feature per resource, for GIS tools
//! (QGIS, 地理院地図, Leaflet). The feature's `id` is the resource id, its geometry the location
//! (`null` when unknown) and its `properties` every other member as the API shows it, so that
//! export → import is exact.
//!
//! Features from elsewhere may instead carry flat properties named like the CSV columns (名称,
//! 種別, 住所 …); those are read as a CSV row, with 緯度/経度 from the geometry.

use serde_json::{Map, Value, json};
use tsunagu_model::Resource;
use tsunagu_places::Places;

use crate::{RowError, RowResult, csv, jsonl};

/// The text before the first feature.
pub const HEAD: &str = "{\"type\":\"FeatureCollection\",\"features\":[\n";
/// The text after the last feature.
pub const TAIL: &str = "\n]}\n";
/// Between features.
pub const SEPARATOR: &str = ",\n";

/// One feature for a resource (without store-managed timestamps).
pub fn feature(r: &Resource) -> Value {
    let mut props = serde_json::to_value(r.clone().without_timestamps()).expect("resources serialise");
    let obj = props.as_object_mut().expect("an object");
    let id = obj.remove("id").unwrap_or(Value::Null);
    obj.remove("location");
    let geometry = match r.location {
        Some(p) => json!({"type": "Point", "coordinates": [p.lon(), p.lat()]}),
        None => Value::Null,
    };
    json!({"type": "Feature", "id": id, "geometry": geometry, "properties": props})
}

/// Read one feature (1-based `row` = its position in `features`).
pub fn parse_feature(places: &Places, row: usize, v: Value) -> RowResult {
    let err = |field: &str, reason: String| vec![RowError { row, field: field.to_string(), reason }];
    let Value::Object(mut f) = v else { return Err(err("", "a feature must be a JSON object".into())) };
    if f.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err(err("type", "must be \"Feature\"".into()));
    }
    let point = match f.remove("geometry") {
        None | Some(Value::Null) => None,
        Some(g) => {
            if g.get("type").and_then(Value::as_str) != Some("Point") {
                return Err(err("geometry", "must be a Point (or null)".into()));
            }
            match g.get("coordinates").and_then(Value::as_array).map(|c| c.as_slice()) {
                Some([lon, lat, ..]) if lon.is_number() && lat.is_number() => Some((lon.clone(), lat.clone())),
                _ => return Err(err("geometry/coordinates", "must be [longitude, latitude]".into())),
            }
        }
    };
    let props = match f.remove("properties") {
        Some(Value::Object(p)) => p,
        None | Some(Value::Null) => Map::new(),
        Some(_) => return Err(err("properties", "must be an object".into())),
    };
    if props.contains_key("name") {
        let mut obj = props;
        match f.remove("id") {
            Some(Value::String(id)) => {
                obj.insert("id".into(), Value::String(id));
            }
            None | Some(Value::Null) => {}
            Some(_) => return Err(err("id", "must be a string (the resource id)".into())),
        }
        if let Some((lon, lat)) = point {
            obj.insert("location".into(), json!({"lat": lat, "lon": lon}));
        }
        jsonl::parse_value(places, row, Value::Object(obj))
    } else {
        // Flat properties named like the CSV columns.
        let mut cells: Vec<(String, String)> = Vec::new();
        for (k, v) in props {
            let text = match v {
                Value::Null => continue,
                Value::String(s) => s,
                other => other.to_string(),
            };
            cells.push((k, text));
        }
        if let Some((lon, lat)) = point {
            cells.retain(|(k, _)| !matches!(csv::column(k), Some("lat" | "lon")));
            cells.push(("lat".into(), lat.to_string()));
            cells.push(("lon".into(), lon.to_string()));
        }
        csv::flat_row(places, row, &cells)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_properties_named_like_csv_columns_are_read() {
        let f = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [137.97, 36.24]},
            "properties": {"名称": "あおぞら訪問看護", "種別": "訪問看護", "市区町村コード": "20202", "医療的ケア対応": "人工呼吸器"}});
        let r = parse_feature(&tsunagu_places::Places::bundled(), 1, f).unwrap();
        assert_eq!(r.name, "あおぞら訪問看護");
        assert_eq!(r.location.unwrap().lat(), 36.24);
        assert_eq!(r.care_types.iter().map(|c| c.code()).collect::<Vec<_>>(), ["ventilator"]);
        let bad = json!({"type": "Feature", "geometry": {"type": "LineString", "coordinates": []}, "properties": {}});
        assert_eq!(
            parse_feature(&tsunagu_places::Places::bundled(), 3, bad).unwrap_err()[0].to_string(),
            "row 3: geometry: must be a Point (or null)"
        );
        let unknown = json!({"type": "Feature", "geometry": null, "properties": {"名称": "x", "色": "赤"}});
        assert!(
            parse_feature(&tsunagu_places::Places::bundled(), 4, unknown).unwrap_err()[0].reason.contains("unknown")
        );
    }
}
