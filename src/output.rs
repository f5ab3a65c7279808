//! Writing a settlement's files into a folder: the Parquet files with polars, the CSV files
//! with the `csv` crate, each flushed to disk and hashed.
//!
//! Column names and order are SPEC §8's. CSV files are UTF-8 with one header row, LF line
//! ends and rows sorted by their key; the settlement already holds every list in key order,
//! and the writers keep it. On request (`CsvStyle::bom`) a CSV file starts with a UTF-8 byte
//! order mark, which spreadsheet programs set to a Japanese locale need before they show
//! names as UTF-8; the manifest hashes the bytes as written, mark included, and `read_csv`
//! reads files with or without it.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use polars::prelude::{
    Column, DataFrame, NamedFrom, ParquetCompression, ParquetWriter, Series, TimeUnit, TimeZone,
};
use serde::{Deserialize, Serialize};

use crate::adjustments::ClientAdjustment;
use crate::input::files::sha256_file;
use crate::model::{InstantNs, RejectedRow};
use crate::settlement::{ClientCharge, Hold, HoldEventRow, LancerPayout, Settlement};

pub const ORDER_LINES_FILE: &str = "order_lines.parquet";
pub const CLIENT_CHARGES_FILE: &str = "client_charges.csv";
pub const LANCER_PAYOUTS_FILE: &str = "lancer_payouts.csv";
pub const HOLDS_FILE: &str = "holds.parquet";
pub const HOLD_EVENTS_FILE: &str = "hold_events.csv";
pub const REJECTED_ROWS_FILE: &str = "rejected_rows.csv";
pub const MANIFEST_FILE: &str = "manifest.json";
pub const ADJUSTMENTS_FOLDER: &str = "adjustments";
pub const CLIENT_ADJUSTMENTS_FILE: &str = "adjustments/client_charges.csv";
pub const LANCER_ADJUSTMENTS_FILE: &str = "adjustments/lancer_payouts.csv";

/// How CSV files are written. It changes bytes, never values: a file with the mark holds the
/// same rows as one without.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CsvStyle {
    /// Start each CSV file with the UTF-8 byte order mark (EF BB BF).
    pub bom: bool,
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// An output file as the manifest records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputFile {
    pub file: String,
    pub sha256: String,
    pub rows: u64,
}

/// Writes every data file of SPEC §8 except the manifest into `folder`. `starting` is told
/// the name of each file before it is written, so that a terminal can show progress.
pub fn write_settlement(
    folder: &Path,
    settlement: &Settlement,
    rejected_rows: &[RejectedRow],
    style: CsvStyle,
    starting: &dyn Fn(&str),
) -> anyhow::Result<Vec<OutputFile>> {
    starting(ORDER_LINES_FILE);
    let order_lines = write_order_lines(folder, settlement)?;
    crate::pause::checkpoint("order-lines-written");
    let mut written = vec![order_lines];
    starting(CLIENT_CHARGES_FILE);
    written.push(write_csv_styled(
        folder,
        CLIENT_CHARGES_FILE,
        &settlement.client_charges,
        style,
    )?);
    starting(LANCER_PAYOUTS_FILE);
    written.push(write_csv_styled(
        folder,
        LANCER_PAYOUTS_FILE,
        &settlement.lancer_payouts,
        style,
    )?);
    starting(HOLDS_FILE);
    written.push(write_holds(folder, &settlement.holds)?);
    starting(HOLD_EVENTS_FILE);
    written.push(write_csv_styled(
        folder,
        HOLD_EVENTS_FILE,
        &settlement.hold_events,
        style,
    )?);
    starting(REJECTED_ROWS_FILE);
    written.push(write_csv_styled(
        folder,
        REJECTED_ROWS_FILE,
        rejected_rows,
        style,
    )?);
    Ok(written)
}

fn business_zone() -> anyhow::Result<TimeZone> {
    TimeZone::opt_try_new(Some("Asia/Tokyo"))?.context("polars does not know zone Asia/Tokyo")
}

