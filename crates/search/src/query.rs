//! Query execution: text matching in tantivy, filters and distances in the catalog, then
//! ranking, facets and one page of hits.
//!
//! Candidates come from the cheapest source that bounds them: the text matches when there is
//! text, else the R-tree when there is a radius, else the whole catalog. Every candidate then
//! passes the same filter, so results do not depend on which source produced them.

use std::collections::HashMap;

use serde::Serialize;
use tantivy::query::{
    BitSetDocSet, BooleanQuery, BoostQuery, ConstScorer, EmptyScorer, EnableScoring, FuzzyTermQuery, Occur,
    PhraseQuery, Query, TermQuery, TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, Term};
use tantivy_common::BitSet;
use tsunagu_model::geo::chord2_for_km;
use tsunagu_model::{
    Accessibility, CareSet, CareType, Kind, LatLon, MunicipalityCode, RadiusKm, ResourceId, TransportFeature, Weekday,
};

use crate::analysis::{normalize, tokens_of_normalized};
use crate::area::Tally;
use crate::catalog::Catalog;
use crate::entry::Entry;
use crate::index::SearchIndex;
use crate::schema::{Fields, text_fields};
use crate::{Result, SearchError};

/// Most results one request may skip (deep paging is what export is for).
pub const MAX_OFFSET: usize = 1_000;
/// Most results in one page.
pub const MAX_LIMIT: usize = 100;

/// Order of results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Text relevance, blended with distance when a point is given.
    Relevance,
    /// Nearest first.
    Distance,
    /// By reading (あいうえお順).
    Name,
}

/// Which text fields a query searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextScope {
    /// Name, reading, labels, address and description.
    #[default]
    All,
    /// Only name and description (the benchmark peer's scope).
    NameAndDescription,
}

/// Which records a search considers, by whether their source still lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Listing {
    /// Records their source still lists (a family's search).
    #[default]
    Listed,
    /// Also records the newest official list no longer has (「最新の公表データに掲載なし」).
    All,
    /// Only those (for the centre, to follow them up).
    Delisted,
}

/// "Who comes to me": only resources whose service area covers this point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Covers {
    pub point: LatLon,
    /// The municipality (ward) the point lies in, for areas given as municipality lists.
    pub municipality: Option<MunicipalityCode>,
}

/// A structured search. Build with [`SearchRequest::default`] and set what applies.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub text: Option<String>,
    pub text_scope: TextScope,
    pub point: Option<LatLon>,
    pub radius: Option<RadiusKm>,
    /// Any of these kinds (empty = any kind).
    pub kinds: Vec<Kind>,
    /// All of these care types: resources that confirm them all come first; resources whose
    /// answer is unknown for some follow (unless `include_unconfirmed` is false); a resource
    /// that declines any of them never matches.
    pub care_types: CareSet,
    /// For each of these groups (umbrella words such as 「経管栄養」), any one of its care types:
    /// a resource that confirms one comes first; one that declines them all never matches.
    pub care_any: Vec<CareSet>,
    /// Include resources whose acceptance of a requested care type is unknown (after the
    /// confirmed ones).
    pub include_unconfirmed: bool,
    /// Within any of these municipality codes (`None` = anywhere). Callers expand a designated
    /// city to its wards and a region to its members.
    pub municipalities: Option<Vec<MunicipalityCode>>,
    pub has_vacancy: bool,
    pub nurse_on: Option<Weekday>,
    pub age: Option<u8>,
    /// Transport features that must all be present.
    pub transport: Vec<TransportFeature>,
    /// Accessibility features the place must all have said it has (not saying is not having,
    /// for this filter: the answer says so).
    pub accessibility: Vec<Accessibility>,
    /// Only resources whose service area covers this point.
    pub covers: Option<Covers>,
    pub include_sample: bool,
    pub listing: Listing,
    /// One result per site: records linked to one site (several services at one address) are
    /// shown once, by the best-ranked of them; the others are counted in `collapsed`.
    pub collapse_sites: bool,
    /// `None`: relevance with text, distance with a point, else name.
    pub sort: Option<Sort>,
    pub offset: usize,
    pub limit: usize,
    pub facets: bool,
}

