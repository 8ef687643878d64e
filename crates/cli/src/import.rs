//! `tsunagu import` and `tsunagu export`: CSV (UTF-8 or CP932, Japanese or English headers),
//! JSON Lines, HSDS 3.0 JSON and GeoJSON, through the formats in `tsunagu-exchange`.
//!
//! Import streams: a reader thread parses and validates rows and hands them in batches to the
//! store, which writes them inside one transaction (all rows or none, even if the process
//! dies). Memory stays flat whatever the file's length: the file's bytes, a few batches, and
//! the row report.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use tsunagu_exchange::{Exporter, RowError, RowResult, csv, official, text};
use tsunagu_model::Resource;
use tsunagu_places::Places;
use tsunagu_store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
    /// Open Referral HSDS 3.0 JSON.
    Hsds,
    Geojson,
    /// WAM NET 障害福祉サービス等情報公表 open data (`csvdownload0NN.csv`), as downloaded.
    Wam,
    /// 介護サービス情報公表システム open data (`jigyosho_<code>.csv`), as downloaded.
    Kaigo,
    /// 医療情報ネット（ナビイ） facility files (`01-1` hospitals, `02-1` clinics), as downloaded.
    Navii,
}

impl From<Format> for tsunagu_exchange::Format {
    fn from(f: Format) -> Self {
        match f {
            Format::Csv => tsunagu_exchange::Format::Csv,
            Format::Jsonl => tsunagu_exchange::Format::Jsonl,
            Format::Hsds => tsunagu_exchange::Format::Hsds,
            Format::Geojson => tsunagu_exchange::Format::Geojson,
            Format::Wam => tsunagu_exchange::Format::Wam,
            Format::Kaigo => tsunagu_exchange::Format::Kaigo,
            Format::Navii => tsunagu_exchange::Format::Navii,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Headers {
    En,
    Ja,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutEncoding {
    Utf8,
    /// Shift_JIS/CP932, for Excel on Windows (CSV only).
    Cp932,
}

/// What to do with invalid rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Report only; write nothing.
    DryRun,
    /// Any invalid row rejects the whole file (the default).
    AllOrNothing,
    /// Write the valid rows, report the others.
    SkipInvalid,
}

/// Rows handed from the reader thread to the writer at a time.
const BATCH: usize = 1_000;

enum Msg {
    Rows(Vec<Resource>),
    Problems(Vec<RowError>),
}

/// Reads a file row by row, calling `each(row, result)` (false: stop); `pos` counts bytes read.
/// Returns a label for the file's encoding and what an official file held besides its rows, or
/// why the file as a whole cannot be read.
pub type RowReader = Box<
    dyn FnOnce(
            &std::sync::atomic::AtomicU64,
            &mut dyn FnMut(usize, RowResult) -> bool,
        ) -> Result<(String, official::Findings), String>
        + Send,
>;

/// How to import.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub mode: Mode,
    /// An official full list: rows update only what the source owns, and records of the source
    /// it no longer lists are marked 「最新の公表データに掲載なし」.
    pub official: bool,
    /// Mark the records of an official list's source that it no longer has.
    pub sweep: bool,
}

/// What an import did.
pub struct Imported {
    pub rows: u64,
    pub valid: u64,
    pub invalid: usize,
    /// `None` when nothing was written (a dry run, or invalid rows rejected the file).
    pub summary: Option<tsunagu_store::WriteSummary>,
    pub encoding: String,
    pub dry_run: bool,
    pub findings: official::Findings,
}

/// What `tsunagu import` was told about the file beyond its name.
pub struct FileArgs {
    pub format: Option<Format>,
    /// The data date of an official file (the files do not carry it).
    pub source_date: Option<chrono::NaiveDate>,
    /// The kind of a 医療情報ネット file.
    pub kind: Option<tsunagu_model::Kind>,
    /// The official file is not the whole list (one area's extract): mark nothing as no longer listed.
    pub partial: bool,
}

pub async fn import(
    places: &Places,
    store: &dyn Store,
    file: &Path,
    args: FileArgs,
    mode: Mode,
    actor: &tsunagu_store::Actor,
) -> anyhow::Result<()> {
    let format: tsunagu_exchange::Format = match args.format {
        Some(f) => f.into(),
        None => tsunagu_exchange::Format::of_path(file).context(
            "cannot tell the format from the file name; give --format csv|jsonl|hsds|geojson|wam|kaigo|navii",
        )?,
    };
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_ascii_lowercase();
    let opts = official::ReadOptions {
        source_date: args.source_date.or_else(|| official::date_in_file_name(&name)),
        kind: args.kind.or_else(|| official::kind_in_file_name(&name)),
    };
    let started = Instant::now();
    let open = || std::fs::File::open(file).with_context(|| format!("opening {}", file.display()));
    let total_bytes = open()?.metadata()?.len();
    // One pass to tell the encoding (UTF-8 or CP932), one to read: the file is never held whole.
    let encoding =
        text::sniff(std::io::BufReader::new(open()?)).with_context(|| format!("reading {}", file.display()))?;
    let input = open()?;
    let places = *places;
    let read: RowReader = Box::new(move |pos, each| {
        let counted = tsunagu_exchange::json_stream::Counting::new(input, pos);
        let info = tsunagu_exchange::read_stream_with(&places, format, counted, encoding, &opts, each)
            .map_err(|e| e.reason)?;
        let label = match info.encoding {
            text::Encoding::Utf8 => "UTF-8".to_string(),
            text::Encoding::ShiftJis => "Shift_JIS/CP932".to_string(),
        };
        Ok((label, info.findings))
    });
    let plan = Plan { mode, official: format.official().is_some(), sweep: !args.partial };
    let done = import_rows(&places, store, file, total_bytes, &plan, actor, read).await?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{}: {} rows ({}, {}); {} valid, {} with problems; read in {secs:.1} s",
        file.display(),
        done.rows,
        format.code(),
        done.encoding,
        done.valid,
        done.invalid
    );
    for (reason, n) in &done.findings.skipped {
        eprintln!("skipped {n} row(s): {reason}");
    }
    for (note, n) in &done.findings.notes {
        eprintln!("{note}: {n} row(s)");
    }
    match done.summary {
        None if !done.dry_run => bail!(
            "{} row(s) have problems; nothing was imported (use --skip-invalid to import the valid rows)",
            done.invalid
        ),
        None => {
            println!("dry run: {} of {} rows would be imported; nothing written", done.valid, done.rows);
            if done.invalid == 0 { Ok(()) } else { bail!("{} row(s) have problems", done.invalid) }
        }
        Some(s) => {
            let linked = tsunagu_directory::sites::relink(store).await?;
            if linked.changed > 0 {
                eprintln!(
                    "site links: {} records at {} sites ({} changed)",
                    linked.linked, linked.sites, linked.changed
                );
            }
            if s.not_listed > 0 {
                println!(
                    "{} record(s) of this source are not in this list any more: marked 「最新の公表データに掲載なし」 \
                     (kept, hidden from family search; list them with listing=delisted)",
                    s.not_listed
                );
            }
            if s.restored > 0 {
                println!("{} deleted record(s) were in the file again and were restored", s.restored);
            }
            println!(
                "imported {}: {} created, {} updated, {} unchanged{} in {secs:.1} s ({:.0} rows/s)",
                file.display(),
                s.created,
                s.updated,
                s.unchanged,
                if done.invalid == 0 { String::new() } else { format!("; {} invalid row(s) skipped", done.invalid) },
                done.valid as f64 / secs.max(1e-9),
            );
            Ok(())
        }
    }
}

/// The import pipeline: a reader thread parses and validates rows and hands them in batches to
/// one store transaction. All or nothing unless `mode` says to skip invalid rows; a dry run
/// writes nothing. Problems are printed as they are found.
pub async fn import_rows(
    places: &Places,
    store: &dyn Store,
    file: &Path,
    total_bytes: u64,
    plan: &Plan,
    actor: &tsunagu_store::Actor,
    read: RowReader,
) -> anyhow::Result<Imported> {
    let mode = plan.mode;
    let bar = ProgressBar::new(total_bytes).with_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {bytes}/{total_bytes} {msg} ({elapsed}, {eta} left)")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    // The reader thread: parse, validate, batch. A bounded channel keeps memory flat.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Msg>(4);
    let reader_bar = bar.clone();
    let reader = std::thread::spawn(move || {
        let pos = std::sync::atomic::AtomicU64::new(0);
        let mut batch = Vec::with_capacity(BATCH);
        let (mut rows, mut bad) = (0u64, 0u64);
        let result = read(&pos, &mut |_, r| {
            rows += 1;
            let sent = match r {
                Ok(r) => {
                    batch.push(r);
                    batch.len() < BATCH || tx.blocking_send(Msg::Rows(std::mem::take(&mut batch))).is_ok()
                }
                Err(errs) => {
                    bad += 1;
                    tx.blocking_send(Msg::Problems(errs)).is_ok()
                }
            };
            if rows % 256 == 0 {
                reader_bar.set_position(pos.load(std::sync::atomic::Ordering::Relaxed));
                reader_bar.set_message(format!("{rows} rows, {bad} with problems"));
            }
            sent
        });
        if !batch.is_empty() {
            let _ = tx.blocking_send(Msg::Rows(batch));
        }
        reader_bar.set_position(total_bytes);
        reader_bar.set_message(format!("{rows} rows, {bad} with problems"));
        result.map(|(encoding, findings)| (encoding, findings, rows))
    });

    let mut import = match mode {
        Mode::DryRun => None,
        // The centre at its own command line is an admin (SECURITY.md).
        _ => Some(
            store.begin_import(actor, std::sync::Arc::new(tsunagu_directory::Policy::system(places.gazetteer))).await?,
        ),
    };
    if plan.official
        && let Some(tx) = import.as_mut()
    {
        tx.merge_with(std::sync::Arc::new(official::merge));
    }
    // The records an official list holds: the others of its source are no longer listed.
    let mut seen = std::collections::HashSet::new();
    let (mut valid, mut bad_rows) = (0u64, std::collections::BTreeSet::new());
    let mut failed = None;
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Rows(rs) => {
                valid += rs.len() as u64;
                if plan.official {
                    seen.extend(rs.iter().map(|r| r.id));
                }
                // All or nothing: after the first bad row nothing more is worth writing.
                let writing = mode == Mode::SkipInvalid || (mode == Mode::AllOrNothing && bad_rows.is_empty());
                if let Some(tx) = import.as_mut().filter(|_| writing && failed.is_none()) {
                    match tx.put(&rs).await {
                        Ok(refused) if refused.is_empty() => {}
                        // The system policy refuses nothing; should it ever, nothing is imported.
                        Ok(refused) => {
                            failed = Some(anyhow::anyhow!("{} row(s) refused: {}", refused.len(), refused[0].reason))
                        }
                        Err(e) => failed = Some(e.into()),
                    }
                }
            }
            Msg::Problems(errs) => {
                bar.suspend(|| {
                    for e in &errs {
                        eprintln!("{e}");
                    }
                });
                bad_rows.extend(errs.iter().map(|e| e.row));
            }
        }
    }
    let read = reader.join().map_err(|_| anyhow::anyhow!("the reader thread panicked"))?;
    bar.finish_and_clear();
    let (encoding, findings, rows) = match read {
        Ok(x) => x,
        Err(reason) => {
            if let Some(tx) = import {
                tx.finish(false).await?;
            }
            bail!("{}: {reason}", file.display());
        }
    };
    if let Some(e) = failed {
        if let Some(tx) = import {
            tx.finish(false).await?;
        }
        return Err(e).context("writing to the store; nothing was imported");
    }
    let invalid = bad_rows.len();
    let summary = match (mode, import) {
        (Mode::DryRun, _) | (_, None) => None,
        (Mode::AllOrNothing, Some(tx)) if invalid > 0 => {
            tx.finish(false).await?;
            None
        }
        (_, Some(mut tx)) => {
            if let Some(coverage) = findings.coverage.as_ref().filter(|_| plan.official && plan.sweep && invalid == 0) {
                let mark = official::not_listed(coverage, places.gazetteer);
                tx.sweep(&coverage.source_name, &seen, &mark).await?;
            }
            Some(tx.finish(true).await?)
        }
    };
    Ok(Imported { rows, valid, invalid, summary, encoding, dry_run: mode == Mode::DryRun, findings })
}

pub async fn export(
    places: &Places,
    store: &dyn Store,
    out: Option<&Path>,
    format: Format,
    headers: Headers,
    encoding: OutEncoding,
) -> anyhow::Result<()> {
    let format: tsunagu_exchange::Format = format.into();
    if encoding == OutEncoding::Cp932 && format != tsunagu_exchange::Format::Csv {
        bail!("--encoding cp932 is for CSV only; {} is always UTF-8", format.code());
    }
    let heads = if headers == Headers::Ja { csv::Headers::Japanese } else { csv::Headers::English };
    let sink: Box<dyn Write> = match out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("writing {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut exporter = Exporter::new(places, format, heads, encoding == OutEncoding::Cp932, sink)?;
    let mut after = None;
    loop {
        let page = store.page(after, 5_000).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        exporter.write(&page)?;
    }
    let (_, n) = exporter.finish()?;
    if let Some(p) = out {
        eprintln!("exported {n} resources to {} ({})", p.display(), format.code());
    }
    Ok(())
}
