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
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use anyhow::Context;
use polars::io::parquet::write::BatchedWriter;
use polars::polars_utils::compression::ZstdLevel;
use polars::prelude::{Column, DataFrame, ParquetCompression, ParquetWriter, Schema};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::adjustments::ClientAdjustment;
use crate::input::files::sha256_file;
use crate::model::RejectedRow;
use crate::settlement::{Books, ClientCharge, Hold, HoldEventRow, LancerPayout};

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

/// Lines per row group of `order_lines.parquet`. Row groups are cut by line count alone, so
/// the file's bytes depend on its lines, not on how the input was split into batches.
pub const ORDER_LINES_GROUP_ROWS: usize = 1 << 19;

/// zstd at level 1: on the benchmark month it writes the order lines a fifth faster than the
/// default level 3, for a file 2% larger. They are written once and read a few times.
pub fn order_lines_compression() -> ParquetCompression {
    let level = ZstdLevel::try_new(1).expect("zstd has a level 1");
    ParquetCompression::Zstd(Some(level))
}

/// Writes `order_lines.parquet` as batches of lines arrive, in row groups of
/// `ORDER_LINES_GROUP_ROWS`, hashing the bytes as they are written.
pub struct OrderLinesWriter {
    path: PathBuf,
    writer: BatchedWriter<HashingWriter>,
    hasher: Arc<Mutex<HashState>>,
    pending: Option<DataFrame>,
    rows: u64,
}

struct HashState {
    file: BufWriter<File>,
    sha256: Sha256,
}

/// A file writer that hashes what it writes. The state is shared so that it can be taken
/// back after the Parquet writer, which owns its writer, has finished.
struct HashingWriter(Arc<Mutex<HashState>>);

impl Write for HashingWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut state = self.0.lock().expect("the hashing state is never poisoned");
        let written = state.file.write(bytes)?;
        state.sha256.update(&bytes[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0
            .lock()
            .expect("the hashing state is never poisoned")
            .file
            .flush()
    }
}

impl OrderLinesWriter {
    /// Creates `order_lines.parquet` in `folder` for lines with the columns of `schema`.
    pub fn create(folder: &Path, schema: &Schema) -> anyhow::Result<OrderLinesWriter> {
        let path = folder.join(ORDER_LINES_FILE);
        let file =
            File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        let hasher = Arc::new(Mutex::new(HashState {
            file: BufWriter::with_capacity(1 << 20, file),
            sha256: Sha256::new(),
        }));
        let writer = ParquetWriter::new(HashingWriter(hasher.clone()))
            .with_compression(order_lines_compression())
            .batched(schema)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(OrderLinesWriter {
            path,
            writer,
            hasher,
            pending: None,
            rows: 0,
        })
    }

    /// Adds lines, which follow every line written before in the file's order.
    pub fn write(&mut self, lines: DataFrame) -> anyhow::Result<()> {
        self.rows += lines.height() as u64;
        let mut pending = match self.pending.take() {
            None => lines,
            Some(mut pending) => {
                pending.vstack_mut_owned(lines)?;
                pending
            }
        };
        while pending.height() >= ORDER_LINES_GROUP_ROWS {
            let rest = pending.slice(
                ORDER_LINES_GROUP_ROWS as i64,
                pending.height() - ORDER_LINES_GROUP_ROWS,
            );
            let group = pending.slice(0, ORDER_LINES_GROUP_ROWS);
            self.write_group(group)?;
            tracing::debug!(
                stage = "write",
                rows = ORDER_LINES_GROUP_ROWS,
                "row group written"
            );
            pending = rest;
        }
        self.pending = Some(pending);
        Ok(())
    }

    fn write_group(&mut self, group: DataFrame) -> anyhow::Result<()> {
        let mut group = group;
        group.rechunk_mut();
        self.writer
            .write_batch(&group)
            .with_context(|| format!("cannot write {}", self.path.display()))
    }

