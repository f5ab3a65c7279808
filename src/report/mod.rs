//! `settle report`: what a settled month means for finance, read back from the published
//! files.
//!
//! The report reads only what the payments system reads (the order lines, the CSV files, the
//! holds and the manifest), never the inputs, so it shows what was published and not what a
//! run would compute today. Every total it prints is recomputed from those files and must
//! equal the manifest's; a report whose numbers do not tie is refused rather than printed,
//! since finance would act on it. The same data renders as text (`text`) or as one
//! self-contained HTML file with charts (`html`, `svg`).

mod html;
mod svg;
mod text;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use chrono::{DateTime, NaiveDate, Utc};

use crate::adjustments::{ClientAdjustment, LancerAdjustment};
use crate::calendar::{Month, BUSINESS_ZONE};
use crate::input::columns::ParquetFile;
use crate::input::files::sha256_file;
use crate::input::Field;
use crate::ledger::{read_holds, Ledger};
use crate::manifest::{Manifest, RowCounts};
use crate::model::{CoverageReason, HoldEvent, PayoutStatus, RejectReason, RejectedRow};
pub use crate::money::{thousands, yen, yen_delta};
use crate::output::{self, read_csv};
use crate::settlement::{
    self, ClientCharge, ControlTotals, Hold, HoldEventRow, LancerPayout, Tally,
};

/// How many of the largest payouts and adjustments the report lists.
pub const TOP_COUNT: usize = 10;

/// Which settlement of a month to report on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Newest,
    Version(u32),
    Provisional,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Html,
}

/// Where the reported files came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Version {
        number: u32,
        /// For a correction: the version it replaced and why.
        correction: Option<(u32, String)>,
    },
    Provisional {
        settled_at: String,
    },
}

/// One coverage reason's share of the month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonLine {
    pub reason: CoverageReason,
    pub orders: u64,
    pub amount_jpy: i64,
    pub surcharge_jpy: i64,
    pub rebate_jpy: i64,
}

/// Holds that share an event (or are still open) and the month they were opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldGroup {
    pub opened_month: Month,
    /// Whole months from the month the hold opened to the reported month: 0 for a hold
    /// opened in the month itself.
    pub age_months: u32,
    pub tally: Tally,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldsReport {
    pub opening: Tally,
    pub opened: Tally,
    pub released: Tally,
    pub forfeited: Tally,
    pub closing: Tally,
    /// Holds open at the cutoff, by the month they opened, oldest first.
    pub open_by_month: Vec<HoldGroup>,
    pub released_by_month: Vec<HoldGroup>,
    pub forfeited_by_month: Vec<HoldGroup>,
    /// The oldest holds still open (largest first among equals), at most `TOP_COUNT`.
    pub oldest_open: Vec<Hold>,
}

/// One day of the month in Tokyo, by the `completed_at` of its order lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayLine {
    pub date: NaiveDate,
    pub orders: u64,
    pub surcharge_jpy: i64,
    /// Payouts of lines paid on completion; held and forfeited lines are not paid.
    pub paid_payout_jpy: i64,
}

/// Rejected rows of one reason, with the first of them as an example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedGroup {
    pub reason: RejectReason,
    pub rows: u64,
    pub example: RejectedRow,
}

/// For a correction: the version it replaced and the adjustment files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    pub previous_version: u32,
    pub reason: String,
    pub previous_totals: ControlTotals,
    pub clients_adjusted: usize,
    pub lancers_adjusted: usize,
    /// Sums over the adjustment files; they equal the new totals minus the old (checked).
    pub surcharge_delta_jpy: i64,
    pub payable_delta_jpy: i64,
    /// The largest adjustments by size, at most `TOP_COUNT` each.
    pub largest_clients: Vec<ClientAdjustment>,
    pub largest_lancers: Vec<LancerAdjustment>,
}

