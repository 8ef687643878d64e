//! The search index: tantivy full text + rstar R-tree + columnar catalog; rebuildable from the store.
