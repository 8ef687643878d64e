//! Limits that keep one client, or too many at once, from taking the server from everyone:
//!
//! - a request rate per client ([`RateLimits`], GCRA from the `governor` crate), answered 429
//!   with `Retry-After`;
//! - public reports per client and per network, so no group of addresses can shut reports off
//!   for everyone else;
//! - requests in flight ([`shed`]): past the limit a request is answered 503 with
//!   `Retry-After` at once instead of queueing behind the others;
//! - a request body that stops arriving ([`body_deadline`]) gets 408, and one declared larger
//!   than its endpoint takes gets 413 before any of it is read.
//!
//! Keys are client addresses (see [`crate::clients`]); the limiters forget clients that have been
//! quiet for a while ([`RateLimits::forget_idle`]), so memory follows the clients of the last
//! minutes, not every client ever seen.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody as _};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use http_body_util::BodyExt;
use tokio::sync::Semaphore;

use crate::clients::Client;
use crate::problem::Problem;

/// How much each client may ask, and how much everyone at once.
#[derive(Debug, Clone)]
pub struct LimitConfig {
    /// Requests per second one client may make on average (0: no limit).
    pub requests_per_sec: u32,
    /// Requests one client may make in a burst above that rate.
    pub request_burst: u32,
    /// Requests served at once; more are answered 503 (0: no limit).
    pub max_in_flight: usize,
    /// A request body that sends nothing for this long is answered 408.
    pub body_timeout: Duration,
    /// Public reports per client per 10 minutes.
    pub reports_per_client: u32,
    /// Public reports per network (an IPv4 /24, an IPv6 /48) per hour.
    pub reports_per_network: u32,
}

/// Requests served at once by default: 16 per CPU core the process may use (32 on 2 cores).
/// Measured by `scripts/in-flight.sh` at twice the sustainable rate on 2 cores: 32 served as
/// many as 64 and more than 128 or 16, at a third of 128's latency (RELIABILITY.md).
pub fn default_in_flight() -> usize {
    16 * std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

impl Default for LimitConfig {
    fn default() -> Self {
        LimitConfig {
            requests_per_sec: 50,
            request_burst: 200,
            max_in_flight: default_in_flight(),
            body_timeout: Duration::from_secs(10),
            reports_per_client: 5,
            reports_per_network: 30,
        }
    }
}

/// The window of the per-client report limit.
pub const REPORT_CLIENT_WINDOW: Duration = Duration::from_secs(600);
/// The window of the per-network report limit.
pub const REPORT_NETWORK_WINDOW: Duration = Duration::from_secs(3_600);

/// Paths no limit applies to: probes and metrics must answer when the server is busiest, and the
/// page's two assets are cached.
fn exempt(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics") || path.starts_with("/assets/")
}

type Keyed = DefaultKeyedRateLimiter<IpAddr>;

fn quota(per_window: u32, window: Duration) -> Quota {
    let n = NonZeroU32::new(per_window.max(1)).expect("at least one");
    Quota::with_period(window / n.get()).expect("a positive period").allow_burst(n)
}

/// The rate limiters of one server.
pub struct RateLimits {
    config: LimitConfig,
    requests: Option<Keyed>,
    reports_by_client: Keyed,
    reports_by_network: Keyed,
    in_flight: Option<Arc<Semaphore>>,
    clock: DefaultClock,
}

/// Why a request was refused, and when to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait(pub Duration);

impl Wait {
    pub fn seconds(self) -> u64 {
        self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0)
    }
}

