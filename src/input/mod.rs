//! Reading the month's inputs: which files a path names, what each file holds, and each row
//! turned into plain values with nothing decided yet.
//!
//! File-level problems (not Parquet, a missing column, a column of the wrong kind) are errors
//! that stop the run and name the file. Row-level problems are carried as values (`Field`) so
//! that validation can reject the row with a reason instead of losing it.

pub mod batches;
pub mod columns;
pub mod files;
pub mod rows;

use crate::model::RejectReason;

pub use batches::{OrderBatch, OrderFiles, Piece};
pub use files::{expand_paths, InputFile};
pub use rows::{read_claims, read_orders, RawClaim, RawOrder};

/// One value of a row as read: present, absent, or present but not representable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field<T> {
    Missing,
    /// The value exists in the file but cannot become a `T`: the reason to reject the row and
    /// a detail saying what was found.
    Invalid(RejectReason, String),
    Value(T),
}

impl<T> Field<T> {
    pub fn value(&self) -> Option<&T> {
        match self {
            Field::Value(value) => Some(value),
            Field::Missing | Field::Invalid(..) => None,
        }
    }
}
