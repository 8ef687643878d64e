//! What the `tsunagu` and `tsunagu-dev` binaries share: the bulk import pipeline (read, validate,
//! report every row, write all or nothing).

pub mod import;
