//! A batch of order lines as columns: each candidate row priced by the rules and given its
//! claims, laid out as `order_lines.parquet` holds them (SPEC §8), with three columns of the
//! settlement's own (whether the row passed its row checks, its payout status as a code, and
//! where it came from).
//!
//! Rows that failed their row checks are kept, unpriced, only because they are still copies of
//! their order id; the duplicate screen reads them and `keep` drops them with every other row
//! that does not become a line.

use anyhow::Context;
use polars::prelude::{
    BooleanChunked, ChunkTake, Column, DataFrame, DataType, IdxCa, IdxSize, IntoColumn, IntoSeries,
    NamedFrom, NewChunkedArray, Schema, Series, StringChunked, StringChunkedBuilder, TimeUnit,
    TimeZone,
};

use super::totals::{TotalsById, TOUCH_GROUP};
use super::{add_to_client, add_to_lancer, ClaimBook, LineRef, MonthBook};
use crate::calendar::BUSINESS_ZONE;
use crate::input::rows::RowOrigin;
use crate::input::OrderBatch;
use crate::model::{CoverageReason, PayoutStatus};
use crate::policy::Rules;
use crate::rules::{self, Terms};
use crate::validate::Candidate;

/// The columns of `order_lines.parquet`, in SPEC §8's order.
pub const LINE_COLUMNS: [&str; 16] = [
    "order_id",
    "request_id",
    "client_id",
    "lancer_id",
    "work_type",
    "amount_jpy",
    "reward_jpy",
    "ordered_at",
    "completed_at",
    "covered",
    "reason",
    "surcharge_jpy",
    "rebate_jpy",
    "payout_jpy",
    "payout_status",
    "claim_ids",
];

const ACCEPTED: &str = "_accepted";
const STATUS_CODE: &str = "_status";
const FILE_INDEX: &str = "_file_index";
const ROW: &str = "_row";

/// The code of a row with no text in a spelled column: a rejected candidate, never written.
const NO_TEXT: IdxSize = IdxSize::MAX;

/// A column of enum spellings from each row's code (the enum case's position in `ALL`), made
/// by gathering from a column of the spellings themselves, so that every row shares the
/// spelling's bytes instead of copying them.
fn spelled<E: Copy + Into<&'static str>>(
    name: &str,
    all: &[E],
    codes: &[IdxSize],
) -> anyhow::Result<Column> {
    let spellings =
        StringChunked::from_iter_values(name.into(), all.iter().map(|&case| case.into()));
    let codes = IdxCa::from_iter_options(
        "codes".into(),
        codes.iter().map(|&code| (code != NO_TEXT).then_some(code)),
    );
    Ok(spellings.take(&codes)?.into_column())
}

fn status_of(code: IdxSize) -> PayoutStatus {
    PayoutStatus::ALL[code as usize]
}

/// Candidate rows of the month as order lines, one row per candidate, in the candidates' order.
#[derive(Debug, Clone)]
pub struct LineBatch {
    frame: DataFrame,
}

