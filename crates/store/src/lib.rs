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

pub use sqlite::{BackupInfo, SqliteStore};

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
    /// Deleted records an import brought back (only an admin may).
    pub restored: u64,
    /// Records a full official list no longer has, marked so by this import.
    pub not_listed: u64,
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
    /// The id of the API key that closed it.
    pub handled_by_key_id: Option<String>,
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
    /// Insert or replace a batch (by id); counts accumulate. Each row is first put to the
    /// import's authorisation decision with what is stored under its id; refused rows are left
    /// out and returned.
    async fn put(&mut self, resources: &[Resource]) -> Result<Vec<RowRefused>>;
    /// From now on, a row naming a stored record is first combined with it by `merge(stored,
    /// row)` (official files replace only what their source owns).
    fn merge_with(&mut self, merge: Merge);
    /// After the rows of a full official list: every live record of `source_name` that this
    /// import did not put (`seen`) is offered to `change`, and what it returns is written (with
    /// the authorisation decision asked, an audit entry and a change-log entry). Returns how many
    /// records were changed.
    async fn sweep(
        &mut self,
        source_name: &str,
        seen: &std::collections::HashSet<ResourceId>,
        change: &(dyn for<'r> Fn(&'r Resource) -> Option<Resource> + Send + Sync),
    ) -> Result<u64>;
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

/// Who makes a write, as the audit log records it: a name, and the API key's id when the write
/// came with a key (names are for people; the id tells two keys apart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub key_id: Option<String>,
}

impl Actor {
    /// The system itself (bundled data, the centre's own CLI).
    pub fn system(name: &str) -> Actor {
        Actor { name: name.to_string(), key_id: None }
    }

    /// The holder of an API key.
    pub fn of_key(key: &ApiKey) -> Actor {
        Actor { name: key.name.clone(), key_id: Some(key.id.clone()) }
    }
}

/// A change to the store as the authorisation decision sees it: the stored record (with its
/// state) and what it would become. The store works out which of these a write is, inside the
/// write's transaction, so the decision always sees what is really stored.
#[derive(Debug, Clone, Copy)]
pub enum Proposal<'a> {
    /// A new record.
    Create { new: &'a Resource },
    /// A live record changes (`new` may equal `stored`: a confirmation).
    Update { stored: &'a Resource, new: &'a Resource },
    /// A deleted record comes back, as `new` (a restore brings it back as it was).
    Undelete { stored: &'a Resource, new: &'a Resource },
    /// A live record is deleted.
    Delete { stored: &'a Resource },
    /// A report about a record (live or deleted) is closed.
    CloseReport { about: &'a Resource },
}

/// Why a change is not allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The caller may not make it (403), with the reason.
    Forbidden(String),
    /// The record is not served here (sample records on a real-data-only server): as if it did
    /// not exist (404).
    NotServed,
}

/// The authorisation decision, asked by the store for every change inside the transaction that
/// makes it.
pub trait Authorize: Send + Sync {
    fn allow(&self, change: Proposal<'_>) -> std::result::Result<(), Refusal>;
}

/// Allows every change: the system's own writes (loading bundled data, tests).
#[derive(Debug, Clone, Copy, Default)]
pub struct Unrestricted;

impl Authorize for Unrestricted {
    fn allow(&self, _: Proposal<'_>) -> std::result::Result<(), Refusal> {
        Ok(())
    }
}

/// Combines a stored record with an import row naming it: `(stored, row) → what to store`.
pub type Merge = std::sync::Arc<dyn Fn(&Resource, Resource) -> Resource + Send + Sync>;

/// Computes a record's next state from its current one (availability, confirmation, a survey
/// answer): applied inside the write's transaction, so concurrent modifications of one record
/// apply one after another instead of conflicting.
pub type Modification =
    std::sync::Arc<dyn Fn(&Resource) -> std::result::Result<Resource, Vec<tsunagu_model::FieldError>> + Send + Sync>;

/// One write, for [`Store::write`].
#[derive(Clone)]
pub enum WriteOp {
    /// A new record; fails with [`WriteRefused::Exists`] if the id is taken.
    Create(Resource),
    /// Replace a live record, if its version is still `expected`.
    Replace { resource: Resource, expected: i64 },
    /// Change a live record from whatever its current version is.
    Modify { id: ResourceId, change: Modification },
    /// Soft-delete a live record, if its version is still `expected`.
    Delete { id: ResourceId, expected: i64 },
    /// Bring back a deleted record.
    Restore { id: ResourceId },
}

impl WriteOp {
    pub fn id(&self) -> ResourceId {
        match self {
            WriteOp::Create(r) | WriteOp::Replace { resource: r, .. } => r.id,
            WriteOp::Modify { id, .. } | WriteOp::Delete { id, .. } | WriteOp::Restore { id } => *id,
        }
    }
}

impl std::fmt::Debug for WriteOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteOp::Create(r) => f.debug_tuple("Create").field(&r.id).finish(),
            WriteOp::Replace { resource, expected } => {
                f.debug_struct("Replace").field("id", &resource.id).field("expected", expected).finish()
            }
            WriteOp::Modify { id, .. } => f.debug_struct("Modify").field("id", id).finish(),
            WriteOp::Delete { id, expected } => {
                f.debug_struct("Delete").field("id", id).field("expected", expected).finish()
            }
            WriteOp::Restore { id } => f.debug_struct("Restore").field("id", id).finish(),
        }
    }
}

