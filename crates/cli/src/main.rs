//! `tsunagu`: what a centre runs — serve the directory, import and export records, rebuild the
//! index, manage keys, survey providers. The benchmark harness and the sample generator are in
//! `tsunagu-dev` (src/bin/tsunagu-dev), not in this binary.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use tsunagu_api::{ApiConfig, AppState};
use tsunagu_directory::{Directory, IndexReadiness};
use tsunagu_places::{Gazetteer, Places};
use tsunagu_store::{SqliteStore, Store};

mod listener;
mod survey;

use tsunagu_cli::import;

const DEFAULT_CENTRE: &str = "医療的ケア児支援センター（連絡先を設定してください: --centre-contact）";

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
    Serve {
        /// Address to listen on (port 0 picks a free port; the chosen address is printed).
        #[arg(long, env = "TSUNAGU_ADDR", default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// Serve only real records: sample records are neither loaded nor reachable.
        #[arg(long, env = "TSUNAGU_NO_SAMPLE_DATA")]
        no_sample_data: bool,
        /// Longest a request may take before it is answered with 503, in seconds.
        #[arg(long, env = "TSUNAGU_REQUEST_TIMEOUT_SECS", default_value_t = 10)]
        request_timeout_secs: u64,
        /// Availability older than this many days is marked stale in responses.
        #[arg(long, env = "TSUNAGU_AVAILABILITY_STALE_DAYS", default_value_t = 30)]
        availability_stale_days: u32,
        /// A record confirmed (or published by its source) within this many days is "fresh".
        #[arg(long, env = "TSUNAGU_FRESH_DAYS", default_value_t = 365)]
        fresh_days: u32,
        /// Older than this many days a record is "stale" (in between: "aging").
        #[arg(long, env = "TSUNAGU_STALE_DAYS", default_value_t = 730)]
        stale_days: u32,
        /// Public reports ("this is wrong") accepted per client per 10 minutes.
        #[arg(long, env = "TSUNAGU_REPORTS_PER_CLIENT", default_value_t = 5)]
        reports_per_client: usize,
        /// The address providers reach this server at, printed on survey letters (default: the
        /// listening address).
        #[arg(long, env = "TSUNAGU_PUBLIC_URL")]
        public_url: Option<String>,
        /// The centre's contact line on survey letters (name, phone, FAX, hours).
        #[arg(long, env = "TSUNAGU_CENTRE_CONTACT", default_value = DEFAULT_CENTRE)]
        centre_contact: String,
        /// Most connections open at once (more wait in the kernel's backlog).
        #[arg(long, env = "TSUNAGU_MAX_CONNECTIONS", default_value_t = 1024)]
        max_connections: usize,
        /// Most connections from one address (0: no limit — behind a reverse proxy every client
        /// has the proxy's address).
        #[arg(long, env = "TSUNAGU_MAX_CONNECTIONS_PER_CLIENT", default_value_t = 64)]
        max_connections_per_client: usize,
        /// A connection that sends and takes nothing for this many seconds is closed (a header
        /// that stops arriving, an idle keep-alive).
        #[arg(long, env = "TSUNAGU_IDLE_TIMEOUT_SECS", default_value_t = 60)]
        idle_timeout_secs: u64,
        /// Stop when standard input closes (used by tests that own the process).
        #[arg(long, hide = true)]
        stop_on_stdin_eof: bool,
    },
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

fn index_path(data_dir: &Path) -> PathBuf {
    data_dir.join("index")
}

