//! One Parquet file opened and its columns read as plain Rust values.
//!
//! Writers differ in how they store the same value (SPEC §7): strings plain or dictionary
//! encoded, amounts as any integer width or a decimal with a zero fraction, timestamps in any
//! unit, with or without a zone, or as legacy INT96. Each reader here accepts every one of
//! those encodings and turns it into one representation, so the rules never see the
//! difference. A column of a kind that cannot hold the value (a float amount, a string
//! timestamp) is a file-level error, because no row of it could be trusted.

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use chrono::DateTime;
use chrono_tz::Tz;
use parquet::basic::Type as PhysicalType;
use parquet::column::reader::ColumnReader;
use parquet::data_type::Int96;
use parquet::file::reader::{FileReader, SerializedFileReader};
use polars::prelude::{DataFrame, DataType, ParquetReader, SerReader, Series, TimeUnit};

use super::Field;
use crate::calendar::wall_clock_to_ns;
use crate::model::{InstantNs, RejectReason};

/// A Parquet file with the columns a reader asked for.
pub struct ParquetFile {
    pub path: PathBuf,
    pub rows: u64,
    frame: DataFrame,
    int96_columns: BTreeSet<String>,
}

impl ParquetFile {
    /// Opens `path` and reads `columns`, all of which must exist.
    pub fn open(path: &Path, what: &str, columns: &[&str]) -> anyhow::Result<ParquetFile> {
        without_panics(what, path, || {
            ParquetFile::open_unguarded(path, what, columns)
        })
    }

    fn open_unguarded(path: &Path, what: &str, columns: &[&str]) -> anyhow::Result<ParquetFile> {
        let shown = path.display();
        let file = File::open(path).with_context(|| format!("cannot open {what} file {shown}"))?;
        let reader = SerializedFileReader::new(file)
            .with_context(|| format!("{what} file {shown} is not a readable Parquet file"))?;
        let metadata = reader.metadata();
        let rows = u64::try_from(metadata.file_metadata().num_rows())
            .with_context(|| format!("{what} file {shown} declares a negative row count"))?;

        let schema = metadata.file_metadata().schema_descr();
        let top_level: Vec<String> = schema
            .root_schema()
            .get_fields()
            .iter()
            .map(|f| f.name().to_string())
            .collect();
        let missing: Vec<&str> = columns
            .iter()
            .copied()
            .filter(|c| !top_level.iter().any(|t| t == c))
            .collect();
        if !missing.is_empty() {
            bail!(
                "{what} file {shown} lacks required column(s) {}; it has {}",
                missing.join(", "),
                top_level.join(", ")
            );
        }
        check_pages(&reader, what, path)?;
        let int96_columns: BTreeSet<String> = schema
            .columns()
            .iter()
            .filter(|column| column.physical_type() == PhysicalType::INT96)
            .map(|column| column.path().string())
            .collect();

        // INT96 columns are decoded here rather than by polars, which clamps or wraps values
        // outside the years 1677-2262 instead of reporting them.
        let polars_columns: Vec<&str> = columns
            .iter()
            .copied()
            .filter(|c| !int96_columns.contains(*c))
            .collect();
        let frame = decode(path, what, &polars_columns)?;
        if frame.height() as u64 != rows {
            bail!(
                "{what} file {shown} declares {rows} rows but {} could be read",
                frame.height()
            );
        }
        Ok(ParquetFile {
            path: path.to_path_buf(),
            rows,
            frame,
            int96_columns,
        })
    }

    fn column(&self, name: &str) -> anyhow::Result<&Series> {
        Ok(self
            .frame
            .column(name)
            .with_context(|| format!("{}: column {name} was not read", self.path.display()))?
            .as_materialized_series())
    }

    fn wrong_type(&self, name: &str, expected: &str) -> anyhow::Error {
        let found = self
            .column(name)
            .map(|c| c.dtype().to_string())
            .unwrap_or_default();
        anyhow::anyhow!(
            "{}: column {name} should hold {expected}, but its type is {found}",
            self.path.display()
        )
    }

