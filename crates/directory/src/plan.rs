//! Search planning: what a person asked for ([`SearchIntent`]) becomes what the engine runs
//! ([`Plan`], holding a [`SearchRequest`]).
//!
//! The steps, in order: understand the free text (unless asked not to); resolve the place (a
//! name is geocoded, never guessed when it is ambiguous); let explicit choices override what the
//! text was understood to mean; apply the named-municipality rule (a municipality named as the
//! place means "within 20 km of its office", widened when nothing is there); expand
//! municipalities, 圏域 and prefectures into municipality codes; resolve "who comes to me"
//! (`covers`) to a point and its municipality. What cannot be planned is reported per field in
//! one [`PlanError`].
//!
//! [`relax`] loosens a plan that found nothing, one documented step at a time.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::Serialize;
use tsunagu_model::{
    Accessibility, CareSet, Kind, LatLon, MunicipalityCode, RadiusKm, TransportFeature, Weekday, codes::truncate,
};
use tsunagu_places::{GeocodeError, Place, Places, Precision, Region};
use tsunagu_search::{ConceptKind, Covers, Interpretation, Listing, Recognized, SearchRequest, Sort, Understanding};

/// Radius around a municipality named as the place (near=松本市, or 松本 in the text), km.
pub const NAMED_PLACE_RADIUS_KM: f64 = 20.0;

/// Longest free-text query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// Relaxation steps at most, for one search.
const MAX_RELAXATIONS: usize = 5;

/// Where the person is, or wants to look.
#[derive(Debug, Clone, PartialEq)]
pub enum PlaceAsked {
    /// Text to geocode: an address, postal code, municipality or 圏域 (`near=`).
    Named(String),
    /// A point (`lat`, `lon`), e.g. from "use my location".
    Point(LatLon),
    /// A place already resolved (a page that knows which municipality it is about).
    Resolved(Place),
}

/// What a person asked for, before understanding. Build with [`SearchIntent::default`] and set
/// what was asked; `None` in an overridable field means "not asked", so what the text was
/// understood to mean applies.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchIntent {
    /// Free text as typed.
    pub q: Option<String>,
    /// Understand the text (care types, kinds, places in it); `false` searches it as words only.
    pub interpret: bool,
    pub place: Option<PlaceAsked>,
    pub radius: Option<RadiusKm>,
    /// Only resources whose service area covers the place ("who comes to me").
    pub covers: bool,
    pub kinds: Option<Vec<Kind>>,
    pub care_types: Option<CareSet>,
    /// Umbrella words: for each group, any one of its care types (`None`: those in the text).
    pub care_any: Option<Vec<CareSet>>,
    /// Vehicle features that must all be present (`None`: those named in the text, for transport).
    pub transport: Option<Vec<TransportFeature>>,
    /// Accessibility features the place must all have (power for devices, a changing bed, …).
    pub accessibility: Vec<Accessibility>,
    /// In any of these municipalities (a designated city includes its wards).
    pub municipalities: Vec<MunicipalityCode>,
    /// In this 圏域, by id or name.
    pub region: Option<String>,
    pub has_vacancy: bool,
    pub nurse_on: Option<Weekday>,
    pub age: Option<u8>,
    pub include_sample: bool,
    pub include_unconfirmed: bool,
    pub listing: Listing,
    /// One card per site (unless one kind of service is asked for).
    pub group_sites: bool,
    pub sort: Option<Sort>,
    pub offset: usize,
    pub limit: usize,
    pub facets: bool,
    /// Loosen the search, step by step, when it finds nothing (a family's search does; a
    /// region's table must not).
    pub relax: bool,
}

impl Default for SearchIntent {
    fn default() -> Self {
        SearchIntent {
            q: None,
            interpret: true,
            place: None,
            radius: None,
            covers: false,
            kinds: None,
            care_types: None,
            care_any: None,
            transport: None,
            accessibility: Vec::new(),
            municipalities: Vec::new(),
            region: None,
            has_vacancy: false,
            nurse_on: None,
            age: None,
            include_sample: true,
            include_unconfirmed: true,
            listing: Listing::Listed,
            group_sites: true,
            sort: None,
            offset: 0,
            limit: 20,
            facets: true,
            relax: true,
        }
    }
}

