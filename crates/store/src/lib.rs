//! The store: the source of truth for resources. The search index is derived from it and can
//! always be rebuilt from it.
//!
//! [`Store`] is the interface the rest of tsunagu uses; [`SqliteStore`] is the embedded default
//! (one file in the data directory, WAL mode, migrations run on open). A PostgreSQL store can be
//! added behind the same trait: the schema uses only portable types (TEXT JSON, INTEGER).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tsunagu_model::{Resource, ResourceId};

mod sqlite;

pub use sqlite::SqliteStore;

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
    /// Sequence number of the last write after this batch.
    pub seq: i64,
}

/// One entry of the change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub seq: i64,
    pub id: ResourceId,
    pub deleted: bool,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Insert or replace resources by id, in one transaction: either all are written or none.
    /// Sets `created_at`/`updated_at`; records equal to the stored ones are left alone.
    async fn upsert(&self, resources: &[Resource]) -> Result<WriteSummary>;
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
}
