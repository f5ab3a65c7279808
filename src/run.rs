//! `settle run`: one month from input files to a published ledger version.
//!
//! The stages, in order: take the ledger lock; find the month's place in the ledger (its
//! opening holds and what earlier months settled); open and hash the inputs and read the
//! claims; compare with the newest version (the same inputs, policy and opening holds publish
//! nothing; different ones need a correction reason); then, in the ledger's staging folder,
//! settle the orders batch by batch into `order_lines.parquet` (`pipeline`), close the books,
//! check every row is accounted for and write the other files; publish, with adjustment files
//! for a correction; list later months the new version made stale. Nothing outside the
//! staging folder is written before the publish stage, and publishing is all or nothing.
//!
//! A provisional run (`run_provisional`) takes the same stages except the comparison: it
//! always settles the month so far and writes it to `LEDGER/provisional/YYYY-MM/`, never as a
//! version. Publishing a month's version removes its provisional folder.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use tracing::{info, warn};

use crate::adjustments;
use crate::calendar::Month;
use crate::input::files::sha256_file;
use crate::input::{self, InputFile, OrderFiles, RawClaim};
use crate::ledger::{Ledger, LedgerLock, StaleMonth, Version};
use crate::manifest::{self, Correction, Inputs, Manifest, ManifestInput, OpeningHolds, RowCounts};
use crate::model::RejectedRow;
use crate::money::yen;
use crate::output::{self, CsvStyle, OutputFile, MANIFEST_FILE};
use crate::pause;
use crate::pipeline::{self, MonthRun};
use crate::policy::{Policy, Rules};
use crate::progress::Progress;
use crate::settlement::{Books, ClaimBook, ClientCharge, Hold, LancerPayout};
use crate::validate::{self, EarlierRows, Rejection};

#[derive(Debug, Clone)]
pub struct RunRequest {
    pub month: Month,
    pub orders: Vec<PathBuf>,
    pub claims: Vec<PathBuf>,
    pub ledger: PathBuf,
    pub policy: Policy,
    /// Fail, publishing nothing, when any input row is rejected.
    pub strict: bool,
    /// Publish a new version of an already published month, for this reason.
    pub correction: Option<String>,
}

#[derive(Debug, Clone)]
pub enum RunOutcome {
    Published(RunSummary),
    /// The newest version was made from the same inputs and policy; nothing new was written.
    Unchanged {
        month: Month,
        version: u32,
    },
}

/// What a finished run tells its operator.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub month: Month,
    pub version: u32,
    pub folder: PathBuf,
    pub rows: RowCounts,
    pub covered_lines: u64,
    pub surcharge_jpy: i64,
    pub payable_jpy: i64,
    pub holds_opened: u64,
    pub holds_released: u64,
    pub holds_forfeited: u64,
    pub holds_open: u64,
    pub warnings: Vec<String>,
    /// For a correction, the version it replaces.
    pub corrected_version: Option<u32>,
    /// Later published months whose opening holds no longer match, in the order to correct
    /// them.
    pub stale_later_months: Vec<StaleMonth>,
    /// Written to `LEDGER/provisional/YYYY-MM/`, not as a version.
    pub provisional: bool,
}

impl RunSummary {
    pub fn rows_rejected(&self) -> u64 {
        self.rows.orders_rejected + self.rows.claims_rejected
    }
}

impl fmt::Display for RunSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match (self.provisional, self.corrected_version) {
            (true, _) => "provisionally".to_string(),
            (false, Some(corrected)) => {
                format!("as v{} (a correction of v{corrected})", self.version)
            }
            (false, None) => format!("as v{}", self.version),
        };
        write!(
            f,
            "settled {} {what} in {}: {} orders settled ({} covered), surcharge total \
             {}, payable total {}; holds opened {}, released {}, forfeited {}, open {}; \
             {} rows out of the month, {} rejected ({} orders, {} claims)",
            self.month,
            self.folder.display(),
            self.rows.order_lines,
            self.covered_lines,
            yen(self.surcharge_jpy),
            yen(self.payable_jpy),
            self.holds_opened,
            self.holds_released,
            self.holds_forfeited,
            self.holds_open,
            self.rows.orders_out_of_month,
            self.rows_rejected(),
            self.rows.orders_rejected,
            self.rows.claims_rejected,
        )
    }
}

