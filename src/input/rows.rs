//! Orders and claims files read into rows of plain values, each row remembering the file and
//! the position it came from so that a rejection can point at it.

use std::path::PathBuf;

use chrono_tz::Tz;

use super::columns::ParquetFile;
use super::files::{sha256_file, InputFile};
use super::Field;
use crate::model::InstantNs;

pub const ORDER_COLUMNS: [&str; 11] = [
    "order_id",
    "request_id",
    "client_id",
    "lancer_id",
    "work_type",
    "lancer_certified",
    "request_created_at",
    "ordered_at",
    "completed_at",
    "amount_jpy",
    "reward_jpy",
];

pub const CLAIM_COLUMNS: [&str; 6] = [
    "claim_id",
    "order_id",
    "filed_at",
    "status",
    "decided_at",
    "payout_decision",
];

/// Where a row came from: an index into the run's list of input files, and the row's 1-based
/// position among that file's data rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RowOrigin {
    pub file_index: usize,
    pub row: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawOrder {
    pub origin: RowOrigin,
    pub order_id: Option<String>,
    pub request_id: Option<String>,
    pub client_id: Option<String>,
    pub lancer_id: Option<String>,
    pub work_type: Option<String>,
    pub lancer_certified: Option<bool>,
    pub request_created_at: Field<InstantNs>,
    pub ordered_at: Field<InstantNs>,
    pub completed_at: Field<InstantNs>,
    pub amount_jpy: Field<i64>,
    pub reward_jpy: Field<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawClaim {
    pub origin: RowOrigin,
    pub claim_id: Option<String>,
    pub order_id: Option<String>,
    pub filed_at: Field<InstantNs>,
    pub status: Option<String>,
    pub decided_at: Field<InstantNs>,
    pub payout_decision: Option<String>,
}

/// Reads every orders file. `first_file_index` numbers the files after those already read.
pub fn read_orders(
    paths: &[PathBuf],
    naive_zone: Tz,
    first_file_index: usize,
) -> anyhow::Result<(Vec<InputFile>, Vec<RawOrder>)> {
    let mut files = Vec::with_capacity(paths.len());
    let mut orders = Vec::new();
    for (offset, path) in paths.iter().enumerate() {
        let file_index = first_file_index + offset;
        let file = ParquetFile::open(path, "orders", &ORDER_COLUMNS)?;
        let parquet = file.read()?;
        let order_ids = parquet.text("order_id")?;
        let request_ids = parquet.text("request_id")?;
        let client_ids = parquet.text("client_id")?;
        let lancer_ids = parquet.text("lancer_id")?;
        let work_types = parquet.text("work_type")?;
        let certified = parquet.boolean("lancer_certified")?;
        let requested = parquet.instants("request_created_at", naive_zone)?;
        let ordered = parquet.instants("ordered_at", naive_zone)?;
        let completed = parquet.instants("completed_at", naive_zone)?;
        let amounts = parquet.yen("amount_jpy")?;
        let rewards = parquet.yen("reward_jpy")?;

        let columns = order_ids
            .into_iter()
            .zip(request_ids)
            .zip(client_ids)
            .zip(lancer_ids)
            .zip(work_types)
            .zip(certified)
            .zip(requested)
            .zip(ordered)
            .zip(completed)
            .zip(amounts)
            .zip(rewards);
        for (position, row) in columns.enumerate() {
            let (
                (
                    (
                        (
                            (
                                (
                                    ((((order_id, request_id), client_id), lancer_id), work_type),
                                    certified,
                                ),
                                requested,
                            ),
                            ordered,
                        ),
                        completed,
                    ),
                    amount,
                ),
                reward,
            ) = row;
            orders.push(RawOrder {
                origin: RowOrigin {
                    file_index,
                    row: position as u64 + 1,
                },
                order_id,
                request_id,
                client_id,
                lancer_id,
                work_type,
                lancer_certified: certified,
                request_created_at: requested,
                ordered_at: ordered,
                completed_at: completed,
                amount_jpy: amount,
                reward_jpy: reward,
            });
        }
        files.push(InputFile {
            path: path.clone(),
            sha256: sha256_file(path)?,
            rows: file.rows,
        });
    }
    Ok((files, orders))
}

/// Reads every claims file. `first_file_index` numbers the files after those already read.
pub fn read_claims(
    paths: &[PathBuf],
    naive_zone: Tz,
    first_file_index: usize,
) -> anyhow::Result<(Vec<InputFile>, Vec<RawClaim>)> {
    let mut files = Vec::with_capacity(paths.len());
    let mut claims = Vec::new();
    for (offset, path) in paths.iter().enumerate() {
        let file_index = first_file_index + offset;
        let file = ParquetFile::open(path, "claims", &CLAIM_COLUMNS)?;
        let parquet = file.read()?;
        let claim_ids = parquet.text("claim_id")?;
        let order_ids = parquet.text("order_id")?;
        let filed = parquet.instants("filed_at", naive_zone)?;
        let statuses = parquet.text("status")?;
        let decided = parquet.instants("decided_at", naive_zone)?;
        let decisions = parquet.text("payout_decision")?;

        let columns = claim_ids
            .into_iter()
            .zip(order_ids)
            .zip(filed)
            .zip(statuses)
            .zip(decided)
            .zip(decisions);
        for (position, row) in columns.enumerate() {
            let (((((claim_id, order_id), filed_at), status), decided_at), payout_decision) = row;
            claims.push(RawClaim {
                origin: RowOrigin {
                    file_index,
                    row: position as u64 + 1,
                },
                claim_id,
                order_id,
                filed_at,
                status,
                decided_at,
                payout_decision,
            });
        }
        files.push(InputFile {
            path: path.clone(),
            sha256: sha256_file(path)?,
            rows: file.rows,
        });
    }
    Ok((files, claims))
}
