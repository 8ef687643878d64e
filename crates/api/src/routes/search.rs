//! `GET /v1/search`: free text, a point with a radius (or nearest first), and filters →
//! ranked results with distances and facet counts.

use std::collections::BTreeSet;

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use tsunagu_model::{CareSet, CareType, Kind, LatLon, MunicipalityCode, RadiusKm, TransportFeature, Weekday};
use tsunagu_places::{Boundaries, GeocodeError, Geocoder, Place, Precision};
use tsunagu_search::{Covers, Listing, MAX_LIMIT, MAX_OFFSET, Recognized, SearchRequest, Sort, understand};

use crate::AppState;
use crate::params::Params;
use crate::problem::{InvalidParam, Problem};
use crate::routes::places::region_param;
use crate::views::{FacetsView, ResourceView};

/// Radius around a municipality named as the place (near=松本市, or 松本 in the text), km.
pub const NAMED_PLACE_RADIUS_KM: f64 = 20.0;

/// Longest free-text query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

pub const PARAMS: &[&str] = &[
    "q",
    "interpret",
    "near",
    "covers",
    "transport",
    "lat",
    "lon",
    "radius_km",
    "kinds",
    "care_types",
    "municipalities",
    "region",
    "has_vacancy",
    "nurse_on",
    "age",
    "include_sample",
    "include_unconfirmed",
    "listing",
    "group_sites",
    "sort",
    "limit",
    "offset",
    "facets",
];

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/search", get(search))
}

/// The request as understood, echoed back so a client can show what was searched.
#[derive(Debug, Serialize)]
pub struct QueryEcho {
    pub q: Option<String>,
    /// The place `near=` resolved to.
    pub near: Option<NearEcho>,
    pub covers: bool,
    pub transport: Vec<TransportFeature>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub radius_km: Option<f64>,
    pub kinds: Vec<Kind>,
    pub care_types: CareSet,
    pub municipalities: Vec<MunicipalityCode>,
    pub region: Option<String>,
    pub has_vacancy: bool,
    pub nurse_on: Option<Weekday>,
    pub age: Option<u8>,
    pub include_sample: bool,
    pub listing: Listing,
    pub group_sites: bool,
}

/// What free text was understood to mean, for chips such as 「たん吸引 × 保育所 × 松本市」.
#[derive(Debug, Serialize)]
pub struct InterpretationView {
    /// Every recognised phrase, in query order; `applied` is false where an explicit parameter
    /// overrode it.
    pub recognized: Vec<RecognizedView>,
    pub near_me: bool,
    /// Text searched as words after the recognised phrases were taken out.
    pub remaining_text: String,
    pub summary_ja: String,
    pub summary_en: String,
}

#[derive(Debug, Serialize)]
pub struct RecognizedView {
    #[serde(flatten)]
    pub recognized: Recognized,
    pub applied: bool,
}

/// One relaxation applied because the search found nothing.
#[derive(Debug, Serialize)]
pub struct Relaxation {
    /// `widen_radius`, `drop_text` or `neighbouring_regions`
    pub step: &'static str,
    pub detail_ja: String,
    pub detail_en: String,
}

#[derive(Debug, Serialize)]
pub struct NearEcho {
    pub text: String,
    pub place: Place,
}

#[derive(Debug, Serialize)]
pub struct ResultItem {
    #[serde(flatten)]
    pub resource: ResourceView,
    /// Great-circle distance from the query point, km (3 decimals).
    pub distance_km: Option<f64>,
    pub score: f32,
    pub matched_care_types: CareSet,
    /// Requested care types whose acceptance is not known (対応未確認).
    pub unconfirmed_care_types: CareSet,
    /// Of the requested care types it can take, those only under conditions (条件つき).
    pub conditional_care_types: CareSet,
    /// Of the requested care types it can take, those only the provider has said (not yet verified).
    pub reported_care_types: CareSet,
    /// What is known of each requested care type, and who said it.
    pub care_answers: Vec<CareAnswerView>,
    /// The other services at this result's site.
    pub site_services: Vec<SiteService>,
    /// Present when some requested care type is not confirmed.
    pub care_notice: Option<CareNotice>,
}