/// Everything the report shows about one settlement of a month.
#[derive(Debug, Clone)]
pub struct MonthReport {
    pub month: Month,
    pub source: Source,
    pub folder: PathBuf,
    pub policy_name: String,
    /// The version the month's opening holds came from, `YYYY-MM vN`.
    pub opening_from: Option<String>,
    /// Recomputed from the files; equal to the manifest's (checked when the report is built).
    pub totals: ControlTotals,
    pub rows: RowCounts,
    pub by_reason: Vec<ReasonLine>,
    pub holds: HoldsReport,
    pub largest_payouts: Vec<LancerPayout>,
    pub rejected: Vec<RejectedGroup>,
    pub days: Vec<DayLine>,
    pub changes: Option<Changes>,
    pub warnings: Vec<String>,
}

impl MonthReport {
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Text => text::render(self),
            Format::Html => html::render(self),
        }
    }

    /// `2015-12 v2`, or `2016-02 provisional`.
    pub fn title(&self) -> String {
        match &self.source {
            Source::Version { number, .. } => format!("{} v{number}", self.month),
            Source::Provisional { .. } => format!("{} provisional", self.month),
        }
    }
}

/// Reads the chosen settlement of `month` and builds its report.
pub fn build(ledger: &Ledger, month: Month, which: Which) -> anyhow::Result<MonthReport> {
    let (folder, manifest, source) = locate(ledger, month, which)?;
    check_hashes(&folder, &manifest)?;

    let lines = read_lines(&folder)?;
    let clients: Vec<ClientCharge> = read_csv(&folder.join(output::CLIENT_CHARGES_FILE))?;
    let lancers: Vec<LancerPayout> = read_csv(&folder.join(output::LANCER_PAYOUTS_FILE))?;
    let events: Vec<HoldEventRow> = read_csv(&folder.join(output::HOLD_EVENTS_FILE))?;
    let holds = read_holds(&folder.join(output::HOLDS_FILE))?;
    let rejected: Vec<RejectedRow> = read_csv(&folder.join(output::REJECTED_ROWS_FILE))?;

    let totals = recompute_totals(&lines, &clients, &lancers, &events, &holds, &manifest)?;
    check_against_manifest(&folder, &totals, &manifest, rejected.len() as u64)?;
    let days = days(month, &lines)?;
    check_days(&days, &totals)?;

    let changes = match &source {
        Source::Version {
            correction: Some((previous, reason)),
            ..
        } => Some(changes(ledger, month, *previous, reason, &folder, &totals)?),
        _ => None,
    };
    Ok(MonthReport {
        month,
        source,
        policy_name: manifest.policy.name.clone(),
        opening_from: manifest
            .opening_holds
            .as_ref()
            .map(|o| format!("{} v{}", o.month, o.version)),
        rows: manifest.rows.clone(),
        by_reason: by_reason(&lines)?,
        holds: holds_report(month, &totals, &events, holds)?,
        largest_payouts: largest_payouts(lancers),
        rejected: rejected_groups(rejected),
        days,
        changes,
        warnings: manifest.warnings.clone(),
        totals,
        folder,
    })
}

/// Every file the manifest lists must be the file it hashed: a report finance acts on is never
/// made from a file changed since it was published (`settle verify` lists every difference).
fn check_hashes(folder: &Path, manifest: &Manifest) -> anyhow::Result<()> {
    for output in &manifest.outputs {
        let path = folder.join(&output.file);
        let actual = sha256_file(&path)?;
        if actual != output.sha256 {
            bail!(
                "{} has changed since it was published (sha256 {actual}, its manifest records \
                 {}); no report is made from it: run settle verify",
                path.display(),
                output.sha256
            );
        }
    }
    Ok(())
}

