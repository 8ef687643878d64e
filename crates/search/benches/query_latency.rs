//! Latency of understanding + searching and of suggestions, on the bundled sample data replicated
//! to N resources (default 100,000; `TSUNAGU_BENCH_N`). Prints p50/p95/p99 per operation; asserts
//! nothing. Run: `cargo bench -p tsunagu-search --bench query_latency`.

use std::time::Instant;

use tsunagu_model::{LatLon, RadiusKm, ResourceId};
use tsunagu_places::Gazetteer;
use tsunagu_search::{IndexedState, SearchIndex, SearchRequest, Understanding};

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p / 100.0).round() as usize]
}

fn report(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    println!(
        "{name:44} n={:6} p50 {:7.3} ms  p95 {:7.3} ms  p99 {:7.3} ms",
        ms.len(),
        pct(&ms, 50.0),
        pct(&ms, 95.0),
        pct(&ms, 99.0)
    );
}

fn main() {
    let n: usize = std::env::var("TSUNAGU_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let base = tsunagu_sample::bundled().expect("samples");
    let g = Gazetteer::bundled();
    let understanding = Understanding::bundled();
    let dir = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    let mut builder = SearchIndex::builder(&dir.path().join("ix"), g).expect("builder");
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..n {
        let mut r = base[i % base.len()].clone();
        let copy = i / base.len();
        r.id = ResourceId::from_source_id(&format!("bench:{i}"));
        if copy > 0 {
            // Spread copies around their town so that places stay realistic.
            let p = r.location.expect("samples have points");
            let d = (copy as f64 * 0.6180339).fract() - 0.5;
            r.location = LatLon::new(p.lat() + d * 0.05, p.lon() - d * 0.06).ok();
            r.name = format!("{}{}", r.name, copy);
        }
        batch.push(r);
        if batch.len() == 10_000 {
            builder.add(&batch).expect("add");
            batch.clear();
        }
    }
    builder.add(&batch).expect("add");
    let index = builder.finish(IndexedState { store_id: "bench".into(), seq: 0 }).expect("finish");
    println!(
        "built an index of {n} resources in {:.1} s ({:.1} MiB on disk)",
        started.elapsed().as_secs_f64(),
        index.size_on_disk() as f64 / 1048576.0
    );

    let judged: Vec<&str> = include_str!("../../../tests/relevance.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    // Understanding + search as the API runs it (municipality places → 20 km around the office).
    let mut ms = Vec::new();
    for round in 0..5 {
        for q in &judged {
            let t = Instant::now();
            let it = understanding.understand(q);
            let mut req = SearchRequest { limit: 20, ..SearchRequest::default() };
            req.text = Some(it.remaining_text.clone()).filter(|t| !t.is_empty());
            req.kinds = it.kinds.clone();
            req.care_types = it.care_types.iter().copied().collect();
            req.care_any = it.care_any.clone();
            if let Some(p) = &it.place {
                req.point = Some(p.point);
                if p.region_id.is_some() && p.municipality_code.is_none() {
                    req.municipalities = g.region(p.region_id.as_deref().unwrap()).map(|r| g.region_codes(r));
                } else {
                    req.radius = RadiusKm::new(20.0).ok();
                }
            }
            let res = index.search(&req).expect("search");
            std::hint::black_box(res);
            if round > 0 {
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
    }
    report("understand + search (judged queries)", ms);

    let text = SearchRequest { text: Some("訪問看護".into()), limit: 20, ..SearchRequest::default() };
    let mut ms = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        std::hint::black_box(index.search(&text).expect("search"));
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    report("text 訪問看護, all matches ranked + facets", ms);

    let prefixes = [
        "き",
        "きゅう",
        "キュウイン",
        "ほう",
        "放デ",
        "まつも",
        "さいたま",
        "ひまわり",
        "こもれび",
        "vent",
        "suct",
        "day",
        "訪問",
        "たんぽぽ",
        "ショート",
        "in",
    ];
    let mut ms = Vec::new();
    for _ in 0..100 {
        for p in prefixes {
            let t = Instant::now();
            std::hint::black_box(index.suggest(understanding, p, 8));
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    report("suggest (as-you-type prefixes)", ms);
}
