//! The `settle` binary as an operator meets it: exit codes, the summary, reruns, months out of
//! order, the ledger lock and unreadable input.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use settle::ledger::Ledger;
use support::{run_command, sample_month, stderr, versions};

fn run(month: &str, orders: &Path, claims: &Path, ledger: &Path, extra: &[&str]) -> Output {
    run_command(month, orders, claims, ledger)
        .args(extra)
        .output()
        .expect("settle runs")
}

#[test]
fn a_month_publishes_v1_and_prints_its_summary() {
    let (orders, claims) = sample_month("2015-10");
    let ledger = tempfile::tempdir().unwrap();

    let output = run("2015-10", &orders, &claims, ledger.path(), &[]);

    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(text.contains("settled 2015-10 as v1"), "{text}");
    assert!(text.contains("306 orders settled (7 covered)"), "{text}");
    assert!(
        text.contains("holds opened 4, released 0, forfeited 0, open 4"),
        "{text}"
    );
    for file in [
        "order_lines.parquet",
        "client_charges.csv",
        "lancer_payouts.csv",
        "holds.parquet",
        "hold_events.csv",
        "rejected_rows.csv",
        "manifest.json",
    ] {
        assert!(
            ledger.path().join("2015-10/v1").join(file).is_file(),
            "{file} missing"
        );
    }
}

#[test]
fn running_a_month_again_with_the_same_inputs_publishes_nothing() {
    let (orders, claims) = sample_month("2015-10");
    let ledger = tempfile::tempdir().unwrap();
    assert_eq!(
        run("2015-10", &orders, &claims, ledger.path(), &[])
            .status
            .code(),
        Some(0)
    );
    let manifest_before = std::fs::read(ledger.path().join("2015-10/v1/manifest.json")).unwrap();

    let again = run("2015-10", &orders, &claims, ledger.path(), &[]);

    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("nothing new was written"),
        "{}",
        stderr(&again)
    );
    assert_eq!(versions(ledger.path(), "2015-10"), [1]);
    let manifest_after = std::fs::read(ledger.path().join("2015-10/v1/manifest.json")).unwrap();
    assert_eq!(manifest_before, manifest_after);
}

#[test]
fn a_month_whose_previous_month_is_missing_is_refused_by_name() {
    let (orders, claims) = sample_month("2015-10");
    let ledger = tempfile::tempdir().unwrap();
    assert_eq!(
        run("2015-10", &orders, &claims, ledger.path(), &[])
            .status
            .code(),
        Some(0)
    );
    let (december_orders, december_claims) = sample_month("2015-12");

    let output = run(
        "2015-12",
        &december_orders,
        &december_claims,
        ledger.path(),
        &[],
    );

    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("2015-11 has not been settled"),
        "{}",
        stderr(&output)
    );
    assert!(versions(ledger.path(), "2015-12").is_empty());
}

#[test]
fn a_month_before_the_ledger_starts_is_refused() {
    let (orders, claims) = sample_month("2015-11");
    let ledger = tempfile::tempdir().unwrap();
    let (october_orders, october_claims) = sample_month("2015-10");
    assert_eq!(
        run("2015-11", &orders, &claims, ledger.path(), &[])
            .status
            .code(),
        Some(0)
    );

    let output = run(
        "2015-10",
        &october_orders,
        &october_claims,
        ledger.path(),
        &[],
    );

    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("the ledger starts at 2015-11"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_locked_ledger_refuses_a_second_run_naming_the_holder() {
    let (orders, claims) = sample_month("2015-10");
    let ledger = tempfile::tempdir().unwrap();
    let held = Ledger::open(ledger.path()).unwrap();
    let _lock = held.lock("2015-10".parse().unwrap()).unwrap();

    let output = run("2015-10", &orders, &claims, ledger.path(), &[]);

    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains(&format!("pid {}", std::process::id())),
        "{text}"
    );
    assert!(text.contains("settling 2015-10"), "{text}");
    assert!(versions(ledger.path(), "2015-10").is_empty());
}

#[test]
fn a_file_that_is_not_parquet_fails_naming_it_and_publishes_nothing() {
    let (_, claims) = sample_month("2015-10");
    let folder = tempfile::tempdir().unwrap();
    let orders = folder.path().join("orders.parquet");
    std::fs::write(&orders, "order_id,amount_jpy\nO-1,100\n").unwrap();
    let ledger = folder.path().join("ledger");

    let output = run("2015-10", &orders, &claims, &ledger, &[]);

    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.contains("is not a readable Parquet file"), "{text}");
    assert!(text.contains(&orders.display().to_string()), "{text}");
    assert!(versions(&ledger, "2015-10").is_empty());
}

#[test]
fn a_file_lacking_a_column_names_the_column() {
    let (orders, claims) = sample_month("2015-10");
    let ledger = tempfile::tempdir().unwrap();

    // The claims file lacks every order column but order_id.
    let output = run("2015-10", &claims, &orders, ledger.path(), &[]);

    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.contains("lacks required column(s) request_id"),
        "{text}"
    );
}

#[test]
fn a_malformed_month_is_a_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_settle"))
        .args([
            "run", "--month", "2015-13", "--orders", "x", "--claims", "y", "--ledger", "z",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("2015-13"), "{}", stderr(&output));
}

#[test]
fn json_logs_are_one_object_per_line() {
    let (orders, claims) = sample_month("2015-10");
    let ledger = tempfile::tempdir().unwrap();

    let output = run(
        "2015-10",
        &orders,
        &claims,
        ledger.path(),
        &["--log-format", "json"],
    );

    assert_eq!(output.status.code(), Some(0));
    let text = stderr(&output);
    let log_lines: Vec<serde_json::Value> = text
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).expect("a JSON log line"))
        .collect();
    let stages: Vec<&str> = log_lines
        .iter()
        .filter(|line| line["level"] == "INFO")
        .filter_map(|line| line["fields"]["stage"].as_str())
        .collect();
    assert_eq!(stages, ["read", "validate", "settle", "publish"]);
}

#[test]
fn a_file_of_another_month_is_refused_instead_of_settling_an_empty_month() {
    let (december_orders, december_claims) = sample_month("2015-12");
    let ledger = tempfile::tempdir().unwrap();

    let output = run(
        "2015-11",
        &december_orders,
        &december_claims,
        ledger.path(),
        &[],
    );

    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("order rows completed in 2015-11"),
        "{}",
        stderr(&output)
    );
    assert!(versions(ledger.path(), "2015-11").is_empty());
}

#[test]
fn a_wrong_input_path_leaves_no_ledger_folder_behind() {
    let (_, claims) = sample_month("2015-10");
    let folder = tempfile::tempdir().unwrap();
    let ledger = folder.path().join("ledger");

    let output = run(
        "2015-10",
        &folder.path().join("missing.parquet"),
        &claims,
        &ledger,
        &[],
    );

    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("missing.parquet"),
        "{}",
        stderr(&output)
    );
    assert!(!ledger.exists());
}

/// `settle status | head`: a reader that stops reading early ends the output quietly, and the
/// command keeps its own exit code, rather than reporting an internal error.
#[test]
fn output_read_only_in_part_is_not_an_error() {
    let (orders, claims) = sample_month("2015-10");
    let ledger = tempfile::tempdir().unwrap();
    let output = run("2015-10", &orders, &claims, ledger.path(), &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    for command in ["status", "verify"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_settle"))
            .args([command, "--ledger"])
            .arg(ledger.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Closed before the command writes, as `head` closes it once it has its lines.
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{command}: {}",
            stderr(&output)
        );
        assert!(!stderr(&output).contains("error"), "{}", stderr(&output));
    }
}