fn locate(
    ledger: &Ledger,
    month: Month,
    which: Which,
) -> anyhow::Result<(PathBuf, Manifest, Source)> {
    let version = match which {
        Which::Provisional => {
            let provisional = ledger.provisional(month)?.with_context(|| {
                format!(
                    "{month} has no provisional settlement in {}",
                    ledger.root().display()
                )
            })?;
            return Ok((
                provisional.path,
                provisional.manifest,
                Source::Provisional {
                    settled_at: provisional.settled_at,
                },
            ));
        }
        Which::Newest => match ledger.newest(month)? {
            Some(version) => version,
            None => {
                let hint = match ledger.provisional(month)? {
                    Some(_) => "; it has a provisional settlement: add --provisional",
                    None => "",
                };
                bail!(
                    "{month} has no published version in {}{hint}",
                    ledger.root().display()
                );
            }
        },
        Which::Version(number) => {
            if !ledger.versions(month)?.contains(&number) {
                bail!(
                    "{month} has no version v{number} in {}; it has {:?}",
                    ledger.root().display(),
                    ledger.versions(month)?
                );
            }
            ledger.version(month, number)?
        }
    };
    let source = Source::Version {
        number: version.number,
        correction: version
            .manifest
            .correction
            .as_ref()
            .map(|c| (c.previous_version, c.reason.clone())),
    };
    Ok((version.path, version.manifest, source))
}

/// The columns of `order_lines.parquet` the report uses, one entry per line.
struct Line {
    completed_at_ns: i64,
    reason: CoverageReason,
    amount_jpy: i64,
    reward_jpy: i64,
    surcharge_jpy: i64,
    rebate_jpy: i64,
    payout_jpy: i64,
    payout_status: PayoutStatus,
}

/// Reads the lines a row group at a time, so that only the report's own line list (a few
/// integers per line) grows with the month, not the decoded columns.
fn read_lines(folder: &Path) -> anyhow::Result<Vec<Line>> {
    let path = folder.join(output::ORDER_LINES_FILE);
    let file = ParquetFile::open(
        &path,
        "order lines",
        &[
            "completed_at",
            "reason",
            "amount_jpy",
            "reward_jpy",
            "surcharge_jpy",
            "rebate_jpy",
            "payout_jpy",
            "payout_status",
        ],
    )?;
    let shown = path.display();
    let mut lines = Vec::with_capacity(usize::try_from(file.rows).unwrap_or(0));
    for group in 0..file.row_groups() {
        let first_row = file.group_start(group);
        let columns = file.read_groups(group..group + 1)?;
        let completed = columns.instants("completed_at", BUSINESS_ZONE)?;
        let reasons = columns.text("reason")?;
        let amounts = columns.yen("amount_jpy")?;
        let rewards = columns.yen("reward_jpy")?;
        let surcharges = columns.yen("surcharge_jpy")?;
        let rebates = columns.yen("rebate_jpy")?;
        let payouts = columns.yen("payout_jpy")?;
        let statuses = columns.text("payout_status")?;

        let line_number = |row: usize| first_row + row as u64 + 1;
        let value = |column: &[Field<i64>], row: usize, name: &str| {
            column[row].value().copied().with_context(|| {
                format!(
                    "{shown} row {}: {name} is empty or invalid",
                    line_number(row)
                )
            })
        };
        for row in 0..amounts.len() {
            let reason_text = reasons[row].as_deref().unwrap_or_default();
            let status_text = statuses[row].as_deref().unwrap_or_default();
            lines.push(Line {
                completed_at_ns: value(&completed, row, "completed_at")?,
                reason: CoverageReason::parse(reason_text).with_context(|| {
                    format!(
                        "{shown} row {}: reason {reason_text:?} is unknown",
                        line_number(row)
                    )
                })?,
                amount_jpy: value(&amounts, row, "amount_jpy")?,
                reward_jpy: value(&rewards, row, "reward_jpy")?,
                surcharge_jpy: value(&surcharges, row, "surcharge_jpy")?,
                rebate_jpy: value(&rebates, row, "rebate_jpy")?,
                payout_jpy: value(&payouts, row, "payout_jpy")?,
                payout_status: PayoutStatus::parse(status_text).with_context(|| {
                    format!(
                        "{shown} row {}: payout_status {status_text:?} is unknown",
                        line_number(row)
                    )
                })?,
            });
        }
    }
    Ok(lines)
}