async fn open_store(data_dir: &Path) -> anyhow::Result<Arc<dyn Store>> {
    let store = SqliteStore::open(&db_path(data_dir))
        .await
        .with_context(|| format!("opening the store in {}", data_dir.display()))?;
    Ok(Arc::new(store))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // The places every command works with: made once, here, and passed to whoever needs them.
    let places = Places::bundled();
    match cli.command {
        Command::Serve {
            addr,
            no_sample_data,
            request_timeout_secs,
            availability_stale_days,
            fresh_days,
            stale_days,
            reports_per_client,
            public_url,
            centre_contact,
            max_connections,
            max_connections_per_client,
            idle_timeout_secs,
            stop_on_stdin_eof,
        } => {
            if fresh_days > stale_days {
                bail!("--fresh-days ({fresh_days}) must not exceed --stale-days ({stale_days})");
            }
            let config = ApiConfig {
                request_timeout: Duration::from_secs(request_timeout_secs.max(1)),
                serve_sample_data: !no_sample_data,
                availability_stale_days,
                fresh_days,
                stale_days,
                reports_per_client,
                public_url: public_url.unwrap_or_else(|| format!("http://{addr}")),
                centre_contact,
            };
            let limits = listener::Limits {
                total: max_connections.max(1),
                per_client: max_connections_per_client,
                idle: Duration::from_secs(idle_timeout_secs.max(1)),
            };
            serve(places, &cli.data_dir, addr, config, limits, stop_on_stdin_eof).await
        }
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

async fn serve(
    places: Places,
    data_dir: &Path,
    addr: SocketAddr,
    config: ApiConfig,
    limits: listener::Limits,
    stop_on_stdin_eof: bool,
) -> anyhow::Result<()> {
    let no_sample_data = !config.serve_sample_data;
    let started = Instant::now();
    let store = open_store(data_dir).await?;
    let loaded_bundled = store.state().await?.count == 0;
    if loaded_bundled {
        // The bundled real records, through the same CSV import path as `tsunagu import`.
        let real = tsunagu_exchange::bundled::real_records(&places).map_err(anyhow::Error::msg)?;
        let s = store.upsert(&real, "system:bundled-real-data").await?;
        tracing::info!(
            created = s.created,
            "empty store: loaded the bundled real records (厚生労働省, WAM NET open data)"
        );
        if !no_sample_data {
            let samples = tsunagu_sample::bundled().map_err(anyhow::Error::msg)?;
            let s = store.upsert(&samples, "system:bundled-sample-data").await?;
            tracing::info!(
                created = s.created,
                "empty store: loaded the bundled sample data (every record is marked sample: true)"
            );
        }
    }
    if loaded_bundled {
        let linked = tsunagu_directory::sites::relink(store.as_ref()).await?;
        tracing::info!(records = linked.linked, sites = linked.sites, "linked records of one site");
    }
    let (directory, readiness) = Directory::open(store, places.gazetteer, &index_path(data_dir)).await?;
    match &readiness {
        IndexReadiness::Current => tracing::info!("index is current"),
        IndexReadiness::CaughtUp { changes } => tracing::info!(changes, "index caught up with the store"),
        IndexReadiness::Rebuilt { reason } => tracing::info!(%reason, "index rebuilt"),
    }
    let directory = Arc::new(directory);
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
    let local = listener.local_addr()?;
    let mut config = config;
    // Port 0 picks a free port: letters then carry the one chosen.
    if config.public_url == format!("http://{addr}") {
        config.public_url = format!("http://{local}");
    }
    let state = AppState::new(directory.clone(), places, config);
    let count = directory.index.len();
    println!(
        "tsunagu listening on http://{local} ({count} resources, ready in {:.2} s)",
        started.elapsed().as_secs_f64()
    );

    // Writes by other processes (e.g. `tsunagu import`) become searchable within about a second.
    let follower = tokio::spawn({
        let directory = directory.clone();
        async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                match directory.catch_up().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(changes = n, "index caught up with store writes"),
                    Err(e) => tracing::warn!(error = %e, "could not catch the index up with the store"),
                }
            }
        }
    });

    // (tap_io: axum gives the peer address to handlers for any listener wrapped so.)
    let listener = axum::serve::ListenerExt::tap_io(listener::LimitedListener::new(listener, limits), |_| {});
    axum::serve(listener, tsunagu_api::router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal(stop_on_stdin_eof))
        .await?;
    follower.abort();
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal(stop_on_stdin_eof: bool) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    let stdin_eof = async {
        if stop_on_stdin_eof {
            let _ = tokio::task::spawn_blocking(|| {
                let mut sink = Vec::new();
                let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
            })
            .await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
        _ = stdin_eof => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
