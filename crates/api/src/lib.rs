//! The HTTP JSON API of tsunagu (axum).
//!
//! - [`routes::search`]: `GET /v1/search` — text, place and filters → ranked, faceted results.
//! - [`routes::suggest`]: `GET /v1/suggest` — as-you-type completion.
//! - [`routes::resources`]: `GET /v1/resources/{id}` — one resource with labels.
//! - [`routes::write`]: `POST/PUT/PATCH/DELETE /v1/resources…` — edits with an API key, ETags, audit.
//! - [`routes::exchange`]: `POST /v1/imports`, `GET /v1/export` — bulk CSV / JSON Lines (editor).
//! - [`routes::vocabulary`]: `GET /v1/vocabulary` — kinds, care types, weekdays, accessibility.
//! - [`routes::places`]: `GET /v1/municipalities`, `GET /v1/regions` — the bundled places.
//! - [`routes::health`]: `GET /healthz` (alive), `GET /readyz` (store and index usable).
//!
//! Every error is an RFC 9457 problem ([`problem::Problem`]); no input yields a 500 or a panic
//! (a panic would still be caught and answered as a problem, and logged).

pub mod auth;
pub mod clients;
pub mod edge;
pub mod limits;
pub mod metrics;
pub mod params;
pub mod problem;
pub mod routes;
pub mod views;
pub mod web;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use tsunagu_directory::Planner;
use tsunagu_places::{Gazetteer, Places};

use problem::Problem;
pub use tsunagu_directory::{self as directory, Directory};

/// Settings of the API.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Longest a request may take before it is answered with 503.
    pub request_timeout: Duration,
    /// Serve sample records (false: only real records are reachable).
    pub serve_sample_data: bool,
    /// Availability older than this many days is marked stale in responses.
    pub availability_stale_days: u32,
    /// A record confirmed (or published by its source) within this many days is `fresh`.
    pub fresh_days: u32,
    /// Older than this many days it is `stale`; in between, `aging`.
    pub stale_days: u32,
    /// Request rates, reports, requests in flight, body deadlines.
    pub limits: limits::LimitConfig,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: clients::TrustedProxies,
    /// The address providers reach this server at (for survey letters and their QR codes).
    pub public_url: String,
    /// The centre's contact line printed on survey letters.
    pub centre_contact: String,
    /// A power point's status older than this many hours is shown as stale, never as open.
    pub power_status_stale_hours: u32,
}

impl ApiConfig {
    /// Whether this server shows a record at all: sample records are unreachable (even to key
    /// holders) when the server serves no sample data.
    pub fn serves(&self, r: &tsunagu_model::Resource) -> bool {
        self.serve_sample_data || !r.sample
    }
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            request_timeout: Duration::from_secs(10),
            serve_sample_data: true,
            availability_stale_days: 30,
            fresh_days: 365,
            stale_days: 730,
            limits: limits::LimitConfig::default(),
            trusted_proxies: clients::TrustedProxies::default(),
            public_url: "http://127.0.0.1:8080".into(),
            centre_contact: "医療的ケア児支援センター（連絡先を設定してください: --centre-contact）".into(),
            power_status_stale_hours: 6,
        }
    }
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub directory: Arc<Directory>,
    pub gazetteer: &'static Gazetteer,
    /// The gazetteer, geocoder and boundaries (made once at start-up).
    pub places: Places,
    /// Plans searches (understanding, places, regions) for the API and the page alike.
    pub planner: Planner,
    pub config: Arc<ApiConfig>,
    /// Rate limits (requests, public reports) and the in-flight limit.
    pub limits: Arc<limits::RateLimits>,
    /// Failed survey-token lookups per client.
    pub token_limits: Arc<web::survey::TokenLimits>,
}

impl AppState {
    pub fn new(directory: Arc<Directory>, places: Places, config: ApiConfig) -> AppState {
        let limits = Arc::new(limits::RateLimits::new(config.limits.clone()));
        AppState {
            directory,
            gazetteer: places.gazetteer,
            places,
            planner: Planner::new(places),
            config: Arc::new(config),
            limits,
            token_limits: Arc::default(),
        }
    }