/// Raised when `--strict` finds rejected rows; the CLI reports it like any failure.
#[derive(Debug, thiserror::Error)]
#[error("{rejected} input rows were rejected and --strict is set; nothing was published")]
pub struct StrictRejection {
    pub rejected: u64,
}

/// Raised when a published month is run again with other inputs, policy or opening holds and
/// no correction reason; the CLI gives it its own exit code.
#[derive(Debug, thiserror::Error)]
#[error(
    "{month} is already published as v{version} from other {what}; to publish a correction as \
     v{next}, run again with --correction \"REASON\"",
    next = version + 1
)]
pub struct CorrectionNeeded {
    pub month: Month,
    pub version: u32,
    pub what: String,
}

/// Everything read from the ledger before the month is settled.
struct History {
    opening_holds: Vec<Hold>,
    opening: Option<OpeningHolds>,
    settled_before: HashMap<String, String>,
    newest: Option<Version>,
}

/// The input files, opened and hashed; the claims read, the orders not yet (`pipeline`
/// reads them batch by batch while it settles them).
struct ReadInputs {
    orders: OrderFiles,
    claim_files: Vec<InputFile>,
    raw_claims: Vec<RawClaim>,
    inputs: Inputs,
}

/// Settings that change how a run writes and what it shows, never what it computes: they are
/// not part of the policy, are not recorded as inputs, and do not make a rerun different. A
/// month published without a byte order mark and run again with one is unchanged (its money
/// is the same), so nothing is written; the mark applies to versions published from then on.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunSettings {
    pub csv: CsvStyle,
    pub progress: Progress,
}

/// Settles the month and publishes it as a new version, unless the newest version was made
/// from the same inputs, policy and opening holds.
pub fn run(request: &RunRequest) -> anyhow::Result<RunOutcome> {
    run_with(request, RunSettings::default())
}

/// `run` with settings for the files' style and progress on a terminal.
pub fn run_with(request: &RunRequest, settings: RunSettings) -> anyhow::Result<RunOutcome> {
    let month = request.month;
    let prepared = prepare(request, settings)?;

    let policy_sha256 = manifest::policy_sha256(&request.policy);
    let comparison = compare_with_newest(
        request,
        &prepared.history,
        &prepared.read.inputs,
        &policy_sha256,
    )?;
    let correction = match comparison {
        Comparison::Same(version) => {
            info!(stage = "compare", month = %month, version, "unchanged");
            return Ok(RunOutcome::Unchanged { month, version });
        }
        Comparison::New(correction) => correction,
    };

    let started = Instant::now();
    let ledger = &prepared.ledger;
    let version = 1 + ledger.versions(month)?.last().copied().unwrap_or(0);
    let mut settled = None;
    let folder = ledger.publish(month, version, |staging| {
        let mut done = settle_into(staging, request, &prepared, settings)?;
        if let Some(previous) = &prepared.history.newest {
            done.outputs.extend(write_adjustments(
                staging,
                previous,
                &done.books,
                settings.csv,
            )?);
        }
        pause::checkpoint("before-manifest");
        let manifest = manifest(request, &prepared, version, correction.clone(), &done);
        write_manifest(staging, &manifest)?;
        settled = Some(done);
        Ok(())
    })?;
    let settled = settled.context("a published version was settled")?;
    log_publish(month, version, &folder, &settled, started);
    // The version is published whatever happens here; a provisional folder left behind is
    // only out of date, so failing to remove it is a warning, not a failed run.
    match ledger.remove_provisional(month) {
        Ok(true) => info!(month = %month, "removed the provisional settlement, now v{version}"),
        Ok(false) => {}
        Err(error) => warn!(month = %month, "the provisional settlement stays: {error:#}"),
    }

    let stale_later_months: Vec<StaleMonth> = ledger
        .stale_months()?
        .into_iter()
        .filter(|stale| stale.month > month)
        .collect();
    let mut summary = summary(month, version, folder, settled.rows, &settled.books);
    summary.corrected_version = correction.map(|c| c.previous_version);
    summary.stale_later_months = stale_later_months;
    Ok(RunOutcome::Published(summary))
}

/// Raised when a provisional run is asked for a month that is already published.
#[derive(Debug, thiserror::Error)]
#[error(
    "{month} is already published as v{version}; a provisional run shows a month before it \
     closes (see `settle report --month {month}` for the published one)"
)]
pub struct AlreadyPublished {
    pub month: Month,
    pub version: u32,
}