/// What a result says about one requested care type: 「事業所の回答（2027-01-10）・センター確認済み」,
/// 「事業所の回答・未確認」, 「条件つきでできる（要相談）」 or 「対応未確認」.
#[derive(Debug, Serialize)]
pub struct CareAnswerView {
    pub code: CareType,
    /// `confirmed`, `provider_reported`, `conditional` or `unknown`.
    pub state: &'static str,
    pub ja: String,
    pub en: String,
    /// The condition, for `conditional`.
    pub note: Option<String>,
    pub reported_on: Option<chrono::NaiveDate>,
    pub verified_on: Option<chrono::NaiveDate>,
}

impl CareAnswerView {
    pub fn ja_or_en(&self, en: bool) -> &str {
        if en { &self.en } else { &self.ja }
    }

    pub fn of(r: &tsunagu_model::Resource, c: CareType) -> CareAnswerView {
        let st = r.care_statements.get(&c);
        let reported = st.map(|s| s.reported_on);
        let verified = st.and_then(|s| s.verified_on);
        let label = c.labels();
        let (state, ja, en) = if r.care_types_conditional.contains(c) {
            let note = st.and_then(|s| s.note.as_deref()).unwrap_or("");
            (
                "conditional",
                format!("{}：条件つきでできる（要相談）{note}", label.ja),
                format!("{}: possible under conditions (ask) {note}", label.en),
            )
        } else if r.care_types.contains(c) {
            match (st, reported, verified) {
                (Some(s), Some(d), None) if s.unverified() => (
                    "provider_reported",
                    format!("{}：事業所の回答（{d}）・未確認", label.ja),
                    format!("{}: the provider's answer ({d}), not yet verified", label.en),
                ),
                (Some(_), Some(d), Some(v)) => (
                    "confirmed",
                    format!("{}：事業所の回答（{d}）・センター確認済み（{v}）", label.ja),
                    format!("{}: the provider's answer ({d}), verified by the centre ({v})", label.en),
                ),
                _ => ("confirmed", format!("{}：対応可", label.ja), format!("{}: accepted", label.en)),
            }
        } else {
            (
                "unknown",
                format!("{}：対応未確認 — 事前にお問い合わせください", label.ja),
                format!("{}: not confirmed — call first", label.en),
            )
        };
        CareAnswerView {
            code: c,
            state,
            ja: ja.trim_end().to_string(),
            en: en.trim_end().to_string(),
            note: st.and_then(|s| s.note.clone()).filter(|_| state == "conditional"),
            reported_on: reported,
            verified_on: verified,
        }
    }
}

/// Another service at a result's site.
#[derive(Debug, Serialize)]
pub struct SiteService {
    pub id: tsunagu_model::ResourceId,
    pub name: String,
    pub kind: Kind,
    pub kind_label: crate::views::LabelView,
}

/// 「対応未確認 — 事前にお問い合わせください」 for results whose care types are not confirmed.
#[derive(Debug, Serialize)]
pub struct CareNotice {
    pub ja: String,
    pub en: String,
}

impl CareNotice {
    fn of(unconfirmed: CareSet) -> Option<CareNotice> {
        if unconfirmed.is_empty() {
            return None;
        }
        let ja: Vec<&str> = unconfirmed.iter().map(|c| c.labels().ja).collect();
        let en: Vec<&str> = unconfirmed.iter().map(|c| c.labels().en).collect();
        Some(CareNotice {
            ja: format!("対応未確認 — 事前にお問い合わせください（{}）", ja.join("、")),
            en: format!("not confirmed — call first ({})", en.join(", ")),
        })
    }
}