    /// Writes the last row group and the footer, flushes the file to disk and returns it as
    /// the manifest records it.
    pub fn finish(mut self) -> anyhow::Result<OutputFile> {
        if let Some(pending) = self.pending.take() {
            if pending.height() > 0 {
                self.write_group(pending)?;
            }
        }
        let failed = |e: &dyn std::fmt::Display| {
            anyhow::anyhow!("cannot write {}: {e}", self.path.display())
        };
        self.writer.finish().map_err(|e| failed(&e))?;
        drop(self.writer);
        let state = Arc::try_unwrap(self.hasher)
            .map_err(|_| anyhow::anyhow!("{} is still being written", self.path.display()))?
            .into_inner()
            .expect("the hashing state is never poisoned");
        let file = state.file.into_inner().map_err(|e| failed(&e))?;
        file.sync_all()
            .with_context(|| format!("cannot flush {} to disk", self.path.display()))?;
        Ok(OutputFile {
            file: ORDER_LINES_FILE.to_string(),
            sha256: hex::encode(state.sha256.finalize()),
            rows: self.rows,
        })
    }
}

/// An `OrderLinesWriter` on a thread of its own, so that encoding, compressing and writing a
/// batch of lines overlaps with settling the next one.
pub struct OrderLinesThread {
    sender: Option<SyncSender<DataFrame>>,
    thread: Option<JoinHandle<anyhow::Result<OutputFile>>>,
}

impl OrderLinesThread {
    pub fn spawn(mut writer: OrderLinesWriter) -> anyhow::Result<OrderLinesThread> {
        // Two batches may wait, so that handing over the few rows settled after the others
        // does not wait for a row group to be compressed.
        let (sender, receiver) = sync_channel::<DataFrame>(2);
        let thread = std::thread::Builder::new()
            .name("settle-write".into())
            .spawn(move || {
                for lines in receiver {
                    writer.write(lines)?;
                }
                writer.finish()
            })
            .context("cannot start the writing thread")?;
        Ok(OrderLinesThread {
            sender: Some(sender),
            thread: Some(thread),
        })
    }

    pub fn write(&mut self, lines: DataFrame) -> anyhow::Result<()> {
        let sent = self
            .sender
            .as_ref()
            .map(|sender| sender.send(lines).is_ok());
        if sent == Some(true) {
            return Ok(());
        }
        // The thread stopped taking lines: it failed, and says why when joined.
        self.join()
            .and_then(|_| anyhow::bail!("the order lines writer stopped early"))
    }

    /// Waits for every line to be written; returns the file as the manifest records it.
    pub fn finish(mut self) -> anyhow::Result<OutputFile> {
        self.join()
    }

    fn join(&mut self) -> anyhow::Result<OutputFile> {
        self.sender = None;
        let thread = self
            .thread
            .take()
            .context("the order lines writer was already finished")?;
        thread.join().expect("the writing thread does not panic")
    }
}

impl Drop for OrderLinesThread {
    /// A run that fails stops the writer before its staging folder is removed.
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.join();
        }
    }
}

/// Writes every data file of SPEC §8 except the order lines and the manifest into `folder`.
/// The two large CSV files are written on two threads. `starting` is told the name of each
/// file before it is written, so that a terminal can show progress.
pub fn write_books(
    folder: &Path,
    books: &Books,
    rejected_rows: &[RejectedRow],
    style: CsvStyle,
    starting: &dyn Fn(&str),
) -> anyhow::Result<Vec<OutputFile>> {
    starting(CLIENT_CHARGES_FILE);
    starting(LANCER_PAYOUTS_FILE);
    let (clients, lancers) = std::thread::scope(|scope| {
        let clients = scope
            .spawn(|| write_csv_styled(folder, CLIENT_CHARGES_FILE, &books.client_charges, style));
        let lancers = write_csv_styled(folder, LANCER_PAYOUTS_FILE, &books.lancer_payouts, style);
        (
            clients.join().expect("a CSV writer does not panic"),
            lancers,
        )
    });
    let mut written = vec![clients?, lancers?];
    starting(HOLDS_FILE);
    written.push(write_holds(folder, &books.holds)?);
    starting(HOLD_EVENTS_FILE);
    written.push(write_csv_styled(
        folder,
        HOLD_EVENTS_FILE,
        &books.hold_events,
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

pub(crate) fn text<'a>(name: &str, values: impl Iterator<Item = &'a str>) -> Column {
    Column::new(name.into(), values.collect::<Vec<&str>>())
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

/// Writes `rows` as a CSV file named `name` (which may include a subfolder) in `folder`, in a
/// chosen style (with or without the byte order mark). The header is written explicitly so
/// that a file with no rows still has one.
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
