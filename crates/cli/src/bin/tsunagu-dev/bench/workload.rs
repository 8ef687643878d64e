//! The shared benchmark workload (`../shared/bench/gen.py`): its records and query parameters,
//! and how they map onto tsunagu's vocabulary.
//!
//! The workload is synthetic and nationwide. Its records become `sample: true` resources (their
//! names carry 【サンプル】) from the source 「ベンチマーク用合成データ」, so nothing from it can
//! pass as a real facility. Its municipality codes are made up (a 0.1° grid cell per code), so
//! the gazetteer's place checks, which only know 長野県 and 埼玉県, are skipped for it — and only
//! for it: every real import still runs them.

use serde::Deserialize;
use serde_json::json;
use tsunagu_exchange::{RowError, RowResult};
use tsunagu_model::{CareType, Kind, Resource, ResourceId};

/// Source name of workload records.
pub const SOURCE: &str = "ベンチマーク用合成データ (shared/bench/gen.py)";

/// One record as `gen.py data` writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub care_types: Vec<String>,
    pub description: String,
    pub municipality_code: String,
    pub lat: f64,
    pub lon: f64,
    pub service_radius_km: Option<f64>,
    pub nurse_days: Vec<String>,
}

/// The workload's kind → tsunagu's kind.
pub fn kind(code: &str) -> Option<Kind> {
    let ours = match code {
        "consultation" => "consultation_support",
        "shelter" => "welfare_shelter",
        other => other,
    };
    ours.parse().ok()
}

/// The workload's care type → tsunagu's care type (the 医療的ケア判定スコア names).
pub fn care(code: &str) -> Option<CareType> {
    let ours = match code {
        "suction" => "suction_oral_nasal",
        "tube_feeding" => "tube_feeding_nasal",
        "seizure" => "seizure_medication",
        other => other,
    };
    ours.parse().ok()
}

/// tsunagu's care type → the workload's name (for comparing answers with the peer).
pub fn care_name(c: CareType) -> &'static str {
    match c.code() {
        "suction_oral_nasal" => "suction",
        "tube_feeding_nasal" => "tube_feeding",
        "seizure_medication" => "seizure",
        other => other,
    }
}

/// The id a workload record gets in tsunagu.
pub fn resource_id(bench_id: &str) -> ResourceId {
    ResourceId::from_source_id(&format!("bench:{bench_id}"))
}

/// Parse one line of the workload into a resource: forms and rules are validated as for any
/// import; the place checks are not (see the module docs).
pub fn parse_line(row: usize, line: &str) -> RowResult {
    let err = |field: &str, reason: String| vec![RowError { row, field: field.to_string(), reason }];
    let r: Record = serde_json::from_str(line).map_err(|e| err("", format!("not a workload record: {e}")))?;
    let k = kind(&r.kind).ok_or_else(|| err("kind", format!("unknown workload kind `{}`", r.kind)))?;
    let mut care_types = Vec::new();
    for c in &r.care_types {
        care_types.push(care(c).ok_or_else(|| err("care_types", format!("unknown workload care type `{c}`")))?.code());
    }
    let nurse: serde_json::Map<String, serde_json::Value> =
        r.nurse_days.iter().map(|d| (d.clone(), json!(["09:00-17:00"]))).collect();
    let mut v = json!({
        "id": resource_id(&r.id).to_string(),
        "name": format!("{}{}", tsunagu_model::SAMPLE_MARK, r.name),
        "kind": k.code(),
        "care_types": care_types,
        "description": r.description,
        "municipality_code": r.municipality_code,
        "location": {"lat": r.lat, "lon": r.lon},
        "nurse_schedule": nurse,
        "source": {"name": SOURCE, "id": r.id},
        "sample": true,
    });
    if let Some(km) = r.service_radius_km {
        v["service_area"] = json!({"type": "radius", "radius_km": km});
    }
    Resource::from_json(v)
        .map_err(|errs| errs.into_iter().map(|e| RowError { row, field: e.field, reason: e.reason }).collect())
}

