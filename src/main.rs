//! The `settle` command: a thin layer that parses arguments, sets up logging, calls the library
//! and turns the outcome into a summary and an exit code.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use settle::calendar::Month;
use settle::generate::{self, GenerateRequest};
use settle::ledger::{Ledger, LedgerBusy};
use settle::policy::Policy;
use settle::run::{self, CorrectionNeeded, RunOutcome, RunRequest};
use settle::verify;

/// Exit codes, documented in the README. Clap exits with 2 on a usage error.
mod exit {
    pub const SUCCESS: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const PUBLISHED_WITH_REJECTIONS: u8 = 3;
    pub const LEDGER_LOCKED: u8 = 4;
    pub const LATER_MONTHS_STALE: u8 = 5;
    pub const CORRECTION_NEEDED: u8 = 6;
}

const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (policy defaults: spec-2015, SPEC.md)"
);

#[derive(Parser)]
#[command(name = "settle", version, long_version = LONG_VERSION, about, after_help = "\
Exit codes: 0 success; 1 failed, nothing published; 2 usage error;
            3 published, with rejected rows; 4 the ledger is locked by another run;
            5 published, and later months must now be corrected in order;
            6 refused: the month is published from other inputs, pass --correction.")]
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

    /// Show each month's versions, their correction reasons, and which months are stale.
    #[command(after_help = "Example:\n  settle status --ledger ledger")]
    Status {
        /// The ledger folder.
        #[arg(long)]
        ledger: PathBuf,
    },

    /// Re-read published versions: file hashes against the manifest, and the control totals.
    #[command(after_help = "Example:\n  settle verify --ledger ledger --month 2015-12")]
    Verify {
        /// The ledger folder.
        #[arg(long)]
        ledger: PathBuf,

        /// Only this month's versions (default: every month).
        #[arg(long)]
        month: Option<Month>,
    },

    /// Write seeded sample months of orders and claims, worked examples of SPEC.md included, or
    /// with --bulk one large month for benchmarks.
    #[command(after_help = "\
Examples:
  settle generate --out sample_data --from 2015-10 --through 2016-01 --seed 20151007
  settle generate --bulk 10000000 --month 2016-03 --out bench/data/10000000")]
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

    /// Publish a new version of a month already published from other inputs or policy, with
    /// adjustment files holding the differences; REASON is recorded in the manifest.
    #[arg(long, value_name = "REASON")]
    correction: Option<String>,
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

    /// Write one large month of this many orders instead, in row groups of a million, with
    /// about one client per 6 orders, one lancer per 4 and a claim on one order in 200.
    #[arg(long, value_name = "ORDERS", conflicts_with_all = ["from", "through", "orders_per_month"])]
    bulk: Option<u64>,

    /// The month of a --bulk month.
    #[arg(long, default_value = "2016-03", requires = "bulk")]
    month: Month,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format, &cli.log_level);

    let result = match cli.command {
        Command::Run(args) => run_month(args),
        Command::Generate(args) => generate_months(args),
        Command::Status { ledger } => show_status(&ledger),
        Command::Verify { ledger, month } => verify_ledger(&ledger, month),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            if error.downcast_ref::<LedgerBusy>().is_some() {
                ExitCode::from(exit::LEDGER_LOCKED)
            } else if error.downcast_ref::<CorrectionNeeded>().is_some() {
                ExitCode::from(exit::CORRECTION_NEEDED)
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
        correction: args.correction,
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
            if !summary.stale_later_months.is_empty() {
                eprintln!("these later months now start from other holds; correct each, in order:");
                for stale in &summary.stale_later_months {
                    eprintln!(
                        "  {} v{}: {}\n    settle run --month {} ... --correction \"{} corrected\"",
                        stale.month, stale.version, stale.reason, stale.month, summary.month
                    );
                }
                return Ok(exit::LATER_MONTHS_STALE);
            }
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

fn show_status(ledger: &std::path::Path) -> anyhow::Result<u8> {
    let ledger = Ledger::open_existing(ledger)?;
    let stale = ledger.stale_months()?;
    let months = ledger.months()?;
    if months.is_empty() {
        println!("{} holds no published month", ledger.root().display());
    }
    for month in months {
        let stale_note = match stale.iter().find(|s| s.month == month) {
            Some(s) => format!("  STALE: {}", s.reason),
            None => String::new(),
        };
        println!("{month}{stale_note}");
        for number in ledger.versions(month)? {
            let version = ledger.version(month, number)?;
            let note = match &version.manifest.correction {
                Some(c) => format!("correction of v{}: {}", c.previous_version, c.reason),
                None => "first settlement".to_string(),
            };
            let totals = &version.manifest.totals;
            println!(
                "  v{number}  {note}; {} lines, surcharge ¥{}, payable ¥{}, holds open {}",
                totals.order_lines,
                totals.surcharge_lines_jpy,
                totals.payable_jpy,
                totals.holds_closing.count
            );
        }
    }
    Ok(if stale.is_empty() {
        exit::SUCCESS
    } else {
        exit::LATER_MONTHS_STALE
    })
}

fn verify_ledger(ledger: &std::path::Path, month: Option<Month>) -> anyhow::Result<u8> {
    let ledger = Ledger::open_existing(ledger)?;
    let report = verify::verify(&ledger, month)?;
    for problem in &report.problems {
        println!("{problem}");
    }
    println!(
        "verified {} versions: {} problems",
        report.versions_checked,
        report.problems.len()
    );
    Ok(if report.problems.is_empty() {
        exit::SUCCESS
    } else {
        exit::FAILED
    })
}

fn generate_months(args: GenerateArgs) -> anyhow::Result<u8> {
    if let Some(orders) = args.bulk {
        let written = generate::bulk::generate_bulk(&generate::bulk::BulkRequest {
            out: args.out,
            month: args.month,
            orders,
            seed: args.seed,
        })?;
        eprintln!("{written}");
        return Ok(exit::SUCCESS);
    }
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
