//! Exchange formats: reading and writing resources as files people actually have.
//!
//! - [`csv`]: a column layout modelled on the 自治体標準オープンデータセット (名称, 名称_カナ, 種別, 住所,
//!   緯度, 経度, 電話番号, 医療的ケア対応 …), Japanese or English headers, UTF-8 or Shift_JIS/CP932
//!   (as prefectural spreadsheets are saved); complex members as JSON cells so export → import is
//!   exact.
//! - [`jsonl`]: one resource per line, as the API shows it.
//!
//! Reading never stops at the first problem: every row gets a result, every problem names its
//! row, column and reason.

pub mod csv;
pub mod jsonl;
pub mod text;

/// One problem in one row of an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line (CSV: the header is line 1) or record number.
    pub row: usize,
    /// Column or member.
    pub field: String,
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            write!(f, "row {}: {}", self.row, self.reason)
        } else {
            write!(f, "row {}: {}: {}", self.row, self.field, self.reason)
        }
    }
}

/// A row's outcome.
pub type RowResult = Result<tsunagu_model::Resource, Vec<RowError>>;

/// Place checks shared by every format (the model checks forms and rules; only the gazetteer
/// knows which municipalities and regions exist).
pub(crate) fn check_places(row: usize, r: tsunagu_model::Resource) -> RowResult {
    let errs = tsunagu_places::check_places(tsunagu_places::Gazetteer::bundled(), &r);
    if errs.is_empty() {
        Ok(r)
    } else {
        Err(errs.into_iter().map(|e| RowError { row, field: e.field, reason: e.reason }).collect())
    }
}