impl SearchRequest {
    /// No condition but a point, a radius and the sample flag: an area overview, which the
    /// per-cell counts can answer without visiting every entry. Every field is named, so a new
    /// filter does not compile until it is decided here whether it keeps a request plain.
    pub fn is_plain(&self) -> bool {
        let SearchRequest {
            text,
            text_scope: _,
            point: _,
            radius: _,
            kinds,
            care_types,
            care_any,
            include_unconfirmed: _,
            municipalities,
            has_vacancy,
            nurse_on,
            age,
            transport,
            accessibility,
            covers,
            include_sample: _,
            listing,
            collapse_sites: _,
            sort: _,
            offset: _,
            limit: _,
            facets: _,
        } = self;
        text.as_deref().is_none_or(|t| t.trim().is_empty())
            && kinds.is_empty()
            && care_types.is_empty()
            && care_any.is_empty()
            && municipalities.is_none()
            && !has_vacancy
            && nurse_on.is_none()
            && age.is_none()
            && transport.is_empty()
            && accessibility.is_empty()
            && covers.is_none()
            && *listing == Listing::Listed
    }
}

impl Default for SearchRequest {
    fn default() -> Self {
        SearchRequest {
            text: None,
            text_scope: TextScope::All,
            point: None,
            radius: None,
            kinds: Vec::new(),
            care_types: CareSet::EMPTY,
            care_any: Vec::new(),
            include_unconfirmed: true,
            municipalities: None,
            has_vacancy: false,
            nurse_on: None,
            age: None,
            transport: Vec::new(),
            accessibility: Vec::new(),
            covers: None,
            include_sample: true,
            listing: Listing::Listed,
            collapse_sites: false,
            sort: None,
            offset: 0,
            limit: 20,
            facets: true,
        }
    }
}

/// One result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub id: ResourceId,
    /// Ranking score (text relevance, distance-blended); 0 without text.
    pub score: f32,
    pub distance_km: Option<f64>,
    /// The requested care types this resource confirms it accepts.
    pub matched_care_types: CareSet,
    /// The requested care types whose acceptance is unknown (対応未確認): call first.
    pub unconfirmed_care_types: CareSet,
    /// Of the requested care types it can take, those only under conditions (条件つき・要相談).
    pub conditional_care_types: CareSet,
    /// Of the requested care types it can take, those the provider stated and the centre has not
    /// verified yet (事業所の回答・未確認).
    pub reported_care_types: CareSet,
    /// The other records linked to this one's site (its other services), matching or not.
    pub site_mates: Vec<ResourceId>,
}

/// Counts of matching resources, by facet, largest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Facets {
    pub kinds: Vec<(Kind, usize)>,
    pub care_types: Vec<(CareType, usize)>,
    pub municipalities: Vec<(MunicipalityCode, usize)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResults {
    /// Every match, not just this page.
    pub total: usize,
    /// Of `total`, matches that confirm every requested care type (all of them without a care
    /// filter); they are ranked before the unconfirmed ones.
    pub confirmed_total: usize,
    /// Of `total`, matches that can take every requested care type by the provider's own word
    /// (not yet verified) or under conditions: ranked after the confirmed ones and before the
    /// unknown.
    pub reported_total: usize,
    pub sort: Sort,
    pub hits: Vec<Hit>,
    pub facets: Option<Facets>,
    /// Matches not shown as results of their own because another record of their site is
    /// (`collapse_sites`); `total` counts results, facets count records.
    pub collapsed: usize,
}

/// A candidate that passed the filters.
#[derive(Clone, Copy)]
struct Candidate {
    ord: u32,
    score: f32,
    distance_km: Option<f64>,
    /// 0: every requested care type confirmed (always without a care filter); 1: every one
    /// stated by the provider or taken under conditions; 2: some unknown.
    tier: u8,
}

/// Everything a candidate must satisfy, precomputed for speed.
struct Filter {
    kinds: u64,
    care: CareSet,
    care_any: Vec<CareSet>,
    include_unconfirmed: bool,
    municipalities: Option<Vec<u32>>,
    has_vacancy: bool,
    nurse_on: u8,
    age: Option<u8>,
    transport: u8,
    accessibility: u8,
    include_sample: bool,
    listing: Listing,
    point: Option<LatLon>,
    radius_km: Option<f64>,
}

