//! SQLite implementation of [`Store`]: a single file, WAL journal, migrations on open.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use tsunagu_model::{Resource, ResourceId};

use crate::{
    Actor, ApiKey, AuditEntry, Authorize, Campaign, Change, EmergencyAudit, ImportTx, Invitation, Proposal, Refusal,
    Remembered, Report, ReportQuery, ResponseSave, Result, Role, RowRefused, SaveRefused, SourceCount, Store,
    StoreError, StoreState, SurveyResponse, Unrestricted, Versioned, Write, WriteOp, WriteOutcome, WriteRefused,
    WriteSummary, Written, json_diff,
};

/// The embedded store. Write transactions begin IMMEDIATE: a deferred one that reads first and
/// then writes fails at once with SQLITE_BUSY when another writer is active, instead of waiting
/// for the busy timeout.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

impl SqliteStore {
    /// Open (creating if needed) the database file and bring its schema up to date.
    pub async fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Open { path: dir.display().to_string(), message: e.to_string() })?;
        }
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // 16 MiB of pages per connection: the id index's inner pages stay in memory, so a
            // search's page of records costs few reads (8 connections: at most 128 MiB).
            .pragma("cache_size", "-16384");
        Self::connect(options, 8).await
    }

    /// A private in-memory database (tests).
    pub async fn in_memory() -> Result<Self> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?;
        // One connection: every connection to :memory: is a separate database.
        Self::connect(options, 1).await
    }

    async fn connect(options: SqliteConnectOptions, max: u32) -> Result<Self> {
        let pool = SqlitePoolOptions::new().max_connections(max).connect_with(options).await?;
        MIGRATOR.run(&pool).await?;
        Ok(SqliteStore { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A consistent copy of the whole database in `out` (which must not exist yet), taken while
    /// the store is in use: `VACUUM INTO` reads one snapshot, so writes going on at the same time
    /// are either all in the copy or not at all.
    pub async fn backup_to(&self, out: &Path) -> Result<()> {
        if out.exists() {
            return Err(StoreError::Open { path: out.display().to_string(), message: "already exists".into() });
        }
        let target = out.to_str().ok_or_else(|| StoreError::Open {
            path: out.display().to_string(),
            message: "the path is not valid UTF-8".into(),
        })?;
        sqlx::query("VACUUM INTO ?").bind(target).execute(&self.pool).await?;
        Ok(())
    }

    /// Check a backup file without changing it: SQLite's integrity check passes, it is a tsunagu
    /// store, and its schema is one this binary knows (older ones are upgraded when opened).
    pub async fn check_backup(path: &Path) -> Result<BackupInfo> {
        let bad = |message: String| StoreError::Open { path: path.display().to_string(), message };
        if !path.is_file() {
            return Err(bad("no such file".into()));
        }
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?.read_only(true);
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
        let info = async {
            let check: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&pool).await?;
            if check != "ok" {
                return Err(bad(format!("the integrity check failed: {check}")));
            }
            let version: Option<i64> = sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&pool)
                .await
                .map_err(|_| bad("not a tsunagu store (no schema history)".into()))?;
            let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
            let version = version.unwrap_or(0);
            if version > known {
                return Err(bad(format!(
                    "made by a newer tsunagu (schema {version}; this binary knows up to {known}): use that version"
                )));
            }
            let store_id: String = sqlx::query_scalar("SELECT value FROM store_meta WHERE key = 'store_id'")
                .fetch_one(&pool)
                .await
                .map_err(|_| bad("not a tsunagu store (no store id)".into()))?;
            let resources: i64 =
                sqlx::query_scalar("SELECT count(*) FROM resources WHERE deleted_at IS NULL").fetch_one(&pool).await?;
            Ok(BackupInfo { schema_version: version, store_id, resources: resources as u64 })
        }
        .await;
        pool.close().await;
        info
    }
}

/// What [`SqliteStore::check_backup`] found in a backup file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    pub schema_version: i64,
    pub store_id: String,
    /// Live (not deleted) resources.
    pub resources: u64,
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_ts(s: &str) -> std::result::Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc))
}

/// The canonical JSON kept in `body`: the resource without the store-managed timestamps.
fn body_of(r: &Resource) -> String {
    serde_json::to_string(&r.clone().without_timestamps()).expect("resources serialise")
}

fn decode(id: &str, body: &str, created: &str, updated: &str) -> Result<Resource> {
    let corrupt = |message: String| StoreError::Corrupt { id: id.to_string(), message };
    let mut r: Resource = serde_json::from_str(body).map_err(|e| corrupt(e.to_string()))?;
    let parse =
        |s: &str| DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).map_err(|e| corrupt(e.to_string()));
    r.created_at = Some(parse(created)?);
    r.updated_at = Some(parse(updated)?);
    Ok(r)
}

/// The columns every read of whole records selects, and where from: a record with its site link.
const COLUMNS: &str = "r.id, r.body, r.created_at, r.updated_at, r.version, r.deleted_at, s.site_id, s.basis";
const FROM: &str = "resources r LEFT JOIN site_links s ON s.resource_id = r.id";

fn decode_row(row: &sqlx::sqlite::SqliteRow) -> Result<Resource> {
    let id: String = row.try_get("id")?;
    let mut r = decode(&id, row.try_get("body")?, row.try_get("created_at")?, row.try_get("updated_at")?)?;
    let site: Option<String> = row.try_get("site_id")?;
    if let Some(site) = site {
        let basis: String = row.try_get("basis")?;
        let basis = serde_json::from_value(serde_json::Value::String(basis.clone()))
            .map_err(|_| StoreError::Corrupt { id: id.clone(), message: format!("site basis {basis}") })?;
        r.site = Some(tsunagu_model::SiteLink { id: site, basis });
    }
    Ok(r)
}

#[async_trait]
impl Store for SqliteStore {
    async fn upsert(&self, resources: &[Resource], actor: &str) -> Result<WriteSummary> {
        let mut tx = self.begin_import(&Actor::system(actor), Arc::new(Unrestricted)).await?;
        tx.put(resources).await?;
        tx.finish(true).await
    }

