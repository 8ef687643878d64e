//! Counts per grid cell, for area overviews ("what is there within 30 km?").
//!
//! Every located entry is counted in its cell at the grid's four finest levels (about 2, 9, 36
//! and 140 km; the grid is [`crate::cells`]'s), with sample and real entries kept apart.
//! A circle is then summed from the biggest cells that lie wholly inside it; only the finest
//! cells its edge crosses are opened, and their entries are checked one by one. The answer is
//! exact: a cell counts whole only when its farthest corner is inside the circle.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use tsunagu_model::{CareType, Kind, LatLon, MunicipalityCode};

use crate::cells;
use crate::entry::Entry;

use cells::FANOUT;

/// Levels counted: the grid's finest four.
const LEVELS: u32 = 4;
/// The circle's bounding box may span at most this many top-level cells (else: no overview).
const MAX_TOP_CELLS: i64 = 400;

/// A multiplicative hash for small integer keys (municipality codes, cell keys): a tally adds
/// tens of thousands of entries per search, and SipHash would be most of its cost.
#[derive(Default)]
pub struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        // The table indexes by the low bits, which a product takes from the key's low bits
        // only: fold the high half, which depends on every bit, into them.
        self.0 ^ (self.0 >> 32)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

pub type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;

/// Counts of entries by kind, confirmed care type and municipality.
#[derive(Debug, Clone, PartialEq)]
pub struct Tally {
    pub total: usize,
    pub kinds: [u32; Kind::ALL.len()],
    pub care: [u32; CareType::ALL.len()],
    pub municipalities: IntMap<MunicipalityCode, usize>,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            total: 0,
            kinds: [0; Kind::ALL.len()],
            care: [0; CareType::ALL.len()],
            municipalities: IntMap::default(),
        }
    }
}

impl Tally {
    pub fn add_entry(&mut self, e: &Entry) {
        self.total += 1;
        self.kinds[e.kind.index()] += 1;
        let mut bits = e.care.bits();
        while bits != 0 {
            self.care[bits.trailing_zeros() as usize] += 1;
            bits &= bits - 1;
        }
        *self.municipalities.entry(e.municipality).or_default() += 1;
    }

    fn add_cell(&mut self, c: &CellCounts) {
        self.total += c.total as usize;
        for (t, n) in self.kinds.iter_mut().zip(c.kinds.iter()) {
            *t += n;
        }
        for (t, n) in self.care.iter_mut().zip(c.care.iter()) {
            *t += n;
        }
        for (m, n) in &c.municipalities {
            *self.municipalities.entry(*m).or_default() += *n as usize;
        }
    }
}

/// The counts of one cell (of one sample flag).
#[derive(Debug, Clone)]
struct CellCounts {
    total: u32,
    kinds: [u32; Kind::ALL.len()],
    care: [u32; CareType::ALL.len()],
    /// Few per cell, so a list.
    municipalities: Vec<(MunicipalityCode, u32)>,
}

impl CellCounts {
    fn new() -> CellCounts {
        CellCounts { total: 0, kinds: [0; Kind::ALL.len()], care: [0; CareType::ALL.len()], municipalities: Vec::new() }
    }

    /// Add (`on`) or take away one entry.
    fn change(&mut self, e: &Entry, on: bool) {
        let step = |n: &mut u32| {
            if on { *n += 1 } else { *n = n.saturating_sub(1) }
        };
        step(&mut self.total);
        step(&mut self.kinds[e.kind.index()]);
        for c in e.care.iter() {
            step(&mut self.care[c.index()]);
        }
        match self.municipalities.iter().position(|(m, _)| *m == e.municipality) {
            Some(i) => {
                step(&mut self.municipalities[i].1);
                if self.municipalities[i].1 == 0 {
                    self.municipalities.swap_remove(i);
                }
            }
            None if on => self.municipalities.push((e.municipality, 1)),
            None => {}
        }
    }
}

/// The cell's key in the grid (the same key as the index's cell term).
fn key(level: u32, lat_i: i64, lon_i: i64) -> u64 {
    cells::id(level as usize, lat_i, lon_i)
}

/// The finest cell of a point, as (latitude, longitude) indices. Coarser cells are derived by
/// integer division, so each cell is exactly the union of its sixteen children.
fn finest(p: LatLon) -> (i64, i64) {
    (cells::index(p.lat(), 90.0, cells::FINEST), cells::index(p.lon(), 180.0, cells::FINEST))
}

fn size(level: u32) -> f64 {
    cells::size(level as usize)
}

