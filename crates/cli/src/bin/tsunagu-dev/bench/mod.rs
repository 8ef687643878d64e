//! `tsunagu-dev bench`: the shared workload through the real import path, the index build, and the
//! five query types in-process (one thread and several), with the same query parameters as the
//! SQLite FTS5 + R*Tree peer in `../shared/bench`. Also the HTTP load driver ([`http`]).
//!
//! Latency is the wall time of one search from request to the list of result ids, measured per
//! query like the peer's `benchlib.run_single`: a warm-up pass (not measured), then every
//! parameter set once.

pub mod http;
pub mod workload;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;
use serde_json::{Value, json};
use tsunagu_model::{CareSet, LatLon, MunicipalityCode, RadiusKm};
use tsunagu_search::{Covers, SearchIndex, SearchRequest, Sort, TextScope};
use tsunagu_store::{SqliteStore, Store};

use tsunagu_cli::import::{Mode, Plan, RowReader, import_rows};
use workload::Queries;

/// The query types, in the peer's order.
pub const QTYPES: [&str; 5] = ["q1", "q2", "q3", "q4", "q5"];

pub struct RunArgs {
    pub data: PathBuf,
    pub queries: PathBuf,
    /// Data directory to build in (emptied first); `tsunagu serve --data-dir` can serve it after.
    pub work: PathBuf,
    /// Parameter sets per query type.
    pub count: usize,
    /// Threads for the concurrent run.
    pub threads: usize,
    pub out: Option<PathBuf>,
    /// Write the first results of the first 100 queries per type (for `sqlite_peer.py check`).
    pub check_out: Option<PathBuf>,
    pub label: Option<String>,
    /// Query what a previous run built in `work` instead of importing and indexing again.
    pub reuse: bool,
    /// Query types to run (all when empty).
    pub only: Vec<String>,
}

/// Latency summary of one run, in the peer's shape.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub n: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub mean_ms: f64,
    pub max_ms: f64,
    pub qps: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clients: Option<usize>,
}

/// Percentile with linear interpolation between closest ranks (as the peer's `benchlib.pct`).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let k = (sorted.len() - 1) as f64 * p / 100.0;
    let f = k.floor() as usize;
    let c = (f + 1).min(sorted.len() - 1);
    sorted[f] + (sorted[c] - sorted[f]) * (k - f as f64)
}

/// Summarise latencies in nanoseconds over a wall time in seconds.
pub fn summarize(mut lat_ns: Vec<u64>, wall_s: f64, clients: Option<usize>) -> Summary {
    lat_ns.sort_unstable();
    let ms: Vec<f64> = lat_ns.iter().map(|v| *v as f64 / 1e6).collect();
    let r4 = |v: f64| (v * 10_000.0).round() / 10_000.0;
    Summary {
        n: ms.len(),
        p50_ms: r4(percentile(&ms, 50.0)),
        p95_ms: r4(percentile(&ms, 95.0)),
        p99_ms: r4(percentile(&ms, 99.0)),
        mean_ms: r4(ms.iter().sum::<f64>() / ms.len().max(1) as f64),
        max_ms: r4(ms.last().copied().unwrap_or(f64::NAN)),
        qps: (ms.len() as f64 / wall_s.max(1e-9) * 10.0).round() / 10.0,
        clients,
    }
}

