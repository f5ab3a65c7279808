//! A month's orders settled batch by batch, from the input files to `order_lines.parquet` and
//! the month's books, in memory that grows with the number of clients and lancers rather than
//! with the number of orders.
//!
//! Two threads share the work. One reads the orders files a batch at a time, judges each row
//! by itself (`validate::screen_rows`) and prices the candidates (`LineBatch::price`); the
//! other finds duplicated and already settled ids (`DuplicateScreen`), adds the lines to the
//! books and hands them to a third, which compresses and writes them. The second holds back
//! the rows of each batch's last id, since the first id of the next batch decides whether that
//! id has a copy.
//!
//! Order lines are written in order id order. When the files hold their ids in ascending
//! order (as exports sorted by id do, and as the generator writes them), the batches are
//! written as they come. When they do not, the run notices at the first id out of order,
//! starts again, and settles the month in memory: every batch is priced and kept, the whole
//! month sorted by id, and the sorted lines written as if they had come in that order. Both
//! ways give the same files.

use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use anyhow::Context;
use tracing::{debug, info};

use crate::calendar::Month;
use crate::input::rows::RowOrigin;
use crate::input::{OrderFiles, Piece};
use crate::output::{OrderLinesThread, OrderLinesWriter};
use crate::policy::Rules;
use crate::settlement::lines::{line_schema, LineBatch};
use crate::settlement::{ClaimBook, MonthBook};
use crate::validate::{self, DuplicateScreen, EarlierRows, NotAscending, Rejection};

/// What settling a month's orders needs besides the files.
pub struct MonthRun<'a> {
    pub month: Month,
    pub rules: &'a Rules,
    pub claims: &'a ClaimBook,
    /// Order ids settled in earlier months, with where.
    pub settled_before: &'a HashMap<String, String>,
}

/// A month's orders, settled; the last of the order lines may still be being written.
pub struct SettledOrders {
    pub order_lines: OrderLinesThread,
    pub book: MonthBook,
    /// Rejected order rows, in no particular order.
    pub rejected: Vec<Rejection>,
    pub orders_read: u64,
    pub out_of_month_rows: u64,
    /// Of the rows out of the month, those completed before it.
    pub earlier: EarlierRows,
    /// Whether the ids came in ascending order, so that no batch had to be held.
    pub streamed: bool,
}

/// Settles every order of `files` for the month, writing `order_lines.parquet` into `folder`.
pub fn settle_orders(
    files: &OrderFiles,
    run: &MonthRun<'_>,
    folder: &Path,
) -> anyhow::Result<SettledOrders> {
    let started = Instant::now();
    match settle_streaming(files, run, folder)? {
        Ok(settled) => Ok(settled),
        Err(not_ascending) => {
            info!(
                stage = "settle",
                detail = %not_ascending,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "order ids are not in ascending order; settling the month in memory"
            );
            settle_in_memory(files, run, folder)
        }
    }
}

/// What the reading thread counts and rejects.
#[derive(Default)]
struct Intake {
    orders_read: u64,
    out_of_month_rows: u64,
    earlier: EarlierRows,
    rejected: Vec<Rejection>,
}

impl Intake {
    /// Judges a piece's rows by themselves; returns the candidates priced as lines, if any.
    fn take(&mut self, piece: Piece, run: &MonthRun<'_>) -> anyhow::Result<Option<LineBatch>> {
        let batch = match piece {
            Piece::OutOfMonth { rows, earlier } => {
                self.orders_read += rows;
                self.out_of_month_rows += rows;
                if earlier {
                    self.earlier.rows += rows;
                }
                return Ok(None);
            }
            Piece::Batch(batch) => batch,
        };
        self.orders_read += batch.len() as u64;
        let started = Instant::now();
        let screened = validate::screen_rows(&batch, run.month);
        let screen_ms = started.elapsed().as_millis() as u64;
        self.out_of_month_rows += screened.out_of_month_rows;
        self.earlier.extend(screened.earlier);
        self.rejected.extend(
            screened
                .rejected
                .into_iter()
                .map(|(_, rejection)| rejection),
        );
        if screened.candidates.is_empty() {
            return Ok(None);
        }
        let lines = LineBatch::price(&batch, &screened.candidates, run.rules, run.claims)?;
        debug!(
            stage = "read",
            lines = lines.len(),
            screen_ms,
            price_ms = started.elapsed().as_millis() as u64 - screen_ms,
            "batch priced"
        );
        Ok(Some(lines))
    }
}

/// The ascending path: reads and writes at once, on two threads. Returns `NotAscending`
/// (having written a file that must be thrown away) at the first id out of order.
fn settle_streaming(
    files: &OrderFiles,
    run: &MonthRun<'_>,
    folder: &Path,
) -> anyhow::Result<Result<SettledOrders, NotAscending>> {
    let mut lines_out = LinesOut::create(folder, run)?;
    // The reader hands a batch over only when the main thread takes it, so that no more than
    // one priced batch waits: each is a few hundred megabytes.
    let (sender, receiver) = sync_channel::<LineBatch>(0);
    let (intake, written) = std::thread::scope(|scope| {
        let reader = std::thread::Builder::new()
            .name("settle-read".into())
            .spawn_scoped(scope, move || -> anyhow::Result<Intake> {
                let mut intake = Intake::default();
                files.read(run.month, |piece| match intake.take(piece, run)? {
                    // A closed channel means the writer stopped; so does the reader.
                    Some(lines) => Ok(sender.send(lines).is_ok()),
                    None => Ok(true),
                })?;
                Ok(intake)
            })
            .context("cannot start the reading thread")?;
        let mut written = Ok(Ok(()));
        for lines in receiver {
            written = lines_out.push(lines);
            if !matches!(written, Ok(Ok(()))) {
                break;
            }
        }
        let intake = reader.join().expect("the reading thread does not panic");
        anyhow::Ok((intake, written))
    })?;
    let intake = intake?;
    if let Err(not_ascending) = written? {
        return Ok(Err(not_ascending));
    }
    match lines_out.finish(intake, true)? {
        Ok(settled) => Ok(Ok(settled)),
        Err(not_ascending) => Ok(Err(not_ascending)),
    }
}

