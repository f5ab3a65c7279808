//! Property tests through the files: a random month settled twice gives byte-identical files,
//! and a correction's adjustment files are exactly the column-wise difference between the
//! two versions' client and lancer files.
//!
//! Each case writes Parquet and settles twice or three times, so there are fewer cases here than
//! in `properties.rs`, whose pure settlement does the heavy random checking.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use settle::calendar::Month;
use settle::generate::{write_claims, write_orders};
use settle::model::{Claim, ClaimStatus, Order, WorkType};
use settle::policy::Policy;
use settle::run::{self, RunOutcome, RunRequest};
use support::{by_key, csv_rows, TextRow};

const MONTH: &str = "2015-12";
const NS_PER_HOUR: i64 = 3_600_000_000_000;

fn month() -> Month {
    MONTH.parse().unwrap()
}

/// (client, lancer, certified, fixed price, hour of the month, amount, claim under review)
type OrderSeed = (u8, u8, bool, bool, i64, i64, bool);

fn orders_from(seeds: &[OrderSeed]) -> (Vec<Order>, Vec<Claim>) {
    let mut orders = Vec::new();
    let mut claims = Vec::new();
    for (index, &(client, lancer, certified, fixed, hour, amount_jpy, claimed)) in
        seeds.iter().enumerate()
    {
        let completed_at = month().start_ns() + hour * NS_PER_HOUR;
        let order = Order {
            order_id: format!("O{index:04}"),
            request_id: format!("R{index:04}"),
            client_id: format!("c{client}"),
            lancer_id: format!("l{lancer}"),
            work_type: if fixed {
                WorkType::ProjectFixed
            } else {
                WorkType::Task
            },
            lancer_certified: certified,
            request_created_at: completed_at - 48 * NS_PER_HOUR,
            ordered_at: completed_at - 24 * NS_PER_HOUR,
            completed_at,
            amount_jpy,
            reward_jpy: amount_jpy - amount_jpy / 5,
        };
        if claimed {
            claims.push(Claim {
                claim_id: format!("K{index:04}"),
                order_id: order.order_id.clone(),
                filed_at: completed_at,
                status: ClaimStatus::UnderReview,
                decided_at: None,
                payout_decision: None,
            });
        }
        orders.push(order);
    }
    (orders, claims)
}

fn write_inputs(folder: &Path, orders: &[Order], claims: &[Claim]) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(folder).unwrap();
    let paths = (folder.join("orders.parquet"), folder.join("claims.parquet"));
    write_orders(&paths.0, orders).unwrap();
    write_claims(&paths.1, claims).unwrap();
    paths
}

fn settle(ledger: &Path, inputs: &(PathBuf, PathBuf), correction: Option<&str>) -> PathBuf {
    let request = RunRequest {
        month: month(),
        orders: vec![inputs.0.clone()],
        claims: vec![inputs.1.clone()],
        ledger: ledger.to_path_buf(),
        policy: Policy::default(),
        strict: true,
        correction: correction.map(str::to_string),
    };
    match run::run(&request).unwrap() {
        RunOutcome::Published(summary) => summary.folder,
        RunOutcome::Unchanged { .. } => panic!("nothing was published"),
    }
}

/// The column-wise difference `new - old` of two keyed CSV tables, rows with no difference
/// left out, rendered as the adjustment files render it.
fn difference(old: &Path, new: &Path, key: &str) -> BTreeMap<String, TextRow> {
    let (old, new) = (by_key(csv_rows(old), key), by_key(csv_rows(new), key));
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut differences = BTreeMap::new();
    for id in keys {
        let column_names: Vec<&String> = old
            .get(id)
            .or(new.get(id))
            .unwrap()
            .keys()
            .filter(|c| *c != key)
            .collect();
        let value = |table: &BTreeMap<String, TextRow>, column: &String| -> i64 {
            table.get(id).map_or(0, |row| row[column].parse().unwrap())
        };
        let mut row: TextRow = column_names
            .iter()
            .map(|c| (c.to_string(), (value(&new, c) - value(&old, c)).to_string()))
            .collect();
        if row.values().any(|v| v != "0") {
            row.insert(key.to_string(), id.clone());
            differences.insert(id.clone(), row);
        }
    }
    differences
}

fn seeds() -> impl Strategy<Value = Vec<OrderSeed>> {
    prop::collection::vec(
        (
            0u8..4,
            0u8..4,
            any::<bool>(),
            any::<bool>(),
            0i64..(24 * 30),
            1i64..300_000,
            any::<bool>(),
        ),
        1..25,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn settling_twice_gives_identical_files(seeds in seeds()) {
        let work = tempfile::tempdir().unwrap();
        let (orders, claims) = orders_from(&seeds);
        let inputs = write_inputs(&work.path().join("in"), &orders, &claims);

        let first = settle(&work.path().join("a"), &inputs, None);
        let second = settle(&work.path().join("b"), &inputs, None);

        for entry in std::fs::read_dir(&first).unwrap() {
            let name = entry.unwrap().file_name();
            let a = std::fs::read(first.join(&name)).unwrap();
            let b = std::fs::read(second.join(&name)).unwrap();
            prop_assert!(a == b, "{:?} differs between two settlements", name);
        }
    }

    #[test]
    fn adjustments_are_the_column_wise_difference(
        seeds in seeds(),
        changes in prop::collection::vec((any::<prop::sample::Index>(), 1i64..300_000), 1..4),
    ) {
        let work = tempfile::tempdir().unwrap();
        let ledger = work.path().join("ledger");
        let (orders, claims) = orders_from(&seeds);
        let v1 = settle(&ledger, &write_inputs(&work.path().join("v1"), &orders, &claims), None);

        let mut corrected = orders.clone();
        for (index, amount_jpy) in &changes {
            let order = &mut corrected[index.index(orders.len())];
            order.amount_jpy = *amount_jpy;
            order.reward_jpy = amount_jpy - amount_jpy / 5;
        }
        prop_assume!(corrected != orders);
        let inputs = write_inputs(&work.path().join("v2"), &corrected, &claims);
        let v2 = settle(&ledger, &inputs, Some("amounts fixed"));

        let files = [("client_charges.csv", "client_id"), ("lancer_payouts.csv", "lancer_id")];
        for (file, key) in files {
            let expected = difference(&v1.join(file), &v2.join(file), key);
            let actual = by_key(csv_rows(&v2.join("adjustments").join(file)), key);
            prop_assert_eq!(actual, expected, "{}", file);
        }
    }
}