#[derive(Debug, Serialize)]
pub struct SearchResponse {
    pub query: QueryEcho,
    pub interpretation: Option<InterpretationView>,
    /// What was relaxed, in order, when the search as asked found nothing.
    pub relaxed: Vec<Relaxation>,
    pub total: usize,
    /// Of `total`, results confirming every requested care type; they come first.
    pub confirmed_total: usize,
    /// Of `total`, results that can take every requested care type by the provider's own word or
    /// under conditions; they follow the confirmed ones.
    pub reported_total: usize,
    /// Matches folded into another result of their site.
    pub collapsed: usize,
    pub offset: usize,
    pub limit: usize,
    pub next_offset: Option<usize>,
    pub sort: Sort,
    pub results: Vec<ResultItem>,
    pub facets: Option<FacetsView>,
}

fn list<T: std::str::FromStr<Err = tsunagu_model::UnknownTerm>>(p: &mut Params, name: &str) -> Vec<T> {
    let mut out = Vec::new();
    for (_, v) in p.list(&[name]) {
        match v.parse::<T>() {
            Ok(t) => out.push(t),
            Err(e) => {
                let mut reason = format!("unknown {} `{}`", e.vocabulary, e.given);
                if let Some(s) = &e.suggestion {
                    reason.push_str(&format!("; did you mean `{s}`?"));
                }
                p.error(InvalidParam::param(name, reason).with_allowed(e.allowed.iter().copied()));
            }
        }
    }
    out
}

/// What the handler may relax when a search finds nothing.
struct Relaxable {
    /// The municipality filter came from a named municipality (near= or the text).
    named_municipality: Option<MunicipalityCode>,
    region: Option<&'static tsunagu_places::Region>,
}

