//! `tsunagu`: what a centre runs — serve the directory, import and export records, rebuild the
//! index, manage keys, survey providers. The benchmark harness and the sample generator are in
//! `tsunagu-dev` (src/bin/tsunagu-dev), not in this binary.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use tsunagu_places::{Gazetteer, Places};
use tsunagu_store::{SqliteStore, Store};

mod listener;
mod serve;
mod survey;

use tsunagu_cli::import;

#[derive(Parser)]
#[command(
    name = "tsunagu",
    version,
    about = "tsunagu (つなぐ): support resources for children who need medical care at home"
)]
struct Cli {
    /// Directory holding the database and the search index.
    #[arg(long, env = "TSUNAGU_DATA_DIR", default_value = "tsunagu-data", global = true)]
    data_dir: PathBuf,
    /// Log format.
    #[arg(long, env = "TSUNAGU_LOG_FORMAT", value_enum, default_value = "text", global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum KeysAction {
    /// Make a key and print it once (only a hash is kept).
    Create {
        /// reader (private fields), editor (create/update), admin (keys, deletes)
        #[arg(long)]
        role: String,
        /// Who holds the key; recorded in the audit log with every change it makes.
        #[arg(long)]
        name: String,
        /// For editors: the 圏域 ids they may edit (e.g. 20-07,20-10); all when omitted.
        #[arg(long, value_delimiter = ',')]
        regions: Vec<String>,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by id.
    Revoke { id: String },
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API. On an empty store, loads the bundled sample data first.
    Serve(serve::ServeArgs),
    /// Survey providers about the medical care they take (see README "Surveying providers").
    Survey {
        #[command(subcommand)]
        action: survey::SurveyAction,
    },
    /// Manage API keys (writing needs a key; reading does not).
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Import resources from CSV (UTF-8 or Shift_JIS/CP932; Japanese or English headers), JSON
    /// Lines, Open Referral HSDS 3.0 JSON or GeoJSON. Every row is validated and reported. All or nothing by default; re-importing the
    /// same records updates them (by 外部ID / source id) instead of duplicating.
    Import {
        file: PathBuf,
        /// Format; by default from the file name (.csv, .jsonl, .json = HSDS, .geojson).
        #[arg(long, value_enum)]
        format: Option<import::Format>,
        /// Validate and report only; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Import the valid rows and report the others (default: any invalid row rejects the file).
        #[arg(long, conflicts_with = "dry_run")]
        skip_invalid: bool,
        /// For official files (wam, kaigo, navii): the date their data describes (YYYY-MM-DD),
        /// as the download page states it; a navii file name's date is used when this is absent.
        #[arg(long)]
        source_date: Option<chrono::NaiveDate>,
        /// For navii files: hospital (01-1) or clinic (02-1); by default from the file name.
        #[arg(long)]
        kind: Option<String>,
        /// The official file is an extract, not the whole list: mark nothing "not in the latest list".
        #[arg(long)]
        partial: bool,
    },
    /// Export every live resource (to standard output or --out).
    Export {
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "jsonl")]
        format: import::Format,
        /// CSV headers.
        #[arg(long, value_enum, default_value = "ja")]
        headers: import::Headers,
        #[arg(long, value_enum, default_value = "utf8")]
        encoding: import::OutEncoding,
    },
    /// Rebuild the search index from the store.
    Reindex,
    /// Copy the store to a file, consistently, while the server keeps running.
    Backup {
        /// The backup file to write (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Replace the store with a backup: its integrity and schema are checked first, and the
    /// search index is rebuilt. Stop the server before restoring.
    Restore {
        /// The backup file (made by `tsunagu backup`).
        file: PathBuf,
        /// Replace a store that holds data.
        #[arg(long)]
        force: bool,
    },
    /// Print a shell completion script (e.g. `tsunagu completions bash > /etc/bash_completion.d/tsunagu`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), or with --out-dir write tsunagu.1 and one page per command.
    Man {
        /// A directory to write tsunagu.1, tsunagu-serve.1, … into (created if missing).
        #[arg(long)]
        out_dir: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tantivy=warn,sqlx=warn"));
    // Colour only for a terminal: a log file or a journal gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn db_path(data_dir: &Path) -> PathBuf {
    data_dir.join("tsunagu.sqlite3")
}

pub(crate) fn index_path(data_dir: &Path) -> PathBuf {
    data_dir.join("index")
}

pub(crate) async fn open_store(data_dir: &Path) -> anyhow::Result<Arc<dyn Store>> {
    let store = SqliteStore::open(&db_path(data_dir))
        .await
        .with_context(|| format!("opening the store in {}", data_dir.display()))?;
    Ok(Arc::new(store))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // The places every command works with: made once, here, and passed to whoever needs them.
    let places = Places::bundled();
    match cli.command {
        Command::Serve(args) => serve::serve(places, &cli.data_dir, args).await,
        Command::Survey { action } => {
            let store = open_store(&cli.data_dir).await?;
            survey::run(places.gazetteer, store.as_ref(), action).await
        }
        Command::Keys { action } => {
            let store = open_store(&cli.data_dir).await?;
            keys(places.gazetteer, store.as_ref(), action).await
        }
        Command::Import { file, format, dry_run, skip_invalid, source_date, kind, partial } => {
            let kind = match kind {
                Some(k) => Some(k.parse::<tsunagu_model::Kind>().map_err(|e| anyhow::anyhow!("--kind: {e}"))?),
                None => None,
            };
            let store = open_store(&cli.data_dir).await?;
            let mode = match (dry_run, skip_invalid) {
                (true, _) => import::Mode::DryRun,
                (false, true) => import::Mode::SkipInvalid,
                (false, false) => import::Mode::AllOrNothing,
            };
            let args = import::FileArgs { format, source_date, kind, partial };
            import::import(&places, store.as_ref(), &file, args, mode, &tsunagu_store::Actor::system("cli:import"))
                .await
        }
        Command::Export { out, format, headers, encoding } => {
            let store = open_store(&cli.data_dir).await?;
            import::export(&places, store.as_ref(), out.as_deref(), format, headers, encoding).await
        }
        Command::Backup { out } => backup(&cli.data_dir, &out).await,
        Command::Restore { file, force } => restore(places.gazetteer, &cli.data_dir, &file, force).await,
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "tsunagu", &mut std::io::stdout());
            Ok(())
        }
        Command::Man { out_dir } => man(out_dir.as_deref()),
        Command::Reindex => {
            let store = open_store(&cli.data_dir).await?;
            let dir = index_path(&cli.data_dir);
            // Opening takes the index's writer lock: a running server holds it.
            if tsunagu_search::SearchIndex::in_use(&dir) {
                bail!("the index in {} is in use (is `tsunagu serve` running?); stop the server first", dir.display());
            }
            let started = Instant::now();
            let state = store.state().await?;
            let index = tsunagu_directory::rebuild(store.as_ref(), places.gazetteer, &dir, &state).await?;
            println!(
                "reindexed {} resources in {:.2} s; index size {:.1} MiB",
                index.len(),
                started.elapsed().as_secs_f64(),
                index.size_on_disk() as f64 / (1 << 20) as f64
            );
            Ok(())
        }
    }
}

