//! The `settle` command: a thin layer that parses arguments, sets up logging, calls the library
//! and turns the outcome into a summary and an exit code.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use settle::backfill;
use settle::calendar::Month;
use settle::generate::{self, GenerateRequest};
use settle::job::{Flags, Job, JobSettings, MonthArg, UsageError};
use settle::ledger::{Ledger, LedgerBusy};
use settle::money::yen;
use settle::progress::Progress;
use settle::report;
use settle::run::{self, CorrectionNeeded, RunOutcome, RunSettings, RunSummary};
use settle::verify;

/// Exit codes, documented in the README. Clap exits with 2 on a usage error.
mod exit {
    pub const SUCCESS: u8 = 0;
    pub const FAILED: u8 = 1;
    /// Also what clap exits with when the arguments cannot be parsed.
    pub const USAGE: u8 = 2;
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
Examples:
  settle run --job jobs/monthly.toml --month 2015-10
  settle run --job jobs/monthly.toml --through previous      # month end, backfills gaps
  settle run --job jobs/monthly.toml --provisional --month current   # nightly
  settle report --ledger ledger --month 2015-12 --out report.html
  settle status --ledger ledger

Exit codes: 0 success; 1 failed, nothing published; 2 usage error;
            3 published, with rejected rows; 4 the ledger is locked by another run (retry later);
            5 published, and later months must now be corrected in order;
            6 refused: the month is published from other inputs, pass --correction.
A scheduler treats 0 and 3 as success.")]
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
    /// Settle a month and publish it as a new ledger version; or backfill a range of months
    /// (--through); or settle the month so far without publishing (--provisional).
    #[command(after_help = "\
Examples:
  # One month, every path on the command line
  settle run --month 2015-10 --orders sample_data/2015-10/orders.parquet \\
      --claims sample_data/2015-10/claims.parquet --ledger ledger

  # One month from a job file (paths with {month}, the ledger, the policy)
  settle run --job jobs/monthly.toml --month 2015-10

  # Month end: every month from the first unsettled one through last month, in order
  settle run --job jobs/monthly.toml --through previous

  # Nightly: the current month so far, into LEDGER/provisional/YYYY-MM/
  settle run --job jobs/monthly.toml --provisional --month current

  # A correction of a published month
  settle run --job jobs/monthly.toml --month 2015-12 --correction \"claim K-1 was approved\"

Months are Asia/Tokyo calendar months: YYYY-MM, or `current` / `previous` for the Tokyo month
of the moment the command starts and the one before it. Flags override the job file.")]
    Run(RunArgs),

    /// Show each month's versions, their correction reasons, which months are stale, and the
    /// provisional settlements.
    #[command(after_help = "Example:\n  settle status --ledger ledger")]
    Status {
        /// The ledger folder.
        #[arg(long)]
        ledger: PathBuf,
    },

    /// Re-read published versions: file hashes against the manifest, and the control totals.
    #[command(after_help = "\
Examples:
  settle verify --ledger ledger
  settle verify --ledger ledger --month 2015-12")]
    Verify {
        /// The ledger folder.
        #[arg(long)]
        ledger: PathBuf,

        /// Only this month's versions (default: every month).
        #[arg(long)]
        month: Option<Month>,
    },

    /// The finance report of a settled month: totals by coverage reason, holds and their
    /// ages, the largest payouts, rejected rows, and for a correction what changed.
    #[command(after_help = "\
Examples:
  # The newest version of December as text
  settle report --ledger ledger --month 2015-12

  # One self-contained HTML file with charts, viewable offline
  settle report --ledger ledger --month 2015-12 --format html --out report-2015-12.html

  # The nightly provisional settlement of the current month
  settle report --ledger ledger --month current --provisional --out provisional.html

Every total is recomputed from the published files and must equal the manifest's; a report
whose files do not tie is refused (exit 1).")]
    Report(ReportArgs),

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
    /// A job file naming the ledger, the orders and claims paths with {month}, the policy and
    /// the zone of naive timestamps (see jobs/monthly.toml). Flags override it.
    #[arg(long, value_name = "FILE")]
    job: Option<PathBuf>,

