//! The same orders written in each encoding SPEC §7 accepts, so that tests (and anyone
//! checking a new upstream writer) can prove every encoding settles to the same bytes.
//!
//! Two writers are used on purpose. The `parquet` crate's column writers set the Parquet
//! types directly: INT96 instants without an Arrow schema (as older Spark and Hive write
//! them), timestamps with and without the UTC flag, decimals stored as INT32, INT64,
//! fixed-length or variable-length bytes, plain or dictionary pages, every compression, and
//! tiny row groups and pages. Polars writes what only an Arrow schema can say: a zone name
//! such as `Asia/Tokyo`, string views, and dictionary (categorical) columns.
//! Timestamps in seconds exist only as an Arrow annotation over millisecond values, which
//! neither writer here produces; such a file reads as milliseconds, whose values it holds.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use parquet::basic::{Compression, GzipLevel, ZstdLevel};
use parquet::data_type::{
    BoolType, ByteArray, ByteArrayType, FixedLenByteArray, FixedLenByteArrayType, Int32Type,
    Int64Type, Int96, Int96Type,
};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use polars::prelude::{
    DataFrame, DataType, NamedFrom, ParquetCompression, ParquetWriter, Series, TimeUnit, TimeZone,
};

use crate::model::{InstantNs, Order};
use crate::output::text;

const JST_OFFSET_NS: i64 = 9 * 3_600_000_000_000;
const ORDER_LEAF_COLUMNS: usize = 11;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Millis,
    Micros,
    Nanos,
}

impl Unit {
    fn nanos(self) -> i64 {
        match self {
            Unit::Millis => 1_000_000,
            Unit::Micros => 1_000,
            Unit::Nanos => 1,
        }
    }