fn instants(name: &str, values: Vec<InstantNs>) -> anyhow::Result<Column> {
    let series = Series::new(name.into(), values)
        .into_datetime(TimeUnit::Nanoseconds, Some(business_zone()?));
    Ok(series.into())
}

pub(crate) fn text<'a>(name: &str, values: impl Iterator<Item = &'a str>) -> Column {
    Column::new(name.into(), values.collect::<Vec<&str>>())
}

fn write_order_lines(folder: &Path, settlement: &Settlement) -> anyhow::Result<OutputFile> {
    let lines = &settlement.lines;
    let columns = vec![
        text("order_id", lines.iter().map(|l| l.order.order_id.as_str())),
        text(
            "request_id",
            lines.iter().map(|l| l.order.request_id.as_str()),
        ),
        text(
            "client_id",
            lines.iter().map(|l| l.order.client_id.as_str()),
        ),
        text(
            "lancer_id",
            lines.iter().map(|l| l.order.lancer_id.as_str()),
        ),
        text(
            "work_type",
            lines.iter().map(|l| l.order.work_type.as_str()),
        ),
        Column::new(
            "amount_jpy".into(),
            lines.iter().map(|l| l.order.amount_jpy).collect::<Vec<_>>(),
        ),
        Column::new(
            "reward_jpy".into(),
            lines.iter().map(|l| l.order.reward_jpy).collect::<Vec<_>>(),
        ),
        instants(
            "ordered_at",
            lines.iter().map(|l| l.order.ordered_at).collect(),
        )?,
        instants(
            "completed_at",
            lines.iter().map(|l| l.order.completed_at).collect(),
        )?,
        Column::new(
            "covered".into(),
            lines
                .iter()
                .map(|l| l.pricing.reason.is_covered())
                .collect::<Vec<_>>(),
        ),
        text("reason", lines.iter().map(|l| l.pricing.reason.as_str())),
        Column::new(
            "surcharge_jpy".into(),
            lines
                .iter()
                .map(|l| l.pricing.surcharge_jpy)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "rebate_jpy".into(),
            lines
                .iter()
                .map(|l| l.pricing.rebate_jpy)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "payout_jpy".into(),
            lines
                .iter()
                .map(|l| l.pricing.payout_jpy)
                .collect::<Vec<_>>(),
        ),
        text(
            "payout_status",
            lines.iter().map(|l| l.payout_status.as_str()),
        ),
        text("claim_ids", lines.iter().map(|l| l.claim_ids.as_str())),
    ];
    write_parquet(
        folder,
        ORDER_LINES_FILE,
        DataFrame::new(lines.len(), columns)?,
    )
}

fn write_holds(folder: &Path, holds: &[Hold]) -> anyhow::Result<OutputFile> {
    let opened_months: Vec<String> = holds.iter().map(|h| h.opened_month.to_string()).collect();
    let columns = vec![
        text("order_id", holds.iter().map(|h| h.order_id.as_str())),
        text("lancer_id", holds.iter().map(|h| h.lancer_id.as_str())),
        Column::new(
            "reward_jpy".into(),
            holds.iter().map(|h| h.reward_jpy).collect::<Vec<_>>(),
        ),
        Column::new(
            "rebate_jpy".into(),
            holds.iter().map(|h| h.rebate_jpy).collect::<Vec<_>>(),
        ),
        Column::new(
            "payout_jpy".into(),
            holds.iter().map(|h| h.payout_jpy).collect::<Vec<_>>(),
        ),
        text("opened_month", opened_months.iter().map(String::as_str)),
        text("claim_ids", holds.iter().map(|h| h.claim_ids.as_str())),
    ];
    write_parquet(folder, HOLDS_FILE, DataFrame::new(holds.len(), columns)?)
}

fn write_parquet(folder: &Path, name: &str, frame: DataFrame) -> anyhow::Result<OutputFile> {
    let path = folder.join(name);
    let rows = frame.height() as u64;
    write_frame(&path, frame)?;
    Ok(OutputFile {
        file: name.to_string(),
        sha256: sha256_file(&path)?,
        rows,
    })
}