    /// The month to settle: YYYY-MM, `current` or `previous`. With --through, where the
    /// backfill may start (it never skips an unsettled month).
    #[arg(long, value_name = "MONTH", required_unless_present = "through")]
    month: Option<MonthArg>,

    /// Backfill: settle every month from the first unsettled one through MONTH, in order,
    /// skipping months already published from the same inputs, stopping at the first failure.
    #[arg(long, value_name = "MONTH", conflicts_with_all = ["provisional", "correction"])]
    through: Option<MonthArg>,

    /// Settle the month so far into LEDGER/provisional/YYYY-MM/, replacing the previous
    /// provisional files; never a ledger version, never read by the payments system.
    #[arg(long, conflicts_with = "correction")]
    provisional: bool,

    /// Orders: Parquet files or folders of part files; {month} becomes the month.
    #[arg(long, num_args = 1.., value_name = "PATH")]
    orders: Vec<PathBuf>,

    /// The claims register: a Parquet file or a folder of part files; {month} becomes the month.
    #[arg(long, num_args = 1.., value_name = "PATH")]
    claims: Vec<PathBuf>,

    /// The ledger folder; versions are published in LEDGER/YYYY-MM/vN/.
    #[arg(long, value_name = "DIR")]
    ledger: Option<PathBuf>,

    /// A policy file (see jobs/policy.toml); the default is SPEC.md's.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,

    /// The IANA zone of timestamps written without one (replaces the policy's setting).
    #[arg(long, value_name = "ZONE")]
    naive_timestamp_zone: Option<String>,

    /// Fail, publishing nothing, when any input row is rejected.
    #[arg(long)]
    strict: bool,

    /// Start CSV files with a UTF-8 byte order mark, for spreadsheet programs set to Japanese.
    /// It changes no amount, so a month already published without it is not republished.
    #[arg(long)]
    csv_bom: bool,

    /// Publish a new version of a month already published from other inputs or policy, with
    /// adjustment files holding the differences; REASON is recorded in the manifest.
    #[arg(long, value_name = "REASON")]
    correction: Option<String>,
}

#[derive(clap::Args)]
struct ReportArgs {
    /// The ledger folder.
    #[arg(long, value_name = "DIR")]
    ledger: PathBuf,

    /// The month: YYYY-MM, `current` or `previous`.
    #[arg(long, value_name = "MONTH")]
    month: MonthArg,

    /// The version to report on (default: the newest).
    #[arg(long, value_name = "N", conflicts_with = "provisional")]
    version: Option<u32>,

    /// Report on the month's provisional settlement instead of a version.
    #[arg(long)]
    provisional: bool,

    /// text or html (default: html when --out ends in .html, text otherwise).
    #[arg(long, value_enum)]
    format: Option<ReportFormat>,

    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportFormat {
    Text,
    Html,
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
    #[arg(
        long,
        value_name = "ORDERS",
        conflicts_with_all = ["from", "through", "orders_per_month", "encoding"]
    )]
    bulk: Option<u64>,

    /// The month of a --bulk month.
    #[arg(long, default_value = "2016-03", requires = "bulk")]
    month: Month,

    /// Write the orders in one of the encodings SPEC §7 accepts (INT96 timestamps, decimal
    /// amounts, ...), to check that a month settles the same however it is written. An unknown
    /// name lists them all.
    #[arg(long, value_name = "NAME")]
    encoding: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format, &cli.log_level);

    quiet_panics();

    let outcome = std::panic::catch_unwind(|| match cli.command {
        Command::Run(args) => run_command(args),
        Command::Generate(args) => generate_months(args),
        Command::Status { ledger } => show_status(&ledger),
        Command::Verify { ledger, month } => verify_ledger(&ledger, month),
        Command::Report(args) => write_report(args),
    });
    let result = outcome.unwrap_or_else(|_| {
        Err(anyhow::anyhow!(
            "internal error: {}; nothing was published",
            LAST_PANIC.lock().map(|m| m.clone()).unwrap_or_default()
        ))
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(exit_code_of(&error))
        }
    }
}