impl LineBatch {
    /// Prices the candidates of `batch` and looks up their claims. A rejected candidate is kept
    /// with zero money and no reason, only as a copy of its id.
    pub fn price(
        batch: &OrderBatch,
        candidates: &[Candidate],
        rules: &Rules,
        claims: &ClaimBook,
    ) -> anyhow::Result<LineBatch> {
        let rows = candidates.len();
        let certified = batch.lancer_certified.downcast_as_array();
        let order_ids = batch.order_id.downcast_as_array();
        let mut covered = Vec::with_capacity(rows);
        let mut reasons = Vec::with_capacity(rows);
        let mut surcharges_jpy = Vec::with_capacity(rows);
        let mut rebates_jpy = Vec::with_capacity(rows);
        let mut payouts_jpy = Vec::with_capacity(rows);
        let mut status_codes = Vec::with_capacity(rows);
        let mut claim_ids = StringChunkedBuilder::new("claim_ids".into(), rows);
        let mut accepted = Vec::with_capacity(rows);
        let mut file_indexes = Vec::with_capacity(rows);
        let mut row_numbers = Vec::with_capacity(rows);

        for candidate in candidates {
            let row = candidate.row;
            let origin = batch.origin(row);
            file_indexes.push(origin.file_index as u32);
            row_numbers.push(origin.row);
            accepted.push(candidate.accepted.is_some());
            let Some(work_type) = candidate.accepted else {
                covered.push(false);
                reasons.push(NO_TEXT);
                surcharges_jpy.push(0);
                rebates_jpy.push(0);
                payouts_jpy.push(0);
                status_codes.push(NO_TEXT);
                claim_ids.append_value("");
                continue;
            };

            let order_id = order_ids
                .get(row)
                .context("an accepted row has an order id")?;
            let terms = Terms {
                work_type,
                lancer_certified: certified
                    .get(row)
                    .context("an accepted row has lancer_certified")?,
                request_created_at: batch.request_created_at.values()[row],
                ordered_at: batch.ordered_at.values()[row],
                amount_jpy: batch.amount_jpy.values()[row],
                reward_jpy: batch.reward_jpy.values()[row],
            };
            let pricing = rules::price_terms(&terms, rules)
                .map_err(|error| anyhow::anyhow!("order {order_id}: {error:#}"))?;
            let (state, known_claim_ids) = claims.lookup(order_id);
            let status = rules::payout_status(state);

            covered.push(pricing.reason.is_covered());
            reasons.push(pricing.reason as IdxSize);
            surcharges_jpy.push(pricing.surcharge_jpy);
            rebates_jpy.push(pricing.rebate_jpy);
            payouts_jpy.push(pricing.payout_jpy);
            status_codes.push(status as IdxSize);
            claim_ids.append_value(known_claim_ids);
        }

        let every_row =
            rows == batch.len() && candidates.iter().enumerate().all(|(i, c)| c.row == i);
        let indexes = (!every_row).then(|| {
            IdxCa::from_vec(
                "rows".into(),
                candidates.iter().map(|c| c.row as IdxSize).collect(),
            )
        });
        let pick = |values: &[i64]| -> Vec<i64> {
            if every_row {
                values.to_vec()
            } else {
                candidates.iter().map(|c| values[c.row]).collect()
            }
        };
        let text = |column: &StringChunked| -> anyhow::Result<Column> {
            Ok(match &indexes {
                None => column.clone().into_column(),
                Some(indexes) => column.take(indexes)?.into_column(),
            })
        };
        let statuses = spelled("payout_status", PayoutStatus::ALL, &status_codes)?;
        let columns = vec![
            text(&batch.order_id)?,
            text(&batch.request_id)?,
            text(&batch.client_id)?,
            text(&batch.lancer_id)?,
            text(&batch.work_type)?,
            Column::new("amount_jpy".into(), pick(batch.amount_jpy.values())),
            Column::new("reward_jpy".into(), pick(batch.reward_jpy.values())),
            instants("ordered_at", pick(batch.ordered_at.values()))?,
            instants("completed_at", pick(batch.completed_at.values()))?,
            Column::new("covered".into(), covered),
            spelled("reason", CoverageReason::ALL, &reasons)?,
            Column::new("surcharge_jpy".into(), surcharges_jpy),
            Column::new("rebate_jpy".into(), rebates_jpy),
            Column::new("payout_jpy".into(), payouts_jpy),
            statuses,
            claim_ids.finish().into_column(),
            Column::new(ACCEPTED.into(), accepted),
            Column::new(STATUS_CODE.into(), status_codes),
            Column::new(FILE_INDEX.into(), file_indexes),
            Column::new(ROW.into(), row_numbers),
        ];
        Ok(LineBatch {
            frame: DataFrame::new(rows, columns)?,
        })
    }

