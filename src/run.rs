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

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use tracing::{info, warn};

use crate::adjustments;
use crate::calendar::Month;
use crate::input::files::sha256_file;
use crate::input::{self, InputFile, OrderFiles, RawClaim};
use crate::ledger::{Ledger, StaleMonth, Version};
use crate::manifest::{self, Correction, Inputs, Manifest, ManifestInput, OpeningHolds, RowCounts};
use crate::model::RejectedRow;
use crate::output::{self, OutputFile, MANIFEST_FILE};
use crate::pause;
use crate::pipeline::{self, MonthRun};
use crate::policy::Policy;
use crate::settlement::{Books, ClaimBook, ClientCharge, Hold, LancerPayout};
use crate::validate::{self, Rejection};

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
}

impl RunSummary {
    pub fn rows_rejected(&self) -> u64 {
        self.rows.orders_rejected + self.rows.claims_rejected
    }
}

impl fmt::Display for RunSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let replaces = match self.corrected_version {
            Some(version) => format!(" (a correction of v{version})"),
            None => String::new(),
        };
        write!(
            f,
            "settled {} as v{}{replaces} in {}: {} orders settled ({} covered), surcharge total \
             ¥{}, payable total ¥{}; holds opened {}, released {}, forfeited {}, open {}; \
             {} rows out of the month, {} rejected ({} orders, {} claims)",
            self.month,
            self.version,
            self.folder.display(),
            self.rows.order_lines,
            self.covered_lines,
            self.surcharge_jpy,
            self.payable_jpy,
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

/// The input files, opened and hashed; the claims read, the orders not yet.
struct ReadInputs {
    orders: OrderFiles,
    claim_files: Vec<InputFile>,
    raw_claims: Vec<RawClaim>,
    inputs: Inputs,
}

/// What settling inside the staging folder hands back for the summary.
struct Settled {
    rows: RowCounts,
    books: Books,
}

pub fn run(request: &RunRequest) -> anyhow::Result<RunOutcome> {
    let rules = request.policy.rules().context("the policy is not valid")?;
    let naive_zone = request.policy.naive_zone()?;
    let month = request.month;

    let ledger = Ledger::open(&request.ledger)?;
    let _lock = ledger.lock(month)?;
    let cleaned = ledger.clean_staging()?;
    if cleaned > 0 {
        warn!(
            folders = cleaned,
            "removed staging folders left by an interrupted run"
        );
    }
    let history = read_history(&ledger, month)?;
    let read = read_inputs(request, naive_zone)?;

    let policy_sha256 = manifest::policy_sha256(&request.policy);
    let correction = match compare_with_newest(request, &history, &read.inputs, &policy_sha256)? {
        Comparison::Same(version) => {
            info!(stage = "compare", month = %month, version, "unchanged");
            return Ok(RunOutcome::Unchanged { month, version });
        }
        Comparison::New(correction) => correction,
    };

    let claim_intake = validate::validate_claims(&read.raw_claims);
    let orders_with_rejected_claims: BTreeSet<String> = claim_intake
        .rejected
        .iter()
        .filter_map(|r| r.order_id.clone())
        .collect();
    let claim_book = ClaimBook::new(
        &claim_intake.claims,
        &orders_with_rejected_claims,
        month.cutoff_ns(),
    );
    let month_run = MonthRun {
        month,
        rules: &rules,
        claims: &claim_book,
        settled_before: &history.settled_before,
    };

    let started = Instant::now();
    let version = 1 + ledger.versions(month)?.last().copied().unwrap_or(0);
    let mut settled = None;
    let folder = ledger.publish(month, version, |staging| {
        let orders = pipeline::settle_orders(&read.orders, &month_run, staging)?;

        let mut order_files: Vec<&InputFile> = read.orders.inputs.iter().collect();
        order_files.extend(&read.claim_files);
        let rejected_rows = rejected_rows(
            &order_files,
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
            claims_rejected = rows.claims_rejected,
            ascending_ids = orders.streamed,
            elapsed_ms = started.elapsed().as_millis() as u64,
        );
        if request.strict && !rejected_rows.is_empty() {
            return Err(StrictRejection {
                rejected: rejected_rows.len() as u64,
            }
            .into());
        }

        let books = orders
            .book
            .finish(history.opening_holds.clone(), &claim_book)?;
        check_rows(&rows, &books, &read.inputs)?;
        for warning in &books.warnings {
            warn!(stage = "settle", "{warning}");
        }
        info!(
            stage = "settle",
            order_lines = books.totals.order_lines,
            covered = books.totals.covered_lines,
            surcharge_jpy = books.totals.surcharge_lines_jpy,
            payable_jpy = books.totals.payable_jpy,
            holds_open = books.totals.holds_closing.count,
            elapsed_ms = started.elapsed().as_millis() as u64,
        );

        // The books are written while the last order lines are still being compressed.
        let books_written = output::write_books(staging, &books, &rejected_rows)?;
        let mut outputs = vec![orders.order_lines.finish()?];
        pause::checkpoint("order-lines-written");
        outputs.extend(books_written);
        if let Some(previous) = &history.newest {
            outputs.extend(write_adjustments(staging, previous, &books)?);
        }
        pause::checkpoint("before-manifest");
        write_manifest(
            staging,
            &Manifest {
                month: month.to_string(),
                version,
                settle_version: env!("CARGO_PKG_VERSION").to_string(),
                inputs: read.inputs.clone(),
                policy: request.policy.clone(),
                policy_sha256: policy_sha256.clone(),
                naive_timestamp_zone: request.policy.naive_timestamp_zone.clone(),
                opening_holds: history.opening.clone(),
                correction: correction.clone(),
                rows: rows.clone(),
                totals: books.totals.clone(),
                outputs,
                warnings: books.warnings.clone(),
            },
        )?;
        settled = Some(Settled { rows, books });
        Ok(())
    })?;
    info!(stage = "publish", month = %month, version, elapsed_ms = started.elapsed().as_millis() as u64);
    let Settled { rows, books } = settled.context("a published version was settled")?;

    let stale_later_months: Vec<StaleMonth> = ledger
        .stale_months()?
        .into_iter()
        .filter(|stale| stale.month > month)
        .collect();
    let mut summary = summary(month, version, folder, rows, &books);
    summary.corrected_version = correction.map(|c| c.previous_version);
    summary.stale_later_months = stale_later_months;
    Ok(RunOutcome::Published(summary))
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

fn read_inputs(request: &RunRequest, naive_zone: chrono_tz::Tz) -> anyhow::Result<ReadInputs> {
    let started = Instant::now();
    let order_paths = input::expand_paths(&request.orders, "orders")?;
    let claim_paths = input::expand_paths(&request.claims, "claims")?;
    let orders = OrderFiles::open(&order_paths, naive_zone)?;
    let (claim_files, raw_claims) =
        input::read_claims(&claim_paths, naive_zone, orders.inputs.len())?;
    info!(
        stage = "read",
        order_files = orders.inputs.len(),
        order_rows = orders.rows(),
        claim_files = claim_files.len(),
        claim_rows = raw_claims.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
    );
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
        output::write_csv(staging, output::CLIENT_ADJUSTMENTS_FILE, &clients)?,
        output::write_csv(staging, output::LANCER_ADJUSTMENTS_FILE, &lancers)?,
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
             this ledger"
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

/// Rejected rows with file names, sorted by file and row. Ids that would run as a formula in
/// a spreadsheet are quoted so the file is safe to open.
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
    let escaped: String = text.escape_default().collect();
    if escaped.starts_with(['=', '+', '-', '@']) {
        format!("'{escaped}")
    } else {
        escaped
    }
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
    }
}
