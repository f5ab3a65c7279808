//! The I/O floor of a month's settlement, for the benchmark in `bench/`: reads the columns the
//! job reads from an orders file and writes an order-lines file of the same rows and columns,
//! applying no rule, with the job's writer settings, then flushes it to disk as the job does.
//! No settlement can take less time than this.
//!
//! usage: io_floor ORDERS OUT_FILE
//!
//! The computed columns are filled from input columns of the same type instead of by the rules
//! (`covered` from `lancer_certified`, `reason` from `work_type`, the three amounts from
//! `amount_jpy` and `reward_jpy`), and `payout_status` and `claim_ids` with constants, so that
//! the file has the job's shape with no work done to fill it. Polars reads and writes it, with
//! as many threads as it is given (`POLARS_MAX_THREADS`).

use std::fs::File;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use polars::prelude::{
    col, lit, DataType, IntoLazy, ParquetReader, ParquetWriter, SerReader, TimeUnit, TimeZone,
};
use settle::input::rows::ORDER_COLUMNS;
use settle::output::{order_lines_compression, ORDER_LINES_GROUP_ROWS};
use settle::settlement::lines::LINE_COLUMNS;

fn main() -> anyhow::Result<()> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let [orders, out] = arguments.as_slice() else {
        anyhow::bail!("usage: io_floor ORDERS OUT_FILE");
    };
    let (orders, out) = (PathBuf::from(orders), PathBuf::from(out));
    let started = Instant::now();

    let file = File::open(&orders).with_context(|| format!("cannot open {}", orders.display()))?;
    let columns = ORDER_COLUMNS.iter().map(|c| c.to_string()).collect();
    let frame = ParquetReader::new(file)
        .with_columns(Some(columns))
        .finish()
        .with_context(|| format!("cannot read {}", orders.display()))?;

    let zone = TimeZone::opt_try_new(Some("Asia/Tokyo"))?.context("no zone Asia/Tokyo")?;
    let instant = DataType::Datetime(TimeUnit::Nanoseconds, Some(zone));
    let mut lines = frame
        .lazy()
        .select([
            col("order_id"),
            col("request_id"),
            col("client_id"),
            col("lancer_id"),
            col("work_type"),
            col("amount_jpy").cast(DataType::Int64),
            col("reward_jpy").cast(DataType::Int64),
            col("ordered_at").cast(instant.clone()),
            col("completed_at").cast(instant),
            col("lancer_certified").alias("covered"),
            col("work_type").alias("reason"),
            col("amount_jpy")
                .cast(DataType::Int64)
                .alias("surcharge_jpy"),
            col("reward_jpy").cast(DataType::Int64).alias("rebate_jpy"),
            col("reward_jpy").cast(DataType::Int64).alias("payout_jpy"),
            lit("paid").alias("payout_status"),
            lit("").alias("claim_ids"),
        ])
        .collect()?;
    anyhow::ensure!(
        lines
            .get_column_names()
            .iter()
            .map(|name| name.as_str())
            .eq(LINE_COLUMNS),
        "the floor's columns are not the order lines' columns"
    );

    let file = File::create(&out).with_context(|| format!("cannot create {}", out.display()))?;
    ParquetWriter::new(&file)
        .with_compression(order_lines_compression())
        .with_row_group_size(Some(ORDER_LINES_GROUP_ROWS))
        .finish(&mut lines)?;
    file.sync_all()?;
    eprintln!(
        "io floor: {} rows in {:.2} s",
        lines.height(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