/// Parse and validate every parameter, collecting all problems; understand `q` unless
/// `interpret=false`. Explicit parameters override what the text was understood to mean.
fn parse(
    s: &AppState,
    raw: Option<&str>,
) -> Result<(SearchRequest, QueryEcho, Option<InterpretationView>, Relaxable), Problem> {
    let g = s.gazetteer;
    let mut p = Params::parse(raw, PARAMS)?;
    let mut req = SearchRequest::default();

    let q = p.one("q").map(|q| q.trim().to_string()).filter(|q| !q.is_empty());
    if let Some(q) = &q
        && q.chars().count() > MAX_QUERY_CHARS
    {
        p.error(InvalidParam::param("q", format!("is longer than {MAX_QUERY_CHARS} characters")));
    }
    let interpret = p.bool("interpret").unwrap_or(true);
    let it = q.as_deref().filter(|_| interpret).map(understand);
    req.text = match &it {
        Some(it) => Some(it.remaining_text.clone()).filter(|t| !t.is_empty()),
        None => q.clone(),
    };

    let near_text = p.one("near").map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    let near = match &near_text {
        Some(t) => Some(resolve_near(t)?),
        None => None,
    };

    let lat: Option<f64> = p.parsed("lat", "is not a number");
    let lon: Option<f64> = p.parsed("lon", "is not a number");
    if near.is_some() && (lat.is_some() || lon.is_some()) {
        p.error(InvalidParam::param("near", "give either near or lat and lon, not both"));
    }
    match (lat, lon) {
        (Some(a), Some(o)) => match LatLon::new(a, o) {
            Ok(pt) => req.point = Some(pt),
            Err(e) => p.error(InvalidParam::param(e.field, e.reason)),
        },
        (Some(_), None) => p.error(InvalidParam::param("lon", "is required with lat")),
        (None, Some(_)) => p.error(InvalidParam::param("lat", "is required with lon")),
        (None, None) => {}
    }
    // The place: explicit near=, else explicit lat/lon, else one named in the text.
    let explicit_point = near.is_some() || lat.is_some() || lon.is_some();
    let text_place = if explicit_point { None } else { it.as_ref().and_then(|i| i.place.clone()) };
    let place = near.clone().or(text_place.clone());
    if let Some(pl) = &place {
        req.point = Some(pl.point);
    }
    let radius: Option<f64> = p.parsed("radius_km", "is not a number");
    if let Some(r) = radius {
        match RadiusKm::new(r) {
            Ok(r) => req.radius = Some(r),
            Err(e) => p.error(InvalidParam::param("radius_km", e.reason)),
        }
        if req.point.is_none() && lat.is_none() && lon.is_none() {
            p.error(InvalidParam::param("radius_km", "needs a point: give near, or lat and lon"));
        }
    }

    let kinds = list::<Kind>(&mut p, "kinds");
    let care: CareSet = list::<CareType>(&mut p, "care_types").into_iter().collect();
    let explicit_kinds = !p.list(&["kinds"]).is_empty();
    let explicit_care = !p.list(&["care_types"]).is_empty();
    req.kinds = if explicit_kinds { kinds } else { it.as_ref().map(|i| i.kinds.clone()).unwrap_or_default() };
    req.care_types = if explicit_care {
        care
    } else {
        it.as_ref().map(|i| i.care_types.iter().copied().collect()).unwrap_or_default()
    };

    let covers = p.bool("covers").unwrap_or(false);
    let mut munis: Option<BTreeSet<MunicipalityCode>> = None;
    let mut echo_munis = Vec::new();
    let codes = p.list(&["municipalities"]);
    if !codes.is_empty() {
        let mut set = BTreeSet::new();
        for (_, v) in codes {
            match v.parse::<MunicipalityCode>() {
                Ok(c) if g.municipality(c).is_some() => {
                    echo_munis.push(c);
                    set.extend(g.expand(c));
                }
                Ok(c) => p.error(InvalidParam::param(
                    "municipalities",
                    format!("{c} is not a municipality tsunagu has data for (長野県・埼玉県)"),
                )),
                Err(e) => p.error(InvalidParam::param("municipalities", e.reason)),
            }
        }
        munis = Some(set);
    }
    let mut region = region_param(g, &mut p);
    let mut named_municipality = None;
    if let Some(pl) = &place {
        match pl.precision {
            // A 圏域 given as the place means "in this region", measured from its middle.
            Precision::Region => {
                if covers {
                    p.error(InvalidParam::param(
                        "covers",
                        "needs an address, postal code or municipality as near, not a region",
                    ));
                }
                if region.is_none() {
                    region = pl.region_id.as_deref().and_then(|id| g.region(id));
                }
            }
            // A municipality named as the place means "in or near it": within 20 km of its office
            // unless a radius was given (widened when nothing is there); a family near a border
            // is served from the next town too. "Who comes to me" keeps its own rule.
            Precision::Municipality if !covers && munis.is_none() && req.radius.is_none() => {
                named_municipality = pl.municipality_code;
                req.radius = RadiusKm::new(NAMED_PLACE_RADIUS_KM).ok();
            }
            _ => {}
        }
    }
    if munis.is_none()
        && region.is_none()
        && let Some(pref) = it.as_ref().and_then(|i| i.prefecture)
    {
        munis = Some(g.municipalities().iter().filter(|m| m.prefecture_code == pref).map(|m| m.code).collect());
    }
    if let Some(r) = region {
        let in_region: BTreeSet<_> = g.region_codes(r).into_iter().collect();
        munis = Some(match munis {
            Some(m) => m.intersection(&in_region).copied().collect(),
            None => in_region,
        });
    }
    req.municipalities = munis.map(|m| m.into_iter().collect());

    if covers {
        match req.point {
            Some(point) => {
                let municipality = match &place {
                    Some(pl) => pl.municipality_code,
                    None => Boundaries::bundled().locate(point).map(|l| l.municipality),
                };
                req.covers = Some(Covers { point, municipality });
            }
            None => p.error(InvalidParam::param("covers", "needs a place: give near, or lat and lon")),
        }
    }
    req.transport = list::<TransportFeature>(&mut p, "transport");
    let explicit_transport = !p.list(&["transport"]).is_empty();
    // Features named in the text narrow a search for transport (and only that).
    if !explicit_transport
        && let Some(i) = &it
        && !i.transport.is_empty()
        && req.kinds == [Kind::Transport]
    {
        req.transport = i.transport.clone();
    }

    req.has_vacancy = p.bool("has_vacancy").unwrap_or(false);
    if let Some(d) = p.one("nurse_on") {
        match d.parse::<Weekday>() {
            Ok(d) => req.nurse_on = Some(d),
            Err(e) => p.error(
                InvalidParam::param("nurse_on", format!("unknown weekday `{}`", e.given))
                    .with_allowed(e.allowed.iter().copied()),
            ),
        }
    }
    if let Some(age) = p.parsed::<u8>("age", "is not an age in years (0–40)") {
        if age > 40 {
            p.error(InvalidParam::param("age", "must be at most 40"));
        }
        req.age = Some(age);
    }
    let include_sample = p.bool("include_sample").unwrap_or(true);
    req.include_sample = include_sample && s.config.serve_sample_data;
    req.include_unconfirmed = p.bool("include_unconfirmed").unwrap_or(true);
    if let Some(l) = p.one("listing") {
        req.listing = match l.trim() {
            "listed" => Listing::Listed,
            "all" => Listing::All,
            "delisted" => Listing::Delisted,
            other => {
                p.error(
                    InvalidParam::param(
                        "listing",
                        format!("unknown listing `{}`", tsunagu_model::codes::truncate(other, 20)),
                    )
                    .with_allowed(["listed", "all", "delisted"]),
                );
                Listing::Listed
            }
        };
    }
    let group_sites = p.bool("group_sites").unwrap_or(true);
    if let Some(sort) = p.one("sort") {
        req.sort = match sort.trim() {
            "relevance" => Some(Sort::Relevance),
            "distance" => Some(Sort::Distance),
            "name" => Some(Sort::Name),
            other => {
                p.error(
                    InvalidParam::param(
                        "sort",
                        format!("unknown sort `{}`", tsunagu_model::codes::truncate(other, 20)),
                    )
                    .with_allowed(["relevance", "distance", "name"]),
                );
                None
            }
        };
        if req.sort == Some(Sort::Distance) && req.point.is_none() && lat.is_none() {
            p.error(InvalidParam::param("sort", "sorting by distance needs a point: give near, or lat and lon"));
        }
    }
    if let Some(limit) = p.parsed::<usize>("limit", &format!("is not a whole number from 1 to {MAX_LIMIT}")) {
        if !(1..=MAX_LIMIT).contains(&limit) {
            p.error(InvalidParam::param("limit", format!("must be from 1 to {MAX_LIMIT}")));
        }
        req.limit = limit;
    }
    if let Some(offset) = p.parsed::<usize>("offset", &format!("is not a whole number from 0 to {MAX_OFFSET}")) {
        if offset > MAX_OFFSET {
            p.error(InvalidParam::param(
                "offset",
                format!("must be at most {MAX_OFFSET}; narrow the search instead of paging further"),
            ));
        }
        req.offset = offset;
    }
    req.facets = p.bool("facets").unwrap_or(true);
    // One card per site, unless the family asked for one kind of service.
    req.collapse_sites = group_sites && req.kinds.len() != 1;
    p.finish()?;

    let interpretation = it.map(|it| {
        let recognized: Vec<RecognizedView> = it
            .recognized
            .into_iter()
            .map(|r| {
                let applied = match r.kind {
                    "care_type" => !explicit_care,
                    "kind" => !explicit_kinds,
                    "place" => !explicit_point,
                    "transport" => !explicit_transport && req.kinds == [Kind::Transport],
                    _ => true,
                };
                RecognizedView { recognized: r, applied }
            })
            .collect();
        let chips: Vec<&RecognizedView> =
            recognized.iter().filter(|r| r.applied && r.recognized.kind != "near_me").collect();
        let mut ja: Vec<String> = chips.iter().map(|r| r.recognized.ja.clone()).collect();
        let mut en: Vec<String> = chips.iter().map(|r| r.recognized.en.clone()).collect();
        if !it.remaining_text.is_empty() {
            ja.push(format!("「{}」", it.remaining_text));
            en.push(format!("\"{}\"", it.remaining_text));
        }
        InterpretationView {
            summary_ja: if ja.is_empty() {
                String::new()
            } else {
                format!("{} で検索しました", ja.join(" × "))
            },
            summary_en: if en.is_empty() { String::new() } else { format!("Searched for {}", en.join(" × ")) },
            recognized,
            near_me: it.near_me,
            remaining_text: it.remaining_text,
        }
    });
    let echo = QueryEcho {
        q,
        near: near_text.zip(near).map(|(text, place)| NearEcho { text, place }),
        covers,
        transport: req.transport.clone(),
        lat: req.point.map(|p| p.lat()),
        lon: req.point.map(|p| p.lon()),
        radius_km: req.radius.map(|r| r.km()),
        kinds: req.kinds.clone(),
        care_types: req.care_types,
        municipalities: echo_munis,
        region: region.map(|r| r.id.clone()),
        has_vacancy: req.has_vacancy,
        nurse_on: req.nurse_on,
        age: req.age,
        include_sample: req.include_sample,
        listing: req.listing,
        group_sites: req.collapse_sites,
    };
    Ok((req, echo, interpretation, Relaxable { named_municipality, region }))
}