impl Filter {
    fn new(req: &SearchRequest) -> Filter {
        // Every field named, none skipped: a new filter field does not compile until it is
        // decided here whether (and how) candidates are checked against it.
        let SearchRequest {
            text: _,
            text_scope: _,
            point,
            radius,
            kinds,
            care_types,
            care_any,
            include_unconfirmed,
            municipalities,
            has_vacancy,
            nurse_on,
            age,
            transport,
            accessibility,
            covers: _,
            include_sample,
            listing,
            collapse_sites: _,
            sort: _,
            offset: _,
            limit: _,
            facets: _,
        } = req;
        let mut municipalities: Option<Vec<u32>> =
            municipalities.as_ref().map(|m| m.iter().map(|c| c.as_u32()).collect());
        if let Some(m) = &mut municipalities {
            m.sort_unstable();
            m.dedup();
        }
        Filter {
            kinds: kinds.iter().fold(0u64, |m, k| m | (1 << k.index())),
            care: *care_types,
            care_any: care_any.clone(),
            include_unconfirmed: *include_unconfirmed,
            municipalities,
            has_vacancy: *has_vacancy,
            nurse_on: nurse_on.map_or(0, |d| 1 << d.index()),
            age: *age,
            transport: transport.iter().fold(0u8, |m, f| m | (1 << f.index())),
            accessibility: crate::entry::accessibility_bits(accessibility),
            include_sample: *include_sample,
            listing: *listing,
            point: *point,
            radius_km: radius.map(|r| r.km()),
        }
    }

    /// `Some((distance, tier))` (distance `None` without a point) when the entry passes.
    fn check(&self, e: &Entry) -> Option<(Option<f64>, u8)> {
        let Filter {
            kinds,
            care,
            care_any,
            include_unconfirmed,
            municipalities,
            has_vacancy,
            nurse_on,
            age,
            transport,
            accessibility,
            include_sample,
            listing,
            point,
            radius_km,
        } = self;
        let (kinds, care, nurse_on, transport, accessibility) = (*kinds, *care, *nurse_on, *transport, *accessibility);
        if kinds != 0 && kinds & (1 << e.kind.index()) == 0 {
            return None;
        }
        // Declining any requested care type rules a resource out; not saying is "unconfirmed".
        if !e.declined.intersection(care).is_empty() {
            return None;
        }
        let mut tier = if !e.care.contains_all(care) {
            2
        } else if !e.conditional.union(e.unverified).intersection(care).is_empty() {
            1
        } else {
            0
        };
        // An umbrella word: declining every one of its care types rules a resource out; taking
        // one without conditions confirms it.
        for group in care_any {
            if e.declined.contains_all(*group) {
                return None;
            }
            let took = e.care.intersection(*group);
            let t = if took.is_empty() {
                2
            } else if took.difference(e.conditional.union(e.unverified)).is_empty() {
                1
            } else {
                0
            };
            tier = tier.max(t);
        }
        if tier == 2 && !*include_unconfirmed {
            return None;
        }
        if !*include_sample && e.sample {
            return None;
        }
        match listing {
            Listing::Listed if !e.listed => return None,
            Listing::Delisted if e.listed => return None,
            _ => {}
        }
        if let Some(m) = municipalities
            && m.binary_search(&e.municipality.as_u32()).is_err()
        {
            return None;
        }
        if *has_vacancy && e.vacancies.is_none_or(|v| v == 0) {
            return None;
        }
        if nurse_on != 0 && e.nurse_days & nurse_on == 0 {
            return None;
        }
        if e.transport & transport != transport || e.accessibility & accessibility != accessibility {
            return None;
        }
        if let (Some(age), Some((lo, hi))) = (*age, e.ages)
            && !(lo..=hi).contains(&age)
        {
            return None;
        }
        match *point {
            None => Some((None, tier)),
            Some(p) => {
                let d = e.point.map(|q| p.distance_km(q));
                match (*radius_km, d) {
                    (Some(_), None) => None,
                    (Some(r), Some(d)) if d > r => None,
                    _ => Some((d, tier)),
                }
            }
        }
    }
}

