//! The HTTP load driver: keep-alive connections sending a realistic mix of `/v1/search`
//! requests to a server on this machine, bounded in time and in requests. By default a closed
//! loop (each connection sends its next request when the last is answered); with `--rate` an
//! open loop: request i is due at start + i/rate, and its latency counts from when it was due
//! (so queueing in the server, or a lack of free connections, shows in the figures).
//!
//! Only loopback addresses are accepted: this is for measuring a local server, never for
//! loading someone else's.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::workload::Queries;

pub struct HttpArgs {
    pub addr: SocketAddr,
    pub queries: PathBuf,
    pub connections: usize,
    pub duration: Duration,
    pub max_requests: usize,
    pub out: Option<PathBuf>,
    pub label: Option<String>,
    /// Requests per second to offer (open loop); `None`: closed loop.
    pub rate: Option<f64>,
    /// 503 answers (the server shedding load) are counted, not failures.
    pub allow_shed: bool,
}

/// One kind of request in the mix, with its share.
struct Shape {
    name: &'static str,
    share: usize,
    targets: Vec<String>,
}

fn query_string(pairs: &[(&str, String)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    format!("/v1/search?{}", s.finish())
}

/// The mix, built from the workload's query parameters (the same points as the in-process
/// bench). Shares are per 100 requests.
fn mix(qs: &Queries) -> Vec<Shape> {
    let ll = |lat: f64, lon: f64| vec![("lat", format!("{lat}")), ("lon", format!("{lon}"))];
    vec![
        // A parent: free text near home; the text is understood (吸引 → a care type).
        Shape {
            name: "family_text_near",
            share: 30,
            targets: qs
                .q1
                .iter()
                .map(|p| {
                    let mut q = ll(p.lat, p.lon);
                    q.extend([("q", p.text.clone()), ("radius_km", format!("{}", p.radius_km))]);
                    query_string(&q)
                })
                .collect(),
        },
        // A nurse on a visit: the nearest of a kind that confirms a care type.
        Shape {
            name: "nearest_kind_care",
            share: 25,
            targets: qs
                .q2
                .iter()
                .map(|p| {
                    let mut q = ll(p.lat, p.lon);
                    let kind = super::workload::kind(&p.kind).map_or("daycare", |k| k.code());
                    let care = super::workload::care(&p.care_type).map_or("ventilator", |c| c.code());
                    q.extend([
                        ("kinds", kind.to_string()),
                        ("care_types", care.to_string()),
                        ("include_unconfirmed", "false".into()),
                        ("limit", p.k.to_string()),
                    ]);
                    query_string(&q)
                })
                .collect(),
        },
        // Text + care type within a radius, nearest first (the structured form of q1).
        Shape {
            name: "text_care_radius",
            share: 15,
            targets: qs
                .q1
                .iter()
                .map(|p| {
                    let mut q = ll(p.lat, p.lon);
                    let care = super::workload::care(&p.care_type).map_or("suction_oral_nasal", |c| c.code());
                    q.extend([
                        ("q", p.text.clone()),
                        ("interpret", "false".into()),
                        ("care_types", care.to_string()),
                        ("include_unconfirmed", "false".into()),
                        ("radius_km", format!("{}", p.radius_km)),
                        ("sort", "distance".into()),
                    ]);
                    query_string(&q)
                })
                .collect(),
        },
        // A coordinator: transport whose service area covers a home.
        Shape {
            name: "covers_transport",
            share: 15,
            targets: qs
                .q4
                .iter()
                .map(|p| {
                    let mut q = ll(p.lat, p.lon);
                    q.extend([("covers", "true".into()), ("kinds", "transport".into()), ("limit", "50".into())]);
                    query_string(&q)
                })
                .collect(),
        },
        // What is there within 30 km (the counts by care type and kind, with the first page).
        Shape {
            name: "area_overview",
            share: 15,
            targets: qs
                .q5
                .iter()
                .map(|p| {
                    let mut q = ll(p.lat, p.lon);
                    q.push(("radius_km", format!("{}", p.radius_km)));
                    query_string(&q)
                })
                .collect(),
        },
    ]
}

/// Interleave the shapes by share into one request list.
fn schedule(shapes: &[Shape]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    if shapes.iter().any(|s| s.targets.is_empty()) {
        return out;
    }
    // Parameter sets are reused in turn when a shape has fewer than its share of rounds.
    let rounds = shapes.iter().map(|s| s.targets.len() / s.share.max(1)).min().unwrap_or(0).max(1);
    for round in 0..rounds {
        for (i, s) in shapes.iter().enumerate() {
            for k in 0..s.share {
                out.push((i, s.targets[(round * s.share + k) % s.targets.len()].clone()));
            }
        }
    }
    // Spread each round's shapes instead of sending them in blocks.
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    for i in (1..out.len()).rev() {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        out.swap(i, (rng % (i as u64 + 1)) as usize);
    }
    out
}

struct Response {
    status: u16,
    bytes: usize,
}

/// Send one GET on a keep-alive connection and read the whole response.
async fn get(conn: &mut BufReader<TcpStream>, host: &str, target: &str, line: &mut String) -> anyhow::Result<Response> {
    let req = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n\r\n");
    conn.get_mut().write_all(req.as_bytes()).await?;
    line.clear();
    if conn.read_line(line).await? == 0 {
        bail!("connection closed");
    }
    let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).context("bad status line")?;
    let (mut length, mut chunked) = (None, false);
    loop {
        line.clear();
        if conn.read_line(line).await? == 0 {
            bail!("connection closed in headers");
        }
        let h = line.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse::<usize>().ok();
            } else if k.eq_ignore_ascii_case("transfer-encoding") && v.to_ascii_lowercase().contains("chunked") {
                chunked = true;
            }
        }
    }
    let mut body = Vec::new();
    if let Some(n) = length {
        body.resize(n, 0);
        conn.read_exact(&mut body).await?;
    } else if chunked {
        loop {
            line.clear();
            conn.read_line(line).await?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16).context("bad chunk")?;
            let start = body.len();
            body.resize(start + size + 2, 0);
            conn.read_exact(&mut body[start..]).await?;
            body.truncate(start + size);
            if size == 0 {
                break;
            }
        }
    } else {
        bail!("response without a length");
    }
    Ok(Response { status, bytes: body.len() })
}