/// Settles the month so far into `LEDGER/provisional/YYYY-MM/`, replacing what the previous
/// provisional run wrote. It never creates a version and never takes the rerun path: it always
/// rewrites, since the month's inputs grow every night. It holds the ledger lock like any run
/// and starts from the same opening holds as the month's real run will.
pub fn run_provisional(request: &RunRequest, settings: RunSettings) -> anyhow::Result<RunSummary> {
    let month = request.month;
    if request.correction.is_some() {
        bail!("a provisional run publishes no version, so it takes no --correction");
    }
    let settled_at = chrono::Utc::now()
        .with_timezone(&crate::calendar::BUSINESS_ZONE)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    let prepared = prepare(request, settings)?;
    if let Some(newest) = &prepared.history.newest {
        return Err(AlreadyPublished {
            month,
            version: newest.number,
        }
        .into());
    }

    let started = Instant::now();
    let mut settled = None;
    let folder = prepared
        .ledger
        .publish_provisional(month, &settled_at, |staging| {
            let done = settle_into(staging, request, &prepared, settings)?;
            pause::checkpoint("before-manifest");
            // Version 0 is never a ledger version: it marks a provisional settlement.
            write_manifest(staging, &manifest(request, &prepared, 0, None, &done))?;
            settled = Some(done);
            Ok(())
        })?;
    let settled = settled.context("a provisional settlement was settled")?;
    log_publish(month, 0, &folder, &settled, started);

    let mut summary = summary(month, 0, folder, settled.rows, &settled.books);
    summary.provisional = true;
    Ok(summary)
}

/// What every run does before it decides anything: the lock, the ledger's history for the
/// month, and the inputs read and hashed.
struct Prepared {
    ledger: Ledger,
    /// Held, never read: dropping it releases the ledger.
    _lock: LedgerLock,
    rules: Rules,
    history: History,
    read: ReadInputs,
}

fn prepare(request: &RunRequest, settings: RunSettings) -> anyhow::Result<Prepared> {
    let rules = request.policy.rules().context("the policy is not valid")?;
    let naive_zone = request.policy.naive_zone()?;
    let month = request.month;

    // A wrong input path is reported before the ledger folder is created or locked.
    let order_paths = input::expand_paths(&request.orders, "orders")?;
    let claim_paths = input::expand_paths(&request.claims, "claims")?;
    let ledger = Ledger::open(&request.ledger)?;
    let lock = ledger.lock(month)?;
    let cleaned = ledger.clean_staging()?;
    if cleaned > 0 {
        warn!(
            folders = cleaned,
            "removed staging folders left by an interrupted run"
        );
    }

    let started = Instant::now();
    let history = read_history(&ledger, month)?;
    let read = read_inputs(&order_paths, &claim_paths, naive_zone, settings.progress)?;
    let opening_jpy: i64 = history.opening_holds.iter().map(|h| h.payout_jpy).sum();
    info!(
        stage = "read",
        month = %month,
        order_files = read.orders.inputs.len(),
        order_rows = read.orders.rows(),
        claim_files = read.claim_files.len(),
        claim_rows = read.raw_claims.len(),
        input_bytes = input_bytes(&read),
        opening_holds = history.opening_holds.len(),
        opening_holds_jpy = opening_jpy,
        orders_settled_before = history.settled_before.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
    );
    Ok(Prepared {
        ledger,
        _lock: lock,
        rules,
        history,
        read,
    })
}

/// What settling the month into a staging folder wrote, for the manifest and the summary.
struct Settled {
    rows: RowCounts,
    books: Books,
    rejected_rows: u64,
    /// The data files written, in SPEC §8's order; adjustment files are added after them.
    outputs: Vec<OutputFile>,
}

