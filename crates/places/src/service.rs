//! Whether a service area covers a point — the plain definition, by direct evaluation. The
//! search index answers the same question from an R-tree without scanning; tests hold the two
//! equal.

use geo::{Contains, Coord, LineString, Point, Polygon};
use tsunagu_model::{LatLon, MunicipalityCode, ServiceArea};

use crate::Gazetteer;

/// The municipality codes an area lists, expanded: a designated city to its wards, a region to
/// its members. Empty for radius/polygon/none areas.
pub fn served_codes(g: &Gazetteer, area: &ServiceArea) -> Vec<MunicipalityCode> {
    let mut out: Vec<MunicipalityCode> = match area {
        ServiceArea::Municipalities { codes } => codes.iter().flat_map(|c| g.expand(*c)).collect(),
        ServiceArea::Region { region_id } => g.region(region_id).map(|r| g.region_codes(r)).unwrap_or_default(),
        _ => Vec::new(),
    };
    out.sort();
    out.dedup();
    out
}

/// The polygon of an area, as `geo` wants it (x = lon, y = lat).
pub fn polygon_of(coordinates: &[Vec<[f64; 2]>]) -> Option<Polygon<f64>> {
    let ring = |r: &Vec<[f64; 2]>| LineString::new(r.iter().map(|[x, y]| Coord { x: *x, y: *y }).collect());
    let (outer, holes) = coordinates.split_first()?;
    Some(Polygon::new(ring(outer), holes.iter().map(ring).collect()))
}

/// Does a resource at `location` with `area` serve someone at `point`, which lies in
/// `point_municipality` (if known)?
pub fn covers(
    g: &Gazetteer,
    area: &ServiceArea,
    location: Option<LatLon>,
    point: LatLon,
    point_municipality: Option<MunicipalityCode>,
) -> bool {
    match area {
        ServiceArea::None => false,
        ServiceArea::Radius { radius_km } => location.is_some_and(|l| l.distance_km(point) <= radius_km.km()),
        ServiceArea::Municipalities { .. } | ServiceArea::Region { .. } => {
            point_municipality.is_some_and(|m| served_codes(g, area).contains(&m))
        }
        ServiceArea::Polygon { coordinates } => {
            polygon_of(coordinates).is_some_and(|p| p.contains(&Point::new(point.lon(), point.lat())))
        }
    }
}