/// One field that could not be planned, and why (in English, for the problem's `invalid`).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldIssue {
    pub field: &'static str,
    pub reason: String,
    /// The allowed values, for closed sets.
    pub allowed: Vec<String>,
}

impl FieldIssue {
    fn new(field: &'static str, reason: impl Into<String>) -> FieldIssue {
        FieldIssue { field, reason: reason.into(), allowed: Vec::new() }
    }
}

/// Why a search could not be planned.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanError {
    /// No known place matches the text (a 404 over HTTP), with close names.
    UnknownPlace { text: String, suggestions: Vec<String> },
    /// Fields that do not fit together or name unknown things; `suggestions` lists the places an
    /// ambiguous name could be.
    Invalid { issues: Vec<FieldIssue>, suggestions: Vec<String> },
}

/// The request as understood, echoed back so a client can show what was searched.
#[derive(Debug, Clone, Serialize)]
pub struct QueryEcho {
    pub q: Option<String>,
    /// The place `near=` resolved to.
    pub near: Option<NearEcho>,
    pub covers: bool,
    pub transport: Vec<TransportFeature>,
    pub accessibility: Vec<Accessibility>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub radius_km: Option<f64>,
    pub kinds: Vec<Kind>,
    pub care_types: CareSet,
    /// Umbrella words applied: for each, any one of its care types.
    pub care_any: Vec<CareSet>,
    pub municipalities: Vec<MunicipalityCode>,
    pub region: Option<String>,
    pub has_vacancy: bool,
    pub nurse_on: Option<Weekday>,
    pub age: Option<u8>,
    pub include_sample: bool,
    pub listing: Listing,
    pub group_sites: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct NearEcho {
    pub text: String,
    pub place: Place,
}

/// What free text was understood to mean, for chips such as 「たん吸引 × 保育所 × 松本市」.
#[derive(Debug, Clone, Serialize)]
pub struct InterpretationView {
    /// Every recognised phrase, in query order; `applied` is false where an explicit choice
    /// overrode it.
    pub recognized: Vec<RecognizedView>,
    pub near_me: bool,
    /// Text searched as words after the recognised phrases were taken out.
    pub remaining_text: String,
    pub summary_ja: String,
    pub summary_en: String,
    /// Words that look like places tsunagu does not know, with what to say and what to offer.
    pub place_hints: Vec<PlaceHint>,
}

/// A word that looks like a place tsunagu does not know: outside the served prefectures
/// (「大阪市」, not searched as words), or one edit away from a municipality (もしかして 松本市).
#[derive(Debug, Clone, Serialize)]
pub struct PlaceHint {
    pub typed: String,
    pub outside: bool,
    pub detail_ja: String,
    pub detail_en: String,
    /// Municipalities it may have meant, each with the query to search with it instead.
    pub suggestions: Vec<PlaceSuggestion>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlaceSuggestion {
    pub code: MunicipalityCode,
    /// e.g. 長野県松本市
    pub name: String,
    pub name_en: String,
    /// The query with the word replaced by the municipality's name.
    pub q: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecognizedView {
    #[serde(flatten)]
    pub recognized: Recognized,
    pub applied: bool,
}

/// The steps [`relax`] takes, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RelaxStep {
    /// Double the radius while it is under 120 km: a named municipality's 20 km becomes 40, 80,
    /// then 160 km.
    WidenRadius,
    /// Search without the words, when something else still says what is wanted.
    DropText,
    /// Add the two nearest 圏域 of the same prefecture.
    NeighbouringRegions,
}

/// One relaxation applied because the search found nothing.
#[derive(Debug, Clone, Serialize)]
pub struct Relaxation {
    pub step: RelaxStep,
    pub detail_ja: String,
    pub detail_en: String,
}

/// A planned search: the engine's request and what to tell the person about it.
#[derive(Debug, Clone)]
pub struct Plan {
    pub request: SearchRequest,
    pub echo: QueryEcho,
    pub interpretation: Option<InterpretationView>,
    pub relax: bool,
    /// The municipality filter came from a named municipality (near= or the text).
    named_municipality: Option<MunicipalityCode>,
    region: Option<&'static Region>,
}

/// Plans searches against one set of places, understanding text with their names.
#[derive(Clone)]
pub struct Planner {
    places: Places,
    understanding: Arc<Understanding>,
}

impl Planner {
    pub fn new(places: Places) -> Planner {
        Planner { places, understanding: Arc::new(Understanding::new(places)) }
    }