fn add(total: &mut i64, jpy: i64, what: &str) -> anyhow::Result<()> {
    *total = total
        .checked_add(jpy)
        .with_context(|| format!("the report's total of {what} overflows"))?;
    Ok(())
}

fn count(tally: &mut Tally, jpy: i64, what: &str) -> anyhow::Result<()> {
    tally.count += 1;
    add(&mut tally.jpy, jpy, what)
}

/// The control totals as the files say them. The opening holds are not in the version's
/// files; they are taken from the manifest and tied by `check_totals` with the rest.
fn recompute_totals(
    lines: &[Line],
    clients: &[ClientCharge],
    lancers: &[LancerPayout],
    events: &[HoldEventRow],
    holds: &[Hold],
    manifest: &Manifest,
) -> anyhow::Result<ControlTotals> {
    let mut totals = ControlTotals {
        order_lines: lines.len() as u64,
        holds_opening: manifest.totals.holds_opening,
        ..ControlTotals::default()
    };
    for line in lines {
        totals.covered_lines += u64::from(line.reason.is_covered());
        add(&mut totals.amount_jpy, line.amount_jpy, "amount_jpy")?;
        add(&mut totals.reward_jpy, line.reward_jpy, "reward_jpy")?;
        add(
            &mut totals.surcharge_lines_jpy,
            line.surcharge_jpy,
            "surcharge_jpy",
        )?;
        add(&mut totals.rebate_jpy, line.rebate_jpy, "rebate_jpy")?;
        match line.payout_status {
            PayoutStatus::Paid => add(
                &mut totals.paid_lines_payout_jpy,
                line.payout_jpy,
                "paid payouts",
            )?,
            PayoutStatus::Forfeited => add(&mut totals.forfeited_jpy, line.payout_jpy, "forfeits")?,
            PayoutStatus::Held => {}
        }
    }
    for client in clients {
        add(
            &mut totals.surcharge_clients_jpy,
            client.surcharge_jpy,
            "client surcharges",
        )?;
    }
    for lancer in lancers {
        add(&mut totals.payable_jpy, lancer.payable_jpy, "payable_jpy")?;
    }
    for event in events {
        match event.event {
            HoldEvent::Opened => count(&mut totals.holds_opened, event.payout_jpy, "opened")?,
            HoldEvent::Released => {
                count(&mut totals.holds_released, event.payout_jpy, "released")?;
                add(&mut totals.released_jpy, event.payout_jpy, "released_jpy")?;
            }
            HoldEvent::Forfeited => {
                count(&mut totals.holds_forfeited, event.payout_jpy, "forfeited")?;
                add(&mut totals.forfeited_jpy, event.payout_jpy, "forfeits")?;
            }
        }
    }
    for hold in holds {
        count(&mut totals.holds_closing, hold.payout_jpy, "open holds")?;
    }
    Ok(totals)
}

/// Refuses a report whose files do not say what the manifest says.
fn check_against_manifest(
    folder: &Path,
    totals: &ControlTotals,
    manifest: &Manifest,
    rejected_rows: u64,
) -> anyhow::Result<()> {
    let shown = folder.display();
    if *totals != manifest.totals {
        bail!(
            "the files in {shown} do not tie with its manifest (files {totals:?}, manifest {:?}); \
             run `settle verify` on this ledger",
            manifest.totals
        );
    }
    settlement::check_totals(totals).with_context(|| format!("the files in {shown}"))?;
    let declared = manifest.rows.orders_rejected + manifest.rows.claims_rejected;
    if rejected_rows != declared {
        bail!(
            "{shown}/{} holds {rejected_rows} rows, the manifest counts {declared} rejected",
            output::REJECTED_ROWS_FILE
        );
    }
    Ok(())
}