impl SearchIndex {
    /// Run a search.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResults> {
        if req.offset > MAX_OFFSET || req.limit > MAX_LIMIT {
            return Err(SearchError::Invalid(format!("offset ≤ {MAX_OFFSET} and limit ≤ {MAX_LIMIT}")));
        }
        self.run(req)
    }

    /// Every match of a search, in order, ignoring `offset` and `limit` (for exports of a
    /// search and for comparing answers with another engine).
    pub fn search_all(&self, req: &SearchRequest) -> Result<SearchResults> {
        self.run(&SearchRequest { offset: 0, limit: usize::MAX, ..req.clone() })
    }

    fn run(&self, req: &SearchRequest) -> Result<SearchResults> {
        let text = req.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
        let sort = match req.sort {
            Some(Sort::Relevance) if text.is_none() => {
                if req.point.is_some() {
                    Sort::Distance
                } else {
                    Sort::Name
                }
            }
            Some(s) => s,
            None if text.is_some() => Sort::Relevance,
            None if req.point.is_some() => Sort::Distance,
            None => Sort::Name,
        };
        let searcher = self.reader.searcher();
        let catalog = self.catalog.read();
        let filter = Filter::new(req);
        let mut candidates: Vec<Candidate> = Vec::new();
        let mut push = |ord: u32, score: f32, e: &Entry| {
            if let Some((distance_km, tier)) = filter.check(e) {
                candidates.push(Candidate { ord, score, distance_km, tier });
            }
        };

        if text.is_none()
            && let Some(found) = area_overview(&catalog, &filter, req, sort)
        {
            return Ok(found);
        }
        // Covering areas bound the candidates before anything else.
        let covering = req.covers.map(|c| catalog.covering(c.point, c.municipality));
        match (text, req.point, req.radius) {
            (Some(text), _, _) => {
                let filter = prefilter(&searcher, &self.fields, req)?;
                let Some(query) = text_query(&searcher, &self.fields, text, req.text_scope, filter.as_ref())? else {
                    return Ok(empty(req));
                };
                for_each_match(&searcher, &self.fields, &catalog, query.as_ref(), &mut |ord, score, e| {
                    if covering.as_ref().is_none_or(|c| c.binary_search(&ord).is_ok()) {
                        push(ord, score, e)
                    }
                })?;
            }
            (None, _, _) if covering.is_some() => {
                for &ord in covering.iter().flatten() {
                    if let Some(e) = catalog.get(ord) {
                        push(ord, 0.0, e);
                    }
                }
            }
            (None, Some(p), Some(r)) => {
                for pe in catalog.points().locate_within_distance(p.unit_vector(), chord2_for_km(r.km()) * (1.0 + 1e-9))
                {
                    if let Some(e) = catalog.get(pe.data) {
                        push(pe.data, 0.0, e);
                    }
                }
            }
            (None, _, _) => {
                // Kinds and confirmed care types narrow the candidates through the catalog's
                // bitsets; everything else is checked per candidate.
                let care = if req.include_unconfirmed { CareSet::EMPTY } else { req.care_types };
                catalog.for_each_with(&req.kinds, care, &mut |ord| {
                    if let Some(e) = catalog.get(ord) {
                        push(ord, 0.0, e);
                    }
                });
            }
        }

        if sort == Sort::Relevance
            && let Some(_p) = req.point
        {
            // Blend: text relevance decays with distance but never to zero, so a strong text
            // match a little farther away can still beat a weak one next door.
            let half = req.radius.map_or(5.0, |r| (r.km() / 2.0).max(1.0));
            for c in &mut candidates {
                if let Some(d) = c.distance_km {
                    c.score *= (0.3 + 0.7 * (-d / half).exp()) as f32;
                } else {
                    c.score *= 0.3;
                }
            }
        }

        if sort == Sort::Relevance {
            // Freshness: records confirmed within a year keep their score; older ones lose up to
            // 30 % over the following four years, so a recently verified match ranks higher.
            let today = crate::entry::days_since_epoch(chrono::Utc::now().date_naive());
            for c in &mut candidates {
                let age = catalog.get(c.ord).and_then(|e| e.verified).map_or(5 * 365, |v| today - v);
                let factor = if age <= 365 { 1.0 } else { (1.0 - 0.3 * f64::from(age - 365) / 1460.0).max(0.7) };
                c.score *= factor as f32;
            }
        }
        let facets = req.facets.then(|| facets_of(&catalog, &candidates));
        let id = |c: &Candidate| catalog.get(c.ord).map(|e| e.id);
        let cmp = |a: &Candidate, b: &Candidate| -> std::cmp::Ordering {
            let primary = match sort {
                Sort::Relevance => b.score.total_cmp(&a.score),
                Sort::Distance => {
                    a.distance_km.unwrap_or(f64::INFINITY).total_cmp(&b.distance_km.unwrap_or(f64::INFINITY))
                }
                Sort::Name => {
                    let key = |c: &Candidate| catalog.get(c.ord).map_or(u64::MAX, |e| e.sort_key);
                    key(a).cmp(&key(b))
                }
            };
            // Confirmed matches first, then the provider's word, then unknown, whatever the order
            // within each group.
            a.tier.cmp(&b.tier).then(primary).then_with(|| id(a).cmp(&id(b)))
        };
        let mut collapsed = 0;
        if req.collapse_sites && catalog.has_sites() {
            // One result per site, by its best-ranked record: every candidate must be in order
            // before the first of each site is known.
            candidates.sort_by(cmp);
            let before = candidates.len();
            let mut seen = std::collections::HashSet::new();
            candidates.retain(|c| catalog.get(c.ord).is_none_or(|e| e.site == 0 || seen.insert(e.site)));
            collapsed = before - candidates.len();
        }
        let total = candidates.len();
        let confirmed_total = candidates.iter().filter(|c| c.tier == 0).count();
        let reported_total = candidates.iter().filter(|c| c.tier == 1).count();
        let want = req.offset.saturating_add(req.limit).min(candidates.len());
        if want > 0 && want < candidates.len() {
            candidates.select_nth_unstable_by(want - 1, cmp);
            candidates.truncate(want);
        }
        candidates.sort_by(cmp);
        let hits = candidates
            .iter()
            .skip(req.offset)
            .take(req.limit)
            .filter_map(|c| {
                let e = catalog.get(c.ord)?;
                let asked = asked_care(req, e);
                Some(Hit {
                    id: e.id,
                    score: c.score,
                    distance_km: c.distance_km,
                    matched_care_types: e.care.intersection(asked),
                    unconfirmed_care_types: asked.difference(e.care.union(e.declined)),
                    conditional_care_types: e.conditional.intersection(asked),
                    reported_care_types: e.unverified.intersection(asked),
                    site_mates: mates(&catalog, c.ord),
                })
            })
            .collect();
        Ok(SearchResults { total, confirmed_total, reported_total, sort, hits, facets, collapsed })
    }
}

