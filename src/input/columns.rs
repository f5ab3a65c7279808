//! One Parquet file opened, and its columns read, whole or a range of row groups at a time, as
//! plain Rust values.
//!
//! Writers differ in how they store the same value (SPEC §7): strings plain or dictionary
//! encoded, amounts as any integer width or a decimal with a zero fraction, timestamps in any
//! unit, with or without a zone, or as legacy INT96. Each reader here accepts every one of
//! those encodings and turns it into one representation, so the rules never see the
//! difference. A column of a kind that cannot hold the value (a float amount, a string
//! timestamp) is a file-level error, because no row of it could be trusted; opening a file
//! checks every column's kind, so that the error comes before any row is settled.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use chrono::{DateTime, Datelike, NaiveDateTime};
use chrono_tz::Tz;
use parquet::basic::Compression;
use parquet::basic::{
    ConvertedType, LogicalType, TimeUnit as ParquetTimeUnit, TimestampType, Type as PhysicalType,
};
use parquet::column::page::PageReader;
use parquet::column::reader::ColumnReader;
use parquet::data_type::Int96;
use parquet::file::metadata::ParquetMetaData;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::serialized_reader::SerializedPageReader;
use parquet::file::statistics::Statistics;
use polars::io::parquet::metadata::FileMetadataRef;
use polars::prelude::{
    BooleanChunked, ChunkFullNull, DataFrame, DataType, ParallelStrategy, ParquetReader, SerReader,
    Series, StringChunked, TimeUnit,
};

use super::Field;
use crate::calendar::wall_clock_to_ns;
use crate::model::{InstantNs, RejectReason};

/// A Parquet file whose footer and pages have been checked, ready to have its columns read.
pub struct ParquetFile {
    pub path: PathBuf,
    pub rows: u64,
    what: String,
    columns: Vec<String>,
    int96_columns: Arc<BTreeSet<String>>,
    /// What the Parquet schema itself says of the columns, which decides over the Arrow schema
    /// a writer may have embedded (polars follows the latter).
    annotations: Arc<Annotations>,
    /// Rows in each row group, in file order.
    group_rows: Vec<u64>,
    footer: Arc<ParquetMetaData>,
    polars_footer: FileMetadataRef,
    /// The unit of each timestamp column that polars reads as instants (it has a zone).
    instant_units: HashMap<String, TimeUnit>,
}

impl ParquetFile {
    /// Opens `path` for reading `columns`, all of which must exist with a kind that can hold
    /// their values. Reads no rows yet.
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
        let int96_columns: BTreeSet<String> = schema
            .columns()
            .iter()
            .filter(|column| column.physical_type() == PhysicalType::INT96)
            .map(|column| column.path().string())
            .collect();
        let annotations = Annotations::of(schema);
        let group_rows: Vec<u64> = metadata
            .row_groups()
            .iter()
            .map(|group| u64::try_from(group.num_rows()).unwrap_or(0))
            .collect();
        if group_rows.iter().sum::<u64>() != rows {
            bail!("{what} file {shown} declares {rows} rows but its row groups hold others");
        }
        let footer = Arc::new(metadata.clone());

        let polars_footer = ParquetReader::new(
            File::open(path).with_context(|| format!("cannot open {what} file {shown}"))?,
        )
        .get_metadata()
        .with_context(|| format!("cannot read {what} file {shown}"))?
        .clone();
        let mut file = ParquetFile {
            path: path.to_path_buf(),
            rows,
            what: what.to_string(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            int96_columns: Arc::new(int96_columns),
            annotations: Arc::new(annotations),
            group_rows,
            footer,
            polars_footer,
            instant_units: HashMap::new(),
        };
        let empty = file.decode(0, 0)?;
        empty.check_kinds()?;
        for column in empty.frame.columns() {
            if let DataType::Datetime(unit, Some(_)) = column.dtype() {
                if !file.int96_columns.contains(column.name().as_str()) {
                    file.instant_units
                        .insert(column.name().to_string(), unit.to_owned());
                }
            }
        }
        Ok(file)
    }

    pub fn row_groups(&self) -> usize {
        self.group_rows.len()
    }

    pub fn group_rows(&self, group: usize) -> u64 {
        self.group_rows[group]
    }

    /// Reads every row.
    pub fn read(&self) -> anyhow::Result<Columns> {
        self.read_groups(0..self.row_groups())
    }

