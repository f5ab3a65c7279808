//! Writing a settlement's files into a folder: the Parquet files with polars, the CSV files
//! with the `csv` crate, each flushed to disk and hashed.
//!
//! Column names and order are SPEC §8's. CSV files are UTF-8 with one header row, LF line
//! ends and rows sorted by their key; the settlement already holds every list in key order,
//! and the writers keep it.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use polars::prelude::{
    Column, DataFrame, NamedFrom, ParquetCompression, ParquetWriter, Series, TimeUnit, TimeZone,
};
use serde::{Deserialize, Serialize};

use crate::input::files::sha256_file;
use crate::model::{InstantNs, RejectedRow};
use crate::settlement::{Hold, Settlement};

pub const ORDER_LINES_FILE: &str = "order_lines.parquet";
pub const CLIENT_CHARGES_FILE: &str = "client_charges.csv";
pub const LANCER_PAYOUTS_FILE: &str = "lancer_payouts.csv";
pub const HOLDS_FILE: &str = "holds.parquet";
pub const HOLD_EVENTS_FILE: &str = "hold_events.csv";
pub const REJECTED_ROWS_FILE: &str = "rejected_rows.csv";
pub const MANIFEST_FILE: &str = "manifest.json";

/// An output file as the manifest records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputFile {
    pub file: String,
    pub sha256: String,
    pub rows: u64,
}

/// Writes every data file of SPEC §8 except the manifest into `folder`.
pub fn write_settlement(
    folder: &Path,
    settlement: &Settlement,
    rejected_rows: &[RejectedRow],
) -> anyhow::Result<Vec<OutputFile>> {
    Ok(vec![
        write_order_lines(folder, settlement)?,
        write_csv(folder, CLIENT_CHARGES_FILE, client_charge_rows(settlement))?,
        write_csv(folder, LANCER_PAYOUTS_FILE, lancer_payout_rows(settlement))?,
        write_holds(folder, &settlement.holds)?,
        write_csv(folder, HOLD_EVENTS_FILE, hold_event_rows(settlement))?,
        write_csv(folder, REJECTED_ROWS_FILE, rejected_row_rows(rejected_rows))?,
    ])
}

fn business_zone() -> anyhow::Result<TimeZone> {
    TimeZone::opt_try_new(Some("Asia/Tokyo"))?.context("polars does not know zone Asia/Tokyo")
}

fn instants(name: &str, values: Vec<InstantNs>) -> anyhow::Result<Column> {
    let series = Series::new(name.into(), values)
        .into_datetime(TimeUnit::Nanoseconds, Some(business_zone()?));
    Ok(series.into())
}

fn text<'a>(name: &str, values: impl Iterator<Item = &'a str>) -> Column {
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

fn write_parquet(folder: &Path, name: &str, mut frame: DataFrame) -> anyhow::Result<OutputFile> {
    let path = folder.join(name);
    let file = File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
    let rows = frame.height() as u64;
    ParquetWriter::new(&file)
        .with_compression(ParquetCompression::Zstd(None))
        .finish(&mut frame)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.sync_all()
        .with_context(|| format!("cannot flush {} to disk", path.display()))?;
    Ok(OutputFile {
        file: name.to_string(),
        sha256: sha256_file(&path)?,
        rows,
    })
}

/// A CSV file: a header and rows of already formatted fields.
struct CsvRows {
    header: &'static [&'static str],
    rows: Vec<Vec<String>>,
}

fn write_csv(folder: &Path, name: &str, table: CsvRows) -> anyhow::Result<OutputFile> {
    let path = folder.join(name);
    let file = File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(BufWriter::new(file));
    writer
        .write_record(table.header)
        .with_context(|| format!("cannot write {}", path.display()))?;
    for row in &table.rows {
        writer
            .write_record(row)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let buffered = writer
        .into_inner()
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    let mut file = buffered
        .into_inner()
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    file.flush()
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.sync_all()
        .with_context(|| format!("cannot flush {} to disk", path.display()))?;
    Ok(OutputFile {
        file: name.to_string(),
        sha256: sha256_file(&path)?,
        rows: table.rows.len() as u64,
    })
}

fn client_charge_rows(settlement: &Settlement) -> CsvRows {
    CsvRows {
        header: &[
            "client_id",
            "orders",
            "covered_orders",
            "amount_jpy",
            "surcharge_jpy",
        ],
        rows: settlement
            .client_charges
            .iter()
            .map(|c| {
                vec![
                    c.client_id.clone(),
                    c.orders.to_string(),
                    c.covered_orders.to_string(),
                    c.amount_jpy.to_string(),
                    c.surcharge_jpy.to_string(),
                ]
            })
            .collect(),
    }
}

fn lancer_payout_rows(settlement: &Settlement) -> CsvRows {
    CsvRows {
        header: &[
            "lancer_id",
            "reward_paid_jpy",
            "rebate_paid_jpy",
            "released_jpy",
            "payable_jpy",
            "held_jpy",
            "forfeited_jpy",
        ],
        rows: settlement
            .lancer_payouts
            .iter()
            .map(|p| {
                vec![
                    p.lancer_id.clone(),
                    p.reward_paid_jpy.to_string(),
                    p.rebate_paid_jpy.to_string(),
                    p.released_jpy.to_string(),
                    p.payable_jpy.to_string(),
                    p.held_jpy.to_string(),
                    p.forfeited_jpy.to_string(),
                ]
            })
            .collect(),
    }
}

fn hold_event_rows(settlement: &Settlement) -> CsvRows {
    CsvRows {
        header: &[
            "order_id",
            "lancer_id",
            "event",
            "payout_jpy",
            "opened_month",
        ],
        rows: settlement
            .hold_events
            .iter()
            .map(|e| {
                vec![
                    e.order_id.clone(),
                    e.lancer_id.clone(),
                    e.event.to_string(),
                    e.payout_jpy.to_string(),
                    e.opened_month.to_string(),
                ]
            })
            .collect(),
    }
}

fn rejected_row_rows(rejected: &[RejectedRow]) -> CsvRows {
    CsvRows {
        header: &["file", "row", "order_id", "reason", "detail"],
        rows: rejected
            .iter()
            .map(|r| {
                vec![
                    r.file.clone(),
                    r.row.to_string(),
                    r.order_id.clone().unwrap_or_default(),
                    r.reason.to_string(),
                    r.detail.clone(),
                ]
            })
            .collect(),
    }
}