    /// A record by id, live or deleted, unless this server does not serve it (see
    /// [`ApiConfig::serves`]).
    pub async fn served(
        &self,
        id: tsunagu_model::ResourceId,
    ) -> Result<Option<tsunagu_store::Versioned>, tsunagu_store::StoreError> {
        Ok(self.directory.store.get_versioned(id).await?.filter(|v| self.config.serves(&v.resource)))
    }
}

/// Longest accepted request target (path + query), in bytes.
pub const MAX_URI_BYTES: usize = 8_192;
/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// The whole API.
pub fn router(state: AppState) -> Router {
    let timeout = state.config.request_timeout;
    let body_timeout = state.config.limits.body_timeout;
    let limits = state.limits.clone();
    let trusted = state.config.trusted_proxies.clone();
    // Layers run outermost (last) first. Every one of them runs after routing, so the route
    // template (`MatchedPath`) is known to the log and the metrics.
    Router::new()
        .merge(routes::search::router())
        .merge(routes::suggest::router())
        .merge(routes::contacts::router())
        .merge(routes::emergencies::router())
        .merge(routes::power::router())
        .merge(routes::programmes::router())
        .merge(routes::training::router())
        .merge(routes::resources::router())
        .merge(routes::write::router())
        .merge(routes::exchange::router())
        .merge(routes::vocabulary::router())
        .merge(routes::places::router())
        .merge(routes::reports::router())
        .merge(routes::sources::router())
        .merge(routes::survey::router())
        .merge(web::router())
        .merge(routes::health::router())
        .merge(metrics::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(middleware::from_fn_with_state(timeout, time_limit))
        .layer(middleware::from_fn(uri_limit))
        // Bodies are limited once, per route, by `limits::body_deadline` (which has read each
        // one before a handler runs); the extractors' own 2 MB default would be a second table.
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn_with_state(body_timeout, limits::body_deadline))
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            Problem::internal("the server failed on this request").into_response()
        }))
        .layer(middleware::from_fn(edge::conditional))
        .layer(middleware::from_fn_with_state(limits.clone(), limits::shed))
        .layer(middleware::from_fn_with_state(limits, limits::rate_limit))
        .layer(middleware::from_fn_with_state(trusted, clients::identify))
        .layer(middleware::from_fn(edge::headers))
        .layer(middleware::from_fn(metrics::record))
        // gzip for clients that ask (the page's HTML and JSON shrink several times).
        .layer(tower_http::compression::CompressionLayer::new())
        // Logs name the method, the route template and the request id, never the path or query
        // a client sent: a family's care needs and place, and survey tokens, travel in them.
        .layer(TraceLayer::new_for_http().make_span_with(|_: &Request| tracing::Span::none()).on_response(
            |res: &Response, latency: Duration, _: &tracing::Span| {
                tracing::info!(status = res.status().as_u16(), ms = latency.as_millis() as u64, "served");
            },
        ))
        .layer(middleware::from_fn(problem::with_request_id))
}

async fn not_found(req: Request) -> Problem {
    Problem::not_found(format!("no such endpoint: {}", tsunagu_model::codes::truncate(req.uri().path(), 100)))
}

async fn method_not_allowed(req: Request) -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "/problems/method-not-allowed",
        "Method not allowed",
        format!("{} is not supported here", req.method()),
    )
}

async fn time_limit(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            Problem::unavailable(format!("the request took longer than {} s", limit.as_secs_f32())).into_response()
        }
    }
}

async fn uri_limit(req: Request, next: Next) -> Response {
    let len = req.uri().path().len() + req.uri().query().map_or(0, str::len);
    if len > MAX_URI_BYTES {
        return Problem::new(
            StatusCode::URI_TOO_LONG,
            "/problems/uri-too-long",
            "URI too long",
            format!("the request target is longer than {MAX_URI_BYTES} bytes"),
        )
        .into_response();
    }
    next.run(req).await
}
