//! The directory: the store (truth) and the search index (derived) kept in step.
//!
//! Writes go to the store first and then to the index. The index's commit records the store
//! position it reflects, so after a crash between the two, [`Directory::open`] catches the index
//! up from the store's change log (or rebuilds it when that is cheaper or the index is unusable).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use tsunagu_model::Resource;
use tsunagu_places::Gazetteer;
use tsunagu_search::{IndexedState, SearchIndex, Staleness};
use tsunagu_store::{Store, StoreState, Write, WriteOutcome, WriteRefused, WriteSummary};

use tokio::sync::Mutex;

/// Resources read from the store per page when rebuilding.
const PAGE: u32 = 5_000;

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error(transparent)]
    Store(#[from] tsunagu_store::StoreError),
    #[error(transparent)]
    Search(#[from] tsunagu_search::SearchError),
    #[error("index task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

pub type Result<T> = std::result::Result<T, DirectoryError>;

/// How the index was made ready on open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexReadiness {
    Current,
    CaughtUp { changes: usize },
    Rebuilt { reason: String },
}

pub struct Directory {
    pub store: Arc<dyn Store>,
    pub index: Arc<SearchIndex>,
    index_dir: PathBuf,
    /// Held while a write goes to the store and then the index (and while catching up), so the
    /// index's recorded position only ever covers changes it holds.
    writing: Mutex<()>,
}

impl Directory {
    /// Open the index in `index_dir` and make it reflect the store; `places` describe the
    /// records in the index (their municipalities and service areas).
    pub async fn open(
        store: Arc<dyn Store>,
        places: &'static Gazetteer,
        index_dir: &Path,
    ) -> Result<(Directory, IndexReadiness)> {
        let dir = index_dir.to_path_buf();
        let opened = tokio::task::spawn_blocking(move || SearchIndex::open(&dir, places)).await??;
        let state = store.state().await?;
        let (index, readiness) = match opened {
            Err(Staleness::Missing) => (
                rebuild(store.as_ref(), places, index_dir, &state).await?,
                IndexReadiness::Rebuilt { reason: "no index yet".into() },
            ),
            Err(Staleness::Incompatible(why)) => {
                (rebuild(store.as_ref(), places, index_dir, &state).await?, IndexReadiness::Rebuilt { reason: why })
            }
            Ok(index) => {
                let indexed = index.state();
                if indexed.store_id != state.store_id || indexed.seq > state.seq {
                    drop(index);
                    let why = "the index belongs to another store (or a newer copy of it)".to_string();
                    (rebuild(store.as_ref(), places, index_dir, &state).await?, IndexReadiness::Rebuilt { reason: why })
                } else if indexed.seq == state.seq {
                    (index, IndexReadiness::Current)
                } else {
                    let index = Arc::new(index);
                    let changes = catch_up(store.as_ref(), &index, &state).await?;
                    let index = Arc::try_unwrap(index).unwrap_or_else(|_| unreachable!("no other owner yet"));
                    (index, IndexReadiness::CaughtUp { changes })
                }
            }
        };
        Ok((
            Directory { store, index: Arc::new(index), index_dir: index_dir.to_path_buf(), writing: Mutex::new(()) },
            readiness,
        ))
    }

    /// The index position after applying changes `prev_seq + 1 ..= seq`: `seq` when the index
    /// held everything up to `prev_seq`; otherwise (another process wrote in between) the old
    /// position, so the next catch-up applies the missed changes.
    fn position_after(&self, prev_seq: i64, seq: i64) -> IndexedState {
        let now = self.index.state();
        let seq = if now.seq == prev_seq { seq } else { now.seq };
        IndexedState { store_id: now.store_id, seq }
    }

    /// Write resources to the store, then to the index. Returns what the store did.
    pub async fn upsert(&self, resources: Vec<Resource>, actor: &str) -> Result<WriteSummary> {
        let _writing = self.writing.lock().await;
        let summary = self.store.upsert(&resources, actor).await?;
        let state = self.position_after(summary.prev_seq, summary.seq);
        // Re-read from the store so the index holds exactly what the store holds (timestamps included).
        let ids: Vec<_> = resources.iter().map(|r| r.id).collect();
        let stored = self.store.get_many(&ids).await?;
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || index.upsert(&stored, state)).await??;
        Ok(summary)
    }

    /// One write to the store, then to the index: searchable when this returns. If the process
    /// dies in between, the next start catches the index up from the store's change log.
    pub async fn write(&self, w: Write<'_>) -> Result<std::result::Result<WriteOutcome, WriteRefused>> {
        let _writing = self.writing.lock().await;
        let written = match self.store.write(w).await? {
            Ok(WriteOutcome::Written(w)) => w,
            other => return Ok(other),
        };
        let state = self.position_after(written.prev_seq, written.seq);
        let index = self.index.clone();
        let v = written.versioned.clone();
        tokio::task::spawn_blocking(move || {
            if v.deleted {
                index.delete(&[v.resource.id], state)
            } else {
                index.upsert(std::slice::from_ref(&v.resource), state)
            }
        })
        .await??;
        Ok(Ok(WriteOutcome::Written(written)))
    }

    /// Recompute the site links (after an import) and bring the index in step with them.
    pub async fn relink(&self) -> Result<crate::sites::Relinked> {
        let done = crate::sites::relink(self.store.as_ref()).await?;
        if done.changed > 0 {
            self.catch_up().await?;
        }
        Ok(done)
    }

    pub fn index_dir(&self) -> &Path {
        &self.index_dir
    }

    /// Apply store writes the index has not seen (made by another process, or lost in a crash).
    /// Returns how many changes were applied.
    pub async fn catch_up(&self) -> Result<usize> {
        let _writing = self.writing.lock().await;
        let state = self.store.state().await?;
        if state.seq <= self.index.state().seq {
            return Ok(0);
        }
        catch_up(self.store.as_ref(), &self.index, &state).await
    }
}

