//! Places: the municipalities (市区町村) and 障害保健福祉圏域 (regions) of the prefectures tsunagu
//! ships data for, and their towns (町丁目・大字) with representative points.
//!
//! The data is bundled into the binary from `data/` (see `data/SOURCE.md` for sources and
//! licences), so every command works from any directory without extra files.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Serialize;
use tsunagu_model::{LatLon, MunicipalityCode};

pub mod address;
pub mod boundaries;
pub mod geocode;
mod load;
pub mod romaji;

pub use load::{LoadError, PlaceFiles};
pub mod service;

pub use boundaries::{Boundaries, Located, Method};
pub use geocode::{GeocodeError, Geocoded, Geocoder, Place, Precision};

/// The place services one server uses, made once at start-up and passed to whoever needs them.
#[derive(Clone, Copy)]
pub struct Places {
    pub gazetteer: &'static Gazetteer,
    pub geocoder: &'static Geocoder,
    pub boundaries: &'static Boundaries,
}

impl Places {
    /// The places bundled in the binary.
    pub fn bundled() -> Places {
        Places { gazetteer: Gazetteer::bundled(), geocoder: Geocoder::bundled(), boundaries: Boundaries::bundled() }
    }
}

impl std::fmt::Debug for Places {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Places").field("municipalities", &self.gazetteer.municipalities().len()).finish()
    }
}

/// How a municipality is organised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MunicipalityKind {
    City,
    Town,
    Village,
    DesignatedCity,
    Ward,
}

/// A municipality (市町村) or a ward (区) of a designated city.
#[derive(Debug, Clone, Serialize)]
pub struct Municipality {
    pub code: MunicipalityCode,
    pub prefecture_code: u8,
    pub prefecture: String,
    /// e.g. 軽井沢町, さいたま市西区
    pub name: String,
    /// With the county (郡) where there is one, e.g. 北佐久郡軽井沢町.
    pub full_name: String,
    /// Reading in hiragana, e.g. かるいざわまち.
    pub name_kana: String,
    /// In Latin letters, from the reading: 松本市 → Matsumoto, さいたま市浦和区 → Saitama Urawa-ku.
    pub name_en: String,
    pub kind: MunicipalityKind,
    /// For a ward: its designated city (さいたま市 11100).
    pub parent: Option<MunicipalityCode>,
    /// Town hall / ward office.
    pub point: LatLon,
    /// The 圏域 it belongs to (wards: their city's).
    pub region_id: String,
}

/// A 障害保健福祉圏域: the region a prefecture plans disability services by.
#[derive(Debug, Clone, Serialize)]
pub struct Region {
    /// Our own stable id, e.g. `20-07` (not an official code).
    pub id: String,
    pub prefecture_code: u8,
    pub prefecture: String,
    /// e.g. 松本
    pub name: String,
    /// Other names in use, e.g. 南信州 for 飯伊.
    pub aliases: Vec<String>,
    /// Reading in hiragana, e.g. ほくしん for 北信.
    pub name_kana: Option<String>,
    /// English and romanised names people type, the first shown: Hokushin, Kita-Shin, …
    pub names_en: Vec<String>,
    /// Member municipalities (counted ones; a designated city stands for its wards).
    pub members: Vec<MunicipalityCode>,
}

/// A town (町丁目・大字) with a representative point.
#[derive(Debug, Clone)]
pub struct Town {
    pub municipality: MunicipalityCode,
    pub name: String,
    pub kana: Option<String>,
    pub point: LatLon,
}

/// A prefecture the data covers.
#[derive(Debug, Clone, Serialize)]
pub struct Prefecture {
    /// JIS code, e.g. 20.
    pub code: u8,
    /// e.g. 長野県
    pub name: String,
    /// e.g. ながのけん
    pub name_kana: String,
    /// e.g. Nagano
    pub name_en: String,
}

/// Every bundled place, with lookups.
#[derive(Debug)]
pub struct Gazetteer {
    prefectures: Vec<Prefecture>,
    municipalities: Vec<Municipality>,
    by_code: HashMap<MunicipalityCode, usize>,
    regions: Vec<Region>,
    towns: Vec<Town>,
    towns_by_municipality: HashMap<MunicipalityCode, Vec<usize>>,
}