/// The manual from the same definitions as `--help`: one page to standard output, or every
/// command's page into a directory.
fn man(out_dir: Option<&Path>) -> anyhow::Result<()> {
    let cmd = Cli::command();
    match out_dir {
        None => {
            let mut out = std::io::stdout().lock();
            clap_mangen::Man::new(cmd).render(&mut out).context("writing the manual page")?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            clap_mangen::generate_to(cmd, dir).with_context(|| format!("writing manual pages to {}", dir.display()))?;
            println!("wrote the manual pages to {}", dir.display());
        }
    }
    Ok(())
}

async fn backup(data_dir: &Path, out: &Path) -> anyhow::Result<()> {
    if !db_path(data_dir).exists() {
        bail!("no store in {} (give --data-dir)", data_dir.display());
    }
    let started = Instant::now();
    let store = SqliteStore::open(&db_path(data_dir)).await?;
    store.backup_to(out).await.with_context(|| format!("backing up to {}", out.display()))?;
    store.close().await;
    let info = SqliteStore::check_backup(out).await.context("checking the backup just written")?;
    println!(
        "backed up {} resources (schema {}) to {} in {:.2} s ({:.1} MiB)",
        info.resources,
        info.schema_version,
        out.display(),
        started.elapsed().as_secs_f64(),
        std::fs::metadata(out).map(|m| m.len()).unwrap_or(0) as f64 / (1 << 20) as f64
    );
    Ok(())
}