/// Settles the month from what `prepare` opened into `staging`: the orders batch by batch
/// into `order_lines.parquet` (`pipeline`), then the row check, the books and the other data
/// files. The manifest is the caller's, which knows the version.
fn settle_into(
    staging: &Path,
    request: &RunRequest,
    prepared: &Prepared,
    settings: RunSettings,
) -> anyhow::Result<Settled> {
    let month = request.month;
    let (history, read) = (&prepared.history, &prepared.read);

    let started = Instant::now();
    let claim_intake = validate::validate_claims(&read.raw_claims);
    let orders_with_rejected_claims = validate::orders_named_by_rejected_claims(&claim_intake);
    let claim_book = ClaimBook::new(
        &claim_intake.claims,
        &orders_with_rejected_claims,
        month.cutoff_ns(),
    );
    let month_run = MonthRun {
        month,
        rules: &prepared.rules,
        claims: &claim_book,
        settled_before: &history.settled_before,
    };
    let file_count = 6;
    let index = std::cell::Cell::new(0);
    let starting = |name: &str| {
        index.set(index.get() + 1);
        let text = format!("writing {}/{file_count}: {name}", index.get());
        settings.progress.step(&text);
    };
    starting(output::ORDER_LINES_FILE);
    let orders = pipeline::settle_orders(&read.orders, &month_run, staging)?;

    let mut all_files: Vec<&InputFile> = read.orders.inputs.iter().collect();
    all_files.extend(&read.claim_files);
    let rejected_rows = rejected_rows(
        &all_files,
        orders.rejected.iter().chain(&claim_intake.rejected),
    );
    log_rejections(&rejected_rows);
    let rows = RowCounts {
        orders_read: orders.orders_read,
        order_lines: orders.book.order_lines(),
        orders_out_of_month: orders.out_of_month_rows,
        orders_rejected: orders.rejected.len() as u64,
        claims_read: read.raw_claims.len() as u64,
        claims_valid: claim_intake.claims.len() as u64,
        claims_rejected: claim_intake.rejected.len() as u64,
    };
    info!(
        stage = "validate",
        order_lines = rows.order_lines,
        out_of_month = rows.orders_out_of_month,
        orders_rejected = rows.orders_rejected,
        claims_valid = rows.claims_valid,
        claims_rejected = rows.claims_rejected,
        ascending_ids = orders.streamed,
        elapsed_ms = started.elapsed().as_millis() as u64,
    );
    if rows.orders_read > 0 && rows.orders_out_of_month == rows.orders_read {
        bail!(
            "none of the {} order rows completed in {month}: is this the month's orders file? \
             nothing was published",
            rows.orders_read
        );
    }
    if request.strict && !rejected_rows.is_empty() {
        return Err(StrictRejection {
            rejected: rejected_rows.len() as u64,
        }
        .into());
    }

    let mut books = orders
        .book
        .finish(history.opening_holds.clone(), &claim_book)?;
    check_rows(&rows, &books, &read.inputs)?;
    books
        .warnings
        .splice(0..0, input_warnings(&orders.earlier, read, history));
    for warning in &books.warnings {
        warn!(stage = "settle", "{warning}");
    }
    let totals = &books.totals;
    info!(
        stage = "settle",
        order_lines = totals.order_lines,
        covered = totals.covered_lines,
        amount_jpy = totals.amount_jpy,
        reward_jpy = totals.reward_jpy,
        surcharge_jpy = totals.surcharge_lines_jpy,
        rebate_jpy = totals.rebate_jpy,
        payable_jpy = totals.payable_jpy,
        released_jpy = totals.released_jpy,
        forfeited_jpy = totals.forfeited_jpy,
        holds_opened = totals.holds_opened.count,
        holds_released = totals.holds_released.count,
        holds_forfeited = totals.holds_forfeited.count,
        holds_open = totals.holds_closing.count,
        holds_open_jpy = totals.holds_closing.jpy,
        warnings = books.warnings.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
    );

    // The books are written while the last order lines are still being compressed.
    let books_written =
        output::write_books(staging, &books, &rejected_rows, settings.csv, &starting)?;
    let mut outputs = vec![orders.order_lines.finish()?];
    pause::checkpoint("order-lines-written");
    outputs.extend(books_written);
    Ok(Settled {
        rows,
        books,
        rejected_rows: rejected_rows.len() as u64,
        outputs,
    })
}

