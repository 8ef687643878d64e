//! API keys and roles. Reading is open to everyone; writing needs a key.
//!
//! A key looks like `tsu_<id>_<secret>`: the id finds the stored record, the secret proves the
//! holder. Only a SHA-256 of the secret is stored (the secret is 256 random bits, so a fast hash is
//! as safe as a slow one here), and it is compared in constant time. Keys are shown once, when made.

use axum::http::{HeaderMap, StatusCode, header};
use chrono::Utc;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tsunagu_store::{ApiKey, Role, Store};

use crate::problem::Problem;

const PREFIX: &str = "tsu_";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Make a key: the record to store, and the key text to hand over (once).
pub fn new_key(name: &str, role: Role, regions: Vec<String>) -> (ApiKey, String) {
    let mut rng = rand::rng();
    let mut id = [0u8; 6];
    let mut secret = [0u8; 32];
    rng.fill_bytes(&mut id);
    rng.fill_bytes(&mut secret);
    let (id, secret) = (hex(&id), hex(&secret));
    let key = ApiKey {
        id: id.clone(),
        name: name.to_string(),
        role,
        regions,
        secret_hash: hash_secret(&secret),
        created_at: Utc::now(),
        revoked_at: None,
    };
    (key, format!("{PREFIX}{id}_{secret}"))
}

/// 401 with a challenge.
pub fn unauthorized(detail: impl Into<String>) -> Problem {
    Problem::new(StatusCode::UNAUTHORIZED, "/problems/unauthorized", "Unauthorized", detail)
}

/// 403.
pub fn forbidden(detail: impl Into<String>) -> Problem {
    Problem::new(StatusCode::FORBIDDEN, "/problems/forbidden", "Forbidden", detail)
}

/// The key presented with a request, if any: `Authorization: Bearer <key>` or `X-API-Key`.
/// A key that is malformed, unknown, revoked or wrong is a 401, never ignored.
pub async fn caller(headers: &HeaderMap, store: &dyn Store) -> Result<Option<ApiKey>, Problem> {
    let presented = match (headers.get(header::AUTHORIZATION), headers.get("x-api-key")) {
        (Some(v), _) => {
            let v = v.to_str().map_err(|_| unauthorized("the Authorization header is not text"))?;
            Some(
                v.strip_prefix("Bearer ")
                    .ok_or_else(|| unauthorized("use `Authorization: Bearer <key>`"))?
                    .trim()
                    .to_string(),
            )
        }
        (None, Some(v)) => {
            Some(v.to_str().map_err(|_| unauthorized("the X-API-Key header is not text"))?.trim().to_string())
        }
        (None, None) => None,
    };
    let Some(text) = presented else { return Ok(None) };
    let bad = || unauthorized("the API key is not valid");
    let (id, secret) = text.strip_prefix(PREFIX).and_then(|r| r.split_once('_')).ok_or_else(bad)?;
    let key = store.get_key(id).await?.ok_or_else(bad)?;
    let ok: bool = hash_secret(secret).as_bytes().ct_eq(key.secret_hash.as_bytes()).into();
    if !ok {
        return Err(bad());
    }
    if key.revoked_at.is_some() {
        return Err(unauthorized("the API key has been revoked"));
    }
    Ok(Some(key))
}

/// The caller's key if it has at least `role`: no key → 401, a lower role → 403.
pub async fn require(headers: &HeaderMap, store: &dyn Store, role: Role) -> Result<ApiKey, Problem> {
    let key = caller(headers, store)
        .await?
        .ok_or_else(|| unauthorized(format!("this needs an API key with the {} role", role.code())))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_a_findable_id_and_a_hashed_secret() {
        let (rec, text) = new_key("test", Role::Editor, vec![]);
        assert!(text.starts_with("tsu_"));
        let (id, secret) = text.strip_prefix("tsu_").unwrap().split_once('_').unwrap();
        assert_eq!(id, rec.id);
        assert_eq!(hash_secret(secret), rec.secret_hash);
        assert!(!rec.secret_hash.contains(secret));
        let (_, other) = new_key("test", Role::Editor, vec![]);
        assert_ne!(text, other);
    }
}