/// Writes a frame as a zstd-compressed Parquet file and flushes it to disk.
pub(crate) fn write_frame(path: &Path, mut frame: DataFrame) -> anyhow::Result<()> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    ParquetWriter::new(&file)
        .with_compression(ParquetCompression::Zstd(None))
        .finish(&mut frame)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.sync_all()
        .with_context(|| format!("cannot flush {} to disk", path.display()))
}

/// A row type of a CSV file, with its header in SPEC §8's column order.
pub trait CsvRecord: Serialize {
    const HEADER: &'static [&'static str];
}

impl CsvRecord for ClientCharge {
    const HEADER: &'static [&'static str] = &[
        "client_id",
        "orders",
        "covered_orders",
        "amount_jpy",
        "surcharge_jpy",
    ];
}

impl CsvRecord for LancerPayout {
    const HEADER: &'static [&'static str] = &[
        "lancer_id",
        "reward_paid_jpy",
        "rebate_paid_jpy",
        "released_jpy",
        "payable_jpy",
        "held_jpy",
        "forfeited_jpy",
    ];
}

impl CsvRecord for ClientAdjustment {
    const HEADER: &'static [&'static str] = ClientCharge::HEADER;
}

impl CsvRecord for HoldEventRow {
    const HEADER: &'static [&'static str] = &[
        "order_id",
        "lancer_id",
        "event",
        "payout_jpy",
        "opened_month",
    ];
}

impl CsvRecord for RejectedRow {
    const HEADER: &'static [&'static str] = &["file", "row", "order_id", "reason", "detail"];
}

/// Writes `rows` as a CSV file named `name` (which may include a subfolder) in `folder`. The
/// header is written explicitly so that a file with no rows still has one.
pub fn write_csv<T: CsvRecord>(
    folder: &Path,
    name: &str,
    rows: &[T],
) -> anyhow::Result<OutputFile> {
    write_csv_styled(folder, name, rows, CsvStyle::default())
}

/// `write_csv` in a chosen style: with or without the byte order mark.
pub fn write_csv_styled<T: CsvRecord>(
    folder: &Path,
    name: &str,
    rows: &[T],
    style: CsvStyle,
) -> anyhow::Result<OutputFile> {
    let path = folder.join(name);
    let failed =
        |e: &dyn std::fmt::Display| anyhow::anyhow!("cannot write {}: {e}", path.display());
    let mut file =
        File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
    if style.bom {
        file.write_all(UTF8_BOM).map_err(|e| failed(&e))?;
    }
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(BufWriter::new(file));
    writer.write_record(T::HEADER).map_err(|e| failed(&e))?;
    for row in rows {
        writer.serialize(row).map_err(|e| failed(&e))?;
    }
    let buffered = writer.into_inner().map_err(|e| failed(&e))?;
    let mut file = buffered.into_inner().map_err(|e| failed(&e))?;
    file.flush().map_err(|e| failed(&e))?;
    file.sync_all()
        .with_context(|| format!("cannot flush {} to disk", path.display()))?;
    Ok(OutputFile {
        file: name.to_string(),
        sha256: sha256_file(&path)?,
        rows: rows.len() as u64,
    })
}

/// Reads a CSV file this job wrote back into its rows. A leading byte order mark is skipped
/// (the `csv` crate strips it), so files written in either style read the same.
pub fn read_csv<T: CsvRecord + serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let header: Vec<String> = reader
        .headers()
        .with_context(|| format!("cannot read the header of {}", path.display()))?
        .iter()
        .map(str::to_string)
        .collect();
    if header != T::HEADER {
        anyhow::bail!(
            "{} has columns {header:?}, expected {:?}",
            path.display(),
            T::HEADER
        );
    }
    reader
        .deserialize()
        .enumerate()
        .map(|(index, row)| row.with_context(|| format!("{} row {}", path.display(), index + 1)))
        .collect()
}
