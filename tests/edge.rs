//! What every response carries at the edge: security headers on pages, CORS on the public read
//! API (never on writes), and problem+json where a layer would answer in plain text.

use crate::common;

use http_body_util::BodyExt;
use tower::ServiceExt;

fn send(app: &common::InProcess, req: axum::http::Request<axum::body::Body>) -> (u16, axum::http::HeaderMap, Vec<u8>) {
    app.runtime.block_on(async {
        let res = app.router.clone().oneshot(req).await.expect("infallible");
        let (parts, body) = res.into_parts();
        (parts.status.as_u16(), parts.headers, body.collect().await.expect("body").to_bytes().to_vec())
    })
}

fn get(app: &common::InProcess, uri: &str) -> (u16, axum::http::HeaderMap, Vec<u8>) {
    send(app, axum::http::Request::builder().uri(uri).body(axum::body::Body::empty()).unwrap())
}

/// A GET with one request header.
fn get_with(app: &common::InProcess, uri: &str, name: &str, value: &str) -> (u16, axum::http::HeaderMap, Vec<u8>) {
    send(app, axum::http::Request::builder().uri(uri).header(name, value).body(axum::body::Body::empty()).unwrap())
}

#[test]
fn pages_carry_security_headers() {
    let app = common::in_process();
    for uri in ["/", "/?q=%E4%BF%9D%E8%82%B2%E5%9C%92", "/regions/20-07"] {
        let (status, h, _) = get(&app, uri);
        assert_eq!(status, 200, "{uri}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"), "{csp}");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "same-origin");
    }
}

#[test]
fn the_public_read_api_may_be_called_from_any_site_and_writes_may_not() {
    let app = common::in_process();
    let (status, h, _) = get(&app, "/v1/search?q=%E4%BF%9D%E8%82%B2%E5%9C%92");
    assert_eq!(status, 200);
    assert_eq!(h["access-control-allow-origin"], "*");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/v1/resources")
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{}"))
        .unwrap();
    let (status, h, _) = send(&app, req);
    assert_eq!(status, 401);
    assert!(h.get("access-control-allow-origin").is_none(), "writes are not shared with other sites");
}

#[test]
fn a_body_over_the_limit_is_a_problem_not_plain_text() {
    let app = common::in_process();
    let big = vec![b'x'; (tsunagu_api::MAX_BODY_BYTES) + 10];
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/v1/resources/00000000-0000-7000-8000-000000000000/reports")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(big))
        .unwrap();
    let (status, h, body) = send(&app, req);
    assert_eq!(status, 413, "{}", String::from_utf8_lossy(&body[..body.len().min(200)]));
    assert!(h["content-type"].to_str().unwrap().starts_with("application/problem+json"));
    let p: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(p["status"], 413);
}

#[test]
fn responses_are_compressed_for_clients_that_ask() {
    let app = common::in_process();
    let (status, h, gz) =
        get_with(&app, "/v1/search?q=%E4%BF%9D%E8%82%B2%E5%9C%92&limit=50", "accept-encoding", "gzip");
    assert_eq!(status, 200);
    assert_eq!(h["content-encoding"], "gzip");
    let (_, plain_h, plain) = get(&app, "/v1/search?q=%E4%BF%9D%E8%82%B2%E5%9C%92&limit=50");
    assert!(plain_h.get("content-encoding").is_none(), "no gzip unless asked");
    assert!(gz.len() * 3 < plain.len(), "{} gzip bytes for {} plain", gz.len(), plain.len());
}

#[test]
fn empty_values_are_no_choice_as_a_form_sends_them() {
    let app = common::in_process();
    for uri in [
        "/v1/search?region=",
        "/v1/municipalities?prefecture=",
        "/v1/regions?prefecture=",
        "/v1/municipalities?region=",
        "/v1/search?q=&near=",
    ] {
        let (status, _, body) = get(&app, uri);
        assert_eq!(status, 200, "{uri}: {}", String::from_utf8_lossy(&body));
    }
    let (_, _, all) = get(&app, "/v1/municipalities");
    let (_, _, empty) = get(&app, "/v1/municipalities?prefecture=");
    assert_eq!(all, empty);
}

#[test]
fn unchanged_lists_and_records_are_answered_304() {
    let app = common::in_process();
    for uri in ["/v1/vocabulary", "/v1/municipalities", "/v1/regions?prefecture=20"] {
        let (status, h, body) = get(&app, uri);
        assert_eq!(status, 200, "{uri}");
        assert!(!body.is_empty());
        let tag = h["etag"].to_str().unwrap().to_string();
        assert_eq!(h["cache-control"], "public, max-age=300");
        let (status, h, body) = get_with(&app, uri, "if-none-match", &tag);
        assert_eq!((status, body.len()), (304, 0), "{uri}");
        assert_eq!(h["etag"].to_str().unwrap(), tag);
        assert_eq!(get_with(&app, uri, "if-none-match", "\"h-0000000000000000\"").0, 200, "another ETag gets the body");
    }
    // The regions of one prefecture are not those of the other: different ETags.
    let a = get(&app, "/v1/regions?prefecture=20").1["etag"].clone();
    let b = get(&app, "/v1/regions?prefecture=11").1["etag"].clone();
    assert_ne!(a, b);
    // A record keeps its version ETag and must be revalidated.
    let (_, _, list) = get(&app, "/v1/search?limit=1");
    let v: serde_json::Value = serde_json::from_slice(&list).unwrap();
    let id = v["results"][0]["id"].as_str().unwrap().to_string();
    let (status, h, _) = get(&app, &format!("/v1/resources/{id}"));
    assert_eq!(status, 200);
    assert_eq!(h["cache-control"], "no-cache");
    let uri = format!("/v1/resources/{id}");
    assert_eq!(get_with(&app, &uri, "if-none-match", h["etag"].to_str().unwrap()).0, 304);
    // Counts that follow writes are cached for a minute, answers revalidated every time; both
    // carry a content ETag.
    for (uri, cc) in [
        ("/v1/sources", "public, max-age=60"),
        ("/v1/regions/20-07", "public, max-age=300"),
        ("/v1/search?q=%E8%A8%AA%E5%95%8F%E7%9C%8B%E8%AD%B7&limit=3", "no-cache"),
        ("/v1/suggest?q=%E3%81%BE%E3%81%A4", "no-cache"),
    ] {
        let (status, h, body) = get(&app, uri);
        assert_eq!(status, 200, "{uri}");
        assert_eq!(h["cache-control"], cc, "{uri}");
        let tag = h["etag"].to_str().unwrap().to_string();
        let (status, _, again) = get(&app, uri);
        assert_eq!((status, &again), (200, &body), "{uri}: the same answer twice");
        assert_eq!(get_with(&app, uri, "if-none-match", &tag).0, 304, "{uri}");
    }
}
