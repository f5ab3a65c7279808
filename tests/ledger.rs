//! The ledger under reruns, corrections, kills and concurrent runs (SPEC §9).
//!
//! The kills are real: the test starts `settle run` as a child process, lets it pause at a
//! named step of publishing (the test-only `SETTLE_PAUSE_AT` hook) or simply after a delay,
//! and sends SIGKILL. The ledger must then hold either nothing new or the whole version, and
//! the next run must succeed with `verify` clean.

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use settle::calendar::Month;
use settle::generate::{write_claims, write_orders};
use settle::ledger::Ledger;
use settle::model::{Claim, ClaimStatus, Order, WorkType};
use settle::pause;
use settle::verify;
use support::{run_command, sample_month, stderr, versions};

fn command(month: &str, orders: &Path, claims: &Path, ledger: &Path) -> Command {
    let mut command = run_command(month, orders, claims, ledger);
    command.args(["--log-level", "warn"]);
    command
}

fn settle_sample(month: &str, ledger: &Path) -> Output {
    let (orders, claims) = sample_month(month);
    command(month, &orders, &claims, ledger)
        .output()
        .expect("settle runs")
}

fn assert_verifies(ledger: &Path) {
    let report = verify::verify(&Ledger::open(ledger).unwrap(), None).unwrap();
    assert!(report.problems.is_empty(), "verify: {:?}", report.problems);
}

