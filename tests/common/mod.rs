//! Shared helpers for the end-to-end tests: the real `tsunagu` binary serving the bundled data
//! on a free port, and the real router in-process for high-volume checks.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_tsunagu");

/// A `tsunagu serve` process on 127.0.0.1 with its own data directory. It stops when the test
/// process exits (its standard input closes).
pub struct Server {
    pub base: String,
    _child: Mutex<Child>,
    _stdin: Mutex<ChildStdin>,
    _dir: tempfile::TempDir,
}

/// An API key made by the real CLI against `server`'s store; printed once, returned here.
pub fn key(server: &Server, role: &str, name: &str, regions: Option<&str>) -> String {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir").arg(server.data_dir()).args(["keys", "create", "--role", role, "--name", name]);
    if let Some(r) = regions {
        cmd.args(["--regions", r]);
    }
    let out = cmd.output().expect("run tsunagu keys create");
    assert!(out.status.success(), "keys create: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8").trim().to_string()
}

/// One server per test binary, started on first use.
pub fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| start(&[]))
}

/// Start a server with extra `serve` arguments.
pub fn start(extra: &[&str]) -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    start_in(dir, extra)
}

pub fn start_in(dir: tempfile::TempDir, extra: &[&str]) -> Server {
    // Every test's requests come from 127.0.0.1, one client: no per-client request rate unless
    // a test sets one (tests/limits.rs does).
    let unlimited: &[&str] =
        if extra.contains(&"--requests-per-client-per-sec") { &[] } else { &["--requests-per-client-per-sec", "0"] };
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--addr", "127.0.0.1:0", "--stop-on-stdin-eof"])
        .args(unlimited)
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn tsunagu");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read the listening line");
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    let stdin = child.stdin.take().expect("stdin");
    Server { base, _child: Mutex::new(child), _stdin: Mutex::new(stdin), _dir: dir }
}

/// A response: status, content type and JSON body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Value,
}

fn client() -> &'static reqwest::blocking::Client {
    static C: OnceLock<reqwest::blocking::Client> = OnceLock::new();
    C.get_or_init(reqwest::blocking::Client::new)
}

impl Server {
    /// Stop the server now (a test of what the page does without it).
    pub fn stop(&self) {
        let mut child = self._child.lock().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }

    /// The server's data directory (for running CLI commands against the same store).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// GET a path (with query) from the server. `path_and_query` is sent as written.
    pub fn get(&self, path_and_query: &str) -> Reply {
        let res = client().get(format!("{}{}", self.base, path_and_query)).send().expect("request");
        let status = res.status().as_u16();
        let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let text = res.text().expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, content_type, body }
    }
}

/// Percent-encode a query value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The results array of a search reply.
pub fn results(r: &Reply) -> &Vec<Value> {
    r.body["results"].as_array().unwrap_or_else(|| panic!("no results in {:?}", r.body))
}

pub fn strs(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect()).unwrap_or_default()
}

/// The real router over the bundled sample data, in-process, with its data directory.
pub struct InProcess {
    pub router: axum::Router,
    pub directory: Arc<tsunagu_api::Directory>,
    pub runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

pub fn in_process() -> InProcess {
    in_process_with(tsunagu_sample::bundled().expect("samples"))
}

/// The real router over these records, in-process.
pub fn in_process_with(records: Vec<tsunagu_model::Resource>) -> InProcess {
    use tsunagu_store::Store;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let directory = runtime.block_on(async {
        let store = tsunagu_store::SqliteStore::open(&dir.path().join("db.sqlite3")).await.expect("store");
        store.upsert(&records, "test").await.expect("load");
        let (d, _) = tsunagu_api::Directory::open(
            Arc::new(store),
            tsunagu_places::Gazetteer::bundled(),
            &dir.path().join("index"),
        )
        .await
        .expect("directory");
        Arc::new(d)
    });
    let state = tsunagu_api::AppState::new(
        directory.clone(),
        tsunagu_places::Places::bundled(),
        tsunagu_api::ApiConfig::default(),
    );
    InProcess { router: tsunagu_api::router(state), directory, runtime, _dir: dir }
}

impl InProcess {
    /// GET through the router; returns status and body bytes.
    pub fn get_raw(&self, uri: &str) -> (u16, Vec<u8>) {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let req = axum::http::Request::builder().uri(uri).body(axum::body::Body::empty()).expect("request");
        self.runtime.block_on(async {
            let res = self.router.clone().oneshot(req).await.expect("infallible");
            let status = res.status().as_u16();
            let bytes = res.into_body().collect().await.expect("body").to_bytes().to_vec();
            (status, bytes)
        })
    }

    /// GET through the router with request headers; status, response headers and body bytes.
    pub fn get_with(&self, uri: &str, headers: &[(&str, &str)]) -> (u16, axum::http::HeaderMap, Vec<u8>) {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let mut req = axum::http::Request::builder().uri(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(axum::body::Body::empty()).expect("request");
        self.runtime.block_on(async {
            let res = self.router.clone().oneshot(req).await.expect("infallible");
            let status = res.status().as_u16();
            let headers = res.headers().clone();
            let bytes = res.into_body().collect().await.expect("body").to_bytes().to_vec();
            (status, headers, bytes)
        })
    }

    /// POST a form (application/x-www-form-urlencoded) through the router; status and body text.
    pub fn post_form(&self, uri: &str, form: &[(&str, &str)]) -> (u16, String) {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let req = axum::http::Request::builder()
            .method("POST")
            .uri(uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(body))
            .expect("request");
        self.runtime.block_on(async {
            let res = self.router.clone().oneshot(req).await.expect("infallible");
            let status = res.status().as_u16();
            let bytes = res.into_body().collect().await.expect("body").to_bytes().to_vec();
            (status, String::from_utf8(bytes).expect("UTF-8"))
        })
    }
}