    /// A text column: plain, large or dictionary-encoded strings.
    pub fn text(&self, name: &str) -> anyhow::Result<Vec<Option<String>>> {
        let column = self.column(name)?;
        let strings = match column.dtype() {
            // A column every writer left empty, such as a register with no decision yet.
            DataType::Null => return Ok(vec![None; column.len()]),
            DataType::String => column.clone(),
            DataType::Categorical(..) | DataType::Enum(..) => column
                .cast(&DataType::String)
                .with_context(|| format!("{}: cannot decode column {name}", self.path.display()))?,
            _ => return Err(self.wrong_type(name, "text")),
        };
        let strings = strings.str().map_err(|_| self.wrong_type(name, "text"))?;
        Ok(strings
            .iter()
            .map(|value| value.map(str::to_string))
            .collect())
    }

    pub fn boolean(&self, name: &str) -> anyhow::Result<Vec<Option<bool>>> {
        let column = self.column(name)?;
        if column.dtype() == &DataType::Null {
            return Ok(vec![None; column.len()]);
        }
        let values = column
            .bool()
            .map_err(|_| self.wrong_type(name, "true/false values"))?;
        Ok(values.iter().collect())
    }

    /// A timestamp column as instants. Values with a zone, and legacy INT96 values (which are
    /// UTC by definition), are instants already; values without a zone are wall-clock times in
    /// `naive_zone`.
    pub fn instants(&self, name: &str, naive_zone: Tz) -> anyhow::Result<Vec<Field<InstantNs>>> {
        if self.int96_columns.contains(name) {
            return self.int96_instants(name);
        }
        let column = self.column(name)?;
        if column.dtype() == &DataType::Null {
            return Ok(vec![Field::Missing; column.len()]);
        }
        let DataType::Datetime(unit, zone) = column.dtype() else {
            return Err(self.wrong_type(name, "timestamps"));
        };
        let nanos_per_unit: i64 = match unit {
            TimeUnit::Nanoseconds => 1,
            TimeUnit::Microseconds => 1_000,
            TimeUnit::Milliseconds => 1_000_000,
        };
        let wall_clock = zone.is_none();
        let values = column
            .datetime()
            .map_err(|_| self.wrong_type(name, "timestamps"))?;

        let convert = |raw: i64| -> Field<InstantNs> {
            let Some(ns) = raw.checked_mul(nanos_per_unit) else {
                return out_of_range(name, raw);
            };
            if !wall_clock {
                return Field::Value(ns);
            }
            let local = DateTime::from_timestamp_nanos(ns).naive_utc();
            match wall_clock_to_ns(local, naive_zone) {
                Some(instant) => Field::Value(instant),
                None => Field::Invalid(
                    RejectReason::TimestampOutOfRange,
                    format!("{name} {local} does not exist once in zone {naive_zone}"),
                ),
            }
        };
        Ok(values
            .physical()
            .iter()
            .map(|raw| raw.map_or(Field::Missing, convert))
            .collect())
    }

    /// An INT96 column, decoded with the `parquet` crate: nanoseconds within the day and a
    /// Julian day, an instant in UTC by definition. A day outside the years 1677-2262 is a
    /// rejected value, never a clamped one.
    fn int96_instants(&self, name: &str) -> anyhow::Result<Vec<Field<InstantNs>>> {
        let shown = self.path.display();
        let file = File::open(&self.path).with_context(|| format!("cannot open {shown}"))?;
        let reader = SerializedFileReader::new(file)
            .with_context(|| format!("{shown} is not a readable Parquet file"))?;
        let schema = reader.metadata().file_metadata().schema_descr_ptr();
        let index = (0..schema.num_columns())
            .find(|&i| schema.column(i).path().string() == name)
            .with_context(|| format!("{shown}: no INT96 column {name}"))?;
        let max_definition = schema.column(index).max_def_level();

        let mut fields = Vec::new();
        for group_index in 0..reader.num_row_groups() {
            let group = reader.get_row_group(group_index)?;
            let ColumnReader::Int96ColumnReader(mut column) = group.get_column_reader(index)?
            else {
                bail!("{shown}: column {name} is not INT96");
            };
            let (mut values, mut definitions) = (Vec::new(), Vec::new());
            loop {
                values.clear();
                definitions.clear();
                let (records, _, _) = column
                    .read_records(8192, Some(&mut definitions), None, &mut values)
                    .with_context(|| format!("{shown}: cannot read column {name}"))?;
                if records == 0 {
                    break;
                }
                let mut next_value = values.iter();
                let rows = (0..records).map(|row| {
                    max_definition == 0 || definitions.get(row) == Some(&max_definition)
                });
                for present in rows {
                    let value = if present { next_value.next() } else { None };
                    fields.push(value.map_or(Field::Missing, |value| int96_instant(name, value)));
                }
            }
        }
        if fields.len() as u64 != self.rows {
            bail!(
                "{shown}: column {name} holds {} values for {} rows",
                fields.len(),
                self.rows
            );
        }
        Ok(fields)
    }

