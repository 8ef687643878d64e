//! The search index on disk and in memory: opening, building, keeping it current.
//!
//! On disk it is a tantivy index whose commit payload records which store (and which position
//! in the store's change log) it reflects, and with which schema and analyzer it was built. In
//! memory it is that index plus the [`Catalog`] rebuilt from the index's fast fields.

use std::path::{Path, PathBuf};
use std::time::Instant;

use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use tantivy::directory::MmapDirectory;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};
use tsunagu_model::{CareType, Kind, Resource, ResourceId, ServiceArea};
use tsunagu_places::Gazetteer;

use crate::analysis::{ANALYZER_NAME, ANALYZER_VERSION, JaEnTokenizer, WORDS_ANALYZER_NAME, WordsTokenizer};
use crate::catalog::Catalog;
use crate::entry::{Entry, Reach, days_since_epoch};
use crate::schema::{self, Fields, SCHEMA_VERSION};
use crate::{Result, SearchError};

/// Which store state an index reflects. Written atomically with each commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedState {
    pub store_id: String,
    pub seq: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    schema_version: u32,
    analyzer_version: u32,
    state: IndexedState,
}

const RUNTIME_WRITER_HEAP: usize = 64 << 20;
const BUILD_WRITER_HEAP: usize = 256 << 20;

/// The search index.
pub struct SearchIndex {
    pub(crate) reader: IndexReader,
    writer: Mutex<IndexWriter>,
    pub(crate) fields: Fields,
    pub(crate) catalog: RwLock<Catalog>,
    state: RwLock<IndexedState>,
    dir: PathBuf,
    /// The places the documents are described with (municipality names, service areas).
    gazetteer: &'static Gazetteer,
}

fn register(index: &Index) {
    index.tokenizers().register(ANALYZER_NAME, TextAnalyzer::from(JaEnTokenizer));
    index.tokenizers().register(WORDS_ANALYZER_NAME, TextAnalyzer::from(WordsTokenizer));
}

/// Why an existing index cannot be used as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Staleness {
    Missing,
    Incompatible(String),
}

impl SearchIndex {
    /// Whether another process (a running server) holds the index in `dir` open for writing.
    /// An index that cannot be opened for another reason (missing, stale) is not in use.
    pub fn in_use(dir: &Path) -> bool {
        if !dir.join("meta.json").exists() {
            return false;
        }
        // Taking the writer lock (and letting it go at once) is the test.
        match Index::open_in_dir(dir) {
            Ok(index) => matches!(
                index.writer_with_num_threads::<TantivyDocument>(1, 15_000_000),
                Err(tantivy::TantivyError::LockFailure(..))
            ),
            Err(_) => false,
        }
    }

    /// Open the index in `dir`. `Err(Staleness)` when there is none or it was built by another
    /// schema/analyzer version (then it must be rebuilt). `gazetteer` describes the records
    /// written to it from now on (the one it was built with).
    pub fn open(dir: &Path, gazetteer: &'static Gazetteer) -> Result<std::result::Result<SearchIndex, Staleness>> {
        if !dir.join("meta.json").exists() {
            return Ok(Err(Staleness::Missing));
        }
        let index = Index::open_in_dir(dir)?;
        let payload: Option<Payload> =
            index.load_metas()?.payload.as_deref().and_then(|p| serde_json::from_str(p).ok());
        let Some(payload) = payload else {
            return Ok(Err(Staleness::Incompatible("no tsunagu payload".into())));
        };
        if payload.schema_version != SCHEMA_VERSION || payload.analyzer_version != ANALYZER_VERSION {
            return Ok(Err(Staleness::Incompatible(format!(
                "built with schema {} / analyzer {}, this binary has {SCHEMA_VERSION} / {ANALYZER_VERSION}",
                payload.schema_version, payload.analyzer_version
            ))));
        }
        let Some(fields) = schema::fields_of(&index.schema()) else {
            return Ok(Err(Staleness::Incompatible("schema fields differ".into())));
        };
        register(&index);
        let started = Instant::now();
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let catalog = load_catalog(&reader, &fields)?;
        tracing::debug!(
            docs = catalog.len(),
            ms = started.elapsed().as_millis() as u64,
            "catalog loaded from fast fields"
        );
        let writer = index.writer(RUNTIME_WRITER_HEAP)?;
        Ok(Ok(SearchIndex {
            reader,
            writer: Mutex::new(writer),
            fields,
            catalog: RwLock::new(catalog),
            state: RwLock::new(payload.state),
            dir: dir.to_path_buf(),
            gazetteer,
        }))
    }