/// The manifest of a settled month, as version `version` (0 for a provisional settlement).
fn manifest(
    request: &RunRequest,
    prepared: &Prepared,
    version: u32,
    correction: Option<Correction>,
    settled: &Settled,
) -> Manifest {
    Manifest {
        month: request.month.to_string(),
        version,
        settle_version: env!("CARGO_PKG_VERSION").to_string(),
        inputs: prepared.read.inputs.clone(),
        policy: request.policy.clone(),
        policy_sha256: manifest::policy_sha256(&request.policy),
        naive_timestamp_zone: request.policy.naive_timestamp_zone.clone(),
        opening_holds: prepared.history.opening.clone(),
        correction,
        rows: settled.rows.clone(),
        totals: settled.books.totals.clone(),
        outputs: settled.outputs.clone(),
        warnings: settled.books.warnings.clone(),
    }
}

fn log_publish(month: Month, version: u32, folder: &Path, settled: &Settled, started: Instant) {
    let bytes: u64 = settled
        .outputs
        .iter()
        .filter_map(|f| std::fs::metadata(folder.join(&f.file)).ok())
        .map(|m| m.len())
        .sum();
    let totals = &settled.books.totals;
    info!(
        stage = "publish",
        month = %month,
        version,
        provisional = version == 0,
        folder = %folder.display(),
        files = settled.outputs.len() + 1,
        output_bytes = bytes,
        order_lines = totals.order_lines,
        surcharge_jpy = totals.surcharge_lines_jpy,
        payable_jpy = totals.payable_jpy,
        rows_rejected = settled.rejected_rows,
        elapsed_ms = started.elapsed().as_millis() as u64,
    );
}

fn input_bytes(read: &ReadInputs) -> u64 {
    read.orders
        .inputs
        .iter()
        .chain(&read.claim_files)
        .filter_map(|f| std::fs::metadata(&f.path).ok())
        .map(|m| m.len())
        .sum()
}

/// Conditions of the inputs that finance should see although nothing is wrong with a row:
/// rows of an earlier month (a late export that no run will settle unless that month is
/// corrected), an orders input with no rows, an empty claims register while holds are open.
fn input_warnings(earlier: &EarlierRows, read: &ReadInputs, history: &History) -> Vec<String> {
    let mut warnings = Vec::new();
    if earlier.rows > 0 {
        // Rows that row-group statistics placed before the month were never read, so the
        // examples may be fewer than the rows, or none.
        let examples = match earlier.examples.is_empty() {
            true => String::new(),
            false => format!(" ({})", earlier.examples.join(", ")),
        };
        warnings.push(format!(
            "{} order rows completed before this month{examples}; this run does not settle \
             them: if they are missing from an earlier month, correct that month",
            earlier.rows,
        ));
    }
    if read.orders.rows() == 0 {
        warnings.push("the orders input holds no rows".to_string());
    }
    if history.opening.is_none() {
        warnings.push(
            "this is the ledger's first month, so it opens with no holds from earlier months"
                .to_string(),
        );
    }
    if read.raw_claims.is_empty() && !history.opening_holds.is_empty() {
        warnings.push(format!(
            "the claims register holds no rows, but {} holds are open; they stay open",
            history.opening_holds.len()
        ));
    }
    warnings
}

fn read_history(ledger: &Ledger, month: Month) -> anyhow::Result<History> {
    let previous = previous_version(ledger, month)?;
    if let Some(previous) = &previous {
        let stale = ledger.stale_months()?;
        if let Some(stale) = stale.iter().find(|stale| stale.month == previous.month) {
            bail!(
                "{} is stale ({}); correct it before settling {month}",
                stale.month,
                stale.reason
            );
        }
    }
    let opening_holds = match &previous {
        Some(version) => ledger.holds(version)?,
        None => Vec::new(),
    };
    let opening = match &previous {
        Some(version) => Some(OpeningHolds {
            month: version.month.to_string(),
            version: version.number,
            holds_sha256: version.holds_sha256()?,
        }),
        None => None,
    };
    Ok(History {
        opening_holds,
        opening,
        settled_before: ledger.settled_before(month)?,
        newest: ledger.newest(month)?,
    })
}

