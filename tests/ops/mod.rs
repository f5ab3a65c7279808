//! Helpers for the operations and report tests: job files over the sample months, the binary
//! run with arguments, small months of hand-made orders, and published folders checked whole.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use settle::calendar::Month;
use settle::generate::{write_claims, write_orders};
use settle::input::files::sha256_file;
use settle::manifest::Manifest;
use settle::model::{Claim, Order, WorkType};

pub const SAMPLE_MONTHS: [&str; 4] = ["2015-10", "2015-11", "2015-12", "2016-01"];

pub fn sample_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data")
}

/// Writes `job.toml` in `folder`: the sample months' inputs (or `inputs`, a folder laid out
/// like sample_data/), a ledger in `folder/ledger`, and any `extra` lines.
pub fn write_job(folder: &Path, inputs: &Path, extra: &str) -> PathBuf {
    let job = folder.join("job.toml");
    let text = format!(
        "ledger = \"ledger\"\norders = \"{inputs}/{{month}}/orders.parquet\"\nclaims = \
         \"{inputs}/{{month}}/claims.parquet\"\n{extra}\n",
        inputs = inputs.display()
    );
    std::fs::write(&job, text).unwrap();
    job
}

/// `settle` with `args`, quiet logs unless the arguments say otherwise.
pub fn settle(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_settle"));
    if !args.iter().any(|a| a.starts_with("--log")) {
        command.args(["--log-level", "warn"]);
    }
    command.args(args).output().expect("settle runs")
}

pub fn path_arg(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn assert_code(output: &Output, expected: i32) {
    assert_eq!(
        output.status.code(),
        Some(expected),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

/// Every file below `folder` (relative path → bytes), leaving out the names in `skip`.
pub fn snapshot(folder: &Path, skip: &[&str]) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            let relative = path
                .strip_prefix(folder)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if skip
                .iter()
                .any(|s| relative == *s || relative.starts_with(&format!("{s}/")))
            {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else {
                files.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// The folder holds its manifest and every file the manifest lists, each with its sha256:
/// a folder as a writer finished it, not half of one.
pub fn assert_complete(folder: &Path) -> Manifest {
    let manifest = Manifest::read(&folder.join("manifest.json"))
        .unwrap_or_else(|e| panic!("{}: {e:#}", folder.display()));
    for output in &manifest.outputs {
        let path = folder.join(&output.file);
        assert_eq!(
            sha256_file(&path).unwrap_or_else(|e| panic!("{e:#}")),
            output.sha256,
            "{}",
            path.display()
        );
    }
    manifest
}

const NS_PER_DAY: i64 = 24 * 3_600_000_000_000;

/// Noon in Tokyo on `day` of `month`.
pub fn day(month: &str, day: i64) -> i64 {
    month.parse::<Month>().unwrap().start_ns() + (day - 1) * NS_PER_DAY + 12 * 3_600_000_000_000
}

/// A fixed-price order placed at noon on the 1st of `month` and completed at noon on
/// `completed_day`: covered, with a surcharge from 2015-12 on.
pub fn order(order_id: &str, month: &str, completed_day: i64, amount_jpy: i64) -> Order {
    Order {
        order_id: order_id.into(),
        request_id: format!("R-{order_id}"),
        client_id: format!("client-{order_id}"),
        lancer_id: format!("lancer-{order_id}"),
        work_type: WorkType::ProjectFixed,
        lancer_certified: true,
        request_created_at: day(month, 1) - 3_600_000_000_000,
        ordered_at: day(month, 1),
        completed_at: day(month, completed_day),
        amount_jpy,
        reward_jpy: amount_jpy - amount_jpy / 5,
    }
}

/// Writes `inputs/<month>/orders.parquet` and `claims.parquet`.
pub fn write_month(inputs: &Path, month: &str, orders: &[Order], claims: &[Claim]) {
    let folder = inputs.join(month);
    std::fs::create_dir_all(&folder).unwrap();
    write_orders(&folder.join("orders.parquet"), orders).unwrap();
    write_claims(&folder.join("claims.parquet"), claims).unwrap();
}

/// Copies a sample month's two files into `inputs/<month>/`.
pub fn copy_sample_month(inputs: &Path, month: &str) {
    let folder = inputs.join(month);
    std::fs::create_dir_all(&folder).unwrap();
    for file in ["orders.parquet", "claims.parquet"] {
        std::fs::copy(sample_data().join(month).join(file), folder.join(file)).unwrap();
    }
}
