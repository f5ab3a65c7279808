//! Orders files read a run of row groups at a time, as columns, so that a month far larger than
//! memory would hold as rows can be settled batch by batch.
//!
//! A batch is at most `BATCH_ROWS` consecutive rows of one file: small row groups are read
//! together, and a run of them larger than a batch, or one large group, is read in parts. A
//! row group whose statistics prove that every row completed
//! outside the month (each row has a valid instant, all of them before or after it) is not
//! decoded at all: its rows are only counted, which is all validation does with such rows.
//! Statistics are trusted only where they say exactly that: INT64 instants with the UTC flag,
//! no nulls, both bounds present. Wall-clock and INT96 timestamps are always read, since a
//! wall-clock time that does not exist in its zone must be rejected, not counted.

use std::path::PathBuf;

use chrono_tz::Tz;
use polars::prelude::{BooleanChunked, NewChunkedArray, StringChunked};

use super::columns::{without_panics, Columns, FieldColumn, ParquetFile};
use super::files::{sha256_file, InputFile};
use super::rows::{RawOrder, RowOrigin, ORDER_COLUMNS};
use crate::calendar::Month;
use crate::progress::Progress;

/// Rows a batch holds at most: large enough that the per-batch costs vanish, small enough that
/// the batches in flight stay below the memory target. On the 10M benchmark month (row groups
/// of a million rows) 2^18 took 10.4 s, 2^19 9.0-9.4 s and 2^20 8.8-8.9 s, with 1.6-1.7 GiB
/// peak memory.
pub const BATCH_ROWS: u64 = 1 << 20;

/// Where a batch's rows came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origins {
    /// Consecutive rows of one file, the first at the given 1-based position.
    Contiguous { file_index: usize, first_row: u64 },
    /// Each row's own origin, for batches made from rows.
    Listed(Vec<RowOrigin>),
}

/// The columns of a run of order rows, each decoded into one representation.
#[derive(Debug, Clone)]
pub struct OrderBatch {
    pub origins: Origins,
    pub order_id: StringChunked,
    pub request_id: StringChunked,
    pub client_id: StringChunked,
    pub lancer_id: StringChunked,
    pub work_type: StringChunked,
    pub lancer_certified: BooleanChunked,
    pub request_created_at: FieldColumn,
    pub ordered_at: FieldColumn,
    pub completed_at: FieldColumn,
    pub amount_jpy: FieldColumn,
    pub reward_jpy: FieldColumn,
}

impl OrderBatch {
    fn decode(
        columns: &Columns,
        naive_zone: Tz,
        file_index: usize,
        first_row: u64,
    ) -> anyhow::Result<OrderBatch> {
        Ok(OrderBatch {
            origins: Origins::Contiguous {
                file_index,
                first_row,
            },
            order_id: single_chunk(columns.strings("order_id")?),
            request_id: single_chunk(columns.strings("request_id")?),
            client_id: single_chunk(columns.strings("client_id")?),
            lancer_id: single_chunk(columns.strings("lancer_id")?),
            work_type: single_chunk(columns.strings("work_type")?),
            lancer_certified: columns.booleans("lancer_certified")?.rechunk().into_owned(),
            request_created_at: columns.instant_column("request_created_at", naive_zone)?,
            ordered_at: columns.instant_column("ordered_at", naive_zone)?,
            completed_at: columns.instant_column("completed_at", naive_zone)?,
            amount_jpy: columns.yen_column("amount_jpy")?,
            reward_jpy: columns.yen_column("reward_jpy")?,
        })
    }