    async fn begin_import(&self, actor: &Actor, authorize: Arc<dyn Authorize>) -> Result<Box<dyn ImportTx>> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        // A bigger page cache while importing: the id indexes take inserts in random order.
        sqlx::query(IMPORT_CACHE).execute(&mut *tx).await?;
        let prev_seq = last_seq(&mut tx).await?;
        Ok(Box::new(SqliteImport {
            tx,
            actor: actor.clone(),
            authorize,
            merge: None,
            now: ts(Utc::now()),
            summary: WriteSummary { prev_seq, seq: prev_seq, ..WriteSummary::default() },
        }))
    }

    async fn get(&self, id: ResourceId) -> Result<Option<Resource>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM {FROM} WHERE r.id = ? AND r.deleted_at IS NULL"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(decode_row).transpose()
    }

    async fn get_many(&self, ids: &[ResourceId]) -> Result<Vec<Resource>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut found = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let sql =
                format!("SELECT {COLUMNS} FROM {FROM} WHERE r.deleted_at IS NULL AND r.id IN ({})", marks(chunk.len()));
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(id.to_string());
            }
            for row in q.fetch_all(&self.pool).await? {
                let r = decode_row(&row)?;
                found.insert(r.id, r);
            }
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    async fn delete(&self, id: ResourceId, at: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let done = sqlx::query(
            "UPDATE resources SET deleted_at = ?, version = version + 1 WHERE id = ? AND deleted_at IS NULL",
        )
        .bind(ts(at))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if done {
            sqlx::query("INSERT INTO audit_log (resource_id, actor, action, at, version, after) SELECT id, 'system', 'delete', ?, version, '{}' FROM resources WHERE id = ?")
                .bind(ts(at))
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO changes (resource_id, op, at) VALUES (?, 'delete', ?)")
                .bind(id.to_string())
                .bind(ts(at))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(done)
    }

    async fn page(&self, after: Option<ResourceId>, limit: u32) -> Result<Vec<Resource>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE r.deleted_at IS NULL AND r.id > ? ORDER BY r.id LIMIT ?"
        ))
        .bind(after.map(|a| a.to_string()).unwrap_or_default())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode_row).collect()
    }

    async fn state(&self) -> Result<StoreState> {
        let store_id: String =
            sqlx::query_scalar("SELECT value FROM store_meta WHERE key = 'store_id'").fetch_one(&self.pool).await?;
        let mut conn = self.pool.acquire().await?;
        let seq = last_seq(&mut conn).await?;
        let count: i64 =
            sqlx::query_scalar("SELECT count(*) FROM resources WHERE deleted_at IS NULL").fetch_one(&mut *conn).await?;
        Ok(StoreState { store_id, seq, count: count as u64 })
    }

    async fn get_versioned(&self, id: ResourceId) -> Result<Option<Versioned>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM {FROM} WHERE r.id = ?"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(versioned_of).transpose()
    }

    async fn write(&self, w: Write<'_>) -> Result<std::result::Result<WriteOutcome, WriteRefused>> {
        let now = ts(Utc::now());
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        // The idempotency key is claimed under the write lock: of identical requests at once, the
        // first writes and the others wait here, then find its response.
        if let Some(idem) = &w.idempotency {
            let key_id = w.actor.key_id.as_deref().unwrap_or(&w.actor.name);
            let seen: Option<(String, i64, String, String)> = sqlx::query_as(
                "SELECT request_hash, status, response, headers FROM idempotency WHERE key_id = ? AND key = ?",
            )
            .bind(key_id)
            .bind(idem.key)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((request_hash, status, response, headers)) = seen {
                tx.rollback().await?;
                if request_hash != idem.request_hash {
                    return Ok(Err(WriteRefused::IdempotencyMismatch));
                }
                let headers = serde_json::from_str(&headers).unwrap_or_default();
                return Ok(Ok(WriteOutcome::Replayed(Remembered {
                    request_hash,
                    status: status as u16,
                    response,
                    headers,
                })));
            }
        }
        let prev_seq = last_seq(&mut tx).await?;
        let id = w.op.id();
        let ids = id.to_string();
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM {FROM} WHERE r.id = ?"))
            .bind(&ids)
            .fetch_optional(&mut *tx)
            .await?;
        let current = row.as_ref().map(versioned_of).transpose()?;
        let plan = match plan(w.op, current.as_ref(), w.authorize) {
            Ok(p) => p,
            Err(refused) => {
                tx.rollback().await?;
                return Ok(Err(refused));
            }
        };
        let actor = w.actor;
        match plan {
            Plan::Nothing => {}
            Plan::Insert(r) => {
                let body = body_of(&r);
                audit(&mut tx, &ids, actor, "create", &now, Some(&parse_json(&body))).await?;
                insert_row(&mut tx, &ids, &r, &body, &now).await?;
                log_change(&mut tx, &ids, "upsert", &now).await?;
            }
            Plan::Replace { new } => {
                let old: String = row.as_ref().expect("a replaced record was read").try_get("body")?;
                let body = body_of(&new);
                if body != old {
                    let diff = json_diff(&parse_json(&old), &parse_json(&body));
                    audit(&mut tx, &ids, actor, "update", &now, Some(&diff)).await?;
                    update_row(&mut tx, &ids, &new, &body, &now, false).await?;
                    log_change(&mut tx, &ids, "upsert", &now).await?;
                }
            }
            Plan::Delete => {
                let change = serde_json::json!({"deleted_at": {"before": null, "after": now}});
                audit(&mut tx, &ids, actor, "delete", &now, Some(&change)).await?;
                sqlx::query("UPDATE resources SET deleted_at = ?, version = version + 1 WHERE id = ?")
                    .bind(&now)
                    .bind(&ids)
                    .execute(&mut *tx)
                    .await?;
                log_change(&mut tx, &ids, "delete", &now).await?;
            }
            Plan::Restore => {
                let when: Option<String> = row.as_ref().and_then(|r| r.try_get("deleted_at").ok());
                let change = serde_json::json!({"deleted_at": {"before": when, "after": null}});
                audit(&mut tx, &ids, actor, "restore", &now, Some(&change)).await?;
                sqlx::query(
                    "UPDATE resources SET deleted_at = NULL, version = version + 1, updated_at = ? WHERE id = ?",
                )
                .bind(&now)
                .bind(&ids)
                .execute(&mut *tx)
                .await?;
                log_change(&mut tx, &ids, "upsert", &now).await?;
            }
        }
        let seq = last_seq(&mut tx).await?;
        let row =
            sqlx::query(&format!("SELECT {COLUMNS} FROM {FROM} WHERE r.id = ?")).bind(&ids).fetch_one(&mut *tx).await?;
        let versioned = versioned_of(&row)?;
        if let Some(idem) = &w.idempotency {
            let key_id = w.actor.key_id.as_deref().unwrap_or(&w.actor.name);
            let answer = (idem.respond)(&versioned);
            // Remembered for a day: long enough for any client's retries.
            let day_ago = ts(Utc::now() - chrono::Duration::days(1));
            sqlx::query("DELETE FROM idempotency WHERE created_at < ?").bind(&day_ago).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO idempotency (key_id, key, request_hash, status, response, headers, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(key_id)
            .bind(idem.key)
            .bind(idem.request_hash)
            .bind(i64::from(answer.status))
            .bind(&answer.response)
            .bind(serde_json::to_string(&answer.headers).expect("strings serialise"))
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Ok(WriteOutcome::Written(Box::new(Written { versioned, prev_seq, seq }))))
    }

    async fn history(&self, id: ResourceId) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT seq, actor, actor_key_id, action, at, version, after FROM audit_log WHERE resource_id = ? ORDER BY seq",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let at: String = row.try_get("at")?;
                Ok(AuditEntry {
                    seq: row.try_get("seq")?,
                    actor: row.try_get("actor")?,
                    actor_key_id: row.try_get("actor_key_id")?,
                    action: row.try_get("action")?,
                    at: DateTime::parse_from_rfc3339(&at)
                        .map(|t| t.with_timezone(&Utc))
                        .map_err(|e| StoreError::Corrupt { id: id.to_string(), message: e.to_string() })?,
                    version: row.try_get("version")?,
                    changes: row
                        .try_get::<Option<String>, _>("after")?
                        .map(|a| parse_json(&a))
                        .unwrap_or(serde_json::Value::Null),
                })
            })
            .collect()
    }

    async fn insert_report(&self, r: &Report) -> Result<()> {
        sqlx::query(
            "INSERT INTO reports (id, resource_id, kind, message, contact, created_at, status) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&r.id)
        .bind(r.resource_id.to_string())
        .bind(&r.kind)
        .bind(&r.message)
        .bind(&r.contact)
        .bind(ts(r.created_at))
        .bind(&r.status)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn reports(&self, q: &ReportQuery<'_>) -> Result<Vec<Report>> {
        let mut sql = sqlx::QueryBuilder::<sqlx::Sqlite>::new(format!(
            "SELECT {REPORT_COLUMNS} FROM reports p JOIN resources r ON r.id = p.resource_id WHERE 1 = 1"
        ));
        if let Some(status) = q.status {
            sql.push(" AND p.status = ").push_bind(status);
        }
        if let Some(codes) = q.municipalities {
            if codes.is_empty() {
                return Ok(Vec::new());
            }
            sql.push(" AND r.municipality_code IN (");
            let mut list = sql.separated(", ");
            for c in codes {
                list.push_bind(c.as_str());
            }
            sql.push(")");
        }
        sql.push(" ORDER BY p.created_at DESC, p.id DESC LIMIT ")
            .push_bind(i64::from(q.limit))
            .push(" OFFSET ")
            .push_bind(i64::from(q.offset));
        let rows = sql.build().fetch_all(&self.pool).await?;
        rows.iter().map(report_of).collect()
    }

    async fn handle_report(
        &self,
        id: &str,
        status: &str,
        actor: &Actor,
        note: Option<&str>,
        authorize: &dyn Authorize,
    ) -> Result<Option<std::result::Result<Report, Refusal>>> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let sql = format!("SELECT {REPORT_COLUMNS} FROM reports p WHERE p.id = ? AND p.status = 'open'");
        let Some(row) = sqlx::query(&sql).bind(id).fetch_optional(&mut *tx).await? else {
            tx.rollback().await?;
            return Ok(None);
        };
        let report = report_of(&row)?;
        let about = sqlx::query(&format!("SELECT {COLUMNS} FROM {FROM} WHERE r.id = ?"))
            .bind(report.resource_id.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .as_ref()
            .map(versioned_of)
            .transpose()?;
        let Some(about) = about else {
            tx.rollback().await?;
            return Ok(None);
        };
        if let Err(refusal) = authorize.allow(Proposal::CloseReport { about: &about.resource }) {
            tx.rollback().await?;
            return Ok(Some(Err(refusal)));
        }
        let at = Utc::now();
        sqlx::query(
            "UPDATE reports SET status = ?, handled_by = ?, handled_by_key_id = ?, handled_at = ?, note = ? WHERE id = ?",
        )
        .bind(status)
        .bind(&actor.name)
        .bind(&actor.key_id)
        .bind(ts(at))
        .bind(note)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(Ok(Report {
            status: status.to_string(),
            handled_by: Some(actor.name.clone()),
            handled_by_key_id: actor.key_id.clone(),
            handled_at: Some(at),
            note: note.map(str::to_string),
            ..report
        })))
    }

    async fn source_counts(&self) -> Result<Vec<SourceCount>> {
        // Kept by triggers (migration 0007): a few rows per source, never a scan of the records.
        let rows: Vec<(String, i64, i64, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT source_name, sum(records), sum(records * sample), min(nullif(source_date, '')), \
             max(nullif(source_date, '')) FROM source_tallies \
             GROUP BY source_name ORDER BY sum(records) DESC, source_name",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(name, n, samples, first, last)| SourceCount {
                name,
                records: n as u64,
                sample_records: samples as u64,
                first_date: first,
                last_date: last,
            })
            .collect())
    }

    async fn size_bytes(&self) -> Result<u64> {
        let (bytes,): (i64,) =
            sqlx::query_as("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
                .fetch_one(&self.pool)
                .await?;
        Ok(bytes.max(0) as u64)
    }

    async fn site_links(&self) -> Result<Vec<(ResourceId, tsunagu_model::SiteLink)>> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT resource_id, site_id, basis FROM site_links ORDER BY resource_id")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(id, site, basis)| {
                let corrupt = |m: String| StoreError::Corrupt { id: id.clone(), message: m };
                let rid: ResourceId = id.parse().map_err(|e: tsunagu_model::FieldError| corrupt(e.reason))?;
                let basis = serde_json::from_value(serde_json::Value::String(basis.clone()))
                    .map_err(|_| corrupt(format!("site basis {basis}")))?;
                Ok((rid, tsunagu_model::SiteLink { id: site, basis }))
            })
            .collect()
    }

    async fn set_site_links(&self, links: &[(ResourceId, Option<tsunagu_model::SiteLink>)]) -> Result<(i64, i64)> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let prev = last_seq(&mut tx).await?;
        let now = ts(Utc::now());
        for (id, link) in links {
            let ids = id.to_string();
            let current: Option<(String, String)> =
                sqlx::query_as("SELECT site_id, basis FROM site_links WHERE resource_id = ?")
                    .bind(&ids)
                    .fetch_optional(&mut *tx)
                    .await?;
            let wanted = link.as_ref().map(|l| {
                (
                    l.id.clone(),
                    serde_json::to_value(l.basis).expect("serialises").as_str().unwrap_or_default().to_string(),
                )
            });
            if current == wanted {
                continue;
            }
            match &wanted {
                Some((site, basis)) => {
                    sqlx::query(
                        "INSERT INTO site_links (resource_id, site_id, basis, linked_at) VALUES (?, ?, ?, ?) \
                         ON CONFLICT (resource_id) DO UPDATE SET site_id = excluded.site_id, basis = excluded.basis, \
                         linked_at = excluded.linked_at",
                    )
                    .bind(&ids)
                    .bind(site)
                    .bind(basis)
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    sqlx::query("DELETE FROM site_links WHERE resource_id = ?").bind(&ids).execute(&mut *tx).await?;
                }
            }
            let live: Option<i64> = sqlx::query_scalar("SELECT 1 FROM resources WHERE id = ? AND deleted_at IS NULL")
                .bind(&ids)
                .fetch_optional(&mut *tx)
                .await?;
            if live.is_some() {
                log_change(&mut tx, &ids, "upsert", &now).await?;
            }
        }
        let seq = last_seq(&mut tx).await?;
        tx.commit().await?;
        Ok((prev, seq))
    }

    async fn site_members(&self, site_id: &str) -> Result<Vec<Resource>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE s.site_id = ? AND r.deleted_at IS NULL ORDER BY r.name, r.id"
        ))
        .bind(site_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode_row).collect()
    }

    async fn insert_emergency(&self, e: &tsunagu_model::emergency::Emergency, actor: &Actor) -> Result<()> {
        let body = serde_json::to_string(e)
            .map_err(|err| StoreError::Corrupt { id: e.id.clone(), message: err.to_string() })?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("INSERT INTO emergencies (id, body, starts_at, ends_at, created_at) VALUES (?, ?, ?, ?, ?)")
            .bind(&e.id)
            .bind(&body)
            .bind(ts(e.starts_at))
            .bind(e.ends_at.map(ts))
            .bind(ts(e.created_at))
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO emergency_audit (emergency_id, actor, actor_key_id, action, at, body) VALUES (?, ?, ?, 'declare', ?, ?)")
            .bind(&e.id)
            .bind(&actor.name)
            .bind(&actor.key_id)
            .bind(ts(e.created_at))
            .bind(&body)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn end_emergency(
        &self,
        id: &str,
        at: DateTime<Utc>,
        actor: &Actor,
    ) -> Result<Option<std::result::Result<tsunagu_model::emergency::Emergency, tsunagu_model::emergency::Emergency>>>
    {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let row = sqlx::query("SELECT body FROM emergencies WHERE id = ?").bind(id).fetch_optional(&mut *tx).await?;
        let Some(row) = row else { return Ok(None) };
        let mut e = emergency_of(&row, id)?;
        if e.ends_at.is_some_and(|end| end <= at) {
            return Ok(Some(Err(e)));
        }
        // Ending one that has not started yet ends it as it starts: it never applies.
        e.ends_at = Some(at.max(e.starts_at));
        let body = serde_json::to_string(&e)
            .map_err(|err| StoreError::Corrupt { id: id.to_string(), message: err.to_string() })?;
        sqlx::query("UPDATE emergencies SET body = ?, ends_at = ? WHERE id = ?")
            .bind(&body)
            .bind(e.ends_at.map(ts))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO emergency_audit (emergency_id, actor, actor_key_id, action, at, body) VALUES (?, ?, ?, 'end', ?, ?)")
            .bind(id)
            .bind(&actor.name)
            .bind(&actor.key_id)
            .bind(ts(at))
            .bind(&body)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(Ok(e)))
    }

    async fn emergency(&self, id: &str) -> Result<Option<tsunagu_model::emergency::Emergency>> {
        let row = sqlx::query("SELECT body FROM emergencies WHERE id = ?").bind(id).fetch_optional(&self.pool).await?;
        row.map(|r| emergency_of(&r, id)).transpose()
    }

    async fn emergencies(&self, at: Option<DateTime<Utc>>) -> Result<Vec<tsunagu_model::emergency::Emergency>> {
        let rows = match at {
            Some(t) => sqlx::query(
                "SELECT id, body FROM emergencies WHERE ends_at IS NULL OR ends_at > ? ORDER BY created_at DESC, id",
            )
            .bind(ts(t))
            .fetch_all(&self.pool)
            .await?,
            None => {
                sqlx::query("SELECT id, body FROM emergencies ORDER BY created_at DESC, id")
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                emergency_of(r, &id)
            })
            .collect()
    }

    async fn emergency_history(&self, id: &str) -> Result<Vec<EmergencyAudit>> {
        let rows = sqlx::query("SELECT * FROM emergency_audit WHERE emergency_id = ? ORDER BY seq")
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(EmergencyAudit {
                    seq: r.try_get("seq")?,
                    actor: r.try_get("actor")?,
                    actor_key_id: r.try_get("actor_key_id")?,
                    action: r.try_get("action")?,
                    at: req_ts(r, "at", id)?,
                    emergency: json_col(r, "body")?,
                })
            })
            .collect()
    }

    async fn set_power_status(
        &self,
        id: ResourceId,
        status: &tsunagu_model::emergency::PowerStatus,
        actor: &Actor,
    ) -> Result<()> {
        sqlx::query("INSERT INTO power_status (resource_id, state, at, actor, actor_key_id) VALUES (?, ?, ?, ?, ?)")
            .bind(id.to_string())
            .bind(status.state.code())
            .bind(ts(status.at))
            .bind(&actor.name)
            .bind(&actor.key_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn power_statuses(
        &self,
        ids: &[ResourceId],
    ) -> Result<std::collections::HashMap<ResourceId, tsunagu_model::emergency::PowerStatus>> {
        let mut out = std::collections::HashMap::new();
        for chunk in ids.chunks(500) {
            let mut sql = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "SELECT p.resource_id, p.state, p.at FROM power_status p \
                 JOIN (SELECT resource_id, max(seq) AS seq FROM power_status WHERE resource_id IN (",
            );
            let mut list = sql.separated(", ");
            for id in chunk {
                list.push_bind(id.to_string());
            }
            sql.push(") GROUP BY resource_id) newest ON newest.seq = p.seq");
            for row in sql.build().fetch_all(&self.pool).await? {
                let id: String = row.try_get("resource_id")?;
                let state: String = row.try_get("state")?;
                let rid: ResourceId = id.parse().map_err(|e: tsunagu_model::FieldError| StoreError::Corrupt {
                    id: id.clone(),
                    message: e.reason,
                })?;
                let state = tsunagu_model::emergency::PowerState::parse(&state)
                    .ok_or_else(|| StoreError::Corrupt { id: id.clone(), message: format!("power state {state}") })?;
                out.insert(rid, tsunagu_model::emergency::PowerStatus { state, at: req_ts(&row, "at", &id)? });
            }
        }
        Ok(out)
    }

    async fn insert_campaign(&self, c: &Campaign) -> Result<()> {
        sqlx::query(
            "INSERT INTO survey_campaigns (id, name, target, deadline, mode, created_by, created_by_key_id, created_at, baseline) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&c.id)
        .bind(&c.name)
        .bind(c.target.to_string())
        .bind(c.deadline.to_string())
        .bind(&c.mode)
        .bind(&c.created_by)
        .bind(&c.created_by_key_id)
        .bind(ts(c.created_at))
        .bind(c.baseline.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn campaign(&self, id: &str) -> Result<Option<Campaign>> {
        let row =
            sqlx::query("SELECT * FROM survey_campaigns WHERE id = ?").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(campaign_of).transpose()
    }

    async fn campaigns(&self) -> Result<Vec<Campaign>> {
        let rows =
            sqlx::query("SELECT * FROM survey_campaigns ORDER BY created_at DESC, id").fetch_all(&self.pool).await?;
        rows.iter().map(campaign_of).collect()
    }

    async fn insert_invitations(&self, invitations: &[(Invitation, String)]) -> Result<()> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for (i, hash) in invitations {
            sqlx::query(
                "INSERT INTO survey_invitations (id, campaign_id, resource_id, token_hash, code, expires_at, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&i.id)
            .bind(&i.campaign_id)
            .bind(i.resource_id.to_string())
            .bind(hash)
            .bind(&i.code)
            .bind(ts(i.expires_at))
            .bind(ts(i.created_at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn invitation_by_token(&self, token_hash: &str) -> Result<Option<Invitation>> {
        let row = sqlx::query("SELECT * FROM survey_invitations WHERE token_hash = ?")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(invitation_of).transpose()
    }

    async fn invitation_by_code(&self, code: &str) -> Result<Option<Invitation>> {
        let row = sqlx::query("SELECT * FROM survey_invitations WHERE code = ?")
            .bind(code)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(invitation_of).transpose()
    }

    async fn invitation(&self, id: &str) -> Result<Option<Invitation>> {
        let row =
            sqlx::query("SELECT * FROM survey_invitations WHERE id = ?").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(invitation_of).transpose()
    }

    async fn invitations(&self, campaign_id: &str) -> Result<Vec<Invitation>> {
        let rows = sqlx::query("SELECT * FROM survey_invitations WHERE campaign_id = ? ORDER BY code")
            .bind(campaign_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(invitation_of).collect()
    }

    async fn reissue_invitation(&self, id: &str, token_hash: &str, expires_at: DateTime<Utc>) -> Result<bool> {
        let n =
            sqlx::query("UPDATE survey_invitations SET token_hash = ?, expires_at = ?, revoked_at = NULL WHERE id = ?")
                .bind(token_hash)
                .bind(ts(expires_at))
                .bind(id)
                .execute(&self.pool)
                .await?
                .rows_affected();
        Ok(n == 1)
    }

    async fn revoke_invitation(&self, id: &str, at: DateTime<Utc>) -> Result<bool> {
        let n = sqlx::query("UPDATE survey_invitations SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
            .bind(ts(at))
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    async fn mark_opened(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE survey_invitations SET opened_at = coalesce(opened_at, ?) WHERE id = ?")
            .bind(ts(at))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn save_response(&self, save: &ResponseSave) -> Result<std::result::Result<SurveyResponse, SaveRefused>> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let inv: Option<(String, String)> =
            sqlx::query_as("SELECT campaign_id, resource_id FROM survey_invitations WHERE id = ?")
                .bind(&save.invitation_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((campaign, resource)) = inv else {
            tx.rollback().await?;
            return Ok(Err(SaveRefused::NoInvitation));
        };
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM survey_responses WHERE invitation_id = ?")
            .bind(&save.invitation_id)
            .fetch_optional(&mut *tx)
            .await?;
        if matches!(status.as_deref(), Some("accepted" | "rejected")) {
            tx.rollback().await?;
            return Ok(Err(SaveRefused::Reviewed));
        }
        let now = ts(Utc::now());
        let new_status = if save.submit || status.as_deref() == Some("submitted") { "submitted" } else { "draft" };
        let submitted_at = save.submit.then(|| now.clone());
        sqlx::query(
            "INSERT INTO survey_responses (invitation_id, campaign_id, resource_id, status, channel, answers, base, \
             updated_at, submitted_at, entered_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (invitation_id) DO UPDATE SET status = excluded.status, channel = excluded.channel, \
             answers = excluded.answers, base = excluded.base, updated_at = excluded.updated_at, \
             submitted_at = coalesce(excluded.submitted_at, survey_responses.submitted_at), \
             entered_by = coalesce(excluded.entered_by, survey_responses.entered_by), revision = revision + 1",
        )
        .bind(&save.invitation_id)
        .bind(&campaign)
        .bind(&resource)
        .bind(new_status)
        .bind(save.channel)
        .bind(save.answers.to_string())
        .bind(save.base.to_string())
        .bind(&now)
        .bind(&submitted_at)
        .bind(&save.entered_by)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query("SELECT * FROM survey_responses WHERE invitation_id = ?")
            .bind(&save.invitation_id)
            .fetch_one(&mut *tx)
            .await?;
        let saved = response_of(&row)?;
        tx.commit().await?;
        Ok(Ok(saved))
    }

    async fn response(&self, invitation_id: &str) -> Result<Option<SurveyResponse>> {
        let row = sqlx::query("SELECT * FROM survey_responses WHERE invitation_id = ?")
            .bind(invitation_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(response_of).transpose()
    }

    async fn responses(&self, campaign_id: &str) -> Result<Vec<SurveyResponse>> {
        let rows =
            sqlx::query("SELECT * FROM survey_responses WHERE campaign_id = ? ORDER BY updated_at, invitation_id")
                .bind(campaign_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(response_of).collect()
    }

    async fn mark_reviewed(
        &self,
        invitation_id: &str,
        revision: i64,
        status: &str,
        reviewer: &Actor,
        note: Option<&str>,
        accepted_fields: &[String],
    ) -> Result<Option<SurveyResponse>> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let n = sqlx::query(
            "UPDATE survey_responses SET status = ?, reviewed_by = ?, reviewed_by_key_id = ?, reviewed_at = ?, \
             review_note = ?, accepted_fields = ? WHERE invitation_id = ? AND status = 'submitted' AND revision = ?",
        )
        .bind(status)
        .bind(&reviewer.name)
        .bind(&reviewer.key_id)
        .bind(ts(Utc::now()))
        .bind(note)
        .bind(serde_json::to_string(accepted_fields).expect("strings serialise"))
        .bind(invitation_id)
        .bind(revision)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        let row = sqlx::query("SELECT * FROM survey_responses WHERE invitation_id = ?")
            .bind(invitation_id)
            .fetch_one(&mut *tx)
            .await?;
        let r = response_of(&row)?;
        tx.commit().await?;
        Ok(Some(r))
    }

    async fn unmark_reviewed(&self, invitation_id: &str) -> Result<()> {
        sqlx::query(
            "UPDATE survey_responses SET status = 'submitted', reviewed_by = NULL, reviewed_by_key_id = NULL, \
             reviewed_at = NULL, review_note = NULL, accepted_fields = '[]' WHERE invitation_id = ?",
        )
        .bind(invitation_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn insert_key(&self, key: &ApiKey) -> Result<bool> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let taken: Option<String> = sqlx::query_scalar("SELECT id FROM api_keys WHERE name = ? AND revoked_at IS NULL")
            .bind(&key.name)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO api_keys (id, name, role, regions, secret_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&key.id)
        .bind(&key.name)
        .bind(key.role.code())
        .bind(serde_json::to_string(&key.regions).expect("strings serialise"))
        .bind(&key.secret_hash)
        .bind(ts(key.created_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn get_key(&self, id: &str) -> Result<Option<ApiKey>> {
        let row = sqlx::query("SELECT * FROM api_keys WHERE id = ?").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(key_of).transpose()
    }

    async fn list_keys(&self) -> Result<Vec<ApiKey>> {
        let rows = sqlx::query("SELECT * FROM api_keys ORDER BY created_at, id").fetch_all(&self.pool).await?;
        rows.iter().map(key_of).collect()
    }

    async fn revoke_key(&self, id: &str, at: DateTime<Utc>) -> Result<bool> {
        let n = sqlx::query("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
            .bind(ts(at))
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    async fn changes_since(&self, seq: i64, limit: u32) -> Result<Vec<Change>> {
        let rows = sqlx::query("SELECT seq, resource_id, op FROM changes WHERE seq > ? ORDER BY seq LIMIT ?")
            .bind(seq)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("resource_id")?;
                let op: String = row.try_get("op")?;
                Ok(Change {
                    seq: row.try_get("seq")?,
                    id: id
                        .parse()
                        .map_err(|e: tsunagu_model::FieldError| StoreError::Corrupt { id, message: e.to_string() })?,
                    deleted: op == "delete",
                })
            })
            .collect()
    }
}

/// What a write will do to the stored record, decided (and authorised) before anything is written.
enum Plan {
    Nothing,
    Insert(Resource),
    Replace { new: Resource },
    Delete,
    Restore,
}

/// Decide a write against the stored record: existence and state first (a deleted record is
/// not there to change), then the authorisation decision, then the version.
fn plan(
    op: WriteOp,
    current: Option<&Versioned>,
    authorize: &dyn Authorize,
) -> std::result::Result<Plan, WriteRefused> {
    let allow = |p: Proposal<'_>| match authorize.allow(p) {
        Ok(()) => Ok(()),
        Err(Refusal::Forbidden(why)) => Err(WriteRefused::Forbidden(why)),
        Err(Refusal::NotServed) => Err(WriteRefused::NotFound),
    };
    let live = |v: Option<&Versioned>| v.filter(|v| !v.deleted).cloned().ok_or(WriteRefused::NotFound);
    let same_version = |v: &Versioned, expected: i64| {
        if v.version == expected { Ok(()) } else { Err(WriteRefused::Conflict { current: v.version }) }
    };
    match op {
        WriteOp::Create(r) => {
            allow(Proposal::Create { new: &r })?;
            if current.is_some() { Err(WriteRefused::Exists) } else { Ok(Plan::Insert(r)) }
        }
        WriteOp::Replace { resource, expected } => {
            let v = live(current)?;
            allow(Proposal::Update { stored: &v.resource, new: &resource })?;
            same_version(&v, expected)?;
            Ok(Plan::Replace { new: resource })
        }
        WriteOp::Modify { id, change } => {
            let v = live(current)?;
            let mut new = change(&v.resource).map_err(WriteRefused::Invalid)?;
            new.id = id;
            new.created_at = v.resource.created_at;
            new.updated_at = v.resource.updated_at;
            allow(Proposal::Update { stored: &v.resource, new: &new })?;
            Ok(Plan::Replace { new })
        }
        WriteOp::Delete { expected, .. } => {
            let v = live(current)?;
            allow(Proposal::Delete { stored: &v.resource })?;
            same_version(&v, expected)?;
            Ok(Plan::Delete)
        }
        WriteOp::Restore { .. } => {
            let v = current.ok_or(WriteRefused::NotFound)?;
            // Restoring a live record does nothing, but only those who may restore may ask.
            allow(Proposal::Undelete { stored: &v.resource, new: &v.resource })?;
            Ok(if v.deleted { Plan::Restore } else { Plan::Nothing })
        }
    }
}

fn versioned_of(row: &sqlx::sqlite::SqliteRow) -> Result<Versioned> {
    Ok(Versioned {
        resource: decode_row(row)?,
        version: row.try_get("version")?,
        deleted: row.try_get::<Option<String>, _>("deleted_at")?.is_some(),
    })
}

/// Insert a resource row (version 1).
async fn insert_row(conn: &mut sqlx::SqliteConnection, id: &str, r: &Resource, body: &str, now: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO resources (id, kind, municipality_code, name, sample, source_name, source_id, body, \
         created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(r.kind.code())
    .bind(r.municipality_code.to_string())
    .bind(&r.name)
    .bind(r.sample)
    .bind(&r.source.name)
    .bind(&r.source.id)
    .bind(body)
    .bind(now)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Replace a resource row's content and bump its version (and, for imports, bring it back if it
/// was deleted).
async fn update_row(
    conn: &mut sqlx::SqliteConnection,
    id: &str,
    r: &Resource,
    body: &str,
    now: &str,
    undelete: bool,
) -> Result<()> {
    let sql = if undelete {
        "UPDATE resources SET kind = ?, municipality_code = ?, name = ?, sample = ?, source_name = ?, source_id = ?, \
         body = ?, version = version + 1, updated_at = ?, deleted_at = NULL WHERE id = ?"
    } else {
        "UPDATE resources SET kind = ?, municipality_code = ?, name = ?, sample = ?, source_name = ?, source_id = ?, \
         body = ?, version = version + 1, updated_at = ? WHERE id = ?"
    };
    sqlx::query(sql)
        .bind(r.kind.code())
        .bind(r.municipality_code.to_string())
        .bind(&r.name)
        .bind(r.sample)
        .bind(&r.source.name)
        .bind(&r.source.id)
        .bind(body)
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

fn parse_json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or(serde_json::Value::Null)
}

/// Append to the audit log, with the record's version after the write (its current one + 1, or
/// 1 for a new record).
async fn audit(
    conn: &mut sqlx::SqliteConnection,
    id: &str,
    actor: &Actor,
    action: &str,
    at: &str,
    after: Option<&serde_json::Value>,
) -> Result<()> {
    let version: Option<i64> =
        sqlx::query_scalar("SELECT version FROM resources WHERE id = ?").bind(id).fetch_optional(&mut *conn).await?;
    sqlx::query(
        "INSERT INTO audit_log (resource_id, actor, actor_key_id, action, at, version, after) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(&actor.name)
    .bind(&actor.key_id)
    .bind(action)
    .bind(at)
    .bind(version.map_or(1, |v| v + 1))
    .bind(after.map(|a| a.to_string()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn log_change(conn: &mut sqlx::SqliteConnection, id: &str, op: &str, at: &str) -> Result<()> {
    sqlx::query("INSERT INTO changes (resource_id, op, at) VALUES (?, ?, ?)")
        .bind(id)
        .bind(op)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

fn opt_ts(row: &sqlx::sqlite::SqliteRow, col: &str, id: &str) -> Result<Option<DateTime<Utc>>> {
    let v: Option<String> = row.try_get(col)?;
    v.map(|t| parse_ts(&t).map_err(|e| StoreError::Corrupt { id: id.to_string(), message: format!("{col}: {e}") }))
        .transpose()
}

fn req_ts(row: &sqlx::sqlite::SqliteRow, col: &str, id: &str) -> Result<DateTime<Utc>> {
    opt_ts(row, col, id)?.ok_or_else(|| StoreError::Corrupt { id: id.to_string(), message: format!("{col} missing") })
}

fn json_col(row: &sqlx::sqlite::SqliteRow, col: &str) -> Result<serde_json::Value> {
    let v: String = row.try_get(col)?;
    Ok(parse_json(&v))
}

fn rid(row: &sqlx::sqlite::SqliteRow, id: &str) -> Result<ResourceId> {
    let r: String = row.try_get("resource_id")?;
    r.parse().map_err(|e: tsunagu_model::FieldError| StoreError::Corrupt { id: id.to_string(), message: e.reason })
}

fn emergency_of(row: &sqlx::sqlite::SqliteRow, id: &str) -> Result<tsunagu_model::emergency::Emergency> {
    let body: String = row.try_get("body")?;
    serde_json::from_str(&body)
        .map_err(|e| StoreError::Corrupt { id: id.to_string(), message: format!("emergency: {e}") })
}

fn campaign_of(row: &sqlx::sqlite::SqliteRow) -> Result<Campaign> {
    let id: String = row.try_get("id")?;
    let deadline: String = row.try_get("deadline")?;
    Ok(Campaign {
        name: row.try_get("name")?,
        target: json_col(row, "target")?,
        deadline: deadline
            .parse()
            .map_err(|_| StoreError::Corrupt { id: id.clone(), message: format!("deadline {deadline}") })?,
        mode: row.try_get("mode")?,
        created_by: row.try_get("created_by")?,
        created_by_key_id: row.try_get("created_by_key_id")?,
        created_at: req_ts(row, "created_at", &id)?,
        baseline: json_col(row, "baseline")?,
        id,
    })
}

fn invitation_of(row: &sqlx::sqlite::SqliteRow) -> Result<Invitation> {
    let id: String = row.try_get("id")?;
    Ok(Invitation {
        campaign_id: row.try_get("campaign_id")?,
        resource_id: rid(row, &id)?,
        code: row.try_get("code")?,
        expires_at: req_ts(row, "expires_at", &id)?,
        revoked_at: opt_ts(row, "revoked_at", &id)?,
        created_at: req_ts(row, "created_at", &id)?,
        opened_at: opt_ts(row, "opened_at", &id)?,
        id,
    })
}

fn response_of(row: &sqlx::sqlite::SqliteRow) -> Result<SurveyResponse> {
    let id: String = row.try_get("invitation_id")?;
    let fields: String = row.try_get("accepted_fields")?;
    Ok(SurveyResponse {
        campaign_id: row.try_get("campaign_id")?,
        resource_id: rid(row, &id)?,
        status: row.try_get("status")?,
        channel: row.try_get("channel")?,
        answers: json_col(row, "answers")?,
        base: json_col(row, "base")?,
        revision: row.try_get("revision")?,
        updated_at: req_ts(row, "updated_at", &id)?,
        submitted_at: opt_ts(row, "submitted_at", &id)?,
        entered_by: row.try_get("entered_by")?,
        reviewed_by: row.try_get("reviewed_by")?,
        reviewed_by_key_id: row.try_get("reviewed_by_key_id")?,
        reviewed_at: opt_ts(row, "reviewed_at", &id)?,
        review_note: row.try_get("review_note")?,
        accepted_fields: serde_json::from_str(&fields).unwrap_or_default(),
        invitation_id: id,
    })
}

const REPORT_COLUMNS: &str = "p.id, p.resource_id, p.kind, p.message, p.contact, p.created_at, p.status, \
     p.handled_by, p.handled_by_key_id, p.handled_at, p.note";

fn report_of(row: &sqlx::sqlite::SqliteRow) -> Result<Report> {
    let id: String = row.try_get("id")?;
    let rid: String = row.try_get("resource_id")?;
    let created: String = row.try_get("created_at")?;
    let handled: Option<String> = row.try_get("handled_at")?;
    let corrupt = |m: String| StoreError::Corrupt { id: id.clone(), message: m };
    Ok(Report {
        resource_id: rid.parse().map_err(|e| corrupt(format!("resource id: {e}")))?,
        kind: row.try_get("kind")?,
        message: row.try_get("message")?,
        contact: row.try_get("contact")?,
        created_at: parse_ts(&created).map_err(|e| corrupt(e.to_string()))?,
        status: row.try_get("status")?,
        handled_by: row.try_get("handled_by")?,
        handled_by_key_id: row.try_get("handled_by_key_id")?,
        handled_at: handled.as_deref().map(parse_ts).transpose().map_err(|e| corrupt(e.to_string()))?,
        note: row.try_get("note")?,
        id,
    })
}

fn key_of(row: &sqlx::sqlite::SqliteRow) -> Result<ApiKey> {
    let id: String = row.try_get("id")?;
    let corrupt = |m: String| StoreError::Corrupt { id: id.clone(), message: m };
    let role: String = row.try_get("role")?;
    let regions: String = row.try_get("regions")?;
    let when =
        |s: String| DateTime::parse_from_rfc3339(&s).map(|t| t.with_timezone(&Utc)).map_err(|e| corrupt(e.to_string()));
    Ok(ApiKey {
        id: id.clone(),
        name: row.try_get("name")?,
        role: Role::parse(&role).ok_or_else(|| corrupt(format!("role {role}")))?,
        regions: serde_json::from_str(&regions).map_err(|e| corrupt(e.to_string()))?,
        secret_hash: row.try_get("secret_hash")?,
        created_at: when(row.try_get("created_at")?)?,
        revoked_at: row.try_get::<Option<String>, _>("revoked_at")?.map(when).transpose()?,
    })
}

/// Page cache of the connection that imports (64 MiB), and the one it returns to (as `open` sets).
const IMPORT_CACHE: &str = "PRAGMA cache_size = -65536";
const DEFAULT_CACHE: &str = "PRAGMA cache_size = -16384";

/// Rows (or ids) per multi-row statement (SQLite allows 32,766 bound values; resources take 10
/// per row).
const CHUNK: usize = 500;

fn marks(n: usize) -> String {
    vec!["?"; n].join(",")
}

/// Write new records (version 1) with their audit entries and change-log rows, many per statement.
async fn insert_created(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    created: &mut Vec<(&Resource, String, String)>,
    actor: &Actor,
    now: &str,
) -> Result<()> {
    for chunk in created.chunks(CHUNK) {
        let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO resources (id, kind, municipality_code, name, sample, source_name, source_id, body, \
             created_at, updated_at) ",
        );
        q.push_values(chunk, |mut b, (r, id, body)| {
            b.push_bind(id.as_str())
                .push_bind(r.kind.code())
                .push_bind(r.municipality_code.to_string())
                .push_bind(r.name.as_str())
                .push_bind(r.sample)
                .push_bind(r.source.name.as_str())
                .push_bind(r.source.id.as_deref())
                .push_bind(body.as_str())
                .push_bind(now)
                .push_bind(now);
        });
        q.build().execute(&mut **tx).await?;
        // The audit entry of a creation holds the record as created.
        let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO audit_log (resource_id, actor, actor_key_id, action, at, version, after) ",
        );
        q.push_values(chunk, |mut b, (_, id, body)| {
            b.push_bind(id.as_str())
                .push_bind(actor.name.as_str())
                .push_bind(actor.key_id.as_deref())
                .push_bind("import_create")
                .push_bind(now)
                .push_bind(1i64)
                .push_bind(body.as_str());
        });
        q.build().execute(&mut **tx).await?;
        let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new("INSERT INTO changes (resource_id, op, at) ");
        q.push_values(chunk, |mut b, (_, id, _)| {
            b.push_bind(id.as_str()).push_bind("upsert").push_bind(now);
        });
        q.build().execute(&mut **tx).await?;
    }
    created.clear();
    Ok(())
}

/// A bulk import: one `BEGIN IMMEDIATE` transaction fed batch by batch.
struct SqliteImport {
    tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    actor: Actor,
    authorize: Arc<dyn Authorize>,
    merge: Option<crate::Merge>,
    now: String,
    summary: WriteSummary,
}

/// What the import found stored under a row's id: the body, whether it is deleted, and (decoded
/// when a row asks for it) the record, for the authorisation decision.
struct StoredRow {
    id: String,
    body: String,
    created_at: String,
    updated_at: String,
    deleted: bool,
}

impl StoredRow {
    fn resource(&self) -> Result<Resource> {
        decode(&self.id, &self.body, &self.created_at, &self.updated_at)
    }
}

const STORED_COLUMNS: &str = "id, body, created_at, updated_at, deleted_at";

fn stored_row(row: &sqlx::sqlite::SqliteRow) -> Result<StoredRow> {
    Ok(StoredRow {
        id: row.try_get("id")?,
        body: row.try_get("body")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        deleted: row.try_get::<Option<String>, _>("deleted_at")?.is_some(),
    })
}

#[async_trait]
impl ImportTx for SqliteImport {
    async fn put(&mut self, resources: &[Resource]) -> Result<Vec<RowRefused>> {
        let (tx, now, actor) = (&mut self.tx, self.now.as_str(), &self.actor);
        // What the store holds for this batch's ids, a few hundred ids per query.
        let ids: Vec<String> = resources.iter().map(|r| r.id.to_string()).collect();
        let mut stored: HashMap<String, StoredRow> = HashMap::new();
        for chunk in ids.chunks(CHUNK) {
            let sql = format!("SELECT {STORED_COLUMNS} FROM resources WHERE id IN ({})", marks(chunk.len()));
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(id);
            }
            for row in q.fetch_all(&mut **tx).await? {
                let row = stored_row(&row)?;
                stored.insert(row.id.clone(), row);
            }
        }
        // New records are written many rows per statement. A record that comes again later in
        // the batch is compared with what its earlier copy wrote: pending rows are written
        // first, then the row is read back.
        let mut created: Vec<(&Resource, String, String)> = Vec::new();
        let mut seen: HashSet<String> = HashSet::with_capacity(ids.len());
        let mut refused = Vec::new();
        for (index, (r, id)) in resources.iter().zip(ids).enumerate() {
            let existing = if !seen.insert(id.clone()) {
                insert_created(tx, &mut created, actor, now).await?;
                let sql = format!("SELECT {STORED_COLUMNS} FROM resources WHERE id = ?");
                sqlx::query(&sql).bind(&id).fetch_optional(&mut **tx).await?.as_ref().map(stored_row).transpose()?
            } else {
                stored.remove(&id)
            };
            let stored_record = existing.as_ref().map(|e| e.resource().map(|r| (r, e.deleted))).transpose()?;
            let merged = match (&self.merge, &stored_record) {
                (Some(merge), Some((old, _))) => Some(merge(old, r.clone())),
                _ => None,
            };
            let r = merged.as_ref().unwrap_or(r);
            let proposal = match &stored_record {
                None => Proposal::Create { new: r },
                Some((old, false)) => Proposal::Update { stored: old, new: r },
                Some((old, true)) => Proposal::Undelete { stored: old, new: r },
            };
            match self.authorize.allow(proposal) {
                Ok(()) => {}
                Err(Refusal::Forbidden(reason)) => {
                    refused.push(RowRefused { index, reason });
                    continue;
                }
                Err(Refusal::NotServed) => {
                    refused.push(RowRefused { index, reason: "refused: no such record on this server".into() });
                    continue;
                }
            }
            let body = body_of(r);
            match existing {
                Some(e) if !e.deleted && e.body == body => {
                    self.summary.unchanged += 1;
                    continue;
                }
                Some(e) => {
                    let diff = json_diff(&parse_json(&e.body), &parse_json(&body));
                    let action = if e.deleted { "import_restore" } else { "import_update" };
                    audit(tx, &id, actor, action, now, Some(&diff)).await?;
                    update_row(tx, &id, r, &body, now, true).await?;
                    if e.deleted {
                        self.summary.restored += 1;
                    } else {
                        self.summary.updated += 1;
                    }
                }
                None => {
                    self.summary.created += 1;
                    created.push((&resources[index], id, body));
                    continue;
                }
            }
            log_change(tx, &id, "upsert", now).await?;
        }
        insert_created(tx, &mut created, actor, now).await?;
        Ok(refused)
    }

    fn merge_with(&mut self, merge: crate::Merge) {
        self.merge = Some(merge);
    }

    async fn sweep(
        &mut self,
        source_name: &str,
        seen: &HashSet<ResourceId>,
        change: &(dyn for<'r> Fn(&'r Resource) -> Option<Resource> + Send + Sync),
    ) -> Result<u64> {
        let (tx, now, actor) = (&mut self.tx, self.now.as_str(), &self.actor);
        let rows = sqlx::query(&format!(
            "SELECT {STORED_COLUMNS} FROM resources WHERE source_name = ? AND deleted_at IS NULL ORDER BY id"
        ))
        .bind(source_name)
        .fetch_all(&mut **tx)
        .await?;
        let mut changed = 0;
        for row in rows {
            let stored = stored_row(&row)?;
            let old = stored.resource()?;
            if seen.contains(&old.id) {
                continue;
            }
            let Some(new) = change(&old) else { continue };
            if self.authorize.allow(Proposal::Update { stored: &old, new: &new }).is_err() {
                continue;
            }
            let body = body_of(&new);
            if body == stored.body {
                continue;
            }
            let diff = json_diff(&parse_json(&stored.body), &parse_json(&body));
            audit(tx, &stored.id, actor, "import_not_listed", now, Some(&diff)).await?;
            update_row(tx, &stored.id, &new, &body, now, false).await?;
            log_change(tx, &stored.id, "upsert", now).await?;
            changed += 1;
        }
        self.summary.not_listed += changed;
        Ok(changed)
    }

    async fn finish(mut self: Box<Self>, commit: bool) -> Result<WriteSummary> {
        self.summary.seq = last_seq(&mut self.tx).await?;
        sqlx::query(DEFAULT_CACHE).execute(&mut *self.tx).await?;
        if commit {
            self.tx.commit().await?;
        } else {
            self.tx.rollback().await?;
        }
        Ok(self.summary)
    }
}

async fn last_seq(conn: &mut sqlx::SqliteConnection) -> Result<i64> {
    let seq: Option<i64> = sqlx::query_scalar("SELECT max(seq) FROM changes").fetch_one(conn).await?;
    Ok(seq.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(super) fn resource(n: u32, name: &str) -> Resource {
        Resource::from_json(json!({
            "id": ResourceId::from_source_id(&format!("t:{n}")).to_string(),
            "name": name,
            "kind": "home_nursing",
            "care_types": ["ventilator", "suction_tracheal"],
            "municipality_code": "11100",
            "location": {"lat": 35.86, "lon": 139.64},
            "service_area": {"type": "radius", "radius_km": 15.0},
            "nurse_schedule": {"mon": ["09:00-17:00"]},
            "source": {"name": "test", "id": format!("t:{n}")},
            "sample": false
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn a_resource_round_trips_through_the_store() {
        let store = SqliteStore::in_memory().await.unwrap();
        let r = resource(1, "さいたま訪問看護ステーション");
        let s = store.upsert(std::slice::from_ref(&r), "test").await.unwrap();
        assert_eq!((s.created, s.updated, s.unchanged), (1, 0, 0));
        let got = store.get(r.id).await.unwrap().unwrap();
        assert!(got.created_at.is_some() && got.updated_at.is_some());
        let mut cmp = got.clone();
        cmp.created_at = None;
        cmp.updated_at = None;
        assert_eq!(cmp, r);
    }

    #[tokio::test]
    async fn rewriting_the_same_record_changes_nothing_and_edits_are_logged() {
        let store = SqliteStore::in_memory().await.unwrap();
        let r = resource(1, "A");
        store.upsert(std::slice::from_ref(&r), "test").await.unwrap();
        let again = store.upsert(std::slice::from_ref(&r), "test").await.unwrap();
        assert_eq!(again.unchanged, 1);
        let mut edited = r.clone();
        edited.name = "B".into();
        let s = store.upsert(&[edited], "test").await.unwrap();
        assert_eq!(s.updated, 1);
        assert_eq!(store.get(r.id).await.unwrap().unwrap().name, "B");
        let changes = store.changes_since(0, 100).await.unwrap();
        assert_eq!(changes.len(), 2);
        assert_eq!(store.state().await.unwrap().seq, changes[1].seq);
    }

    #[tokio::test]
    async fn a_record_repeated_within_one_batch_is_compared_with_its_earlier_copy() {
        let store = SqliteStore::in_memory().await.unwrap();
        let old = resource(1, "A");
        store.upsert(std::slice::from_ref(&old), "test").await.unwrap();
        // In one batch: a stored record twice (edited, then edited again), a new record twice
        // (the same, then edited), and the stored record's edit once more unchanged.
        let (mut b, mut c) = (old.clone(), old.clone());
        b.name = "B".into();
        c.name = "C".into();
        let fresh = resource(2, "X");
        let mut fresh2 = fresh.clone();
        fresh2.name = "Y".into();
        let s = store.upsert(&[b, c.clone(), fresh.clone(), fresh2, c], "test").await.unwrap();
        assert_eq!((s.created, s.updated, s.unchanged), (1, 3, 1));
        assert_eq!(store.get(old.id).await.unwrap().unwrap().name, "C");
        assert_eq!(store.get(fresh.id).await.unwrap().unwrap().name, "Y");
    }

    #[tokio::test]
    async fn deleted_records_disappear_from_reads_and_pages_walk_everything() {
        let store = SqliteStore::in_memory().await.unwrap();
        let all: Vec<_> = (0..25).map(|n| resource(n, &format!("R{n}"))).collect();
        store.upsert(&all, "test").await.unwrap();
        assert!(store.delete(all[3].id, Utc::now()).await.unwrap());
        assert!(!store.delete(all[3].id, Utc::now()).await.unwrap(), "second delete finds nothing");
        assert!(store.get(all[3].id).await.unwrap().is_none());
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = store.page(after, 7).await.unwrap();
            if page.is_empty() {
                break;
            }
            after = page.last().map(|r| r.id);
            seen.extend(page.into_iter().map(|r| r.id));
        }
        assert_eq!(seen.len(), 24);
        assert_eq!(store.state().await.unwrap().count, 24);
        let many = store.get_many(&[all[5].id, all[3].id, all[1].id]).await.unwrap();
        assert_eq!(many.iter().map(|r| r.id).collect::<Vec<_>>(), vec![all[5].id, all[1].id]);
        let last = store.changes_since(0, 1000).await.unwrap().pop().unwrap();
        assert!(last.deleted && last.id == all[3].id);
    }

    #[tokio::test]
    async fn a_file_store_persists_and_keeps_its_identity() {
        let dir = std::env::temp_dir().join(format!("tsunagu-store-test-{}", std::process::id()));
        let path = dir.join("t.sqlite3");
        let store = SqliteStore::open(&path).await.unwrap();
        store.upsert(&[resource(1, "A")], "test").await.unwrap();
        let state = store.state().await.unwrap();
        store.close().await;
        let reopened = SqliteStore::open(&path).await.unwrap();
        assert_eq!(reopened.state().await.unwrap(), state);
        reopened.close().await;
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[cfg(test)]
mod write_tests {
    use super::*;
    use crate::{ApiKey, Idempotency, Modification, Role, WriteOp, WriteRefused};
    use serde_json::json;

    fn resource(name: &str) -> Resource {
        Resource::from_json(json!({
            "id": "0190c6b2-7d3e-7c41-9f6a-2b5d1e8a4c21",
            "name": name,
            "kind": "daycare",
            "municipality_code": "20202",
            "source": {"name": "test"},
            "sample": false
        }))
        .unwrap()
    }

    async fn write(store: &SqliteStore, op: WriteOp, who: &str) -> std::result::Result<Versioned, WriteRefused> {
        let actor = Actor::system(who);
        let w = Write { op, actor: &actor, authorize: &Unrestricted, idempotency: None };
        match store.write(w).await.unwrap()? {
            WriteOutcome::Written(w) => Ok(w.versioned),
            WriteOutcome::Replayed(_) => panic!("no idempotency key was given"),
        }
    }

    #[tokio::test]
    async fn versioned_writes_refuse_stale_versions_and_leave_an_audit_trail() {
        let store = SqliteStore::in_memory().await.unwrap();
        let r = resource("A");
        let v1 = write(&store, WriteOp::Create(r.clone()), "alice").await.unwrap();
        assert_eq!(v1.version, 1);
        assert_eq!(write(&store, WriteOp::Create(r.clone()), "alice").await, Err(WriteRefused::Exists));
        let mut b = r.clone();
        b.name = "B".into();
        let v2 = write(&store, WriteOp::Replace { resource: b.clone(), expected: 1 }, "bob").await.unwrap();
        assert_eq!((v2.version, v2.resource.name.as_str()), (2, "B"));
        // A second writer with the old version is refused; nothing is lost.
        let mut c = r.clone();
        c.name = "C".into();
        assert_eq!(
            write(&store, WriteOp::Replace { resource: c, expected: 1 }, "carol").await,
            Err(WriteRefused::Conflict { current: 2 })
        );
        assert_eq!(store.get(r.id).await.unwrap().unwrap().name, "B");
        let del = write(&store, WriteOp::Delete { id: r.id, expected: 2 }, "admin").await.unwrap();
        assert!(del.deleted && del.version == 3);
        assert!(store.get(r.id).await.unwrap().is_none());
        let back = write(&store, WriteOp::Restore { id: r.id }, "admin").await.unwrap();
        assert!(!back.deleted && back.version == 4 && back.resource.name == "B");
        let h = store.history(r.id).await.unwrap();
        let trail: Vec<(&str, &str, i64)> =
            h.iter().map(|e| (e.actor.as_str(), e.action.as_str(), e.version)).collect();
        assert_eq!(
            trail,
            [("alice", "create", 1), ("bob", "update", 2), ("admin", "delete", 3), ("admin", "restore", 4)]
        );
        assert_eq!(h[1].changes, json!({"name": {"before": "A", "after": "B"}}));
    }

    /// Refuses everything but creation, to see that the store asks before each write and writes
    /// nothing it was refused.
    struct CreateOnly;
    impl Authorize for CreateOnly {
        fn allow(&self, p: Proposal<'_>) -> std::result::Result<(), Refusal> {
            match p {
                Proposal::Create { .. } => Ok(()),
                _ => Err(Refusal::Forbidden("no".into())),
            }
        }
    }

    #[tokio::test]
    async fn the_store_asks_the_authorisation_decision_inside_each_write() {
        let store = SqliteStore::in_memory().await.unwrap();
        let actor = Actor { name: "k".into(), key_id: Some("k1".into()) };
        let r = resource("A");
        let w = |op| Write { op, actor: &actor, authorize: &CreateOnly, idempotency: None };
        assert!(matches!(store.write(w(WriteOp::Create(r.clone()))).await.unwrap(), Ok(WriteOutcome::Written(_))));
        let mut b = r.clone();
        b.name = "B".into();
        let refused = store.write(w(WriteOp::Replace { resource: b.clone(), expected: 1 })).await.unwrap();
        assert_eq!(refused, Err(WriteRefused::Forbidden("no".into())));
        let modify: Modification = Arc::new(|r: &Resource| {
            let mut r = r.clone();
            r.name = "M".into();
            Ok(r)
        });
        let refused = store.write(w(WriteOp::Modify { id: r.id, change: modify })).await.unwrap();
        assert_eq!(refused, Err(WriteRefused::Forbidden("no".into())));
        assert_eq!(store.get(r.id).await.unwrap().unwrap().name, "A");
        // Import rows too: the update is refused, the new record written.
        let mut tx = store.begin_import(&actor, Arc::new(CreateOnly)).await.unwrap();
        let other = Resource { id: ResourceId::from_source_id("other"), ..r.clone() };
        let refused = tx.put(&[b, other.clone()]).await.unwrap();
        assert_eq!(refused, [RowRefused { index: 0, reason: "no".into() }]);
        let summary = tx.finish(true).await.unwrap();
        assert_eq!((summary.created, summary.updated), (1, 0));
        assert_eq!(store.get(r.id).await.unwrap().unwrap().name, "A");
        let h = store.history(r.id).await.unwrap();
        assert_eq!((h.len(), h[0].actor_key_id.as_deref()), (1, Some("k1")));
    }

    #[tokio::test]
    async fn a_modification_applies_to_the_current_version() {
        let store = SqliteStore::in_memory().await.unwrap();
        let r = resource("A");
        write(&store, WriteOp::Create(r.clone()), "a").await.unwrap();
        let append = |suffix: &'static str| -> Modification {
            Arc::new(move |r: &Resource| {
                let mut r = r.clone();
                r.name.push_str(suffix);
                Ok(r)
            })
        };
        write(&store, WriteOp::Modify { id: r.id, change: append("1") }, "a").await.unwrap();
        let v = write(&store, WriteOp::Modify { id: r.id, change: append("2") }, "a").await.unwrap();
        assert_eq!((v.resource.name.as_str(), v.version), ("A12", 3));
        let bad: Modification =
            Arc::new(|_: &Resource| Err(vec![tsunagu_model::FieldError::new("vacancies", "must be a whole number")]));
        assert!(matches!(
            write(&store, WriteOp::Modify { id: r.id, change: bad }, "a").await,
            Err(WriteRefused::Invalid(_))
        ));
    }

    #[tokio::test]
    async fn an_idempotent_write_is_claimed_once_and_replayed() {
        let store = SqliteStore::in_memory().await.unwrap();
        let actor = Actor { name: "same name".into(), key_id: Some("key-a".into()) };
        let other = Actor { name: "same name".into(), key_id: Some("key-b".into()) };
        let respond = |v: &Versioned| Remembered {
            request_hash: "h".into(),
            status: 201,
            response: format!("{{\"version\":{}}}", v.version),
            headers: vec![("etag".into(), format!("\"v{}\"", v.version))],
        };
        let idem = |hash: &'static str| Idempotency { key: "k", request_hash: hash, respond: &respond };
        let create = |who, n: &str, hash| Write {
            op: WriteOp::Create(Resource { id: ResourceId::from_source_id(n), ..resource(n) }),
            actor: who,
            authorize: &Unrestricted,
            idempotency: Some(idem(hash)),
        };
        let first = store.write(create(&actor, "x", "h")).await.unwrap().unwrap();
        assert!(matches!(first, WriteOutcome::Written(_)));
        let again = store.write(create(&actor, "y", "h")).await.unwrap().unwrap();
        let WriteOutcome::Replayed(r) = again else { panic!("{again:?}") };
        assert_eq!((r.status, r.response.as_str()), (201, "{\"version\":1}"));
        assert_eq!(store.write(create(&actor, "y", "other")).await.unwrap(), Err(WriteRefused::IdempotencyMismatch));
        // Another key with the same name has its own keys.
        assert!(matches!(store.write(create(&other, "z", "h")).await.unwrap().unwrap(), WriteOutcome::Written(_)));
        assert!(store.get(ResourceId::from_source_id("y")).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn keys_are_stored_listed_and_revoked() {
        let store = SqliteStore::in_memory().await.unwrap();
        let key = ApiKey {
            id: "k1".into(),
            name: "松本 coordinator".into(),
            role: Role::Editor,
            regions: vec!["20-07".into()],
            secret_hash: "h".into(),
            created_at: Utc::now(),
            revoked_at: None,
        };
        assert!(store.insert_key(&key).await.unwrap());
        let twin = ApiKey { id: "k2".into(), ..key.clone() };
        assert!(!store.insert_key(&twin).await.unwrap(), "a live key has that name");
        let got = store.get_key("k1").await.unwrap().unwrap();
        assert_eq!((got.role, got.regions.clone()), (Role::Editor, vec!["20-07".to_string()]));
        assert!(store.revoke_key("k1", Utc::now()).await.unwrap());
        assert!(!store.revoke_key("k1", Utc::now()).await.unwrap());
        assert!(store.get_key("k1").await.unwrap().unwrap().revoked_at.is_some());
        assert_eq!(store.list_keys().await.unwrap().len(), 1);
        assert!(store.insert_key(&twin).await.unwrap(), "the name is free once its key is revoked");
    }

    #[tokio::test]
    async fn source_tallies_follow_every_write_and_equal_a_scan() {
        let store = SqliteStore::in_memory().await.unwrap();
        let make = |n: u32, source: &str, date: Option<&str>, sample: bool| {
            let mut r = super::tests::resource(n, &format!("r{n}"));
            r.source.name = source.into();
            r.source.date = date.map(|d| d.parse().unwrap());
            r.sample = sample;
            r
        };
        type Tally = (String, i64, i64, Option<String>, Option<String>);
        let scan = || async {
            let rows: Vec<Tally> = sqlx::query_as(
                "SELECT source_name, count(*), sum(sample), min(json_extract(body, '$.source.date')), \
                 max(json_extract(body, '$.source.date')) FROM resources WHERE deleted_at IS NULL \
                 GROUP BY source_name ORDER BY count(*) DESC, source_name",
            )
            .fetch_all(&store.pool)
            .await
            .unwrap();
            rows
        };
        let kept = || async {
            store
                .source_counts()
                .await
                .unwrap()
                .into_iter()
                .map(|c| (c.name, c.records as i64, c.sample_records as i64, c.first_date, c.last_date))
                .collect::<Vec<_>>()
        };
        let mut all = Vec::new();
        for n in 0..30 {
            let source = ["wam", "mhlw", "centre"][n as usize % 3];
            let date = [Some("2025-04-01"), Some("2026-01-15"), None][n as usize % 4 % 3];
            all.push(make(n, source, date, n % 5 == 0));
        }
        store.upsert(&all, "test").await.unwrap();
        assert_eq!(kept().await, scan().await);
        // A record moves to another source and date; another stops being sample.
        store.upsert(&[make(1, "centre", Some("2026-11-30"), false), make(5, "mhlw", None, false)], "t").await.unwrap();
        assert_eq!(kept().await, scan().await);
        // Deleted records stop counting; a source with none left disappears.
        for r in all.iter().filter(|r| r.source.name == "wam") {
            store.delete(r.id, Utc::now()).await.unwrap();
        }
        let now = kept().await;
        assert_eq!(now, scan().await);
        assert!(now.iter().all(|c| c.0 != "wam"), "{now:?}");
        assert_eq!(now.iter().map(|c| c.1).sum::<i64>(), 20);
        assert_eq!(now.iter().find(|c| c.0 == "centre").unwrap().4.as_deref(), Some("2026-11-30"));
    }
}
