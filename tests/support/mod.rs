//! Helpers shared by the integration tests: reading outputs back with the `parquet` crate,
//! an implementation independent of the polars writer that produced them.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

/// One row of a Parquet file, every value rendered as text by column name.
pub type TextRow = BTreeMap<String, String>;

/// Reads every row of a Parquet file with the `parquet` crate's record reader.
///
/// Values render as they would in a CSV file: integers and booleans plainly, strings as they
/// are, timestamps (which the record reader gives as integers of the file's unit) as the
/// integer.
pub fn parquet_rows(path: &Path) -> Vec<TextRow> {
    let file = File::open(path).unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let reader = SerializedFileReader::new(file)
        .unwrap_or_else(|e| panic!("{} is not Parquet: {e}", path.display()));
    let rows = reader.get_row_iter(None).expect("a row iterator");
    rows.map(|row| {
        let row = row.unwrap_or_else(|e| panic!("{}: unreadable row: {e}", path.display()));
        row.get_column_iter()
            .map(|(name, value)| (name.clone(), render(value)))
            .collect()
    })
    .collect()
}

fn render(value: &Field) -> String {
    match value {
        Field::Null => String::new(),
        Field::Bool(value) => value.to_string(),
        Field::Int(value) => value.to_string(),
        Field::Long(value) => value.to_string(),
        Field::Str(value) => value.clone(),
        Field::TimestampMillis(value) => value.to_string(),
        Field::TimestampMicros(value) => value.to_string(),
        other => panic!("unexpected value type in a settlement file: {other:?}"),
    }
}

/// Reads a CSV file into rows keyed by column name, keeping the file's order.
pub fn csv_rows(path: &Path) -> Vec<TextRow> {
    let mut reader = csv::Reader::from_path(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let header = reader.headers().expect("a header row").clone();
    reader
        .records()
        .map(|record| {
            let record = record.unwrap_or_else(|e| panic!("{}: bad row: {e}", path.display()));
            header
                .iter()
                .zip(record.iter())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// Keeps only `columns` of each row.
pub fn project(rows: &[TextRow], columns: &[&str]) -> Vec<TextRow> {
    rows.iter()
        .map(|row| {
            columns
                .iter()
                .map(|c| {
                    let value = row
                        .get(*c)
                        .unwrap_or_else(|| panic!("no column {c} in {row:?}"));
                    (c.to_string(), value.clone())
                })
                .collect()
        })
        .collect()
}

/// Indexes rows by the value of `key`, failing on a repeated key.
pub fn by_key(rows: Vec<TextRow>, key: &str) -> BTreeMap<String, TextRow> {
    let mut indexed = BTreeMap::new();
    for row in rows {
        let id = row[key].clone();
        assert!(
            indexed.insert(id.clone(), row).is_none(),
            "{key} {id} appears twice"
        );
    }
    indexed
}

/// Compares two keyed tables and fails with every differing key, not just the first.
pub fn assert_same_rows(
    what: &str,
    actual: &BTreeMap<String, TextRow>,
    expected: &BTreeMap<String, TextRow>,
) {
    let mut problems = Vec::new();
    for (key, expected_row) in expected {
        match actual.get(key) {
            None => problems.push(format!("missing {key}: expected {expected_row:?}")),
            Some(actual_row) if actual_row != expected_row => problems.push(format!(
                "{key}: expected {expected_row:?}, found {actual_row:?}"
            )),
            Some(_) => {}
        }
    }
    for key in actual.keys().filter(|key| !expected.contains_key(*key)) {
        problems.push(format!("unexpected {key}: {:?}", actual[key]));
    }
    assert!(
        problems.is_empty(),
        "{what}: {} differences\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The `shared/` folder beside the repository, where the CEO keeps the independent sample
/// months. `SETTLE_SHARED_DIR` points elsewhere.
pub fn shared_dir() -> Option<std::path::PathBuf> {
    let dir = match std::env::var_os("SETTLE_SHARED_DIR") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"),
    };
    dir.join("data").is_dir().then_some(dir)
}

/// A month of the project's own sample data: its orders and claims files.
pub fn sample_month(month: &str) -> (PathBuf, PathBuf) {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample_data")
        .join(month);
    (folder.join("orders.parquet"), folder.join("claims.parquet"))
}

/// `settle run` for one month, ready for more arguments.
pub fn run_command(month: &str, orders: &Path, claims: &Path, ledger: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_settle"));
    command
        .args(["run", "--month", month, "--orders"])
        .arg(orders)
        .arg("--claims")
        .arg(claims)
        .arg("--ledger")
        .arg(ledger);
    command
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The published version numbers of a month in a ledger.
pub fn versions(ledger: &Path, month: &str) -> Vec<u32> {
    let ledger = settle::ledger::Ledger::open(ledger).expect("a ledger");
    ledger
        .versions(month.parse().expect("a month"))
        .expect("readable versions")
}
