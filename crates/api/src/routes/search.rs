//! `GET /v1/search`: free text, a point with a radius (or nearest first), and filters →
//! ranked results with distances and facet counts.

//!
//! The handler only translates: parameters → a [`SearchIntent`] (syntax: types, vocabularies,
//! ranges), the directory plans and runs it (`tsunagu_directory::plan`), and the answer becomes
//! a [`SearchResponse`].

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use tsunagu_directory::plan::{FieldIssue, InterpretationView, QueryEcho, Relaxation};
use tsunagu_directory::{Answer, FindError, PlaceAsked, PlanError, SearchIntent};
use tsunagu_model::{Accessibility, CareSet, CareType, Kind, MunicipalityCode, RadiusKm, TransportFeature, Weekday};
use tsunagu_search::{Listing, MAX_LIMIT, MAX_OFFSET, Sort};

use crate::AppState;
use crate::params::Params;
use crate::problem::{InvalidParam, Problem};
use crate::views::{FacetsView, ResourceView};

pub const PARAMS: &[&str] = &[
    "q",
    "interpret",
    "near",
    "covers",
    "transport",
    "accessibility",
    "lat",
    "lon",
    "radius_km",
    "kinds",
    "care_types",
    "care_any",
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
    /// When nothing was found: each condition that, taken away on its own, leaves results, with
    /// how many (most first).
    pub without: Vec<tsunagu_directory::loosen::Without>,
    /// When care was asked near a place and none of the results confirms it: the nearest that
    /// do, however far («確認済みの最寄り: 38 km»); `results` stay the matches nearby.
    pub confirmed_further: Option<FurtherView>,
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
    /// Emergencies in force where the search is about (its place, point, municipalities or
    /// 圏域): an outage or a disaster the centre has declared.
    pub emergencies: Vec<serde_json::Value>,
}

/// The nearest results that confirm the care asked, beyond the area searched.
#[derive(Debug, Serialize)]
pub struct FurtherView {
    /// How many confirm it anywhere.
    pub total: usize,
    pub nearest_km: Option<f64>,
    pub detail_ja: String,
    pub detail_en: String,
    pub results: Vec<ResultItem>,
}