/// Reads the inputs one file at a time, so that a terminal can show each file as it starts.
fn read_inputs(
    order_paths: &[PathBuf],
    claim_paths: &[PathBuf],
    naive_zone: chrono_tz::Tz,
    progress: Progress,
) -> anyhow::Result<ReadInputs> {
    let orders = OrderFiles::open(order_paths, naive_zone, progress)?;
    let mut claim_files = Vec::with_capacity(claim_paths.len());
    let mut raw_claims = Vec::new();
    for (index, path) in claim_paths.iter().enumerate() {
        progress.file("reading", "claims", index, claim_paths.len(), path);
        let first_index = orders.inputs.len() + index;
        let (files, rows) =
            input::read_claims(std::slice::from_ref(path), naive_zone, first_index)?;
        claim_files.extend(files);
        raw_claims.extend(rows);
    }
    let inputs = Inputs {
        orders: orders.inputs.iter().map(ManifestInput::from).collect(),
        claims: claim_files.iter().map(ManifestInput::from).collect(),
    };
    Ok(ReadInputs {
        orders,
        claim_files,
        raw_claims,
        inputs,
    })
}

enum Comparison {
    /// The newest version was made from the same inputs, policy and opening holds.
    Same(u32),
    /// A version is to be published: the first, or a correction of the newest.
    New(Option<Correction>),
}

fn compare_with_newest(
    request: &RunRequest,
    history: &History,
    inputs: &Inputs,
    policy_sha256: &str,
) -> anyhow::Result<Comparison> {
    let Some(newest) = &history.newest else {
        if request.correction.is_some() {
            bail!(
                "{} has no published version to correct; run it without --correction",
                request.month
            );
        }
        return Ok(Comparison::New(None));
    };
    let mut changed = Vec::new();
    if newest.manifest.inputs.fingerprint() != inputs.fingerprint() {
        changed.push("inputs");
    }
    if newest.manifest.policy_sha256 != policy_sha256 {
        changed.push("policy");
    }
    if newest.manifest.opening_holds != history.opening {
        changed.push("opening holds");
    }
    if changed.is_empty() {
        return Ok(Comparison::Same(newest.number));
    }
    let Some(reason) = &request.correction else {
        return Err(CorrectionNeeded {
            month: request.month,
            version: newest.number,
            what: changed.join(", "),
        }
        .into());
    };
    if reason.trim().is_empty() {
        bail!("--correction needs a reason finance can read later");
    }
    Ok(Comparison::New(Some(Correction {
        reason: reason.clone(),
        previous_version: newest.number,
        previous_manifest_sha256: sha256_file(&newest.path.join(MANIFEST_FILE))?,
    })))
}

/// Writes the differences from the previous version, per client and per lancer.
fn write_adjustments(
    staging: &Path,
    previous: &Version,
    books: &Books,
    style: CsvStyle,
) -> anyhow::Result<Vec<OutputFile>> {
    let old_clients: Vec<ClientCharge> =
        output::read_csv(&previous.path.join(output::CLIENT_CHARGES_FILE))?;
    let old_lancers: Vec<LancerPayout> =
        output::read_csv(&previous.path.join(output::LANCER_PAYOUTS_FILE))?;
    let clients = adjustments::client_adjustments(&old_clients, &books.client_charges)?;
    let lancers = adjustments::lancer_adjustments(&old_lancers, &books.lancer_payouts)?;

    let folder = staging.join(output::ADJUSTMENTS_FOLDER);
    std::fs::create_dir(&folder).with_context(|| format!("cannot create {}", folder.display()))?;
    Ok(vec![
        output::write_csv_styled(staging, output::CLIENT_ADJUSTMENTS_FILE, &clients, style)?,
        output::write_csv_styled(staging, output::LANCER_ADJUSTMENTS_FILE, &lancers, style)?,
    ])
}

/// The version whose open holds month `month` starts from, if the ledger has earlier months.
fn previous_version(ledger: &Ledger, month: Month) -> anyhow::Result<Option<Version>> {
    let months = ledger.months()?;
    let Some(&first) = months.first() else {
        return Ok(None);
    };
    if month < first {
        bail!(
            "the ledger starts at {first}; {month} comes before it and cannot be settled into \
             this ledger: to settle from {month} on, start a new ledger folder"
        );
    }
    if month == first {
        return Ok(None);
    }
    let previous = month.previous();
    match ledger.newest(previous)? {
        Some(version) => Ok(Some(version)),
        None => bail!(
            "{previous} has not been settled in ledger {}; months settle in order, so settle \
             {previous} before {month}",
            ledger.root().display()
        ),
    }
}