pub async fn run(args: HttpArgs) -> anyhow::Result<()> {
    if !args.addr.ip().is_loopback() {
        bail!("the load driver only targets this machine (127.0.0.1 or ::1), not {}", args.addr);
    }
    if args.connections == 0 || args.max_requests == 0 || args.duration.is_zero() {
        bail!("--connections, --max-requests and --duration-secs must be positive");
    }
    let qs: Queries = serde_json::from_slice(
        &std::fs::read(&args.queries).with_context(|| format!("reading {}", args.queries.display()))?,
    )
    .with_context(|| format!("{} is not a gen.py queries file", args.queries.display()))?;
    let shapes = mix(&qs);
    let plan = Arc::new(schedule(&shapes));
    if plan.is_empty() {
        bail!("the queries file has too few parameter sets for the mix");
    }
    let host = args.addr.to_string();
    // Warm-up: every target shape once per connection count, not measured.
    {
        let mut conn = BufReader::new(TcpStream::connect(args.addr).await.context("connecting to the server")?);
        let mut line = String::new();
        for (_, t) in plan.iter().take(200) {
            get(&mut conn, &host, t, &mut line).await?;
        }
    }
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + args.duration;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.connections {
        let (plan, next, host) = (plan.clone(), next.clone(), host.clone());
        let (addr, max, rate) = (args.addr, args.max_requests, args.rate);
        tasks.push(tokio::spawn(async move {
            let mut conn = BufReader::new(TcpStream::connect(addr).await?);
            conn.get_mut().set_nodelay(true)?;
            let mut line = String::new();
            let mut seen: Vec<(usize, u64, u16, usize)> = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= max || Instant::now() >= deadline {
                    break;
                }
                let (shape, target) = &plan[i % plan.len()];
                let a = match rate {
                    Some(r) => {
                        let due = started + Duration::from_secs_f64(i as f64 / r);
                        if due >= deadline {
                            break;
                        }
                        tokio::time::sleep_until(due.into()).await;
                        due
                    }
                    None => Instant::now(),
                };
                let r = get(&mut conn, &host, target, &mut line).await?;
                seen.push((*shape, a.elapsed().as_nanos() as u64, r.status, r.bytes));
            }
            anyhow::Ok(seen)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.context("a load task panicked")??);
    }
    let wall = started.elapsed().as_secs_f64();
    let shed = all.iter().filter(|r| r.2 == 503).count();
    let non_2xx = all.iter().filter(|r| !((200..300).contains(&r.2) || args.allow_shed && r.2 == 503)).count();
    let answered: Vec<u64> = all.iter().filter(|r| (200..300).contains(&r.2)).map(|r| r.1).collect();
    let served = super::summarize(answered, wall, None);
    let bytes: usize = all.iter().map(|r| r.3).sum();
    let overall = super::summarize(all.iter().map(|r| r.1).collect(), wall, Some(args.connections));
    let mut per_shape = serde_json::Map::new();
    for (i, s) in shapes.iter().enumerate() {
        let lat: Vec<u64> = all.iter().filter(|r| r.0 == i).map(|r| r.1).collect();
        per_shape.insert(
            s.name.to_string(),
            json!({"share_percent": s.share, "summary": super::summarize(lat, wall, None)}),
        );
    }
    let report = json!({
        "engine": "tsunagu",
        "label": args.label,
        "target": format!("http://{}/v1/search", args.addr),
        "connections": args.connections,
        "duration_s": (wall * 100.0).round() / 100.0,
        "requests": all.len(),
        "requests_per_s": overall.qps,
        "non_2xx": non_2xx,
        "offered_per_s": args.rate,
        "shed_503": shed,
        "served_2xx": served,
        "mean_response_bytes": if all.is_empty() { 0 } else { bytes / all.len() },
        "latency": overall,
        "by_shape": per_shape,
        "machine": super::machine(),
    });
    let text = serde_json::to_string_pretty(&report)?;
    match &args.out {
        Some(p) => std::fs::write(p, text + "\n").with_context(|| format!("writing {}", p.display()))?,
        None => println!("{text}"),
    }
    if let Some(r) = args.rate {
        eprintln!(
            "offered {r:.0} req/s: {} served (2xx) = {:.0} req/s, p50 {} ms, p99 {} ms; {shed} shed with 503",
            all.len() - shed - non_2xx,
            served.qps,
            served.p50_ms,
            served.p99_ms
        );
    }
    eprintln!(
        "HTTP mix: {} requests in {:.1} s = {:.0} req/s with {} connections; p50 {} ms, p95 {} ms, p99 {} ms; {} non-2xx",
        all.len(),
        wall,
        overall.qps,
        args.connections,
        overall.p50_ms,
        overall.p95_ms,
        overall.p99_ms,
        non_2xx
    );
    if non_2xx > 0 {
        bail!("{non_2xx} responses were not 2xx");
    }
    Ok(())
}
