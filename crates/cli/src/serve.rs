//! `tsunagu serve`: its settings and the server's life (start, follow other processes' writes,
//! stop gracefully).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use tsunagu_api::clients::TrustedProxies;
use tsunagu_api::limits::LimitConfig;
use tsunagu_api::{ApiConfig, AppState};
use tsunagu_directory::{Directory, IndexReadiness};
use tsunagu_places::Places;

use crate::listener;

pub(crate) const DEFAULT_CENTRE: &str = "医療的ケア児支援センター（連絡先を設定してください: --centre-contact）";

#[derive(Args)]
pub struct ServeArgs {
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
    /// The address providers reach this server at, printed on survey letters (default: the
    /// listening address).
    #[arg(long, env = "TSUNAGU_PUBLIC_URL")]
    public_url: Option<String>,
    /// A power supply point's status older than this many hours is shown as stale.
    #[arg(long, env = "TSUNAGU_POWER_STATUS_STALE_HOURS", default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=720))]
    power_status_stale_hours: u32,
    /// The centre's contact line on survey letters (name, phone, FAX, hours).
    #[arg(long, env = "TSUNAGU_CENTRE_CONTACT", default_value = DEFAULT_CENTRE)]
    centre_contact: String,
    #[command(flatten)]
    limits: LimitArgs,
    /// Stop when standard input closes (used by tests that own the process).
    #[arg(long, hide = true)]
    stop_on_stdin_eof: bool,
}

/// How much one client, and everyone at once, may ask of the server.
#[derive(Args)]
#[command(next_help_heading = "Limits")]
struct LimitArgs {
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
    /// A request body that sends nothing for this many seconds is answered 408.
    #[arg(long, env = "TSUNAGU_BODY_TIMEOUT_SECS", default_value_t = 10)]
    body_timeout_secs: u64,
    /// Requests served at once; more are answered 503 with Retry-After at once (0: no limit).
    /// The default is 16 per CPU core.
    #[arg(long, env = "TSUNAGU_MAX_IN_FLIGHT", default_value_t = LimitConfig::default().max_in_flight)]
    max_in_flight: usize,
    /// Requests per second one client may make on average (0: no limit).
    #[arg(long, env = "TSUNAGU_REQUESTS_PER_CLIENT_PER_SEC", default_value_t = LimitConfig::default().requests_per_sec)]
    requests_per_client_per_sec: u32,
    /// Requests one client may make at once above that rate.
    #[arg(long, env = "TSUNAGU_REQUEST_BURST", default_value_t = LimitConfig::default().request_burst)]
    request_burst: u32,
    /// Public reports ("this is wrong") accepted per client per 10 minutes.
    #[arg(long, env = "TSUNAGU_REPORTS_PER_CLIENT", default_value_t = LimitConfig::default().reports_per_client)]
    reports_per_client: u32,
    /// Public reports accepted per network (IPv4 /24, IPv6 /48) per hour.
    #[arg(long, env = "TSUNAGU_REPORTS_PER_NETWORK", default_value_t = LimitConfig::default().reports_per_network)]
    reports_per_network: u32,
    /// Reverse proxies (addresses or CIDR networks, comma-separated) whose X-Forwarded-For
    /// names the client, e.g. 127.0.0.1,10.0.0.0/8. Others' X-Forwarded-For is ignored.
    #[arg(long, env = "TSUNAGU_TRUSTED_PROXIES", default_value = "")]
    trusted_proxies: String,
}

impl ServeArgs {
    /// The address, the API's settings, the listener's limits and whether to stop on stdin EOF.
    fn settings(self) -> anyhow::Result<(SocketAddr, ApiConfig, listener::Limits, bool)> {
        let ServeArgs {
            addr,
            no_sample_data,
            request_timeout_secs,
            availability_stale_days,
            fresh_days,
            stale_days,
            public_url,
            power_status_stale_hours,
            centre_contact,
            limits: l,
            stop_on_stdin_eof,
        } = self;
        if fresh_days > stale_days {
            bail!("--fresh-days ({fresh_days}) must not exceed --stale-days ({stale_days})");
        }
        let trusted_proxies =
            TrustedProxies::parse(&l.trusted_proxies).map_err(|e| anyhow::anyhow!("--trusted-proxies: {e}"))?;
        let config = ApiConfig {
            request_timeout: Duration::from_secs(request_timeout_secs.max(1)),
            serve_sample_data: !no_sample_data,
            availability_stale_days,
            fresh_days,
            stale_days,
            limits: LimitConfig {
                requests_per_sec: l.requests_per_client_per_sec,
                request_burst: l.request_burst,
                max_in_flight: l.max_in_flight,
                body_timeout: Duration::from_secs(l.body_timeout_secs.max(1)),
                reports_per_client: l.reports_per_client,
                reports_per_network: l.reports_per_network,
            },
            trusted_proxies,
            public_url: public_url.unwrap_or_else(|| format!("http://{addr}")),
            centre_contact,
            power_status_stale_hours,
        };
        let limits = listener::Limits {
            total: l.max_connections.max(1),
            per_client: l.max_connections_per_client,
            idle: Duration::from_secs(l.idle_timeout_secs.max(1)),
        };
        Ok((addr, config, limits, stop_on_stdin_eof))
    }
}

/// Open the store and the index (loading the bundled records into an empty store), then serve
/// until SIGTERM, Ctrl-C or (for tests) the end of standard input.
pub async fn serve(places: Places, data_dir: &Path, args: ServeArgs) -> anyhow::Result<()> {
    let (addr, config, limits, stop_on_stdin_eof) = args.settings()?;
    let no_sample_data = !config.serve_sample_data;
    let started = Instant::now();
    let store = crate::open_store(data_dir).await?;
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
    let (directory, readiness) = Directory::open(store, places.gazetteer, &crate::index_path(data_dir)).await?;
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
                    Ok(n) => {
                        tsunagu_api::metrics::index_followed(n as u64);
                        tracing::info!(changes = n, "index caught up with store writes");
                    }
                    Err(e) => tracing::warn!(error = %e, "could not catch the index up with the store"),
                }
            }
        }
    });

    // The rate limiters forget clients that have been quiet (memory follows recent clients).
    let forgetter = tokio::spawn({
        let limits = state.limits.clone();
        async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                limits.forget_idle();
            }
        }
    });

    // (tap_io: axum gives the peer address to handlers for any listener wrapped so.)
    let listener = axum::serve::ListenerExt::tap_io(listener::LimitedListener::new(listener, limits), |_| {});
    axum::serve(listener, tsunagu_api::router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal(stop_on_stdin_eof))
        .await?;
    follower.abort();
    forgetter.abort();
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