async fn restore(g: &'static Gazetteer, data_dir: &Path, file: &Path, force: bool) -> anyhow::Result<()> {
    let info =
        SqliteStore::check_backup(file).await.with_context(|| format!("{} cannot be restored", file.display()))?;
    let db = db_path(data_dir);
    let index = index_path(data_dir);
    if tsunagu_search::SearchIndex::in_use(&index) {
        bail!("the index in {} is in use (is `tsunagu serve` running?); stop the server first", index.display());
    }
    if db.exists() && !force {
        let current = SqliteStore::check_backup(&db).await.map(|i| i.resources).unwrap_or(0);
        bail!(
            "{} already holds a store ({current} resources); add --force to replace it with the backup",
            data_dir.display()
        );
    }
    std::fs::create_dir_all(data_dir)?;
    // Copy beside the store, then swap it in: a failed copy leaves the old store as it was.
    let tmp = data_dir.join("restore.tmp");
    std::fs::copy(file, &tmp).with_context(|| format!("copying {}", file.display()))?;
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", db.display()));
        if side.exists() {
            std::fs::remove_file(&side)?;
        }
    }
    std::fs::rename(&tmp, &db)?;
    if index.exists() {
        std::fs::remove_dir_all(&index)?;
    }
    let started = Instant::now();
    let store = SqliteStore::open(&db).await?;
    let state = store.state().await?;
    let built = tsunagu_directory::rebuild(&store, g, &index, &state).await?;
    println!(
        "restored {} resources (schema {}, store {}) from {}; index rebuilt in {:.2} s",
        built.len(),
        info.schema_version,
        info.store_id,
        file.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn keys(g: &'static Gazetteer, store: &dyn Store, action: KeysAction) -> anyhow::Result<()> {
    match action {
        KeysAction::Create { role, name, regions } => {
            let role = tsunagu_store::Role::parse(&role)
                .ok_or_else(|| anyhow::anyhow!("unknown role `{role}`; allowed: reader, editor, admin"))?;
            let (record, key) = tsunagu_directory::keys::create(store, g, &name, role, regions).await?;
            println!("{key}");
            eprintln!(
                "created {} key `{}` (id {}); the key above is shown only now",
                role.code(),
                record.name,
                record.id
            );
        }
        KeysAction::List => {
            for k in store.list_keys().await? {
                let state = if k.revoked_at.is_some() { "revoked" } else { "active" };
                let regions = if k.regions.is_empty() { "all".to_string() } else { k.regions.join(",") };
                println!(
                    "{}\t{}\t{}\tregions={}\t{}\tcreated {}",
                    k.id,
                    k.role.code(),
                    k.name,
                    regions,
                    state,
                    k.created_at.format("%Y-%m-%d")
                );
            }
        }
        KeysAction::Revoke { id } => {
            if !store.revoke_key(&id, chrono::Utc::now()).await? {
                bail!("no active key with id `{id}`");
            }
            println!("revoked {id}");
        }
    }
    Ok(())
}
