//! Errors as RFC 9457 problem details (`application/problem+json`): what was wrong, which
//! parameter or member, and what is allowed.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One offending input.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InvalidParam {
    /// Query parameter or path segment name (`name`), or a JSON pointer for bodies (`pointer`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    pub reason: String,
    /// The allowed values, for closed vocabularies.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
}

impl InvalidParam {
    pub fn param(name: impl Into<String>, reason: impl Into<String>) -> Self {
        InvalidParam { name: Some(name.into()), pointer: None, reason: reason.into(), allowed: Vec::new() }
    }
    pub fn with_allowed(mut self, allowed: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.allowed = allowed.into_iter().map(Into::into).collect();
        self
    }
}

/// A problem details document.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// URI reference naming the problem type, e.g. `/problems/invalid-parameter`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty", rename = "errors")]
    pub invalid: Vec<InvalidParam>,
    /// Close matches for something not found (e.g. a place name).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suggestions: Vec<String>,
    /// For a failure on the server's side: the request's id, under which the cause is logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<Box<str>>,
}

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served (set by [`with_request_id`]), if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// A request id: the client's `X-Request-Id` when it is short and plain, else a new one.
fn request_id_of(req: &axum::extract::Request) -> String {
    req.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_string)
}

/// Middleware: give every request an id, serve it with that id in scope (so a server-side
/// problem carries it) and return it as `X-Request-Id`.
pub async fn with_request_id(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let id = request_id_of(&req);
    // The route template (`/survey/{token}`), never the path: paths carry tokens and place names.
    let route = req.extensions().get::<axum::extract::MatchedPath>().map_or("(unmatched)", |m| m.as_str());
    let span = tracing::info_span!("request", id = %id, method = %req.method(), route = %route);
    let mut res = tracing::Instrument::instrument(REQUEST_ID.scope(id.clone(), next.run(req)), span).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

impl Problem {
    pub fn new(status: StatusCode, kind: &'static str, title: &'static str, detail: impl Into<String>) -> Problem {
        Problem {
            kind,
            title,
            status: status.as_u16(),
            detail: detail.into(),
            invalid: Vec::new(),
            suggestions: Vec::new(),
            request_id: None,
        }
    }

    /// 400 for one or more bad parameters.
    pub fn invalid(invalid: Vec<InvalidParam>) -> Problem {
        let detail = invalid
            .iter()
            .map(|p| format!("{}: {}", p.name.as_deref().or(p.pointer.as_deref()).unwrap_or("request"), p.reason))
            .collect::<Vec<_>>()
            .join("; ");
        Problem {
            invalid,
            ..Problem::new(StatusCode::BAD_REQUEST, "/problems/invalid-parameter", "Invalid request parameter", detail)
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "/problems/not-found", "Not found", detail)
    }

    /// A place name the gazetteer does not know, with close matches.
    pub fn unknown_place(text: &str, suggestions: Vec<String>, known: &tsunagu_places::Gazetteer) -> Problem {
        Problem {
            suggestions,
            ..Problem::new(
                StatusCode::NOT_FOUND,
                "/problems/unknown-place",
                "Unknown place",
                format!(
                    "no known place matches `{}` (tsunagu knows {})",
                    tsunagu_model::codes::truncate(text, 40),
                    known.prefecture_names_ja().join(" and ")
                ),
            )
        }
    }

    /// A point (`lat`, `lon`) outside every municipality tsunagu has data for.
    pub fn point_outside(known: &tsunagu_places::Gazetteer) -> Problem {
        Problem::new(
            StatusCode::NOT_FOUND,
            "/problems/unknown-place",
            "Unknown place",
            format!(
                "the point is not in a municipality tsunagu has data for ({})",
                known.prefecture_names_ja().join("・")
            ),
        )
    }

    /// A failure on the server's side. The cause goes to the log under the request's id; the
    /// client gets that id and nothing of the cause.
    pub fn internal(cause: impl Into<String>) -> Problem {
        let id = current_request_id().unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        tracing::error!(request_id = %id, cause = %cause.into(), "internal error");
        Problem {
            request_id: Some(id.as_str().into()),
            ..Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "/problems/internal",
                "Internal error",
                format!("the server failed on this request / サーバー側の問題で処理できませんでした (request id {id})"),
            )
        }
    }

    pub fn unavailable(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, "/problems/unavailable", "Service unavailable", detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() && self.request_id.is_none() {
            tracing::error!(status = self.status, detail = %self.detail, "request failed");
        }
        let body = serde_json::to_vec(&self).unwrap_or_else(|_| b"{}".to_vec());
        let mut res = (status, body).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"tsunagu\""));
        }
        res
    }
}

impl From<tsunagu_store::StoreError> for Problem {
    fn from(e: tsunagu_store::StoreError) -> Problem {
        Problem::internal(format!("store: {e}"))
    }
}

impl From<tsunagu_directory::DirectoryError> for Problem {
    fn from(e: tsunagu_directory::DirectoryError) -> Problem {
        Problem::internal(format!("directory: {e}"))
    }
}

impl From<tsunagu_search::SearchError> for Problem {
    fn from(e: tsunagu_search::SearchError) -> Problem {
        Problem::internal(format!("search: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_internal_problem_carries_the_request_id_and_none_of_the_cause() {
        let p = REQUEST_ID
            .scope("req-42".to_string(), async { Problem::internal("store: database is locked at /var/lib/x") })
            .await;
        assert_eq!(p.status, 500);
        assert_eq!(p.request_id.as_deref(), Some("req-42"));
        assert!(p.detail.contains("req-42"), "{}", p.detail);
        assert!(!p.detail.contains("locked") && !p.detail.contains("/var/lib"), "{}", p.detail);
        let body = serde_json::to_value(&p).unwrap();
        assert_eq!(body["request_id"], "req-42");
    }

    #[test]
    fn a_client_request_id_is_kept_only_when_plain() {
        let req =
            |v: &str| axum::http::Request::builder().header("x-request-id", v).body(axum::body::Body::empty()).unwrap();
        assert_eq!(request_id_of(&req("abc-123_X")), "abc-123_X");
        for bad in ["", "a b", "<script>", &"x".repeat(65)] {
            let id = request_id_of(&req(bad));
            assert_ne!(id, bad);
            assert_eq!(id.len(), 32, "a fresh uuid for {bad:?}");
        }
    }
}
