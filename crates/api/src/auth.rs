//! Authentication at the edge: axum extractors that turn the presented key into who is asking,
//! before a handler runs.
//!
//! - [`Caller`]: anyone; `Some(key)` when a valid key came with the request. A key that is
//!   malformed, unknown, revoked or wrong is a 401, never ignored.
//! - [`Reader`], [`Editor`], [`Admin`]: a key with at least that role (no key → 401, a lower
//!   role → 403).
//!
//! What a key may change is not decided here but by the one authorisation decision
//! ([`tsunagu_directory::Policy`]) that the store asks inside every write; handlers get it from
//! [`Editor::policy`].

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use tsunagu_directory::Policy;
use tsunagu_directory::keys::{self, KeyError};
use tsunagu_store::{Actor, ApiKey, Role};

use crate::AppState;
use crate::problem::Problem;

/// 401 with a challenge.
pub fn unauthorized(detail: impl Into<String>) -> Problem {
    Problem::new(StatusCode::UNAUTHORIZED, "/problems/unauthorized", "Unauthorized", detail)
}

/// 403.
pub fn forbidden(detail: impl Into<String>) -> Problem {
    Problem::new(StatusCode::FORBIDDEN, "/problems/forbidden", "Forbidden", detail)
}

/// The key text presented with a request, if any: `Authorization: Bearer <key>` or `X-API-Key`.
fn presented(headers: &HeaderMap) -> Result<Option<String>, Problem> {
    match (headers.get(header::AUTHORIZATION), headers.get("x-api-key")) {
        (Some(v), _) => {
            let v = v.to_str().map_err(|_| unauthorized("the Authorization header is not text"))?;
            let key = v.strip_prefix("Bearer ").ok_or_else(|| unauthorized("use `Authorization: Bearer <key>`"))?;
            Ok(Some(key.trim().to_string()))
        }
        (None, Some(v)) => {
            Ok(Some(v.to_str().map_err(|_| unauthorized("the X-API-Key header is not text"))?.trim().to_string()))
        }
        (None, None) => Ok(None),
    }
}

/// The cookie a coordinator's browser carries after signing in on `/login`.
pub const KEY_COOKIE: &str = "tsunagu_key";

/// The key in the sign-in cookie, for a browser: on any GET, and on other methods only from a
/// page of this server (its Origin, or Sec-Fetch-Site: same-origin); the cookie is
/// SameSite=Strict and HttpOnly besides.
fn from_cookie(parts: &Parts) -> Option<String> {
    let h = &parts.headers;
    let cookie =
        h.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == KEY_COOKIE).then(|| v.trim().to_string())
        })?;
    let safe = parts.method == axum::http::Method::GET || parts.method == axum::http::Method::HEAD;
    let host = h.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let same_origin = h
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|o| o.split_once("://").is_some_and(|(_, rest)| rest == host))
        || h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("same-origin");
    (safe || same_origin).then_some(cookie)
}

/// Whoever is asking: `Some(key)` with a valid key, `None` without one.
pub struct Caller(pub Option<ApiKey>);

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Problem> {
        let Some(text) = presented(&parts.headers)?.or_else(|| from_cookie(parts)) else { return Ok(Caller(None)) };
        match keys::check(s.directory.store.as_ref(), &text).await {
            Ok(key) => Ok(Caller(Some(key))),
            Err(KeyError::Store(e)) => Err(e.into()),
            Err(e) => Err(unauthorized(e.to_string())),
        }
    }
}

async fn with_role(parts: &mut Parts, s: &AppState, role: Role) -> Result<ApiKey, Problem> {
    let Caller(key) = Caller::from_request_parts(parts, s).await?;
    let key = key.ok_or_else(|| unauthorized(format!("this needs an API key with the {} role", role.code())))?;
    if key.role < role {
        return Err(forbidden(format!(
            "the key `{}` has the {} role; this needs {}",
            key.name,
            key.role.code(),
            role.code()
        )));
    }
    Ok(key)
}

macro_rules! role_extractor {
    ($name:ident, $role:expr, $doc:literal) => {
        #[doc = $doc]
        pub struct $name(pub ApiKey);

        impl FromRequestParts<AppState> for $name {
            type Rejection = Problem;

            async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Problem> {
                with_role(parts, s, $role).await.map($name)
            }
        }

        impl $name {
            /// Who this is, for the audit log.
            pub fn actor(&self) -> Actor {
                Actor::of_key(&self.0)
            }

            /// What this key may change.
            pub fn policy(&self, s: &AppState) -> Policy {
                Policy::for_key(&self.0, s.gazetteer, s.config.serve_sample_data)
            }
        }
    };
}

role_extractor!(Reader, Role::Reader, "A key with at least the reader role (private fields).");
role_extractor!(Editor, Role::Editor, "A key with at least the editor role (changes records).");
role_extractor!(Admin, Role::Admin, "A key with the admin role (deletes and restores).");