/// The last panic's message and place, for the one-line error that replaces a stack trace.
static LAST_PANIC: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

/// Replaces the default panic output with a record of the message.
///
/// The Parquet libraries panic on some damaged files; the reader catches those and reports the
/// file as damaged, so their panic text would only be noise before a clear error. A panic
/// that is not caught ends the command through `main`, which prints the recorded message.
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("a panic without a message");
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()));
        let recorded = format!("{message}{}", place.unwrap_or_default());
        tracing::debug!(panic = %recorded, "caught panic");
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = recorded;
        }
    }));
}

fn exit_code_of(error: &anyhow::Error) -> u8 {
    if error.downcast_ref::<LedgerBusy>().is_some() {
        exit::LEDGER_LOCKED
    } else if error.downcast_ref::<CorrectionNeeded>().is_some() {
        exit::CORRECTION_NEEDED
    } else if error.downcast_ref::<UsageError>().is_some() {
        exit::USAGE
    } else {
        exit::FAILED
    }
}

fn init_logging(format: LogFormat, level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SETTLE_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_target(false).init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// The instant the command started, for `current` and `previous`.
fn now_ns() -> i64 {
    chrono::Utc::now()
        .timestamp_nanos_opt()
        .expect("the clock reads a year between 1677 and 2262")
}

fn run_command(args: RunArgs) -> anyhow::Result<u8> {
    let job = args.job.as_deref().map(Job::load).transpose()?;
    let flags = Flags {
        ledger: args.ledger.clone(),
        orders: args.orders.clone(),
        claims: args.claims.clone(),
        policy: args.policy.clone(),
        naive_timestamp_zone: args.naive_timestamp_zone.clone(),
        strict: args.strict,
        csv_bom: args.csv_bom,
    };
    let settings = JobSettings::resolve(job.as_ref(), flags)?;
    let run_settings = RunSettings {
        csv: settings.csv,
        progress: Progress::for_stderr(),
    };
    let now = now_ns();
    let month = args.month.map(|m| m.resolve(now));

    if let Some(through) = args.through {
        return backfill_months(&args, &settings, month, through.resolve(now), run_settings);
    }
    let month = month.expect("clap requires --month without --through");
    let request = settings.request(month, args.correction.clone());
    if args.provisional {
        let summary = run::run_provisional(&request, run_settings)?;
        return Ok(report_published(&summary));
    }
    match run::run_with(&request, run_settings)? {
        RunOutcome::Unchanged { month, version } => {
            eprintln!(
                "{month} is already published as v{version} from the same inputs and policy; \
                 nothing new was written"
            );
            Ok(exit::SUCCESS)
        }
        RunOutcome::Published(summary) => Ok(report_published(&summary)),
    }
}

/// Prints a published (or provisional) month's summary and returns its exit code.
fn report_published(summary: &RunSummary) -> u8 {
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
        return exit::LATER_MONTHS_STALE;
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
        exit::PUBLISHED_WITH_REJECTIONS
    } else {
        exit::SUCCESS
    }
}

