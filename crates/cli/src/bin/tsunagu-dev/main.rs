//! `tsunagu-dev`: for developers, not for a centre — the benchmark harness on the shared workload
//! (`../shared/bench/gen.py`, see BENCHMARKS.md) with its HTTP load driver, and the sample-data
//! generator.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

mod bench;

#[derive(Parser)]
#[command(name = "tsunagu-dev", version, about = "tsunagu developer tools: benchmarks and sample data")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Benchmarks on the shared workload (`../shared/bench/gen.py`); see BENCHMARKS.md.
    Bench {
        #[command(subcommand)]
        action: BenchAction,
    },
    /// Write the generated sample data (JSON Lines).
    Sample {
        #[arg(long, default_value_t = tsunagu_sample::DEFAULT_SEED)]
        seed: u64,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum BenchAction {
    /// Import the workload (`gen.py data N`) through the import pipeline into an emptied
    /// --data-dir, build the index, then run the five query types (`gen.py queries`) in-process
    /// on one thread and on --threads threads. Prints a table; --out writes JSON.
    Run {
        /// Workload records (JSON Lines from `gen.py data N`).
        #[arg(long)]
        data: PathBuf,
        /// Query parameters (`gen.py queries`).
        #[arg(long)]
        queries: PathBuf,
        /// Directory to build the store and index in (a data directory `tsunagu serve --data-dir`
        /// can serve afterwards). Emptied first, so it must be new, empty or a previous bench's.
        #[arg(long)]
        work: PathBuf,
        /// Parameter sets per query type.
        #[arg(long, default_value_t = 2000)]
        count: usize,
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Results as JSON.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Answers to the first 100 queries per type, comparable with `sqlite_peer.py check`.
        #[arg(long)]
        check_out: Option<PathBuf>,
        /// A label for the run (e.g. 1m).
        #[arg(long)]
        label: Option<String>,
        /// Skip the import and the index build: query the store and index a previous
        /// `tsunagu-dev bench run` left in --work (to re-measure the queries after an engine change).
        #[arg(long)]
        reuse: bool,
        /// Only these query types (comma-separated, e.g. q3,q5); all five by default.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
    /// Load a running `tsunagu serve` on this machine with a mix of /v1/search requests, for at
    /// most --duration-secs and --max-requests.
    Http {
        /// The server (loopback only).
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        #[arg(long)]
        queries: PathBuf,
        /// Keep-alive connections, each sending its next request when the last one is answered.
        #[arg(long, default_value_t = 8)]
        connections: usize,
        #[arg(long, default_value_t = 20)]
        duration_secs: u64,
        #[arg(long, default_value_t = 1_000_000)]
        max_requests: usize,
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        label: Option<String>,
        /// Offer this many requests per second (open loop) instead of a closed loop; use more
        /// connections than the server serves at once.
        #[arg(long)]
        rate: Option<f64>,
        /// Count 503 answers (load shed by the server) instead of failing on them.
        #[arg(long)]
        allow_shed: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tantivy=warn,sqlx=warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Bench {
            action: BenchAction::Run { data, queries, work, count, threads, out, check_out, label, reuse, only },
        } => {
            bench::run(bench::RunArgs { data, queries, work, count, threads, out, check_out, label, reuse, only }).await
        }
        Command::Bench {
            action:
                BenchAction::Http { addr, queries, connections, duration_secs, max_requests, out, label, rate, allow_shed },
        } => {
            bench::http::run(bench::http::HttpArgs {
                addr,
                queries,
                connections,
                duration: Duration::from_secs(duration_secs),
                max_requests,
                out,
                label,
                rate: rate.filter(|r| *r > 0.0),
                allow_shed,
            })
            .await
        }
        Command::Sample { seed, out } => {
            let text = tsunagu_sample::to_jsonl(&tsunagu_sample::generate(tsunagu_places::Gazetteer::bundled(), seed));
            match out {
                Some(p) => std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?,
                None => print!("{text}"),
            }
            Ok(())
        }
    }
}
