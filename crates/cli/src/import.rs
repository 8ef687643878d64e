//! `tsunagu import` and `tsunagu export`: CSV (UTF-8 or CP932, Japanese or English headers) and
//! JSON Lines, through the formats in `tsunagu-exchange`.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use clap::ValueEnum;
use tsunagu_exchange::{RowResult, csv, jsonl, text};
use tsunagu_store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
}

impl Format {
    /// From the file's extension.
    pub fn of(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            _ => None,
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
    /// Shift_JIS/CP932, for Excel on Windows.
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

pub async fn import(
    store: &dyn Store,
    file: &Path,
    format: Option<Format>,
    mode: Mode,
    actor: &str,
) -> anyhow::Result<()> {
    let format = format
        .or_else(|| Format::of(file))
        .context("cannot tell the format from the file name; give --format csv|jsonl")?;
    let bytes = std::fs::read(file).with_context(|| format!("opening {}", file.display()))?;
    let (text, encoding) = text::decode(&bytes).with_context(|| format!("reading {}", file.display()))?;
    let rows: Vec<(usize, RowResult)> = match format {
        Format::Csv => csv::read(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?,
        Format::Jsonl => jsonl::read(&text),
    };
    let total = rows.len();
    let mut good = Vec::with_capacity(total);
    let mut problems = Vec::new();
    for (_, r) in rows {
        match r {
            Ok(r) => good.push(r),
            Err(errs) => problems.extend(errs),
        }
    }
    let bad_rows: std::collections::BTreeSet<usize> = problems.iter().map(|p| p.row).collect();
    for p in &problems {
        eprintln!("{p}");
    }
    let label = match encoding {
        text::Encoding::Utf8 => "UTF-8",
        text::Encoding::ShiftJis => "Shift_JIS/CP932",
    };
    eprintln!("{}: {total} rows ({label}); {} valid, {} with problems", file.display(), good.len(), bad_rows.len());
    match mode {
        Mode::DryRun => {
            println!("dry run: {} of {total} rows would be imported; nothing written", good.len());
            if bad_rows.is_empty() { Ok(()) } else { bail!("{} row(s) have problems", bad_rows.len()) }
        }
        Mode::AllOrNothing if !bad_rows.is_empty() => {
            bail!(
                "{} row(s) have problems; nothing was imported (use --skip-invalid to import the valid rows)",
                bad_rows.len()
            )
        }
        _ => {
            // One transaction for the whole file: all rows or none, even if the process dies.
            let s = store.upsert(&good, actor).await?;
            println!(
                "imported {}: {} created, {} updated, {} unchanged{}",
                file.display(),
                s.created,
                s.updated,
                s.unchanged,
                if bad_rows.is_empty() {
                    String::new()
                } else {
                    format!("; {} invalid row(s) skipped", bad_rows.len())
                }
            );
            Ok(())
        }
    }
}

pub async fn export(
    store: &dyn Store,
    out: Option<&Path>,
    format: Format,
    headers: Headers,
    encoding: OutEncoding,
) -> anyhow::Result<()> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = store.page(after, 5_000).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        all.extend(page);
    }
    let text = match format {
        Format::Jsonl => all.iter().map(|r| jsonl::line(r) + "\n").collect::<String>(),
        Format::Csv => {
            csv::write(&all, if headers == Headers::Ja { csv::Headers::Japanese } else { csv::Headers::English })
        }
    };
    let bytes = match encoding {
        OutEncoding::Utf8 => text.into_bytes(),
        OutEncoding::Cp932 => text::encode_shift_jis(&text),
    };
    match out {
        Some(p) => {
            std::fs::write(p, &bytes).with_context(|| format!("writing {}", p.display()))?;
            eprintln!("exported {} resources to {}", all.len(), p.display());
        }
        None => std::io::stdout().lock().write_all(&bytes)?,
    }
    Ok(())
}
