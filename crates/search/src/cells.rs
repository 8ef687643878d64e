//! A multi-level latitude/longitude grid. Every point is indexed with its cell at each level; a
//! circle becomes the few cells (at the finest level that keeps them few) that it touches, so
//! tantivy can intersect "near here" with the text before anything is scored. The cells only
//! narrow the candidates: exact distances are still checked afterwards, so a cell set that is
//! too wide costs time, never correctness.

use tsunagu_model::LatLon;
use tsunagu_model::geo::EARTH_RADIUS_KM;

/// The one grid, for the index's cell terms and the area counts alike: the finest cell's edge in
/// degrees (about 2 km), each coarser level's cell exactly `FANOUT` × `FANOUT` cells of the level
/// below (about 2, 9, 36, 140 and 570 km).
pub(crate) const FINEST: f64 = 0.02;
pub(crate) const FANOUT: i64 = 4;
/// Levels of the grid.
pub(crate) const LEVELS: usize = 5;

/// A level's cell edge in degrees.
pub(crate) fn size(level: usize) -> f64 {
    FINEST * FANOUT.pow(level as u32) as f64
}
/// Most cells one circle may become.
const MAX_CELLS: usize = 128;

/// A cell's key: its level and its latitude and longitude indices at that level.
pub(crate) fn id(level: usize, lat_i: i64, lon_i: i64) -> u64 {
    ((level as u64) << 48) | ((lat_i as u64 & 0xFF_FFFF) << 24) | (lon_i as u64 & 0xFF_FFFF)
}

/// The index of the cell of edge `size` degrees holding `v` (latitude + 90 or longitude + 180).
pub(crate) fn index(v: f64, offset: f64, size: f64) -> i64 {
    ((v + offset) / size).floor() as i64
}

/// The point's cell at every level.
pub fn of_point(p: LatLon) -> impl Iterator<Item = u64> {
    (0..LEVELS).map(move |level| id(level, index(p.lat(), 90.0, size(level)), index(p.lon(), 180.0, size(level))))
}

/// Half the height and width in degrees of a box holding every point within `km` of `p`, each
/// widened by a relative 1e-9 plus `margin` degrees; `None` when the box reaches a pole or the
/// antimeridian.
pub(crate) fn circle_box(p: LatLon, km: f64, margin: f64) -> Option<(f64, f64)> {
    let angle = km / EARTH_RADIUS_KM;
    let (lat, lon) = (p.lat(), p.lon());
    let dlat = angle.to_degrees() * (1.0 + 1e-9) + margin;
    if lat - dlat <= -89.0 || lat + dlat >= 89.0 {
        return None;
    }
    // The spherical cap's longitude extent (exact; Matuschek).
    let s = angle.sin() / lat.to_radians().cos();
    if s >= 1.0 {
        return None;
    }
    let dlon = s.asin().to_degrees() * (1.0 + 1e-9) + margin;
    if lon - dlon <= -180.0 || lon + dlon >= 180.0 {
        return None;
    }
    Some((dlat, dlon))
}

/// Cells (all of one level) that together contain every point within `km` of `p`; `None` when
/// the circle is too big for few cells or reaches a pole or the antimeridian.
pub fn covering(p: LatLon, km: f64) -> Option<Vec<u64>> {
    let (dlat, dlon) = circle_box(p, km, 1e-9)?;
    let (lat, lon) = (p.lat(), p.lon());
    for level in 0..LEVELS {
        let size = size(level);
        let (la0, la1) = (index(lat - dlat, 90.0, size), index(lat + dlat, 90.0, size));
        let (lo0, lo1) = (index(lon - dlon, 180.0, size), index(lon + dlon, 180.0, size));
        if ((la1 - la0 + 1) * (lo1 - lo0 + 1)) as usize > MAX_CELLS * 2 {
            continue;
        }
        let mut out = Vec::new();
        for la in la0..=la1 {
            for lo in lo0..=lo1 {
                // Skip cells the circle does not reach: the nearest point of the cell (the query
                // point clamped into it) is farther than the radius.
                let (south, west) = (la as f64 * size - 90.0, lo as f64 * size - 180.0);
                let near = LatLon::new(lat.clamp(south, south + size), lon.clamp(west, west + size));
                if near.is_ok_and(|q| q.distance_km(p) > km * (1.0 + 1e-9) + 1e-6) {
                    continue;
                }
                out.push(id(level, la, lo));
            }
        }
        if out.len() <= MAX_CELLS {
            return Some(out);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_point_within_the_radius_lies_in_a_covering_cell() {
        let mut seed = 7u64;
        let mut rnd = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % 1_000_000) as f64 / 1_000_000.0
        };
        for _ in 0..300 {
            let p = LatLon::new(30.0 + rnd() * 15.0, 128.0 + rnd() * 18.0).unwrap();
            let km = 0.5 + rnd() * 80.0;
            let cells = covering(p, km).expect("a small circle in Japan is coverable");
            assert!(cells.len() <= MAX_CELLS);
            for _ in 0..200 {
                // A random point in the circle's bounding box; those within km must be covered.
                let q =
                    LatLon::new(p.lat() + (rnd() - 0.5) * 2.0 * km / 110.0, p.lon() + (rnd() - 0.5) * 2.0 * km / 80.0)
                        .unwrap();
                if q.distance_km(p) <= km {
                    assert!(of_point(q).any(|c| cells.contains(&c)), "{q:?} within {km} km of {p:?} not covered");
                }
            }
        }
    }

    #[test]
    fn the_cell_level_follows_the_radius() {
        let p = LatLon::new(35.69, 139.69).unwrap();
        let small = covering(p, 1.0).unwrap();
        let big = covering(p, 60.0).unwrap();
        assert!(small.iter().all(|c| c >> 48 == 0), "1 km uses the finest level");
        assert!(big.iter().all(|c| c >> 48 >= 2), "60 km uses a coarser level");
        assert!(covering(p, 5_000.0).is_none());
    }
}