/// Per-cell counts (per sample flag) and the members of every finest cell.
#[derive(Default)]
pub struct AreaCounts {
    /// `key | sample << 63` → counts.
    counts: IntMap<u64, CellCounts>,
    /// Finest cell key → slots located in it.
    members: IntMap<u64, Vec<u32>>,
}

impl AreaCounts {
    /// Count a located entry in (`on`) or out.
    pub fn change(&mut self, ord: u32, e: &Entry, on: bool) {
        let Some(p) = e.point else { return };
        let (la, lo) = finest(p);
        let sample = u64::from(e.sample) << 63;
        for level in 0..LEVELS {
            let div = FANOUT.pow(level);
            let k = key(level, la.div_euclid(div), lo.div_euclid(div));
            if on {
                self.counts.entry(k | sample).or_insert_with(CellCounts::new).change(e, true);
            } else if let Some(c) = self.counts.get_mut(&(k | sample)) {
                c.change(e, false);
                if c.total == 0 {
                    self.counts.remove(&(k | sample));
                }
            }
        }
        let k = key(0, la, lo);
        if on {
            self.members.entry(k).or_default().push(ord);
        } else if let Some(m) = self.members.get_mut(&k) {
            m.retain(|o| *o != ord);
            if m.is_empty() {
                self.members.remove(&k);
            }
        }
    }

    /// Tally the entries within `km` of `p`: cells wholly inside add their counts (sample ones
    /// only with `include_sample`); every slot of a finest cell on the edge goes to `edge`, whose
    /// caller checks it exactly and adds it when it passes. `None` when the circle reaches a pole
    /// or the antimeridian or spans too many cells; then the caller visits entries instead.
    pub fn within(&self, p: LatLon, km: f64, include_sample: bool, edge: &mut dyn FnMut(u32)) -> Option<Tally> {
        let (dlat, dlon) = cells::circle_box(p, km, 1e-6)?;
        let (lat, lon) = (p.lat(), p.lon());
        let top = LEVELS - 1;
        let sz = size(top);
        let (la0, la1) = (cells::index(lat - dlat, 90.0, sz), cells::index(lat + dlat, 90.0, sz));
        let (lo0, lo1) = (cells::index(lon - dlon, 180.0, sz), cells::index(lon + dlon, 180.0, sz));
        if (la1 - la0 + 1) * (lo1 - lo0 + 1) > MAX_TOP_CELLS {
            return None;
        }
        let mut walk = Walk { area: self, p, km, include_sample, tally: Tally::default(), edge };
        for la in la0..=la1 {
            for lo in lo0..=lo1 {
                walk.cell(top, la, lo);
            }
        }
        Some(walk.tally)
    }
}

struct Walk<'a, 'f> {
    area: &'a AreaCounts,
    p: LatLon,
    km: f64,
    include_sample: bool,
    tally: Tally,
    edge: &'f mut dyn FnMut(u32),
}

impl Walk<'_, '_> {
    fn cell(&mut self, level: u32, la: i64, lo: i64) {
        let k = key(level, la, lo);
        let real = self.area.counts.get(&k);
        let sample = if self.include_sample { self.area.counts.get(&(k | 1 << 63)) } else { None };
        if real.is_none() && sample.is_none() {
            return;
        }
        let sz = size(level);
        let (south, west) = (la as f64 * sz - 90.0, lo as f64 * sz - 180.0);
        let (north, east) = (south + sz, west + sz);
        let at = |lat: f64, lon: f64| {
            LatLon::new(lat.clamp(-90.0, 90.0), lon).map_or(f64::INFINITY, |q| q.distance_km(self.p))
        };
        // The nearest point of the cell is close to the query point clamped into it (exact on a
        // plane; on the sphere off by far less than the margin).
        let near = at(self.p.lat().clamp(south, north), self.p.lon().clamp(west, west + sz));
        if near > self.km * (1.0 + 1e-3) + 1e-3 {
            return;
        }
        // Distance from a point grows monotonically along a parallel away from it and has one
        // minimum along a meridian, so the farthest point of a cell is one of its corners.
        let far = [at(south, west), at(south, east), at(north, west), at(north, east)].into_iter().fold(0.0, f64::max);
        if far <= self.km * (1.0 - 1e-9) - 1e-6 {
            for c in [real, sample].into_iter().flatten() {
                self.tally.add_cell(c);
            }
            return;
        }
        if level == 0 {
            for &ord in self.area.members.get(&k).into_iter().flatten() {
                (self.edge)(ord);
            }
            return;
        }
        for dla in 0..FANOUT {
            for dlo in 0..FANOUT {
                self.cell(level - 1, la * FANOUT + dla, lo * FANOUT + dlo);
            }
        }
    }
}