/// The care types a result is asked about: every one requested, and of each umbrella word the
/// ones it takes (or, taking none, all of them: any would do, none is confirmed).
fn asked_care(req: &SearchRequest, e: &Entry) -> CareSet {
    req.care_any.iter().fold(req.care_types, |asked, group| {
        let took = e.care.intersection(*group);
        asked.union(if took.is_empty() { group.difference(e.declined) } else { took })
    })
}

fn mates(catalog: &Catalog, ord: u32) -> Vec<ResourceId> {
    catalog.site_mates(ord).into_iter().filter_map(|o| catalog.get(o).map(|e| e.id)).collect()
}

fn empty(req: &SearchRequest) -> SearchResults {
    SearchResults {
        total: 0,
        confirmed_total: 0,
        reported_total: 0,
        sort: req.sort.unwrap_or(Sort::Relevance),
        hits: Vec::new(),
        facets: req.facets.then(Facets::default),
        collapsed: 0,
    }
}

fn facets_of(catalog: &Catalog, candidates: &[Candidate]) -> Facets {
    let mut tally = Tally::default();
    for c in candidates {
        if let Some(e) = catalog.get(c.ord) {
            tally.add_entry(e);
        }
    }
    facets_of_tally(tally)
}

fn facets_of_tally(tally: Tally) -> Facets {
    let Tally { kinds, care, municipalities: munis, .. } = tally;
    fn ranked<T: Ord + Copy>(it: impl Iterator<Item = (T, usize)>) -> Vec<(T, usize)> {
        let mut v: Vec<_> = it.filter(|(_, n)| *n > 0).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }
    Facets {
        kinds: ranked(Kind::ALL.iter().map(|k| (*k, kinds[k.index()] as usize))),
        care_types: ranked(CareType::ALL.iter().map(|c| (*c, care[c.index()] as usize))),
        municipalities: ranked(munis.into_iter()),
    }
}

/// An area overview — everything within a radius, with no text and no filter but the sample
/// flag — from the per-cell counts: `total` and facets from the cells wholly inside the circle
/// plus the entries of the cells on its edge, and the page of hits from a nearest-first walk of
/// the R-tree. The same answer as visiting every entry in the circle, at a cost that grows with
/// the circle's edge rather than its contents. `None` when the request is not such an overview.
fn area_overview(catalog: &Catalog, filter: &Filter, req: &SearchRequest, sort: Sort) -> Option<SearchResults> {
    let (p, r) = (req.point?, req.radius?);
    let plain = req.is_plain() && !(req.collapse_sites && catalog.has_sites());
    let want = req.offset.saturating_add(req.limit);
    if !plain || (sort != Sort::Distance && want > 0) {
        return None;
    }
    let mut edge = Vec::new();
    let mut tally = catalog.area().within(p, r.km(), req.include_sample, &mut |ord| edge.push(ord))?;
    for ord in edge {
        if let Some(e) = catalog.get(ord)
            && filter.check(e).is_some()
        {
            tally.add_entry(e);
        }
    }
    // The nearest `want` within the radius (and any tied with the last of them), then the
    // usual order: distance, then id.
    let mut page: Vec<(f64, ResourceId, &Entry)> = Vec::new();
    if want > 0 {
        let limit2 = chord2_for_km(r.km()) * (1.0 + 1e-9);
        let mut last = f64::NEG_INFINITY;
        for (pe, d2) in catalog.points().nearest_neighbor_iter_with_distance_2(&p.unit_vector()) {
            if d2 > limit2 || (page.len() >= want && d2 > last * (1.0 + 1e-9)) {
                break;
            }
            if let Some(e) = catalog.get(pe.data)
                && let Some((Some(d), _)) = filter.check(e)
            {
                page.push((d, e.id, e));
                last = d2;
            }
        }
        page.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    }
    let hits = page
        .iter()
        .skip(req.offset)
        .take(req.limit)
        .map(|(d, id, _)| Hit {
            id: *id,
            score: 0.0,
            distance_km: Some(*d),
            matched_care_types: CareSet::EMPTY,
            unconfirmed_care_types: CareSet::EMPTY,
            conditional_care_types: CareSet::EMPTY,
            reported_care_types: CareSet::EMPTY,
            site_mates: catalog.ord_of(*id).map(|o| mates(catalog, o)).unwrap_or_default(),
        })
        .collect();
    let total = tally.total;
    Some(SearchResults {
        total,
        confirmed_total: total,
        reported_total: 0,
        sort,
        hits,
        facets: req.facets.then(|| facets_of_tally(tally)),
        collapsed: 0,
    })
}