pub(crate) fn list<T: std::str::FromStr<Err = tsunagu_model::UnknownTerm>>(p: &mut Params, name: &str) -> Vec<T> {
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

/// `care_any=`: each value an umbrella word's code (`tube_feeding`, `suction`, `any_care`) or care
/// types joined by `|` (`tube_feeding_nasal|gastrostomy`): any one of them will do.
fn care_groups(p: &mut Params) -> Vec<CareSet> {
    let vocabulary = tsunagu_model::terms::Vocabulary::bundled();
    let mut out = Vec::new();
    for (_, v) in p.list(&["care_any"]) {
        if let Some(g) = vocabulary.care_group(&v) {
            out.push(g.care);
            continue;
        }
        let mut set = CareSet::EMPTY;
        for part in v.split('|').map(str::trim).filter(|s| !s.is_empty()) {
            match part.parse::<CareType>() {
                Ok(c) => set.insert(c),
                Err(e) => {
                    let groups: Vec<&str> = vocabulary.care_groups.iter().map(|g| g.code.as_str()).collect();
                    let mut allowed: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
                    allowed.extend(e.allowed.iter().map(|a| a.to_string()));
                    let suggestion = tsunagu_model::error::suggest(part, &groups).or(e.suggestion.as_deref());
                    let reason = format!(
                        "`{}` is neither an umbrella word ({}) nor a care type{}",
                        tsunagu_model::codes::truncate(part, 40),
                        groups.join(", "),
                        suggestion.map(|s| format!("; did you mean `{s}`?")).unwrap_or_default()
                    );
                    p.error(InvalidParam::param("care_any", reason).with_allowed(allowed));
                }
            }
        }
        if !set.is_empty() {
            out.push(set);
        }
    }
    out
}

/// Read the search parameters into an intent, recording every syntax error in `p`: a value
/// that does not parse is left out of the intent (and reported), so planning can still report
/// what does not fit together.
pub fn intent_of(p: &mut Params, serve_sample_data: bool) -> SearchIntent {
    let mut intent =
        SearchIntent { q: p.one("q"), interpret: p.bool("interpret").unwrap_or(true), ..SearchIntent::default() };

    let near = p.one("near").map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    if near.is_some() && (p.has("lat") || p.has("lon")) {
        p.error(InvalidParam::param("near", "give either near or lat and lon, not both"));
    }
    let point = p.point();
    intent.place = near.map(PlaceAsked::Named).or(point.map(PlaceAsked::Point));
    if let Some(r) = p.parsed::<f64>("radius_km", "is not a number") {
        match RadiusKm::new(r) {
            Ok(r) => intent.radius = Some(r),
            Err(e) => p.error(InvalidParam::param("radius_km", e.reason)),
        }
    }
    if !p.list(&["kinds"]).is_empty() {
        intent.kinds = Some(list::<Kind>(p, "kinds"));
    }
    if !p.list(&["care_types"]).is_empty() {
        intent.care_types = Some(list::<CareType>(p, "care_types").into_iter().collect());
    }
    if !p.list(&["care_any"]).is_empty() {
        intent.care_any = Some(care_groups(p));
    }
    if !p.list(&["transport"]).is_empty() {
        intent.transport = Some(list::<TransportFeature>(p, "transport"));
    }
    intent.accessibility = list::<Accessibility>(p, "accessibility");
    for (_, v) in p.list(&["municipalities"]) {
        match v.parse::<MunicipalityCode>() {
            Ok(c) => intent.municipalities.push(c),
            Err(e) => p.error(InvalidParam::param("municipalities", e.reason)),
        }
    }
    intent.region = p.one("region").filter(|r| !r.trim().is_empty());
    intent.covers = p.bool("covers").unwrap_or(false);
    intent.has_vacancy = p.bool("has_vacancy").unwrap_or(false);
    if let Some(d) = p.one("nurse_on") {
        match d.parse::<Weekday>() {
            Ok(d) => intent.nurse_on = Some(d),
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
        intent.age = Some(age);
    }
    intent.include_sample = p.bool("include_sample").unwrap_or(true) && serve_sample_data;
    intent.include_unconfirmed = p.bool("include_unconfirmed").unwrap_or(true);
    if let Some(l) = p.one("listing") {
        intent.listing = match l.trim() {
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
    intent.group_sites = p.bool("group_sites").unwrap_or(true);
    if let Some(sort) = p.one("sort") {
        intent.sort = match sort.trim() {
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
    }
    if let Some(limit) = p.parsed::<usize>("limit", &format!("is not a whole number from 1 to {MAX_LIMIT}")) {
        if !(1..=MAX_LIMIT).contains(&limit) {
            p.error(InvalidParam::param("limit", format!("must be from 1 to {MAX_LIMIT}")));
        }
        intent.limit = limit.clamp(1, MAX_LIMIT);
    }
    if let Some(offset) = p.parsed::<usize>("offset", &format!("is not a whole number from 0 to {MAX_OFFSET}")) {
        if offset > MAX_OFFSET {
            p.error(InvalidParam::param(
                "offset",
                format!("must be at most {MAX_OFFSET}; narrow the search instead of paging further"),
            ));
        }
        intent.offset = offset.min(MAX_OFFSET);
    }
    intent.facets = p.bool("facets").unwrap_or(true);
    intent
}

fn issue(i: FieldIssue) -> InvalidParam {
    InvalidParam::param(i.field, i.reason).with_allowed(i.allowed)
}

/// A search that could not be run, as a problem: the parameters' syntax errors and the plan's
/// issues together; an unknown place is a 404 of its own.
pub fn problem_of(g: &tsunagu_places::Gazetteer, syntax: Vec<InvalidParam>, e: FindError) -> Problem {
    match e {
        FindError::Plan(PlanError::UnknownPlace { text, suggestions }) => {
            let mut problem = Problem::unknown_place(&text, suggestions, g);
            problem.invalid = vec![InvalidParam::param("near", "unknown place")];
            problem
        }
        FindError::Plan(PlanError::Invalid { issues, suggestions }) => {
            let mut problem = Problem::invalid(syntax.into_iter().chain(issues.into_iter().map(issue)).collect());
            problem.suggestions = suggestions;
            problem
        }
        FindError::Directory(e) => Problem::from(e),
    }
}

async fn search(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Result<Json<SearchResponse>, Problem> {
    let mut p = Params::parse(raw.as_deref(), PARAMS)?;
    let intent = intent_of(&mut p, s.config.serve_sample_data);
    find(&s, p, intent).await.map(Json)
}

/// Plan and run an intent read from `p`; `p`'s syntax errors, if any, are reported with the
/// plan's (the page uses this too).
pub async fn find(s: &AppState, p: Params, intent: SearchIntent) -> Result<SearchResponse, Problem> {
    if !p.errors.is_empty() {
        // Plan only, to report what else does not fit; a bad request runs no search.
        return Err(match s.planner.plan(intent) {
            Err(e) => problem_of(s.gazetteer, p.errors, FindError::Plan(e)),
            Ok(_) => Problem::invalid(p.errors),
        });
    }
    let answer = s.directory.find(&s.planner, intent).await.map_err(|e| problem_of(s.gazetteer, Vec::new(), e))?;
    let mut r = response(s, answer);
    r.emergencies = emergencies_for(s, &r.query).await;
    Ok(r)
}

/// The municipality a search was about: its `near` place's, else the one its point lies in.
pub fn place_municipality(
    s: &AppState,
    q: &tsunagu_directory::plan::QueryEcho,
) -> Option<tsunagu_model::MunicipalityCode> {
    q.near.as_ref().and_then(|n| n.place.municipality_code).or_else(|| {
        let pt = tsunagu_model::LatLon::new(q.lat?, q.lon?).ok()?;
        s.planner.places().boundaries.locate(pt).map(|l| l.municipality)
    })
}

/// The municipalities a search is about: its place's, its point's, or those it filters by.
pub fn searched_municipalities(
    s: &AppState,
    q: &tsunagu_directory::plan::QueryEcho,
) -> Vec<tsunagu_model::MunicipalityCode> {
    let g = s.gazetteer;
    if let Some(code) = place_municipality(s, q) {
        return vec![code];
    }
    let mut codes: Vec<_> = q.municipalities.iter().flat_map(|c| g.expand(*c)).collect();
    if let Some(r) = q.region.as_deref().and_then(|id| g.region_by_name(id)) {
        codes.extend(g.region_codes(r).into_iter().flat_map(|c| g.expand(c)));
    }
    codes
}

/// The emergencies in force where a search is about.
async fn emergencies_for(s: &AppState, q: &tsunagu_directory::plan::QueryEcho) -> Vec<serde_json::Value> {
    let codes = searched_municipalities(s, q);
    if codes.is_empty() {
        return Vec::new();
    }
    let now = chrono::Utc::now();
    crate::routes::emergencies::in_force(s, &codes, now)
        .await
        .iter()
        .map(|e| crate::routes::emergencies::view(s, e, now))
        .collect()
}

/// One result as the API shows it.
fn item(
    s: &AppState,
    req: &tsunagu_search::SearchRequest,
    site_mates: &std::collections::HashMap<tsunagu_model::ResourceId, tsunagu_model::Resource>,
    hit: tsunagu_search::Hit,
    r: tsunagu_model::Resource,
) -> ResultItem {
    ResultItem {
        conditional_care_types: hit.conditional_care_types,
        reported_care_types: hit.reported_care_types,
        care_answers: req
            .care_types
            .union(hit.matched_care_types)
            .union(hit.unconfirmed_care_types)
            .iter()
            .map(|c| CareAnswerView::of(&r, c))
            .collect(),
        site_services: hit
            .site_mates
            .iter()
            .filter_map(|id| site_mates.get(id))
            .filter(|m| s.config.serves(m))
            .map(|m| SiteService { id: m.id, name: m.name.clone(), kind: m.kind, kind_label: m.kind.labels().into() })
            .collect(),
        resource: ResourceView::of(s.gazetteer, r, &s.config),
        distance_km: hit.distance_km.map(|d| (d * 1000.0).round() / 1000.0),
        score: hit.score,
        matched_care_types: hit.matched_care_types,
        unconfirmed_care_types: hit.unconfirmed_care_types,
        care_notice: CareNotice::of(hit.unconfirmed_care_types),
    }
}

/// The answer as the API shows it.
fn response(s: &AppState, answer: Answer) -> SearchResponse {
    let Answer { request: req, echo, interpretation, relaxed, without, found, records, site_mates, confirmed_further } =
        answer;
    let results = records.into_iter().map(|(hit, r)| item(s, &req, &site_mates, hit, r)).collect();
    let no_mates = std::collections::HashMap::new();
    let confirmed_further = confirmed_further.map(|f| FurtherView {
        total: f.total,
        nearest_km: f.nearest_km,
        detail_ja: f.detail_ja,
        detail_en: f.detail_en,
        results: f.records.into_iter().map(|(hit, r)| item(s, &req, &no_mates, hit, r)).collect(),
    });
    let end = req.offset + req.limit;
    SearchResponse {
        query: echo,
        interpretation,
        relaxed,
        without,
        confirmed_further,
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
        emergencies: Vec::new(),
    }
}