    /// A batch of rows already read, each keeping its own origin.
    pub fn from_rows(rows: &[RawOrder]) -> OrderBatch {
        let text = |name: &str, value: fn(&RawOrder) -> Option<&str>| {
            StringChunked::from_iter_options(name.into(), rows.iter().map(value))
        };
        let field = |value: fn(&RawOrder) -> &super::Field<i64>| {
            let mut column = FieldColumn::with_capacity(rows.len());
            for row in rows {
                column.push(value(row).clone());
            }
            column
        };
        OrderBatch {
            origins: Origins::Listed(rows.iter().map(|row| row.origin).collect()),
            order_id: text("order_id", |r| r.order_id.as_deref()),
            request_id: text("request_id", |r| r.request_id.as_deref()),
            client_id: text("client_id", |r| r.client_id.as_deref()),
            lancer_id: text("lancer_id", |r| r.lancer_id.as_deref()),
            work_type: text("work_type", |r| r.work_type.as_deref()),
            lancer_certified: BooleanChunked::from_iter_options(
                "lancer_certified".into(),
                rows.iter().map(|r| r.lancer_certified),
            ),
            request_created_at: field(|r| &r.request_created_at),
            ordered_at: field(|r| &r.ordered_at),
            completed_at: field(|r| &r.completed_at),
            amount_jpy: field(|r| &r.amount_jpy),
            reward_jpy: field(|r| &r.reward_jpy),
        }
    }

    pub fn len(&self) -> usize {
        self.completed_at.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn origin(&self, row: usize) -> RowOrigin {
        match &self.origins {
            Origins::Contiguous {
                file_index,
                first_row,
            } => RowOrigin {
                file_index: *file_index,
                row: first_row + row as u64,
            },
            Origins::Listed(origins) => origins[row],
        }
    }

    /// One row as plain values, for the checks that name exactly what is wrong with it.
    pub fn raw(&self, row: usize) -> RawOrder {
        let text = |column: &StringChunked| column.get(row).map(str::to_string);
        RawOrder {
            origin: self.origin(row),
            order_id: text(&self.order_id),
            request_id: text(&self.request_id),
            client_id: text(&self.client_id),
            lancer_id: text(&self.lancer_id),
            work_type: text(&self.work_type),
            lancer_certified: self.lancer_certified.get(row),
            request_created_at: self.request_created_at.field(row),
            ordered_at: self.ordered_at.field(row),
            completed_at: self.completed_at.field(row),
            amount_jpy: self.amount_jpy.field(row),
            reward_jpy: self.reward_jpy.field(row),
        }
    }
}

fn single_chunk(strings: StringChunked) -> StringChunked {
    strings.rechunk().into_owned()
}

/// What a reader hands on: decoded rows, or rows proven to lie outside the month.
pub enum Piece {
    Batch(Box<OrderBatch>),
    /// `earlier`: the rows completed before the month (rather than after it).
    OutOfMonth {
        rows: u64,
        earlier: bool,
    },
}

/// The orders files of a run, opened and hashed, read in order.
pub struct OrderFiles {
    files: Vec<ParquetFile>,
    pub inputs: Vec<InputFile>,
    naive_zone: Tz,
    progress: Progress,
}

impl OrderFiles {
    /// Opens every file (checking its footer and column kinds) and hashes it. Reads no rows.
    /// `progress` shows each file as it is opened, and again as its rows are read.
    pub fn open(
        paths: &[PathBuf],
        naive_zone: Tz,
        progress: Progress,
    ) -> anyhow::Result<OrderFiles> {
        let mut files = Vec::with_capacity(paths.len());
        let mut inputs = Vec::with_capacity(paths.len());
        for (index, path) in paths.iter().enumerate() {
            progress.file("opening", "orders", index, paths.len(), path);
            let file = ParquetFile::open(path, "orders", &ORDER_COLUMNS)?;
            inputs.push(InputFile {
                path: path.clone(),
                sha256: sha256_file(path)?,
                rows: file.rows,
            });
            files.push(file);
        }
        Ok(OrderFiles {
            files,
            inputs,
            naive_zone,
            progress,
        })
    }

    pub fn rows(&self) -> u64 {
        self.files.iter().map(|file| file.rows).sum()
    }