/// Build a fresh index from every live resource in the store.
pub async fn rebuild(
    store: &dyn Store,
    places: &'static Gazetteer,
    index_dir: &Path,
    state: &StoreState,
) -> Result<SearchIndex> {
    let started = Instant::now();
    let dir = index_dir.to_path_buf();
    let mut builder = tokio::task::spawn_blocking(move || SearchIndex::builder(&dir, places)).await??;
    let mut after = None;
    loop {
        let page = store.page(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        builder = tokio::task::spawn_blocking(move || builder.add(&page).map(|_| builder)).await??;
    }
    let indexed = IndexedState { store_id: state.store_id.clone(), seq: state.seq };
    let index = tokio::task::spawn_blocking(move || builder.finish(indexed)).await??;
    tracing::info!(resources = index.len(), secs = started.elapsed().as_secs_f32(), "index rebuilt from the store");
    Ok(index)
}

/// Apply the store's changes after the index's position. Returns how many changes were applied.
async fn catch_up(store: &dyn Store, index: &Arc<SearchIndex>, state: &StoreState) -> Result<usize> {
    let mut seq = index.state().seq;
    let mut applied = 0;
    loop {
        let changes = store.changes_since(seq, PAGE).await?;
        let Some(last) = changes.last() else { break };
        seq = last.seq;
        applied += changes.len();
        let mut ids: Vec<_> = changes.iter().map(|c| c.id).collect();
        ids.sort();
        ids.dedup();
        let live = store.get_many(&ids).await?;
        let gone: Vec<_> = ids.iter().filter(|id| !live.iter().any(|r| r.id == **id)).copied().collect();
        let st = IndexedState { store_id: state.store_id.clone(), seq };
        let idx = index.clone();
        tokio::task::spawn_blocking(move || idx.apply(&live, &gone, st)).await??;
    }
    tracing::info!(applied, "index caught up with the store");
    Ok(applied)
}
