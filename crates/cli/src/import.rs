//! `tsunagu import` and `tsunagu export` for JSON Lines.

use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::{Context, bail};
use tsunagu_model::{Resource, ResourceId};
use tsunagu_places::Gazetteer;
use tsunagu_store::Store;

/// Parse one line into a resource: fills a missing id (from `source.id`, or a new one), then
/// validates the record and that its municipality is known.
pub fn parse_line(line: &str) -> Result<Resource, Vec<String>> {
    let mut v: serde_json::Value = serde_json::from_str(line).map_err(|e| vec![format!("not JSON: {e}")])?;
    let Some(obj) = v.as_object_mut() else { return Err(vec!["not a JSON object".into()]) };
    if !obj.contains_key("id") {
        let id = match obj.get("source").and_then(|s| s.get("id")).and_then(|i| i.as_str()) {
            Some(sid) => ResourceId::from_source_id(sid),
            None => ResourceId::new_random(),
        };
        obj.insert("id".into(), serde_json::Value::String(id.to_string()));
    }
    let r = Resource::from_json(v).map_err(|errs| {
        errs.into_iter().map(|e| if e.field.is_empty() { e.reason } else { e.to_string() }).collect::<Vec<_>>()
    })?;
    let place_errors = tsunagu_places::check_places(Gazetteer::bundled(), &r);
    if !place_errors.is_empty() {
        return Err(place_errors.into_iter().map(|e| e.to_string()).collect());
    }
    Ok(r)
}

pub async fn import_jsonl(store: &dyn Store, file: &Path, dry_run: bool) -> anyhow::Result<()> {
    let f = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let mut good = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.with_context(|| format!("{}: line {} is not readable UTF-8", file.display(), i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(&line) {
            Ok(r) => good.push(r),
            Err(errs) => problems.extend(errs.into_iter().map(|e| format!("line {}: {e}", i + 1))),
        }
    }
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("{p}");
        }
        bail!("{} problem(s) in {}; nothing was imported", problems.len(), file.display());
    }
    if dry_run {
        println!("{} valid resources in {}; dry run, nothing written", good.len(), file.display());
        return Ok(());
    }
    // One transaction for the whole file keeps it all-or-nothing.
    let s = store.upsert(&good, "cli:import").await?;
    println!("imported {}: {} created, {} updated, {} unchanged", file.display(), s.created, s.updated, s.unchanged);
    Ok(())
}

pub async fn export_jsonl(store: &dyn Store, out: Option<&Path>) -> anyhow::Result<()> {
    let mut w: Box<dyn Write> = match out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut after = None;
    let mut n = 0;
    loop {
        let page = store.page(after, 5_000).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for r in &page {
            serde_json::to_writer(&mut w, r)?;
            w.write_all(b"\n")?;
            n += 1;
        }
    }
    w.flush()?;
    if out.is_some() {
        eprintln!("exported {n} resources");
    }
    Ok(())
}