/// The documents that can pass the filters the index can answer (kinds, municipalities,
/// confirmed care types, the grid cells of a radius), as one bitset per segment, computed once
/// per search; `None` when no such filter applies. Every text branch is intersected with it
/// inside tantivy, so only those documents are matched and scored. The catalog still checks
/// every filter exactly afterwards.
fn prefilter(searcher: &Searcher, f: &Fields, req: &SearchRequest) -> Result<Option<DocFilter>> {
    let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut add = |field: Field, values: Vec<u64>| {
        let terms: Vec<Term> = values.into_iter().map(|v| Term::from_field_u64(field, v)).collect();
        let q: Box<dyn Query> = if terms.len() == 1 {
            Box::new(TermQuery::new(terms[0].clone(), IndexRecordOption::Basic))
        } else {
            Box::new(TermSetQuery::new(terms))
        };
        must.push((Occur::Must, q));
    };
    if !req.kinds.is_empty() {
        add(f.kind, req.kinds.iter().map(|k| k.index() as u64).collect());
    }
    if let Some(m) = &req.municipalities {
        add(f.municipality, m.iter().map(|c| u64::from(c.as_u32())).collect());
    }
    if !req.include_unconfirmed {
        for c in req.care_types.iter() {
            add(f.care_term, vec![c.index() as u64]);
        }
        for group in &req.care_any {
            add(f.care_term, group.iter().map(|c| c.index() as u64).collect());
        }
    }
    if let (Some(p), Some(r)) = (req.point, req.radius)
        && let Some(cells) = crate::cells::covering(p, r.km())
    {
        add(f.cell, cells);
    }
    if must.is_empty() {
        return Ok(None);
    }
    let query = BooleanQuery::new(must);
    let weight = query.weight(EnableScoring::disabled_from_searcher(searcher))?;
    let mut sets = HashMap::new();
    for seg in searcher.segment_readers() {
        let mut bits = BitSet::with_max_value(seg.max_doc());
        weight.for_each_no_score(seg, &mut |docs| {
            for d in docs {
                bits.insert(*d);
            }
        })?;
        sets.insert(seg.segment_id(), bits);
    }
    Ok(Some(DocFilter { sets: std::sync::Arc::new(sets) }))
}

/// A fixed set of documents per segment, as a query (score 0).
#[derive(Clone)]
pub(crate) struct DocFilter {
    sets: std::sync::Arc<HashMap<tantivy::index::SegmentId, BitSet>>,
}

impl std::fmt::Debug for DocFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DocFilter({} segments)", self.sets.len())
    }
}

impl Query for DocFilter {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn tantivy::query::Weight>> {
        Ok(Box::new(self.clone()))
    }
}

impl tantivy::query::Weight for DocFilter {
    fn scorer(
        &self,
        reader: &tantivy::SegmentReader,
        _boost: tantivy::Score,
    ) -> tantivy::Result<Box<dyn tantivy::query::Scorer>> {
        Ok(match self.sets.get(&reader.segment_id()) {
            Some(bits) => Box::new(ConstScorer::new(BitSetDocSet::from(bits.clone()), 0.0)),
            None => Box::new(EmptyScorer),
        })
    }
    fn explain(&self, _: &tantivy::SegmentReader, _: tantivy::DocId) -> tantivy::Result<tantivy::query::Explanation> {
        Err(tantivy::TantivyError::InvalidArgument("a document filter has no explanation".into()))
    }
}