fn by_reason(lines: &[Line]) -> anyhow::Result<Vec<ReasonLine>> {
    let mut by_reason: Vec<ReasonLine> = CoverageReason::ALL
        .iter()
        .map(|&reason| ReasonLine {
            reason,
            orders: 0,
            amount_jpy: 0,
            surcharge_jpy: 0,
            rebate_jpy: 0,
        })
        .collect();
    for line in lines {
        let entry = by_reason
            .iter_mut()
            .find(|r| r.reason == line.reason)
            .expect("every reason has an entry");
        entry.orders += 1;
        add(&mut entry.amount_jpy, line.amount_jpy, "amount by reason")?;
        add(
            &mut entry.surcharge_jpy,
            line.surcharge_jpy,
            "surcharge by reason",
        )?;
        add(&mut entry.rebate_jpy, line.rebate_jpy, "rebate by reason")?;
    }
    Ok(by_reason)
}

/// Whole months from `opened` to `month`; a hold opened in `month` is 0 months old.
pub fn months_between(opened: Month, month: Month) -> u32 {
    let mut age = 0;
    let mut cursor = opened;
    // Bounded: months span the years 1900-2200.
    while cursor < month && age < 12 * 400 {
        cursor = cursor.next();
        age += 1;
    }
    age
}

fn grouped(
    month: Month,
    entries: impl Iterator<Item = (Month, i64)>,
) -> anyhow::Result<Vec<HoldGroup>> {
    let mut by_month: BTreeMap<Month, Tally> = BTreeMap::new();
    for (opened_month, payout_jpy) in entries {
        count(
            by_month.entry(opened_month).or_default(),
            payout_jpy,
            "holds by month",
        )?;
    }
    Ok(by_month
        .into_iter()
        .map(|(opened_month, tally)| HoldGroup {
            opened_month,
            age_months: months_between(opened_month, month),
            tally,
        })
        .collect())
}

fn holds_report(
    month: Month,
    totals: &ControlTotals,
    events: &[HoldEventRow],
    mut holds: Vec<Hold>,
) -> anyhow::Result<HoldsReport> {
    let of_kind = |kind: HoldEvent| {
        events
            .iter()
            .filter(move |e| e.event == kind)
            .map(|e| (e.opened_month, e.payout_jpy))
    };
    let open_by_month = grouped(month, holds.iter().map(|h| (h.opened_month, h.payout_jpy)))?;
    holds.sort_by(|a, b| {
        (a.opened_month, std::cmp::Reverse(a.payout_jpy), &a.order_id).cmp(&(
            b.opened_month,
            std::cmp::Reverse(b.payout_jpy),
            &b.order_id,
        ))
    });
    holds.truncate(TOP_COUNT);
    Ok(HoldsReport {
        opening: totals.holds_opening,
        opened: totals.holds_opened,
        released: totals.holds_released,
        forfeited: totals.holds_forfeited,
        closing: totals.holds_closing,
        open_by_month,
        released_by_month: grouped(month, of_kind(HoldEvent::Released))?,
        forfeited_by_month: grouped(month, of_kind(HoldEvent::Forfeited))?,
        oldest_open: holds,
    })
}

fn largest_payouts(mut lancers: Vec<LancerPayout>) -> Vec<LancerPayout> {
    lancers.retain(|l| l.payable_jpy > 0);
    lancers.sort_by(|a, b| {
        (std::cmp::Reverse(a.payable_jpy), &a.lancer_id)
            .cmp(&(std::cmp::Reverse(b.payable_jpy), &b.lancer_id))
    });
    lancers.truncate(TOP_COUNT);
    lancers
}

fn rejected_groups(rows: Vec<RejectedRow>) -> Vec<RejectedGroup> {
    let mut groups: BTreeMap<RejectReason, RejectedGroup> = BTreeMap::new();
    for row in rows {
        groups
            .entry(row.reason)
            .and_modify(|g| g.rows += 1)
            .or_insert_with(|| RejectedGroup {
                reason: row.reason,
                rows: 1,
                example: row,
            });
    }
    let mut groups: Vec<RejectedGroup> = groups.into_values().collect();
    groups.sort_by(|a, b| b.rows.cmp(&a.rows).then(a.reason.cmp(&b.reason)));
    groups
}

const NS_PER_DAY: i64 = 86_400_000_000_000;