/// The next looser request, in the documented order: widen the radius (or turn a named
/// municipality into 15 km, then 30 km around it) → drop the words → add neighbouring 圏域.
fn relax(g: &'static tsunagu_places::Gazetteer, req: &mut SearchRequest, ctx: &mut Relaxable) -> Option<Relaxation> {
    if let Some(r) = req.radius
        && r.km() < 120.0
    {
        let wider = RadiusKm::new((r.km() * 2.0).min(RadiusKm::MAX)).ok()?;
        req.radius = Some(wider);
        let around = ctx.named_municipality.and_then(|c| g.municipality(c)).map(|m| m.name.clone());
        return Some(Relaxation {
            step: "widen_radius",
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
        || req.point.is_some()
        || req.municipalities.is_some()
        || req.covers.is_some();
    if other_conditions && let Some(text) = req.text.take() {
        return Some(Relaxation {
            step: "drop_text",
            detail_ja: format!("「{text}」を条件から外しました"),
            detail_en: format!("dropped the words \"{text}\""),
        });
    }
    if let Some(region) = ctx.region.take() {
        let c = g.region_centre(region)?;
        let mut others: Vec<(f64, &tsunagu_places::Region)> = g
            .regions()
            .iter()
            .filter(|r| r.prefecture_code == region.prefecture_code && r.id != region.id)
            .filter_map(|r| Some((g.region_centre(r)?.distance_km(c), r)))
            .collect();
        others.sort_by(|a, b| a.0.total_cmp(&b.0));
        let near: Vec<&tsunagu_places::Region> = others.into_iter().take(2).map(|(_, r)| r).collect();
        let mut codes = g.region_codes(region);
        for r in &near {
            codes.extend(g.region_codes(r));
        }
        req.municipalities = Some(codes);
        let names: Vec<String> = near.iter().map(|r| format!("{}圏域", r.name)).collect();
        return Some(Relaxation {
            step: "neighbouring_regions",
            detail_ja: format!("近くの{}も含めました", names.join("・")),
            detail_en: format!("included the nearby {}", names.join(", ")),
        });
    }
    None
}

/// Resolve `near=` to one place: unknown → 404 with suggestions; several places in different
/// municipalities → 400 listing them. Never a silent guess.
fn resolve_near(text: &str) -> Result<Place, Problem> {
    match Geocoder::bundled().geocode(text) {
        Ok(g) => {
            let settled = g
                .alternatives
                .iter()
                .all(|a| a.municipality_code == g.place.municipality_code && a.region_id == g.place.region_id);
            if settled {
                Ok(g.place)
            } else {
                let mut problem = Problem::invalid(vec![InvalidParam::param(
                    "near",
                    format!(
                        "`{}` matches {} places; add the municipality",
                        tsunagu_model::codes::truncate(text, 40),
                        g.alternatives.len() + 1
                    ),
                )]);
                problem.suggestions =
                    std::iter::once(&g.place).chain(&g.alternatives).map(|p| p.name.clone()).take(20).collect();
                Err(problem)
            }
        }
        Err(GeocodeError::NotFound { suggestions, .. }) => {
            let mut problem = Problem::unknown_place(text, suggestions);
            problem.invalid = vec![InvalidParam::param("near", "unknown place")];
            Err(problem)
        }
        Err(e) => Err(Problem::invalid(vec![InvalidParam::param("near", e.to_string())])),
    }
}

async fn search(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Result<Json<SearchResponse>, Problem> {
    execute(&s, raw.as_deref()).await.map(Json)
}

/// Run a search given its query string, as `GET /v1/search` does (the page uses it too).
pub async fn execute(s: &AppState, raw: Option<&str>) -> Result<SearchResponse, Problem> {
    let (mut req, echo, interpretation, mut ctx) = parse(s, raw)?;
    let mut relaxed = Vec::new();
    let found = loop {
        let index = s.directory.index.clone();
        let attempt = req.clone();
        let found = tokio::task::spawn_blocking(move || index.search(&attempt))
            .await
            .map_err(|e| Problem::internal(format!("search task: {e}")))??;
        // Relax only a search that found nothing at all, at most a few steps.
        if found.total > 0 || req.offset > 0 || relaxed.len() >= 5 {
            break found;
        }
        match relax(s.gazetteer, &mut req, &mut ctx) {
            Some(step) => relaxed.push(step),
            None => break found,
        }
    };
    let ids: Vec<_> = found.hits.iter().map(|h| h.id).collect();
    let mut resources = s.directory.store.get_many(&ids).await?.into_iter();
    // The other services at each result's site, read in one go.
    let mut mate_ids: Vec<_> = found.hits.iter().flat_map(|h| h.site_mates.iter().copied()).collect();
    mate_ids.sort();
    mate_ids.dedup();
    let mates: std::collections::HashMap<_, _> =
        s.directory.store.get_many(&mate_ids).await?.into_iter().map(|r| (r.id, r)).collect();
    let mut results = Vec::with_capacity(found.hits.len());
    // get_many keeps the order asked and leaves out records deleted since the index saw them.
    let mut next = resources.next();
    for hit in &found.hits {
        if let Some(r) = next.take_if(|r| r.id == hit.id) {
            let care_answers = req.care_types.iter().map(|c| CareAnswerView::of(&r, c)).collect();
            results.push(ResultItem {
                conditional_care_types: hit.conditional_care_types,
                reported_care_types: hit.reported_care_types,
                care_answers,
                resource: ResourceView::of(s.gazetteer, r, &s.config),
                distance_km: hit.distance_km.map(|d| (d * 1000.0).round() / 1000.0),
                score: hit.score,
                matched_care_types: hit.matched_care_types,
                unconfirmed_care_types: hit.unconfirmed_care_types,
                care_notice: CareNotice::of(hit.unconfirmed_care_types),
                site_services: hit
                    .site_mates
                    .iter()
                    .filter_map(|id| mates.get(id))
                    .filter(|m| s.config.serves(m))
                    .map(|m| SiteService {
                        id: m.id,
                        name: m.name.clone(),
                        kind: m.kind,
                        kind_label: m.kind.labels().into(),
                    })
                    .collect(),
            });
            next = resources.next();
        }
    }
    let end = req.offset + req.limit;
    Ok(SearchResponse {
        query: echo,
        interpretation,
        relaxed,
        total: found.total,
        confirmed_total: found.confirmed_total,
        reported_total: found.reported_total,
        collapsed: found.collapsed,
        offset: req.offset,
        limit: req.limit,
        next_offset: (end < found.total && end <= MAX_OFFSET).then_some(end),
        sort: found.sort,
        results,
        facets: found.facets.as_ref().map(|f| FacetsView::of(s.gazetteer, f)),
    })
}