    /// A column of whole yen: any integer width, or a decimal whose fraction is zero.
    pub fn yen(&self, name: &str) -> anyhow::Result<Vec<Field<i64>>> {
        let column = self.column(name)?;
        let dtype = column.dtype().clone();
        if dtype == DataType::Null {
            return Ok(vec![Field::Missing; column.len()]);
        }
        if let DataType::Decimal(_, scale) = dtype {
            let values = column.decimal().map_err(|_| self.wrong_type(name, "yen"))?;
            let divisor = 10i128.checked_pow(scale as u32).with_context(|| {
                format!("{}: column {name} has scale {scale}", self.path.display())
            })?;
            return Ok(values
                .physical()
                .iter()
                .map(|raw| raw.map_or(Field::Missing, |raw| decimal_yen(name, raw, divisor, scale)))
                .collect());
        }
        if dtype == DataType::UInt64 {
            let values = column.u64().map_err(|_| self.wrong_type(name, "yen"))?;
            return Ok(values
                .iter()
                .map(|raw| match raw.map(i64::try_from) {
                    None => Field::Missing,
                    Some(Ok(yen)) => Field::Value(yen),
                    Some(Err(_)) => too_large(name, &raw.unwrap_or_default().to_string()),
                })
                .collect());
        }
        if !dtype.is_integer() {
            return Err(self.wrong_type(name, "whole yen (an integer or a decimal)"));
        }
        let values = column
            .cast(&DataType::Int64)
            .with_context(|| format!("{}: cannot widen column {name}", self.path.display()))?;
        let values = values.i64().map_err(|_| self.wrong_type(name, "yen"))?;
        Ok(values
            .iter()
            .map(|raw| raw.map_or(Field::Missing, Field::Value))
            .collect())
    }
}

/// Decodes `columns` of the file with polars.
fn decode(path: &Path, what: &str, columns: &[&str]) -> anyhow::Result<DataFrame> {
    let file =
        File::open(path).with_context(|| format!("cannot open {what} file {}", path.display()))?;
    let names: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    ParquetReader::new(file)
        .with_columns(Some(names))
        .finish()
        .with_context(|| format!("cannot read {what} file {}", path.display()))
}

/// Runs `read` and turns a panic inside it into an error naming the file.
///
/// Both Parquet libraries assert, rather than report, some kinds of damage (a negative offset
/// in the footer, a page whose bit width is impossible). One damaged export must not take the
/// job down with a stack trace, so such a file becomes an ordinary file-level error.
fn without_panics<T>(
    what: &str,
    path: &Path,
    read: impl FnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)) {
        Ok(result) => result,
        Err(panic) => {
            let reason = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("no reason given");
            bail!(
                "{what} file {} is damaged: the Parquet reader failed ({reason})",
                path.display()
            )
        }
    }
}

/// Walks every page of every column chunk with the `parquet` crate before polars decodes the
/// file: each page is read and decompressed, and its value count must fit its row group.
///
/// A damaged page header can claim billions of values, and polars would try to allocate room
/// for them and abort the process; this walk turns such a file into an error naming it.
fn check_pages(reader: &SerializedFileReader<File>, what: &str, path: &Path) -> anyhow::Result<()> {
    let shown = path.display();
    for group_index in 0..reader.num_row_groups() {
        let group = reader.get_row_group(group_index).with_context(|| {
            format!("{what} file {shown}: row group {group_index} is unreadable")
        })?;
        let group_rows = u64::try_from(group.metadata().num_rows()).unwrap_or(u64::MAX);
        for column_index in 0..group.num_columns() {
            let column = group.metadata().column(column_index);
            let damaged = |detail: String| {
                anyhow::anyhow!(
                    "{what} file {shown} is damaged: row group {group_index}, column {}: {detail}",
                    column.column_path().string()
                )
            };
            let mut pages = group
                .get_column_page_reader(column_index)
                .map_err(|e| damaged(e.to_string()))?;
            let mut values: u64 = 0;
            while let Some(page) = pages.get_next_page().map_err(|e| damaged(e.to_string()))? {
                if page.page_type() == parquet::basic::PageType::DICTIONARY_PAGE {
                    continue;
                }
                values += u64::from(page.num_values());
                if values > group_rows {
                    return Err(damaged(format!(
                        "its pages hold {values} values in a row group of {group_rows} rows"
                    )));
                }
            }
            let declared = u64::try_from(column.num_values()).unwrap_or(u64::MAX);
            if values != group_rows || values != declared {
                return Err(damaged(format!(
                    "its pages hold {values} values, its metadata says {declared}, in a row \
                     group of {group_rows} rows"
                )));
            }
        }
    }
    Ok(())
}