/// `q` restricted to the filter's documents (the filter leads the intersection when smaller).
fn within(q: Box<dyn Query>, filter: Option<&DocFilter>) -> Box<dyn Query> {
    match filter {
        None => q,
        Some(f) => Box::new(BooleanQuery::new(vec![(Occur::Must, q), (Occur::Must, Box::new(f.clone()))])),
    }
}

/// Call `f(ord, score, entry)` for every current, live document matching `query`.
fn for_each_match(
    searcher: &Searcher,
    fields: &Fields,
    catalog: &Catalog,
    query: &dyn Query,
    f: &mut dyn FnMut(u32, f32, &Entry),
) -> Result<()> {
    let weight = query.weight(EnableScoring::enabled_from_searcher(searcher))?;
    let key_name = searcher.schema().get_field_name(fields.key).to_string();
    for seg in searcher.segment_readers() {
        let keys = seg.fast_fields().u64(&key_name)?;
        let alive = seg.alive_bitset();
        weight.for_each(seg, &mut |doc, score| {
            if alive.is_some_and(|a| !a.is_alive(doc)) {
                return;
            }
            let Some(k) = keys.first(doc) else { return };
            let (ord, version) = ((k & 0xFFFF_FFFF) as u32, (k >> 32) as u32);
            // A document older than the catalog's entry is stale and skipped; a newer one is being
            // published (its entry follows right after the commit) and counts.
            if let Some(e) = catalog.get(ord).filter(|e| e.version <= version) {
                f(ord, score, e);
            }
        })?;
    }
    Ok(())
}

/// The tantivy query for free text: every whitespace-separated word must occur (as a normalised
/// substring) in at least one field; fields are weighted. `None` when the text has no searchable
/// characters.
pub(crate) fn text_query(
    searcher: &Searcher,
    fields: &Fields,
    text: &str,
    scope: TextScope,
    filter: Option<&DocFilter>,
) -> Result<Option<Box<dyn Query>>> {
    let targets: Vec<(Field, f32)> = match scope {
        TextScope::All => text_fields(fields).to_vec(),
        TextScope::NameAndDescription => vec![(fields.name, 3.0), (fields.description, 1.0)],
    };
    let mut words: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for word in text.split_whitespace() {
        let toks = tokens_of_normalized(&normalize(word));
        if toks.is_empty() {
            continue;
        }
        let mut per_field: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for &(field, boost) in &targets {
            let q = within(word_query(searcher, field, &toks)?, filter);
            per_field.push((Occur::Should, Box::new(BoostQuery::new(q, boost))));
        }
        // Whole words of the name score extra (precision); they cannot match alone, since
        // every bigram match already covers them.
        let ws = crate::analysis::words(word);
        if scope == TextScope::All && !ws.is_empty() {
            let q: Box<dyn Query> = if ws.len() == 1 {
                Box::new(TermQuery::new(
                    Term::from_field_text(fields.name_words, &ws[0].text),
                    IndexRecordOption::WithFreqs,
                ))
            } else {
                Box::new(PhraseQuery::new_with_offset(
                    ws.iter().map(|t| (t.position, Term::from_field_text(fields.name_words, &t.text))).collect(),
                ))
            };
            per_field.push((Occur::Should, Box::new(BoostQuery::new(within(q, filter), 2.0))));
        }
        words.push((Occur::Must, Box::new(BooleanQuery::new(per_field))));
    }
    Ok((!words.is_empty()).then(|| Box::new(BooleanQuery::new(words)) as Box<dyn Query>))
}