/// The path for ids in any order: every batch priced and kept, then sorted by id.
fn settle_in_memory(
    files: &OrderFiles,
    run: &MonthRun<'_>,
    folder: &Path,
) -> anyhow::Result<SettledOrders> {
    let mut intake = Intake::default();
    let mut batches = Vec::new();
    files.read(run.month, |piece| {
        batches.extend(intake.take(piece, run)?);
        Ok(true)
    })?;
    let sorted = LineBatch::sorted(batches)?;

    let mut lines_out = LinesOut::create(folder, run)?;
    let batch_rows = crate::input::batches::BATCH_ROWS as usize;
    for offset in (0..sorted.len()).step_by(batch_rows) {
        lines_out
            .push(sorted.slice(offset, batch_rows))?
            .context("sorted order ids are in ascending order")?;
    }
    lines_out
        .finish(intake, false)?
        .context("sorted order ids are in ascending order")
}

/// The writing side: duplicates and already settled ids, the books, the file.
struct LinesOut<'a> {
    run: &'a MonthRun<'a>,
    duplicates: DuplicateScreen,
    /// Rows that are copies of a duplicated id; their rejections need the final count.
    copies: Vec<(RowOrigin, String)>,
    rejected: Vec<Rejection>,
    /// The rows of the last id of the batches so far, settled with the next batch.
    held_back: Option<LineBatch>,
    book: MonthBook,
    writer: OrderLinesThread,
}

impl<'a> LinesOut<'a> {
    fn create(folder: &Path, run: &'a MonthRun<'a>) -> anyhow::Result<LinesOut<'a>> {
        Ok(LinesOut {
            run,
            duplicates: DuplicateScreen::default(),
            copies: Vec::new(),
            rejected: Vec::new(),
            held_back: None,
            book: MonthBook::new(run.month),
            writer: OrderLinesThread::spawn(OrderLinesWriter::create(folder, &line_schema()?)?)?,
        })
    }

    /// Takes the next batch: settles the rows held back, whose id the batch's first id may
    /// copy, then every row of the batch but those of its last id, which it holds back.
    fn push(&mut self, lines: LineBatch) -> anyhow::Result<Result<(), NotAscending>> {
        let ids = lines.order_ids()?;
        if let Some(held_back) = self.held_back.take() {
            if let Err(not_ascending) = self.settle(held_back, ids.first().copied())? {
                return Ok(Err(not_ascending));
            }
        }
        let last_run = ids
            .iter()
            .rev()
            .take_while(|&&id| Some(id) == ids.last().copied())
            .count();
        let settled_rows = ids.len() - last_run;
        let next_id = ids.get(settled_rows).copied();
        if settled_rows > 0 {
            if let Err(not_ascending) = self.settle(lines.slice(0, settled_rows), next_id)? {
                return Ok(Err(not_ascending));
            }
        }
        self.held_back = Some(lines.slice(settled_rows, last_run));
        Ok(Ok(()))
    }

    fn settle(
        &mut self,
        lines: LineBatch,
        next_id: Option<&str>,
    ) -> anyhow::Result<Result<(), NotAscending>> {
        let ids = lines.order_ids()?;
        let copies = match self.duplicates.screen(&ids, next_id) {
            Ok(copies) => copies,
            Err(not_ascending) => return Ok(Err(not_ascending)),
        };
        let accepted = lines.accepted()?;
        let mut keep = vec![false; ids.len()];
        for (row, &id) in ids.iter().enumerate() {
            if !accepted[row] {
                continue;
            }
            if copies[row] {
                self.copies.push((lines.origin(row)?, id.to_string()));
            } else if let Some(settled) = self.run.settled_before.get(id) {
                self.rejected
                    .push(validate::already_settled(lines.origin(row)?, id, settled));
            } else {
                keep[row] = true;
            }
        }
        let kept = lines.keep(keep)?;
        self.book.add_lines(&kept)?;
        debug!(
            stage = "settle",
            lines = kept.len(),
            "batch added to the books"
        );
        self.writer.write(kept.output()?)?;
        Ok(Ok(()))
    }

    fn finish(
        mut self,
        intake: Intake,
        streamed: bool,
    ) -> anyhow::Result<Result<SettledOrders, NotAscending>> {
        if let Some(held_back) = self.held_back.take() {
            if let Err(not_ascending) = self.settle(held_back, None)? {
                return Ok(Err(not_ascending));
            }
        }
        let order_lines = self.writer;
        let mut rejected = intake.rejected;
        rejected.append(&mut self.rejected);
        for (origin, order_id) in &self.copies {
            rejected.push(self.duplicates.rejection(*origin, order_id));
        }
        Ok(Ok(SettledOrders {
            order_lines,
            book: self.book,
            rejected,
            orders_read: intake.orders_read,
            out_of_month_rows: intake.out_of_month_rows,
            earlier: intake.earlier,
            streamed,
        }))
    }
}
