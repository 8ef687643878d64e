//! The `tsunagu` command line: import/export round trip, all-or-nothing imports with a report,
//! reindex, and clear errors with a non-zero exit.

use crate::common;

use std::process::Command;

use common::BIN;

fn tsunagu(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN).arg("--data-dir").arg(data).args(args).env("RUST_LOG", "warn").output().expect("run tsunagu")
}

#[test]
fn export_then_import_into_an_empty_store_round_trips_exactly() {
    let a = tempfile::tempdir().unwrap();
    let samples = a.path().join("samples.jsonl");
    std::fs::write(&samples, tsunagu_sample::bundled_text()).unwrap();
    let out = tsunagu(a.path(), &["import", samples.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1938 created")
            || String::from_utf8_lossy(&out.stdout).contains("created")
    );
    let first = a.path().join("first.jsonl");
    assert!(tsunagu(a.path(), &["export", "--out", first.to_str().unwrap()]).status.success());

    let b = tempfile::tempdir().unwrap();
    assert!(tsunagu(b.path(), &["import", first.to_str().unwrap()]).status.success());
    let second = b.path().join("second.jsonl");
    assert!(tsunagu(b.path(), &["export", "--out", second.to_str().unwrap()]).status.success());

    let strip = |p: &std::path::Path| -> Vec<serde_json::Value> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                v.as_object_mut().unwrap().remove("created_at");
                v.as_object_mut().unwrap().remove("updated_at");
                v
            })
            .collect()
    };
    let (x, y) = (strip(&first), strip(&second));
    assert_eq!(x.len(), tsunagu_sample::bundled().unwrap().len());
    assert_eq!(x, y);

    // Re-importing the same file changes nothing.
    let again = tsunagu(b.path(), &["import", first.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains(&format!("0 created, 0 updated, {} unchanged", x.len())),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
}

#[test]
fn an_import_with_bad_lines_writes_nothing_and_reports_each_line() {
    let d = tempfile::tempdir().unwrap();
    let good = tsunagu_sample::bundled_text().lines().next().unwrap().to_string();
    let mut bad_kind: serde_json::Value = serde_json::from_str(&good).unwrap();
    bad_kind["kind"] = "daycar".into();
    bad_kind["id"] = "0190c6b2-7d3e-7c41-9f6a-2b5d1e8a4c21".into();
    let file = d.path().join("mixed.jsonl");
    let mut bad_area: serde_json::Value = serde_json::from_str(&good).unwrap();
    bad_area["id"] = "0190c6b2-7d3e-7c41-9f6a-2b5d1e8a4c22".into();
    bad_area["service_area"] = serde_json::json!({"type": "region", "region_id": "20-99"});
    std::fs::write(&file, format!("{good}\n{bad_kind}\nnot json\n{bad_area}\n")).unwrap();
    let out = tsunagu(d.path(), &["import", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("row 2: unknown kind `daycar`") && err.contains("did you mean `daycare`"), "{err}");
    assert!(err.contains("row 3") && err.contains("not JSON"), "{err}");
    assert!(err.contains("row 4") && err.contains("unknown region `20-99`"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    let export = tsunagu(d.path(), &["export"]);
    assert!(export.stdout.is_empty(), "the good line was not written either");
}

#[test]
fn missing_files_and_reindex_are_reported_plainly() {
    let d = tempfile::tempdir().unwrap();
    let out = tsunagu(d.path(), &["import", "/nonexistent/file.jsonl"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("opening /nonexistent/file.jsonl"));
    let samples = d.path().join("s.jsonl");
    std::fs::write(&samples, tsunagu_sample::bundled_text()).unwrap();
    assert!(tsunagu(d.path(), &["import", samples.to_str().unwrap()]).status.success());
    let out = tsunagu(d.path(), &["reindex"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("reindexed 1938 resources"));
}

/// `tsunagu serve` on a free loopback port over `data` with `extra` flags, logging at `log` to
/// `stderr`; returns the process and its base URL once it says it listens.
fn serve(
    data: &std::path::Path,
    extra: &[&str],
    log: &str,
    stderr: std::process::Stdio,
) -> (std::process::Child, String) {
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(extra)
        .env("RUST_LOG", log)
        .stdout(std::process::Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
    assert!(line.contains("listening on http://127.0.0.1:"), "{line}");
    let base = line.split_whitespace().find(|w| w.starts_with("http://")).unwrap().to_string();
    (child, base)
}

#[test]
fn sigterm_stops_the_server_gracefully() {
    let d = tempfile::tempdir().unwrap();
    let (child, base) = serve(d.path(), &[], "info", std::process::Stdio::piped());
    let ok = reqwest::blocking::get(format!("{base}/v1/search?q=%E5%90%B8%E5%BC%95&near=390-0811")).unwrap();
    assert_eq!(ok.status().as_u16(), 200, "answers searches right after start");
    let request_id = ok.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap().to_string();
    // A survey token and a record id travel in paths: the log has the route template only.
    let token = "f".repeat(64);
    let _ = reqwest::blocking::get(format!("{base}/survey/{token}")).unwrap();
    let _ = reqwest::blocking::get(format!("{base}/v1/resources/0190c6b2-7d3e-7c41-9f6a-2b5d1e8a4c21")).unwrap();
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit status {:?}", out.status);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("shutting down") && log.contains("stopped"), "{log}");
    // The request is logged by id, method and path; the family's words and place are not.
    assert!(log.contains(&request_id) && log.contains("route=/v1/search"), "{log}");
    assert!(log.contains("route=/survey/{token}") && log.contains("route=/v1/resources/{id}"), "{log}");
    for private in ["%E5%90%B8", "吸引", "390-0811", "q=", &token, "0190c6b2-7d3e"] {
        assert!(!log.contains(private), "{private} in the log: {log}");
    }
    // Written to a pipe (a file, a journal): plain text, no terminal colour codes.
    assert!(!log.contains('\u{1b}'), "ANSI escape codes in the log: {log:?}");
}

fn cp932(text: &str) -> Vec<u8> {
    tsunagu_exchange::text::encode_shift_jis(text)
}

#[test]
fn a_cp932_csv_from_the_prefecture_is_imported_with_a_row_report_and_reimports_update() {
    let d = tempfile::tempdir().unwrap();
    let csv = "外部ID,名称,種別,住所,電話番号,医療的ケア対応,出典\n\
               N-001,ひまわり保育園,保育所,長野県松本市丸の内3-7,0263-00-0001,たん吸引;胃ろう,長野県\n\
               N-002,あおぞら訪問看護,訪問看護,松本市大手1-1,0263-00-0002,人工呼吸器,長野県\n\
               N-003,さくら園,保育園の一種,松本市丸の内3-7,,,長野県\n";
    let file = d.path().join("prefecture.csv");
    std::fs::write(&file, cp932(csv)).unwrap();

    let dry = tsunagu(d.path(), &["import", file.to_str().unwrap(), "--dry-run"]);
    assert!(!dry.status.success());
    let err = String::from_utf8_lossy(&dry.stderr);
    assert!(err.contains("row 4: kind: unknown kind `保育園の一種`"), "{err}");
    assert!(err.contains("Shift_JIS/CP932") && err.contains("2 valid, 1 with problems"), "{err}");

    let all = tsunagu(d.path(), &["import", file.to_str().unwrap()]);
    assert!(!all.status.success(), "all or nothing by default");
    assert!(tsunagu(d.path(), &["export"]).stdout.is_empty());

    let some = tsunagu(d.path(), &["import", file.to_str().unwrap(), "--skip-invalid"]);
    assert!(some.status.success(), "{}", String::from_utf8_lossy(&some.stderr));
    assert!(
        String::from_utf8_lossy(&some.stdout).contains("2 created, 0 updated, 0 unchanged; 1 invalid row(s) skipped")
    );

    // The prefecture sends the list again with a changed phone: updated by 外部ID, not duplicated.
    std::fs::write(&file, cp932(&csv.replace("0263-00-0002", "0263-99-0002"))).unwrap();
    let again = tsunagu(d.path(), &["import", file.to_str().unwrap(), "--skip-invalid"]);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("0 created, 1 updated, 1 unchanged"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    let exported = String::from_utf8(tsunagu(d.path(), &["export"]).stdout).unwrap();
    assert_eq!(exported.lines().count(), 2);
    assert!(exported.contains("0263-99-0002") && !exported.contains("0263-00-0002"));
}

/// The HSDS export gives an address the postal code the bundled postal data lists for its town
/// when a record has none (HSDS requires one), so the round trip may gain exactly those: check
/// that each gained code is the one the export derives, then drop it for the comparison.
fn without_derived_postal_codes(x: &str, y: &str) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let places = tsunagu_places::Places::bundled();
    let mut gained = 0;
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    assert_eq!(x.lines().count(), y.lines().count());
    for (a, b) in x.lines().zip(y.lines()) {
        let (va, mut vb): (serde_json::Value, serde_json::Value) =
            (serde_json::from_str(a).unwrap(), serde_json::from_str(b).unwrap());
        if va.get("postal_code").is_none() && vb.get("postal_code").is_some() {
            let r = tsunagu_exchange::jsonl::parse_line(&places, 1, a).unwrap();
            let service = tsunagu_exchange::hsds::service(&places, &r);
            let derived = &service["service_at_locations"][0]["location"]["addresses"][0]["postal_code"];
            assert_eq!(&vb["postal_code"], derived, "{}", va["name"]);
            vb.as_object_mut().unwrap().remove("postal_code");
            gained += 1;
        }
        xs.push(va);
        ys.push(vb);
    }
    println!("the HSDS round trip gained {gained} derived postal codes");
    (xs, ys)
}

#[test]
fn every_export_format_imports_back_identically() {
    let a = tempfile::tempdir().unwrap();
    let samples = a.path().join("s.jsonl");
    std::fs::write(&samples, tsunagu_sample::bundled_text()).unwrap();
    assert!(tsunagu(a.path(), &["import", samples.to_str().unwrap()]).status.success());
    let x = String::from_utf8(tsunagu(a.path(), &["export"]).stdout).unwrap();
    assert_eq!(x.lines().count(), 1938);
    for (file, args) in [
        ("all.csv", &["--format", "csv", "--encoding", "cp932"][..]),
        ("all.hsds.json", &["--format", "hsds"][..]),
        ("all.geojson", &["--format", "geojson"][..]),
    ] {
        let path = a.path().join(file);
        let mut export = vec!["export", "--out", path.to_str().unwrap()];
        export.extend_from_slice(args);
        let out = tsunagu(a.path(), &export);
        assert!(out.status.success(), "{file}: {}", String::from_utf8_lossy(&out.stderr));
        // Into an empty store, the format told by the file name.
        let b = tempfile::tempdir().unwrap();
        let imported = tsunagu(b.path(), &["import", path.to_str().unwrap()]);
        assert!(imported.status.success(), "{file}: {}", String::from_utf8_lossy(&imported.stderr));
        assert!(String::from_utf8_lossy(&imported.stdout).contains("1938 created"), "{file}");
        let y = String::from_utf8(tsunagu(b.path(), &["export"]).stdout).unwrap();
        if file.ends_with("hsds.json") {
            let (x, y) = without_derived_postal_codes(&x, &y);
            assert!(x == y, "{file}: the original and the round trip differ beyond derived postal codes");
        } else {
            assert!(x == y, "{file}: JSON Lines of the original and of the round trip differ");
        }
    }
    let out = tsunagu(a.path(), &["export", "--format", "geojson", "--encoding", "cp932"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("CSV only"));
}

#[test]
fn an_import_killed_mid_way_leaves_none_or_all_rows_and_a_consistent_index() {
    let base = tsunagu_sample::bundled().unwrap();
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("big.jsonl");
    let n = 20_000;
    let mut text = String::new();
    for i in 0..n {
        let mut r = base[i % base.len()].clone();
        r.id = tsunagu_model::ResourceId::from_source_id(&format!("kill-test:{i}"));
        r.source.id = Some(format!("kill-test:{i}"));
        text.push_str(&tsunagu_exchange::jsonl::line(&r));
        text.push('\n');
    }
    std::fs::write(&file, text).unwrap();
    let mut outcomes = Vec::new();
    // Spread over the import (parsing first, then one write transaction) so kills land in both.
    for delay_ms in [1000u64, 2500, 4000, 5500, 7000] {
        let data = tempfile::tempdir().unwrap();
        let mut child = Command::new(BIN)
            .arg("--data-dir")
            .arg(data.path())
            .args(["import", file.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = Command::new("kill").args(["-KILL", &child.id().to_string()]).status();
        let status = child.wait().unwrap();
        let rows = String::from_utf8(tsunagu(data.path(), &["export"]).stdout).unwrap().lines().count();
        assert!(rows == 0 || rows == n, "after SIGKILL at {delay_ms} ms the store holds {rows} of {n} rows");
        outcomes.push((delay_ms, status.success(), rows));
        // The server starts on whatever the store holds and its index agrees.
        let server = common::start_in(data, &["--no-sample-data"]);
        let ready = server.get("/readyz");
        assert_eq!(ready.body["resources"], ready.body["indexed"], "{:?}", ready.body);
        // An empty store gets the bundled real records on start; otherwise it holds the batch.
        let real = tsunagu_exchange::bundled::real_records(&tsunagu_places::Places::bundled()).unwrap().len();
        let served = ready.body["resources"].as_u64().unwrap() as usize;
        assert_eq!(served, if rows == 0 { real } else { rows });
    }
    println!("SIGKILL outcomes (delay ms, finished, rows): {outcomes:?}");
}

#[test]
fn the_centre_binary_shows_only_what_a_centre_uses() {
    let help = Command::new(BIN).arg("--help").output().unwrap();
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for cmd in ["serve", "import", "export", "reindex", "keys", "survey"] {
        assert!(text.contains(&format!("  {cmd} ")), "{cmd} missing: {text}");
    }
    for dev in ["bench", "sample"] {
        assert!(!text.contains(&format!("  {dev} ")), "{dev} in the centre's binary: {text}");
    }
    let dev = Command::new(env!("CARGO_BIN_EXE_tsunagu-dev")).arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&dev.stdout);
    assert!(text.contains("  bench ") && text.contains("  sample "), "{text}");
}

#[test]
fn the_readme_first_command_runs_the_centre_binary() {
    // `cargo run --release -p tsunagu -- serve` needs a default binary now that the package has two.
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    assert!(manifest.contains("default-run = \"tsunagu\""), "crates/cli/Cargo.toml has no default-run");
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    assert!(readme.contains("cargo run --release -p tsunagu -- serve"), "the README's first command changed");
}

#[test]
fn a_backup_taken_during_writes_restores_to_a_consistent_store_whose_index_rebuilds() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let d = tempfile::tempdir().unwrap();
    let created = tsunagu(d.path(), &["keys", "create", "--role", "admin", "--name", "backup test"]);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let key = String::from_utf8(created.stdout).unwrap().trim().to_string();
    let (mut child, base) = serve(d.path(), &[], "warn", std::process::Stdio::null());
    let count = |base: &str| -> u64 {
        let v: serde_json::Value = reqwest::blocking::get(format!("{base}/readyz")).unwrap().json().unwrap();
        v["resources"].as_u64().unwrap()
    };
    let before = count(&base);
    // A burst of imports, 20 records each, one transaction each, while the backup is taken.
    let stop = Arc::new(AtomicBool::new(false));
    let batches = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (stop, batches, base, key) = (stop.clone(), batches.clone(), base.clone(), key.clone());
        std::thread::spawn(move || {
            let http = reqwest::blocking::Client::new();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) && i < 400 {
                let mut csv = String::from("外部ID,名称,種別,住所,サンプル\n");
                for j in 0..20 {
                    csv.push_str(&format!(
                        "B-{i}-{j},【サンプル】バックアップ試験{i}-{j},保育所,長野県松本市丸の内3-7,true\n"
                    ));
                }
                let res = http
                    .post(format!("{base}/v1/imports?format=csv&mode=all_or_nothing"))
                    .header("Authorization", format!("Bearer {key}"))
                    .body(csv)
                    .send()
                    .unwrap();
                assert!(res.status().is_success(), "{}", res.text().unwrap());
                batches.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        })
    };
    while batches.load(Ordering::Relaxed) < 3 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let file = d.path().join("backup.sqlite3");
    let out = tsunagu(d.path(), &["backup", "--out", file.to_str().unwrap()]);
    let taken = batches.load(Ordering::Relaxed);
    // Writes go on after the backup: wait for a batch that finished after it (a slow machine may
    // take a while), then stop.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while batches.load(Ordering::Relaxed) < taken + 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8(out.stdout).unwrap();
    let backed_up: u64 =
        said.split_whitespace().nth(2).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{said}"));
    // Whole batches only: a write is in the copy entirely or not at all.
    assert!(
        backed_up >= before + 60 && (backed_up - before).is_multiple_of(20),
        "{said} (before {before}, {taken} batches)"
    );
    assert!(backed_up < count(&base), "writes went on after the backup");
    // Restoring while the server runs is refused; into another directory it restores and reindexes.
    let running = tsunagu(d.path(), &["restore", file.to_str().unwrap(), "--force"]);
    assert!(!running.status.success() && String::from_utf8_lossy(&running.stderr).contains("in use"));
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
    let r = tempfile::tempdir().unwrap();
    let restored = tsunagu(r.path(), &["restore", file.to_str().unwrap()]);
    assert!(restored.status.success(), "{}", String::from_utf8_lossy(&restored.stderr));
    let said = String::from_utf8(restored.stdout).unwrap();
    assert!(said.starts_with(&format!("restored {backed_up} resources")), "{said}");
    // A store that holds data is not replaced without --force; a file that is no store is refused.
    let again = tsunagu(r.path(), &["restore", file.to_str().unwrap()]);
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("--force"));
    let junk = r.path().join("junk.sqlite3");
    std::fs::write(&junk, b"not a database").unwrap();
    let bad = tsunagu(r.path(), &["restore", junk.to_str().unwrap(), "--force"]);
    assert!(!bad.status.success(), "{}", String::from_utf8_lossy(&bad.stdout));
    let served = tsunagu(r.path(), &["reindex"]);
    assert!(String::from_utf8_lossy(&served.stdout).contains(&format!("reindexed {backed_up} resources")));
}

#[test]
fn stalled_connections_are_capped_per_client_and_closed_when_idle() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let d = tempfile::tempdir().unwrap();
    let (mut child, base) = serve(
        d.path(),
        &["--max-connections-per-client", "4", "--idle-timeout-secs", "2"],
        "warn",
        std::process::Stdio::null(),
    );
    let addr = base.trim_start_matches("http://").to_string();
    // Four connections that start a request and stall mid-header.
    let mut stalled: Vec<std::net::TcpStream> = (0..4)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(&addr).unwrap();
            s.write_all(b"GET /v1/search HTTP/1.1\r\nHost: x\r\n").unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    // A fifth from the same address is closed at once.
    let mut fifth = std::net::TcpStream::connect(&addr).unwrap();
    fifth.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = fifth.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut buf = [0u8; 64];
    assert!(matches!(fifth.read(&mut buf), Ok(0) | Err(_)), "over the per-client limit: closed, not served");
    // The stalled ones are closed after the idle timeout.
    let started = Instant::now();
    for s in &mut stalled {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        assert!(matches!(s.read(&mut buf), Ok(0) | Err(_)), "a stalled connection is closed");
    }
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(5), "closed after about 2 s, not {waited:?}");
    // Their slots are free again: a normal request is answered.
    let ok = reqwest::blocking::get(format!("{base}/v1/search?q=%E4%BF%9D%E8%82%B2%E5%9C%92")).unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
}

#[test]
fn rows_imported_by_another_process_are_searchable_when_readyz_says_caught_up() {
    let d = tempfile::tempdir().unwrap();
    let (mut child, base) = serve(d.path(), &[], "warn", std::process::Stdio::null());
    let template = tsunagu_sample::bundled().unwrap();
    let n = 3_000;
    let file = d.path().join("follow.jsonl");
    let mut text = String::new();
    for i in 0..n {
        let mut r = template[i % template.len()].clone();
        r.id = tsunagu_model::ResourceId::from_source_id(&format!("follow-test:{i}"));
        r.source.id = Some(format!("follow-test:{i}"));
        r.name = format!("【サンプル】Quokkafollow {i}");
        text.push_str(&tsunagu_exchange::jsonl::line(&r));
        text.push('\n');
    }
    std::fs::write(&file, text).unwrap();
    let imported = tsunagu(d.path(), &["import", file.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    let exited = std::time::Instant::now();
    let get =
        |path: &str| -> serde_json::Value { reqwest::blocking::get(format!("{base}{path}")).unwrap().json().unwrap() };
    let mut polls = 0;
    let lag = loop {
        let ready = get("/readyz");
        polls += 1;
        if ready["caught_up"] == true {
            // Every imported row is searchable the moment readyz says so.
            let found = get("/v1/search?q=quokkafollow&limit=1");
            assert_eq!(found["total"], n, "{ready}");
            assert_eq!(ready["behind"], 0);
            break exited.elapsed();
        }
        assert!(ready["behind"].as_i64().unwrap() > 0, "{ready}");
        assert!(exited.elapsed().as_secs() < 60, "not caught up a minute after the import: {ready}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    println!("{n} rows searchable {} ms after the import exited ({polls} polls)", lag.as_millis());
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn completions_and_manual_pages_come_from_the_same_definitions_as_help() {
    let d = tempfile::tempdir().unwrap();
    // bash: the script is valid shell and completes the commands and a flag of `serve`.
    let out = tsunagu(d.path(), &["completions", "bash"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let script = String::from_utf8(out.stdout).unwrap();
    for word in ["serve", "import", "backup", "restore", "--max-in-flight", "--trusted-proxies"] {
        assert!(script.contains(word), "{word} missing from the bash completions");
    }
    let file = d.path().join("tsunagu.bash");
    std::fs::write(&file, &script).unwrap();
    let syntax = Command::new("bash").arg("-n").arg(&file).output().unwrap();
    assert!(syntax.status.success(), "bash -n: {}", String::from_utf8_lossy(&syntax.stderr));
    for shell in ["zsh", "fish"] {
        let out = tsunagu(d.path(), &["completions", shell]);
        assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("serve"), "{shell}");
    }
    let out = tsunagu(d.path(), &["completions", "tcsh"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("tcsh"));

    // The manual: a roff page for the binary, with its commands and the data-dir setting.
    let out = tsunagu(d.path(), &["man"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.starts_with(".ie") || page.contains(".TH tsunagu"), "{}", &page[..200.min(page.len())]);
    assert!(page.contains(".TH tsunagu 1"), "no title header");
    for word in ["serve", "backup", "TSUNAGU_DATA_DIR"] {
        assert!(page.contains(word), "{word} missing from the manual page");
    }
    // One page per command into a directory.
    let dir = d.path().join("man1");
    let out = tsunagu(d.path(), &["man", "--out-dir", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for name in ["tsunagu.1", "tsunagu-serve.1", "tsunagu-backup.1", "tsunagu-keys-create.1"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(text.contains(".TH"), "{name} is not a roff page");
    }
    let serve = std::fs::read_to_string(dir.join("tsunagu-serve.1")).unwrap();
    assert!(serve.contains("max\\-connections") || serve.contains("max-connections"), "serve flags missing");
}