    /// `Some(earlier)` when every row of the group completed outside the month (`outside`),
    /// confirmed by reading its `completed_at` alone: statistics are only what the writer
    /// wrote, and a wrong or damaged footer must not hide a month's orders. A group whose
    /// values contradict its statistics is read in full, like any other, and logged.
    fn skippable(
        &self,
        file: &ParquetFile,
        group: usize,
        month: Month,
    ) -> anyhow::Result<Option<bool>> {
        let Some(earlier) = outside(file, group, month) else {
            return Ok(None);
        };
        let columns = file.read_group_columns(group, &["completed_at"])?;
        let completed = columns.instant_column("completed_at", self.naive_zone)?;
        let confirmed = (0..completed.len()).all(|row| match completed.value(row) {
            Some(ns) if earlier => ns < month.start_ns(),
            Some(ns) => ns >= month.cutoff_ns(),
            None => false,
        });
        if !confirmed {
            tracing::warn!(
                stage = "read",
                file = %file.path.display(),
                row_group = group,
                "the row group's statistics put every row outside {month}, but its values do \
                 not; reading it in full"
            );
        }
        Ok(confirmed.then_some(earlier))
    }

    /// Reads every file in order, batch by batch, handing each piece to `take`, which may
    /// stop the reading by returning `false`.
    pub fn read(
        &self,
        month: Month,
        mut take: impl FnMut(Piece) -> anyhow::Result<bool>,
    ) -> anyhow::Result<()> {
        for (file_index, file) in self.files.iter().enumerate() {
            let count = self.files.len();
            (self.progress).file("reading", "orders", file_index, count, &file.path);
            let mut first_row = 1;
            let mut group = 0;
            while group < file.row_groups() {
                if let Some(earlier) = self.skippable(file, group, month)? {
                    let rows = file.group_rows(group);
                    first_row += rows;
                    group += 1;
                    if !take(Piece::OutOfMonth { rows, earlier })? {
                        return Ok(());
                    }
                    continue;
                }
                // This group is read (the check above did not skip it, whatever its statistics
                // say), and so are the groups after it up to a batch, unless their statistics
                // put them outside the month: the check above then looks at them first.
                let start = group;
                let mut rows = file.group_rows(group);
                group += 1;
                while group < file.row_groups()
                    && rows < BATCH_ROWS
                    && outside(file, group, month).is_none()
                {
                    rows += file.group_rows(group);
                    group += 1;
                }
                // A row group larger than a batch is read in parts, so that the rows in flight
                // stay a few batches whatever the writer's row groups.
                file.check_groups(start..group)?;
                let file_row = file.group_start(start);
                for part in (0..rows).step_by(BATCH_ROWS as usize) {
                    let part_rows = BATCH_ROWS.min(rows - part);
                    let started = std::time::Instant::now();
                    let columns = file.read_rows(file_row + part, part_rows)?;
                    let read_ms = started.elapsed().as_millis() as u64;
                    let batch = without_panics("orders", &file.path, || {
                        OrderBatch::decode(&columns, self.naive_zone, file_index, first_row)
                    })?;
                    drop(columns);
                    tracing::debug!(
                        stage = "read",
                        rows = part_rows,
                        read_ms,
                        decode_ms = started.elapsed().as_millis() as u64 - read_ms,
                        "rows read"
                    );
                    first_row += part_rows;
                    if !take(Piece::Batch(Box::new(batch)))? {
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }
}

/// `Some(earlier)` when the row group's statistics say that every row completed outside the
/// month, `earlier` saying whether before it; `None` when its rows must be read to know.
fn outside(file: &ParquetFile, group: usize, month: Month) -> Option<bool> {
    let (earliest, latest) = file.instant_bounds(group, "completed_at")?;
    if latest < month.start_ns() {
        Some(true)
    } else if earliest >= month.cutoff_ns() {
        Some(false)
    } else {
        None
    }
}