fn tokyo_date(instant_ns: i64) -> NaiveDate {
    DateTime::<Utc>::from_timestamp_nanos(instant_ns)
        .with_timezone(&BUSINESS_ZONE)
        .date_naive()
}

/// Every day of the month, with the lines completed on it. Tokyo has no daylight saving, so
/// every day is 24 hours from the month's first instant.
fn days(month: Month, lines: &[Line]) -> anyhow::Result<Vec<DayLine>> {
    let mut days = Vec::new();
    let mut day_start_ns = month.start_ns();
    while day_start_ns < month.cutoff_ns() {
        days.push(DayLine {
            date: tokyo_date(day_start_ns),
            orders: 0,
            surcharge_jpy: 0,
            paid_payout_jpy: 0,
        });
        day_start_ns += NS_PER_DAY;
    }
    for line in lines {
        if !month.contains(line.completed_at_ns) {
            bail!(
                "an order line completed at {} lies outside {month}",
                crate::calendar::format_jst(line.completed_at_ns)
            );
        }
        let index = ((line.completed_at_ns - month.start_ns()) / NS_PER_DAY) as usize;
        let day = &mut days[index];
        day.orders += 1;
        add(
            &mut day.surcharge_jpy,
            line.surcharge_jpy,
            "daily surcharge",
        )?;
        if line.payout_status == PayoutStatus::Paid {
            add(&mut day.paid_payout_jpy, line.payout_jpy, "daily payouts")?;
        }
    }
    Ok(days)
}

fn check_days(days: &[DayLine], totals: &ControlTotals) -> anyhow::Result<()> {
    let surcharge_jpy: i64 = days.iter().map(|d| d.surcharge_jpy).sum();
    let paid_jpy: i64 = days.iter().map(|d| d.paid_payout_jpy).sum();
    if surcharge_jpy != totals.surcharge_lines_jpy || paid_jpy != totals.paid_lines_payout_jpy {
        bail!(
            "the daily totals (surcharge ¥{surcharge_jpy}, paid ¥{paid_jpy}) do not add up to \
             the month's (¥{}, ¥{})",
            totals.surcharge_lines_jpy,
            totals.paid_lines_payout_jpy
        );
    }
    Ok(())
}

fn changes(
    ledger: &Ledger,
    month: Month,
    previous_version: u32,
    reason: &str,
    folder: &Path,
    totals: &ControlTotals,
) -> anyhow::Result<Changes> {
    let previous = ledger.version(month, previous_version)?;
    let mut clients: Vec<ClientAdjustment> =
        read_csv(&folder.join(output::CLIENT_ADJUSTMENTS_FILE))?;
    let mut lancers: Vec<LancerAdjustment> =
        read_csv(&folder.join(output::LANCER_ADJUSTMENTS_FILE))?;

    let mut surcharge_delta_jpy = 0;
    for client in &clients {
        add(
            &mut surcharge_delta_jpy,
            client.surcharge_jpy,
            "surcharge adjustments",
        )?;
    }
    let mut payable_delta_jpy = 0;
    for lancer in &lancers {
        add(
            &mut payable_delta_jpy,
            lancer.payable_jpy,
            "payable adjustments",
        )?;
    }
    let old = &previous.manifest.totals;
    let difference = |new: i64, old: i64| {
        new.checked_sub(old)
            .context("the difference between the versions overflows")
    };
    let expected_surcharge = difference(totals.surcharge_clients_jpy, old.surcharge_clients_jpy)?;
    let expected_payable = difference(totals.payable_jpy, old.payable_jpy)?;
    if surcharge_delta_jpy != expected_surcharge || payable_delta_jpy != expected_payable {
        bail!(
            "the adjustment files in {} add up to surcharge ¥{surcharge_delta_jpy} and payable \
             ¥{payable_delta_jpy}, but the versions differ by ¥{expected_surcharge} and \
             ¥{expected_payable}",
            folder.display()
        );
    }

    let (clients_adjusted, lancers_adjusted) = (clients.len(), lancers.len());
    clients.sort_by(|a, b| {
        let size = |c: &ClientAdjustment| {
            (
                std::cmp::Reverse(c.surcharge_jpy.unsigned_abs()),
                std::cmp::Reverse(c.amount_jpy.unsigned_abs()),
            )
        };
        (size(a), &a.client_id).cmp(&(size(b), &b.client_id))
    });
    clients.truncate(TOP_COUNT);
    lancers.sort_by(|a, b| {
        let size = |l: &LancerAdjustment| {
            std::cmp::Reverse(l.payable_jpy.unsigned_abs().max(l.held_jpy.unsigned_abs()))
        };
        (size(a), &a.lancer_id).cmp(&(size(b), &b.lancer_id))
    });
    lancers.truncate(TOP_COUNT);
    Ok(Changes {
        previous_version,
        reason: reason.to_string(),
        previous_totals: old.clone(),
        clients_adjusted,
        lancers_adjusted,
        surcharge_delta_jpy,
        payable_delta_jpy,
        largest_clients: clients,
        largest_lancers: lancers,
    })
}

