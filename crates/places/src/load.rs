//! Parsing of the bundled CSV files in `data/`.

use std::collections::HashMap;

use serde::Deserialize;
use tsunagu_model::{LatLon, MunicipalityCode};

use crate::{Gazetteer, Municipality, MunicipalityKind, Prefecture, Region, Town};

/// The text of the place data files: what a prefecture is made of.
#[derive(Debug, Clone, Copy)]
pub struct PlaceFiles<'a> {
    /// `prefectures.csv`: code, name, name_kana, name_en, boundaries (file).
    pub prefectures: &'a str,
    /// `municipalities.csv`: one row per municipality or ward, with its office's position.
    pub municipalities: &'a str,
    /// `regions.csv`: each municipality's 圏域.
    pub regions: &'a str,
    /// `towns_*.csv`: 町丁目・大字 with representative points.
    pub towns: &'a str,
}

impl PlaceFiles<'static> {
    /// The files bundled from `data/`.
    pub const BUNDLED: PlaceFiles<'static> = PlaceFiles {
        prefectures: include_str!("../../../data/prefectures.csv"),
        municipalities: include_str!("../../../data/municipalities.csv"),
        regions: include_str!("../../../data/regions.csv"),
        towns: include_str!("../../../data/towns_nagano_saitama.csv"),
    };
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{file}: {message}")]
    Invalid { file: &'static str, message: String },
}

fn invalid(file: &'static str, message: impl Into<String>) -> LoadError {
    LoadError::Invalid { file, message: message.into() }
}

#[derive(Deserialize)]
struct PrefectureRow {
    code: u8,
    name: String,
    name_kana: String,
    name_en: String,
}

#[derive(Deserialize)]
struct MunicipalityRow {
    code: String,
    prefecture_code: u8,
    prefecture: String,
    name: String,
    full_name: String,
    name_kana: String,
    kind: String,
    parent_code: String,
    lat: f64,
    lon: f64,
}

#[derive(Deserialize)]
struct RegionRow {
    prefecture: String,
    region_name: String,
    municipality_code: String,
    region_code: String,
    region_alias: String,
    /// The name's reading in hiragana (optional).
    #[serde(default)]
    region_kana: String,
    /// English and romanised names, `|`-separated, the first shown (optional).
    #[serde(default)]
    region_en: String,
}

#[derive(Deserialize)]
struct TownRow {
    city_code: String,
    town: String,
    koaza: String,
    town_kana: String,
    lat: Option<f64>,
    lon: Option<f64>,
}

fn rows<T: for<'de> Deserialize<'de>>(file: &'static str, text: &str) -> Result<Vec<T>, LoadError> {
    csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .enumerate()
        .map(|(i, r)| r.map_err(|e| invalid(file, format!("row {}: {e}", i + 2))))
        .collect()
}

pub fn bundled() -> Result<Gazetteer, LoadError> {
    load(&PlaceFiles::BUNDLED)
}