impl Gazetteer {
    /// The gazetteer built from the data bundled in the binary. Parsed once.
    pub fn bundled() -> &'static Gazetteer {
        static G: OnceLock<Gazetteer> = OnceLock::new();
        G.get_or_init(|| load::bundled().expect("bundled place data is valid (checked by tests)"))
    }

    /// A gazetteer from place data files (the bundled ones are [`PlaceFiles::BUNDLED`]).
    pub fn load(files: &PlaceFiles<'_>) -> Result<Gazetteer, LoadError> {
        load::load(files)
    }

    /// The prefectures the data covers, by code.
    pub fn prefectures(&self) -> &[Prefecture] {
        &self.prefectures
    }

    pub fn prefecture(&self, code: u8) -> Option<&Prefecture> {
        self.prefectures.iter().find(|p| p.code == code)
    }

    /// The prefectures' names, e.g. `["埼玉県", "長野県"]`.
    pub fn prefecture_names_ja(&self) -> Vec<&str> {
        self.prefectures.iter().map(|p| p.name.as_str()).collect()
    }

    pub fn municipalities(&self) -> &[Municipality] {
        &self.municipalities
    }
    pub fn municipality(&self, code: MunicipalityCode) -> Option<&Municipality> {
        self.by_code.get(&code).map(|&i| &self.municipalities[i])
    }
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }
    pub fn region(&self, id: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.id == id)
    }
    /// A region by id, name (松本, 松本圏域) or alias, within an optional prefecture.
    pub fn region_by_name(&self, name: &str) -> Option<&Region> {
        let n = name.trim().trim_end_matches("圏域").trim_end_matches("地域");
        // English: "Hokushin", "hokushin region", "Kiso area".
        let lower = n.to_lowercase();
        let en = lower.trim_end_matches(" region").trim_end_matches(" area").trim();
        self.region(name.trim()).or_else(|| {
            self.regions.iter().find(|r| {
                r.name == n
                    || r.aliases.iter().any(|a| a == n)
                    || r.name_kana.as_deref() == Some(n)
                    || r.names_en.iter().any(|e| e.eq_ignore_ascii_case(en))
            })
        })
    }
    pub fn region_of(&self, code: MunicipalityCode) -> Option<&Region> {
        self.municipality(code).and_then(|m| self.region(&m.region_id))
    }
    /// The codes a municipality stands for in a filter: itself, and for a designated city its wards.
    pub fn expand(&self, code: MunicipalityCode) -> Vec<MunicipalityCode> {
        let mut out = vec![code];
        out.extend(self.municipalities.iter().filter(|m| m.parent == Some(code)).map(|m| m.code));
        out
    }
    /// The mean point of a region's member municipalities (their offices).
    pub fn region_centre(&self, region: &Region) -> Option<LatLon> {
        let pts: Vec<LatLon> = region.members.iter().filter_map(|c| self.municipality(*c)).map(|m| m.point).collect();
        let n = pts.len() as f64;
        LatLon::new(pts.iter().map(|p| p.lat()).sum::<f64>() / n, pts.iter().map(|p| p.lon()).sum::<f64>() / n).ok()
    }

    /// All codes (municipalities and wards) in a region.
    pub fn region_codes(&self, region: &Region) -> Vec<MunicipalityCode> {
        region.members.iter().flat_map(|c| self.expand(*c)).collect()
    }
    pub fn towns(&self) -> &[Town] {
        &self.towns
    }
    /// Towns of a municipality or ward (a designated city has none of its own; use its wards).
    pub fn towns_of(&self, code: MunicipalityCode) -> impl Iterator<Item = &Town> {
        self.towns_by_municipality.get(&code).into_iter().flatten().map(|&i| &self.towns[i])
    }
    /// Display name with prefecture, e.g. 長野県松本市.
    pub fn display_name(&self, code: MunicipalityCode) -> Option<String> {
        self.municipality(code).map(|m| format!("{}{}", m.prefecture, m.name))
    }
}

/// How far outside every bundled boundary a record's point may lie from its municipality's
/// office (km) before it is refused.
pub const MAX_POINT_KM_OUTSIDE: f64 = 40.0;

impl Places {
    /// Checks of a resource against the known places: its municipality, its point (inside the
    /// boundaries of its prefecture), and the municipalities or region its service area names.
    /// (The model checks forms; only the places know what exists.)
    pub fn check(&self, r: &tsunagu_model::Resource) -> Vec<tsunagu_model::FieldError> {
        check_places(self, r)
    }
}

