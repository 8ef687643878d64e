//! Reverse geocoding: a point → the municipality (and so the 圏域) it lies in.
//!
//! Municipality polygons (国土数値情報, simplified) sit in an R-tree of their bounding boxes;
//! candidates are confirmed by exact point-in-polygon. The polygons are coarse (≈1 %), so near a
//! border a point can fall in no polygon or, rarely, in two: then the nearest town point (of the
//! candidates, or overall within a few km) decides, and the answer says it was approximate.

use geo::{Contains, Coord, LineString, MultiPolygon, Point, Polygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};
use serde::Serialize;
use tsunagu_model::{LatLon, MunicipalityCode};

use crate::Gazetteer;

// The boundary files named in data/prefectures.csv (see build.rs).
include!(concat!(env!("OUT_DIR"), "/bundled_boundaries.rs"));

/// How a reverse-geocoding answer was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Inside exactly one municipality polygon.
    Boundary,
    /// Polygons were inconclusive near a border; the nearest town point decided.
    NearestTown,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Located {
    pub municipality: MunicipalityCode,
    pub method: Method,
    /// The nearest town of that municipality, for display.
    pub town: Option<String>,
    pub town_distance_km: Option<f64>,
}

/// Farthest a point may be from every town and polygon and still be placed (km).
const MAX_FALLBACK_KM: f64 = 3.0;

pub struct Boundaries {
    shapes: Vec<(MunicipalityCode, MultiPolygon<f64>)>,
    boxes: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
    /// Town points as unit vectors, for nearest-town fallbacks.
    towns: RTree<GeomWithData<[f64; 3], usize>>,
    g: &'static Gazetteer,
}

fn ring(v: &serde_json::Value) -> Option<LineString<f64>> {
    let pts: Option<Vec<Coord<f64>>> =
        v.as_array()?.iter().map(|p| Some(Coord { x: p.get(0)?.as_f64()?, y: p.get(1)?.as_f64()? })).collect();
    Some(LineString::new(pts?))
}

fn polygon(v: &serde_json::Value) -> Option<Polygon<f64>> {
    let rings = v.as_array()?;
    let outer = ring(rings.first()?)?;
    let holes = rings[1..].iter().map(ring).collect::<Option<Vec<_>>>()?;
    Some(Polygon::new(outer, holes))
}

/// Parse GeoJSON features with a `code` property into (code, multipolygon).
fn features(text: &str) -> Vec<(MunicipalityCode, MultiPolygon<f64>)> {
    let v: serde_json::Value = serde_json::from_str(text).expect("bundled GeoJSON parses (checked by tests)");
    let mut out = Vec::new();
    for f in v["features"].as_array().into_iter().flatten() {
        let Some(code) = f["properties"]["code"].as_str().and_then(|c| MunicipalityCode::parse(c).ok()) else {
            continue;
        };
        let geom = &f["geometry"];
        let mp = match geom["type"].as_str() {
            Some("Polygon") => polygon(&geom["coordinates"]).map(|p| MultiPolygon::new(vec![p])),
            Some("MultiPolygon") => geom["coordinates"]
                .as_array()
                .and_then(|ps| ps.iter().map(polygon).collect::<Option<Vec<_>>>())
                .map(MultiPolygon::new),
            _ => None,
        };
        if let Some(mp) = mp {
            out.push((code, mp));
        }
    }
    out
}

