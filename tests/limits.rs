//! Limits at the edge, against the real binary over TCP: per-client request rates (and
//! `--trusted-proxies`), shedding past the in-flight limit, bodies that stop arriving, declared
//! lengths over the limit, hyper's own errors as problem+json, `/metrics` by route template, and
//! logs that carry no path or query.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::common;

/// Send raw bytes, read the answer until the server closes or `wait` passes.
fn raw(base: &str, request: &[u8], wait: Duration) -> String {
    let mut s = TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    s.write_all(request).unwrap();
    s.set_read_timeout(Some(wait)).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn status(reply: &str) -> u16 {
    reply.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn problem(reply: &str) -> serde_json::Value {
    let (head, body) = reply.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no body: {reply:?}"));
    assert!(head.to_ascii_lowercase().contains("content-type: application/problem+json"), "{head}");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:?}"))
}

fn get_as(base: &str, path: &str, forwarded_for: &str) -> String {
    let req =
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: {forwarded_for}\r\nConnection: close\r\n\r\n");
    raw(base, req.as_bytes(), Duration::from_secs(5))
}

#[test]
fn one_client_is_rate_limited_without_slowing_the_others() {
    let limited = ["--requests-per-client-per-sec", "2", "--request-burst", "4"];
    let s = common::start(&[&limited[..], &["--trusted-proxies", "127.0.0.1"]].concat());
    let mut codes = Vec::new();
    for _ in 0..6 {
        codes.push(status(&get_as(&s.base, "/v1/vocabulary", "198.51.100.1")));
    }
    assert_eq!(&codes[..4], [200; 4], "{codes:?}");
    assert!(codes[4..].contains(&429), "{codes:?}");
    let refused = get_as(&s.base, "/v1/vocabulary", "198.51.100.1");
    assert_eq!(status(&refused), 429);
    assert!(refused.to_ascii_lowercase().contains("\r\nretry-after: "), "{refused}");
    assert_eq!(problem(&refused)["status"], 429);
    // Another client behind the same proxy is not held back, nor are the probes.
    assert_eq!(status(&get_as(&s.base, "/v1/vocabulary", "198.51.100.2")), 200);
    assert_eq!(status(&get_as(&s.base, "/healthz", "198.51.100.1")), 200);
    // The right-most untrusted hop counts: a client cannot name itself someone else.
    assert_eq!(status(&get_as(&s.base, "/v1/vocabulary", "203.0.113.5, 198.51.100.1")), 429);

    // Without --trusted-proxies X-Forwarded-For is not believed: every request is 127.0.0.1's.
    let s = common::start(&limited);
    let codes: Vec<u16> =
        (0..8).map(|i| status(&get_as(&s.base, "/v1/vocabulary", &format!("198.51.100.{i}")))).collect();
    assert!(codes.contains(&429), "a client walked around its limit with made-up X-Forwarded-For: {codes:?}");
}

#[test]
fn bodies_that_stall_get_408_and_oversized_ones_413_at_once_and_past_the_in_flight_limit_503() {
    let s = common::start(&["--body-timeout-secs", "1", "--max-in-flight", "2"]);
    // A declared length over the endpoint's limit: refused before any body is sent.
    let started = Instant::now();
    let big = raw(
        &s.base,
        b"POST /v1/resources HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n",
        Duration::from_secs(5),
    );
    assert_eq!(status(&big), 413, "{big}");
    assert_eq!(problem(&big)["type"], "/problems/body-too-large");
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());

    // Two bodies that stop arriving hold the two in-flight places...
    let stall = |n: u8| {
        let mut c = TcpStream::connect(s.base.trim_start_matches("http://")).unwrap();
        let head = format!(
            "POST /v1/resources/0190c6b2-7d3e-7c41-9f6a-2b5d1e8a4c2{n}/reports HTTP/1.1\r\nHost: x\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"kind\""
        );
        c.write_all(head.as_bytes()).unwrap();
        c
    };
    let mut stalled = [stall(1), stall(2)];
    std::thread::sleep(Duration::from_millis(200));
    // ...so the next request is shed at once, with Retry-After; probes still answer.
    let shed =
        raw(&s.base, b"GET /v1/vocabulary HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", Duration::from_secs(5));
    assert_eq!(status(&shed), 503, "{shed}");
    assert!(shed.to_ascii_lowercase().contains("\r\nretry-after: 1\r\n"), "{shed}");
    assert_eq!(s.get("/readyz").status, 200);
    // The stalled bodies get 408 after the body timeout, and the places are free again.
    for c in &mut stalled {
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut out = Vec::new();
        let _ = c.read_to_end(&mut out);
        let reply = String::from_utf8_lossy(&out);
        assert_eq!(status(&reply), 408, "{reply}");
        assert_eq!(problem(&reply)["type"], "/problems/body-timeout");
    }
    assert_eq!(s.get("/v1/vocabulary").status, 200);
}