fn check_places(places: &Places, r: &tsunagu_model::Resource) -> Vec<tsunagu_model::FieldError> {
    use tsunagu_model::{FieldError, ServiceArea};
    let g = places.gazetteer;
    let mut errs = Vec::new();
    match g.municipality(r.municipality_code) {
        None => errs.push(FieldError::new(
            "municipality_code",
            format!(
                "{} is not a municipality tsunagu has data for ({})",
                r.municipality_code,
                g.prefecture_names_ja().join("・")
            ),
        )),
        // A point far from its municipality is a data error (published files hold points
        // geocoded to another town of the same name, or a geocoder's default far abroad).
        Some(m) => {
            if let Some(p) = r.location {
                let located = places.boundaries.locate(p).and_then(|l| g.municipality(l.municipality));
                let far = p.distance_km(m.point);
                let wrong = match located {
                    Some(other) => other.prefecture_code != m.prefecture_code,
                    None => far > MAX_POINT_KM_OUTSIDE,
                };
                if wrong {
                    errs.push(FieldError::new(
                        "location",
                        format!(
                            "({:.5}, {:.5}) is {} km from {}{}{} — check 緯度/経度 (swapped, or placed in another town?)",
                            p.lat(),
                            p.lon(),
                            far.round(),
                            m.prefecture,
                            m.name,
                            located.map_or(String::new(), |o| format!(", inside {}{}", o.prefecture, o.name)),
                        ),
                    ));
                }
            }
        }
    }
    match &r.service_area {
        ServiceArea::Municipalities { codes } => {
            for (i, c) in codes.iter().enumerate() {
                if g.municipality(*c).is_none() {
                    errs.push(FieldError::new(
                        format!("service_area/codes/{i}"),
                        format!("{c} is not a known municipality"),
                    ));
                }
            }
        }
        ServiceArea::Region { region_id } if g.region(region_id).is_none() => {
            let ids: Vec<_> = g.regions().iter().map(|r| r.id.as_str()).collect();
            errs.push(FieldError::new(
                "service_area/region_id",
                format!("unknown region `{region_id}`; known: {}", ids.join(", ")),
            ));
        }
        _ => {}
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> MunicipalityCode {
        s.parse().unwrap()
    }

    #[test]
    fn bundled_data_has_both_prefectures_and_their_regions() {
        let g = Gazetteer::bundled();
        let counted = |p: u8| {
            g.municipalities().iter().filter(|m| m.prefecture_code == p && m.kind != MunicipalityKind::Ward).count()
        };
        assert_eq!(counted(20), 77, "長野県");
        assert_eq!(counted(11), 63, "埼玉県");
        assert_eq!(g.regions().iter().filter(|r| r.prefecture_code == 20).count(), 10);
        assert_eq!(g.regions().iter().filter(|r| r.prefecture_code == 11).count(), 10);
        let matsumoto = g.municipality(code("20202")).unwrap();
        assert_eq!(matsumoto.name, "松本市");
        assert_eq!(g.region_of(matsumoto.code).unwrap().name, "松本");
    }

    #[test]
    fn a_point_far_from_its_municipality_is_refused() {
        let at = |lat: f64, lon: f64, muni: &str| {
            let r = tsunagu_model::Resource::from_json(serde_json::json!({
                "id": "0190c6b2-7d3e-7c41-9f6a-2b5d1e8a4c21", "name": "x", "kind": "hospital",
                "municipality_code": muni, "location": {"lat": lat, "lon": lon}, "source": {"name": "t"}, "sample": false
            }))
            .unwrap();
            Places::bundled().check(&r).into_iter().map(|e| e.field).collect::<Vec<_>>()
        };
        assert!(at(35.9748, 139.7523, "11222").is_empty(), "越谷市 in 越谷市");
        assert_eq!(at(53.41291, -8.24389, "11222"), ["location"], "Ireland");
        assert_eq!(at(35.1133, 140.0990, "11231"), ["location"], "鴨川市, Chiba, for 桶川市");
        assert_eq!(at(36.238, 137.972, "11231"), ["location"], "松本 for 桶川市");
        assert_eq!(at(35.9, 35.9, "11231"), ["location"], "a longitude typed as the latitude");
    }

    #[test]
    fn every_municipality_is_in_exactly_one_region() {
        let g = Gazetteer::bundled();
        for m in g.municipalities() {
            let holders = g.regions().iter().filter(|r| g.region_codes(r).contains(&m.code)).count();
            assert_eq!(holders, 1, "{} {}", m.code, m.name);
        }
    }

    #[test]
    fn designated_city_expands_to_its_wards_and_wards_have_towns() {
        let g = Gazetteer::bundled();
        let saitama = g.expand(code("11100"));
        assert_eq!(saitama.len(), 11);
        assert!(g.towns_of(code("11101")).count() > 10);
        assert_eq!(g.region_of(code("11103")).unwrap().name, "さいたま");
    }

    #[test]
    fn regions_are_found_by_name_and_alias() {
        let g = Gazetteer::bundled();
        assert_eq!(g.region_by_name("南信州").unwrap().name, "飯伊");
        assert_eq!(g.region_by_name("北信圏域").unwrap().id, g.region_by_name("北信").unwrap().id);
        assert!(g.region_by_name("存在しない").is_none());
        // Readings and English names come from regions.csv.
        let hokushin = g.region_by_name("北信").unwrap();
        assert_eq!(hokushin.name_kana.as_deref(), Some("ほくしん"));
        for name in ["Hokushin", "hokushin region", "Kita-Shin", "ほくしん"] {
            assert_eq!(g.region_by_name(name).map(|r| r.id.as_str()), Some(hokushin.id.as_str()), "{name}");
        }
        assert!(g.regions().iter().all(|r| r.name_kana.is_some() && !r.names_en.is_empty()), "every region");
    }
}
