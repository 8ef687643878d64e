//! Bulk exchange over HTTP (editor key): `POST /v1/imports` takes a CSV (UTF-8 or CP932), JSON
//! Lines, HSDS 3.0 JSON or GeoJSON file and answers with a row report; `GET /v1/export` returns
//! every live record in any of those formats.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;
use tsunagu_exchange::{Exporter, Format, RowError, csv, official, text};

use crate::AppState;
use crate::auth::Editor;
use crate::params::Params;
use crate::problem::{InvalidParam, Problem};

/// Largest file accepted by `POST /v1/imports`.
pub const MAX_IMPORT_BYTES: usize = 32 << 20;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/imports", post(import)).route("/v1/export", get(export))
}

fn format_param(p: &mut Params, allowed: &[Format]) -> Option<Format> {
    let raw = p.one("format")?;
    match Format::parse(&raw).filter(|f| allowed.contains(f)) {
        Some(f) => Some(f),
        None => {
            p.error(
                InvalidParam::param("format", format!("unknown format `{}`", tsunagu_model::codes::truncate(&raw, 20)))
                    .with_allowed(allowed.iter().map(|f| f.code())),
            );
            None
        }
    }
}

/// The format a request body's Content-Type names, if it names one.
fn format_of_content_type(headers: &HeaderMap) -> Option<Format> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?.split(';').next()?.trim().to_ascii_lowercase();
    match ct.as_str() {
        "text/csv" => Some(Format::Csv),
        "application/x-ndjson" | "application/jsonl" | "application/x-jsonlines" => Some(Format::Jsonl),
        "application/geo+json" => Some(Format::Geojson),
        "application/json" => Some(Format::Hsds),
        _ => None,
    }
}