/// Build a gazetteer from place data files, checking that they fit together.
pub fn load(files: &PlaceFiles<'_>) -> Result<Gazetteer, LoadError> {
    const PF: &str = "prefectures.csv";
    const MF: &str = "municipalities.csv";
    const RF: &str = "regions.csv";
    let mut prefectures: Vec<Prefecture> = Vec::new();
    for r in rows::<PrefectureRow>(PF, files.prefectures)? {
        if prefectures.iter().any(|p| p.code == r.code) {
            return Err(invalid(PF, format!("prefecture {} is listed twice", r.code)));
        }
        prefectures.push(Prefecture { code: r.code, name: r.name, name_kana: r.name_kana, name_en: r.name_en });
    }
    prefectures.sort_by_key(|p| p.code);
    let mut regions: Vec<Region> = Vec::new();
    let mut region_of: HashMap<MunicipalityCode, String> = HashMap::new();
    for r in rows::<RegionRow>(RF, files.regions)? {
        let code = MunicipalityCode::parse(&r.municipality_code).map_err(|e| invalid(RF, e.to_string()))?;
        if region_of.insert(code, r.region_code.clone()).is_some() {
            return Err(invalid(RF, format!("{code} is in two regions")));
        }
        match regions.iter_mut().find(|g| g.id == r.region_code) {
            Some(g) => g.members.push(code),
            None => regions.push(Region {
                id: r.region_code.clone(),
                prefecture_code: code.prefecture_code(),
                prefecture: r.prefecture,
                name: r.region_name,
                aliases: r.region_alias.split(['|', '・']).filter(|s| !s.is_empty()).map(str::to_string).collect(),
                name_kana: Some(r.region_kana.trim().to_string()).filter(|k| !k.is_empty()),
                names_en: r.region_en.split('|').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect(),
                members: vec![code],
            }),
        }
    }

    let mut municipalities = Vec::new();
    for r in rows::<MunicipalityRow>(MF, files.municipalities)? {
        let code = MunicipalityCode::parse(&r.code).map_err(|e| invalid(MF, e.to_string()))?;
        match prefectures.iter().find(|p| p.code == r.prefecture_code) {
            Some(p) if p.name == r.prefecture && code.prefecture_code() == p.code => {}
            _ => {
                return Err(invalid(
                    MF,
                    format!("{code} {}: prefecture {} {} is not in {PF}", r.name, r.prefecture_code, r.prefecture),
                ));
            }
        }
        let parent = if r.parent_code.is_empty() {
            None
        } else {
            Some(MunicipalityCode::parse(&r.parent_code).map_err(|e| invalid(MF, e.to_string()))?)
        };
        let kind = match r.kind.as_str() {
            "city" => MunicipalityKind::City,
            "town" => MunicipalityKind::Town,
            "village" => MunicipalityKind::Village,
            "designated_city" => MunicipalityKind::DesignatedCity,
            "ward" => MunicipalityKind::Ward,
            other => return Err(invalid(MF, format!("{code}: unknown kind {other}"))),
        };
        let region_id = region_of
            .get(&parent.unwrap_or(code))
            .cloned()
            .ok_or_else(|| invalid(RF, format!("{code} {} is in no region", r.name)))?;
        municipalities.push(Municipality {
            code,
            prefecture_code: r.prefecture_code,
            prefecture: r.prefecture,
            name: r.name,
            full_name: r.full_name,
            name_kana: r.name_kana,
            name_en: String::new(),
            kind,
            parent,
            point: LatLon::new(r.lat, r.lon).map_err(|e| invalid(MF, format!("{code}: {e}")))?,
            region_id,
        });
    }
    let by_code: HashMap<_, _> = municipalities.iter().enumerate().map(|(i, m)| (m.code, i)).collect();
    // English names, from the readings (a ward's after its city's).
    let names_en: Vec<String> = municipalities
        .iter()
        .map(|m| english_name(m, m.parent.and_then(|p| by_code.get(&p)).map(|i| &municipalities[*i])))
        .collect();
    for (m, en) in municipalities.iter_mut().zip(names_en) {
        m.name_en = en;
    }
    if let Some(code) = region_of.keys().find(|c| !by_code.contains_key(c)) {
        return Err(invalid(RF, format!("{code} is not a known municipality")));
    }

    let mut towns = Vec::new();
    let mut towns_by_municipality: HashMap<MunicipalityCode, Vec<usize>> = HashMap::new();
    for r in rows::<TownRow>("towns", files.towns)? {
        // 小字 rows are points inside a town; the town row itself is enough here.
        let (Some(lat), Some(lon)) = (r.lat, r.lon) else { continue };
        if !r.koaza.is_empty() {
            continue;
        }
        let code = MunicipalityCode::parse(&r.city_code).map_err(|e| invalid("towns", e.to_string()))?;
        if !by_code.contains_key(&code) {
            return Err(invalid("towns", format!("unknown municipality {code}")));
        }
        towns_by_municipality.entry(code).or_default().push(towns.len());
        towns.push(Town {
            municipality: code,
            name: r.town,
            kana: Some(r.town_kana).filter(|k| !k.is_empty()),
            point: LatLon::new(lat, lon).map_err(|e| invalid("towns", e.to_string()))?,
        });
    }
    Ok(Gazetteer { prefectures, municipalities, by_code, regions, towns, towns_by_municipality })
}

/// A municipality's name in Latin letters, from its reading: 松本市 → "Matsumoto", さいたま市浦和区
/// → "Saitama Urawa-ku". Falls back to the Japanese name when the reading is not plain hiragana.
fn english_name(m: &Municipality, city: Option<&Municipality>) -> String {
    use crate::romaji::{simplified, to_romaji};
    let roman = |kana: &str| -> Option<String> {
        let bare = ["し", "まち", "むら", "ちょう", "そん"].iter().find_map(|s| kana.strip_suffix(s)).unwrap_or(kana);
        let r = simplified(&to_romaji(bare)?);
        let mut cs = r.chars();
        Some(cs.next().map(|c| c.to_uppercase().collect::<String>() + cs.as_str()).unwrap_or_default())
    };
    match city {
        Some(city) => {
            let ward = m.name_kana.strip_prefix(&city.name_kana).unwrap_or(&m.name_kana);
            let ward = ward.strip_suffix('く').unwrap_or(ward);
            match (roman(&city.name_kana), roman(ward)) {
                (Some(c), Some(w)) => format!("{c} {w}-ku"),
                _ => m.name.clone(),
            }
        }
        None => roman(&m.name_kana).unwrap_or_else(|| m.name.clone()),
    }
}
