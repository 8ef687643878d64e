//! The store: the source of truth for resources. The search index is derived from it and can
//! always be rebuilt from it.
//!
//! [`Store`] is the interface the rest of tsunagu uses; [`SqliteStore`] is the embedded default
//! (one file in the data directory, WAL mode, migrations run on open). A PostgreSQL store can be
//! added behind the same trait: the schema uses only portable types (TEXT JSON, INTEGER).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use tsunagu_model::{Resource, ResourceId};

mod sqlite;

pub use sqlite::SqliteStore;

/// Actor recorded for writes made by the system itself (bundled data, CLI imports).
pub const SYSTEM_ACTOR: &str = "system";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored record {id} is not valid: {message}")]
    Corrupt { id: String, message: String },
    #[error("cannot open the store at {path}: {message}")]
    Open { path: String, message: String },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Identity and position of a store: the index keeps these to know whether it is current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreState {
    /// Random id made when the store was created; a different id means a different store.
    pub store_id: String,
    /// Sequence number of the last write (0 for a new store).
    pub seq: i64,
    /// Live (not deleted) resources.
    pub count: u64,
}

/// What a batch write did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteSummary {
    pub created: u64,
    pub updated: u64,
    /// Records identical to what was stored; nothing written.
    pub unchanged: u64,
    /// The change log's last sequence number before this batch (its changes follow it, with no
    /// gaps, because writers hold SQLite's write lock).
    pub prev_seq: i64,
    /// Sequence number of the last write after this batch.
    pub seq: i64,
}

/// A report from the public about a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub id: String,
    pub resource_id: ResourceId,
    /// `wrong`, `closed`, `moved` or `other`.
    pub kind: String,
    pub message: String,
    /// How the reporter can be reached, if they gave it (editors only).
    pub contact: Option<String>,
    pub created_at: DateTime<Utc>,
    /// `open`, `resolved` or `dismissed`.
    pub status: String,
    pub handled_by: Option<String>,
    pub handled_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

/// Live records of one source name (for `GET /v1/sources`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceCount {
    pub name: String,
    pub records: u64,
    /// Of `records`, synthetic sample records.
    pub sample_records: u64,
    /// Earliest and latest `source.date` among them.
    pub first_date: Option<String>,
    pub last_date: Option<String>,
}

/// A single write's result: the record as stored and its place in the change log.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub versioned: Versioned,
    /// The change log's last sequence number before this write.
    pub prev_seq: i64,
    /// After it (equal to `prev_seq` when nothing changed).
    pub seq: i64,
}

/// A bulk import in one transaction: rows are added in batches as the file is read, and
/// [`ImportTx::finish`] commits all of them or none (a process that dies mid-way leaves nothing).
#[async_trait]
pub trait ImportTx: Send {
    /// Insert or replace a batch (by id); counts accumulate.
    async fn put(&mut self, resources: &[Resource]) -> Result<()>;
    /// Commit (`commit = true`) or roll back; returns what was (or would have been) written.
    async fn finish(self: Box<Self>, commit: bool) -> Result<WriteSummary>;
}

/// One entry of the change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub seq: i64,
    pub id: ResourceId,
    pub deleted: bool,
}

/// What an API key may do. Ordered: a higher role may do everything a lower one may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read private fields (staff contacts, internal notes).
    Reader,
    /// Create and change resources (in its regions, or everywhere).
    Editor,
    /// Manage keys, delete and restore resources.
    Admin,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "reader" => Some(Role::Reader),
            "editor" => Some(Role::Editor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A stored API key: never the key itself, only a hash of its secret part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// 圏域 ids an editor may write in; empty = everywhere.
    pub regions: Vec<String>,
    #[serde(skip)]
    pub secret_hash: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A resource with its version (the ETag of the record).
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned {
    pub resource: Resource,
    pub version: i64,
    pub deleted: bool,
}

/// One write, for [`Store::write`].
#[derive(Debug, Clone)]
pub enum WriteOp {
    /// A new record; fails with [`WriteRefused::Exists`] if the id is taken.
    Create(Resource),
    /// Replace a live record, if its version is still `expected`.
    Replace { resource: Resource, expected: i64 },
    /// Soft-delete a live record, if its version is still `expected`.
    Delete { id: ResourceId, expected: i64 },
    /// Bring back a deleted record.
    Restore { id: ResourceId },
}

/// Why a write was not made (nothing was written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteRefused {
    NotFound,
    Exists,
    /// Someone else changed the record: its version is now `current`.
    Conflict {
        current: i64,
    },
}