impl RateLimits {
    pub fn new(config: LimitConfig) -> RateLimits {
        let requests = NonZeroU32::new(config.requests_per_sec).map(|rate| {
            let burst = NonZeroU32::new(config.request_burst.max(rate.get())).unwrap_or(rate);
            Keyed::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        RateLimits {
            requests,
            reports_by_client: Keyed::keyed(quota(config.reports_per_client, REPORT_CLIENT_WINDOW)),
            reports_by_network: Keyed::keyed(quota(config.reports_per_network, REPORT_NETWORK_WINDOW)),
            in_flight: (config.max_in_flight > 0).then(|| Arc::new(Semaphore::new(config.max_in_flight))),
            config,
            clock: DefaultClock::default(),
        }
    }

    pub fn config(&self) -> &LimitConfig {
        &self.config
    }

    fn check(&self, limiter: &Keyed, key: IpAddr) -> Result<(), Wait> {
        limiter.check_key(&key).map_err(|not_until| Wait(not_until.wait_time_from(self.clock.now())))
    }

    /// Count one public report from `client`: refused when the client, or its network, is at
    /// its limit. The network is counted only for reports the client's own limit lets through,
    /// so one address cannot use up its neighbours' share.
    pub fn admit_report(&self, client: Option<Client>) -> Result<(), Wait> {
        let Some(client) = client else { return Ok(()) };
        self.check(&self.reports_by_client, client.key())?;
        self.check(&self.reports_by_network, client.network())
    }

    /// Forget clients whose limits have fully recovered (run every minute or so).
    pub fn forget_idle(&self) {
        for limiter in self.requests.iter().chain([&self.reports_by_client, &self.reports_by_network]) {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// Clients the limiters remember now (for `/metrics`).
    pub fn tracked_clients(&self) -> usize {
        self.requests.as_ref().map_or(0, Keyed::len) + self.reports_by_client.len() + self.reports_by_network.len()
    }

    /// Requests being served now (0 when there is no in-flight limit).
    pub fn in_flight(&self) -> usize {
        self.in_flight.as_ref().map_or(0, |s| self.config.max_in_flight - s.available_permits())
    }
}

/// A 429 with `Retry-After`.
pub fn too_many(wait: Wait, detail: impl Into<String>) -> Response {
    let mut res = Problem::new(StatusCode::TOO_MANY_REQUESTS, "/problems/rate-limited", "Too many requests", detail)
        .into_response();
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait.seconds().max(1)));
    res
}

/// Middleware: at most `requests_per_sec` (with a burst) per client.
pub async fn rate_limit(State(limits): State<Arc<RateLimits>>, req: Request, next: Next) -> Response {
    if let (Some(limiter), Some(client)) = (&limits.requests, req.extensions().get::<Client>().copied())
        && !exempt(req.uri().path())
        && let Err(wait) = limits.check(limiter, client.key())
    {
        crate::metrics::refused("rate_limited");
        return too_many(
            wait,
            format!(
                "more than {} requests per second from this client; try again in {} s",
                limits.config.requests_per_sec,
                wait.seconds().max(1)
            ),
        );
    }
    next.run(req).await
}

/// Middleware: serve at most `max_in_flight` requests at once; answer the rest 503 at once.
pub async fn shed(State(limits): State<Arc<RateLimits>>, req: Request, next: Next) -> Response {
    let Some(sem) = limits.in_flight.clone().filter(|_| !exempt(req.uri().path())) else {
        return next.run(req).await;
    };
    let Ok(_permit) = sem.try_acquire_owned() else {
        crate::metrics::refused("shed");
        let mut res = Problem::unavailable("the server is busy; try again in a second").into_response();
        res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return res;
    };
    next.run(req).await
}

/// The most a body may hold on `path`: the one table of body ceilings. [`body_deadline`] reads
/// every body under it before a handler runs, so the extractors keep no limit of their own.
pub fn body_ceiling(path: &str) -> usize {
    if path == "/v1/imports" { crate::routes::exchange::MAX_IMPORT_BYTES } else { crate::MAX_BODY_BYTES }
}

fn too_large(ceiling: usize) -> Response {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "/problems/body-too-large",
        "Request body too large",
        format!("this endpoint takes at most {ceiling} bytes"),
    )
    .into_response()
}

/// Middleware: read the request body before the handler runs, with a deadline between its
/// pieces. A body that stops arriving is answered 408 (and the connection closed); a declared
/// `Content-Length` over the endpoint's ceiling 413 before anything is read, and a body that
/// grows past it 413 as soon as it does.
pub async fn body_deadline(State(timeout): State<Duration>, req: Request, next: Next) -> Response {
    let ceiling = body_ceiling(req.uri().path());
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let chunked = req.headers().contains_key(header::TRANSFER_ENCODING);
    if declared.is_some_and(|n| n > ceiling as u64) {
        return too_large(ceiling);
    }
    // No body at all (nothing declared, nothing chunked, the stream already ended): nothing to
    // read. Anything else is read here, under the ceiling, whatever the protocol declared.
    if declared == Some(0) || (declared.is_none() && !chunked && req.body().is_end_stream()) {
        return next.run(req).await;
    }
    let (parts, mut body) = req.into_parts();
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0) as usize);
    loop {
        match tokio::time::timeout(timeout, body.frame()).await {
            Err(_) => {
                let mut res = Problem::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "/problems/body-timeout",
                    "Request body timed out",
                    format!("the request body stopped arriving ({} s without data)", timeout.as_secs_f32()),
                )
                .into_response();
                res.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
                return res;
            }
            Ok(None) => break,
            Ok(Some(Err(_))) => {
                return Problem::new(
                    StatusCode::BAD_REQUEST,
                    "/problems/bad-body",
                    "Unreadable request body",
                    "the request body could not be read",
                )
                .into_response();
            }
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    if bytes.len() + data.len() > ceiling {
                        return too_large(ceiling);
                    }
                    bytes.extend_from_slice(&data);
                }
            }
        }
    }
    next.run(Request::from_parts(parts, Body::from(Bytes::from(bytes)))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(s: &str) -> Option<Client> {
        Some(Client(s.parse().unwrap()))
    }

    #[test]
    fn one_address_cannot_shut_reports_off_for_everyone() {
        let limits =
            RateLimits::new(LimitConfig { reports_per_client: 5, reports_per_network: 30, ..Default::default() });
        // Sixty addresses in sixty networks, each sending as many reports as it may.
        let mut accepted = 0;
        for i in 0..60u8 {
            let c = client(&format!("198.{i}.1.1"));
            while limits.admit_report(c).is_ok() {
                accepted += 1;
                assert!(accepted <= 60 * 5, "a client went over its own limit");
            }
        }
        assert_eq!(accepted, 300);
        // Someone else still gets in.
        assert!(limits.admit_report(client("203.0.113.9")).is_ok());
        // A client at its limit is told when to retry (within the 10-minute window).
        let wait = limits.admit_report(client("198.0.1.1")).unwrap_err();
        assert!(wait.0 > Duration::ZERO && wait.0 <= REPORT_CLIENT_WINDOW, "{wait:?}");
        // Many addresses of one network share that network's hourly share.
        let mut from_one_net = 0;
        for host in 1..=40u8 {
            while limits.admit_report(client(&format!("192.0.2.{host}"))).is_ok() {
                from_one_net += 1;
            }
        }
        assert_eq!(from_one_net, 30);
        // In-process requests have no address and no per-client limit.
        assert!(limits.admit_report(None).is_ok());
    }

    #[test]
    fn idle_clients_are_forgotten() {
        let limits = RateLimits::new(LimitConfig { requests_per_sec: 1000, request_burst: 1000, ..Default::default() });
        let requests = limits.requests.as_ref().unwrap();
        for i in 0..200u8 {
            let _ = limits.check(requests, format!("10.0.{i}.1").parse().unwrap());
        }
        assert_eq!(requests.len(), 200);
        std::thread::sleep(Duration::from_millis(20));
        limits.forget_idle();
        assert_eq!(requests.len(), 0, "each client's one request was paid back within 1 ms");
    }
}
