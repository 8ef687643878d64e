//! Search for tsunagu: a tantivy full-text index and an rstar R-tree over the resources, with an
//! in-memory catalog for filters and facets. Derived data: it can always be rebuilt from the store.
//!
//! - [`analysis`]: Japanese/English normalisation and tokenisation (no dictionary download).
//! - [`schema`]: tantivy fields.
//! - [`catalog`]: compact per-resource entries and the point R-tree.
//! - [`index`]: building, opening and updating the index; which store state it reflects.
//! - [`query`]: executing a [`SearchRequest`] into ranked, faceted [`SearchResults`].

mod analysis;
mod area;
mod catalog;
mod cells;
mod entry;
mod index;
mod query;
mod schema;
mod suggest;
mod understand;

pub use index::{IndexBuilder, IndexedState, SearchIndex, Staleness};
pub use query::{Covers, Facets, Hit, Listing, MAX_LIMIT, MAX_OFFSET, SearchRequest, SearchResults, Sort, TextScope};
pub use suggest::Suggestion;
pub use understand::{ConceptKind, Interpretation, Recognized, Understanding, UnknownPlace};

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("index error: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("index I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("index directory: {0}")]
    Directory(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = SearchError> = std::result::Result<T, E>;
