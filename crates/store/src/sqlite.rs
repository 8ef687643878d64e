//! SQLite implementation of [`Store`]: a single file, WAL journal, migrations on open.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use tsunagu_model::{Resource, ResourceId};

use crate::{
    ApiKey, AuditEntry, Change, ImportTx, Remembered, Report, Result, Role, SourceCount, Store, StoreError, StoreState,
    Versioned, WriteOp, WriteRefused, WriteSummary, Written, json_diff,
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

fn decode_row(row: &sqlx::sqlite::SqliteRow) -> Result<Resource> {
    let id: String = row.try_get("id")?;
    decode(&id, row.try_get("body")?, row.try_get("created_at")?, row.try_get("updated_at")?)
}

#[async_trait]
impl Store for SqliteStore {
    async fn upsert(&self, resources: &[Resource], actor: &str) -> Result<WriteSummary> {
        let mut tx = self.begin_import(actor).await?;
        tx.put(resources).await?;
        tx.finish(true).await
    }

    async fn begin_import(&self, actor: &str) -> Result<Box<dyn ImportTx>> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        // A bigger page cache while importing: the id indexes take inserts in random order.
        sqlx::query(IMPORT_CACHE).execute(&mut *tx).await?;
        let prev_seq = last_seq(&mut tx).await?;
        Ok(Box::new(SqliteImport {
            tx,
            actor: actor.to_string(),
            now: ts(Utc::now()),
            summary: WriteSummary { prev_seq, seq: prev_seq, ..WriteSummary::default() },
        }))
    }

    async fn get(&self, id: ResourceId) -> Result<Option<Resource>> {
        let row =
            sqlx::query("SELECT id, body, created_at, updated_at FROM resources WHERE id = ? AND deleted_at IS NULL")
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
            let sql = format!(
                "SELECT id, body, created_at, updated_at FROM resources WHERE deleted_at IS NULL AND id IN ({})",
                marks(chunk.len())
            );
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
        let rows = sqlx::query(
            "SELECT id, body, created_at, updated_at FROM resources WHERE deleted_at IS NULL AND id > ? ORDER BY id LIMIT ?",
        )
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
        let row =
            sqlx::query("SELECT id, body, created_at, updated_at, version, deleted_at FROM resources WHERE id = ?")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Versioned {
            resource: decode_row(&row)?,
            version: row.try_get("version")?,
            deleted: row.try_get::<Option<String>, _>("deleted_at")?.is_some(),
        }))
    }

    async fn write(&self, op: WriteOp, actor: &str) -> Result<std::result::Result<Written, WriteRefused>> {
        let now = ts(Utc::now());
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let prev_seq = last_seq(&mut tx).await?;
        let id = match &op {
            WriteOp::Create(r) | WriteOp::Replace { resource: r, .. } => r.id,
            WriteOp::Delete { id, .. } | WriteOp::Restore { id } => *id,
        };
        let ids = id.to_string();
        let current: Option<(String, i64, Option<String>)> =
            sqlx::query_as("SELECT body, version, deleted_at FROM resources WHERE id = ?")
                .bind(&ids)
                .fetch_optional(&mut *tx)
                .await?;
        match (op, current) {
            (WriteOp::Create(_), Some(_)) => return Ok(Err(WriteRefused::Exists)),
            (WriteOp::Create(r), None) => {
                let body = body_of(&r);
                audit(&mut tx, &ids, actor, "create", &now, None, Some(&parse_json(&body))).await?;
                insert_row(&mut tx, &ids, &r, &body, &now).await?;
                log_change(&mut tx, &ids, "upsert", &now).await?;
            }
            (WriteOp::Replace { .. } | WriteOp::Delete { .. }, None) => return Ok(Err(WriteRefused::NotFound)),
            (WriteOp::Replace { .. } | WriteOp::Delete { .. }, Some((_, _, Some(_)))) => {
                return Ok(Err(WriteRefused::NotFound));
            }
            (WriteOp::Replace { expected, .. } | WriteOp::Delete { expected, .. }, Some((_, v, None)))
                if v != expected =>
            {
                return Ok(Err(WriteRefused::Conflict { current: v }));
            }
            (WriteOp::Replace { resource: r, .. }, Some((old, _, None))) => {
                let body = body_of(&r);
                if body != old {
                    let diff = json_diff(&parse_json(&old), &parse_json(&body));
                    audit(&mut tx, &ids, actor, "update", &now, None, Some(&diff)).await?;
                    update_row(&mut tx, &ids, &r, &body, &now, false).await?;
                    log_change(&mut tx, &ids, "upsert", &now).await?;
                }
            }
            (WriteOp::Delete { .. }, Some(_)) => {
                audit(
                    &mut tx,
                    &ids,
                    actor,
                    "delete",
                    &now,
                    None,
                    Some(&serde_json::json!({"deleted_at": {"before": null, "after": now}})),
                )
                .await?;
                sqlx::query("UPDATE resources SET deleted_at = ?, version = version + 1 WHERE id = ?")
                    .bind(&now)
                    .bind(&ids)
                    .execute(&mut *tx)
                    .await?;
                log_change(&mut tx, &ids, "delete", &now).await?;
            }
            (WriteOp::Restore { .. }, None) => return Ok(Err(WriteRefused::NotFound)),
            (WriteOp::Restore { .. }, Some((_, _, None))) => {}
            (WriteOp::Restore { .. }, Some((_, _, Some(when)))) => {
                audit(
                    &mut tx,
                    &ids,
                    actor,
                    "restore",
                    &now,
                    None,
                    Some(&serde_json::json!({"deleted_at": {"before": when, "after": null}})),
                )
                .await?;
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
        tx.commit().await?;
        let versioned = self
            .get_versioned(id)
            .await?
            .ok_or_else(|| StoreError::Corrupt { id: ids, message: "vanished after write".into() })?;
        Ok(Ok(Written { versioned, prev_seq, seq }))
    }

    async fn history(&self, id: ResourceId) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT seq, actor, action, at, version, after FROM audit_log WHERE resource_id = ? ORDER BY seq",
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

    async fn reports(&self, status: Option<&str>, limit: u32) -> Result<Vec<Report>> {
        let rows = sqlx::query(
            "SELECT id, resource_id, kind, message, contact, created_at, status, handled_by, handled_at, note \
             FROM reports WHERE (?1 IS NULL OR status = ?1) ORDER BY created_at DESC, id DESC LIMIT ?2",
        )
        .bind(status)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
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
                    handled_at: handled.as_deref().map(parse_ts).transpose().map_err(|e| corrupt(e.to_string()))?,
                    note: row.try_get("note")?,
                    id,
                })
            })
            .collect()
    }

    async fn handle_report(&self, id: &str, status: &str, actor: &str, note: Option<&str>) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE reports SET status = ?, handled_by = ?, handled_at = ?, note = ? WHERE id = ? AND status = 'open'",
        )
        .bind(status)
        .bind(actor)
        .bind(ts(Utc::now()))
        .bind(note)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn source_counts(&self) -> Result<Vec<SourceCount>> {
        let rows: Vec<(String, i64, i64, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT source_name, count(*), sum(sample), min(json_extract(body, '$.source.date')), \
             max(json_extract(body, '$.source.date')) FROM resources WHERE deleted_at IS NULL \
             GROUP BY source_name ORDER BY count(*) DESC, source_name",
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

    async fn insert_key(&self, key: &ApiKey) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_keys (id, name, role, regions, secret_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&key.id)
        .bind(&key.name)
        .bind(key.role.code())
        .bind(serde_json::to_string(&key.regions).expect("strings serialise"))
        .bind(&key.secret_hash)
        .bind(ts(key.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
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

    async fn remembered(&self, key: &str, actor: &str) -> Result<Option<Remembered>> {
        let row: Option<(String, i64, String)> =
            sqlx::query_as("SELECT request_hash, status, response FROM idempotency WHERE key = ? AND actor = ?")
                .bind(key)
                .bind(actor)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(request_hash, status, response)| Remembered { request_hash, status: status as u16, response }))
    }

    async fn remember(&self, key: &str, actor: &str, r: &Remembered) -> Result<()> {
        sqlx::query("INSERT OR IGNORE INTO idempotency (key, actor, request_hash, status, response, created_at) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(key)
            .bind(actor)
            .bind(&r.request_hash)
            .bind(i64::from(r.status))
            .bind(&r.response)
            .bind(ts(Utc::now()))
            .execute(&self.pool)
            .await?;
        Ok(())
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

/// Append to the audit log. `version` is the record's version after the write (None: the
/// current one + 1 is not known here, so the row's version is read back by the caller's update).
async fn audit(
    conn: &mut sqlx::SqliteConnection,
    id: &str,
    actor: &str,
    action: &str,
    at: &str,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Result<()> {
    let version: Option<i64> =
        sqlx::query_scalar("SELECT version FROM resources WHERE id = ?").bind(id).fetch_optional(&mut *conn).await?;
    sqlx::query(
        "INSERT INTO audit_log (resource_id, actor, action, at, version, before, after) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(actor)
    .bind(action)
    .bind(at)
    .bind(version.map_or(1, |v| v + 1))
    .bind(before.map(|b| b.to_string()))
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
    actor: &str,
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
            "INSERT INTO audit_log (resource_id, actor, action, at, version, before, after) ",
        );
        q.push_values(chunk, |mut b, (_, id, body)| {
            b.push_bind(id.as_str())
                .push_bind(actor)
                .push_bind("import_create")
                .push_bind(now)
                .push_bind(1i64)
                .push_bind(None::<String>)
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
    actor: String,
    now: String,
    summary: WriteSummary,
}

#[async_trait]
impl ImportTx for SqliteImport {
    async fn put(&mut self, resources: &[Resource]) -> Result<()> {
        let (tx, now, actor) = (&mut self.tx, self.now.as_str(), self.actor.as_str());
        // What the store holds for this batch's ids, a few hundred ids per query.
        let ids: Vec<String> = resources.iter().map(|r| r.id.to_string()).collect();
        let mut stored: HashMap<String, (String, Option<String>)> = HashMap::new();
        for chunk in ids.chunks(CHUNK) {
            let sql = format!("SELECT id, body, deleted_at FROM resources WHERE id IN ({})", marks(chunk.len()));
            let mut q = sqlx::query_as::<_, (String, String, Option<String>)>(&sql);
            for id in chunk {
                q = q.bind(id);
            }
            for (id, body, deleted) in q.fetch_all(&mut **tx).await? {
                stored.insert(id, (body, deleted));
            }
        }
        // New records are written many rows per statement. A record that comes again later in
        // the batch is compared with what its earlier copy wrote: pending rows are written
        // first, then the row is read back.
        let mut created: Vec<(&Resource, String, String)> = Vec::new();
        let mut seen: HashSet<String> = HashSet::with_capacity(ids.len());
        for (r, id) in resources.iter().zip(ids) {
            let body = body_of(r);
            let existing = if !seen.insert(id.clone()) {
                insert_created(tx, &mut created, actor, now).await?;
                sqlx::query_as("SELECT body, deleted_at FROM resources WHERE id = ?")
                    .bind(&id)
                    .fetch_optional(&mut **tx)
                    .await?
            } else {
                stored.remove(&id)
            };
            match existing {
                Some((old, None)) if old == body => {
                    self.summary.unchanged += 1;
                    continue;
                }
                Some((old, _)) => {
                    let diff = json_diff(&parse_json(&old), &parse_json(&body));
                    audit(tx, &id, actor, "import_update", now, None, Some(&diff)).await?;
                    update_row(tx, &id, r, &body, now, true).await?;
                    self.summary.updated += 1;
                }
                None => {
                    self.summary.created += 1;
                    created.push((r, id, body));
                    continue;
                }
            }
            log_change(tx, &id, "upsert", now).await?;
        }
        insert_created(tx, &mut created, actor, now).await
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

    fn resource(n: u32, name: &str) -> Resource {
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
    use crate::{ApiKey, Role, WriteOp, WriteRefused};
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

    #[tokio::test]
    async fn versioned_writes_refuse_stale_versions_and_leave_an_audit_trail() {
        let store = SqliteStore::in_memory().await.unwrap();
        let r = resource("A");
        let v1 = store.write(WriteOp::Create(r.clone()), "alice").await.unwrap().unwrap().versioned;
        assert_eq!(v1.version, 1);
        assert_eq!(store.write(WriteOp::Create(r.clone()), "alice").await.unwrap(), Err(WriteRefused::Exists));
        let mut b = r.clone();
        b.name = "B".into();
        let v2 =
            store.write(WriteOp::Replace { resource: b.clone(), expected: 1 }, "bob").await.unwrap().unwrap().versioned;
        assert_eq!((v2.version, v2.resource.name.as_str()), (2, "B"));
        // A second writer with the old version is refused; nothing is lost.
        let mut c = r.clone();
        c.name = "C".into();
        assert_eq!(
            store.write(WriteOp::Replace { resource: c, expected: 1 }, "carol").await.unwrap(),
            Err(WriteRefused::Conflict { current: 2 })
        );
        assert_eq!(store.get(r.id).await.unwrap().unwrap().name, "B");
        let del = store.write(WriteOp::Delete { id: r.id, expected: 2 }, "admin").await.unwrap().unwrap().versioned;
        assert!(del.deleted && del.version == 3);
        assert!(store.get(r.id).await.unwrap().is_none());
        let back = store.write(WriteOp::Restore { id: r.id }, "admin").await.unwrap().unwrap().versioned;
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
        store.insert_key(&key).await.unwrap();
        let got = store.get_key("k1").await.unwrap().unwrap();
        assert_eq!((got.role, got.regions.clone()), (Role::Editor, vec!["20-07".to_string()]));
        assert!(store.revoke_key("k1", Utc::now()).await.unwrap());
        assert!(!store.revoke_key("k1", Utc::now()).await.unwrap());
        assert!(store.get_key("k1").await.unwrap().unwrap().revoked_at.is_some());
        assert_eq!(store.list_keys().await.unwrap().len(), 1);
    }
}
