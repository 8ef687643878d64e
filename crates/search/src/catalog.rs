//! The catalog: one compact entry per indexed resource, held in memory, with a 3-D R-tree of
//! their points. Filters (kind, care types, municipality, vacancy, nurse days, age, sample) and
//! distances are evaluated here, not by loading documents.
//!
//! Entries live in slots (`ord`). A slot is never reused for another resource, so a stale tantivy
//! document can only ever point at its own resource; together with the per-record `version`
//! carried in each document, a hit counts only when it is the current version of a live record.

use std::collections::HashMap;

use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{ParentNode, RTree, RTreeNode, RTreeObject};
use tsunagu_model::{CareSet, CareType, Kind, LatLon, MunicipalityCode, Resource, ResourceId};
use tsunagu_places::Gazetteer;

use crate::analysis::normalize;
use crate::area::AreaCounts;
use crate::entry::{Entry, Reach};

/// A point in the R-tree: unit vector on the sphere, with the slot it belongs to.
pub type PointEntry = GeomWithData<[f64; 3], u32>;

/// A service area's bounding box in the same 3-D space, with its slot.
pub type AreaEntry = GeomWithData<Rectangle<[f64; 3]>, u32>;

/// Suggestion keys of an entry: its name without the sample mark, and its reading.
fn name_keys(e: &Entry) -> Vec<String> {
    let mut keys = vec![normalize(e.name.trim_start_matches(tsunagu_model::SAMPLE_MARK))];
    if let Some(k) = &e.kana {
        let k = normalize(k);
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys.retain(|k| !k.is_empty());
    keys
}

/// Slots, the id → slot map and the point R-tree.
#[derive(Default)]
pub struct Catalog {
    pub(crate) slots: Vec<Option<Entry>>,
    by_id: HashMap<ResourceId, u32>,
    points: RTree<PointEntry>,
    /// Radius and polygon service areas.
    areas: RTree<AreaEntry>,
    /// Municipality code → slots whose area lists it.
    served_by: HashMap<u32, Vec<u32>>,
    /// Normalised name and reading → slot, for as-you-type suggestions.
    names: std::collections::BTreeSet<(String, u32)>,
    /// Bit per slot, per kind: the live entries of that kind.
    kind_bits: Vec<Bits>,
    /// Bit per slot, per care type: the live entries that confirm it.
    care_bits: Vec<Bits>,
    /// Counts per grid cell, for area overviews (of listed entries: the overview's default).
    area: AreaCounts,
    /// Site key → the live slots linked to that site.
    sites: HashMap<u64, Vec<u32>>,
    live: usize,
    next_version: u32,
}

impl Catalog {
    /// Build from entries placed at their slots (open/rebuild), bulk-loading the R-tree.
    pub fn from_slots(slots: Vec<Option<Entry>>) -> Catalog {
        let mut by_id = HashMap::with_capacity(slots.len());
        let mut pts = Vec::with_capacity(slots.len());
        let mut areas = Vec::new();
        let mut served_by: HashMap<u32, Vec<u32>> = HashMap::new();
        let mut names = std::collections::BTreeSet::new();
        let mut next_version = 1;
        for (ord, e) in slots.iter().enumerate() {
            if let Some(e) = e {
                let ord = ord as u32;
                by_id.insert(e.id, ord);
                next_version = next_version.max(e.version + 1);
                if let Some(p) = e.point {
                    pts.push(PointEntry::new(p.unit_vector(), ord));
                }
                if let Some(b) = e.reach.bounds(e.point) {
                    areas.push(AreaEntry::new(b, ord));
                }
                if let Reach::Municipalities(codes) = &e.reach {
                    for c in codes.iter() {
                        served_by.entry(*c).or_default().push(ord);
                    }
                }
                for k in name_keys(e) {
                    names.insert((k, ord));
                }
            }
        }
        let live = by_id.len();
        let mut catalog = Catalog {
            slots,
            by_id,
            points: bulk_load(pts),
            areas: bulk_load(areas),
            served_by,
            names,
            kind_bits: vec![Bits::default(); Kind::ALL.len()],
            care_bits: vec![Bits::default(); CareType::ALL.len()],
            area: AreaCounts::default(),
            sites: HashMap::new(),
            live,
            next_version,
        };
        for ord in 0..catalog.slots.len() as u32 {
            catalog.set_bits(ord, true);
        }
        catalog
    }

    /// Set or clear a slot's kind and care-type bits, its site membership and its place in the
    /// cell counts (which count listed entries only).
    fn set_bits(&mut self, ord: u32, on: bool) {
        let Some(e) = self.slots.get(ord as usize).and_then(Option::as_ref) else { return };
        let (kind, care) = (e.kind.index(), e.care);
        self.kind_bits[kind].set(ord, on);
        for c in care.iter() {
            self.care_bits[c.index()].set(ord, on);
        }
        if e.site != 0 {
            let members = self.sites.entry(e.site).or_default();
            members.retain(|o| *o != ord);
            if on {
                members.push(ord);
            } else if members.is_empty() {
                self.sites.remove(&e.site);
            }
        }
        if e.listed {
            self.area.change(ord, e, on);
        }
    }

    /// The other live slots of the site `ord` is linked to (none when it is not linked).
    pub fn site_mates(&self, ord: u32) -> Vec<u32> {
        let Some(e) = self.get(ord).filter(|e| e.site != 0) else { return Vec::new() };
        self.sites.get(&e.site).map(|m| m.iter().copied().filter(|o| *o != ord).collect()).unwrap_or_default()
    }

    /// Whether any live entry is linked to a site (searches collapse sites only then).
    pub fn has_sites(&self) -> bool {
        !self.sites.is_empty()
    }

    /// Live slots of any of `kinds` (any kind when empty) that confirm every care type in
    /// `care`, from the bitsets: `f(ord)` for each, in slot order. Costs one pass over the
    /// bitsets' words plus the matches, not a pass over every entry.
    pub fn for_each_with(&self, kinds: &[Kind], care: CareSet, f: &mut dyn FnMut(u32)) {
        let words = self.slots.len().div_ceil(64);
        for w in 0..words {
            // Every live entry has exactly one kind, so "any kind" is the union of the kinds.
            let mut m = if kinds.is_empty() {
                self.kind_bits.iter().fold(0u64, |m, b| m | b.word(w))
            } else {
                kinds.iter().fold(0u64, |m, k| m | self.kind_bits[k.index()].word(w))
            };
            for c in care.iter() {
                if m == 0 {
                    break;
                }
                m &= self.care_bits[c.index()].word(w);
            }
            while m != 0 {
                let bit = m.trailing_zeros();
                f((w * 64) as u32 + bit);
                m &= m - 1;
            }
        }
    }

    pub fn len(&self) -> usize {
        self.live
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
    pub fn area(&self) -> &AreaCounts {
        &self.area
    }

    /// Reserve the slot and a fresh version for a record about to be indexed. The entry itself is
    /// published by [`Catalog::apply`] once the documents carrying that version are visible, so a
    /// search never sees a catalog entry whose document it cannot find.
    pub fn reserve(&mut self, id: ResourceId) -> (u32, u32) {
        let version = self.next_version;
        self.next_version += 1;
        let ord = match self.by_id.get(&id) {
            Some(&ord) => ord,
            None => {
                let ord = self.slots.len() as u32;
                self.slots.push(None);
                self.by_id.insert(id, ord);
                ord
            }
        };
        (ord, version)
    }

    /// Publish a record at its reserved slot and version.
    pub fn apply(&mut self, g: &Gazetteer, r: &Resource, ord: u32, version: u32) {
        let entry = Entry::from_resource(g, r, version);
        if self.slots[ord as usize].is_some() {
            self.unlink(ord);
        } else {
            self.live += 1;
        }
        if let Some(p) = entry.point {
            self.points.insert(PointEntry::new(p.unit_vector(), ord));
        }
        if let Some(b) = entry.reach.bounds(entry.point) {
            self.areas.insert(AreaEntry::new(b, ord));
        }
        if let Reach::Municipalities(codes) = &entry.reach {
            for c in codes.iter() {
                self.served_by.entry(*c).or_default().push(ord);
            }
        }
        for k in name_keys(&entry) {
            self.names.insert((k, ord));
        }
        self.slots[ord as usize] = Some(entry);
        self.set_bits(ord, true);
    }

    /// Remove a record; its slot stays empty for good. False when it was not there.
    pub fn remove(&mut self, id: ResourceId) -> bool {
        let Some(ord) = self.by_id.remove(&id) else { return false };
        self.unlink(ord);
        if self.slots[ord as usize].take().is_some() {
            self.live -= 1;
        }
        true
    }

    /// Take a slot's entry out of the R-trees and the served-by map.
    fn unlink(&mut self, ord: u32) {
        self.set_bits(ord, false);
        let Some(e) = self.slots.get(ord as usize).and_then(Option::as_ref) else { return };
        if let Some(p) = e.point {
            self.points.remove(&PointEntry::new(p.unit_vector(), ord));
        }
        if let Some(b) = e.reach.bounds(e.point) {
            self.areas.remove(&AreaEntry::new(b, ord));
        }
        if let Reach::Municipalities(codes) = &e.reach {
            for c in codes.iter() {
                if let Some(v) = self.served_by.get_mut(c) {
                    v.retain(|o| *o != ord);
                }
            }
        }
        for k in name_keys(e) {
            self.names.remove(&(k, ord));
        }
    }

    /// Live slots whose normalised name or reading starts with `prefix` (already normalised),
    /// shortest names first, at most `limit`.
    pub fn names_starting_with(&self, prefix: &str, limit: usize) -> Vec<u32> {
        let mut found: Vec<(usize, u32)> = Vec::new();
        for (k, ord) in self.names.range((prefix.to_string(), 0)..) {
            if !k.starts_with(prefix) || found.len() >= 200 {
                break;
            }
            if !found.iter().any(|(_, o)| o == ord) && self.get(*ord).is_some() {
                found.push((k.chars().count(), *ord));
            }
        }
        found.sort();
        found.into_iter().take(limit).map(|(_, o)| o).collect()
    }

    /// Slots whose service area covers `point` (in `municipality`, if known): radius and polygon
    /// areas from the area R-tree, municipality lists from the served-by map; exact.
    pub fn covering(&self, point: LatLon, municipality: Option<MunicipalityCode>) -> Vec<u32> {
        let m = municipality.map(|m| m.as_u32());
        let mut out: Vec<u32> = self
            .areas
            .locate_all_at_point(&point.unit_vector())
            .map(|a| a.data)
            .filter(|ord| self.get(*ord).is_some_and(|e| e.covers(point, m)))
            .collect();
        if let Some(list) = m.and_then(|m| self.served_by.get(&m)) {
            out.extend(list.iter().copied().filter(|o| self.get(*o).is_some()));
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// A growable bitset over slots.
#[derive(Debug, Clone, Default)]
struct Bits(Vec<u64>);

impl Bits {
    /// Bits of slots `64 w ..= 64 w + 63`.
    fn word(&self, w: usize) -> u64 {
        self.0.get(w).copied().unwrap_or(0)
    }

    fn set(&mut self, ord: u32, on: bool) {
        let (w, b) = (ord as usize / 64, ord % 64);
        if w >= self.0.len() {
            if !on {
                return;
            }
            self.0.resize(w + 1, 0);
        }
        if on {
            self.0[w] |= 1 << b;
        } else {
            self.0[w] &= !(1 << b);
        }
    }
}

/// `RTree::bulk_load`, made safe for later inserts. rstar 0.12's bulk load can put leaves at
/// different depths for some item counts (in 3-D e.g. 49–55 and 385–440 items); a later
/// `insert` into such a tree panics ("This is a bug in rstar", georust/rstar#239). When the
/// loaded tree is malformed it is rebuilt by inserting one by one, which keeps the invariant.
fn bulk_load<T: RTreeObject>(items: Vec<T>) -> RTree<T> {
    let mut tree = RTree::bulk_load(items);
    if !leaves_at_one_depth(tree.root()) {
        let mut rebuilt = RTree::new();
        for item in tree.drain() {
            rebuilt.insert(item);
        }
        tree = rebuilt;
    }
    tree
}

fn leaves_at_one_depth<T: RTreeObject>(root: &ParentNode<T>) -> bool {
    fn walk<T: RTreeObject>(n: &ParentNode<T>, depth: usize, leaf_depth: &mut Option<usize>) -> bool {
        n.children().iter().all(|c| match c {
            RTreeNode::Leaf(_) => *leaf_depth.get_or_insert(depth) == depth,
            RTreeNode::Parent(p) => walk(p, depth + 1, leaf_depth),
        })
    }
    walk(root, 0, &mut None)
}

#[cfg(test)]
mod tests {
    #[test]
    fn bulk_loaded_trees_take_inserts_at_every_size() {
        // Sizes where rstar's bulk load leaves leaves at mixed depths in 3-D.
        let mut malformed = 0;
        for n in [49usize, 50, 55, 390, 420] {
            let pts: Vec<[f64; 3]> =
                (0..n).map(|i| [(i * 37 % 101) as f64, (i * 59 % 103) as f64, (i % 7) as f64]).collect();
            if !super::leaves_at_one_depth(RTree::bulk_load(pts.clone()).root()) {
                malformed += 1;
            }
            let mut tree = super::bulk_load(pts);
            assert!(super::leaves_at_one_depth(tree.root()), "n = {n}");
            for i in 0..200 {
                tree.insert([i as f64 * 0.5, (i % 13) as f64, (i % 5) as f64]);
            }
            assert_eq!(tree.size(), n + 200);
        }
        assert!(malformed > 0, "the sizes no longer reproduce rstar's malformed bulk load");
    }

    use super::*;
    use crate::entry::sort_key;

    #[test]
    fn sort_keys_follow_reading_order() {
        let mut names = ["さくら", "あおぞら", "かがやき", "アイリス", "あおい"];
        names.sort_by_key(|n| sort_key(n));
        assert_eq!(names, ["アイリス", "あおい", "あおぞら", "かがやき", "さくら"]);
    }
}