    /// Reads the rows of a range of consecutive row groups.
    pub fn read_groups(&self, groups: std::ops::Range<usize>) -> anyhow::Result<Columns> {
        let first_row: u64 = self.group_rows[..groups.start].iter().sum();
        let rows: u64 = self.group_rows[groups.clone()].iter().sum();
        self.check_groups(groups)?;
        self.read_rows(first_row, rows)
    }

    /// The first row (0-based) of a row group.
    pub fn group_start(&self, group: usize) -> u64 {
        self.group_rows[..group].iter().sum()
    }

    /// Checks the page headers of a range of row groups (`check_pages`), which must be done
    /// before any of their rows are read with `read_rows`.
    pub fn check_groups(&self, groups: std::ops::Range<usize>) -> anyhow::Result<()> {
        without_panics(&self.what, &self.path, || self.check_pages(groups))
    }

    /// Reads `rows` rows from row `first_row` (0-based), of row groups already checked with
    /// `check_groups`. A part of a row group can be read: its pages are decoded only as far
    /// as needed.
    pub fn read_rows(&self, first_row: u64, rows: u64) -> anyhow::Result<Columns> {
        let columns = without_panics(&self.what, &self.path, || {
            self.decode(first_row as usize, rows as usize)
        })?;
        if columns.height() as u64 != rows {
            bail!(
                "{} file {} declares {rows} rows from row {} but {} could be read",
                self.what,
                self.path.display(),
                first_row + 1,
                columns.height()
            );
        }
        Ok(columns)
    }

    /// Decodes `rows` rows from `first_row` with polars, on the calling thread: the month is
    /// read on a thread of its own beside the threads that settle and write it, and decoding
    /// its columns in parallel as well cost more than it saved (9.6-10.0 s against 9.0-9.4 s
    /// for the 10M benchmark month).
    fn decode(&self, first_row: usize, rows: usize) -> anyhow::Result<Columns> {
        self.decode_columns(&self.columns, first_row, rows)
    }

    /// Reads some of the columns of one row group, checked first like any group.
    pub fn read_group_columns(&self, group: usize, names: &[&str]) -> anyhow::Result<Columns> {
        self.check_groups(group..group + 1)?;
        let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
        let (first_row, rows) = (self.group_start(group), self.group_rows[group]);
        without_panics(&self.what, &self.path, || {
            self.decode_columns(&names, first_row as usize, rows as usize)
        })
    }

    fn decode_columns(
        &self,
        columns: &[String],
        first_row: usize,
        rows: usize,
    ) -> anyhow::Result<Columns> {
        let file = File::open(&self.path)
            .with_context(|| format!("cannot open {} file {}", self.what, self.path.display()))?;
        // INT96 columns are decoded with the `parquet` crate rather than by polars, which
        // clamps or wraps values outside the years 1677-2262 instead of reporting them.
        let (int96_names, polars_columns): (Vec<String>, Vec<String>) = columns
            .iter()
            .cloned()
            .partition(|c| self.int96_columns.contains(c));
        let mut int96 = HashMap::new();
        for name in int96_names {
            let values = self.int96_column(&name, first_row as u64, rows as u64)?;
            int96.insert(name, values);
        }
        let mut reader = ParquetReader::new(file)
            .with_columns(Some(polars_columns))
            .with_slice(Some((first_row, rows)))
            .read_parallel(ParallelStrategy::None);
        reader.set_metadata(self.polars_footer.clone());
        let frame = reader
            .finish()
            .with_context(|| format!("cannot read {} file {}", self.what, self.path.display()))?;
        Ok(Columns {
            path: self.path.clone(),
            frame,
            int96,
            annotations: self.annotations.clone(),
        })
    }