fn backfill_months(
    args: &RunArgs,
    settings: &JobSettings,
    month: Option<Month>,
    through: Month,
    run_settings: RunSettings,
) -> anyhow::Result<u8> {
    let ledger_months = if settings.ledger.is_dir() {
        Ledger::open_existing(&settings.ledger)?.months()?
    } else {
        Vec::new()
    };
    let from = month.or(if ledger_months.is_empty() {
        settings.first_month
    } else {
        None
    });
    let months = backfill::plan(&ledger_months, from, through)?;
    if months.is_empty() {
        eprintln!(
            "nothing to do: {} is settled through {}",
            settings.ledger.display(),
            ledger_months.last().map_or(through, |m| *m)
        );
        return Ok(exit::SUCCESS);
    }
    eprintln!(
        "backfill: {} months, {} through {through}",
        months.len(),
        months[0]
    );

    let mut code = exit::SUCCESS;
    let request_for = |month| settings.request(month, None);
    let done = backfill::backfill(&months, request_for, run_settings, |settled| match &settled
        .outcome
    {
        RunOutcome::Unchanged { month, version } => {
            eprintln!("{month}: already published as v{version} from the same inputs; skipped")
        }
        RunOutcome::Published(summary) => code = code.max(report_published(summary)),
    });
    if let Some((failed, error)) = &done.failed {
        eprintln!("error: {failed}: {error:#}");
        print_resume(args, *failed, through, error);
        return Ok(exit_code_of(error));
    }
    eprintln!(
        "backfill through {through}: {} months published, {} already published",
        done.published(),
        done.unchanged()
    );
    Ok(code)
}

/// Tells the operator where the backfill stopped and the exact command that resumes it.
fn print_resume(args: &RunArgs, failed: Month, through: Month, error: &anyhow::Error) {
    let resume = resume_command(args, failed, through, None);
    if error.downcast_ref::<CorrectionNeeded>().is_some() {
        eprintln!(
            "stopped at {failed}. If its inputs were meant to change, publish the correction:\n  \
             {}",
            resume_command(args, failed, failed, Some("REASON"))
        );
        if failed < through {
            eprintln!(
                "then resume the backfill with:\n  {}",
                resume_command(args, failed.next(), through, None)
            );
        }
        return;
    }
    if error.downcast_ref::<LedgerBusy>().is_some() {
        eprintln!(
            "stopped at {failed}: another run holds the ledger. When it has finished, resume \
             with:\n  {resume}"
        );
        return;
    }
    eprintln!(
        "stopped at {failed}; the months before it are published. Once {failed} is fixed, \
         resume with:\n  {resume}"
    );
}

