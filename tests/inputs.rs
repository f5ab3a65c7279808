//! Every valid encoding of the same month settles to the same bytes (SPEC §7): the sample
//! month's orders are written again in each encoding the project's writers produce, settled
//! into a fresh ledger each, and every data file is compared with the settlement of the
//! original file.

mod support;

use std::path::{Path, PathBuf};

use settle::calendar::Month;
use settle::encodings::{self, arrow_encodings, encodings};
use settle::input::read_orders;
use settle::model::Order;
use settle::policy::Policy;
use settle::run::{self, RunOutcome, RunRequest};
use settle::validate::validate_orders;
use support::sample_month;

const MONTH: &str = "2015-12";
/// The files whose bytes must not depend on how the input was encoded. The manifest and the
/// rejected rows name the input files, so they differ by design.
const COMPARED: [&str; 5] = [
    "order_lines.parquet",
    "client_charges.csv",
    "lancer_payouts.csv",
    "holds.parquet",
    "hold_events.csv",
];

fn month() -> Month {
    MONTH.parse().unwrap()
}

fn sample_orders() -> Vec<Order> {
    let (orders, _) = sample_month(MONTH);
    let zone = Policy::default().naive_zone().unwrap();
    let (_, raw) = read_orders(&[orders], zone, 0).unwrap();
    let intake = validate_orders(&raw, month(), |_| None);
    assert!(intake.rejected.is_empty());
    intake.orders
}

fn settle_into(ledger: &Path, orders: Vec<PathBuf>, policy: Policy) -> PathBuf {
    let (_, claims) = sample_month(MONTH);
    let request = RunRequest {
        month: month(),
        orders,
        claims: vec![claims],
        ledger: ledger.to_path_buf(),
        policy,
        strict: true,
        correction: None,
    };
    match run::run(&request).unwrap_or_else(|e| panic!("{}: {e:#}", ledger.display())) {
        RunOutcome::Published(summary) => summary.folder,
        RunOutcome::Unchanged { .. } => panic!("a fresh ledger had the month already"),
    }
}

fn files(folder: &Path) -> Vec<(String, Vec<u8>)> {
    COMPARED
        .iter()
        .map(|name| (name.to_string(), std::fs::read(folder.join(name)).unwrap()))
        .collect()
}

fn baseline(work: &Path) -> Vec<(String, Vec<u8>)> {
    let (orders, _) = sample_month(MONTH);
    files(&settle_into(
        &work.join("baseline"),
        vec![orders],
        Policy::default(),
    ))
}

fn assert_same(name: &str, expected: &[(String, Vec<u8>)], actual: &[(String, Vec<u8>)]) {
    for ((file, expected_bytes), (_, actual_bytes)) in expected.iter().zip(actual) {
        assert!(
            expected_bytes == actual_bytes,
            "{name}: {file} differs from the baseline"
        );
    }
}

#[test]
fn every_parquet_encoding_settles_to_the_same_bytes() {
    let work = tempfile::tempdir().unwrap();
    let expected = baseline(work.path());
    let orders = sample_orders();
    for encoding in encodings() {
        let path = work.path().join(format!("{}.parquet", encoding.name));
        encodings::write_orders_encoded(&path, &orders, &encoding).unwrap();
        let folder = settle_into(
            &work.path().join(encoding.name),
            vec![path],
            Policy::default(),
        );
        assert_same(encoding.name, &expected, &files(&folder));
    }
}

#[test]
fn every_arrow_encoding_settles_to_the_same_bytes() {
    let work = tempfile::tempdir().unwrap();
    let expected = baseline(work.path());
    let orders = sample_orders();
    for encoding in arrow_encodings() {
        let path = work.path().join(format!("{}.parquet", encoding.name));
        encodings::write_orders_arrow(&path, &orders, &encoding).unwrap();
        let folder = settle_into(
            &work.path().join(encoding.name),
            vec![path],
            Policy::default(),
        );
        assert_same(encoding.name, &expected, &files(&folder));
    }
}

