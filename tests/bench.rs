//! `tsunagu-dev bench` end to end on a small copy of the shared workload (tests/data: 300 records
//! and 20 parameter sets per query type from `../shared/bench/gen.py`): the report's shape, the
//! answers checked against brute force over the workload file, the HTTP driver against the
//! served result, and the guards (loopback only; never empty a directory it did not make).

use crate::common;

use std::path::Path;
use std::process::Command;

/// The developer binary that holds the harness (not the production `tsunagu`).
const DEV: &str = env!("CARGO_BIN_EXE_tsunagu-dev");
use serde_json::Value;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/bench-workload-300.jsonl");
const QUERIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/bench-queries-20.json");

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).expect("JSON")
}

fn haversine(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (p1, p2) = (a.0.to_radians(), b.0.to_radians());
    let (dp, dl) = (p2 - p1, (b.1 - a.1).to_radians());
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0087714 * h.sqrt().min(1.0).asin()
}

fn workload() -> Vec<Value> {
    std::fs::read_to_string(DATA).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn the_bench_reports_every_query_type_with_answers_that_match_brute_force_and_drives_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let (report, check) = (out.path().join("report.json"), out.path().join("check.json"));
    let run = Command::new(DEV)
        .args(["bench", "run", "--data", DATA, "--queries", QUERIES, "--count", "20", "--threads", "2"])
        .arg("--work")
        .arg(dir.path())
        .arg("--out")
        .arg(&report)
        .arg("--check-out")
        .arg(&check)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));

    let r = read_json(&report);
    assert_eq!(r["n"], 300);
    assert!(r["build"]["total_s"].as_f64().unwrap() > 0.0);
    assert!(r["build"]["index_bytes"].as_u64().unwrap() > 0);
    for qt in ["q1", "q2", "q3", "q4", "q5"] {
        for mode in ["single", "concurrent"] {
            let s = &r[mode][qt];
            assert_eq!(s["n"], 20, "{mode} {qt}");
            let (p50, p99) = (s["p50_ms"].as_f64().unwrap(), s["p99_ms"].as_f64().unwrap());
            assert!(p50 > 0.0 && p50 <= p99, "{mode} {qt}: {s}");
        }
    }
    assert_eq!(r["concurrent"]["q1"]["clients"], 2);

    // Answers against brute force over the workload file.
    let data = workload();
    let qs = read_json(Path::new(QUERIES));
    let a = read_json(&check);
    for (i, q) in qs["q2"].as_array().unwrap().iter().enumerate() {
        let at = (q["lat"].as_f64().unwrap(), q["lon"].as_f64().unwrap());
        let mut near: Vec<(f64, &str)> = data
            .iter()
            .filter(|r| r["kind"] == q["kind"] && r["care_types"].as_array().unwrap().contains(&q["care_type"]))
            .map(|r| {
                (haversine(at, (r["lat"].as_f64().unwrap(), r["lon"].as_f64().unwrap())), r["id"].as_str().unwrap())
            })
            .collect();
        near.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(y.1)));
        let want: Vec<&str> = near.iter().take(q["k"].as_u64().unwrap() as usize).map(|x| x.1).collect();
        let got: Vec<&str> = a["q2"][i].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(got, want, "q2 #{i}");
    }
    let mut nonzero = 0;
    for (i, q) in qs["q5"].as_array().unwrap().iter().enumerate() {
        let at = (q["lat"].as_f64().unwrap(), q["lon"].as_f64().unwrap());
        let mut counts = std::collections::BTreeMap::<String, u64>::new();
        for r in &data {
            if haversine(at, (r["lat"].as_f64().unwrap(), r["lon"].as_f64().unwrap()))
                <= q["radius_km"].as_f64().unwrap()
            {
                for c in r["care_types"].as_array().unwrap() {
                    *counts.entry(c.as_str().unwrap().to_string()).or_default() += 1;
                }
            }
        }
        nonzero += counts.len();
        let got: std::collections::BTreeMap<String, u64> = serde_json::from_value(a["q5"][i].clone()).unwrap();
        assert_eq!(got, counts, "q5 #{i}");
    }
    assert!(nonzero > 0, "the q5 checks compared something");
    for (i, q) in qs["q3"].as_array().unwrap().iter().enumerate() {
        let text = q["text"].as_str().unwrap();
        let mut want: Vec<&str> = data
            .iter()
            .filter(|r| q["codes"].as_array().unwrap().contains(&r["municipality_code"]))
            .filter(|r| r["name"].as_str().unwrap().contains(text) || r["description"].as_str().unwrap().contains(text))
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        want.sort();
        want.truncate(q["limit"].as_u64().unwrap() as usize);
        let got: Vec<&str> = a["q3"][i].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(got, want, "q3 #{i}");
    }

    // --reuse queries the same directory again without rebuilding; --only picks query types.
    let again = out.path().join("again.json");
    let reuse = |only: &str| {
        Command::new(DEV)
            .args(["bench", "run", "--data", DATA, "--queries", QUERIES, "--count", "5", "--reuse", "--only", only])
            .arg("--work")
            .arg(dir.path())
            .arg("--out")
            .arg(&again)
            .output()
            .unwrap()
    };
    let rerun = reuse("q2,q5");
    assert!(rerun.status.success(), "{}", String::from_utf8_lossy(&rerun.stderr));
    let r2 = read_json(&again);
    assert_eq!(r2["build"]["reused"], true);
    assert_eq!(r2["n"], 300);
    let types: Vec<&String> = r2["single"].as_object().unwrap().keys().collect();
    assert_eq!(types, ["q2", "q5"]);
    let bad = reuse("q2,q9");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown query type \"q9\""));
    let empty = tempfile::tempdir().unwrap();
    let nothing = Command::new(DEV)
        .args(["bench", "run", "--data", DATA, "--queries", QUERIES, "--reuse", "--work"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert!(!nothing.status.success());
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("holds no store and index"));

    // The built directory is a data directory: serve it and drive it over HTTP, bounded.
    let server = common::start_in(dir, &[]);
    let addr = server.base.trim_start_matches("http://").to_string();
    let http_out = out.path().join("http.json");
    let load = Command::new(DEV)
        .args(["bench", "http", "--addr", &addr, "--queries", QUERIES, "--connections", "2"])
        .args(["--duration-secs", "2", "--max-requests", "400", "--out"])
        .arg(&http_out)
        .output()
        .unwrap();
    assert!(load.status.success(), "{}", String::from_utf8_lossy(&load.stderr));
    let h = read_json(&http_out);
    let n = h["requests"].as_u64().unwrap();
    assert!(n > 0 && n <= 400, "{h}");
    assert_eq!(h["non_2xx"], 0);
    assert_eq!(h["by_shape"].as_object().unwrap().len(), 5);
}

#[test]
fn the_load_driver_only_targets_this_machine() {
    let out = Command::new(DEV)
        .args(["bench", "http", "--addr", "10.1.2.3:8080", "--queries", QUERIES, "--duration-secs", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("only targets this machine"), "{out:?}");
}

#[test]
fn the_bench_never_empties_a_directory_it_did_not_make() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("precious.txt"), "keep me").unwrap();
    let out = Command::new(DEV)
        .args(["bench", "run", "--data", DATA, "--queries", QUERIES])
        .arg("--work")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("was not made by `tsunagu-dev bench`"), "{out:?}");
    assert_eq!(std::fs::read_to_string(dir.path().join("precious.txt")).unwrap(), "keep me");
}