/// The command line that runs `from` through `through` with every other setting as given;
/// with a correction reason, the command that corrects `from` alone.
fn resume_command(args: &RunArgs, from: Month, through: Month, correction: Option<&str>) -> String {
    let program = std::env::args()
        .next()
        .unwrap_or_else(|| "settle".to_string());
    let mut words: Vec<String> = vec![program, "run".into()];
    let shown = |path: &PathBuf| path.display().to_string();
    if let Some(job) = &args.job {
        words.extend(["--job".to_string(), shown(job)]);
    }
    words.extend(["--month".to_string(), from.to_string()]);
    match correction {
        Some(reason) => words.extend(["--correction".to_string(), reason.to_string()]),
        None => words.extend(["--through".to_string(), through.to_string()]),
    }
    for (name, paths) in [("--orders", &args.orders), ("--claims", &args.claims)] {
        if !paths.is_empty() {
            words.push(name.to_string());
            words.extend(paths.iter().map(shown));
        }
    }
    let valued = [
        ("--ledger", args.ledger.as_ref().map(shown)),
        ("--policy", args.policy.as_ref().map(shown)),
        ("--naive-timestamp-zone", args.naive_timestamp_zone.clone()),
    ];
    for (name, value) in valued {
        if let Some(value) = value {
            words.extend([name.to_string(), value]);
        }
    }
    for (name, set) in [("--strict", args.strict), ("--csv-bom", args.csv_bom)] {
        if set {
            words.push(name.to_string());
        }
    }
    words
        .iter()
        .map(|w| shell_quoted(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A word as a POSIX shell reads it back unchanged.
fn shell_quoted(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

fn write_report(args: ReportArgs) -> anyhow::Result<u8> {
    let ledger = Ledger::open_existing(&args.ledger)?;
    let month = args.month.resolve(now_ns());
    let which = match (args.provisional, args.version) {
        (true, _) => report::Which::Provisional,
        (false, Some(number)) => report::Which::Version(number),
        (false, None) => report::Which::Newest,
    };
    let format = match (args.format, &args.out) {
        (Some(ReportFormat::Html), _) => report::Format::Html,
        (Some(ReportFormat::Text), _) => report::Format::Text,
        (None, Some(out)) if has_html_extension(out) => report::Format::Html,
        (None, _) => report::Format::Text,
    };
    let built = report::build(&ledger, month, which)?;
    let rendered = built.render(format);
    match &args.out {
        Some(path) => {
            write_atomically(path, rendered.as_bytes())?;
            eprintln!(
                "wrote the report of {} to {}",
                built.title(),
                path.display()
            );
        }
        None => out(format_args!("{rendered}"))?,
    }
    Ok(exit::SUCCESS)
}

/// Writes to stdout. A reader that stops reading early (`settle status | head`) ends the output
/// quietly, as it does for other command-line tools, and the command still returns its own
/// exit code; any other failure to write is an error.
fn out(text: std::fmt::Arguments<'_>) -> anyhow::Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_fmt(text) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(error).context("cannot write to stdout")
        }
        _ => Ok(()),
    }
}

/// `println!` through `out`.
macro_rules! outln {
    ($($arg:tt)*) => {
        out(format_args!("{}\n", format_args!($($arg)*)))?
    };
}

fn has_html_extension(path: &std::path::Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"))
}

/// Writes beside the target and renames over it, so a reader never opens half a report.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    let file_name = path
        .file_name()
        .with_context(|| format!("{} is not a file name", path.display()))?;
    let partial = path.with_file_name(format!(".{}.partial", file_name.to_string_lossy()));
    std::fs::write(&partial, bytes)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("cannot write {}", path.display()))
}

fn show_status(ledger: &std::path::Path) -> anyhow::Result<u8> {
    let ledger = Ledger::open_existing(ledger)?;
    let stale = ledger.stale_months()?;
    let months = ledger.months()?;
    if months.is_empty() {
        outln!("{} holds no published month", ledger.root().display());
    }
    for month in months {
        let stale_note = match stale.iter().find(|s| s.month == month) {
            Some(s) => format!("  STALE: {}", s.reason),
            None => String::new(),
        };
        outln!("{month}{stale_note}");
        for number in ledger.versions(month)? {
            let version = ledger.version(month, number)?;
            let note = match &version.manifest.correction {
                Some(c) => format!("correction of v{}: {}", c.previous_version, c.reason),
                None => "first settlement".to_string(),
            };
            let totals = &version.manifest.totals;
            outln!(
                "  v{number}  {note}; {} lines, surcharge {}, payable {}, holds open {}",
                totals.order_lines,
                yen(totals.surcharge_lines_jpy),
                yen(totals.payable_jpy),
                totals.holds_closing.count
            );
        }
    }
    for month in ledger.provisional_months()? {
        match ledger.provisional(month)? {
            Some(provisional) => {
                let totals = &provisional.manifest.totals;
                outln!(
                    "{month} provisional, as of {}: {} lines, surcharge {}, payable {}, holds \
                     open {} (not for payment)",
                    provisional.settled_at,
                    totals.order_lines,
                    yen(totals.surcharge_lines_jpy),
                    yen(totals.payable_jpy),
                    totals.holds_closing.count
                );
            }
            None => continue,
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
        outln!("{problem}");
    }
    outln!(
        "verified {} version{}: {} problem{}",
        report.versions_checked,
        if report.versions_checked == 1 {
            ""
        } else {
            "s"
        },
        report.problems.len(),
        if report.problems.len() == 1 { "" } else { "s" }
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
        encoding: args.encoding,
    };
    let written = generate::generate(&request)?;
    for month in &written {
        eprintln!("{month}");
    }
    Ok(exit::SUCCESS)
}