async fn import(
    State(s): State<AppState>,
    who: Editor,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Response, Problem> {
    let mut p = Params::parse(raw.as_deref(), &["format", "mode", "source_date", "kind", "partial"])?;
    let format =
        format_param(&mut p, &Format::IMPORT).or_else(|| format_of_content_type(&headers)).unwrap_or(Format::Csv);
    let source_date = p.parsed::<chrono::NaiveDate>("source_date", "is not a date (YYYY-MM-DD)");
    let kind = match p.one("kind") {
        None => None,
        Some(k) => match k.parse::<tsunagu_model::Kind>() {
            Ok(k) => Some(k),
            Err(e) => {
                p.error(InvalidParam::param("kind", e.to_string()).with_allowed(["hospital", "clinic"]));
                None
            }
        },
    };
    let partial = p.bool("partial").unwrap_or(false);
    let mode = p.one("mode").unwrap_or_else(|| "all_or_nothing".into());
    if !["dry_run", "all_or_nothing", "skip_invalid"].contains(&mode.as_str()) {
        p.error(
            InvalidParam::param("mode", format!("unknown mode `{}`", tsunagu_model::codes::truncate(&mode, 20)))
                .with_allowed(["dry_run", "all_or_nothing", "skip_invalid"]),
        );
    }
    p.finish()?;
    let opts = official::ReadOptions { source_date, kind };
    let (rows, info) = tsunagu_exchange::read_all_with(&s.places, format, &body, &opts)
        .map_err(|e| Problem::invalid(vec![InvalidParam::param("body", e.reason)]))?;
    let total = rows.len();
    let (mut good, mut good_rows) = (Vec::new(), Vec::new());
    let mut errors: Vec<RowError> = Vec::new();
    for (row, r) in rows {
        match r {
            Ok(r) => {
                good.push(r);
                good_rows.push(row);
            }
            Err(es) => errors.extend(es),
        }
    }
    // Every row is put to the key's authorisation decision by the store, against what it holds
    // under the row's id, inside the import's transaction. A dry run does the same and rolls back.
    let mut tx = s.directory.store.begin_import(&who.actor(), Arc::new(who.policy(&s))).await?;
    let is_official = format.official().is_some();
    if is_official {
        tx.merge_with(Arc::new(official::merge));
    }
    let refused = match tx.put(&good).await {
        Ok(r) => r,
        Err(e) => {
            tx.finish(false).await?;
            return Err(e.into());
        }
    };
    for r in &refused {
        errors.push(RowError { row: good_rows[r.index], field: String::new(), reason: r.reason.clone() });
    }
    errors.sort_by_key(|e| e.row);
    let bad_rows: std::collections::BTreeSet<usize> = errors.iter().map(|e| e.row).collect();
    let write = match mode.as_str() {
        "dry_run" => false,
        "all_or_nothing" => bad_rows.is_empty(),
        _ => true,
    };
    // A full official list marks the records of its source it no longer has.
    if let Some(coverage) = info.findings.coverage.as_ref().filter(|_| is_official && !partial && bad_rows.is_empty()) {
        let seen: std::collections::HashSet<_> = good.iter().map(|r| r.id).collect();
        let mark = official::not_listed(coverage, s.gazetteer);
        if let Err(e) = tx.sweep(&coverage.source_name, &seen, &mark).await {
            tx.finish(false).await?;
            return Err(e.into());
        }
    }
    let summary = tx.finish(write).await?;
    let written = write && summary.seq > summary.prev_seq;
    if written {
        s.directory.catch_up().await.map_err(|e| Problem::internal(e.to_string()))?;
        s.directory.relink().await.map_err(|e| Problem::internal(e.to_string()))?;
    }
    let status = if bad_rows.is_empty() || write { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let outcome = if write {
        "written"
    } else if mode == "dry_run" {
        "dry_run"
    } else {
        "refused"
    };
    crate::metrics::imported(outcome, if write { summary.created + summary.updated + summary.restored } else { 0 });
    // Counts are what was written, or (dry run, refused file) what would have been.
    let report = json!({
        "format": format.code(),
        "encoding": match info.encoding { text::Encoding::Utf8 => "utf-8", text::Encoding::ShiftJis => "shift_jis" },
        "mode": mode,
        "rows": total,
        "valid": good.len() - refused.len(),
        "invalid": bad_rows.len(),
        "refused": refused.len(),
        "written": written,
        "created": summary.created,
        "updated": summary.updated,
        "restored": summary.restored,
        "not_listed": summary.not_listed,
        "skipped": info.findings.skipped.values().sum::<u64>(),
        "skipped_reasons": info.findings.skipped,
        "notes": info.findings.notes,
        "unchanged": summary.unchanged,
        "errors": errors.iter().map(|e| json!({"row": e.row, "field": e.field, "reason": e.reason})).collect::<Vec<_>>(),
    });
    Ok((status, Json(report)).into_response())
}

async fn export(State(s): State<AppState>, _who: Editor, RawQuery(raw): RawQuery) -> Result<Response, Problem> {
    let mut p = Params::parse(raw.as_deref(), &["format", "headers"])?;
    let format = format_param(&mut p, &Format::ALL).unwrap_or(Format::Jsonl);
    let heads = match p.one("headers").as_deref() {
        None | Some("ja") => csv::Headers::Japanese,
        Some("en") => csv::Headers::English,
        Some(other) => {
            p.error(
                InvalidParam::param(
                    "headers",
                    format!("unknown headers `{}`", tsunagu_model::codes::truncate(other, 10)),
                )
                .with_allowed(["ja", "en"]),
            );
            csv::Headers::Japanese
        }
    };
    p.finish()?;
    let mut exporter =
        Exporter::new(&s.places, format, heads, false, Vec::new()).map_err(|e| Problem::internal(e.to_string()))?;
    let mut after = None;
    loop {
        let page = s.directory.store.page(after, 5_000).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        let page: Vec<_> = page.into_iter().filter(|r| s.config.serves(r)).collect();
        exporter.write(&page).map_err(|e| Problem::internal(e.to_string()))?;
    }
    let (body, _) = exporter.finish().map_err(|e| Problem::internal(e.to_string()))?;
    let mut res = body.into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    Ok(res)
}