    pub fn places(&self) -> Places {
        self.places
    }

    /// How text is understood (also what suggestions are drawn from).
    pub fn understanding(&self) -> &Understanding {
        &self.understanding
    }

    /// Turn an intent into a plan, or say every field that stands in the way.
    pub fn plan(&self, intent: SearchIntent) -> Result<Plan, PlanError> {
        // Every field named, none skipped: a new field does not compile until it is planned.
        let SearchIntent {
            q,
            interpret,
            place,
            radius,
            covers,
            kinds,
            care_types,
            care_any,
            transport,
            accessibility,
            municipalities,
            region,
            has_vacancy,
            nurse_on,
            age,
            include_sample,
            include_unconfirmed,
            listing,
            group_sites,
            sort,
            offset,
            limit,
            facets,
            relax,
        } = intent;
        let mut d = Draft::default();
        let q = q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_string);
        if let Some(q) = &q
            && q.chars().count() > MAX_QUERY_CHARS
        {
            d.issue("q", format!("is longer than {MAX_QUERY_CHARS} characters"));
        }
        let it = q.as_deref().filter(|_| interpret).map(|q| self.understanding.understand(q));
        d.req.text = match &it {
            Some(it) => Some(it.remaining_text.clone()).filter(|t| !t.is_empty()),
            None => q.clone(),
        };
        let explicit = Explicit {
            place: place.is_some(),
            kinds: kinds.is_some(),
            care: care_types.is_some() || care_any.is_some(),
            transport: transport.is_some(),
        };
        let (place, near) = self.place(&mut d, place, it.as_ref())?;
        if let Some(r) = radius {
            d.req.radius = Some(r);
            if d.req.point.is_none() {
                d.issue("radius_km", "needs a point: give near, or lat and lon");
            }
        }
        d.req.kinds = kinds.unwrap_or_else(|| it.as_ref().map(|i| i.kinds.clone()).unwrap_or_default());
        // Care chosen explicitly replaces what the text named, umbrella words included.
        let explicit_care = care_types.is_some() || care_any.is_some();
        d.req.care_types = match (care_types, &it) {
            (Some(c), _) => c,
            (None, Some(i)) if !explicit_care => i.care_types.iter().copied().collect(),
            (None, _) => CareSet::EMPTY,
        };
        d.req.care_any = match (care_any, &it) {
            (Some(groups), _) => groups,
            (None, Some(i)) if !explicit_care => i.care_any.clone(),
            (None, _) => Vec::new(),
        };
        d.req.care_any.retain(|g| !g.is_empty());
        d.req.care_any.dedup();
        // 「医ケア コーディネーター」: for kinds that give no care themselves, "any medical care"
        // says who the service is for, not a condition.
        if !explicit_care && !d.req.kinds.is_empty() && d.req.kinds.iter().all(|k| !k.gives_care()) {
            let every: CareSet = tsunagu_model::CareType::ALL.iter().copied().collect();
            d.req.care_any.retain(|g| *g != every);
        }
        let area = self.area(&mut d, &municipalities, region.as_deref(), covers, place.as_ref());
        self.prefecture_in_text(&mut d, &area, it.as_ref());
        self.covers(&mut d, covers, place.as_ref());
        d.req.transport = transport.unwrap_or_default();
        // Features named in the text narrow a search for transport (and only that).
        if !explicit.transport
            && let Some(i) = &it
            && !i.transport.is_empty()
            && d.req.kinds == [Kind::Transport]
        {
            d.req.transport = i.transport.clone();
        }
        let req = &mut d.req;
        req.accessibility = accessibility;
        req.accessibility.sort();
        req.accessibility.dedup();
        req.has_vacancy = has_vacancy;
        req.nurse_on = nurse_on;
        req.age = age;
        req.include_sample = include_sample;
        req.include_unconfirmed = include_unconfirmed;
        req.listing = listing;
        req.sort = sort;
        req.limit = limit;
        req.offset = offset;
        req.facets = facets;
        // One card per site, unless the family asked for one kind of service.
        req.collapse_sites = group_sites && req.kinds.len() != 1;
        if req.sort == Some(Sort::Distance) && req.point.is_none() {
            d.issue("sort", "sorting by distance needs a point: give near, or lat and lon");
        }
        if !d.issues.is_empty() {
            return Err(PlanError::Invalid { issues: d.issues, suggestions: Vec::new() });
        }
        let req = d.req;
        let interpretation = it.map(|it| {
            interpretation_of(
                it,
                explicit,
                &req,
                HintContext { g: self.places.gazetteer, q: q.as_deref().unwrap_or_default() },
            )
        });
        let echo = QueryEcho {
            q,
            near,
            covers,
            transport: req.transport.clone(),
            accessibility: req.accessibility.clone(),
            lat: req.point.map(|p| p.lat()),
            lon: req.point.map(|p| p.lon()),
            radius_km: req.radius.map(|r| r.km()),
            kinds: req.kinds.clone(),
            care_types: req.care_types,
            care_any: req.care_any.clone(),
            municipalities: area.named,
            region: area.region.map(|r| r.id.clone()),
            has_vacancy: req.has_vacancy,
            nurse_on: req.nurse_on,
            age: req.age,
            include_sample: req.include_sample,
            listing: req.listing,
            group_sites: req.collapse_sites,
        };
        Ok(Plan {
            request: req,
            echo,
            interpretation,
            relax,
            named_municipality: area.named_municipality,
            region: area.region,
        })
    }

