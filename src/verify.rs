//! `settle verify`: re-reads published versions and checks them against their manifests.
//!
//! For each version: every file the manifest lists exists with the recorded sha256 and row
//! count, and no other file lies beside them; the totals recomputed from the files equal the
//! manifest's; the ties of SPEC §8 hold; the opening holds are the holds file of the version
//! the manifest names. Nothing is written. Every problem is reported, not only the first.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Context;

use crate::calendar::Month;
use crate::input::columns::ParquetFile;
use crate::input::files::sha256_file;
use crate::ledger::{read_holds, Ledger, Version};
use crate::model::{HoldEvent, PayoutStatus};
use crate::output::{self, MANIFEST_FILE};
use crate::settlement::{self, ClientCharge, ControlTotals, HoldEventRow, LancerPayout, Tally};

#[derive(Debug, Default)]
pub struct VerifyReport {
    pub versions_checked: u64,
    /// Each problem found, naming the month and version.
    pub problems: Vec<String>,
}

/// Verifies every version of `month`, or of every month when `month` is `None`.
pub fn verify(ledger: &Ledger, month: Option<Month>) -> anyhow::Result<VerifyReport> {
    let months = match month {
        Some(month) => vec![month],
        None => ledger.months()?,
    };
    let mut report = VerifyReport::default();
    for month in months {
        let numbers = ledger.versions(month)?;
        if numbers.is_empty() {
            report
                .problems
                .push(format!("{month}: no published version"));
        }
        for number in numbers {
            report.versions_checked += 1;
            let problems = match ledger.version(month, number) {
                Ok(version) => verify_version(ledger, &version)
                    .unwrap_or_else(|error| vec![format!("cannot be read: {error:#}")]),
                Err(error) => vec![format!("{error:#}")],
            };
            report.problems.extend(
                problems
                    .into_iter()
                    .map(|p| format!("{month} v{number}: {p}")),
            );
        }
    }
    Ok(report)
}

fn verify_version(ledger: &Ledger, version: &Version) -> anyhow::Result<Vec<String>> {
    let mut problems = check_files(version)?;
    if !problems.is_empty() {
        // Totals read from files that are not the published ones would mislead.
        return Ok(problems);
    }

    let manifest = &version.manifest;
    let recomputed = recompute_totals(&version.path)?;
    let mut expected = manifest.totals.clone();
    // The opening holds are not in this version's files; they are checked below.
    expected.holds_opening = recomputed.holds_opening;
    if recomputed != expected {
        problems.push(format!(
            "totals recomputed from the files differ from the manifest: files {recomputed:?}, \
             manifest {:?}",
            manifest.totals
        ));
    }
    if let Err(error) = settlement::check_totals(&manifest.totals) {
        problems.push(format!("{error:#}"));
    }
    problems.extend(check_opening_holds(ledger, version)?);

    let rows = &manifest.rows;
    let declared: u64 = manifest.inputs.orders.iter().map(|f| f.rows).sum();
    if rows.order_lines + rows.orders_out_of_month + rows.orders_rejected != rows.orders_read
        || declared != rows.orders_read
        || rows.order_lines != manifest.totals.order_lines
    {
        problems.push(format!(
            "order rows do not tie: {rows:?}, input files declare {declared}"
        ));
    }
    Ok(problems)
}

/// Every listed file matches its sha256 and row count, and nothing unlisted lies beside them.
fn check_files(version: &Version) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    let mut listed = BTreeSet::from([MANIFEST_FILE.to_string()]);
    for output in &version.manifest.outputs {
        listed.insert(output.file.clone());
        let path = version.path.join(&output.file);
        if !path.is_file() {
            problems.push(format!("{} is missing", output.file));
            continue;
        }
        let actual = sha256_file(&path)?;
        if actual != output.sha256 {
            problems.push(format!(
                "{} has sha256 {actual}, the manifest records {}",
                output.file, output.sha256
            ));
        }
    }
    for found in files_below(&version.path, &version.path)? {
        if !listed.contains(&found) {
            problems.push(format!("{found} is not listed in the manifest"));
        }
    }
    Ok(problems)
}

