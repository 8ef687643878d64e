//! SQLite implementation of [`Store`]: a single file, WAL journal, migrations on open.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use tsunagu_model::{Resource, ResourceId};

use crate::{Change, Result, Store, StoreError, StoreState, WriteSummary};

/// The embedded store.
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
            .busy_timeout(Duration::from_secs(10));
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

/// The canonical JSON kept in `body`: the resource without the store-managed timestamps.
fn body_of(r: &Resource) -> String {
    let mut r = r.clone();
    r.created_at = None;
    r.updated_at = None;
    serde_json::to_string(&r).expect("resources serialise")
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
    async fn upsert(&self, resources: &[Resource]) -> Result<WriteSummary> {
        let now = ts(Utc::now());
        let mut tx = self.pool.begin().await?;
        let mut summary = WriteSummary::default();
        for r in resources {
            let id = r.id.to_string();
            let body = body_of(r);
            let existing: Option<(String, Option<String>)> =
                sqlx::query_as("SELECT body, deleted_at FROM resources WHERE id = ?")
                    .bind(&id)
                    .fetch_optional(&mut *tx)
                    .await?;
            match existing {
                Some((old, None)) if old == body => {
                    summary.unchanged += 1;
                    continue;
                }
                Some(_) => {
                    sqlx::query(
                        "UPDATE resources SET kind = ?, municipality_code = ?, name = ?, sample = ?, source_name = ?, \
                         source_id = ?, body = ?, version = version + 1, updated_at = ?, deleted_at = NULL WHERE id = ?",
                    )
                    .bind(r.kind.code())
                    .bind(r.municipality_code.to_string())
                    .bind(&r.name)
                    .bind(r.sample)
                    .bind(&r.source.name)
                    .bind(&r.source.id)
                    .bind(&body)
                    .bind(&now)
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                    summary.updated += 1;
                }
                None => {
                    sqlx::query(
                        "INSERT INTO resources (id, kind, municipality_code, name, sample, source_name, source_id, body, \
                         created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    )
                    .bind(&id)
                    .bind(r.kind.code())
                    .bind(r.municipality_code.to_string())
                    .bind(&r.name)
                    .bind(r.sample)
                    .bind(&r.source.name)
                    .bind(&r.source.id)
                    .bind(&body)
                    .bind(&now)
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?;
                    summary.created += 1;
                }
            }
            sqlx::query("INSERT INTO changes (resource_id, op, at) VALUES (?, 'upsert', ?)")
                .bind(&id)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
        }
        summary.seq = last_seq(&mut tx).await?;
        tx.commit().await?;
        Ok(summary)
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
        let mut found = std::collections::HashMap::with_capacity(ids.len());
        // SQLite allows 32,766 bound parameters; stay far below.
        for chunk in ids.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(",");
            let sql = format!(
                "SELECT id, body, created_at, updated_at FROM resources WHERE deleted_at IS NULL AND id IN ({marks})"
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
        let mut tx = self.pool.begin().await?;
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
        let s = store.upsert(std::slice::from_ref(&r)).await.unwrap();
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
        store.upsert(std::slice::from_ref(&r)).await.unwrap();
        let again = store.upsert(std::slice::from_ref(&r)).await.unwrap();
        assert_eq!(again.unchanged, 1);
        let mut edited = r.clone();
        edited.name = "B".into();
        let s = store.upsert(&[edited]).await.unwrap();
        assert_eq!(s.updated, 1);
        assert_eq!(store.get(r.id).await.unwrap().unwrap().name, "B");
        let changes = store.changes_since(0, 100).await.unwrap();
        assert_eq!(changes.len(), 2);
        assert_eq!(store.state().await.unwrap().seq, changes[1].seq);
    }

    #[tokio::test]
    async fn deleted_records_disappear_from_reads_and_pages_walk_everything() {
        let store = SqliteStore::in_memory().await.unwrap();
        let all: Vec<_> = (0..25).map(|n| resource(n, &format!("R{n}"))).collect();
        store.upsert(&all).await.unwrap();
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
        store.upsert(&[resource(1, "A")]).await.unwrap();
        let state = store.state().await.unwrap();
        store.close().await;
        let reopened = SqliteStore::open(&path).await.unwrap();
        assert_eq!(reopened.state().await.unwrap(), state);
        reopened.close().await;
        std::fs::remove_dir_all(dir).unwrap();
    }
}