/// A figure of a total: a count or an amount of yen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    Count(u64),
    Yen(i64),
}

impl Figure {
    pub fn shown(self) -> String {
        match self {
            Figure::Count(count) => thousands(count),
            Figure::Yen(jpy) => yen(jpy),
        }
    }

    /// This figure minus `before`, signed: `+3`, `-¥1,000`, `0`.
    pub fn change_from(self, before: Figure) -> String {
        match (before, self) {
            (Figure::Count(old), Figure::Count(new)) => match new.cmp(&old) {
                std::cmp::Ordering::Greater => format!("+{}", thousands(new - old)),
                std::cmp::Ordering::Less => format!("-{}", thousands(old - new)),
                std::cmp::Ordering::Equal => "0".to_string(),
            },
            (Figure::Yen(old), Figure::Yen(new)) => match new.checked_sub(old) {
                Some(change) => yen_delta(change),
                None => "overflow".to_string(),
            },
            _ => unreachable!("a count is only compared with a count"),
        }
    }
}

/// The totals a correction is judged by, before and after.
pub fn compared_totals(
    old: &ControlTotals,
    new: &ControlTotals,
) -> Vec<(&'static str, Figure, Figure)> {
    let count = |f: fn(&ControlTotals) -> u64| (Figure::Count(f(old)), Figure::Count(f(new)));
    let jpy = |f: fn(&ControlTotals) -> i64| (Figure::Yen(f(old)), Figure::Yen(f(new)));
    [
        ("orders settled", count(|t| t.order_lines)),
        ("covered orders", count(|t| t.covered_lines)),
        ("order amount", jpy(|t| t.amount_jpy)),
        ("client surcharge", jpy(|t| t.surcharge_lines_jpy)),
        ("lancer reward", jpy(|t| t.reward_jpy)),
        ("lancer rebate", jpy(|t| t.rebate_jpy)),
        ("payable now", jpy(|t| t.payable_jpy)),
        ("forfeited", jpy(|t| t.forfeited_jpy)),
        ("held at the cutoff", jpy(|t| t.holds_closing.jpy)),
    ]
    .into_iter()
    .map(|(label, (before, after))| (label, before, after))
    .collect()
}

/// `0` → `this month`, `1` → `1 month`, `5` → `5 months`.
pub fn age_text(age_months: u32) -> String {
    match age_months {
        0 => "this month".to_string(),
        1 => "1 month".to_string(),
        n => format!("{n} months"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hold_ages_count_whole_months_across_years() {
        let month = |text: &str| text.parse::<Month>().unwrap();
        assert_eq!(months_between(month("2015-12"), month("2015-12")), 0);
        assert_eq!(months_between(month("2015-10"), month("2015-12")), 2);
        assert_eq!(months_between(month("2015-11"), month("2016-02")), 3);
        assert_eq!(age_text(0), "this month");
        assert_eq!(age_text(1), "1 month");
        assert_eq!(age_text(3), "3 months");
    }
}