    /// The place asked for (or named in the text), and its point in the request.
    fn place(
        &self,
        d: &mut Draft,
        asked: Option<PlaceAsked>,
        it: Option<&Interpretation>,
    ) -> Result<(Option<Place>, Option<NearEcho>), PlanError> {
        let mut near = None;
        let place = match asked {
            Some(PlaceAsked::Named(text)) => {
                let text = text.trim().to_string();
                let pl = self.resolve(&text)?;
                near = Some(NearEcho { text, place: pl.clone() });
                Some(pl)
            }
            Some(PlaceAsked::Resolved(pl)) => Some(pl),
            Some(PlaceAsked::Point(pt)) => {
                d.req.point = Some(pt);
                None
            }
            None => it.and_then(|i| i.place.clone()),
        };
        if let Some(pl) = &place {
            d.req.point = Some(pl.point);
        }
        Ok((place, near))
    }

    /// Municipalities and the 圏域 as codes, and the named-municipality rule.
    fn area(
        &self,
        d: &mut Draft,
        municipalities: &[MunicipalityCode],
        region_asked: Option<&str>,
        covers: bool,
        place: Option<&Place>,
    ) -> Area {
        let g = self.places.gazetteer;
        let mut area = Area::default();
        if !municipalities.is_empty() {
            let mut set = BTreeSet::new();
            for &c in municipalities {
                if g.municipality(c).is_some() {
                    area.named.push(c);
                    set.extend(g.expand(c));
                } else {
                    d.issue(
                        "municipalities",
                        format!(
                            "{c} is not a municipality tsunagu has data for ({})",
                            g.prefecture_names_ja().join("・")
                        ),
                    );
                }
            }
            area.codes = Some(set);
        }
        if let Some(v) = region_asked {
            area.region = g.region_by_name(v);
            if area.region.is_none() {
                d.issues.push(FieldIssue {
                    field: "region",
                    reason: format!("unknown region `{}`", truncate(v, 30)),
                    allowed: g.regions().iter().map(|r| format!("{} ({})", r.id, r.name)).collect(),
                });
            }
        }
        if let Some(pl) = place {
            match pl.precision {
                // A 圏域 given as the place means "in this region", measured from its middle.
                Precision::Region => {
                    if covers {
                        d.issue("covers", "needs an address, postal code or municipality as near, not a region");
                    }
                    if area.region.is_none() {
                        area.region = pl.region_id.as_deref().and_then(|id| g.region(id));
                    }
                }
                // A municipality named as the place means "in or near it": within 20 km of its
                // office unless a radius was given (widened when nothing is there); a family near
                // a border is served from the next town too. "Who comes to me" keeps its own rule.
                Precision::Municipality if !covers && area.codes.is_none() && d.req.radius.is_none() => {
                    area.named_municipality = pl.municipality_code;
                    d.req.radius = RadiusKm::new(NAMED_PLACE_RADIUS_KM).ok();
                }
                _ => {}
            }
        }
        area
    }