impl Boundaries {
    pub fn new(g: &'static Gazetteer) -> Boundaries {
        let mut shapes: Vec<_> = BOUNDARIES.iter().flat_map(|text| features(text)).collect();
        // Only the municipalities this gazetteer knows.
        shapes.retain(|(code, _)| g.municipality(*code).is_some());
        let boxes = shapes
            .iter()
            .enumerate()
            .filter_map(|(i, (_, mp))| {
                let r = geo::BoundingRect::bounding_rect(mp)?;
                Some(GeomWithData::new(Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]), i))
            })
            .collect();
        let towns = g.towns().iter().enumerate().map(|(i, t)| GeomWithData::new(t.point.unit_vector(), i)).collect();
        Boundaries { shapes, boxes: RTree::bulk_load(boxes), towns: RTree::bulk_load(towns), g }
    }

    /// The (simplified) outline of a municipality or ward, for maps.
    pub fn shape(&self, code: MunicipalityCode) -> Option<&MultiPolygon<f64>> {
        self.shapes.iter().find(|(c, _)| *c == code).map(|(_, s)| s)
    }

    pub fn bundled() -> &'static Boundaries {
        static B: std::sync::OnceLock<Boundaries> = std::sync::OnceLock::new();
        B.get_or_init(|| Boundaries::new(Gazetteer::bundled()))
    }

    /// Municipality polygons (wards for さいたま市), for maps.
    pub fn shapes(&self) -> &[(MunicipalityCode, MultiPolygon<f64>)] {
        &self.shapes
    }

    /// Nearest town among those of `allowed` municipalities (any when `None`).
    fn nearest_town(&self, p: LatLon, allowed: Option<&[MunicipalityCode]>) -> Option<(usize, f64)> {
        self.towns
            .nearest_neighbor_iter(&p.unit_vector())
            .take(5_000)
            .find(|t| allowed.is_none_or(|a| a.contains(&self.g.towns()[t.data].municipality)))
            .map(|t| (t.data, p.distance_km(self.g.towns()[t.data].point)))
    }

    /// The municipality (ward, for さいたま市) at a point, if it is in the bundled prefectures.
    pub fn locate(&self, p: LatLon) -> Option<Located> {
        let pt = Point::new(p.lon(), p.lat());
        let inside: Vec<MunicipalityCode> = self
            .boxes
            .locate_all_at_point(&[p.lon(), p.lat()])
            .filter(|b| self.shapes[b.data].1.contains(&pt))
            .map(|b| self.shapes[b.data].0)
            .collect();
        let (municipality, method) = match inside.as_slice() {
            [one] => (*one, Method::Boundary),
            [] => {
                // Outside every (simplified) polygon: only trust a town point close by, and a
                // polygon whose box is near.
                let near: Vec<MunicipalityCode> = self
                    .boxes
                    .locate_in_envelope_intersecting(&AABB::from_corners(
                        [p.lon() - 0.03, p.lat() - 0.03],
                        [p.lon() + 0.03, p.lat() + 0.03],
                    ))
                    .map(|b| self.shapes[b.data].0)
                    .collect();
                let (t, d) = self.nearest_town(p, if near.is_empty() { None } else { Some(&near) })?;
                if d > MAX_FALLBACK_KM {
                    return None;
                }
                (self.g.towns()[t].municipality, Method::NearestTown)
            }
            many => {
                let (t, _) = self.nearest_town(p, Some(many))?;
                (self.g.towns()[t].municipality, Method::NearestTown)
            }
        };
        let town = self.nearest_town(p, Some(&[municipality]));
        Some(Located {
            municipality,
            method,
            town: town.map(|(t, _)| self.g.towns()[t].name.clone()),
            town_distance_km: town.map(|(_, d)| (d * 1000.0).round() / 1000.0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_municipality_point_reverse_geocodes_to_itself() {
        let g = Gazetteer::bundled();
        let b = Boundaries::bundled();
        let mut approximate = 0;
        for m in g.municipalities().iter().filter(|m| m.kind != crate::MunicipalityKind::DesignatedCity) {
            let got = b.locate(m.point).unwrap_or_else(|| panic!("{} {} not located", m.code, m.name));
            assert_eq!(
                got.municipality,
                m.code,
                "{} {} located in {:?}",
                m.code,
                m.name,
                g.municipality(got.municipality).map(|x| &x.name)
            );
            approximate += usize::from(got.method == Method::NearestTown);
        }
        assert!(approximate <= 10, "{approximate} needed the nearest-town fallback");
        // さいたま市's city hall is the 浦和区 office.
        assert_eq!(
            b.locate(g.municipality("11100".parse().unwrap()).unwrap().point).unwrap().municipality.to_string(),
            "11107"
        );
    }

    #[test]
    fn points_outside_the_prefectures_are_not_placed() {
        let b = Boundaries::bundled();
        for (lat, lon) in [(35.6812, 139.7671), (43.06, 141.35), (0.0, 0.0), (36.0, 140.9)] {
            assert!(b.locate(LatLon::new(lat, lon).unwrap()).is_none(), "{lat},{lon}");
        }
    }
}
