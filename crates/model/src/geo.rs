//! Points on the earth and distances. Distances are great-circle (haversine) in kilometres on a
//! sphere of the mean earth radius — the same model PostGIS and the SQLite peer use.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// Mean earth radius in km (IUGG), as used by PostGIS for spherical distance.
pub const EARTH_RADIUS_KM: f64 = 6371.0087714;

/// A WGS84 point. Latitude in −90..=90, longitude in −180..=180, both finite.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawLatLon")]
pub struct LatLon {
    lat: f64,
    lon: f64,
}

#[derive(Deserialize)]
struct RawLatLon {
    lat: f64,
    lon: f64,
}

impl TryFrom<RawLatLon> for LatLon {
    type Error = FieldError;
    fn try_from(r: RawLatLon) -> Result<Self, Self::Error> {
        LatLon::new(r.lat, r.lon)
    }
}

impl LatLon {
    pub fn new(lat: f64, lon: f64) -> Result<Self, FieldError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(FieldError::new("lat", format!("{lat} is outside −90..90 (degrees latitude, WGS84)")));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(FieldError::new("lon", format!("{lon} is outside −180..180 (degrees longitude, WGS84)")));
        }
        Ok(LatLon { lat, lon })
    }
    pub fn lat(self) -> f64 {
        self.lat
    }
    pub fn lon(self) -> f64 {
        self.lon
    }

    /// Great-circle distance in km (haversine).
    pub fn distance_km(self, other: LatLon) -> f64 {
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lon - self.lon).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
    }

    /// The point as a unit vector in 3-D (x, y, z). Straight-line (chord) distance between unit
    /// vectors grows monotonically with great-circle distance, so a 3-D R-tree gives exact
    /// nearest-neighbour order on the sphere.
    pub fn unit_vector(self) -> [f64; 3] {
        let (lat, lon) = (self.lat.to_radians(), self.lon.to_radians());
        [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
    }
}

/// Squared chord length between two unit vectors that are `km` apart on the sphere.
pub fn chord2_for_km(km: f64) -> f64 {
    let angle = (km / EARTH_RADIUS_KM).min(std::f64::consts::PI);
    let chord = 2.0 * (angle / 2.0).sin();
    chord * chord
}

/// A search or service radius in km: 0 < r ≤ 500.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct RadiusKm(f64);

impl RadiusKm {
    pub const MAX: f64 = 500.0;
    pub fn new(km: f64) -> Result<Self, FieldError> {
        if !km.is_finite() || km <= 0.0 || km > Self::MAX {
            return Err(FieldError::new(
                "radius_km",
                format!("{km} is not a radius: expected more than 0 and at most {} km", Self::MAX),
            ));
        }
        Ok(RadiusKm(km))
    }
    pub fn km(self) -> f64 {
        self.0
    }
}
impl TryFrom<f64> for RadiusKm {
    type Error = FieldError;
    fn try_from(v: f64) -> Result<Self, Self::Error> {
        RadiusKm::new(v)
    }
}
impl From<RadiusKm> for f64 {
    fn from(r: RadiusKm) -> f64 {
        r.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matsumoto_to_nagano_is_about_fifty_km() {
        let matsumoto = LatLon::new(36.238, 137.972).unwrap();
        let nagano = LatLon::new(36.648, 138.194).unwrap();
        let d = matsumoto.distance_km(nagano);
        assert!((49.0..51.0).contains(&d), "{d}");
        assert_eq!(matsumoto.distance_km(matsumoto), 0.0);
    }

    #[test]
    fn out_of_range_points_and_radii_are_rejected() {
        assert!(LatLon::new(90.1, 0.0).is_err());
        assert!(LatLon::new(0.0, -180.5).is_err());
        assert!(LatLon::new(f64::NAN, 0.0).is_err());
        assert!(RadiusKm::new(0.0).is_err());
        assert!(RadiusKm::new(500.01).is_err());
        assert!(RadiusKm::new(f64::INFINITY).is_err());
        assert!(RadiusKm::new(500.0).is_ok());
    }

    proptest! {
        #[test]
        fn chord_order_equals_great_circle_order(
            a in (30.0f64..46.0, 128.0f64..146.0), b in (30.0f64..46.0, 128.0f64..146.0), c in (30.0f64..46.0, 128.0f64..146.0)
        ) {
            let (a, b, c) = (LatLon::new(a.0, a.1).unwrap(), LatLon::new(b.0, b.1).unwrap(), LatLon::new(c.0, c.1).unwrap());
            let chord2 = |p: LatLon, q: LatLon| {
                let (u, v) = (p.unit_vector(), q.unit_vector());
                (u[0]-v[0]).powi(2) + (u[1]-v[1]).powi(2) + (u[2]-v[2]).powi(2)
            };
            let (db, dc) = (a.distance_km(b), a.distance_km(c));
            if (db - dc).abs() > 1e-6 {
                prop_assert_eq!(db < dc, chord2(a, b) < chord2(a, c));
            }
            prop_assert!((chord2(a, b) - chord2_for_km(db)).abs() < 1e-9);
        }
    }
}