    /// A prefecture named in the text limits the search to it, unless an area was asked for;
    /// then the 圏域 narrows whatever was asked.
    fn prefecture_in_text(&self, d: &mut Draft, area: &Area, it: Option<&Interpretation>) {
        let g = self.places.gazetteer;
        let mut codes = area.codes.clone();
        if codes.is_none()
            && area.region.is_none()
            && let Some(pref) = it.and_then(|i| i.prefecture)
        {
            codes = Some(g.municipalities().iter().filter(|m| m.prefecture_code == pref).map(|m| m.code).collect());
        }
        if let Some(r) = area.region {
            let in_region: BTreeSet<_> = g.region_codes(r).into_iter().collect();
            codes = Some(match codes {
                Some(m) => m.intersection(&in_region).copied().collect(),
                None => in_region,
            });
        }
        d.req.municipalities = codes.map(|m| m.into_iter().collect());
    }

    /// "Who comes to me": the point and the municipality it lies in.
    fn covers(&self, d: &mut Draft, covers: bool, place: Option<&Place>) {
        if !covers {
            return;
        }
        match d.req.point {
            Some(point) => {
                let municipality = match place {
                    Some(pl) => pl.municipality_code,
                    None => self.places.boundaries.locate(point).map(|l| l.municipality),
                };
                d.req.covers = Some(Covers { point, municipality });
            }
            None => d.issue("covers", "needs a place: give near, or lat and lon"),
        }
    }

    /// Resolve a place name to one place: unknown → [`PlanError::UnknownPlace`]; several places
    /// in different municipalities → [`PlanError::Invalid`] listing them. Never a silent guess.
    fn resolve(&self, text: &str) -> Result<Place, PlanError> {
        match self.places.geocoder.geocode(text) {
            Ok(g) => {
                let settled = g
                    .alternatives
                    .iter()
                    .all(|a| a.municipality_code == g.place.municipality_code && a.region_id == g.place.region_id);
                if settled {
                    Ok(g.place)
                } else {
                    Err(PlanError::Invalid {
                        issues: vec![FieldIssue::new(
                            "near",
                            format!(
                                "`{}` matches {} places; add the municipality",
                                truncate(text, 40),
                                g.alternatives.len() + 1
                            ),
                        )],
                        suggestions: std::iter::once(&g.place)
                            .chain(&g.alternatives)
                            .map(|p| p.name.clone())
                            .take(20)
                            .collect(),
                    })
                }
            }
            Err(GeocodeError::NotFound { suggestions, .. }) => {
                Err(PlanError::UnknownPlace { text: text.to_string(), suggestions })
            }
            Err(e) => {
                Err(PlanError::Invalid { issues: vec![FieldIssue::new("near", e.to_string())], suggestions: vec![] })
            }
        }
    }