    /// Rows `first_row..first_row + rows` of an INT96 column, decoded with the `parquet`
    /// crate: nanoseconds within the day and a Julian day, an instant in UTC by definition. A
    /// day outside the years 1677-2262 is a rejected value, never a clamped one.
    fn int96_column(&self, name: &str, first_row: u64, rows: u64) -> anyhow::Result<FieldColumn> {
        let shown = self.path.display();
        let file = File::open(&self.path).with_context(|| format!("cannot open {shown}"))?;
        let reader = SerializedFileReader::new(file)
            .with_context(|| format!("{shown} is not a readable Parquet file"))?;
        let schema = reader.metadata().file_metadata().schema_descr_ptr();
        let index = (0..schema.num_columns())
            .find(|&i| schema.column(i).path().string() == name)
            .with_context(|| format!("{shown}: no INT96 column {name}"))?;
        let max_definition = schema.column(index).max_def_level();

        let mut fields = FieldColumn::with_capacity(rows as usize);
        let (mut values, mut definitions) = (Vec::new(), Vec::new());
        let mut group_start = 0;
        for (group_index, &group_rows) in self.group_rows.iter().enumerate() {
            let group_end = group_start + group_rows;
            let (from, to) = (
                first_row.max(group_start),
                (first_row + rows).min(group_end),
            );
            if from < to {
                let group = reader.get_row_group(group_index)?;
                let ColumnReader::Int96ColumnReader(mut column) = group.get_column_reader(index)?
                else {
                    bail!("{shown}: column {name} is not INT96");
                };
                let unreadable = || format!("{shown}: cannot read column {name}");
                column
                    .skip_records((from - group_start) as usize)
                    .with_context(unreadable)?;
                let mut left = (to - from) as usize;
                while left > 0 {
                    values.clear();
                    definitions.clear();
                    let (records, _, _) = column
                        .read_records(left.min(8192), Some(&mut definitions), None, &mut values)
                        .with_context(unreadable)?;
                    if records == 0 {
                        break;
                    }
                    left -= records;
                    let mut next_value = values.iter();
                    for row in 0..records {
                        let present =
                            max_definition == 0 || definitions.get(row) == Some(&max_definition);
                        match present.then(|| next_value.next()).flatten() {
                            Some(value) => fields.push(int96_instant(name, value)),
                            None => fields.push_missing(),
                        }
                    }
                }
            }
            group_start = group_end;
        }
        if fields.len() as u64 != rows {
            bail!(
                "{shown}: column {name} holds {} values from row {} where {rows} were expected",
                fields.len(),
                first_row + 1
            );
        }
        Ok(fields)
    }

    /// The least and greatest instant a row group's statistics promise for a timestamp column
    /// that holds instants (INT64 with the UTC flag), when every row of the group has a value
    /// and no value can be out of range. `None` when the file does not promise that much, and
    /// the rows must be read to know.
    pub fn instant_bounds(&self, group: usize, name: &str) -> Option<(InstantNs, InstantNs)> {
        let group = self.footer.row_groups().get(group)?;
        let column = group
            .columns()
            .iter()
            .find(|column| column.column_path().string() == name)?;
        let descriptor = column.column_descr();
        // The statistics are in the file's unit; they are used only where polars reads the
        // same unit as instants, so that they mean what the decoded values mean.
        let (nanos_per_unit, unit) = match descriptor.logical_type_ref() {
            Some(LogicalType::Timestamp(TimestampType {
                is_adjusted_to_u_t_c: true,
                unit,
            })) => match unit {
                ParquetTimeUnit::MILLIS => (1_000_000, TimeUnit::Milliseconds),
                ParquetTimeUnit::MICROS => (1_000, TimeUnit::Microseconds),
                ParquetTimeUnit::NANOS => (1, TimeUnit::Nanoseconds),
            },
            _ => return None,
        };
        if self.instant_units.get(name) != Some(&unit) {
            return None;
        }
        if descriptor.physical_type() != PhysicalType::INT64 {
            return None;
        }
        let Some(Statistics::Int64(statistics)) = column.statistics() else {
            return None;
        };
        if statistics.null_count_opt() != Some(0) {
            return None;
        }
        let low: i64 = *statistics.min_opt()?;
        let high: i64 = *statistics.max_opt()?;
        Some((
            low.checked_mul(nanos_per_unit)?,
            high.checked_mul(nanos_per_unit)?,
        ))
    }
}

/// Decoded rows of a Parquet file, with a reader for each kind of column.
pub struct Columns {
    path: PathBuf,
    frame: DataFrame,
    /// INT96 columns, decoded apart from the frame (see `ParquetFile::int96_column`).
    int96: HashMap<String, FieldColumn>,
    annotations: Arc<Annotations>,
}

/// The Parquet schema's own annotations of the columns that polars might read otherwise.
///
/// Polars takes a column's type from the Arrow schema a writer embeds in the footer when there
/// is one, and reads a timestamp annotated only the legacy way (`TIMESTAMP_MILLIS` or
/// `TIMESTAMP_MICROS`, as parquet-mr before 1.11 and Spark 2 write) as a time without a zone.
/// The Parquet format defines both legacy annotations as instants in UTC, and the Arrow schema
/// is only a hint that a damaged footer can change without any checksum noticing. So whether a
/// timestamp is an instant or a wall-clock time, and whether a column may be all-null by type,
/// is decided here, from the Parquet schema.
#[derive(Debug, Default)]
struct Annotations {
    /// Timestamp columns, with whether their values are instants in UTC.
    timestamps_utc: HashMap<String, bool>,
    /// Columns annotated as holding no values at all (the Parquet `UNKNOWN`, Arrow's null).
    null_typed: BTreeSet<String>,
}

