//! The month settled batch by batch: what happens at the seams between batches. A Spark folder
//! of part files is read file by file, so each file's rows are a batch of their own here, and
//! an order id that ends one file and starts the next is a copy across a seam.

mod support;

use std::path::{Path, PathBuf};

use settle::calendar::Month;
use settle::generate::{write_claims, write_orders};
use settle::model::{Order, WorkType};
use settle::policy::Policy;
use settle::run::{self, RunOutcome, RunRequest};

const MONTH: &str = "2015-12";
const NS_PER_HOUR: i64 = 3_600_000_000_000;

fn order(order_id: &str, hour: i64) -> Order {
    let completed_at = MONTH.parse::<Month>().unwrap().start_ns() + (24 + hour) * NS_PER_HOUR;
    Order {
        order_id: order_id.into(),
        request_id: format!("R-{order_id}"),
        client_id: format!("c-{}", hour % 3),
        lancer_id: format!("l-{}", hour % 4),
        work_type: WorkType::ProjectFixed,
        lancer_certified: true,
        request_created_at: completed_at - 48 * NS_PER_HOUR,
        ordered_at: completed_at - 24 * NS_PER_HOUR,
        completed_at,
        amount_jpy: 10_000 + 1_000 * hour,
        reward_jpy: 8_000 + 800 * hour,
    }
}

/// Writes each part as a part file of a Spark folder, and an empty claims register.
fn month_of_parts(folder: &Path, parts: &[Vec<Order>]) -> (PathBuf, PathBuf) {
    let orders = folder.join("orders");
    std::fs::create_dir_all(&orders).unwrap();
    for (index, part) in parts.iter().enumerate() {
        write_orders(&orders.join(format!("part-{index:05}.parquet")), part).unwrap();
    }
    let claims = folder.join("claims.parquet");
    write_claims(&claims, &[]).unwrap();
    (orders, claims)
}

fn settle(folder: &Path, parts: &[Vec<Order>]) -> PathBuf {
    let (orders, claims) = month_of_parts(folder, parts);
    let request = RunRequest {
        month: MONTH.parse().unwrap(),
        orders: vec![orders],
        claims: vec![claims],
        ledger: folder.join("ledger"),
        policy: Policy::default(),
        strict: false,
        correction: None,
    };
    match run::run(&request).unwrap() {
        RunOutcome::Published(summary) => summary.folder,
        RunOutcome::Unchanged { .. } => panic!("a fresh ledger had the month already"),
    }
}

#[test]
fn an_id_that_ends_one_file_and_starts_the_next_is_rejected_in_both() {
    let work = tempfile::tempdir().unwrap();
    let first = vec![order("O-1", 1), order("O-2", 2), order("O-3", 3)];
    let second = vec![order("O-3", 4), order("O-4", 5)];
    let folder = settle(work.path(), &[first, second]);

    let lines = support::parquet_rows(&folder.join("order_lines.parquet"));
    let ids: Vec<&str> = lines.iter().map(|row| row["order_id"].as_str()).collect();
    assert_eq!(ids, ["O-1", "O-2", "O-4"]);
    let rejected = support::csv_rows(&folder.join("rejected_rows.csv"));
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    for row in &rejected {
        assert_eq!(row["reason"], "duplicate_order_id");
        assert!(row["detail"].contains("appears 2 times"), "{row:?}");
    }
}

#[test]
fn files_whose_ids_are_not_in_order_settle_to_the_same_files() {
    let work = tempfile::tempdir().unwrap();
    let early: Vec<Order> = (1..=4).map(|n| order(&format!("O-{n}"), n)).collect();
    let late: Vec<Order> = (5..=9).map(|n| order(&format!("O-{n}"), n)).collect();
    let mut shuffled = late.clone();
    shuffled.reverse();

    let ascending = settle(&work.path().join("ascending"), &[early.clone(), late]);
    let unordered = settle(&work.path().join("unordered"), &[shuffled, early]);

    for file in [
        "order_lines.parquet",
        "client_charges.csv",
        "lancer_payouts.csv",
        "holds.parquet",
        "hold_events.csv",
    ] {
        let read = |folder: &Path| std::fs::read(folder.join(file)).unwrap();
        assert!(
            read(&ascending) == read(&unordered),
            "{file} depends on the order of the input rows"
        );
    }
}

#[test]
fn a_part_file_of_another_month_is_counted_as_out_of_the_month() {
    let work = tempfile::tempdir().unwrap();
    let december: Vec<Order> = (1..=3).map(|n| order(&format!("O-{n}"), n)).collect();
    // Completed in January: every row of the second file lies after the month, which the
    // file's statistics say, so its rows are counted without being read.
    let january: Vec<Order> = (4..=7)
        .map(|n| {
            let mut late = order(&format!("O-{n}"), n);
            late.completed_at += 40 * 24 * NS_PER_HOUR;
            late
        })
        .collect();
    let folder = settle(work.path(), &[december, january]);

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["rows"]["orders_read"], 7);
    assert_eq!(manifest["rows"]["order_lines"], 3);
    assert_eq!(manifest["rows"]["orders_out_of_month"], 4);
    assert_eq!(manifest["rows"]["orders_rejected"], 0);
}

/// Statistics are what a writer wrote, not what the file holds: a row group whose footer says
/// every row completed in January, while its rows completed in December, is read in full and
/// settled, never counted out of the month on the footer's word.
#[test]
fn statistics_that_contradict_the_rows_do_not_hide_them() {
    let work = tempfile::tempdir().unwrap();
    let december: Vec<Order> = (1..=3).map(|n| order(&format!("O-{n}"), n)).collect();
    let (orders, claims) = month_of_parts(work.path(), std::slice::from_ref(&december));

    // Move the completed_at statistics (microseconds, little-endian, each stored twice in the
    // footer) forty days on; the pages are untouched.
    let part = orders.join("part-00000.parquet");
    let mut bytes = std::fs::read(&part).unwrap();
    let footer_length =
        u32::from_le_bytes(bytes[bytes.len() - 8..bytes.len() - 4].try_into().unwrap());
    let footer_start = bytes.len() - 8 - footer_length as usize;
    let later = 40 * 24 * NS_PER_HOUR / 1_000;
    let mut patched = 0;
    for micros in [
        december[0].completed_at / 1_000,
        december[2].completed_at / 1_000,
    ] {
        let (old, new) = (micros.to_le_bytes(), (micros + later).to_le_bytes());
        for at in footer_start..bytes.len() - 8 {
            if bytes[at..at + 8] == old {
                bytes[at..at + 8].copy_from_slice(&new);
                patched += 1;
            }
        }
    }
    assert!(patched >= 2, "the footer holds the statistics");
    std::fs::write(&part, bytes).unwrap();

    let request = RunRequest {
        month: MONTH.parse().unwrap(),
        orders: vec![orders],
        claims: vec![claims],
        ledger: work.path().join("ledger"),
        policy: Policy::default(),
        strict: false,
        correction: None,
    };
    let RunOutcome::Published(summary) = run::run(&request).unwrap() else {
        panic!("a fresh ledger had the month already");
    };
    assert_eq!(summary.rows.order_lines, 3, "{:?}", summary.rows);
    assert_eq!(summary.rows.orders_out_of_month, 0);
}
