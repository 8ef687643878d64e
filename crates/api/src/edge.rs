//! What every response carries at the edge: security headers on pages, CORS for the public read
//! API, and problem+json for the errors the layers below answer in plain text (a body over the
//! limit).

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::problem::Problem;

/// The page loads its own script and style sheet only; inline `style` attributes colour the map
/// legends. No frame may embed it.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub async fn headers(req: Request, next: Next) -> Response {
    let public_read = matches!(*req.method(), Method::GET | Method::HEAD) && req.uri().path().starts_with("/v1/");
    let mut res = next.run(req).await;
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_problem(&res) {
        res = Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "/problems/body-too-large",
            "Request body too large",
            "the body is larger than this endpoint accepts",
        )
        .into_response();
    }
    let h = res.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    let html = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"));
    if html {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    }
    // Any site may read the public API from a browser; writes need a key and are never shared.
    if public_read {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    }
    res
}

fn is_problem(res: &Response) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/problem+json"))
}

/// How a GET response may be cached, and where its ETag comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caching {
    /// Place lists and the vocabulary change with a release: an ETag from the content, cached
    /// for five minutes.
    Reference,
    /// Counts that follow every write: an ETag from the content, cached for a minute.
    Counts,
    /// Answers that follow the index (search, suggestions): an ETag from the content, revalidated
    /// every time.
    Answer,
    /// A resource: its version ETag (set by the handler), revalidated every time.
    Resource,
}

fn caching(path: &str) -> Option<Caching> {
    let segments = path.matches('/').count();
    match path {
        "/v1/vocabulary" | "/v1/municipalities" | "/v1/regions" => Some(Caching::Reference),
        _ if path.starts_with("/v1/regions/") && segments == 3 => Some(Caching::Reference),
        "/v1/sources" => Some(Caching::Counts),
        "/v1/search" | "/v1/suggest" | "/v1/contacts" => Some(Caching::Answer),
        _ if path.starts_with("/v1/resources/") && segments == 3 => Some(Caching::Resource),
        _ => None,
    }
}

/// Conditional GETs: a response with an ETag is answered 304 when the client already holds it
/// (`If-None-Match`). See [`Caching`] for which responses get an ETag and how long they may be
/// kept; a response for a key holder is `private`.
pub async fn conditional(req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    let Some(caching) = caching(req.uri().path()) else {
        return next.run(req).await;
    };
    let keyed = req.headers().contains_key(header::AUTHORIZATION);
    let wanted = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut res = next.run(req).await;
    if res.status() != StatusCode::OK {
        return res;
    }
    if caching != Caching::Resource && !res.headers().contains_key(header::ETAG) {
        let (parts, body) = res.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, 64 << 20).await else {
            return Problem::internal("could not read the response").into_response();
        };
        let mut h = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(&bytes[..], &mut h);
        let tag = format!("\"h-{:016x}\"", std::hash::Hasher::finish(&h));
        res = Response::from_parts(parts, axum::body::Body::from(bytes));
        if let Ok(v) = HeaderValue::from_str(&tag) {
            res.headers_mut().insert(header::ETAG, v);
        }
    }
    let cc = match (caching, keyed) {
        (_, true) => "private, no-cache",
        (Caching::Reference, false) => "public, max-age=300",
        (Caching::Counts, false) => "public, max-age=60",
        (Caching::Answer | Caching::Resource, false) => "no-cache",
    };
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cc));
    let tag = res.headers().get(header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_string);
    if let (Some(tag), Some(wanted)) = (tag, wanted)
        && (wanted.trim() == "*"
            || wanted.split(',').any(|w| w.trim().trim_start_matches("W/") == tag.trim_start_matches("W/")))
    {
        let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
        for name in [header::ETAG, header::CACHE_CONTROL] {
            if let Some(v) = res.headers().get(&name).cloned() {
                not_modified.headers_mut().insert(name, v);
            }
        }
        return not_modified;
    }
    res
}