/// One word in one field: a term, a phrase of bigrams, or — for a single Japanese character —
/// every token starting with it.
fn word_query(searcher: &Searcher, field: Field, toks: &[crate::analysis::AnalyzedToken]) -> Result<Box<dyn Query>> {
    // Drop run-final single characters (the tail of the bigram just before them): the bigrams
    // already pin the substring down. Anything else stays, and the list is never empty.
    let is_run_tail = |k: usize| {
        let t = &toks[k];
        k > 0
            && t.text.chars().count() == 1
            && toks[k - 1].position + 1 == t.position
            && toks[k - 1].text.chars().count() == 2
            && toks[k - 1].text.ends_with(t.text.as_str())
    };
    let core: Vec<_> = if toks.len() > 1 {
        thin_bigram_chains(toks.iter().enumerate().filter(|(k, _)| !is_run_tail(*k)).map(|(_, t)| t.clone()).collect())
    } else {
        toks.to_vec()
    };
    if core.len() == 1 {
        let t = &core[0];
        if t.text.chars().count() == 1 && is_ja_char(&t.text) {
            return Ok(Box::new(TermSetQuery::new(prefix_terms(searcher, field, &t.text)?)));
        }
        let exact: Box<dyn Query> =
            Box::new(TermQuery::new(Term::from_field_text(field, &t.text), IndexRecordOption::WithFreqs));
        // Latin words tolerate typos: one edit for 4–7 letters, two for longer.
        let len = t.text.chars().count();
        if len >= 4 && t.text.chars().all(|c| c.is_ascii_alphabetic()) {
            let distance = if len >= 8 { 2 } else { 1 };
            let fuzzy = FuzzyTermQuery::new(Term::from_field_text(field, &t.text), distance, true);
            return Ok(Box::new(BooleanQuery::new(vec![
                (Occur::Should, exact),
                (Occur::Should, Box::new(BoostQuery::new(Box::new(fuzzy), 0.5))),
            ])));
        }
        return Ok(exact);
    }
    let base = core[0].position;
    let terms = core.iter().map(|t| (t.position - base, Term::from_field_text(field, &t.text))).collect();
    Ok(Box::new(PhraseQuery::new_with_offset(terms)))
}

/// In a chain of overlapping bigrams (訪問@0 問看@1 看護@2), every other one — and the last —
/// already pins every character down: 訪問@0 看護@2 matches exactly the same substring, with a
/// third fewer postings and positions to read per candidate document.
fn thin_bigram_chains(toks: Vec<crate::analysis::AnalyzedToken>) -> Vec<crate::analysis::AnalyzedToken> {
    let bigram = |t: &crate::analysis::AnalyzedToken| t.text.chars().count() == 2;
    let chained = |a: &crate::analysis::AnalyzedToken, b: &crate::analysis::AnalyzedToken| {
        bigram(a) && bigram(b) && a.position + 1 == b.position && a.text.chars().nth(1) == b.text.chars().next()
    };
    let mut keep = vec![true; toks.len()];
    let mut start = 0;
    for k in 1..=toks.len() {
        if k < toks.len() && chained(&toks[k - 1], &toks[k]) {
            continue;
        }
        // toks[start..k] is one chain: keep its even offsets and its last token.
        for (i, kept) in keep.iter_mut().enumerate().take(k.saturating_sub(1)).skip(start) {
            *kept = (i - start) % 2 == 0;
        }
        start = k;
    }
    toks.into_iter().zip(keep).filter(|(_, k)| *k).map(|(t, _)| t).collect()
}

fn is_ja_char(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c >= '\u{3000}')
}

/// Terms of `field` that start with `prefix`, across segments (capped).
fn prefix_terms(searcher: &Searcher, field: Field, prefix: &str) -> Result<Vec<Term>> {
    const CAP: usize = 4_096;
    let mut out = std::collections::BTreeSet::new();
    let mut upper = prefix.as_bytes().to_vec();
    *upper.last_mut().expect("non-empty prefix") += 1;
    for seg in searcher.segment_readers() {
        let inv = seg.inverted_index(field)?;
        let mut stream = inv.terms().range().ge(prefix.as_bytes()).lt(&upper).into_stream()?;
        while stream.advance() {
            out.insert(stream.key().to_vec());
            if out.len() >= CAP {
                break;
            }
        }
    }
    Ok(out.into_iter().filter_map(|k| String::from_utf8(k).ok()).map(|s| Term::from_field_text(field, &s)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thinned(word: &str) -> Vec<(String, usize)> {
        let toks = tokens_of_normalized(&normalize(word));
        thin_bigram_chains(toks).into_iter().map(|t| (t.text, t.position)).collect()
    }

    #[test]
    fn bigram_chains_keep_every_other_bigram_and_the_last() {
        let s = |v: &[(&str, usize)]| v.iter().map(|(t, p)| (t.to_string(), *p)).collect::<Vec<_>>();
        // 訪問@0 問看@1 看護@2 護@3: the unigram tail is not a bigram and stays.
        assert_eq!(thinned("訪問看護"), s(&[("訪問", 0), ("看護", 2), ("護", 3)]));
        // An even-length chain ends on an odd offset: the last bigram is kept too.
        assert_eq!(thinned("訪問看護師"), s(&[("訪問", 0), ("看護", 2), ("護師", 3), ("師", 4)]));
        assert_eq!(thinned("吸引"), s(&[("吸引", 0), ("引", 1)]));
        // Latin words are not bigrams and are untouched.
        assert_eq!(thinned("ventilator").len(), 1);
    }
}