    /// Loosen a plan that found nothing by one step, in the documented order: widen the radius
    /// (a named municipality's 20 km becomes 40 km, then 80 km, …; any radius doubles while it
    /// is under 120 km) → drop the words → add the two nearest 圏域. `None` when nothing is left
    /// to loosen.
    pub fn relax(&self, plan: &mut Plan) -> Option<Relaxation> {
        let g = self.places.gazetteer;
        let req = &mut plan.request;
        if let Some(r) = req.radius
            && r.km() < 120.0
        {
            let wider = RadiusKm::new((r.km() * 2.0).min(RadiusKm::MAX)).ok()?;
            req.radius = Some(wider);
            let around = plan.named_municipality.and_then(|c| g.municipality(c)).map(|m| m.name.clone());
            return Some(Relaxation {
                step: RelaxStep::WidenRadius,
                detail_ja: match &around {
                    Some(name) => {
                        format!("{name}から {} km 以内に広げました（{} km 以内にはありません）", wider.km(), r.km())
                    }
                    None => format!("範囲を {} km から {} km に広げました", r.km(), wider.km()),
                },
                detail_en: match &around {
                    Some(name) => format!("widened to {} km around {name} (nothing within {} km)", wider.km(), r.km()),
                    None => format!("widened the radius from {} km to {} km", r.km(), wider.km()),
                },
            });
        }
        // Dropping the words only makes sense when something else still says what is wanted;
        // otherwise it would return the whole directory.
        let other_conditions = !req.kinds.is_empty()
            || !req.care_types.is_empty()
            || !req.care_any.is_empty()
            || req.point.is_some()
            || req.municipalities.is_some()
            || req.covers.is_some();
        if other_conditions && let Some(text) = req.text.take() {
            return Some(Relaxation {
                step: RelaxStep::DropText,
                detail_ja: format!("「{text}」を条件から外しました"),
                detail_en: format!("dropped the words \"{text}\""),
            });
        }
        if let Some(region) = plan.region.take() {
            let c = g.region_centre(region)?;
            let mut others: Vec<(f64, &Region)> = g
                .regions()
                .iter()
                .filter(|r| r.prefecture_code == region.prefecture_code && r.id != region.id)
                .filter_map(|r| Some((g.region_centre(r)?.distance_km(c), r)))
                .collect();
            others.sort_by(|a, b| a.0.total_cmp(&b.0));
            let near: Vec<&Region> = others.into_iter().take(2).map(|(_, r)| r).collect();
            let mut codes = g.region_codes(region);
            for r in &near {
                codes.extend(g.region_codes(r));
            }
            req.municipalities = Some(codes);
            let names: Vec<String> = near.iter().map(|r| format!("{}圏域", r.name)).collect();
            return Some(Relaxation {
                step: RelaxStep::NeighbouringRegions,
                detail_ja: format!("近くの{}も含めました", names.join("・")),
                detail_en: format!("included the nearby {}", names.join(", ")),
            });
        }
        None
    }

    /// Whether another relaxation may follow these.
    pub fn may_relax(plan: &Plan, found_total: usize, relaxed: usize) -> bool {
        plan.relax && found_total == 0 && plan.request.offset == 0 && relaxed < MAX_RELAXATIONS
    }
}

/// A plan being made: the request so far and what stands in the way.
#[derive(Default)]
struct Draft {
    req: SearchRequest,
    issues: Vec<FieldIssue>,
}

impl Draft {
    fn issue(&mut self, field: &'static str, reason: impl Into<String>) {
        self.issues.push(FieldIssue::new(field, reason));
    }
}

/// Which overridable choices were made explicitly (so the text's reading of them is not applied).
#[derive(Clone, Copy)]
struct Explicit {
    place: bool,
    kinds: bool,
    care: bool,
    transport: bool,
}

/// The area part of a plan.
#[derive(Default)]
struct Area {
    /// The municipalities asked for, as given (for the echo).
    named: Vec<MunicipalityCode>,
    /// Those and their wards.
    codes: Option<BTreeSet<MunicipalityCode>>,
    region: Option<&'static Region>,
    /// The municipality named as the place, when its 20 km rule applies.
    named_municipality: Option<MunicipalityCode>,
}

/// What the text was understood to mean, each phrase marked applied or overridden.
/// What the place hints need: the gazetteer and the query as typed.
struct HintContext<'a> {
    g: &'static tsunagu_places::Gazetteer,
    q: &'a str,
}