    /// Start building a fresh index that will replace whatever is in `dir` when finished.
    pub fn builder(dir: &Path, gazetteer: &'static Gazetteer) -> Result<IndexBuilder> {
        let tmp = dir.with_extension(format!("building-{}", std::process::id()));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp)?;
        }
        std::fs::create_dir_all(&tmp)?;
        let (schema, fields) = schema::build();
        let index = Index::create(MmapDirectory::open(&tmp)?, schema, Default::default())?;
        register(&index);
        let writer = index.writer(BUILD_WRITER_HEAP)?;
        Ok(IndexBuilder {
            index,
            writer,
            fields,
            tmp,
            dir: dir.to_path_buf(),
            next_ord: 0,
            started: Instant::now(),
            gazetteer,
        })
    }

    pub fn state(&self) -> IndexedState {
        self.state.read().clone()
    }
    /// Live resources in the index.
    pub fn len(&self) -> usize {
        self.catalog.read().len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// Bytes on disk of the index directory.
    pub fn size_on_disk(&self) -> u64 {
        dir_size(&self.dir)
    }

    /// Add or replace resources and commit; they are searchable when this returns.
    pub fn upsert(&self, resources: &[Resource], state: IndexedState) -> Result<()> {
        self.apply(resources, &[], state)
    }

    /// Remove resources and commit.
    pub fn delete(&self, ids: &[ResourceId], state: IndexedState) -> Result<()> {
        self.apply(&[], ids, state)
    }

    /// Remove `gone`, add or replace `resources`, and commit once. When this returns the changes
    /// are searchable, and only then does [`SearchIndex::state`] report the new position (so a
    /// reader that sees the position also sees the documents).
    pub fn apply(&self, resources: &[Resource], gone: &[ResourceId], state: IndexedState) -> Result<()> {
        let mut writer = self.writer.lock();
        let slots: Vec<(u32, u32)> = {
            let mut catalog = self.catalog.write();
            for id in gone {
                catalog.remove(*id);
                writer.delete_term(Term::from_field_text(self.fields.id, &id.to_string()));
            }
            resources.iter().map(|r| catalog.reserve(r.id)).collect()
        };
        for (r, (ord, version)) in resources.iter().zip(&slots) {
            writer.delete_term(Term::from_field_text(self.fields.id, &r.id.to_string()));
            writer.add_document(document(&self.fields, self.gazetteer, r, *ord, *version))?;
        }
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&payload(&state));
        prepared.commit()?;
        self.reader.reload()?;
        // The documents are visible now: publish the entries, then the position.
        {
            let mut catalog = self.catalog.write();
            for (r, (ord, version)) in resources.iter().zip(&slots) {
                catalog.apply(self.gazetteer, r, *ord, *version);
            }
        }
        *self.state.write() = state;
        Ok(())
    }
}

fn payload(state: &IndexedState) -> String {
    serde_json::to_string(&Payload {
        schema_version: SCHEMA_VERSION,
        analyzer_version: ANALYZER_VERSION,
        state: state.clone(),
    })
    .expect("payload serialises")
}

/// Builds a complete index in a side directory, then swaps it in.
pub struct IndexBuilder {
    index: Index,
    writer: IndexWriter,
    fields: Fields,
    tmp: PathBuf,
    dir: PathBuf,
    next_ord: u32,
    started: Instant,
    gazetteer: &'static Gazetteer,
}

impl IndexBuilder {
    pub fn add(&mut self, resources: &[Resource]) -> Result<()> {
        for r in resources {
            self.writer.add_document(document(&self.fields, self.gazetteer, r, self.next_ord, 1))?;
            self.next_ord += 1;
        }
        Ok(())
    }