/// One entry of a record's audit trail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub actor: String,
    pub action: String,
    pub at: DateTime<Utc>,
    pub version: i64,
    /// For updates: the changed members only, `{member: {before, after}}`; for creations the
    /// whole record.
    pub changes: serde_json::Value,
}

/// A remembered response to an idempotent request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remembered {
    pub request_hash: String,
    pub status: u16,
    pub response: String,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Insert or replace resources by id, in one transaction: either all are written or none.
    /// Sets `created_at`/`updated_at`; records equal to the stored ones are left alone.
    async fn upsert(&self, resources: &[Resource], actor: &str) -> Result<WriteSummary>;
    /// A live resource by id.
    async fn get(&self, id: ResourceId) -> Result<Option<Resource>>;
    /// Live resources by id, in the order asked (missing ones left out).
    async fn get_many(&self, ids: &[ResourceId]) -> Result<Vec<Resource>>;
    /// Soft-delete: the record stays (restorable) but is no longer live. False when not found.
    async fn delete(&self, id: ResourceId, at: DateTime<Utc>) -> Result<bool>;
    /// Up to `limit` live resources with ids after `after`, in id order (for reindex and export).
    async fn page(&self, after: Option<ResourceId>, limit: u32) -> Result<Vec<Resource>>;
    async fn state(&self) -> Result<StoreState>;
    /// Changes after `seq`, oldest first, at most `limit`.
    async fn changes_since(&self, seq: i64, limit: u32) -> Result<Vec<Change>>;

    /// A record with its version, live or deleted.
    async fn get_versioned(&self, id: ResourceId) -> Result<Option<Versioned>>;
    /// One write by `actor`, with optimistic concurrency and an audit entry, in one transaction.
    async fn write(&self, op: WriteOp, actor: &str) -> Result<std::result::Result<Written, WriteRefused>>;
    /// Start a bulk import by `actor` (holds the write lock until finished).
    async fn begin_import(&self, actor: &str) -> Result<Box<dyn ImportTx>>;
    /// The audit trail of a record, oldest first.
    async fn history(&self, id: ResourceId) -> Result<Vec<AuditEntry>>;

    async fn insert_report(&self, r: &Report) -> Result<()>;
    /// Reports, newest first; `status` None = every status.
    async fn reports(&self, status: Option<&str>, limit: u32) -> Result<Vec<Report>>;
    /// Close a report (`resolved` or `dismissed`); false when there is no such open report.
    async fn handle_report(&self, id: &str, status: &str, actor: &str, note: Option<&str>) -> Result<bool>;

    /// Live records per source name, most first.
    async fn source_counts(&self) -> Result<Vec<SourceCount>>;

    async fn insert_key(&self, key: &ApiKey) -> Result<()>;
    async fn get_key(&self, id: &str) -> Result<Option<ApiKey>>;
    async fn list_keys(&self) -> Result<Vec<ApiKey>>;
    /// False when there is no such live key.
    async fn revoke_key(&self, id: &str, at: DateTime<Utc>) -> Result<bool>;

    async fn remembered(&self, key: &str, actor: &str) -> Result<Option<Remembered>>;
    async fn remember(&self, key: &str, actor: &str, r: &Remembered) -> Result<()>;
}

/// The members of two JSON objects that differ: `{member: {"before": …, "after": …}}`.
pub fn json_diff(before: &serde_json::Value, after: &serde_json::Value) -> serde_json::Value {
    let empty = serde_json::Map::new();
    let (b, a) = (before.as_object().unwrap_or(&empty), after.as_object().unwrap_or(&empty));
    let mut out = serde_json::Map::new();
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let (x, y) = (b.get(k), a.get(k));
        if x != y {
            out.insert(k.clone(), serde_json::json!({"before": x, "after": y}));
        }
    }
    serde_json::Value::Object(out)
}