/// An idempotent request: its key is claimed in the write's own transaction, so of several
/// identical requests at once exactly one writes and the others get its response.
pub struct Idempotency<'a> {
    /// The `Idempotency-Key` the client sent.
    pub key: &'a str,
    /// A hash of the request, to refuse the same key with a different request.
    pub request_hash: &'a str,
    /// The response to remember, made from what was written.
    pub respond: &'a (dyn Fn(&Versioned) -> Remembered + Send + Sync),
}

/// A write with who makes it and what they may do.
pub struct Write<'a> {
    pub op: WriteOp,
    pub actor: &'a Actor,
    pub authorize: &'a dyn Authorize,
    pub idempotency: Option<Idempotency<'a>>,
}

/// What a write did.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOutcome {
    Written(Box<Written>),
    /// An idempotent request seen before: its first response, nothing written.
    Replayed(Remembered),
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
    /// The authorisation decision refused it.
    Forbidden(String),
    /// A modification made an invalid record.
    Invalid(Vec<tsunagu_model::FieldError>),
    /// The idempotency key was used before with a different request.
    IdempotencyMismatch,
}

/// An import row the authorisation decision refused (nothing of it was written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowRefused {
    /// The row's position in the batch given to [`ImportTx::put`].
    pub index: usize,
    pub reason: String,
}

/// One entry of a record's audit trail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub actor: String,
    /// The id of the API key that made the change (none for the system's own writes).
    pub actor_key_id: Option<String>,
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
    /// Response headers to send again (ETag, Location).
    pub headers: Vec<(String, String)>,
}

/// A survey campaign: the centre asks providers what medical care they take.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Campaign {
    pub id: String,
    /// e.g. 「令和9年度 医療的ケア受入状況調査」
    pub name: String,
    /// What it targets (kinds, regions, municipalities, resource ids), as given.
    pub target: serde_json::Value,
    /// Invitations expire at the end of this day (JST).
    pub deadline: chrono::NaiveDate,
    /// `review`: the centre reviews every answer; `publish`: answers show at once as the
    /// provider's, not yet verified.
    pub mode: String,
    pub created_by: String,
    pub created_by_key_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Counts taken when the campaign was made, to show what it changed.
    pub baseline: serde_json::Value,
}

/// One invitation: a targeted record's link to its form. The token itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invitation {
    pub id: String,
    pub campaign_id: String,
    pub resource_id: ResourceId,
    /// The short code for phone and FAX follow-up, e.g. `K7QM-3XPA-9C`.
    pub code: String,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub opened_at: Option<DateTime<Utc>>,
}