    /// Commit, merge to few segments, replace the index in the target directory and open it.
    pub fn finish(mut self, state: IndexedState) -> Result<SearchIndex> {
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&payload(&state));
        prepared.commit()?;
        let committed = self.started.elapsed().as_secs_f32();
        let segments = self.index.searchable_segment_ids()?;
        if segments.len() > 1 {
            self.writer.merge(&segments).wait()?;
        }
        self.writer.wait_merging_threads()?;
        tracing::info!(
            segments = segments.len(),
            analysed_secs = committed,
            merged_secs = self.started.elapsed().as_secs_f32() - committed,
            "index segments merged"
        );
        drop(self.index);
        let old = self.dir.with_extension(format!("old-{}", std::process::id()));
        if self.dir.exists() {
            std::fs::rename(&self.dir, &old)?;
        }
        std::fs::rename(&self.tmp, &self.dir)?;
        if old.exists() {
            std::fs::remove_dir_all(&old)?;
        }
        tracing::info!(docs = self.next_ord, secs = self.started.elapsed().as_secs_f32(), "index built");
        match SearchIndex::open(&self.dir, self.gazetteer)? {
            Ok(index) => Ok(index),
            Err(why) => Err(SearchError::Invalid(format!("freshly built index does not open: {why:?}"))),
        }
    }
}

/// The tantivy document for a resource in slot `ord` at `version`.
fn document(f: &Fields, g: &Gazetteer, r: &Resource, ord: u32, version: u32) -> TantivyDocument {
    let mut d = TantivyDocument::new();
    d.add_text(f.id, r.id.to_string());
    d.add_u64(f.key, (u64::from(version) << 32) | u64::from(ord));
    d.add_text(f.name, &r.name);
    d.add_text(f.name_words, r.name.trim_start_matches(tsunagu_model::SAMPLE_MARK));
    if let Some(k) = &r.name_kana {
        d.add_text(f.kana, k);
    }
    d.add_text(f.description, &r.description);
    let mut address = r.address.clone().unwrap_or_default();
    if let Some(m) = g.municipality(r.municipality_code) {
        address.push_str(&format!(" {}{} {} {}", m.prefecture, m.full_name, m.name_kana, m.name));
        if let Some(region) = g.region(&m.region_id) {
            address.push_str(&format!(" {}圏域", region.name));
        }
    }
    d.add_text(f.address, address);
    // Departments (診療科目: 小児科 …) are findable like the vocabulary labels.
    let mut labels = labels_text(r.kind, r.care_types.iter());
    for dept in &r.departments {
        labels.push(' ');
        labels.push_str(dept);
    }
    d.add_text(f.labels, labels);

    let uuid = r.id.as_u128();
    d.add_u64(f.id_hi, (uuid >> 64) as u64);
    d.add_u64(f.id_lo, uuid as u64);
    d.add_u64(f.kind, r.kind.index() as u64);
    // "Can" includes "can under conditions": both match a care-type search.
    let stated = r.care_types.union(r.care_types_conditional);
    d.add_u64(f.care, u64::from(stated.bits()));
    for c in stated.iter() {
        d.add_u64(f.care_term, c.index() as u64);
    }
    d.add_u64(f.conditional, u64::from(r.care_types_conditional.bits()));
    d.add_u64(f.unverified, u64::from(crate::entry::unverified_of(r).bits()));
    d.add_u64(f.declined, u64::from(r.care_types_declined.bits()));
    d.add_u64(f.municipality, u64::from(r.municipality_code.as_u32()));
    if let Some(p) = r.location {
        d.add_f64(f.lat, p.lat());
        d.add_f64(f.lon, p.lon());
        for cell in crate::cells::of_point(p) {
            d.add_u64(f.cell, cell);
        }
    }
    match &r.service_area {
        ServiceArea::None => {}
        ServiceArea::Radius { radius_km } => d.add_f64(f.service_radius, radius_km.km()),
        ServiceArea::Municipalities { .. } | ServiceArea::Region { .. } => {
            for c in tsunagu_places::service::served_codes(g, &r.service_area) {
                d.add_u64(f.serves, u64::from(c.as_u32()));
            }
        }
        ServiceArea::Polygon { coordinates } => {
            d.add_bytes(f.service_polygon, &serde_json::to_vec(coordinates).expect("coordinates serialise"));
        }
    }
    d.add_u64(f.nurse_days, u64::from(r.nurse_schedule.day_mask()));
    d.add_u64(f.transport, u64::from(r.transport.map_or(0, |t| t.bits())));
    d.add_u64(f.accessibility, u64::from(crate::entry::accessibility_bits(&r.accessibility)));
    if let Some(v) = r.capacity.and_then(|c| c.vacancies) {
        d.add_u64(f.vacancies, u64::from(v));
    }
    if let Some(a) = r.ages {
        d.add_u64(f.age_min, u64::from(a.min_years));
        d.add_u64(f.age_max, u64::from(a.max_years));
    }
    d.add_bool(f.sample, r.sample);
    d.add_bool(f.delisted, r.source.not_listed_since.is_some());
    if let Some(site) = &r.site {
        d.add_u64(f.site, crate::entry::site_key(&site.id));
    }
    if let Some(v) = r.verified_at {
        d.add_i64(f.verified, i64::from(days_since_epoch(v)));
    }
    d.add_u64(f.sort_key, crate::entry::sort_key(r.name_kana.as_deref().unwrap_or(&r.name)));
    d.add_text(f.name_raw, &r.name);
    if let Some(k) = &r.name_kana {
        d.add_text(f.kana_raw, k);
    }
    d
}