    pub fn len(&self) -> usize {
        self.frame.height()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every candidate's order id, in order.
    pub fn order_ids(&self) -> anyhow::Result<Vec<&str>> {
        let ids = self.frame.column("order_id")?.str()?;
        ids.iter()
            .map(|id| id.context("a candidate line has no order id"))
            .collect()
    }

    pub fn accepted(&self) -> anyhow::Result<Vec<bool>> {
        let accepted = self.frame.column(ACCEPTED)?.bool()?;
        Ok(accepted.iter().map(|a| a == Some(true)).collect())
    }

    pub fn origin(&self, row: usize) -> anyhow::Result<RowOrigin> {
        let file_index = self.frame.column(FILE_INDEX)?.u32()?.get(row);
        let row = self.frame.column(ROW)?.u64()?.get(row);
        match (file_index, row) {
            (Some(file_index), Some(row)) => Ok(RowOrigin {
                file_index: file_index as usize,
                row,
            }),
            _ => anyhow::bail!("a line batch row has no origin"),
        }
    }

    /// The rows where `keep` is true.
    pub fn keep(&self, keep: Vec<bool>) -> anyhow::Result<LineBatch> {
        if keep.iter().all(|&kept| kept) {
            return Ok(self.clone());
        }
        let mask = BooleanChunked::from_slice("keep".into(), &keep);
        Ok(LineBatch {
            frame: self.frame.filter(&mask)?,
        })
    }

    /// The rows from `offset`, at most `rows` of them.
    pub fn slice(&self, offset: usize, rows: usize) -> LineBatch {
        LineBatch {
            frame: self.frame.slice(offset as i64, rows),
        }
    }

    /// Every batch's rows, sorted by order id; rows with the same id keep their order.
    pub fn sorted(batches: Vec<LineBatch>) -> anyhow::Result<LineBatch> {
        let mut batches = batches.into_iter();
        let Some(first) = batches.next() else {
            return Ok(LineBatch {
                frame: DataFrame::empty(),
            });
        };
        let mut frame = first.frame;
        for batch in batches {
            frame.vstack_mut_owned(batch.frame)?;
        }
        let frame = frame.sort(
            ["order_id"],
            polars::prelude::SortMultipleOptions::default().with_maintain_order(true),
        )?;
        let mut frame = frame;
        frame.rechunk_mut();
        Ok(LineBatch { frame })
    }

    /// The columns of `order_lines.parquet`.
    pub fn output(&self) -> anyhow::Result<DataFrame> {
        Ok(self.frame.select(LINE_COLUMNS)?)
    }
}

fn business_zone() -> anyhow::Result<TimeZone> {
    TimeZone::opt_try_new(Some(BUSINESS_ZONE.name()))?
        .context("polars does not know the business zone")
}

fn instants(name: &str, values: Vec<i64>) -> anyhow::Result<Column> {
    Ok(Series::new(name.into(), values)
        .into_datetime(TimeUnit::Nanoseconds, Some(business_zone()?))
        .into_series()
        .into_column())
}

/// The columns of `order_lines.parquet` with their types: text, whole yen as 64-bit
/// integers, instants in nanoseconds with the business zone, and the `covered` flag.
pub fn line_schema() -> anyhow::Result<Schema> {
    let instant = DataType::Datetime(TimeUnit::Nanoseconds, Some(business_zone()?));
    Ok(LINE_COLUMNS
        .iter()
        .map(|&name| {
            let dtype = match name {
                "covered" => DataType::Boolean,
                "ordered_at" | "completed_at" => instant.clone(),
                name if name.ends_with("_jpy") => DataType::Int64,
                _ => DataType::String,
            };
            (name.into(), dtype)
        })
        .collect())
}

impl MonthBook {
    /// Adds every row of `lines`, all of which are order lines of the month.
    pub fn add_lines(&mut self, lines: &LineBatch) -> anyhow::Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut frame = lines.frame.clone();
        frame.rechunk_mut();
        let text = |name: &str| -> anyhow::Result<_> {
            Ok(frame.column(name)?.str()?.downcast_as_array().clone())
        };
        // Read in place: the frame is one chunk, and a line has every amount (a gap would be
        // an error here, never a zero).
        let yen = |name: &str| -> anyhow::Result<&[i64]> {
            frame
                .column(name)?
                .i64()?
                .cont_slice()
                .with_context(|| format!("the order lines' {name} has a missing value"))
        };
        let (order_ids, client_ids, lancer_ids, claim_ids) = (
            text("order_id")?,
            text("client_id")?,
            text("lancer_id")?,
            text("claim_ids")?,
        );
        let (amounts_jpy, rewards_jpy, surcharges_jpy, rebates_jpy, payouts_jpy) = (
            yen("amount_jpy")?,
            yen("reward_jpy")?,
            yen("surcharge_jpy")?,
            yen("rebate_jpy")?,
            yen("payout_jpy")?,
        );
        let covered = frame.column("covered")?.bool()?.downcast_as_array().clone();
        let codes = frame
            .column(STATUS_CODE)?
            .idx()?
            .downcast_as_array()
            .clone();
        let line = |row: usize| LineRef {
            order_id: order_ids.value(row),
            client_id: client_ids.value(row),
            lancer_id: lancer_ids.value(row),
            amount_jpy: amounts_jpy[row],
            reward_jpy: rewards_jpy[row],
            covered: covered.value(row),
            surcharge_jpy: surcharges_jpy[row],
            rebate_jpy: rebates_jpy[row],
            payout_jpy: payouts_jpy[row],
            payout_status: status_of(codes.value(row)),
            claim_ids: claim_ids.value(row),
        };

