//! API keys. Reading is open to everyone; writing needs a key.
//!
//! A key looks like `tsu_<id>_<secret>`: the id finds the stored record, the secret proves the
//! holder. Only a SHA-256 of the secret is stored (the secret is 256 random bits, so a fast hash is
//! as safe as a slow one here), and it is compared in constant time. Keys are shown once, when made.
//! Live keys have unique names, so the audit log's names stay unambiguous for people; the log
//! also records each key's id.

use chrono::Utc;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tsunagu_places::Gazetteer;
use tsunagu_store::{ApiKey, Role, Store, StoreError};

const PREFIX: &str = "tsu_";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Why a key cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("the name must not be empty: it is recorded with every change the key makes")]
    EmptyName,
    #[error("unknown region `{0}`; known: {1}")]
    UnknownRegion(String, String),
    #[error("a live key is already named `{0}`; choose another name (or revoke that key first)")]
    NameTaken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Make a key and store it: the stored record, and the key text to hand over (once).
pub async fn create(
    store: &dyn Store,
    gazetteer: &Gazetteer,
    name: &str,
    role: Role,
    regions: Vec<String>,
) -> Result<(ApiKey, String), CreateError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(CreateError::EmptyName);
    }
    if let Some(bad) = regions.iter().find(|r| gazetteer.region(r).is_none()) {
        let ids: Vec<_> = gazetteer.regions().iter().map(|r| format!("{} ({})", r.id, r.name)).collect();
        return Err(CreateError::UnknownRegion(bad.clone(), ids.join(", ")));
    }
    let (record, text) = new_key(name, role, regions);
    if !store.insert_key(&record).await? {
        return Err(CreateError::NameTaken(name.to_string()));
    }
    Ok((record, text))
}

/// A key record and its text (not stored yet).
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

/// Why a presented key is not accepted.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the API key is not valid")]
    Invalid,
    #[error("the API key has been revoked")]
    Revoked,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The stored key a presented key text proves, if it is live.
pub async fn check(store: &dyn Store, text: &str) -> Result<ApiKey, KeyError> {
    let (id, secret) = text.strip_prefix(PREFIX).and_then(|r| r.split_once('_')).ok_or(KeyError::Invalid)?;
    let key = store.get_key(id).await?.ok_or(KeyError::Invalid)?;
    let ok: bool = hash_secret(secret).as_bytes().ct_eq(key.secret_hash.as_bytes()).into();
    if !ok {
        return Err(KeyError::Invalid);
    }
    if key.revoked_at.is_some() {
        return Err(KeyError::Revoked);
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