/// Labels a record is findable by, from the vocabulary, in both languages.
pub(crate) fn labels_text(kind: Kind, care: impl Iterator<Item = CareType>) -> String {
    let mut s = String::new();
    let k = kind.labels();
    for part in [k.ja, k.en, k.easy_ja] {
        s.push_str(part);
        s.push('\n');
    }
    for c in care {
        let l = c.labels();
        for part in [l.ja, l.en, l.easy_ja] {
            s.push_str(part);
            s.push('\n');
        }
    }
    s
}

/// Rebuild the catalog from the fast fields of every live document.
fn load_catalog(reader: &IndexReader, f: &Fields) -> Result<Catalog> {
    let searcher = reader.searcher();
    let mut slots: Vec<Option<Entry>> = Vec::new();
    let name = |field| searcher.schema().get_field_name(field).to_string();
    for seg in searcher.segment_readers() {
        let ff = seg.fast_fields();
        let key = ff.u64(&name(f.key))?;
        let (id_hi, id_lo) = (ff.u64(&name(f.id_hi))?, ff.u64(&name(f.id_lo))?);
        let (kind, care, declined) = (ff.u64(&name(f.kind))?, ff.u64(&name(f.care))?, ff.u64(&name(f.declined))?);
        let (conditional, unverified) = (ff.u64(&name(f.conditional))?, ff.u64(&name(f.unverified))?);
        let muni = ff.u64(&name(f.municipality))?;
        let (lat, lon) = (ff.f64(&name(f.lat))?, ff.f64(&name(f.lon))?);
        let radius = ff.f64(&name(f.service_radius))?;
        let serves = ff.u64(&name(f.serves))?;
        let polygon = ff.bytes(&name(f.service_polygon))?;
        let nurse = ff.u64(&name(f.nurse_days))?;
        let transport = ff.u64(&name(f.transport))?;
        let accessibility = ff.u64(&name(f.accessibility))?;
        let vac = ff.u64(&name(f.vacancies))?;
        let (amin, amax) = (ff.u64(&name(f.age_min))?, ff.u64(&name(f.age_max))?);
        let sample = ff.bool(&name(f.sample))?;
        let delisted = ff.bool(&name(f.delisted))?;
        let site = ff.u64(&name(f.site))?;
        let verified = ff.i64(&name(f.verified))?;
        let sort = ff.u64(&name(f.sort_key))?;
        // Dictionary-encoded strings: read each dictionary once, then map docs by term ordinal.
        let dictionary = |field| -> Result<(Option<tantivy::columnar::StrColumn>, Vec<String>)> {
            let Some(col) = ff.str(&name(field))? else { return Ok((None, Vec::new())) };
            let mut terms = Vec::new();
            let mut stream = col.dictionary().stream()?;
            while stream.advance() {
                terms.push(String::from_utf8_lossy(stream.key()).into_owned());
            }
            Ok((Some(col), terms))
        };
        let (names_col, names) = dictionary(f.name_raw)?;
        let (kana_col, kanas) = dictionary(f.kana_raw)?;
        let text_of = |col: &Option<tantivy::columnar::StrColumn>, terms: &Vec<String>, doc| -> Option<String> {
            let ord = col.as_ref()?.term_ords(doc).next()?;
            terms.get(ord as usize).cloned()
        };
        let alive = seg.alive_bitset();
        for doc in 0..seg.max_doc() {
            if alive.is_some_and(|a| !a.is_alive(doc)) {
                continue;
            }
            let corrupt = || SearchError::Invalid(format!("document {doc} lacks a required fast field"));
            let k = key.first(doc).ok_or_else(corrupt)?;
            let (ord, version) = ((k & 0xFFFF_FFFF) as usize, (k >> 32) as u32);
            let id = uuid_from(id_hi.first(doc).ok_or_else(corrupt)?, id_lo.first(doc).ok_or_else(corrupt)?);
            let municipality = tsunagu_model::MunicipalityCode::from_u32(muni.first(doc).ok_or_else(corrupt)? as u32)
                .ok_or_else(corrupt)?;
            let point = match (lat.first(doc), lon.first(doc)) {
                (Some(a), Some(o)) => tsunagu_model::LatLon::new(a, o).ok(),
                _ => None,
            };
            let served: Vec<u32> = serves.values_for_doc(doc).map(|v| v as u32).collect();
            let mut shape = Vec::new();
            if let Some(col) = &polygon
                && let Some(ord) = col.term_ords(doc).next()
            {
                col.ord_to_bytes(ord, &mut shape)?;
            }
            let reach = match radius.first(doc) {
                Some(r) => Reach::RadiusKm(r),
                None if !served.is_empty() => Reach::Municipalities(served.into()),
                None if !shape.is_empty() => {
                    let rings: Vec<Vec<[f64; 2]>> = serde_json::from_slice(&shape).map_err(|_| corrupt())?;
                    match tsunagu_places::service::polygon_of(&rings) {
                        Some(p) => Reach::Polygon(Box::new(p)),
                        None => Reach::None,
                    }
                }
                None => Reach::None,
            };
            let entry = Entry {
                id,
                version,
                kind: Kind::from_index(kind.first(doc).ok_or_else(corrupt)? as usize).ok_or_else(corrupt)?,
                care: tsunagu_model::CareSet::from_bits(care.first(doc).unwrap_or(0) as u32),
                declined: tsunagu_model::CareSet::from_bits(declined.first(doc).unwrap_or(0) as u32),
                conditional: tsunagu_model::CareSet::from_bits(conditional.first(doc).unwrap_or(0) as u32),
                unverified: tsunagu_model::CareSet::from_bits(unverified.first(doc).unwrap_or(0) as u32),
                municipality,
                point,
                reach,
                nurse_days: nurse.first(doc).unwrap_or(0) as u8,
                transport: transport.first(doc).unwrap_or(0) as u8,
                accessibility: accessibility.first(doc).unwrap_or(0) as u8,
                vacancies: vac.first(doc).map(|v| v as u32),
                ages: amin.first(doc).zip(amax.first(doc)).map(|(a, b)| (a as u8, b as u8)),
                sample: sample.first(doc).unwrap_or(false),
                listed: !delisted.first(doc).unwrap_or(false),
                site: site.first(doc).unwrap_or(0),
                verified: verified.first(doc).map(|v| v as i32),
                sort_key: sort.first(doc).unwrap_or(0),
                name: text_of(&names_col, &names, doc).unwrap_or_default().into(),
                kana: text_of(&kana_col, &kanas, doc).map(Into::into),
            };
            if slots.len() <= ord {
                slots.resize(ord + 1, None);
            }
            // Two live docs for one slot cannot survive a commit (delete-by-id precedes each add),
            // but if they did, the newer version wins.
            if slots[ord].as_ref().is_none_or(|e| e.version < version) {
                slots[ord] = Some(entry);
            }
        }
    }
    Ok(Catalog::from_slots(slots))
}

fn uuid_from(hi: u64, lo: u64) -> ResourceId {
    ResourceId::from_u128((u128::from(hi) << 64) | u128::from(lo))
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}
