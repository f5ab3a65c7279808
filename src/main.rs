//! The `settle` command: a thin layer that parses arguments, sets up logging, calls the library
//! and turns the outcome into a summary and an exit code.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use settle::calendar::Month;
use settle::generate::{self, GenerateRequest};
use settle::ledger::LedgerBusy;
use settle::policy::Policy;
use settle::run::{self, RunOutcome, RunRequest};

/// Exit codes, documented in the README. Clap exits with 2 on a usage error.
mod exit {
    pub const SUCCESS: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const PUBLISHED_WITH_REJECTIONS: u8 = 3;
    pub const LEDGER_LOCKED: u8 = 4;
}

const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (policy defaults: spec-2015, SPEC.md)"
);

#[derive(Parser)]
#[command(name = "settle", version, long_version = LONG_VERSION, about, after_help = "\
Exit codes: 0 success; 1 failed, nothing published; 2 usage error;
            3 published, with rejected rows; 4 the ledger is locked by another run.")]
struct Cli {
    #[command(subcommand)]
    command: Command,

    /// Log lines as readable text or as one JSON object per line.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,

    /// Log level (error, warn, info, debug, trace); SETTLE_LOG overrides it.
    #[arg(long, global = true, default_value = "info")]
    log_level: String,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Settle one month and publish its files as a new ledger version.
    #[command(after_help = "\
Example:
  settle run --month 2015-10 --orders sample_data/2015-10/orders.parquet \\
      --claims sample_data/2015-10/claims.parquet --ledger ledger")]
    Run(RunArgs),

    /// Write seeded sample months of orders and claims, worked examples of SPEC.md included.
    #[command(after_help = "\
Example:
  settle generate --out sample_data --from 2015-10 --through 2016-01 --seed 20151007")]
    Generate(GenerateArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// The month to settle, YYYY-MM (months are Asia/Tokyo calendar months).
    #[arg(long)]
    month: Month,

    /// Orders: Parquet files or folders of part files.
    #[arg(long, required = true, num_args = 1..)]
    orders: Vec<PathBuf>,

    /// The claims register: a Parquet file or a folder of part files.
    #[arg(long, required = true, num_args = 1..)]
    claims: Vec<PathBuf>,

    /// The ledger folder; versions are published in LEDGER/YYYY-MM/vN/.
    #[arg(long)]
    ledger: PathBuf,

    /// A policy file (see jobs/policy.toml); the default is SPEC.md's.
    #[arg(long)]
    policy: Option<PathBuf>,

    /// Fail, publishing nothing, when any input row is rejected.
    #[arg(long)]
    strict: bool,
}

#[derive(clap::Args)]
struct GenerateArgs {
    /// Folder to write YYYY-MM/orders.parquet and YYYY-MM/claims.parquet into.
    #[arg(long)]
    out: PathBuf,

    /// First month to write.
    #[arg(long, default_value = "2015-10")]
    from: Month,

    /// Last month to write.
    #[arg(long, default_value = "2016-01")]
    through: Month,

    /// Seed of the random population; the same seed writes the same files.
    #[arg(long, default_value_t = 20151007)]
    seed: u64,

    /// Random orders per month, besides the worked examples.
    #[arg(long, default_value_t = 300)]
    orders_per_month: usize,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format, &cli.log_level);

    let result = match cli.command {
        Command::Run(args) => run_month(args),
        Command::Generate(args) => generate_months(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            if error.downcast_ref::<LedgerBusy>().is_some() {
                ExitCode::from(exit::LEDGER_LOCKED)
            } else {
                ExitCode::from(exit::FAILED)
            }
        }
    }
}

fn init_logging(format: LogFormat, level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SETTLE_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_target(false).init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn run_month(args: RunArgs) -> anyhow::Result<u8> {
    let policy = match &args.policy {
        Some(path) => Policy::load(path)?,
        None => Policy::default(),
    };
    let request = RunRequest {
        month: args.month,
        orders: args.orders,
        claims: args.claims,
        ledger: args.ledger,
        policy,
        strict: args.strict,
    };
    match run::run(&request)? {
        RunOutcome::Unchanged { month, version } => {
            eprintln!(
                "{month} is already published as v{version} from the same inputs and policy; \
                 nothing new was written"
            );
            Ok(exit::SUCCESS)
        }
        RunOutcome::Published(summary) => {
            for warning in &summary.warnings {
                eprintln!("warning: {warning}");
            }
            eprintln!("{summary}");
            if summary.rows_rejected() > 0 {
                eprintln!(
                    "{} rows were rejected; see {}",
                    summary.rows_rejected(),
                    summary
                        .folder
                        .join(settle::output::REJECTED_ROWS_FILE)
                        .display()
                );
                Ok(exit::PUBLISHED_WITH_REJECTIONS)
            } else {
                Ok(exit::SUCCESS)
            }
        }
    }
}

fn generate_months(args: GenerateArgs) -> anyhow::Result<u8> {
    let request = GenerateRequest {
        out: args.out,
        first: args.from,
        last: args.through,
        seed: args.seed,
        orders_per_month: args.orders_per_month,
    };
    let written = generate::generate(&request)?;
    for month in &written {
        eprintln!("{month}");
    }
    Ok(exit::SUCCESS)
}
