//! What the engine knows of one resource without loading it: its [`Entry`] (kind, care, place,
//! reach, filters' bits, sort key), built from the record.

use geo::{Contains, Point, Polygon};
use rstar::primitives::Rectangle;
use tsunagu_model::geo::chord2_for_km;
use tsunagu_model::{Accessibility, CareSet, Kind, LatLon, MunicipalityCode, Resource, ResourceId, ServiceArea};
use tsunagu_places::Gazetteer;
use tsunagu_places::service::{polygon_of, served_codes};

use crate::analysis::normalize;

/// Accessibility features as a bitmask over `Accessibility::ALL`.
pub fn accessibility_bits(features: &[Accessibility]) -> u8 {
    features.iter().fold(0u8, |m, a| m | (1 << a.index()))
}

/// The care types a record can take whose statement is the provider's, not yet verified.
pub fn unverified_of(r: &Resource) -> CareSet {
    r.care_statements
        .iter()
        .filter(|(c, s)| s.unverified() && (r.care_types.contains(**c) || r.care_types_conditional.contains(**c)))
        .map(|(c, _)| *c)
        .collect()
}

/// A site id as a number (FNV-1a, never 0: 0 means "no site").
pub fn site_key(id: &str) -> u64 {
    let h = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    h.max(1)
}

/// How far a resource reaches beyond its address.
#[derive(Debug, Clone, PartialEq)]
pub enum Reach {
    None,
    RadiusKm(f64),
    /// Municipality codes served, expanded (designated city → wards, region → members).
    Municipalities(Box<[u32]>),
    Polygon(Box<Polygon<f64>>),
}

impl Reach {
    /// A 3-D box that contains every point this reach covers (radius and polygon reaches).
    pub(crate) fn bounds(&self, location: Option<LatLon>) -> Option<Rectangle<[f64; 3]>> {
        match self {
            Reach::RadiusKm(r) => {
                let u = location?.unit_vector();
                let c = chord2_for_km(*r).sqrt();
                Some(Rectangle::from_corners([u[0] - c, u[1] - c, u[2] - c], [u[0] + c, u[1] + c, u[2] + c]))
            }
            Reach::Polygon(p) => {
                let mut lo = [f64::MAX; 3];
                let mut hi = [f64::MIN; 3];
                let mut prev: Option<[f64; 3]> = None;
                let mut margin: f64 = 1e-9;
                for c in p.exterior().coords() {
                    let u = LatLon::new(c.y, c.x).ok()?.unit_vector();
                    for k in 0..3 {
                        lo[k] = lo[k].min(u[k]);
                        hi[k] = hi[k].max(u[k]);
                    }
                    // An edge's great-circle arc bulges outward from its chord by about chord²/8.
                    if let Some(q) = prev {
                        let chord2: f64 = (0..3).map(|k| (u[k] - q[k]).powi(2)).sum();
                        margin = margin.max(chord2 / 8.0 + 1e-9);
                    }
                    prev = Some(u);
                }
                Some(Rectangle::from_corners(lo.map(|x| x - margin), hi.map(|x| x + margin)))
            }
            _ => None,
        }
    }
}

/// What the engine knows of one resource without loading it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: ResourceId,
    pub version: u32,
    pub kind: Kind,
    /// Care types it can take: confirmed, or under conditions.
    pub care: CareSet,
    pub declined: CareSet,
    /// Of `care`, those taken only under conditions (条件つき).
    pub conditional: CareSet,
    /// Of `care`, those the provider stated and the centre has not verified yet.
    pub unverified: CareSet,
    pub municipality: MunicipalityCode,
    pub point: Option<LatLon>,
    pub reach: Reach,
    /// Bit per weekday (Mon = bit 0) on which a nurse is on site.
    pub nurse_days: u8,
    /// Transport features as a bitmask over `TransportFeature::ALL`.
    pub transport: u8,
    /// Accessibility features as a bitmask over `Accessibility::ALL`.
    pub accessibility: u8,
    pub vacancies: Option<u32>,
    pub ages: Option<(u8, u8)>,
    pub sample: bool,
    /// In its source's latest full list (false: 「最新の公表データに掲載なし」).
    pub listed: bool,
    /// [`site_key`] of the site the record is linked to; 0 for none.
    pub site: u64,
    /// Days since 1970-01-01 of the last verification.
    pub verified: Option<i32>,
    /// First characters of the normalised reading (or name), for sorting by name.
    pub sort_key: u64,
    pub name: Box<str>,
    pub kana: Option<Box<str>>,
}

impl Entry {
    pub fn from_resource(g: &Gazetteer, r: &Resource, version: u32) -> Entry {
        let reach = reach_of(g, &r.service_area);
        Entry {
            id: r.id,
            version,
            kind: r.kind,
            care: r.care_types.union(r.care_types_conditional),
            declined: r.care_types_declined,
            conditional: r.care_types_conditional,
            unverified: unverified_of(r),
            municipality: r.municipality_code,
            point: r.location,
            reach,
            nurse_days: r.nurse_schedule.day_mask(),
            transport: r.transport.map_or(0, |t| t.bits()),
            accessibility: accessibility_bits(&r.accessibility),
            vacancies: r.capacity.and_then(|c| c.vacancies),
            ages: r.ages.map(|a| (a.min_years, a.max_years)),
            sample: r.sample,
            listed: r.source.not_listed_since.is_none(),
            site: r.site.as_ref().map_or(0, |s| site_key(&s.id)),
            verified: r.verified_at.map(days_since_epoch),
            sort_key: sort_key(r.name_kana.as_deref().unwrap_or(&r.name)),
            name: r.name.as_str().into(),
            kana: r.name_kana.as_deref().map(Into::into),
        }
    }
}

/// The index's form of a service area.
pub fn reach_of(g: &Gazetteer, area: &ServiceArea) -> Reach {
    match area {
        ServiceArea::None => Reach::None,
        ServiceArea::Radius { radius_km } => Reach::RadiusKm(radius_km.km()),
        ServiceArea::Municipalities { .. } | ServiceArea::Region { .. } => {
            Reach::Municipalities(served_codes(g, area).iter().map(|c| c.as_u32()).collect())
        }
        ServiceArea::Polygon { coordinates } => {
            polygon_of(coordinates).map_or(Reach::None, |p| Reach::Polygon(Box::new(p)))
        }
    }
}

impl Entry {
    /// Does this entry's area cover `point` (in `municipality`)? Exact.
    pub fn covers(&self, point: LatLon, municipality: Option<u32>) -> bool {
        match &self.reach {
            Reach::None => false,
            Reach::RadiusKm(r) => self.point.is_some_and(|l| l.distance_km(point) <= *r),
            Reach::Municipalities(codes) => municipality.is_some_and(|m| codes.contains(&m)),
            Reach::Polygon(p) => p.contains(&Point::new(point.lon(), point.lat())),
        }
    }
}

pub fn days_since_epoch(d: chrono::NaiveDate) -> i32 {
    (d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date")).num_days() as i32
}

/// Sort key: the first four characters of the normalised text as 16-bit units, big-endian, so
/// integer order is reading order (あいうえお順 for kana) on those characters.
pub fn sort_key(text: &str) -> u64 {
    let norm = normalize(text);
    let mut key = 0u64;
    let mut units = norm.encode_utf16().filter(|u| *u > 0x20);
    for _ in 0..4 {
        key = (key << 16) | u64::from(units.next().unwrap_or(0));
    }
    key
}