#[test]
fn a_spark_folder_of_parts_settles_like_one_file() {
    let work = tempfile::tempdir().unwrap();
    let expected = baseline(work.path());
    let orders = sample_orders();
    let folder = work.path().join("orders.parquet");
    std::fs::create_dir(&folder).unwrap();
    let all = encodings();
    let int32 = all.iter().find(|e| e.name == "amounts-int32").unwrap();
    let int64 = all.iter().find(|e| e.name == "int64-micros-utc").unwrap();
    let (first, rest) = orders.split_at(orders.len() / 3);
    // Parts whose integer widths differ, and a part with no rows at all.
    encodings::write_orders_encoded(&folder.join("part-00000.snappy.parquet"), first, int32)
        .unwrap();
    encodings::write_orders_encoded(&folder.join("part-00001.snappy.parquet"), rest, int64)
        .unwrap();
    encodings::write_orders_encoded(&folder.join("part-00002.snappy.parquet"), &[], int64).unwrap();
    std::fs::write(folder.join("_SUCCESS"), b"").unwrap();
    std::fs::write(folder.join(".part-00000.snappy.parquet.crc"), b"\x00\x01").unwrap();
    std::fs::write(folder.join("_committed_123"), b"{}").unwrap();

    let settled = settle_into(&work.path().join("spark"), vec![folder], Policy::default());

    assert_same("spark folder", &expected, &files(&settled));
    let manifest = std::fs::read_to_string(settled.join("manifest.json")).unwrap();
    assert!(
        manifest.contains("part-00002.snappy.parquet"),
        "the empty part is an input"
    );
    assert!(
        !manifest.contains("_SUCCESS") && !manifest.contains(".crc"),
        "markers are not inputs"
    );
}

#[test]
fn wall_clock_timestamps_follow_the_policy_zone() {
    let work = tempfile::tempdir().unwrap();
    let orders = sample_orders();
    let wall_clock = encodings()
        .into_iter()
        .find(|e| e.name == "int64-micros-wall-clock")
        .unwrap();
    let path = work.path().join("wall-clock.parquet");
    encodings::write_orders_encoded(&path, &orders, &wall_clock).unwrap();

    // The file holds JST wall-clock times; read as UTC they are nine hours later, so orders
    // completed in the last nine hours of the month move to January.
    let utc = Policy {
        naive_timestamp_zone: "UTC".into(),
        ..Policy::default()
    };
    let folder = settle_into(&work.path().join("utc"), vec![path], utc);

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["naive_timestamp_zone"], "UTC");
    let moved = orders
        .iter()
        .filter(|o| o.completed_at + 9 * 3_600_000_000_000 >= month().cutoff_ns());
    assert_eq!(
        manifest["rows"]["orders_out_of_month"],
        moved.count() as u64
    );
}

#[test]
fn the_host_time_zone_changes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let (orders, claims) = sample_month(MONTH);
    let mut outputs = Vec::new();
    for zone in ["America/New_York", "UTC", "Asia/Kolkata"] {
        let ledger = work.path().join(zone.replace('/', "-"));
        let output = support::run_command(MONTH, &orders, &claims, &ledger)
            .env("TZ", zone)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "TZ={zone}: {}",
            support::stderr(&output)
        );
        outputs.push((zone, files(&ledger.join(MONTH).join("v1"))));
    }
    for (zone, files) in &outputs[1..] {
        assert_same(&format!("TZ={zone}"), &outputs[0].1, files);
    }
}

#[test]
fn the_generator_writes_a_month_in_a_named_encoding() {
    let work = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_settle"))
        .args([
            "generate",
            "--from",
            MONTH,
            "--through",
            MONTH,
            "--encoding",
            "int96",
            "--out",
        ])
        .arg(work.path())
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        support::stderr(&output)
    );
    let orders = work.path().join(MONTH).join("orders.parquet");
    let folder = settle_into(&work.path().join("ledger"), vec![orders], Policy::default());
    assert_same(
        "settle generate --encoding int96",
        &baseline(work.path()),
        &files(&folder),
    );

    let unknown = std::process::Command::new(env!("CARGO_BIN_EXE_settle"))
        .args(["generate", "--encoding", "int97", "--out"])
        .arg(work.path().join("other"))
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        support::stderr(&unknown).contains("int96"),
        "{}",
        support::stderr(&unknown)
    );
}