#[test]
fn requests_hyper_cannot_parse_get_problem_json_too() {
    let s = common::server();
    let long_uri = format!("GET /v1/search?q={} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "a".repeat(70_000));
    let many_headers: String = (0..200).map(|i| format!("X-H{i}: 1\r\n")).collect();
    let cases = [
        (long_uri, 414),
        (format!("GET /v1/search?q={} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "a".repeat(9_000)), 414),
        (format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{many_headers}Connection: close\r\n\r\n"), 431),
        ("NOT HTTP AT ALL\r\n\r\n".to_string(), 400),
    ];
    for (request, want) in cases {
        let reply = raw(&s.base, request.as_bytes(), Duration::from_secs(5));
        assert_eq!(status(&reply), want, "{}", &reply[..reply.len().min(200)]);
        let p = problem(&reply);
        assert_eq!(p["status"], want);
        assert!(p["detail"].as_str().is_some_and(|d| !d.is_empty()), "{p}");
    }
}

#[test]
fn metrics_count_by_route_template_and_never_show_what_was_asked() {
    let s = common::start(&[]);
    let id = "0190c6b2-7d3e-7c41-9f6a-2b5d1e8a4c21";
    assert_eq!(s.get("/v1/search?q=%E3%81%9F%E3%82%93%E5%90%B8%E5%BC%95&lat=36.2381&lon=137.9720").status, 200);
    assert_eq!(s.get(&format!("/v1/resources/{id}")).status, 404);
    assert_eq!(s.get("/v1/nothing-here").status, 404);
    let res = reqwest::blocking::get(format!("{}/metrics", s.base)).unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = res.text().unwrap();
    for want in [
        r#"tsunagu_http_requests_total{method="GET",route="/v1/search",status="200"} 1"#,
        r#"tsunagu_http_requests_total{method="GET",route="/v1/resources/{id}",status="404"} 1"#,
        r#"tsunagu_http_requests_total{method="GET",route="(unmatched)",status="404"} 1"#,
        r#"tsunagu_http_request_duration_seconds_bucket{le="#,
        "tsunagu_index_lag_changes 0",
        "tsunagu_resources 3208",
        "tsunagu_store_bytes ",
        "tsunagu_index_bytes ",
    ] {
        assert!(text.contains(want), "{want} not in\n{text}");
    }
    for secret in [id, "36.2381", "137.97", "%E3", "nothing-here"] {
        assert!(!text.contains(secret), "{secret} in the metrics");
    }
}

#[test]
fn one_table_of_body_ceilings_holds_for_chunked_bodies_and_lets_imports_past_two_megabytes() {
    let s = common::start(&[]);
    // A chunked body declares no length: it is refused as soon as it grows past the ceiling.
    let chunk = "a".repeat(64 * 1024);
    let mut request = String::from(
        "POST /v1/resources HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    for _ in 0..24 {
        request.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    request.push_str("0\r\n\r\n");
    let reply = raw(&s.base, request.as_bytes(), Duration::from_secs(5));
    assert_eq!(status(&reply), 413, "{}", &reply[..reply.len().min(300)]);
    assert_eq!(problem(&reply)["detail"], format!("this endpoint takes at most {} bytes", 1 << 20));
    // An import is bigger than axum's own 2 MB default: it reaches the importer, which reports rows.
    let key = common::key(&s, "editor", "limits", None);
    let row = r#"{"name": "テスト", "kind": "daycare", "municipality_code": "20202"}"#;
    let body = format!("{row}\n{}", "\n".repeat(3 << 20));
    let res = reqwest::blocking::Client::new()
        .post(format!("{}/v1/imports?format=jsonl&mode=dry_run", s.base))
        .header("Authorization", format!("Bearer {key}"))
        .body(body)
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 422, "a row report, not 413");
    let report: serde_json::Value = res.json().unwrap();
    assert_eq!(report["rows"], 1);
    assert_eq!(report["written"], false);
}