/// `gen.py queries`: the same parameters for every N and every engine.
#[derive(Debug, Deserialize)]
pub struct Queries {
    pub q1: Vec<Q1>,
    pub q2: Vec<Q2>,
    pub q3: Vec<Q3>,
    pub q4: Vec<Q4>,
    pub q5: Vec<Q5>,
}

/// Text + within a radius + care type, nearest first.
#[derive(Debug, Clone, Deserialize)]
pub struct Q1 {
    pub lat: f64,
    pub lon: f64,
    pub text: String,
    pub care_type: String,
    pub radius_km: f64,
    pub limit: usize,
}

/// The k nearest of a kind with a care type.
#[derive(Debug, Clone, Deserialize)]
pub struct Q2 {
    pub lat: f64,
    pub lon: f64,
    pub kind: String,
    pub care_type: String,
    pub k: usize,
}

/// Text within municipalities.
#[derive(Debug, Clone, Deserialize)]
pub struct Q3 {
    pub codes: Vec<String>,
    pub text: String,
    pub limit: usize,
}

/// Service areas covering a point.
#[derive(Debug, Clone, Deserialize)]
pub struct Q4 {
    pub lat: f64,
    pub lon: f64,
    pub kind: String,
    pub limit: usize,
}

/// Care-type counts within a radius.
#[derive(Debug, Clone, Deserialize)]
pub struct Q5 {
    pub lat: f64,
    pub lon: f64,
    pub radius_km: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workload_line_becomes_a_sample_resource() {
        let line = r#"{"id":"r0000042","name":"松本中央保育園","kind":"daycare","care_types":["suction","seizure"],"description":"喀痰吸引に対応しています。","municipality_code":"20123","lat":36.2,"lon":137.9,"service_radius_km":null,"nurse_days":["mon","fri"]}"#;
        let r = parse_line(1, line).unwrap();
        assert!(r.sample);
        assert_eq!(r.name, "【サンプル】松本中央保育園");
        assert_eq!(r.kind, Kind::Daycare);
        let care: Vec<_> = r.care_types.iter().map(care_name).collect();
        assert_eq!(care, ["suction", "seizure"]);
        assert_eq!(r.source.id.as_deref(), Some("r0000042"));
        assert_eq!(r.nurse_schedule.day_mask(), 0b1_0001);
        assert_eq!(r.id, resource_id("r0000042"));
    }

    #[test]
    fn every_workload_kind_and_care_type_maps() {
        for k in [
            "daycare",
            "special_needs_school",
            "after_school_day_service",
            "child_development_support",
            "short_stay",
            "home_nursing",
            "hospital",
            "clinic",
            "consultation",
            "transport",
            "pharmacy",
            "shelter",
            "power_supply",
            "program",
            "training",
        ] {
            assert!(kind(k).is_some(), "{k}");
        }
        for c in [
            "suction",
            "tracheostomy",
            "ventilator",
            "oxygen",
            "tube_feeding",
            "gastrostomy",
            "catheterization",
            "insulin",
            "central_venous",
            "nebulizer",
            "seizure",
            "stoma",
        ] {
            let ours = care(c).unwrap_or_else(|| panic!("{c}"));
            assert_eq!(care_name(ours), c);
        }
    }

    #[test]
    fn bad_workload_lines_are_row_errors() {
        let e = parse_line(3, r#"{"id":"r1","name":"x","kind":"castle","care_types":[],"description":"","municipality_code":"20123","lat":36,"lon":137,"service_radius_km":null,"nurse_days":[]}"#).unwrap_err();
        assert_eq!((e[0].row, e[0].field.as_str()), (3, "kind"));
        assert!(parse_line(4, "{").is_err());
        let e = parse_line(5, r#"{"id":"r1","name":"x","kind":"daycare","care_types":[],"description":"","municipality_code":"20123","lat":136,"lon":137,"service_radius_km":null,"nurse_days":[]}"#).unwrap_err();
        assert!(e.iter().any(|e| e.reason.contains("lat")), "{e:?}");
    }
}
