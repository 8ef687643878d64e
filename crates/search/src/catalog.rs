//! The catalog: one compact entry per indexed resource, held in memory, with a 3-D R-tree of
//! their points. Filters (kind, care types, municipality, vacancy, nurse days, age, sample) and
//! distances are evaluated here, not by loading documents.
//!
//! Entries live in slots (`ord`). A slot is never reused for another resource, so a stale tantivy
//! document can only ever point at its own resource; together with the per-record `version`
//! carried in each document, a hit counts only when it is the current version of a live record.

use std::collections::HashMap;

use rstar::RTree;
use rstar::primitives::GeomWithData;
use tsunagu_model::{CareSet, Kind, LatLon, MunicipalityCode, Resource, ResourceId, ServiceArea};

use crate::analysis::normalize;

/// A point in the R-tree: unit vector on the sphere, with the slot it belongs to.
pub type PointEntry = GeomWithData<[f64; 3], u32>;

/// How far a resource reaches beyond its address.
#[derive(Debug, Clone, PartialEq)]
pub enum Reach {
    None,
    RadiusKm(f64),
    Municipalities(Box<[u32]>),
}

/// What the engine knows of one resource without loading it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: ResourceId,
    pub version: u32,
    pub kind: Kind,
    pub care: CareSet,
    pub declined: CareSet,
    pub municipality: MunicipalityCode,
    pub point: Option<LatLon>,
    pub reach: Reach,
    /// Bit per weekday (Mon = bit 0) on which a nurse is on site.
    pub nurse_days: u8,
    pub vacancies: Option<u32>,
    pub ages: Option<(u8, u8)>,
    pub sample: bool,
    /// Days since 1970-01-01 of the last verification.
    pub verified: Option<i32>,
    /// First characters of the normalised reading (or name), for sorting by name.
    pub sort_key: u64,
}

impl Entry {
    pub fn from_resource(r: &Resource, version: u32) -> Entry {
        let reach = match &r.service_area {
            ServiceArea::None => Reach::None,
            ServiceArea::Radius { radius_km } => Reach::RadiusKm(radius_km.km()),
            ServiceArea::Municipalities { codes } => Reach::Municipalities(codes.iter().map(|c| c.as_u32()).collect()),
        };
        Entry {
            id: r.id,
            version,
            kind: r.kind,
            care: r.care_types,
            declined: r.care_types_declined,
            municipality: r.municipality_code,
            point: r.location,
            reach,
            nurse_days: r.nurse_schedule.day_mask(),
            vacancies: r.capacity.and_then(|c| c.vacancies),
            ages: r.ages.map(|a| (a.min_years, a.max_years)),
            sample: r.sample,
            verified: r.verified_at.map(days_since_epoch),
            sort_key: sort_key(r.name_kana.as_deref().unwrap_or(&r.name)),
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

/// Slots, the id → slot map and the point R-tree.
#[derive(Default)]
pub struct Catalog {
    pub(crate) slots: Vec<Option<Entry>>,
    by_id: HashMap<ResourceId, u32>,
    points: RTree<PointEntry>,
    live: usize,
    next_version: u32,
}

impl Catalog {
    /// Build from entries placed at their slots (open/rebuild), bulk-loading the R-tree.
    pub fn from_slots(slots: Vec<Option<Entry>>) -> Catalog {
        let mut by_id = HashMap::with_capacity(slots.len());
        let mut pts = Vec::with_capacity(slots.len());
        let mut next_version = 1;
        for (ord, e) in slots.iter().enumerate() {
            if let Some(e) = e {
                by_id.insert(e.id, ord as u32);
                next_version = next_version.max(e.version + 1);
                if let Some(p) = e.point {
                    pts.push(PointEntry::new(p.unit_vector(), ord as u32));
                }
            }
        }
        let live = by_id.len();
        Catalog { slots, by_id, points: RTree::bulk_load(pts), live, next_version }
    }

    pub fn len(&self) -> usize {
        self.live
    }
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }
    pub fn get(&self, ord: u32) -> Option<&Entry> {
        self.slots.get(ord as usize).and_then(Option::as_ref)
    }
    pub fn ord_of(&self, id: ResourceId) -> Option<u32> {
        self.by_id.get(&id).copied()
    }
    pub fn points(&self) -> &RTree<PointEntry> {
        &self.points
    }
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Entry)> {
        self.slots.iter().enumerate().filter_map(|(i, e)| e.as_ref().map(|e| (i as u32, e)))
    }

    /// Put a record in its slot (a new slot for a new id) with a fresh version; returns
    /// `(ord, version)` for the document that is about to be indexed.
    pub fn upsert(&mut self, r: &Resource) -> (u32, u32) {
        let version = self.next_version;
        self.next_version += 1;
        let entry = Entry::from_resource(r, version);
        let ord = match self.by_id.get(&r.id) {
            Some(&ord) => {
                self.remove_point(ord);
                ord
            }
            None => {
                let ord = self.slots.len() as u32;
                self.slots.push(None);
                self.by_id.insert(r.id, ord);
                self.live += 1;
                ord
            }
        };
        if let Some(p) = entry.point {
            self.points.insert(PointEntry::new(p.unit_vector(), ord));
        }
        self.slots[ord as usize] = Some(entry);
        (ord, version)
    }

    /// Remove a record; its slot stays empty for good. False when it was not there.
    pub fn remove(&mut self, id: ResourceId) -> bool {
        let Some(ord) = self.by_id.remove(&id) else { return false };
        self.remove_point(ord);
        self.slots[ord as usize] = None;
        self.live -= 1;
        true
    }

    fn remove_point(&mut self, ord: u32) {
        if let Some(p) = self.get(ord).and_then(|e| e.point) {
            self.points.remove(&PointEntry::new(p.unit_vector(), ord));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_keys_follow_reading_order() {
        let mut names = ["さくら", "あおぞら", "かがやき", "アイリス", "あおい"];
        names.sort_by_key(|n| sort_key(n));
        assert_eq!(names, ["アイリス", "あおい", "あおぞら", "かがやき", "さくら"]);
    }
}