impl Annotations {
    fn of(schema: &parquet::schema::types::SchemaDescriptor) -> Annotations {
        let mut annotations = Annotations::default();
        for column in schema.columns() {
            let name = column.path().string();
            match (column.logical_type_ref(), column.converted_type()) {
                (Some(LogicalType::Timestamp(timestamp)), _) => {
                    let utc = timestamp.is_adjusted_to_u_t_c;
                    annotations.timestamps_utc.insert(name, utc);
                }
                (None, ConvertedType::TIMESTAMP_MILLIS | ConvertedType::TIMESTAMP_MICROS) => {
                    annotations.timestamps_utc.insert(name, true);
                }
                (Some(LogicalType::Unknown), _) => {
                    annotations.null_typed.insert(name);
                }
                _ => {}
            }
        }
        annotations
    }
}

/// The kind of value a column must hold.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    Boolean,
    Instant,
    Yen,
}

fn kind_of(column: &str) -> Kind {
    match column {
        "lancer_certified" | "covered" => Kind::Boolean,
        name if name.ends_with("_at") => Kind::Instant,
        name if name.ends_with("_jpy") => Kind::Yen,
        _ => Kind::Text,
    }
}

impl Columns {
    pub fn height(&self) -> usize {
        self.frame.height()
    }

    /// Checks that every column has a kind that can hold its values, by the column's name:
    /// `…_at` timestamps, `…_jpy` whole yen, flags true/false, everything else text.
    fn check_kinds(&self) -> anyhow::Result<()> {
        for column in self.int96.keys() {
            if !matches!(kind_of(column), Kind::Instant) {
                return Err(self.wrong_type(column, "values other than INT96 timestamps"));
            }
        }
        for column in self.frame.get_column_names() {
            match kind_of(column) {
                Kind::Text => self.strings(column).map(drop)?,
                Kind::Boolean => self.booleans(column).map(drop)?,
                Kind::Instant => self.instant_column(column, chrono_tz::UTC).map(drop)?,
                Kind::Yen => self.yen_column(column).map(drop)?,
            }
        }
        Ok(())
    }

    fn column(&self, name: &str) -> anyhow::Result<&Series> {
        Ok(self
            .frame
            .column(name)
            .with_context(|| format!("{}: column {name} was not read", self.path.display()))?
            .as_materialized_series())
    }

    /// The rows of a column polars read as all-null by type, which only a column the Parquet
    /// schema annotates as null may be: otherwise the footer's Arrow schema contradicts the
    /// Parquet schema, and the file is damaged.
    fn null_typed_rows(&self, name: &str) -> anyhow::Result<usize> {
        let rows = self.column(name)?.len();
        if self.annotations.null_typed.contains(name) {
            return Ok(rows);
        }
        bail!(
            "{} is damaged: the Arrow schema in its footer says column {name} holds no values, \
             but its Parquet schema gives it a type",
            self.path.display()
        )
    }

    fn wrong_type(&self, name: &str, expected: &str) -> anyhow::Error {
        let found = match self.int96.contains_key(name) {
            true => "INT96 timestamps".to_string(),
            false => self
                .column(name)
                .map(|c| c.dtype().to_string())
                .unwrap_or_default(),
        };
        anyhow::anyhow!(
            "{}: column {name} should hold {expected}, but its type is {found}",
            self.path.display()
        )
    }

    /// A text column: plain, large or dictionary-encoded strings.
    pub fn strings(&self, name: &str) -> anyhow::Result<StringChunked> {
        let column = self.column(name)?;
        let strings = match column.dtype() {
            // A column every writer left empty, such as a register with no decision yet.
            DataType::Null => {
                let rows = self.null_typed_rows(name)?;
                return Ok(StringChunked::full_null(name.into(), rows));
            }
            DataType::String => column.clone(),
            DataType::Categorical(..) | DataType::Enum(..) => column
                .cast(&DataType::String)
                .with_context(|| format!("{}: cannot decode column {name}", self.path.display()))?,
            _ => return Err(self.wrong_type(name, "text")),
        };
        Ok(strings
            .str()
            .map_err(|_| self.wrong_type(name, "text"))?
            .clone())
    }