/// A provider's response to an invitation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurveyResponse {
    pub invitation_id: String,
    pub campaign_id: String,
    pub resource_id: ResourceId,
    /// `draft`, `submitted`, `accepted` or `rejected`.
    pub status: String,
    /// `web` or `paper`.
    pub channel: String,
    pub answers: serde_json::Value,
    /// The record as it was when the answers were given (to tell a newer edit from an answer).
    pub base: serde_json::Value,
    /// Each save adds one.
    pub revision: i64,
    pub updated_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// Who entered a paper answer.
    pub entered_by: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_by_key_id: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub review_note: Option<String>,
    pub accepted_fields: Vec<String>,
}

/// A response save: what to write.
#[derive(Debug, Clone)]
pub struct ResponseSave {
    pub invitation_id: String,
    pub answers: serde_json::Value,
    pub base: serde_json::Value,
    pub submit: bool,
    pub channel: &'static str,
    pub entered_by: Option<String>,
}

/// Why a response was not saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveRefused {
    /// The centre has already reviewed it: the answers can no longer change.
    Reviewed,
    NoInvitation,
}

/// Which reports to list.
#[derive(Debug, Clone, Default)]
pub struct ReportQuery<'a> {
    /// `open`, `resolved` or `dismissed`; None = every status.
    pub status: Option<&'a str>,
    /// Only reports about records in these municipalities (None = all).
    pub municipalities: Option<&'a [String]>,
    pub limit: u32,
    pub offset: u32,
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
    /// One write, with optimistic concurrency, its authorisation decision, an audit entry and
    /// (for idempotent requests) the claim of its key, all in one transaction.
    async fn write(&self, w: Write<'_>) -> Result<std::result::Result<WriteOutcome, WriteRefused>>;
    /// Start a bulk import by `actor` (holds the write lock until finished); every row is put
    /// to `authorize`.
    async fn begin_import(&self, actor: &Actor, authorize: std::sync::Arc<dyn Authorize>) -> Result<Box<dyn ImportTx>>;
    /// The audit trail of a record, oldest first.
    async fn history(&self, id: ResourceId) -> Result<Vec<AuditEntry>>;

    async fn insert_report(&self, r: &Report) -> Result<()>;
    /// Reports, newest first, filtered before `limit` and `offset` apply.
    async fn reports(&self, q: &ReportQuery<'_>) -> Result<Vec<Report>>;
    /// Close an open report (`resolved` or `dismissed`) if `authorize` allows closing a report
    /// about its record. `Ok(None)`: no such open report.
    async fn handle_report(
        &self,
        id: &str,
        status: &str,
        actor: &Actor,
        note: Option<&str>,
        authorize: &dyn Authorize,
    ) -> Result<Option<std::result::Result<Report, Refusal>>>;

    /// Live records per source name, most first.
    async fn source_counts(&self) -> Result<Vec<SourceCount>>;
    /// Bytes the store takes (its pages; for `/metrics`).
    async fn size_bytes(&self) -> Result<u64>;

    /// Every stored site link (of live and deleted records).
    async fn site_links(&self) -> Result<Vec<(ResourceId, tsunagu_model::SiteLink)>>;
    /// Set (`Some`) or remove (`None`) the site links of these records, in one transaction; each
    /// record whose link changes gets a change-log entry so the index follows. Returns the change
    /// log's position before and after.
    async fn set_site_links(&self, links: &[(ResourceId, Option<tsunagu_model::SiteLink>)]) -> Result<(i64, i64)>;
    /// The live records of a site.
    async fn site_members(&self, site_id: &str) -> Result<Vec<Resource>>;

    async fn insert_campaign(&self, c: &Campaign) -> Result<()>;
    async fn campaign(&self, id: &str) -> Result<Option<Campaign>>;
    async fn campaigns(&self) -> Result<Vec<Campaign>>;
    /// Store invitations with their token hashes, all or none.
    async fn insert_invitations(&self, invitations: &[(Invitation, String)]) -> Result<()>;
    /// The invitation a token hash opens (live or not: the caller tells expired and revoked apart).
    async fn invitation_by_token(&self, token_hash: &str) -> Result<Option<Invitation>>;
    async fn invitation_by_code(&self, code: &str) -> Result<Option<Invitation>>;
    async fn invitation(&self, id: &str) -> Result<Option<Invitation>>;
    async fn invitations(&self, campaign_id: &str) -> Result<Vec<Invitation>>;
    /// Give an invitation a new token (the old one stops working) and expiry.
    async fn reissue_invitation(&self, id: &str, token_hash: &str, expires_at: DateTime<Utc>) -> Result<bool>;
    async fn revoke_invitation(&self, id: &str, at: DateTime<Utc>) -> Result<bool>;
    async fn mark_opened(&self, id: &str, at: DateTime<Utc>) -> Result<()>;
    /// Save a draft or a submission (one response per invitation; a later save replaces the
    /// answers until the centre has reviewed them), atomically.
    async fn save_response(&self, save: &ResponseSave) -> Result<std::result::Result<SurveyResponse, SaveRefused>>;
    async fn response(&self, invitation_id: &str) -> Result<Option<SurveyResponse>>;
    async fn responses(&self, campaign_id: &str) -> Result<Vec<SurveyResponse>>;
    /// Mark a submitted response reviewed (`accepted` or `rejected`), only if it is still
    /// `submitted` at `revision`: of two reviewers at once, one wins. Returns the response.
    #[allow(clippy::too_many_arguments)]
    async fn mark_reviewed(
        &self,
        invitation_id: &str,
        revision: i64,
        status: &str,
        reviewer: &Actor,
        note: Option<&str>,
        accepted_fields: &[String],
    ) -> Result<Option<SurveyResponse>>;
    /// Put a reviewed response back to `submitted` (its review could not be applied).
    async fn unmark_reviewed(&self, invitation_id: &str) -> Result<()>;

    /// Declare an emergency, with its audit entry, in one transaction.
    async fn insert_emergency(&self, e: &tsunagu_model::emergency::Emergency, actor: &Actor) -> Result<()>;
    /// End an emergency at `at` (its audit entry in the same transaction). `Ok(None)`: no such
    /// emergency; an emergency already ended keeps its end.
    async fn end_emergency(
        &self,
        id: &str,
        at: DateTime<Utc>,
        actor: &Actor,
    ) -> Result<Option<std::result::Result<tsunagu_model::emergency::Emergency, tsunagu_model::emergency::Emergency>>>;
    async fn emergency(&self, id: &str) -> Result<Option<tsunagu_model::emergency::Emergency>>;
    /// Emergencies not ended before `at` (active or still to start), or every one when `at` is
    /// `None`; newest first.
    async fn emergencies(&self, at: Option<DateTime<Utc>>) -> Result<Vec<tsunagu_model::emergency::Emergency>>;
    /// The audit trail of an emergency, oldest first.
    async fn emergency_history(&self, id: &str) -> Result<Vec<EmergencyAudit>>;

    /// Record a power point's status report (kept: the newest is its status, all its trail).
    async fn set_power_status(
        &self,
        id: ResourceId,
        status: &tsunagu_model::emergency::PowerStatus,
        actor: &Actor,
    ) -> Result<()>;
    /// The newest status report of each of these records that has one.
    async fn power_statuses(
        &self,
        ids: &[ResourceId],
    ) -> Result<std::collections::HashMap<ResourceId, tsunagu_model::emergency::PowerStatus>>;

    /// Store a new key; false (nothing stored) when a live key already has its name.
    async fn insert_key(&self, key: &ApiKey) -> Result<bool>;
    async fn get_key(&self, id: &str) -> Result<Option<ApiKey>>;
    async fn list_keys(&self) -> Result<Vec<ApiKey>>;
    /// False when there is no such live key.
    async fn revoke_key(&self, id: &str, at: DateTime<Utc>) -> Result<bool>;
}

/// One entry of an emergency's audit trail.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EmergencyAudit {
    pub seq: i64,
    pub actor: String,
    pub actor_key_id: Option<String>,
    pub action: String,
    pub at: DateTime<Utc>,
    /// The emergency as it was after the action.
    pub emergency: serde_json::Value,
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