fn files_below(root: &Path, folder: &Path) -> anyhow::Result<Vec<String>> {
    let mut found = Vec::new();
    for entry in
        std::fs::read_dir(folder).with_context(|| format!("cannot list {}", folder.display()))?
    {
        let path = entry
            .with_context(|| format!("cannot list {}", folder.display()))?
            .path();
        if path.is_dir() {
            found.extend(files_below(root, &path)?);
        } else {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            found.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(found)
}

fn sum(total: &mut i64, value: i64) -> anyhow::Result<()> {
    *total = total
        .checked_add(value)
        .context("a recomputed total overflows")?;
    Ok(())
}

fn tally(tally: &mut Tally, jpy: i64) -> anyhow::Result<()> {
    tally.count += 1;
    sum(&mut tally.jpy, jpy)
}

/// Adds the order lines of one row group, whose first line is line `first_row + 1`.
fn add_lines(
    totals: &mut ControlTotals,
    lines: &crate::input::columns::Columns,
    first_row: u64,
) -> anyhow::Result<()> {
    let amounts = lines.yen("amount_jpy")?;
    let rewards = lines.yen("reward_jpy")?;
    let covered = lines.boolean("covered")?;
    let surcharges = lines.yen("surcharge_jpy")?;
    let rebates = lines.yen("rebate_jpy")?;
    let payouts = lines.yen("payout_jpy")?;
    let statuses = lines.text("payout_status")?;
    let line_number = |row: usize| first_row + row as u64 + 1;
    let value = |column: &[crate::input::Field<i64>], row: usize, name: &str| {
        column[row]
            .value()
            .copied()
            .with_context(|| format!("order line {}: {name} is empty", line_number(row)))
    };
    for row in 0..amounts.len() {
        totals.order_lines += 1;
        totals.covered_lines += u64::from(covered[row] == Some(true));
        sum(&mut totals.amount_jpy, value(&amounts, row, "amount_jpy")?)?;
        sum(&mut totals.reward_jpy, value(&rewards, row, "reward_jpy")?)?;
        sum(
            &mut totals.surcharge_lines_jpy,
            value(&surcharges, row, "surcharge_jpy")?,
        )?;
        sum(&mut totals.rebate_jpy, value(&rebates, row, "rebate_jpy")?)?;
        let payout_jpy = value(&payouts, row, "payout_jpy")?;
        match statuses[row].as_deref().and_then(PayoutStatus::parse) {
            Some(PayoutStatus::Paid) => sum(&mut totals.paid_lines_payout_jpy, payout_jpy)?,
            Some(PayoutStatus::Forfeited) => sum(&mut totals.forfeited_jpy, payout_jpy)?,
            Some(PayoutStatus::Held) => {}
            None => anyhow::bail!("order line {}: unknown payout_status", line_number(row)),
        }
    }
    Ok(())
}

/// The control totals as the files themselves say them.
fn recompute_totals(folder: &Path) -> anyhow::Result<ControlTotals> {
    let mut totals = ControlTotals::default();

    // A row group at a time: the lines of a large month are never all in memory.
    let lines = ParquetFile::open(
        &folder.join(output::ORDER_LINES_FILE),
        "order lines",
        &[
            "amount_jpy",
            "reward_jpy",
            "covered",
            "surcharge_jpy",
            "rebate_jpy",
            "payout_jpy",
            "payout_status",
        ],
    )?;
    for group in 0..lines.row_groups() {
        let first_row = lines.group_start(group);
        let columns = lines.read_groups(group..group + 1)?;
        add_lines(&mut totals, &columns, first_row)?;
    }

    let clients: Vec<ClientCharge> = output::read_csv(&folder.join(output::CLIENT_CHARGES_FILE))?;
    for client in &clients {
        sum(&mut totals.surcharge_clients_jpy, client.surcharge_jpy)?;
    }
    let lancers: Vec<LancerPayout> = output::read_csv(&folder.join(output::LANCER_PAYOUTS_FILE))?;
    for lancer in &lancers {
        sum(&mut totals.payable_jpy, lancer.payable_jpy)?;
    }
    let events: Vec<HoldEventRow> = output::read_csv(&folder.join(output::HOLD_EVENTS_FILE))?;
    for event in &events {
        match event.event {
            HoldEvent::Opened => tally(&mut totals.holds_opened, event.payout_jpy)?,
            HoldEvent::Released => {
                tally(&mut totals.holds_released, event.payout_jpy)?;
                sum(&mut totals.released_jpy, event.payout_jpy)?;
            }
            HoldEvent::Forfeited => {
                tally(&mut totals.holds_forfeited, event.payout_jpy)?;
                sum(&mut totals.forfeited_jpy, event.payout_jpy)?;
            }
        }
    }
    for hold in read_holds(&folder.join(output::HOLDS_FILE))? {
        tally(&mut totals.holds_closing, hold.payout_jpy)?;
    }
    Ok(totals)
}

/// The opening holds the manifest records are those of the version it names, unchanged.
fn check_opening_holds(ledger: &Ledger, version: &Version) -> anyhow::Result<Vec<String>> {
    let manifest = &version.manifest;
    let Some(opening) = &manifest.opening_holds else {
        return Ok(if manifest.totals.holds_opening == Tally::default() {
            Vec::new()
        } else {
            vec!["opening holds are counted but no source version is named".to_string()]
        });
    };
    let source_month: Month = opening.month.parse()?;
    let source = match ledger.version(source_month, opening.version) {
        Ok(source) => source,
        Err(error) => return Ok(vec![format!("opening holds source: {error:#}")]),
    };
    let mut problems = Vec::new();
    if source.holds_sha256()? != opening.holds_sha256 {
        problems.push(format!(
            "opening holds were {} v{} with sha256 {}, which its manifest does not record",
            opening.month, opening.version, opening.holds_sha256
        ));
    }
    let mut opening_tally = Tally::default();
    for hold in ledger.holds(&source)? {
        tally(&mut opening_tally, hold.payout_jpy)?;
    }
    if opening_tally != manifest.totals.holds_opening {
        problems.push(format!(
            "opening holds in {} v{} total {opening_tally:?}, the manifest records {:?}",
            opening.month, opening.version, manifest.totals.holds_opening
        ));
    }
    Ok(problems)
}