    /// A text column as owned values, for files of a few rows.
    pub fn text(&self, name: &str) -> anyhow::Result<Vec<Option<String>>> {
        Ok(self
            .strings(name)?
            .iter()
            .map(|value| value.map(str::to_string))
            .collect())
    }

    pub fn booleans(&self, name: &str) -> anyhow::Result<BooleanChunked> {
        let column = self.column(name)?;
        if column.dtype() == &DataType::Null {
            let rows = self.null_typed_rows(name)?;
            return Ok(BooleanChunked::full_null(name.into(), rows));
        }
        Ok(column
            .bool()
            .map_err(|_| self.wrong_type(name, "true/false values"))?
            .clone())
    }

    pub fn boolean(&self, name: &str) -> anyhow::Result<Vec<Option<bool>>> {
        Ok(self.booleans(name)?.iter().collect())
    }

    /// A timestamp column as instants. Values with a zone, and legacy INT96 values (which are
    /// UTC by definition), are instants already; values without a zone are wall-clock times in
    /// `naive_zone`.
    pub fn instant_column(&self, name: &str, naive_zone: Tz) -> anyhow::Result<FieldColumn> {
        if let Some(int96) = self.int96.get(name) {
            return Ok(int96.clone());
        }
        let column = self.column(name)?;
        if column.dtype() == &DataType::Null {
            return Ok(FieldColumn::missing(self.null_typed_rows(name)?));
        }
        let DataType::Datetime(unit, _) = column.dtype() else {
            return Err(self.wrong_type(name, "timestamps"));
        };
        let nanos_per_unit: i64 = match unit {
            TimeUnit::Nanoseconds => 1,
            TimeUnit::Microseconds => 1_000,
            TimeUnit::Milliseconds => 1_000_000,
        };
        // Only the Parquet schema says what the integers are: a column it does not annotate as
        // timestamps, which only the footer's Arrow schema calls one, has no trustworthy unit
        // or zone.
        let Some(&utc) = self.annotations.timestamps_utc.get(name) else {
            bail!(
                "{}: column {name} holds integers that only the Arrow schema in the footer calls \
                 timestamps ({}); the Parquet schema must annotate them as timestamps",
                self.path.display(),
                column.dtype()
            );
        };
        let wall_clock = !utc;
        let values = column
            .datetime()
            .map_err(|_| self.wrong_type(name, "timestamps"))?;

        let mut instants = FieldColumn::with_capacity(column.len());
        let mut zone_offsets = WallClockCache::new(naive_zone);
        for raw in values.physical().iter() {
            let Some(raw) = raw else {
                instants.push_missing();
                continue;
            };
            let Some(ns) = raw.checked_mul(nanos_per_unit) else {
                instants.push_invalid(
                    RejectReason::TimestampOutOfRange,
                    format!("{name} {raw} is outside the years 1677-2262"),
                );
                continue;
            };
            if !wall_clock {
                instants.push_value(ns);
                continue;
            }
            let local = DateTime::from_timestamp_nanos(ns).naive_utc();
            match zone_offsets.instant(local, ns) {
                Some(instant) => instants.push_value(instant),
                None => instants.push_invalid(
                    RejectReason::TimestampOutOfRange,
                    match local.year() {
                        1678..=2261 => {
                            format!("{name} {local} does not exist once in zone {naive_zone}")
                        }
                        _ => format!("{name} {local} is outside the years 1677-2262"),
                    },
                ),
            }
        }
        Ok(instants)
    }

    pub fn instants(&self, name: &str, naive_zone: Tz) -> anyhow::Result<Vec<Field<InstantNs>>> {
        Ok(self.instant_column(name, naive_zone)?.into_fields())
    }