/// Starts a run that pauses at `point`, and returns once it has said so.
fn start_paused(month: &str, ledger: &Path, point: &str, pause_ms: u64) -> Child {
    let (orders, claims) = sample_month(month);
    let mut child = command(month, &orders, &claims, ledger)
        .env("SETTLE_PAUSE_AT", point)
        .env("SETTLE_PAUSE_MS", pause_ms.to_string())
        .stderr(Stdio::piped())
        .spawn()
        .expect("settle starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let marker = format!("paused at {point}");
    loop {
        match lines.next() {
            Some(Ok(line)) if line.contains(&marker) => break,
            Some(Ok(_)) => continue,
            other => panic!("the run ended before pausing at {point}: {other:?}"),
        }
    }
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    child
}

#[test]
fn a_run_killed_at_any_step_of_publishing_leaves_nothing_or_everything() {
    for point in pause::POINTS {
        let ledger = tempfile::tempdir().unwrap();
        assert_eq!(
            settle_sample("2015-10", ledger.path()).status.code(),
            Some(0)
        );

        let mut child = start_paused("2015-11", ledger.path(), point, 60_000);
        child.kill().unwrap();
        child.wait().unwrap();

        let expected: &[u32] = if *point == "published" { &[1] } else { &[] };
        assert_eq!(
            versions(ledger.path(), "2015-11"),
            expected,
            "killed at {point}"
        );
        assert_eq!(versions(ledger.path(), "2015-10"), [1], "killed at {point}");
        assert_verifies(ledger.path());

        let rerun = settle_sample("2015-11", ledger.path());
        assert_eq!(
            rerun.status.code(),
            Some(0),
            "after a kill at {point}: {}",
            stderr(&rerun)
        );
        assert_eq!(
            versions(ledger.path(), "2015-11"),
            [1],
            "after a kill at {point}"
        );
        assert_verifies(ledger.path());
        let staging = ledger.path().join(".staging");
        let leftovers = std::fs::read_dir(&staging).map(|d| d.count()).unwrap_or(0);
        assert_eq!(
            leftovers, 0,
            "staging left after the rerun following a kill at {point}"
        );
    }
}

#[test]
fn a_run_killed_after_random_delays_never_leaves_half_a_version() {
    let (orders, claims) = sample_month("2015-10");
    for delay_ms in [0u64, 5, 15, 30, 60, 100, 150, 250] {
        let ledger = tempfile::tempdir().unwrap();
        let mut child = command("2015-10", &orders, &claims, ledger.path())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        child.wait().unwrap();

        let found = versions(ledger.path(), "2015-10");
        assert!(
            found.is_empty() || found == [1],
            "after {delay_ms} ms: {found:?}"
        );
        assert_verifies(ledger.path());
        let rerun = settle_sample("2015-10", ledger.path());
        assert_eq!(
            rerun.status.code(),
            Some(0),
            "after {delay_ms} ms: {}",
            stderr(&rerun)
        );
        assert_eq!(versions(ledger.path(), "2015-10"), [1]);
    }
}

#[test]
fn of_two_concurrent_runs_exactly_one_publishes() {
    let ledger = tempfile::tempdir().unwrap();
    let first = start_paused("2015-10", ledger.path(), "staged", 1_500);

    let second = settle_sample("2015-10", ledger.path());
    let first = first.wait_with_output().unwrap();

    assert_eq!(second.status.code(), Some(4), "{}", stderr(&second));
    assert!(
        stderr(&second).contains("locked by another run"),
        "{}",
        stderr(&second)
    );
    assert_eq!(first.status.code(), Some(0));
    assert_eq!(versions(ledger.path(), "2015-10"), [1]);
    assert_verifies(ledger.path());
}

const NS_PER_DAY: i64 = 24 * 3_600_000_000_000;

fn day(month: &str, day: i64) -> i64 {
    month.parse::<Month>().unwrap().start_ns() + (day - 1) * NS_PER_DAY + 12 * 3_600_000_000_000
}

fn scenario_order(order_id: &str, completed: &str, amount_jpy: i64) -> Order {
    Order {
        order_id: order_id.into(),
        request_id: format!("R-{order_id}"),
        client_id: format!("c-{order_id}"),
        lancer_id: format!("l-{order_id}"),
        work_type: WorkType::ProjectFixed,
        lancer_certified: true,
        request_created_at: day(completed, 2),
        ordered_at: day(completed, 3),
        completed_at: day(completed, 20),
        amount_jpy,
        reward_jpy: amount_jpy - amount_jpy / 5,
    }
}

fn write_month(
    folder: &Path,
    month: &str,
    orders: &[Order],
    claims: &[Claim],
) -> (PathBuf, PathBuf) {
    let month_folder = folder.join(month);
    std::fs::create_dir_all(&month_folder).unwrap();
    let (orders_path, claims_path) = (
        month_folder.join("orders.parquet"),
        month_folder.join("claims.parquet"),
    );
    write_orders(&orders_path, orders).unwrap();
    write_claims(&claims_path, claims).unwrap();
    (orders_path, claims_path)
}

fn run_with(month: &str, files: &(PathBuf, PathBuf), ledger: &Path, extra: &[&str]) -> Output {
    command(month, &files.0, &files.1, ledger)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn correcting_a_held_amount_publishes_deltas_and_makes_the_next_month_stale() {
    let inputs = tempfile::tempdir().unwrap();
    let ledger = tempfile::tempdir().unwrap();
    let claim_on_b = Claim {
        claim_id: "K-B".into(),
        order_id: "B".into(),
        filed_at: day("2015-12", 25),
        status: ClaimStatus::UnderReview,
        decided_at: None,
        payout_decision: None,
    };
    // December: A is paid; B is held while claim K-B is under review. January: D is paid and
    // B's hold stays open.
    let december = write_month(
        inputs.path(),
        "2015-12",
        &[
            scenario_order("A", "2015-12", 50_000),
            scenario_order("B", "2015-12", 100_000),
        ],
        std::slice::from_ref(&claim_on_b),
    );
    let january = write_month(
        inputs.path(),
        "2016-01",
        &[scenario_order("D", "2016-01", 10_000)],
        std::slice::from_ref(&claim_on_b),
    );
    assert_eq!(
        run_with("2015-12", &december, ledger.path(), &[])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        run_with("2016-01", &january, ledger.path(), &[])
            .status
            .code(),
        Some(0)
    );

    // Finance learns that B was a ¥120,000 order, not ¥100,000.
    let fixed = tempfile::tempdir().unwrap();
    let december_fixed = write_month(
        fixed.path(),
        "2015-12",
        &[
            scenario_order("A", "2015-12", 50_000),
            scenario_order("B", "2015-12", 120_000),
        ],
        std::slice::from_ref(&claim_on_b),
    );
    let refused = run_with("2015-12", &december_fixed, ledger.path(), &[]);
    assert_eq!(refused.status.code(), Some(6), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("--correction"),
        "{}",
        stderr(&refused)
    );

    let corrected = run_with(
        "2015-12",
        &december_fixed,
        ledger.path(),
        &["--correction", "B was ¥120,000"],
    );
    assert_eq!(corrected.status.code(), Some(5), "{}", stderr(&corrected));
    assert!(
        stderr(&corrected).contains("2016-01 v1"),
        "{}",
        stderr(&corrected)
    );
    assert_eq!(versions(ledger.path(), "2015-12"), [1, 2]);

    let v2 = ledger.path().join("2015-12/v2");
    let clients = std::fs::read_to_string(v2.join("adjustments/client_charges.csv")).unwrap();
    // Amount +20,000; surcharge 2% of 120,000 − 2% of 100,000 = +400.
    assert_eq!(
        clients,
        "client_id,orders,covered_orders,amount_jpy,surcharge_jpy\nc-B,0,0,20000,400\n"
    );
    let lancers = std::fs::read_to_string(v2.join("adjustments/lancer_payouts.csv")).unwrap();
    // Held payout: (96,000 + 360) − (80,000 + 300) = +16,060; nothing more is payable now.
    assert_eq!(
        lancers,
        "lancer_id,reward_paid_jpy,rebate_paid_jpy,released_jpy,payable_jpy,held_jpy,\
         forfeited_jpy\nl-B,0,0,0,0,16060,0\n"
    );
    let manifest = Ledger::open(ledger.path())
        .unwrap()
        .version("2015-12".parse().unwrap(), 2)
        .unwrap();
    let correction = manifest.manifest.correction.unwrap();
    assert_eq!(
        (correction.reason.as_str(), correction.previous_version),
        ("B was ¥120,000", 1)
    );

    let stale = Ledger::open(ledger.path()).unwrap().stale_months().unwrap();
    assert_eq!(
        stale
            .iter()
            .map(|s| s.month.to_string())
            .collect::<Vec<_>>(),
        ["2016-01"]
    );

    // January's own inputs did not change, but it opened with the old hold: it needs a
    // correction too, and its adjustment is the held difference.
    let january_again = run_with("2016-01", &january, ledger.path(), &[]);
    assert_eq!(
        january_again.status.code(),
        Some(6),
        "{}",
        stderr(&january_again)
    );
    assert!(
        stderr(&january_again).contains("opening holds"),
        "{}",
        stderr(&january_again)
    );
    let january_fixed = run_with(
        "2016-01",
        &january,
        ledger.path(),
        &["--correction", "2015-12 corrected"],
    );
    assert_eq!(
        january_fixed.status.code(),
        Some(0),
        "{}",
        stderr(&january_fixed)
    );
    let january_lancers = std::fs::read_to_string(
        ledger
            .path()
            .join("2016-01/v2/adjustments/lancer_payouts.csv"),
    )
    .unwrap();
    assert!(
        january_lancers.ends_with("\nl-B,0,0,0,0,16060,0\n"),
        "{january_lancers}"
    );

    assert!(Ledger::open(ledger.path())
        .unwrap()
        .stale_months()
        .unwrap()
        .is_empty());
    assert_verifies(ledger.path());
    let untouched = ledger.path().join("2015-12/v1/manifest.json");
    assert!(untouched.is_file(), "the old version stays");
}

#[test]
fn an_order_settled_in_an_earlier_month_is_rejected_not_paid_twice() {
    let inputs = tempfile::tempdir().unwrap();
    let ledger = tempfile::tempdir().unwrap();
    let december = write_month(
        inputs.path(),
        "2015-12",
        &[scenario_order("A", "2015-12", 50_000)],
        &[],
    );
    // The same order id arrives again in January's export.
    let mut again = scenario_order("A", "2016-01", 50_000);
    again.client_id = "c-A".into();
    let january = write_month(
        inputs.path(),
        "2016-01",
        &[again, scenario_order("E", "2016-01", 9_000)],
        &[],
    );

    assert_eq!(
        run_with("2015-12", &december, ledger.path(), &[])
            .status
            .code(),
        Some(0)
    );
    let output = run_with("2016-01", &january, ledger.path(), &[]);

    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let rejected = support::csv_rows(&ledger.path().join("2016-01/v1/rejected_rows.csv"));
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["reason"], "already_settled");
    assert!(
        rejected[0]["detail"].contains("2015-12 v1"),
        "{:?}",
        rejected[0]
    );
    let lines = support::parquet_rows(&ledger.path().join("2016-01/v1/order_lines.parquet"));
    assert_eq!(
        lines
            .iter()
            .map(|l| l["order_id"].as_str())
            .collect::<Vec<_>>(),
        ["E"]
    );
}