    fn parquet_name(self) -> &'static str {
        match self {
            Unit::Millis => "MILLIS",
            Unit::Micros => "MICROS",
            Unit::Nanos => "NANOS",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timestamps {
    /// INT64 with the TIMESTAMP annotation; `utc: false` stores JST wall-clock time.
    Int64 { unit: Unit, utc: bool },
    /// Legacy INT96: nanoseconds of the day and a Julian day, always an instant in UTC.
    Int96,
    /// INT64 annotated only the legacy way, `TIMESTAMP_MILLIS` or `TIMESTAMP_MICROS` with no
    /// logical type, as parquet-mr before 1.11 and Spark 2 write: an instant in UTC.
    Legacy { unit: Unit },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalStorage {
    Int32,
    Int64,
    FixedLen,
    Bytes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amounts {
    Int32,
    Int64,
    Decimal {
        storage: DecimalStorage,
        precision: u8,
        scale: u8,
    },
}

/// One way of writing an orders file with the `parquet` crate.
#[derive(Debug, Clone, Copy)]
pub struct Encoding {
    pub name: &'static str,
    pub timestamps: Timestamps,
    pub amounts: Amounts,
    pub dictionary: bool,
    pub compression: Compression,
    pub rows_per_group: usize,
    pub page_bytes: usize,
}

const BASE: Encoding = Encoding {
    name: "int64-micros-utc",
    timestamps: Timestamps::Int64 {
        unit: Unit::Micros,
        utc: true,
    },
    amounts: Amounts::Int64,
    dictionary: true,
    compression: Compression::SNAPPY,
    rows_per_group: 1 << 20,
    page_bytes: 1 << 20,
};

/// Every encoding the `parquet` crate writer here produces, each differing from the first in
/// one respect.
pub fn encodings() -> Vec<Encoding> {
    let timestamps = |name, timestamps| Encoding {
        name,
        timestamps,
        ..BASE
    };
    let amounts = |name, amounts| Encoding {
        name,
        amounts,
        ..BASE
    };
    let decimal = |storage, precision, scale| Amounts::Decimal {
        storage,
        precision,
        scale,
    };
    let compressed = |name, compression| Encoding {
        name,
        compression,
        ..BASE
    };
    vec![
        BASE,
        timestamps(
            "int64-millis-utc",
            Timestamps::Int64 {
                unit: Unit::Millis,
                utc: true,
            },
        ),
        timestamps(
            "int64-nanos-utc",
            Timestamps::Int64 {
                unit: Unit::Nanos,
                utc: true,
            },
        ),
        timestamps(
            "int64-millis-wall-clock",
            Timestamps::Int64 {
                unit: Unit::Millis,
                utc: false,
            },
        ),
        timestamps(
            "int64-micros-wall-clock",
            Timestamps::Int64 {
                unit: Unit::Micros,
                utc: false,
            },
        ),
        timestamps(
            "int64-nanos-wall-clock",
            Timestamps::Int64 {
                unit: Unit::Nanos,
                utc: false,
            },
        ),
        timestamps("int96", Timestamps::Int96),
        timestamps(
            "legacy-timestamp-millis",
            Timestamps::Legacy { unit: Unit::Millis },
        ),
        timestamps(
            "legacy-timestamp-micros",
            Timestamps::Legacy { unit: Unit::Micros },
        ),
        amounts("amounts-int32", Amounts::Int32),
        amounts("decimal-int32", decimal(DecimalStorage::Int32, 9, 0)),
        amounts("decimal-int64", decimal(DecimalStorage::Int64, 18, 2)),
        amounts(
            "decimal-fixed-len",
            decimal(DecimalStorage::FixedLen, 38, 4),
        ),
        amounts("decimal-bytes", decimal(DecimalStorage::Bytes, 30, 1)),
        Encoding {
            name: "plain-strings",
            dictionary: false,
            ..BASE
        },
        compressed("uncompressed", Compression::UNCOMPRESSED),
        compressed("gzip", Compression::GZIP(GzipLevel::default())),
        compressed("zstd", Compression::ZSTD(ZstdLevel::default())),
        Encoding {
            name: "row-groups-of-7",
            rows_per_group: 7,
            page_bytes: 64,
            ..BASE
        },
    ]
}

fn schema(encoding: &Encoding) -> String {
    let timestamp = match encoding.timestamps {
        Timestamps::Int64 { unit, utc } => {
            format!("INT64 {{}} (TIMESTAMP({}, {utc}))", unit.parquet_name())
        }
        Timestamps::Int96 => "INT96 {}".to_string(),
        Timestamps::Legacy { unit } => format!("INT64 {{}} (TIMESTAMP_{})", unit.parquet_name()),
    };
    let amount = match encoding.amounts {
        Amounts::Int32 => "INT32 {} (INTEGER(32, true))".to_string(),
        Amounts::Int64 => "INT64 {}".to_string(),
        Amounts::Decimal {
            storage,
            precision,
            scale,
        } => {
            let physical = match storage {
                DecimalStorage::Int32 => "INT32".to_string(),
                DecimalStorage::Int64 => "INT64".to_string(),
                DecimalStorage::FixedLen => {
                    format!("FIXED_LEN_BYTE_ARRAY({})", fixed_len(precision))
                }
                DecimalStorage::Bytes => "BYTE_ARRAY".to_string(),
            };
            format!("{physical} {{}} (DECIMAL({precision}, {scale}))")
        }
    };
    let field = |kind: &str, name: &str| format!("  OPTIONAL {};\n", kind.replace("{}", name));
    let mut message = String::from("message orders {\n");
    for name in [
        "order_id",
        "request_id",
        "client_id",
        "lancer_id",
        "work_type",
    ] {
        message += &field("BYTE_ARRAY {} (STRING)", name);
    }
    message += &field("BOOLEAN {}", "lancer_certified");
    for name in ["request_created_at", "ordered_at", "completed_at"] {
        message += &field(&timestamp, name);
    }
    message += &field(&amount, "amount_jpy");
    message += &field(&amount, "reward_jpy");
    message + "}\n"
}

/// Bytes a fixed-length decimal of `precision` digits needs, as Parquet defines it.
fn fixed_len(precision: u8) -> usize {
    match precision {
        0..=9 => 4,
        10..=18 => 8,
        _ => 16,
    }
}

/// Writes `orders` in `encoding` with the `parquet` crate.
pub fn write_orders_encoded(
    path: &Path,
    orders: &[Order],
    encoding: &Encoding,
) -> anyhow::Result<()> {
    let shown = path.display();
    let schema = Arc::new(parse_message_type(&schema(encoding)).context("an orders schema")?);
    let properties = WriterProperties::builder()
        .set_compression(encoding.compression)
        .set_dictionary_enabled(encoding.dictionary)
        .set_max_row_group_row_count(Some(encoding.rows_per_group))
        .set_data_page_size_limit(encoding.page_bytes)
        .build();
    let file = File::create(path).with_context(|| format!("cannot create {shown}"))?;
    let mut writer = SerializedFileWriter::new(file, schema, Arc::new(properties))
        .with_context(|| format!("cannot start {shown}"))?;

    for group in orders.chunks(encoding.rows_per_group.max(1)) {
        let mut row_group = writer.next_row_group()?;
        let mut index = 0;
        while let Some(mut column) = row_group.next_column()? {
            write_column(&mut column, index, group, encoding)
                .with_context(|| format!("cannot write column {index} of {shown}"))?;
            column.close()?;
            index += 1;
        }
        row_group.close()?;
    }
    writer
        .close()
        .with_context(|| format!("cannot finish {shown}"))?;
    if encoding.timestamps == Timestamps::Int96 {
        mark_int96_type_defined(path, ORDER_LEAF_COLUMNS)?;
    }
    Ok(())
}

/// Marks the file's INT96 columns with the plain type-defined column order, as Spark and Hive
/// write INT96 files.
///
/// The `parquet` crate marks INT96 columns with the newer INT96 timestamp order, which the
/// legacy writers this encoding stands for never wrote (and which polars 0.55 cannot parse).
/// In the footer's Thrift compact encoding the column orders are the last field: one
/// three-byte union per leaf column (`1C 00 00` for the type-defined order, `3C 00 00` for the
/// INT96 order) and the struct's stop byte. Only those bytes are changed, after checking that
/// they are what the encoding says.
fn mark_int96_type_defined(path: &Path, leaf_columns: usize) -> anyhow::Result<()> {
    let shown = path.display();
    let mut bytes = std::fs::read(path).with_context(|| format!("cannot read {shown}"))?;
    let length_at = bytes
        .len()
        .checked_sub(8)
        .context("a Parquet file ends in 8 bytes")?;
    let orders_end = length_at - 1;
    let orders_start = orders_end
        .checked_sub(3 * leaf_columns)
        .context("a footer")?;
    if bytes[orders_end] != 0 {
        bail!("{shown}: the footer does not end in column orders");
    }
    for order in bytes[orders_start..orders_end].chunks_exact_mut(3) {
        match order {
            [0x1c | 0x2c, 0, 0] => {}
            [kind @ 0x3c, 0, 0] => *kind = 0x1c,
            other => bail!("{shown}: {other:02x?} is not a column order"),
        }
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {shown}"))
}

fn write_column(
    column: &mut parquet::file::writer::SerializedColumnWriter<'_>,
    index: usize,
    orders: &[Order],
    encoding: &Encoding,
) -> anyhow::Result<()> {
    let present = vec![1i16; orders.len()];
    let levels = Some(present.as_slice());
    let texts = |pick: fn(&Order) -> &str| -> Vec<ByteArray> {
        orders
            .iter()
            .map(|o| ByteArray::from(pick(o).as_bytes().to_vec()))
            .collect()
    };
    match index {
        0..=4 => {
            let picks: [fn(&Order) -> &str; 5] = [
                |o| &o.order_id,
                |o| &o.request_id,
                |o| &o.client_id,
                |o| &o.lancer_id,
                |o| o.work_type.as_str(),
            ];
            column
                .typed::<ByteArrayType>()
                .write_batch(&texts(picks[index]), levels, None)?;
        }
        5 => {
            let values: Vec<bool> = orders.iter().map(|o| o.lancer_certified).collect();
            column
                .typed::<BoolType>()
                .write_batch(&values, levels, None)?;
        }
        6..=8 => {
            let picks: [fn(&Order) -> InstantNs; 3] = [
                |o| o.request_created_at,
                |o| o.ordered_at,
                |o| o.completed_at,
            ];
            let instants: Vec<InstantNs> = orders.iter().map(picks[index - 6]).collect();
            write_instants(column, &instants, encoding.timestamps, levels)?;
        }
        9 | 10 => {
            let yen: Vec<i64> = if index == 9 {
                orders.iter().map(|o| o.amount_jpy).collect()
            } else {
                orders.iter().map(|o| o.reward_jpy).collect()
            };
            write_yen(column, &yen, encoding.amounts, levels)?;
        }
        _ => bail!("the orders schema has no column {index}"),
    }
    Ok(())
}

fn write_instants(
    column: &mut parquet::file::writer::SerializedColumnWriter<'_>,
    instants: &[InstantNs],
    timestamps: Timestamps,
    levels: Option<&[i16]>,
) -> anyhow::Result<()> {
    let int64 = match timestamps {
        Timestamps::Int64 { unit, utc } => Some((unit, utc)),
        Timestamps::Legacy { unit } => Some((unit, true)),
        Timestamps::Int96 => None,
    };
    match int64 {
        Some((unit, utc)) => {
            let shift = if utc { 0 } else { JST_OFFSET_NS };
            let mut values = Vec::with_capacity(instants.len());
            for instant in instants {
                let local = instant + shift;
                if local % unit.nanos() != 0 {
                    bail!("instant {instant} is not a whole {unit:?} value");
                }
                values.push(local / unit.nanos());
            }
            column
                .typed::<Int64Type>()
                .write_batch(&values, levels, None)?;
        }
        None => {
            let values: Vec<Int96> = instants.iter().map(|&ns| int96(ns)).collect();
            column
                .typed::<Int96Type>()
                .write_batch(&values, levels, None)?;
        }
    }
    Ok(())
}

/// An instant as INT96: nanoseconds within the day (little-endian, two words), then the
/// Julian day number (2,440,588 is 1970-01-01).
fn int96(instant_ns: InstantNs) -> Int96 {
    const NS_PER_DAY: i64 = 86_400_000_000_000;
    let day = instant_ns.div_euclid(NS_PER_DAY) + 2_440_588;
    let nanos_of_day = instant_ns.rem_euclid(NS_PER_DAY) as u64;
    let mut value = Int96::new();
    value.set_data(nanos_of_day as u32, (nanos_of_day >> 32) as u32, day as u32);
    value
}

fn write_yen(
    column: &mut parquet::file::writer::SerializedColumnWriter<'_>,
    yen: &[i64],
    amounts: Amounts,
    levels: Option<&[i16]>,
) -> anyhow::Result<()> {
    match amounts {
        Amounts::Int64 => {
            column.typed::<Int64Type>().write_batch(yen, levels, None)?;
        }
        Amounts::Int32 => {
            let values = yen
                .iter()
                .map(|&v| i32::try_from(v).with_context(|| format!("{v} yen does not fit INT32")))
                .collect::<anyhow::Result<Vec<i32>>>()?;
            column
                .typed::<Int32Type>()
                .write_batch(&values, levels, None)?;
        }
        Amounts::Decimal {
            storage,
            precision,
            scale,
        } => {
            let factor = 10i128.pow(u32::from(scale));
            let unscaled: Vec<i128> = yen.iter().map(|&v| i128::from(v) * factor).collect();
            write_decimal(column, &unscaled, storage, precision, levels)?;
        }
    }
    Ok(())
}

fn write_decimal(
    column: &mut parquet::file::writer::SerializedColumnWriter<'_>,
    unscaled: &[i128],
    storage: DecimalStorage,
    precision: u8,
    levels: Option<&[i16]>,
) -> anyhow::Result<()> {
    let too_wide = |v: &i128| anyhow::anyhow!("{v} does not fit a decimal of {precision} digits");
    match storage {
        DecimalStorage::Int32 => {
            let values = unscaled
                .iter()
                .map(|v| i32::try_from(*v).map_err(|_| too_wide(v)))
                .collect::<Result<Vec<_>, _>>()?;
            column
                .typed::<Int32Type>()
                .write_batch(&values, levels, None)?;
        }
        DecimalStorage::Int64 => {
            let values = unscaled
                .iter()
                .map(|v| i64::try_from(*v).map_err(|_| too_wide(v)))
                .collect::<Result<Vec<_>, _>>()?;
            column
                .typed::<Int64Type>()
                .write_batch(&values, levels, None)?;
        }
        DecimalStorage::FixedLen => {
            let width = fixed_len(precision);
            let values: Vec<FixedLenByteArray> = unscaled
                .iter()
                .map(|v| FixedLenByteArray::from(v.to_be_bytes()[16 - width..].to_vec()))
                .collect();
            column
                .typed::<FixedLenByteArrayType>()
                .write_batch(&values, levels, None)?;
        }
        DecimalStorage::Bytes => {
            let values: Vec<ByteArray> = unscaled
                .iter()
                .map(|v| ByteArray::from(minimal_twos_complement(*v)))
                .collect();
            column
                .typed::<ByteArrayType>()
                .write_batch(&values, levels, None)?;
        }
    }
    Ok(())
}

/// The shortest big-endian two's complement bytes of `value`.
fn minimal_twos_complement(value: i128) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let mut start = 0;
    while start < 15 {
        let redundant = (bytes[start] == 0x00 && bytes[start + 1] & 0x80 == 0)
            || (bytes[start] == 0xff && bytes[start + 1] & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    bytes[start..].to_vec()
}

/// Ways of writing orders that only an Arrow schema can express, written by polars.
#[derive(Debug, Clone, Copy)]
pub struct ArrowEncoding {
    pub name: &'static str,
    /// A zone name in the Arrow schema, or `None` for JST wall-clock time.
    pub zone: Option<&'static str>,
    pub unit: TimeUnit,
    /// Ids as dictionary (categorical) columns.
    pub categorical: bool,
}

pub fn arrow_encodings() -> Vec<ArrowEncoding> {
    let base = ArrowEncoding {
        name: "arrow-utc",
        zone: Some("UTC"),
        unit: TimeUnit::Microseconds,
        categorical: false,
    };
    vec![
        base,
        ArrowEncoding {
            name: "arrow-zone-asia-tokyo",
            zone: Some("Asia/Tokyo"),
            ..base
        },
        ArrowEncoding {
            name: "arrow-wall-clock-ms",
            zone: None,
            unit: TimeUnit::Milliseconds,
            ..base
        },
        ArrowEncoding {
            name: "arrow-nanos-utc",
            unit: TimeUnit::Nanoseconds,
            ..base
        },
        ArrowEncoding {
            name: "arrow-dictionary-strings",
            categorical: true,
            ..base
        },
    ]
}

pub fn write_orders_arrow(
    path: &Path,
    orders: &[Order],
    encoding: &ArrowEncoding,
) -> anyhow::Result<()> {
    let shift = if encoding.zone.is_none() {
        JST_OFFSET_NS
    } else {
        0
    };
    let per_unit = match encoding.unit {
        TimeUnit::Milliseconds => 1_000_000,
        TimeUnit::Microseconds => 1_000,
        TimeUnit::Nanoseconds => 1,
    };
    let zone = match encoding.zone {
        Some(name) => TimeZone::opt_try_new(Some(name))?,
        None => None,
    };
    let instants = |name: &str, pick: fn(&Order) -> InstantNs| {
        let values: Vec<i64> = orders
            .iter()
            .map(|o| (pick(o) + shift) / per_unit)
            .collect();
        Series::new(name.into(), values)
            .into_datetime(encoding.unit, zone.clone())
            .into()
    };
    let mut ids = vec![
        text("order_id", orders.iter().map(|o| o.order_id.as_str())),
        text("request_id", orders.iter().map(|o| o.request_id.as_str())),
        text("client_id", orders.iter().map(|o| o.client_id.as_str())),
        text("lancer_id", orders.iter().map(|o| o.lancer_id.as_str())),
        text("work_type", orders.iter().map(|o| o.work_type.as_str())),
    ];
    if encoding.categorical {
        let categorical = DataType::from_categories(polars::prelude::Categories::global());
        for column in &mut ids {
            *column = column.cast(&categorical)?;
        }
    }
    let mut columns = ids;
    columns.push(
        Series::new(
            "lancer_certified".into(),
            orders
                .iter()
                .map(|o| o.lancer_certified)
                .collect::<Vec<_>>(),
        )
        .into(),
    );
    columns.push(instants("request_created_at", |o| o.request_created_at));
    columns.push(instants("ordered_at", |o| o.ordered_at));
    columns.push(instants("completed_at", |o| o.completed_at));
    columns.push(
        Series::new(
            "amount_jpy".into(),
            orders.iter().map(|o| o.amount_jpy).collect::<Vec<_>>(),
        )
        .into(),
    );
    columns.push(
        Series::new(
            "reward_jpy".into(),
            orders.iter().map(|o| o.reward_jpy).collect::<Vec<_>>(),
        )
        .into(),
    );

    let mut frame = DataFrame::new(orders.len(), columns)?;
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    ParquetWriter::new(file)
        .with_compression(ParquetCompression::Snappy)
        .finish(&mut frame)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The names of every encoding, for `settle generate --encoding`.
pub fn names() -> Vec<&'static str> {
    let parquet = encodings().into_iter().map(|e| e.name);
    parquet
        .chain(arrow_encodings().into_iter().map(|e| e.name))
        .collect()
}

/// Writes `orders` in the encoding called `name`.
pub fn write_orders_named(path: &Path, orders: &[Order], name: &str) -> anyhow::Result<()> {
    if let Some(encoding) = encodings().into_iter().find(|e| e.name == name) {
        return write_orders_encoded(path, orders, &encoding);
    }
    if let Some(encoding) = arrow_encodings().into_iter().find(|e| e.name == name) {
        return write_orders_arrow(path, orders, &encoding);
    }
    bail!(
        "no encoding is called {name:?}; the encodings are {}",
        names().join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int96_splits_nanoseconds_of_the_day_from_the_julian_day() {
        let value = int96(86_400_000_000_000 + 5);
        assert_eq!(value.data(), &[5, 0, 2_440_589]);
        let before_1970 = int96(-1);
        assert_eq!(before_1970.data()[2], 2_440_587);
    }

    #[test]
    fn decimals_take_their_shortest_twos_complement() {
        assert_eq!(minimal_twos_complement(0), [0]);
        assert_eq!(minimal_twos_complement(127), [0x7f]);
        assert_eq!(minimal_twos_complement(128), [0x00, 0x80]);
        assert_eq!(minimal_twos_complement(-1), [0xff]);
        assert_eq!(minimal_twos_complement(-129), [0xff, 0x7f]);
    }
}