/// `VmHWM` / `VmRSS` of this process in bytes (Linux).
pub fn memory(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Reset the peak-RSS mark (Linux `clear_refs` 5), so the next phase measures its own peak.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn mib(b: Option<u64>) -> Value {
    b.map_or(Value::Null, |b| json!((b as f64 / 1048576.0 * 10.0).round() / 10.0))
}

/// Bytes of the SQLite database with its write-ahead log.
fn store_bytes(db: &Path) -> u64 {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", db.display())).ok())
        .map(|m| m.len())
        .sum()
}

fn point(lat: f64, lon: f64) -> anyhow::Result<LatLon> {
    LatLon::new(lat, lon).map_err(|e| anyhow::anyhow!("query point: {e}"))
}

fn radius(km: f64) -> anyhow::Result<RadiusKm> {
    RadiusKm::new(km).map_err(|e| anyhow::anyhow!("query radius: {e}"))
}

fn one_kind(code: &str) -> anyhow::Result<tsunagu_model::Kind> {
    workload::kind(code).with_context(|| format!("unknown workload kind `{code}`"))
}

fn one_care(code: &str) -> anyhow::Result<CareSet> {
    let c = workload::care(code).with_context(|| format!("unknown workload care type `{code}`"))?;
    Ok(CareSet::from_iter([c]))
}

/// The structured tsunagu request for each parameter set of a query type.
pub fn requests(qs: &Queries, qt: &str, count: usize) -> anyhow::Result<Vec<SearchRequest>> {
    let base = SearchRequest { facets: false, ..SearchRequest::default() };
    let mut out = Vec::new();
    match qt {
        // Text in name or description, within the radius, confirming the care type, nearest first.
        "q1" => {
            for p in qs.q1.iter().take(count) {
                out.push(SearchRequest {
                    text: Some(p.text.clone()),
                    text_scope: TextScope::NameAndDescription,
                    point: Some(point(p.lat, p.lon)?),
                    radius: Some(radius(p.radius_km)?),
                    care_types: one_care(&p.care_type)?,
                    include_unconfirmed: false,
                    sort: Some(Sort::Distance),
                    limit: p.limit,
                    ..base.clone()
                });
            }
        }
        // The k nearest of a kind confirming a care type.
        "q2" => {
            for p in qs.q2.iter().take(count) {
                out.push(SearchRequest {
                    point: Some(point(p.lat, p.lon)?),
                    kinds: vec![one_kind(&p.kind)?],
                    care_types: one_care(&p.care_type)?,
                    include_unconfirmed: false,
                    sort: Some(Sort::Distance),
                    limit: p.k,
                    ..base.clone()
                });
            }
        }
        // Text within municipalities, best matches first.
        "q3" => {
            for p in qs.q3.iter().take(count) {
                let codes = p
                    .codes
                    .iter()
                    .map(|c| c.parse::<MunicipalityCode>().map_err(|e| anyhow::anyhow!("code {c}: {e}")))
                    .collect::<anyhow::Result<Vec<_>>>()?;
                out.push(SearchRequest {
                    text: Some(p.text.clone()),
                    text_scope: TextScope::NameAndDescription,
                    municipalities: Some(codes),
                    limit: p.limit,
                    ..base.clone()
                });
            }
        }
        // Transport whose service area covers the point, nearest first.
        "q4" => {
            for p in qs.q4.iter().take(count) {
                let at = point(p.lat, p.lon)?;
                out.push(SearchRequest {
                    point: Some(at),
                    covers: Some(Covers { point: at, municipality: None }),
                    kinds: vec![one_kind(&p.kind)?],
                    sort: Some(Sort::Distance),
                    limit: p.limit,
                    ..base.clone()
                });
            }
        }
        // Care-type counts within the radius (facets only).
        "q5" => {
            for p in qs.q5.iter().take(count) {
                out.push(SearchRequest {
                    point: Some(point(p.lat, p.lon)?),
                    radius: Some(radius(p.radius_km)?),
                    facets: true,
                    limit: 0,
                    ..base.clone()
                });
            }
        }
        other => anyhow::bail!("unknown query type {other}"),
    }
    Ok(out)
}

/// One thread: warm-up over the first `warmup` requests, then every request once.
fn run_single(index: &SearchIndex, reqs: &[SearchRequest], warmup: usize) -> anyhow::Result<Summary> {
    for r in reqs.iter().take(warmup) {
        index.search(r)?;
    }
    let mut lat = Vec::with_capacity(reqs.len());
    let t0 = Instant::now();
    for r in reqs {
        let a = Instant::now();
        let found = index.search(r)?;
        std::hint::black_box(found.hits.len());
        lat.push(a.elapsed().as_nanos() as u64);
    }
    Ok(summarize(lat, t0.elapsed().as_secs_f64(), None))
}

/// `threads` threads split the requests round-robin and run them as fast as they can.
fn run_concurrent(index: &SearchIndex, reqs: &[SearchRequest], threads: usize) -> anyhow::Result<Summary> {
    let barrier = std::sync::Barrier::new(threads);
    let results: Vec<anyhow::Result<(Instant, Instant, Vec<u64>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let mine: Vec<&SearchRequest> = reqs.iter().skip(t).step_by(threads).collect();
                let barrier = &barrier;
                s.spawn(move || -> anyhow::Result<(Instant, Instant, Vec<u64>)> {
                    for r in mine.iter().take(50) {
                        index.search(r)?;
                    }
                    barrier.wait();
                    let mut lat = Vec::with_capacity(mine.len());
                    let t0 = Instant::now();
                    for r in &mine {
                        let a = Instant::now();
                        std::hint::black_box(index.search(r)?.hits.len());
                        lat.push(a.elapsed().as_nanos() as u64);
                    }
                    Ok((t0, Instant::now(), lat))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a bench thread panicked"))))
            .collect()
    });
    let mut lat = Vec::new();
    let (mut first, mut last) = (None::<Instant>, None::<Instant>);
    for r in results {
        let (a, b, l) = r?;
        first = Some(first.map_or(a, |f| f.min(a)));
        last = Some(last.map_or(b, |x| x.max(b)));
        lat.extend(l);
    }
    let wall = match (first, last) {
        (Some(a), Some(b)) => (b - a).as_secs_f64(),
        _ => 0.0,
    };
    Ok(summarize(lat, wall, Some(threads)))
}

/// Workload ids of resources (their `source.id`), read from the store.
async fn workload_ids(store: &dyn Store, ids: &[tsunagu_model::ResourceId]) -> anyhow::Result<Vec<String>> {
    let found = store.get_many(ids).await?;
    let by_id: HashMap<_, _> = found.into_iter().map(|r| (r.id, r.source.id.unwrap_or_default())).collect();
    Ok(ids.iter().map(|id| by_id.get(id).cloned().unwrap_or_else(|| format!("?{id}"))).collect())
}

/// The answers to the first `n` queries of each type, in the peer's `check` shape: ids in order
/// for q1, q2, q4; for q3 the peer lists matches by id, so every match is fetched and the first
/// `limit` by workload id are kept; for q5 the counts per care type.
async fn answers(index: &SearchIndex, store: &dyn Store, qs: &Queries, n: usize) -> anyhow::Result<Value> {
    let mut out = serde_json::Map::new();
    for qt in QTYPES {
        let reqs = requests(qs, qt, n)?;
        let mut list = Vec::new();
        for (i, req) in reqs.iter().enumerate() {
            match qt {
                "q3" => {
                    let all = index.search_all(req)?;
                    let ids: Vec<_> = all.hits.iter().map(|h| h.id).collect();
                    let mut names = workload_ids(store, &ids).await?;
                    names.sort();
                    names.truncate(qs.q3[i].limit);
                    list.push(json!(names));
                }
                "q5" => {
                    let found = index.search(req)?;
                    let counts: serde_json::Map<String, Value> = found
                        .facets
                        .map(|f| {
                            f.care_types.iter().map(|(c, n)| (workload::care_name(*c).to_string(), json!(n))).collect()
                        })
                        .unwrap_or_default();
                    list.push(Value::Object(counts));
                }
                _ => {
                    let found = index.search(req)?;
                    let ids: Vec<_> = found.hits.iter().map(|h| h.id).collect();
                    list.push(json!(workload_ids(store, &ids).await?));
                }
            }
        }
        out.insert(qt.to_string(), Value::Array(list));
    }
    Ok(Value::Object(out))
}

pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    // The bench's start-up: the places it imports and indexes with.
    let places = tsunagu_places::Places::bundled();
    let qs: Queries = serde_json::from_slice(
        &std::fs::read(&args.queries).with_context(|| format!("reading {}", args.queries.display()))?,
    )
    .with_context(|| format!("{} is not a gen.py queries file", args.queries.display()))?;
    if args.threads == 0 || args.count == 0 {
        anyhow::bail!("--threads and --count must be at least 1");
    }
    if let Some(bad) = args.only.iter().find(|q| !QTYPES.contains(&q.as_str())) {
        anyhow::bail!("--only: unknown query type {bad:?} (expected some of {})", QTYPES.join(", "));
    }
    let total_bytes = std::fs::metadata(&args.data).with_context(|| format!("reading {}", args.data.display()))?.len();
    // Only a new or empty directory, or one a previous bench made, is emptied.
    let marker = args.work.join(".tsunagu-bench");
    let db = args.work.join("tsunagu.sqlite3");
    let index_dir = args.work.join("index");
    if args.reuse {
        if !marker.exists() || !db.exists() || !index_dir.exists() {
            anyhow::bail!("--reuse: {} holds no store and index from `tsunagu-dev bench run`", args.work.display());
        }
        let store = SqliteStore::open(&db).await?;
        return measure(places.gazetteer, &args, &qs, &store, &db, &index_dir, None).await;
    }
    if args.work.exists() {
        let empty = std::fs::read_dir(&args.work)?.next().is_none();
        if !empty && !marker.exists() {
            anyhow::bail!(
                "{} is not empty and was not made by `tsunagu-dev bench`; give a new directory",
                args.work.display()
            );
        }
        std::fs::remove_dir_all(&args.work).with_context(|| format!("emptying {}", args.work.display()))?;
    }
    std::fs::create_dir_all(&args.work)?;
    std::fs::write(&marker, "made by `tsunagu-dev bench run`; emptied by the next run\n")?;
    let started = Instant::now();

    // 1. Import through the real pipeline (reader thread → batches → one store transaction).
    let store = SqliteStore::open(&db).await?;
    let input = std::fs::File::open(&args.data)?;
    let read: RowReader = Box::new(move |pos, each| {
        let reader =
            std::io::BufReader::with_capacity(1 << 16, tsunagu_exchange::json_stream::Counting::new(input, pos));
        tsunagu_exchange::read_lines(reader, &workload::parse_line, each).map_err(|e| e.reason)?;
        Ok(("UTF-8".to_string(), Default::default()))
    });
    let imported = import_rows(
        &places,
        &store,
        &args.data,
        total_bytes,
        &Plan { mode: Mode::AllOrNothing, official: false, sweep: false },
        &tsunagu_store::Actor::system("bench:import"),
        read,
    )
    .await?;
    let Some(summary) = imported.summary else {
        anyhow::bail!("{} invalid workload row(s); nothing was imported", imported.invalid);
    };
    let import_s = started.elapsed().as_secs_f64();
    eprintln!("imported {} workload records in {import_s:.1} s", summary.created + summary.updated);

    // 2. Build the index from the store (what `tsunagu reindex` and a first `serve` do).
    let t = Instant::now();
    let state = store.state().await?;
    let built = tsunagu_directory::rebuild(&store, places.gazetteer, &index_dir, &state).await?;
    let index_s = t.elapsed().as_secs_f64();
    let build_peak = memory("VmHWM:");
    let index_bytes = built.size_on_disk();
    drop(built);
    eprintln!("index built in {index_s:.1} s");
    let build_total_s = started.elapsed().as_secs_f64();
    let build = json!({
        "import_s": round2(import_s),
        "index_s": round2(index_s),
        "total_s": round2(build_total_s),
        "rows_per_s": (imported.valid as f64 / import_s.max(1e-9)).round(),
        "peak_rss_mib": mib(build_peak),
        "store_bytes": store_bytes(&db),
        "index_bytes": index_bytes,
    });
    measure(places.gazetteer, &args, &qs, &store, &db, &index_dir, Some(build)).await
}

/// Open the built index as `tsunagu serve` does and time the queries; `build` is `None` when a
/// previous run's directory is reused.
async fn measure(
    places: &'static tsunagu_places::Gazetteer,
    args: &RunArgs,
    qs: &Queries,
    store: &SqliteStore,
    db: &Path,
    index_dir: &Path,
    build: Option<Value>,
) -> anyhow::Result<()> {
    // 3. Serve: open the index as `tsunagu serve` does, with a fresh peak-RSS mark.
    let peak_reset = reset_peak();
    let t = Instant::now();
    let index = match SearchIndex::open(index_dir, places)? {
        Ok(i) => Arc::new(i),
        Err(why) => anyhow::bail!("the built index does not open: {why:?}"),
    };
    let open_s = t.elapsed().as_secs_f64();

    let mut single = serde_json::Map::new();
    let mut concurrent = serde_json::Map::new();
    for qt in QTYPES.into_iter().filter(|q| args.only.is_empty() || args.only.iter().any(|o| o == q)) {
        let reqs = requests(qs, qt, args.count)?;
        let s = run_single(&index, &reqs, 200.min(reqs.len()))?;
        eprintln!("tsunagu {qt} single {s:?}");
        single.insert(qt.into(), serde_json::to_value(&s)?);
        let c = run_concurrent(&index, &reqs, args.threads)?;
        eprintln!("tsunagu {qt} concurrent {c:?}");
        concurrent.insert(qt.into(), serde_json::to_value(&c)?);
    }
    let serving_peak = if peak_reset { memory("VmHWM:") } else { None };

    if let Some(path) = &args.check_out {
        let a = answers(&index, store, qs, 100).await?;
        std::fs::write(path, serde_json::to_string(&a)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }

    let report = json!({
        "engine": "tsunagu",
        "version": env!("CARGO_PKG_VERSION"),
        "label": args.label,
        "data": args.data.display().to_string(),
        "n": index.len(),
        "machine": machine(),
        "build": build.unwrap_or_else(|| json!({ "reused": true, "store_bytes": store_bytes(db) })),
        "serving": {
            "open_s": round2(open_s),
            "rss_mib": mib(memory("VmRSS:")),
            "peak_rss_mib": mib(serving_peak),
        },
        "single": single,
        "concurrent": concurrent,
    });
    let text = serde_json::to_string_pretty(&report)?;
    match &args.out {
        Some(p) => std::fs::write(p, text + "\n").with_context(|| format!("writing {}", p.display()))?,
        None => println!("{text}"),
    }
    print_table(&report);
    Ok(())
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Cores, memory and CPU model of this machine.
pub fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).map(str::trim);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<u64>().ok()));
    json!({
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "cpu": model,
        "memory_gib": mem.map(|k| (k as f64 / 1048576.0 * 10.0).round() / 10.0),
    })
}

fn print_table(r: &Value) {
    eprintln!("\nquery   p50 ms   p95 ms   p99 ms   qps(1)   qps({})", r["concurrent"]["q1"]["clients"]);
    for qt in QTYPES {
        let s = &r["single"][qt];
        let c = &r["concurrent"][qt];
        eprintln!("{qt}   {:>8} {:>8} {:>8} {:>8} {:>8}", s["p50_ms"], s["p95_ms"], s["p99_ms"], s["qps"], c["qps"]);
    }
    eprintln!(
        "build: import {} s + index {} s = {} s; peak RSS build {} MiB, serving {} MiB; index {} bytes",
        r["build"]["import_s"],
        r["build"]["index_s"],
        r["build"]["total_s"],
        r["build"]["peak_rss_mib"],
        r["serving"]["peak_rss_mib"],
        r["build"]["index_bytes"]
    );
}
