//! Who may change what: every write path × every kind of caller × every state of the stored
//! record, against the real binary with keys made by the real CLI.
//!
//! The expected outcome of each cell is written in the table below, by hand, from the rules in
//! SECURITY.md; nothing here asks the code under test what it should have done.
//!
//! The record of each case is made fresh by the admin in 松本市 (圏域 20-07). "here" is the
//! 松本 editor, "elsewhere" the 佐久 (20-01) editor. A case's state is one of:
//! - `Live`: the record is live and the write keeps it in 松本;
//! - `Deleted`: the record was deleted by the admin;
//! - `Moves`: the record is live in 松本 and the write would move it to 佐久市. For the 佐久
//!   editor that is the takeover of another 圏域's record; for the 松本 editor, giving one away.

use crate::common;

use std::process::Command;
use std::sync::OnceLock;

use common::{BIN, Server};
use reqwest::blocking::{Client, RequestBuilder};
use serde_json::{Value, json};

fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    // Reports are rate-limited per client; every case here comes from 127.0.0.1.
    S.get_or_init(|| common::start(&["--reports-per-client", "1000", "--reports-per-network", "1000"]))
}

fn make_key(role: &str, name: &str, regions: Option<&str>) -> String {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir").arg(server().data_dir()).args(["keys", "create", "--role", role, "--name", name]);
    if let Some(r) = regions {
        cmd.args(["--regions", r]);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actor {
    NoKey,
    Reader,
    EditorHere,
    EditorElsewhere,
    Admin,
}

const ACTORS: [Actor; 5] = [Actor::NoKey, Actor::Reader, Actor::EditorHere, Actor::EditorElsewhere, Actor::Admin];

struct Keys {
    reader: String,
    here: String,
    elsewhere: String,
    admin: String,
}

fn keys() -> &'static Keys {
    static K: OnceLock<Keys> = OnceLock::new();
    K.get_or_init(|| Keys {
        reader: make_key("reader", "権限表 閲覧者", None),
        here: make_key("editor", "権限表 松本圏域", Some("20-07")),
        elsewhere: make_key("editor", "権限表 佐久圏域", Some("20-01")),
        admin: make_key("admin", "権限表 管理者", None),
    })
}

fn key_of(a: Actor) -> Option<&'static str> {
    let k = keys();
    match a {
        Actor::NoKey => None,
        Actor::Reader => Some(&k.reader),
        Actor::EditorHere => Some(&k.here),
        Actor::EditorElsewhere => Some(&k.elsewhere),
        Actor::Admin => Some(&k.admin),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Live,
    Deleted,
    Moves,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    Create,
    Put,
    Patch,
    Delete,
    Restore,
    Availability,
    Verify,
    /// `POST /v1/imports` CSV, the row naming the record by 外部ID.
    ImportCsvBySourceId,
    /// `POST /v1/imports` JSON Lines, the row naming the record by `id`.
    ImportJsonlById,
    /// `PATCH /v1/reports/{id}` on a report about the record.
    CloseReport,
}

/// What a cell must give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// This HTTP status; on 2xx the write happened, otherwise the record is unchanged.
    Status(u16),
    /// An import answered 422 with this row reason; nothing was written.
    Refused(&'static str),
}
use Want::{Refused, Status};

const OUTSIDE: &str = "refused: outside your regions";
const NEEDS_ADMIN: &str = "refused: deleted records need an admin";

/// The table. Columns: no key, reader, editor here, editor elsewhere, admin.
#[rustfmt::skip]
const TABLE: &[(Path, State, [Want; 5])] = &[
    // A new record in 松本 (the id of a deleted one is taken: 409 for anyone who may create).
    (Path::Create, State::Live,    [Status(401), Status(403), Status(201), Status(403), Status(201)]),
    (Path::Create, State::Deleted, [Status(401), Status(403), Status(409), Status(403), Status(409)]),
    (Path::Put,    State::Live,    [Status(401), Status(403), Status(200), Status(403), Status(200)]),
    (Path::Put,    State::Deleted, [Status(401), Status(403), Status(404), Status(404), Status(404)]),
    (Path::Put,    State::Moves,   [Status(401), Status(403), Status(403), Status(403), Status(200)]),
    (Path::Patch,  State::Live,    [Status(401), Status(403), Status(200), Status(403), Status(200)]),
    (Path::Patch,  State::Deleted, [Status(401), Status(403), Status(404), Status(404), Status(404)]),
    (Path::Patch,  State::Moves,   [Status(401), Status(403), Status(403), Status(403), Status(200)]),
    (Path::Delete, State::Live,    [Status(401), Status(403), Status(403), Status(403), Status(204)]),
    (Path::Delete, State::Deleted, [Status(401), Status(403), Status(403), Status(403), Status(404)]),
    (Path::Restore, State::Deleted, [Status(401), Status(403), Status(403), Status(403), Status(200)]),
    (Path::Restore, State::Live,   [Status(401), Status(403), Status(403), Status(403), Status(200)]),
    (Path::Availability, State::Live,    [Status(401), Status(403), Status(200), Status(403), Status(200)]),
    (Path::Availability, State::Deleted, [Status(401), Status(403), Status(404), Status(404), Status(404)]),
    (Path::Verify, State::Live,    [Status(401), Status(403), Status(200), Status(403), Status(200)]),
    (Path::Verify, State::Deleted, [Status(401), Status(403), Status(404), Status(404), Status(404)]),
    (Path::ImportCsvBySourceId, State::Live,    [Status(401), Status(403), Status(200), Refused(OUTSIDE), Status(200)]),
    (Path::ImportCsvBySourceId, State::Deleted, [Status(401), Status(403), Refused(NEEDS_ADMIN), Refused(OUTSIDE), Status(200)]),
    (Path::ImportCsvBySourceId, State::Moves,   [Status(401), Status(403), Refused(OUTSIDE), Refused(OUTSIDE), Status(200)]),
    (Path::ImportJsonlById, State::Live,    [Status(401), Status(403), Status(200), Refused(OUTSIDE), Status(200)]),
    (Path::ImportJsonlById, State::Deleted, [Status(401), Status(403), Refused(NEEDS_ADMIN), Refused(OUTSIDE), Status(200)]),
    (Path::ImportJsonlById, State::Moves,   [Status(401), Status(403), Refused(OUTSIDE), Refused(OUTSIDE), Status(200)]),
    (Path::CloseReport, State::Live,    [Status(401), Status(403), Status(200), Status(403), Status(200)]),
    // A report about a record deleted since: still the record's 圏域's to close.
    (Path::CloseReport, State::Deleted, [Status(401), Status(403), Status(200), Status(403), Status(200)]),
];

const MATSUMOTO: (&str, f64, f64) = ("20202", 36.2381, 137.9720);
const SAKU: (&str, f64, f64) = ("20217", 36.2489, 138.4769);

fn record_json(source_id: &str, name: &str, at: (&str, f64, f64)) -> Value {
    json!({
        "name": name,
        "kind": "daycare",
        "care_types": ["suction_oral_nasal"],
        "municipality_code": at.0,
        "location": {"lat": at.1, "lon": at.2},
        "source": {"name": "権限表テスト", "id": source_id},
        "sample": false
    })
}

fn http() -> &'static Client {
    static C: OnceLock<Client> = OnceLock::new();
    C.get_or_init(Client::new)
}

