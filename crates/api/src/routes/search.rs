//! `GET /v1/search`: free text, a point with a radius (or nearest first), and filters →
//! ranked results with distances and facet counts.

use std::collections::BTreeSet;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use tsunagu_model::{CareSet, CareType, Kind, LatLon, MunicipalityCode, RadiusKm, TransportFeature, Weekday};
use tsunagu_places::{Boundaries, GeocodeError, Geocoder, Place, Precision};
use tsunagu_search::{Covers, MAX_LIMIT, MAX_OFFSET, SearchRequest, Sort};

use crate::AppState;
use crate::params::Params;
use crate::problem::{InvalidParam, Problem};
use crate::routes::places::region_param;
use crate::views::{FacetsView, ResourceView};

/// Longest free-text query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

pub const PARAMS: &[&str] = &[
    "q",
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
}

#[derive(Debug, Serialize)]
pub struct SearchResponse {
    pub query: QueryEcho,
    pub total: usize,
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

/// Parse and validate every parameter, collecting all problems.
fn parse(s: &AppState, raw: Option<&str>) -> Result<(SearchRequest, QueryEcho), Problem> {
    let g = s.gazetteer;
    let mut p = Params::parse(raw, PARAMS)?;
    let mut req = SearchRequest::default();

    let q = p.one("q").map(|q| q.trim().to_string()).filter(|q| !q.is_empty());
    if let Some(q) = &q
        && q.chars().count() > MAX_QUERY_CHARS
    {
        p.error(InvalidParam::param("q", format!("is longer than {MAX_QUERY_CHARS} characters")));
    }
    req.text = q.clone();

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
    if let Some(place) = &near {
        req.point = Some(place.point);
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

    req.kinds = list::<Kind>(&mut p, "kinds");
    req.care_types = list::<CareType>(&mut p, "care_types").into_iter().collect();

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
    let covers = p.bool("covers").unwrap_or(false);
    let mut region = region_param(g, &mut p);
    // A 圏域 given as the place means "in this region", measured from its middle.
    if let Some(place) = near.as_ref().filter(|pl| pl.precision == Precision::Region) {
        if covers {
            p.error(InvalidParam::param(
                "covers",
                "needs an address, postal code or municipality as near, not a region",
            ));
        }
        if region.is_none() {
            region = place.region_id.as_deref().and_then(|id| g.region(id));
        }
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
                let municipality = match &near {
                    Some(place) => place.municipality_code,
                    None => Boundaries::bundled().locate(point).map(|l| l.municipality),
                };
                req.covers = Some(Covers { point, municipality });
            }
            None => p.error(InvalidParam::param("covers", "needs a place: give near, or lat and lon")),
        }
    }
    req.transport = list::<TransportFeature>(&mut p, "transport");

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
    p.finish()?;

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
    };
    Ok((req, echo))
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
            let mut problem = Problem::new(
                StatusCode::NOT_FOUND,
                "/problems/unknown-place",
                "Unknown place",
                format!(
                    "no known place matches `{}` (tsunagu knows 長野県 and 埼玉県)",
                    tsunagu_model::codes::truncate(text, 40)
                ),
            );
            problem.invalid = vec![InvalidParam::param("near", "unknown place")];
            problem.suggestions = suggestions;
            Err(problem)
        }
        Err(e) => Err(Problem::invalid(vec![InvalidParam::param("near", e.to_string())])),
    }
}

async fn search(State(s): State<AppState>, RawQuery(raw): RawQuery) -> Result<Json<SearchResponse>, Problem> {
    let (req, echo) = parse(&s, raw.as_deref())?;
    let index = s.directory.index.clone();
    let req2 = req.clone();
    let found = tokio::task::spawn_blocking(move || index.search(&req2))
        .await
        .map_err(|e| Problem::internal(format!("search task: {e}")))??;
    let ids: Vec<_> = found.hits.iter().map(|h| h.id).collect();
    let mut resources = s.directory.store.get_many(&ids).await?.into_iter();
    let mut results = Vec::with_capacity(found.hits.len());
    // get_many keeps the order asked and leaves out records deleted since the index saw them.
    let mut next = resources.next();
    for hit in &found.hits {
        if let Some(r) = next.take_if(|r| r.id == hit.id) {
            results.push(ResultItem {
                resource: ResourceView::of(s.gazetteer, r),
                distance_km: hit.distance_km.map(|d| (d * 1000.0).round() / 1000.0),
                score: hit.score,
                matched_care_types: hit.matched_care_types,
            });
            next = resources.next();
        }
    }
    let end = req.offset + req.limit;
    Ok(Json(SearchResponse {
        query: echo,
        total: found.total,
        offset: req.offset,
        limit: req.limit,
        next_offset: (end < found.total && end <= MAX_OFFSET).then_some(end),
        sort: found.sort,
        results,
        facets: found.facets.as_ref().map(|f| FacetsView::of(s.gazetteer, f)),
    }))
}