    /// A column of whole yen: any integer width, or a decimal whose fraction is zero.
    pub fn yen_column(&self, name: &str) -> anyhow::Result<FieldColumn> {
        let column = self.column(name)?;
        let dtype = column.dtype().clone();
        if dtype == DataType::Null {
            return Ok(FieldColumn::missing(self.null_typed_rows(name)?));
        }
        let mut yen = FieldColumn::with_capacity(column.len());
        if let DataType::Decimal(_, scale) = dtype {
            let values = column.decimal().map_err(|_| self.wrong_type(name, "yen"))?;
            let divisor = 10i128.checked_pow(scale as u32).with_context(|| {
                format!("{}: column {name} has scale {scale}", self.path.display())
            })?;
            for raw in values.physical().iter() {
                match raw {
                    None => yen.push_missing(),
                    Some(raw) => yen.push(decimal_yen(name, raw, divisor, scale)),
                }
            }
            return Ok(yen);
        }
        if dtype == DataType::UInt64 {
            let values = column.u64().map_err(|_| self.wrong_type(name, "yen"))?;
            for raw in values.iter() {
                match raw.map(|raw| (raw, i64::try_from(raw))) {
                    None => yen.push_missing(),
                    Some((_, Ok(value))) => yen.push_value(value),
                    Some((raw, Err(_))) => yen.push(too_large(name, &raw.to_string())),
                }
            }
            return Ok(yen);
        }
        if !dtype.is_integer() {
            return Err(self.wrong_type(name, "whole yen (an integer or a decimal)"));
        }
        let values = column
            .cast(&DataType::Int64)
            .with_context(|| format!("{}: cannot widen column {name}", self.path.display()))?;
        let values = values.i64().map_err(|_| self.wrong_type(name, "yen"))?;
        for raw in values.iter() {
            match raw {
                None => yen.push_missing(),
                Some(value) => yen.push_value(value),
            }
        }
        Ok(yen)
    }

    pub fn yen(&self, name: &str) -> anyhow::Result<Vec<Field<i64>>> {
        Ok(self.yen_column(name)?.into_fields())
    }
}

/// A column of integers (instants or yen) whose rows each hold a usable value, nothing, or a
/// value that cannot be used, with the reason to reject its row.
///
/// Values sit in one vector and flags in another, so that the common case (every row usable)
/// is read as two plain slices; the reasons are kept only for the rows that have one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldColumn {
    /// The value of each row, 0 where it has none.
    values: Vec<i64>,
    usable: Vec<bool>,
    /// Rows whose value exists but cannot be used, ascending, with why.
    invalid: Vec<(usize, RejectReason, String)>,
}

impl FieldColumn {
    pub fn with_capacity(rows: usize) -> FieldColumn {
        FieldColumn {
            values: Vec::with_capacity(rows),
            usable: Vec::with_capacity(rows),
            invalid: Vec::new(),
        }
    }

    /// A column of `rows` rows with no values.
    pub fn missing(rows: usize) -> FieldColumn {
        FieldColumn {
            values: vec![0; rows],
            usable: vec![false; rows],
            invalid: Vec::new(),
        }
    }

    pub fn push(&mut self, field: Field<i64>) {
        match field {
            Field::Value(value) => self.push_value(value),
            Field::Missing => self.push_missing(),
            Field::Invalid(reason, detail) => self.push_invalid(reason, detail),
        }
    }

    pub fn push_value(&mut self, value: i64) {
        self.values.push(value);
        self.usable.push(true);
    }

    pub fn push_missing(&mut self) {
        self.values.push(0);
        self.usable.push(false);
    }

    pub fn push_invalid(&mut self, reason: RejectReason, detail: String) {
        self.invalid.push((self.values.len(), reason, detail));
        self.push_missing();
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The value of each row, 0 where `usable` says it has none.
    pub fn values(&self) -> &[i64] {
        &self.values
    }

    pub fn usable(&self) -> &[bool] {
        &self.usable
    }

    pub fn value(&self, row: usize) -> Option<i64> {
        self.usable[row].then_some(self.values[row])
    }

    /// The row as a `Field`, with its reason when its value cannot be used.
    pub fn field(&self, row: usize) -> Field<i64> {
        if self.usable[row] {
            return Field::Value(self.values[row]);
        }
        match self.invalid.binary_search_by_key(&row, |(at, ..)| *at) {
            Ok(index) => {
                let (_, reason, detail) = &self.invalid[index];
                Field::Invalid(*reason, detail.clone())
            }
            Err(_) => Field::Missing,
        }
    }

    pub fn into_fields(self) -> Vec<Field<i64>> {
        (0..self.len()).map(|row| self.field(row)).collect()
    }
}

/// Wall-clock times turned into instants, with each local hour's offset looked up once.
///
/// Zones change their offset at most a few times a year, and never twice within an hour, so an
/// hour whose first and last instant have one offset has it throughout; an hour with a change
/// in it is converted time by time.
struct WallClockCache {
    zone: Tz,
    offsets_ns: HashMap<i64, Option<i64>>,
}

const HOUR_NS: i64 = 3_600_000_000_000;

impl WallClockCache {
    fn new(zone: Tz) -> WallClockCache {
        WallClockCache {
            zone,
            offsets_ns: HashMap::new(),
        }
    }