fn int96_instant(name: &str, value: &Int96) -> Field<InstantNs> {
    const NS_PER_DAY: i64 = 86_400_000_000_000;
    const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;
    let &[low, high, julian_day] = value.data() else {
        return Field::Invalid(
            RejectReason::TimestampOutOfRange,
            format!("{name} is not 12 bytes"),
        );
    };
    let nanos_of_day = (i64::from(high) << 32) | i64::from(low);
    let days = i64::from(julian_day) - UNIX_EPOCH_JULIAN_DAY;
    let instant = days
        .checked_mul(NS_PER_DAY)
        .and_then(|ns| ns.checked_add(nanos_of_day));
    match instant {
        Some(instant) if (0..NS_PER_DAY).contains(&nanos_of_day) => Field::Value(instant),
        _ => Field::Invalid(
            RejectReason::TimestampOutOfRange,
            format!("{name} (INT96, Julian day {julian_day}) is outside the years 1677-2262"),
        ),
    }
}

fn out_of_range(name: &str, raw: i64) -> Field<InstantNs> {
    Field::Invalid(
        RejectReason::TimestampOutOfRange,
        format!("{name} {raw} is outside the years 1677-2262"),
    )
}

fn too_large(name: &str, shown: &str) -> Field<i64> {
    Field::Invalid(
        RejectReason::AmountOutOfRange,
        format!("{name} {shown} does not fit a signed 64-bit integer"),
    )
}

fn decimal_yen(name: &str, raw: i128, divisor: i128, scale: usize) -> Field<i64> {
    let shown = || {
        let sign = if raw < 0 { "-" } else { "" };
        let whole = (raw / divisor).unsigned_abs();
        let fraction = (raw % divisor).unsigned_abs();
        format!("{sign}{whole}.{fraction:0width$}", width = scale)
    };
    if raw % divisor != 0 {
        return Field::Invalid(
            RejectReason::FractionalYen,
            format!("{name} {} has a fraction of a yen", shown()),
        );
    }
    match i64::try_from(raw / divisor) {
        Ok(yen) => Field::Value(yen),
        Err(_) => too_large(name, &shown()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int96(nanos_of_day: u64, julian_day: u32) -> Int96 {
        let mut value = Int96::new();
        value.set_data(nanos_of_day as u32, (nanos_of_day >> 32) as u32, julian_day);
        value
    }

    #[test]
    fn int96_days_become_instants_and_far_days_are_rejected_not_clamped() {
        assert_eq!(int96_instant("t", &int96(5, 2_440_588)), Field::Value(5));
        assert_eq!(
            int96_instant("t", &int96(0, 2_440_589)),
            Field::Value(86_400_000_000_000)
        );
        for far_day in [1_721_426, 5_373_484, 110_000_000] {
            let Field::Invalid(reason, detail) = int96_instant("completed_at", &int96(0, far_day))
            else {
                panic!("day {far_day} was accepted");
            };
            assert_eq!(reason, RejectReason::TimestampOutOfRange);
            assert!(detail.contains("completed_at"), "{detail}");
        }
        let past_midnight = int96(86_400_000_000_000, 2_440_588);
        assert!(matches!(
            int96_instant("t", &past_midnight),
            Field::Invalid(..)
        ));
    }

    #[test]
    fn fractions_of_a_yen_show_their_sign() {
        let Field::Invalid(_, detail) = decimal_yen("amount_jpy", -50, 100, 2) else {
            panic!()
        };
        assert!(detail.contains("-0.50"), "{detail}");
    }
}