fn url(path: &str) -> String {
    format!("{}{path}", server().base)
}

fn with_key(b: RequestBuilder, key: Option<&str>) -> RequestBuilder {
    match key {
        Some(k) => b.header("Authorization", format!("Bearer {k}")),
        None => b,
    }
}

fn send(b: RequestBuilder) -> (u16, Option<String>, Value) {
    let res = b.send().unwrap();
    let status = res.status().as_u16();
    let etag = res.headers().get("etag").map(|v| v.to_str().unwrap().to_string());
    let text = res.text().unwrap();
    (status, etag, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// What the admin sees of a record: its audit trail (live or deleted).
fn trail(id: &str) -> Vec<Value> {
    let (status, _, h) = send(with_key(http().get(url(&format!("/v1/resources/{id}/history"))), key_of(Actor::Admin)));
    assert_eq!(status, 200, "{h}");
    h["history"].as_array().unwrap().clone()
}

fn public(id: &str) -> (u16, Value) {
    let (s, _, v) = send(http().get(url(&format!("/v1/resources/{id}"))));
    (s, v)
}

struct Fixture {
    id: String,
    source_id: String,
    etag: String,
    report: Option<String>,
}

/// The case's record, made by the admin, in the case's starting state.
fn fixture(n: usize, path: Path, state: State) -> Fixture {
    let source_id = format!("authz-{n}");
    let body = record_json(&source_id, &format!("権限表テスト保育園{n}"), MATSUMOTO);
    let (status, etag, v) = send(with_key(http().post(url("/v1/resources")), key_of(Actor::Admin)).json(&body));
    assert_eq!(status, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let mut etag = etag.unwrap();
    let report = (path == Path::CloseReport).then(|| {
        let (status, _, r) = send(
            http()
                .post(url(&format!("/v1/resources/{id}/reports")))
                .json(&json!({"kind": "wrong", "message": "電話番号が違います"})),
        );
        assert_eq!(status, 202, "{r}");
        r["id"].as_str().unwrap().to_string()
    });
    if state == State::Deleted {
        let (status, _, v) = send(
            with_key(http().delete(url(&format!("/v1/resources/{id}"))), key_of(Actor::Admin))
                .header("If-Match", &etag),
        );
        assert_eq!(status, 204, "{v}");
        etag = "\"v2\"".into();
    }
    Fixture { id, source_id, etag, report }
}

/// The write a case makes, as `actor`.
fn request(n: usize, path: Path, state: State, f: &Fixture, actor: Actor) -> RequestBuilder {
    let key = key_of(actor);
    let to = if state == State::Moves { SAKU } else { MATSUMOTO };
    let renamed = format!("権限表テスト保育園{n} 改");
    let mut full = record_json(&f.source_id, &renamed, to);
    full["id"] = json!(f.id);
    let one = format!("/v1/resources/{}", f.id);
    match path {
        Path::Create => {
            // Live: a new record; Deleted: the deleted record's own id again.
            let body = if state == State::Live {
                record_json(&format!("authz-new-{n}-{actor:?}"), &renamed, MATSUMOTO)
            } else {
                full
            };
            with_key(http().post(url("/v1/resources")), key).json(&body)
        }
        Path::Put => with_key(http().put(url(&one)), key).header("If-Match", &f.etag).json(&full),
        Path::Patch => {
            let mut patch = json!({"name": renamed});
            if state == State::Moves {
                patch["municipality_code"] = json!(SAKU.0);
                patch["location"] = json!({"lat": SAKU.1, "lon": SAKU.2});
            }
            with_key(http().patch(url(&one)), key)
                .header("If-Match", &f.etag)
                .header("Content-Type", "application/merge-patch+json")
                .body(patch.to_string())
        }
        Path::Delete => with_key(http().delete(url(&one)), key).header("If-Match", &f.etag),
        Path::Restore => with_key(http().post(url(&format!("{one}/restore"))), key),
        Path::Availability => {
            with_key(http().put(url(&format!("{one}/availability"))), key).json(&json!({"vacancies": 2}))
        }
        Path::Verify => with_key(http().post(url(&format!("{one}/verify"))), key),
        Path::ImportCsvBySourceId => {
            let csv = format!(
                "外部ID,名称,種別,市区町村コード,緯度,経度,出典\n{},{renamed},保育所,{},{},{},権限表テスト\n",
                f.source_id, to.0, to.1, to.2
            );
            with_key(http().post(url("/v1/imports?format=csv")), key).body(csv)
        }
        Path::ImportJsonlById => {
            let mut row = full.clone();
            row["source"] = json!({"name": "権限表テスト"});
            with_key(http().post(url("/v1/imports?format=jsonl")), key).body(format!("{row}\n"))
        }
        Path::CloseReport => {
            let report = f.report.as_deref().unwrap();
            with_key(http().patch(url(&format!("/v1/reports/{report}"))), key)
                .json(&json!({"status": "dismissed", "note": "確認済み"}))
        }
    }
}

/// Check that what happened to the record is what the status says.
fn check_effect(path: Path, state: State, f: &Fixture, before: usize, status: u16, body: &Value, cell: &str) {
    let after = trail(&f.id);
    let success = (200..300).contains(&status);
    let wrote = match path {
        // Restoring a live record or closing a report leaves the record's trail alone.
        Path::Restore if state == State::Live => false,
        Path::CloseReport => false,
        // A new record is another record.
        Path::Create => false,
        _ => success,
    };
    if wrote {
        assert_eq!(after.len(), before + 1, "{cell}: one audited write expected: {after:?}");
    } else {
        assert_eq!(after.len(), before, "{cell}: nothing may change: {after:?}");
    }
    if success {
        match path {
            Path::Put | Path::Patch | Path::ImportCsvBySourceId | Path::ImportJsonlById => {
                let (s, v) = public(&f.id);
                assert_eq!(s, 200, "{cell}: the record is live after the write: {v}");
                assert!(v["name"].as_str().unwrap().ends_with(" 改"), "{cell}: {v}");
                let want = if state == State::Moves { SAKU.0 } else { MATSUMOTO.0 };
                assert_eq!(v["municipality_code"], want, "{cell}: {v}");
            }
            Path::Delete => assert_eq!(public(&f.id).0, 404, "{cell}"),
            Path::Restore => assert_eq!(public(&f.id).0, 200, "{cell}"),
            Path::CloseReport => assert_eq!(body["status"], "dismissed", "{cell}: {body}"),
            _ => {}
        }
    } else {
        // Refused: the record reads as before (live records keep their name and place).
        let (s, v) = public(&f.id);
        if state == State::Deleted {
            assert_eq!(s, 404, "{cell}: a refused write must not bring the record back: {v}");
        } else {
            assert_eq!(s, 200, "{cell}: {v}");
            assert_eq!(v["municipality_code"], MATSUMOTO.0, "{cell}: {v}");
            assert!(!v["name"].as_str().unwrap().ends_with(" 改"), "{cell}: {v}");
        }
        if path == Path::CloseReport {
            let (_, _, list) =
                send(with_key(http().get(url("/v1/reports?status=open&limit=1000")), key_of(Actor::Admin)));
            let open = list["reports"].as_array().unwrap().iter().any(|r| r["id"] == f.report.as_deref().unwrap());
            assert!(open, "{cell}: the report must still be open");
        }
    }
}

#[test]
fn every_write_path_by_every_caller_on_every_record_state() {
    let mut n = 0;
    let mut failures = Vec::new();
    for &(path, state, wants) in TABLE {
        for (actor, want) in ACTORS.into_iter().zip(wants) {
            n += 1;
            let cell = format!("{path:?} × {actor:?} × {state:?}");
            let f = fixture(n, path, state);
            let before = trail(&f.id).len();
            let (status, _, body) = send(request(n, path, state, &f, actor));
            let ok = match want {
                Status(s) => status == s,
                Refused(reason) => {
                    status == 422
                        && body["written"] == false
                        && body["errors"]
                            .as_array()
                            .is_some_and(|e| e.iter().any(|e| e["reason"].as_str().is_some_and(|r| r.contains(reason))))
                }
            };
            if !ok {
                failures.push(format!("{cell}: want {want:?}, got {status} {body}"));
                continue;
            }
            if status == 401 || status == 403 {
                let t = if status == 401 { "/problems/unauthorized" } else { "/problems/forbidden" };
                assert_eq!(body["type"], t, "{cell}: {body}");
            }
            check_effect(path, state, &f, before, status, &body, &cell);
        }
    }
    assert!(failures.is_empty(), "{} of {n} cells failed:\n{}", failures.len(), failures.join("\n"));
}

/// Reports of another 圏域 are neither listed for an editor nor counted against its page.
#[test]
fn a_region_editor_lists_its_own_reports_and_limit_applies_after_the_filter() {
    let mine = fixture(10_001, Path::CloseReport, State::Live);
    // Newer reports about records elsewhere (佐久) must not push it off the first page.
    let mut theirs = Vec::new();
    for i in 0..3 {
        let body = record_json(&format!("authz-saku-{i}"), &format!("佐久の保育園{i}"), SAKU);
        let (status, _, v) = send(with_key(http().post(url("/v1/resources")), key_of(Actor::Admin)).json(&body));
        assert_eq!(status, 201, "{v}");
        let id = v["id"].as_str().unwrap().to_string();
        let (status, _, r) = send(
            http().post(url(&format!("/v1/resources/{id}/reports"))).json(&json!({"kind": "closed", "message": ""})),
        );
        assert_eq!(status, 202, "{r}");
        theirs.push(r["id"].as_str().unwrap().to_string());
    }
    let list = |actor: Actor, q: &str| {
        let (status, _, v) = send(with_key(http().get(url(&format!("/v1/reports?{q}"))), key_of(actor)));
        assert_eq!(status, 200, "{v}");
        v["reports"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    let mine_id = mine.report.clone().unwrap();
    assert_eq!(list(Actor::EditorHere, "limit=1"), std::slice::from_ref(&mine_id));
    let here = list(Actor::EditorHere, "limit=1000");
    assert!(here.contains(&mine_id) && theirs.iter().all(|t| !here.contains(t)), "{here:?}");
    let there = list(Actor::EditorElsewhere, "limit=2");
    assert_eq!(there, [theirs[2].clone(), theirs[1].clone()], "newest first, two of three");
    assert_eq!(list(Actor::EditorElsewhere, "limit=2&offset=2"), [theirs[0].clone()]);
    let all = list(Actor::Admin, "limit=1000");
    assert!(all.contains(&mine_id) && theirs.iter().all(|t| all.contains(t)));
}

/// 20 clients send the same POST with the same Idempotency-Key at once: one record, and the
/// other 19 get the first response again.
#[test]
fn parallel_posts_with_one_idempotency_key_create_one_record() {
    let key = make_key("editor", "冪等性テスト 編集者", None);
    let body = record_json("authz-idem-1", "冪等性テスト保育園", MATSUMOTO);
    let replies: Vec<(u16, Option<String>, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..20)
            .map(|_| {
                s.spawn(|| {
                    send(
                        with_key(http().post(url("/v1/resources")), Some(&key))
                            .header("Idempotency-Key", "idem-parallel-1")
                            .json(&body),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created: Vec<_> = replies.iter().filter(|r| r.0 == 201).collect();
    assert_eq!(created.len(), 20, "{replies:?}");
    let first = &replies[0];
    assert!(replies.iter().all(|r| r.2 == first.2 && r.1 == first.1), "every reply is the same response");
    let found = server().get(&format!("/v1/search?q={}&interpret=false", common::enc("冪等性テスト保育園")));
    assert_eq!(found.body["total"], 1, "{}", found.body);
    let trail = trail(first.2["id"].as_str().unwrap());
    assert_eq!(trail.len(), 1, "{trail:?}");

    // A different body under the same key is refused.
    let mut other = body.clone();
    other["name"] = json!("冪等性テスト 別内容");
    let (status, _, v) = send(
        with_key(http().post(url("/v1/resources")), Some(&key))
            .header("Idempotency-Key", "idem-parallel-1")
            .json(&other),
    );
    assert_eq!(status, 422, "{v}");
    assert_eq!(v["type"], "/problems/idempotency-key-reused");
}

/// Replays are per key: another key using the same Idempotency-Key text gets its own answer, never
/// the first key's stored response.
#[test]
fn idempotency_replays_belong_to_the_key_that_made_them() {
    let a = make_key("editor", "冪等性 A", None);
    let b = make_key("editor", "冪等性 B", None);
    let post = |key: &str, sid: &str| {
        let mut body = record_json(sid, &format!("冪等性鍵別テスト {sid}"), MATSUMOTO);
        body["private"] = json!({"notes": format!("{sid} の非公開メモ")});
        send(
            with_key(http().post(url("/v1/resources")), Some(key)).header("Idempotency-Key", "shared-text").json(&body),
        )
    };
    let first = post(&a, "authz-idem-a");
    let second = post(&b, "authz-idem-b");
    assert_eq!((first.0, second.0), (201, 201), "{} / {}", first.2, second.2);
    assert_ne!(first.2["id"], second.2["id"]);
    assert_eq!(second.2["private"]["notes"], "authz-idem-b の非公開メモ");
    // The audit trail names the key by id as well as by name.
    let t = trail(second.2["id"].as_str().unwrap());
    let b_id = b.strip_prefix("tsu_").unwrap().split('_').next().unwrap();
    assert_eq!(t[0]["actor"], "冪等性 B");
    assert_eq!(t[0]["actor_key_id"], b_id, "{t:?}");
}

#[test]
fn a_second_key_with_a_taken_name_is_refused() {
    make_key("editor", "同名テスト", None);
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(server().data_dir())
        .args(["keys", "create", "--role", "admin", "--name", "同名テスト"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("同名テスト") && err.contains("already"), "{err}");
    assert!(out.stdout.is_empty(), "no key is printed");
}

/// Concurrent availability updates (which take no If-Match) are applied one after another:
/// none is refused, and each leaves its own audited version.
#[test]
fn concurrent_availability_updates_all_apply() {
    let f = fixture(10_002, Path::Availability, State::Live);
    let before = trail(&f.id).len();
    let replies: Vec<(u16, Option<String>, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..10u32)
            .map(|i| {
                let id = f.id.clone();
                s.spawn(move || {
                    send(
                        with_key(
                            http().put(url(&format!("/v1/resources/{id}/availability"))),
                            key_of(Actor::EditorHere),
                        )
                        .json(&json!({"vacancies": i, "accepting_new_children": i % 2 == 0})),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(replies.iter().all(|r| r.0 == 200), "{:?}", replies.iter().map(|r| (r.0, &r.2)).collect::<Vec<_>>());
    let after = trail(&f.id);
    assert_eq!(after.len(), before + 10, "{after:?}");
    let mut versions: Vec<&str> = replies.iter().map(|r| r.1.as_deref().unwrap()).collect();
    versions.sort();
    versions.dedup();
    assert_eq!(versions.len(), 10, "each update is its own version: {versions:?}");
}
