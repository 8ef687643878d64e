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
    pub fn unknown_place(text: &str, suggestions: Vec<String>) -> Problem {
        Problem {
            suggestions,
            ..Problem::new(
                StatusCode::NOT_FOUND,
                "/problems/unknown-place",
                "Unknown place",
                format!(
                    "no known place matches `{}` (tsunagu knows 長野県 and 埼玉県)",
                    tsunagu_model::codes::truncate(text, 40)
                ),
            )
        }
    }

    pub fn internal(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "/problems/internal", "Internal error", detail)
    }

    pub fn unavailable(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, "/problems/unavailable", "Service unavailable", detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
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

impl From<tsunagu_search::SearchError> for Problem {
    fn from(e: tsunagu_search::SearchError) -> Problem {
        Problem::internal(format!("search: {e}"))
    }
}