        // Clients, then lancers, each a group of lines at a time (`add_grouped`): the trips to
        // memory for a group's index slots and entries are under way at once, then the lines
        // are added, their slots and entries in cache. Then the month's totals.
        let rows = frame.height();
        let (clients, lancers) = (&mut self.clients, &mut self.lancers);
        let (client_ids, lancer_ids) = (&client_ids, &lancer_ids);
        let line = &line;
        add_grouped(
            clients,
            rows,
            |row| client_ids.value(row),
            |clients, hash, row| add_to_client(clients, hash, &line(row)),
        )?;
        add_grouped(
            lancers,
            rows,
            |row| lancer_ids.value(row),
            |lancers, hash, row| add_to_lancer(lancers, hash, &line(row)),
        )?;
        for row in 0..rows {
            self.add_to_totals(&line(row))?;
        }
        Ok(())
    }
}

/// Adds `rows` lines to `totals`, a group of lines at a time: the index slot of each line's id
/// (`id(row)`) is touched for the whole group, then the entry each slot points to, then `add`
/// adds each line. Each step's trips to memory are under way at once.
fn add_grouped<'a, T: Default>(
    totals: &mut TotalsById<T>,
    rows: usize,
    id: impl Fn(usize) -> &'a str,
    mut add: impl FnMut(&mut TotalsById<T>, u64, usize) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let hashes: Vec<u64> = (0..rows).map(|row| totals.hash(id(row))).collect();
    for group in (0..rows).step_by(TOUCH_GROUP) {
        let group = group..rows.min(group + TOUCH_GROUP);
        let mut touched = [0u32; TOUCH_GROUP];
        for (slot, row) in touched.iter_mut().zip(group.clone()) {
            *slot = totals.touch(hashes[row]);
        }
        std::hint::black_box(&touched);
        let mut entries = [0usize; TOUCH_GROUP];
        for (entry, row) in entries.iter_mut().zip(group.clone()) {
            *entry = totals.touch_entry(hashes[row]);
        }
        std::hint::black_box(&entries);
        for row in group {
            add(totals, hashes[row], row)?;
        }
    }
    Ok(())
}