/// Rejected rows with file names, sorted by file and row. Text that would run as a formula in
/// a spreadsheet gets a leading `'`, and control characters are shown escaped, so the file is
/// safe to open; every other character is kept as it was.
fn rejected_rows<'a>(
    files: &[&InputFile],
    rejections: impl Iterator<Item = &'a Rejection>,
) -> Vec<RejectedRow> {
    let mut rows: Vec<RejectedRow> = rejections
        .map(|rejection| RejectedRow {
            file: files
                .get(rejection.origin.file_index)
                .map(|f| f.path.display().to_string())
                .unwrap_or_default(),
            row: rejection.origin.row,
            order_id: rejection.order_id.as_deref().map(spreadsheet_safe),
            reason: rejection.reason,
            detail: spreadsheet_safe(&rejection.detail),
        })
        .collect();
    rows.sort_by(|a, b| (&a.file, a.row).cmp(&(&b.file, b.row)));
    rows
}

fn spreadsheet_safe(text: &str) -> String {
    let mut safe = String::with_capacity(text.len() + 1);
    if text.starts_with(['=', '+', '-', '@']) {
        safe.push('\'');
    }
    for c in text.chars() {
        if c.is_control() {
            safe.extend(c.escape_default());
        } else {
            safe.push(c);
        }
    }
    safe
}

fn log_rejections(rows: &[RejectedRow]) {
    let mut by_reason = std::collections::BTreeMap::new();
    for row in rows {
        *by_reason.entry(row.reason.as_str()).or_insert(0u64) += 1;
    }
    for (reason, count) in by_reason {
        warn!(
            stage = "validate",
            reason,
            rows = count,
            "input rows rejected"
        );
    }
}

/// Every input row is an order line, out of the month, or rejected; every claim row valid or
/// rejected; and the row counts the files declare are the rows that were read.
fn check_rows(rows: &RowCounts, books: &Books, inputs: &Inputs) -> anyhow::Result<()> {
    let declared = |files: &[ManifestInput]| files.iter().map(|f| f.rows).sum::<u64>();
    let accounted = rows.order_lines + rows.orders_out_of_month + rows.orders_rejected;
    if accounted != rows.orders_read || declared(&inputs.orders) != rows.orders_read {
        bail!(
            "order rows do not tie: read {}, files declare {}, lines {} + out of month {} + \
             rejected {}",
            rows.orders_read,
            declared(&inputs.orders),
            rows.order_lines,
            rows.orders_out_of_month,
            rows.orders_rejected
        );
    }
    if rows.claims_valid + rows.claims_rejected != rows.claims_read
        || declared(&inputs.claims) != rows.claims_read
    {
        bail!("claim rows do not tie: {rows:?}");
    }
    if books.totals.order_lines != rows.order_lines {
        bail!(
            "{} valid orders became {} lines",
            rows.order_lines,
            books.totals.order_lines
        );
    }
    Ok(())
}

fn write_manifest(folder: &Path, manifest: &Manifest) -> anyhow::Result<()> {
    let path = folder.join(MANIFEST_FILE);
    std::fs::write(&path, manifest.to_json())
        .and_then(|_| std::fs::File::open(&path)?.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

fn summary(
    month: Month,
    version: u32,
    folder: PathBuf,
    rows: RowCounts,
    books: &Books,
) -> RunSummary {
    let totals = &books.totals;
    RunSummary {
        month,
        version,
        folder,
        rows,
        covered_lines: totals.covered_lines,
        surcharge_jpy: totals.surcharge_lines_jpy,
        payable_jpy: totals.payable_jpy,
        holds_opened: totals.holds_opened.count,
        holds_released: totals.holds_released.count,
        holds_forfeited: totals.holds_forfeited.count,
        holds_open: totals.holds_closing.count,
        warnings: books.warnings.clone(),
        corrected_version: None,
        stale_later_months: Vec::new(),
        provisional: false,
    }
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_safe;

    #[test]
    fn rejected_text_keeps_its_characters_and_defuses_formulas() {
        assert_eq!(spreadsheet_safe("注文-1"), "注文-1");
        assert_eq!(
            spreadsheet_safe("order_id \"=1\" is odd"),
            "order_id \"=1\" is odd"
        );
        assert_eq!(
            spreadsheet_safe("=HYPERLINK(1).parquet"),
            "'=HYPERLINK(1).parquet"
        );
        assert_eq!(spreadsheet_safe("a\nb\u{0}"), "a\\nb\\u{0}");
    }
}