fn place_hints(hc: &HintContext<'_>, unknown: Vec<tsunagu_search::UnknownPlace>) -> Vec<PlaceHint> {
    let served = hc.g.prefecture_names_ja().join("・");
    let served_en = hc.g.prefectures().iter().map(|p| p.name_en.as_str()).collect::<Vec<_>>().join(" and ");
    unknown
        .into_iter()
        .map(|u| {
            let suggestions: Vec<PlaceSuggestion> = u
                .suggestions
                .iter()
                .filter_map(|c| hc.g.municipality(*c))
                .map(|m| PlaceSuggestion {
                    code: m.code,
                    name: format!("{}{}", m.prefecture, m.name),
                    name_en: m.name_en.clone(),
                    q: if hc.q.contains(&u.typed) {
                        hc.q.replacen(&u.typed, &m.name, 1)
                    } else {
                        format!("{} {}", hc.q, m.name)
                    },
                })
                .collect();
            let (detail_ja, detail_en) = if u.outside {
                (
                    format!("「{}」は{served}に見つかりません。つなぐが扱うのは{served}の情報だけです。", u.typed),
                    format!("\"{}\" is not in {served_en}: tsunagu covers {served_en} only.", u.typed),
                )
            } else {
                (
                    format!("「{}」という地名は{served}に見つかりません。", u.typed),
                    format!("No place called \"{}\" in {served_en}.", u.typed),
                )
            };
            PlaceHint { typed: u.typed, outside: u.outside, detail_ja, detail_en, suggestions }
        })
        .collect()
}

fn interpretation_of(
    it: Interpretation,
    explicit: Explicit,
    req: &SearchRequest,
    hints: HintContext<'_>,
) -> InterpretationView {
    let recognized: Vec<RecognizedView> = it
        .recognized
        .into_iter()
        .map(|r| {
            let applied = match r.kind {
                ConceptKind::CareType => !explicit.care,
                ConceptKind::CareGroup => {
                    !explicit.care
                        && tsunagu_model::terms::Vocabulary::bundled()
                            .care_group(&r.code)
                            .is_some_and(|g| req.care_any.contains(&g.care))
                }
                ConceptKind::Kind => !explicit.kinds,
                ConceptKind::Place => !explicit.place,
                ConceptKind::Transport => !explicit.transport && req.kinds == [Kind::Transport],
                ConceptKind::Prefecture | ConceptKind::NearMe | ConceptKind::Filler => true,
            };
            RecognizedView { recognized: r, applied }
        })
        .collect();
    let mut view = summarise(recognized, it.near_me, it.remaining_text);
    view.place_hints = place_hints(&hints, it.unknown_places);
    view
}

/// The chips and the one-line summary: 「たん吸引 × 保育所 × 松本市 で検索しました」.
fn summarise(recognized: Vec<RecognizedView>, near_me: bool, remaining_text: String) -> InterpretationView {
    let chips: Vec<&RecognizedView> =
        recognized.iter().filter(|r| r.applied && r.recognized.kind != ConceptKind::NearMe).collect();
    let mut ja: Vec<String> = chips.iter().map(|r| r.recognized.ja.clone()).collect();
    let mut en: Vec<String> = chips.iter().map(|r| r.recognized.en.clone()).collect();
    if !remaining_text.is_empty() {
        ja.push(format!("「{remaining_text}」"));
        en.push(format!("\"{remaining_text}\""));
    }
    InterpretationView {
        summary_ja: if ja.is_empty() { String::new() } else { format!("{} で検索しました", ja.join(" × ")) },
        summary_en: if en.is_empty() { String::new() } else { format!("Searched for {}", en.join(" × ")) },
        recognized,
        near_me,
        remaining_text,
        place_hints: Vec::new(),
    }
}
