//! Data shipped inside the binary: real facility records (imported through the CSV path like any
//! other file) and the registry of every data source with its licence and attribution.

use serde::{Deserialize, Serialize};

/// 552 real facilities (hospitals and 定期巡回・随時対応型訪問介護看護) from 厚生労働省 open data,
/// 2025-06-01, in tsunagu's CSV layout (see `data/real/SOURCE.md`).
pub const REAL_FACILITIES_CSV: &[u8] = include_bytes!("../../../data/real/mhlw_nagano_saitama.csv");
/// The name the file is reported under.
pub const REAL_FACILITIES_FILE: &str = "data/real/mhlw_nagano_saitama.csv";

/// 722 real disability services for children (and 療養介護) from WAM NET open data (short stays as
/// of 2024-03-31, the rest 2025-03-31), in tsunagu's CSV layout (see `data/real/SOURCE.md`).
pub const REAL_WAM_CSV: &[u8] = include_bytes!("../../../data/real/wam_nagano_saitama.csv");
pub const REAL_WAM_FILE: &str = "data/real/wam_nagano_saitama.csv";

/// Every bundled real file, as (name, bytes): loaded into an empty store through the CSV path.
pub const REAL_FILES: &[(&str, &[u8])] = &[(REAL_FACILITIES_FILE, REAL_FACILITIES_CSV), (REAL_WAM_FILE, REAL_WAM_CSV)];

/// Every bundled real record, read through the ordinary CSV import path. Errors name the file
/// and row (the bundled files are checked by tests, so this only fails on a broken build).
pub fn real_records(places: &tsunagu_places::Places) -> Result<Vec<tsunagu_model::Resource>, String> {
    let mut out = Vec::new();
    for (name, bytes) in REAL_FILES {
        let (rows, _) = crate::read_all(places, crate::Format::Csv, bytes).map_err(|e| format!("{name}: {e}"))?;
        for (row, r) in rows {
            out.push(r.map_err(|e| format!("{name} row {row}: {e:?}"))?);
        }
    }
    Ok(out)
}

/// What kind of data a source provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// Facility records.
    Facilities,
    /// Synthetic records (never real).
    Sample,
    /// Places, boundaries and postal codes behind geocoding and maps.
    Reference,
}

/// One data source (from `data/sources.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceInfo {
    pub id: String,
    pub kind: SourceKind,
    /// The `source.name` values its records carry.
    #[serde(default)]
    pub names: Vec<String>,
    pub title_ja: String,
    pub title_en: String,
    pub publisher: String,
    #[serde(default)]
    pub url: Option<String>,
    /// The date the data describes (データ時点): the newest, when its files differ.
    #[serde(default)]
    pub date: Option<String>,
    /// Older data dates of some of its files (e.g. one service's file from the year before).
    #[serde(default)]
    pub other_dates: Vec<String>,
    pub licence: String,
    pub attribution_ja: String,
    pub attribution_en: String,
    #[serde(default)]
    pub note_ja: Option<String>,
    #[serde(default)]
    pub note_en: Option<String>,
}

#[derive(Deserialize)]
struct File {
    source: Vec<SourceInfo>,
}

/// Every registered source, in the registry's order.
pub fn sources() -> &'static [SourceInfo] {
    static SOURCES: std::sync::OnceLock<Vec<SourceInfo>> = std::sync::OnceLock::new();
    SOURCES.get_or_init(|| {
        toml::from_str::<File>(include_str!("../../../data/sources.toml"))
            .expect("data/sources.toml is valid (checked by a test)")
            .source
    })
}

/// The registered source records named `name` come from, if any.
pub fn source_of(name: &str) -> Option<&'static SourceInfo> {
    sources().iter().find(|s| s.names.iter().any(|n| n == name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_parses_and_names_the_bundled_records_sources() {
        let all = sources();
        assert!(all.iter().any(|s| s.kind == SourceKind::Reference && s.attribution_ja.contains("国土数値情報")));
        assert!(all.iter().any(|s| s.attribution_ja.contains("Geolonia") && s.licence.contains("CC BY 4.0")));
        let mut ids: Vec<&str> = all.iter().map(|s| s.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all.len(), "source ids are unique");
        // Every record of the bundled real files and of the samples names a registered source,
        // and its data date is one the registry gives for that source.
        for r in real_records(&tsunagu_places::Places::bundled()).unwrap() {
            let s = source_of(&r.source.name).unwrap_or_else(|| panic!("{}: unregistered {}", r.name, r.source.name));
            assert_eq!(s.kind, SourceKind::Facilities);
            let date = r.source.date.map(|d| d.to_string()).unwrap_or_default();
            assert!(s.date.as_deref() == Some(date.as_str()) || s.other_dates.contains(&date), "{}: {date}", r.name);
        }
        let sample = tsunagu_sample::bundled().unwrap();
        assert_eq!(source_of(&sample[0].source.name).map(|s| s.kind), Some(SourceKind::Sample));
    }
}