    /// The instant of wall-clock time `local`, given also as nanoseconds since the epoch in
    /// wall-clock terms, or `None` when the zone skips or repeats it.
    fn instant(&mut self, local: NaiveDateTime, local_ns: i64) -> Option<InstantNs> {
        let hour = local_ns.div_euclid(HOUR_NS);
        let zone = self.zone;
        let offset_ns = *self.offsets_ns.entry(hour).or_insert_with(|| {
            // The hours at the ends of the 64-bit range have no whole hour to test: they are
            // converted time by time.
            let start_ns = hour.checked_mul(HOUR_NS)?;
            let last_ns = start_ns.checked_add(HOUR_NS - 1)?;
            let first =
                wall_clock_to_ns(DateTime::from_timestamp_nanos(start_ns).naive_utc(), zone)?;
            let last = wall_clock_to_ns(DateTime::from_timestamp_nanos(last_ns).naive_utc(), zone)?;
            let offset = first.checked_sub(start_ns)?;
            (Some(offset) == last.checked_sub(last_ns)).then_some(offset)
        });
        match offset_ns {
            Some(offset_ns) => local_ns.checked_add(offset_ns),
            None => wall_clock_to_ns(local, zone),
        }
    }
}

/// Runs `read` and turns a panic inside it into an error naming the file.
///
/// Both Parquet libraries assert, rather than report, some kinds of damage (a negative offset
/// in the footer, a page whose bit width is impossible). One damaged export must not take the
/// job down with a stack trace, so such a file becomes an ordinary file-level error.
pub(crate) fn without_panics<T>(
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

impl ParquetFile {
    /// Walks every page header of the column chunks about to be decoded, with the `parquet`
    /// crate, before polars decodes them: each header must parse, its page must lie within
    /// its column chunk, and the pages' value counts must add up to the row group's rows.
    ///
    /// A damaged page header can claim billions of values, and polars would try to allocate
    /// room for them and abort the process; this walk turns such a file into an error naming
    /// it. Each page is also read whole, so that a page whose checksum (CRC-32, when the
    /// writer stored one) does not match its bytes is reported rather than decoded: polars
    /// does not check checksums. Other damage inside a page's data is found by polars when it
    /// decodes the page, as an error or a panic that `without_panics` turns into one. The walk
    /// runs just before the groups are decoded, so that a month read in batches is checked in
    /// batches, on the reading thread, and a group never decoded is never walked.
    fn check_pages(&self, groups: std::ops::Range<usize>) -> anyhow::Result<()> {
        let (what, shown) = (self.what.as_str(), self.path.display());
        let file =
            File::open(&self.path).with_context(|| format!("cannot open {what} file {shown}"))?;
        let file = Arc::new(file);
        for group_index in groups {
            let group = self.footer.row_groups().get(group_index).with_context(|| {
                format!("{what} file {shown}: row group {group_index} is unreadable")
            })?;
            let group_rows = u64::try_from(group.num_rows()).unwrap_or(u64::MAX);
            for column in group.columns() {
                let top_level = column.column_path().parts().first();
                if !top_level.is_some_and(|name| self.columns.contains(name)) {
                    continue;
                }
                let damaged = |detail: String| {
                    anyhow::anyhow!(
                    "{what} file {shown} is damaged: row group {group_index}, column {}: {detail}",
                    column.column_path().string()
                )
                };
                let as_stored = column
                    .clone()
                    .into_builder()
                    .set_compression(Compression::UNCOMPRESSED)
                    .build()
                    .map_err(|e| damaged(e.to_string()))?;
                let mut pages =
                    SerializedPageReader::new(file.clone(), &as_stored, group_rows as usize, None)
                        .map_err(|e| damaged(e.to_string()))?;
                let mut values: u64 = 0;
                while let Some(page) = pages.get_next_page().map_err(|e| damaged(e.to_string()))? {
                    if page.page_type() == parquet::basic::PageType::DICTIONARY_PAGE {
                        continue;
                    }
                    values = values.saturating_add(u64::from(page.num_values()));
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
    // In 128 bits, so that the first day of 1677 (whose midnight is before the 64-bit range
    // but whose later instants are in it) is judged by its instant, as INT64 values are.
    let instant = i128::from(days) * i128::from(NS_PER_DAY) + i128::from(nanos_of_day);
    match i64::try_from(instant) {
        Ok(instant) if (0..NS_PER_DAY).contains(&nanos_of_day) => Field::Value(instant),
        _ => Field::Invalid(
            RejectReason::TimestampOutOfRange,
            format!("{name} (INT96, Julian day {julian_day}) is outside the years 1677-2262"),
        ),
    }
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
    use crate::calendar::parse_zone;
    use crate::generate::{write_claims, write_orders};
    use crate::model::{Claim, ClaimStatus, Order, WorkType};

    const HOUR_NS: i64 = 3_600_000_000_000;

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
        // The first day of the range: its midnight is before the first 64-bit instant, its
        // last second is not.
        let first_day = 2_440_588 - 106_752;
        assert_eq!(
            int96_instant("t", &int96(86_399_000_000_000, first_day)),
            Field::Value(-106_751 * 86_400_000_000_000 - 1_000_000_000)
        );
        assert!(matches!(
            int96_instant("t", &int96(0, first_day)),
            Field::Invalid(..)
        ));
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

    #[test]
    fn statistics_bound_instants_only_where_every_row_has_one() {
        let folder = tempfile::tempdir().unwrap();
        let start_ns = "2015-12"
            .parse::<crate::calendar::Month>()
            .unwrap()
            .start_ns();
        let orders: Vec<Order> = (0..3)
            .map(|n| Order {
                order_id: format!("O-{n}"),
                request_id: "R".into(),
                client_id: "c".into(),
                lancer_id: "l".into(),
                work_type: WorkType::Task,
                lancer_certified: false,
                request_created_at: start_ns,
                ordered_at: start_ns,
                completed_at: start_ns + n * HOUR_NS,
                amount_jpy: 1_000,
                reward_jpy: 800,
            })
            .collect();
        let path = folder.path().join("orders.parquet");
        write_orders(&path, &orders).unwrap();
        let file = ParquetFile::open(&path, "orders", &["completed_at"]).unwrap();
        assert_eq!(
            file.instant_bounds(0, "completed_at"),
            Some((start_ns, start_ns + 2 * HOUR_NS))
        );

        let claims = [Claim {
            claim_id: "K".into(),
            order_id: "O-1".into(),
            filed_at: start_ns,
            status: ClaimStatus::UnderReview,
            decided_at: None,
            payout_decision: None,
        }];
        let path = folder.path().join("claims.parquet");
        write_claims(&path, &claims).unwrap();
        let file = ParquetFile::open(&path, "claims", &["filed_at", "decided_at"]).unwrap();
        assert_eq!(
            file.instant_bounds(0, "filed_at"),
            Some((start_ns, start_ns))
        );
        assert_eq!(
            file.instant_bounds(0, "decided_at"),
            None,
            "a null has no instant"
        );
    }

    #[test]
    fn wall_clock_hours_with_a_change_are_converted_time_by_time() {
        let zone = parse_zone("America/New_York").unwrap();
        let mut cache = WallClockCache::new(zone);
        for text in [
            "2016-03-13T01:59:59",
            "2016-03-13T02:30:00",
            "2016-03-13T03:00:00",
            "2016-11-06T01:30:00",
            "2016-11-06T02:00:00",
            "2016-07-01T12:00:00",
            "2016-07-01T12:59:59.999999999",
        ] {
            let local: NaiveDateTime = text.parse().unwrap();
            let local_ns = local.and_utc().timestamp_nanos_opt().unwrap();
            assert_eq!(
                cache.instant(local, local_ns),
                wall_clock_to_ns(local, zone),
                "{text}"
            );
            assert_eq!(
                cache.instant(local, local_ns),
                wall_clock_to_ns(local, zone),
                "{text}, cached"
            );
        }
    }

    #[test]
    fn wall_clock_times_at_the_ends_of_the_range_convert_or_are_refused_without_overflow() {
        let mut cache = WallClockCache::new(parse_zone("Asia/Tokyo").unwrap());
        let at = |ns: i64| (DateTime::from_timestamp_nanos(ns).naive_utc(), ns);
        // Tokyo is nine hours ahead of UTC: its latest wall-clock time is an instant nine
        // hours before the last one; its earliest would be nine hours before the first.
        let (local, ns) = at(i64::MAX);
        assert_eq!(cache.instant(local, ns), Some(i64::MAX - 9 * HOUR_NS));
        for ns in [i64::MIN, i64::MIN + 1, i64::MIN + HOUR_NS - 1] {
            let (local, ns) = at(ns);
            assert_eq!(cache.instant(local, ns), None, "{local}");
        }
    }
}
