//! `GET /metrics`: Prometheus text exposition (the `prometheus-client` crate).
//!
//! - `tsunagu_http_requests_total{method,route,status}` and
//!   `tsunagu_http_request_duration_seconds{route}`: by route *template* (`/v1/resources/{id}`),
//!   never by the path or query a client sent — those carry care needs, places and tokens;
//! - `tsunagu_http_refused_total{reason}`: requests shed (`shed`) or rate-limited (`rate_limited`);
//! - `tsunagu_imports_total{outcome}`, `tsunagu_import_rows_total`: imports through the API;
//! - `tsunagu_index_changes_applied_total`: store changes the index followed (also those written
//!   by `tsunagu import` in another process);
//! - gauges read at scrape time: `tsunagu_resources`, `tsunagu_index_lag_changes`,
//!   `tsunagu_store_bytes`, `tsunagu_index_bytes`, `tsunagu_http_in_flight`,
//!   `tsunagu_rate_limited_clients_tracked`.

use std::sync::OnceLock;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::AppState;
use crate::problem::Problem;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms … about 4 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    refused: Family<ReasonLabels, Counter>,
    imports: Family<OutcomeLabels, Counter>,
    import_rows: Counter,
    index_changes: Counter,
    resources: Gauge,
    index_lag: Gauge,
    store_bytes: Gauge,
    index_bytes: Gauge,
    in_flight: Gauge,
    tracked_clients: Gauge,
}

/// Register `metric` under `name` and hand it back (a clone shares the same values).
fn registered<M: prometheus_client::registry::Metric + Clone>(
    r: &mut Registry,
    name: &str,
    help: &str,
    metric: M,
) -> M {
    r.register(name, help, metric.clone());
    metric
}

fn metrics() -> &'static Metrics {
    static M: OnceLock<Metrics> = OnceLock::new();
    M.get_or_init(|| {
        let mut r = Registry::default();
        let histograms = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        Metrics {
            requests: registered(
                &mut r,
                "tsunagu_http_requests",
                "Requests answered, by route template and status",
                Family::default(),
            ),
            latency: registered(
                &mut r,
                "tsunagu_http_request_duration_seconds",
                "Time to answer, by route template",
                histograms,
            ),
            refused: registered(
                &mut r,
                "tsunagu_http_refused",
                "Requests refused by a limit (shed, rate_limited)",
                Family::default(),
            ),
            imports: registered(&mut r, "tsunagu_imports", "Imports through the API, by outcome", Family::default()),
            import_rows: registered(
                &mut r,
                "tsunagu_import_rows",
                "Rows written by imports through the API",
                Counter::default(),
            ),
            index_changes: registered(
                &mut r,
                "tsunagu_index_changes_applied",
                "Store changes the index followed (including other processes' writes)",
                Counter::default(),
            ),
            resources: registered(&mut r, "tsunagu_resources", "Live records in the store", Gauge::default()),
            index_lag: registered(
                &mut r,
                "tsunagu_index_lag_changes",
                "Store changes not yet searchable",
                Gauge::default(),
            ),
            store_bytes: registered(&mut r, "tsunagu_store_bytes", "Size of the store", Gauge::default()),
            index_bytes: registered(
                &mut r,
                "tsunagu_index_bytes",
                "Size of the search index on disk",
                Gauge::default(),
            ),
            in_flight: registered(&mut r, "tsunagu_http_in_flight", "Requests being served", Gauge::default()),
            tracked_clients: registered(
                &mut r,
                "tsunagu_rate_limited_clients_tracked",
                "Clients the rate limiters remember",
                Gauge::default(),
            ),
            registry: r,
        }
    })
}

/// A request refused by a limit.
pub fn refused(reason: &'static str) {
    metrics().refused.get_or_create(&ReasonLabels { reason }).inc();
}

/// An import through the API: `written`, `refused` or `dry_run`, and the rows it wrote.
pub fn imported(outcome: &'static str, rows: u64) {
    let m = metrics();
    m.imports.get_or_create(&OutcomeLabels { outcome }).inc();
    m.import_rows.inc_by(rows);
}

/// Store changes applied to the index.
pub fn index_followed(changes: u64) {
    metrics().index_changes.inc_by(changes);
}

/// Middleware (inside routing, so the route template is known): count and time every request.
pub async fn record(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or("(unmatched)", MatchedPath::as_str).to_string();
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let res = next.run(req).await;
    let m = metrics();
    m.latency.get_or_create(&RouteLabels { route: route.clone() }).observe(started.elapsed().as_secs_f64());
    m.requests.get_or_create(&RequestLabels { method, route, status: res.status().as_u16() }).inc();
    res
}

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

async fn scrape(State(s): State<AppState>) -> Result<Response, Problem> {
    let m = metrics();
    let store = s.directory.store.state().await?;
    let index = s.directory.index.state();
    m.resources.set(store.count as i64);
    m.index_lag.set((store.seq - index.seq).max(0));
    m.store_bytes.set(s.directory.store.size_bytes().await? as i64);
    let index = s.directory.index.clone();
    let index_bytes = tokio::task::spawn_blocking(move || index.size_on_disk())
        .await
        .map_err(|e| Problem::internal(format!("index size: {e}")))?;
    m.index_bytes.set(index_bytes as i64);
    m.in_flight.set(s.limits.in_flight() as i64);
    m.tracked_clients.set(s.limits.tracked_clients() as i64);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &m.registry)
        .map_err(|e| Problem::internal(format!("metrics: {e}")))?;
    let mut res = text.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    Ok(res)
}
