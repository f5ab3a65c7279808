//! The job as a scheduler and an operator meet it: job files, backfills and where they resume,
//! provisional nights (replaced whole, never a version, safe to kill), the JSON logs a
//! collector reads, CSV files with a byte order mark, and the help and version texts.

mod ops;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use ops::{
    assert_code, assert_complete, copy_sample_month, order, path_arg, sample_data, settle,
    snapshot, stderr, stdout, write_job, write_month, SAMPLE_MONTHS,
};
use settle::ledger::Ledger;
use settle::manifest::Manifest;
use settle::verify;

fn ledger_months(ledger: &Path) -> Vec<String> {
    Ledger::open_existing(ledger)
        .unwrap()
        .months()
        .unwrap()
        .iter()
        .map(|m| m.to_string())
        .collect()
}

fn assert_verifies(ledger: &Path) {
    let report = verify::verify(&Ledger::open_existing(ledger).unwrap(), None).unwrap();
    assert!(report.problems.is_empty(), "verify: {:?}", report.problems);
}

// Job files and backfills.

#[test]
fn a_backfill_settles_the_sample_months_from_an_empty_ledger_then_has_nothing_to_do() {
    let folder = tempfile::tempdir().unwrap();
    let job = write_job(folder.path(), &sample_data(), "");
    let ledger = folder.path().join("ledger");

    let first = settle(&[
        "run",
        "--job",
        path_arg(&job),
        "--month",
        "2015-10",
        "--through",
        "2016-01",
    ]);

    assert_code(&first, 0);
    assert!(
        stderr(&first).contains("backfill through 2016-01: 4 months published, 0 already"),
        "{}",
        stderr(&first)
    );
    assert_eq!(ledger_months(&ledger), SAMPLE_MONTHS);
    assert_verifies(&ledger);
    let published = snapshot(&ledger, &[".lock"]);

    // Month end again: the ledger is settled through January, so there is nothing to do.
    let again = settle(&["run", "--job", path_arg(&job), "--through", "2016-01"]);
    assert_code(&again, 0);
    assert!(
        stderr(&again).contains("nothing to do"),
        "{}",
        stderr(&again)
    );

    // Naming the first month again rechecks every month against its inputs and skips them.
    let rechecked = settle(&[
        "run",
        "--job",
        path_arg(&job),
        "--month",
        "2015-10",
        "--through",
        "2016-01",
    ]);
    assert_code(&rechecked, 0);
    assert!(
        stderr(&rechecked).contains("0 months published, 4 already published"),
        "{}",
        stderr(&rechecked)
    );
    assert_eq!(snapshot(&ledger, &[".lock"]), published);
}

#[test]
fn an_empty_ledger_starts_at_the_job_files_first_month() {
    let folder = tempfile::tempdir().unwrap();
    let job = write_job(folder.path(), &sample_data(), "first_month = \"2015-10\"");

    let output = settle(&["run", "--job", path_arg(&job), "--through", "2015-11"]);

    assert_code(&output, 0);
    assert_eq!(
        ledger_months(&folder.path().join("ledger")),
        ["2015-10", "2015-11"]
    );
}

#[test]
fn a_backfill_stops_at_the_failed_month_and_prints_the_command_that_resumes_it() {
    let folder = tempfile::tempdir().unwrap();
    let inputs = folder.path().join("inputs");
    for month in ["2015-10", "2015-11", "2016-01"] {
        copy_sample_month(&inputs, month);
    }
    let job = write_job(folder.path(), &inputs, "");
    let ledger = folder.path().join("ledger");

    let stopped = settle(&[
        "run",
        "--job",
        path_arg(&job),
        "--month",
        "2015-10",
        "--through",
        "2016-01",
    ]);

    assert_code(&stopped, 1);
    let text = stderr(&stopped);
    assert!(
        text.contains("error: 2015-12: cannot read orders path"),
        "{text}"
    );
    assert!(text.contains("stopped at 2015-12"), "{text}");
    assert_eq!(ledger_months(&ledger), ["2015-10", "2015-11"]);
    let resume = text
        .lines()
        .skip_while(|line| !line.contains("resume with:"))
        .nth(1)
        .unwrap_or_else(|| panic!("no resume command in:\n{text}"))
        .trim()
        .to_string();
    assert!(
        resume.ends_with(&format!(
            "run --job {} --month 2015-12 --through 2016-01",
            job.display()
        )),
        "{resume}"
    );

    // December's export arrives; the printed command finishes the backfill.
    copy_sample_month(&inputs, "2015-12");
    let resumed = Command::new("sh")
        .args(["-c", &format!("{resume} --log-level warn")])
        .output()
        .unwrap();
    assert_code(&resumed, 0);
    assert_eq!(ledger_months(&ledger), SAMPLE_MONTHS);
    assert_verifies(&ledger);
}

#[test]
fn a_backfill_refused_by_the_lock_exits_4_and_says_how_to_resume() {
    let folder = tempfile::tempdir().unwrap();
    let job = write_job(folder.path(), &sample_data(), "");
    let ledger = Ledger::open(&folder.path().join("ledger")).unwrap();
    let _held = ledger.lock("2015-10".parse().unwrap()).unwrap();

    let output = settle(&[
        "run",
        "--job",
        path_arg(&job),
        "--month",
        "2015-10",
        "--through",
        "2015-11",
    ]);

    assert_code(&output, 4);
    let text = stderr(&output);
    assert!(text.contains("another run holds the ledger"), "{text}");
    assert!(text.contains("--month 2015-10 --through 2015-11"), "{text}");
}

#[test]
fn flags_override_the_job_file() {
    let folder = tempfile::tempdir().unwrap();
    let job = write_job(folder.path(), &sample_data(), "");
    let elsewhere = folder.path().join("elsewhere");

    let output = settle(&[
        "run",
        "--job",
        path_arg(&job),
        "--month",
        "2015-10",
        "--ledger",
        path_arg(&elsewhere),
    ]);

    assert_code(&output, 0);
    assert_eq!(ledger_months(&elsewhere), ["2015-10"]);
    assert!(!folder.path().join("ledger").exists());
}

#[test]
fn mistakes_in_a_job_file_are_usage_errors_naming_the_setting() {
    let folder = tempfile::tempdir().unwrap();
    let job = folder.path().join("job.toml");
    std::fs::write(
        &job,
        "ledger = \"l\"\norders = \"o\"\nclaims = \"c\"\nfirst_moth = 1\n",
    )
    .unwrap();
    let typo = settle(&["run", "--job", path_arg(&job), "--month", "2015-10"]);
    assert_code(&typo, 2);
    assert!(stderr(&typo).contains("first_moth"), "{}", stderr(&typo));

    let placeholder = write_job(
        folder.path(),
        Path::new("/data/{Month}"),
        "first_month = \"2015-10\"",
    );
    let output = settle(&["run", "--job", path_arg(&placeholder), "--month", "2015-10"]);
    assert_code(&output, 2);
    assert!(
        stderr(&output).contains("the only placeholder is {month}"),
        "{}",
        stderr(&output)
    );

    let no_start = write_job(folder.path(), &sample_data(), "");
    let output = settle(&["run", "--job", path_arg(&no_start), "--through", "2015-12"]);
    assert_code(&output, 2);
    assert!(
        stderr(&output).contains("the ledger is empty"),
        "{}",
        stderr(&output)
    );
}

// Provisional nights.

/// The first night of December: two orders have completed so far.
fn write_first_night(inputs: &Path) {
    let orders = [
        order("DEC-1", "2015-12", 1, 50_000),
        order("DEC-2", "2015-12", 2, 10_000),
    ];
    write_month(inputs, "2015-12", &orders, &[]);
}

fn provisional(job: &Path, month: &str) -> std::process::Output {
    settle(&[
        "run",
        "--job",
        path_arg(job),
        "--provisional",
        "--month",
        month,
    ])
}

#[test]
fn a_provisional_run_replaces_its_files_and_never_touches_the_versioned_ledger() {
    let folder = tempfile::tempdir().unwrap();
    let inputs = folder.path().join("inputs");
    for month in ["2015-10", "2015-11"] {
        copy_sample_month(&inputs, month);
    }
    let job = write_job(folder.path(), &inputs, "");
    let ledger = folder.path().join("ledger");
    assert_code(
        &settle(&[
            "run",
            "--job",
            path_arg(&job),
            "--month",
            "2015-10",
            "--through",
            "2015-11",
        ]),
        0,
    );
    let versioned = snapshot(&ledger, &[".lock", "provisional"]);
    let december = ledger.join("provisional/2015-12");

    write_first_night(&inputs);
    let first_night = provisional(&job, "2015-12");
    assert_code(&first_night, 0);
    assert!(
        stderr(&first_night).contains("settled 2015-12 provisionally"),
        "{}",
        stderr(&first_night)
    );
    let manifest = assert_complete(&december);
    assert_eq!((manifest.version, manifest.rows.order_lines), (0, 2));

    copy_sample_month(&inputs, "2015-12");
    let second_night = provisional(&job, "2015-12");
    assert_code(&second_night, 0);
    let manifest = assert_complete(&december);
    assert_eq!(manifest.rows.order_lines, 305);
    // The whole folder was replaced: every file is the second night's.
    let files: Vec<String> = snapshot(&december, &[]).into_keys().collect();
    let mut expected: Vec<String> = manifest.outputs.iter().map(|o| o.file.clone()).collect();
    expected.extend(["manifest.json".to_string(), "provisional.json".to_string()]);
    expected.sort();
    assert_eq!(files, expected);

    // Nothing versioned changed, no month or version appeared, no staging is left behind.
    assert_eq!(snapshot(&ledger, &[".lock", "provisional"]), versioned);
    assert_eq!(ledger_months(&ledger), ["2015-10", "2015-11"]);
    assert_eq!(
        std::fs::read_dir(ledger.join(".staging")).unwrap().count(),
        0
    );
    assert_verifies(&ledger);
    let status = settle(&["status", "--ledger", path_arg(&ledger)]);
    assert!(
        stdout(&status).contains("2015-12 provisional, as of"),
        "{}",
        stdout(&status)
    );

    // Month end publishes December, which retires its provisional folder; a provisional run
    // of a published month is refused.
    assert_code(
        &settle(&["run", "--job", path_arg(&job), "--month", "2015-12"]),
        0,
    );
    assert!(!december.exists());
    let refused = provisional(&job, "2015-12");
    assert_code(&refused, 1);
    assert!(
        stderr(&refused).contains("already published as v1"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn a_provisional_run_killed_at_any_step_leaves_the_old_files_the_new_ones_or_none() {
    let folder = tempfile::tempdir().unwrap();
    let inputs = folder.path().join("inputs");
    copy_sample_month(&inputs, "2015-11");
    write_first_night(&inputs);
    let job = write_job(folder.path(), &inputs, "");
    let ledger = folder.path().join("ledger");
    let december = ledger.join("provisional/2015-12");
    assert_code(
        &settle(&["run", "--job", path_arg(&job), "--month", "2015-11"]),
        0,
    );

    for point in settle::pause::POINTS {
        write_first_night(&inputs);
        assert_code(&provisional(&job, "2015-12"), 0);
        copy_sample_month(&inputs, "2015-12");

        let mut child = Command::new(env!("CARGO_BIN_EXE_settle"))
            .args(["--log-level", "warn", "run", "--job", path_arg(&job)])
            .args(["--provisional", "--month", "2015-12"])
            .env("SETTLE_PAUSE_AT", point)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let paused = lines.any(|line| line.is_ok_and(|l| l.contains("paused at")));
        assert!(paused, "the provisional run never reached {point}");
        child.kill().unwrap();
        child.wait().unwrap();

        let lines_seen = december
            .is_dir()
            .then(|| assert_complete(&december).rows.order_lines);
        let expected: &[Option<u64>] = match *point {
            "before-rename" => &[None],
            "published" => &[Some(305)],
            _ => &[Some(2)],
        };
        assert!(
            expected.contains(&lines_seen),
            "killed at {point}: found {lines_seen:?}"
        );
        assert_eq!(ledger_months(&ledger), ["2015-11"], "killed at {point}");

        assert_code(&provisional(&job, "2015-12"), 0);
        assert_eq!(assert_complete(&december).rows.order_lines, 305);
        let leftovers = std::fs::read_dir(ledger.join(".staging")).unwrap().count();
        assert_eq!(leftovers, 0, "staging left after a kill at {point}");
    }
}

// Logs.

#[test]
fn json_log_lines_carry_each_stage_once_with_counts_totals_and_durations() {
    let folder = tempfile::tempdir().unwrap();
    let inputs = folder.path().join("inputs");
    let twice = order("TWICE", "2015-12", 3, 20_000);
    let orders = [
        order("A", "2015-12", 1, 50_000),
        twice.clone(),
        twice.clone(),
        twice,
    ];
    write_month(&inputs, "2015-12", &orders, &[]);
    let job = write_job(folder.path(), &inputs, "");

    let output = settle(&[
        "--log-format",
        "json",
        "run",
        "--job",
        path_arg(&job),
        "--month",
        "2015-12",
    ]);

    assert_code(&output, 3);
    let lines: Vec<serde_json::Value> = stderr(&output)
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let stage = |name: &str| -> Vec<&serde_json::Value> {
        lines
            .iter()
            .filter(|l| l["level"] == "INFO" && l["fields"]["stage"] == name)
            .map(|l| &l["fields"])
            .collect()
    };
    let manifest = Manifest::read(&folder.path().join("ledger/2015-12/v1/manifest.json")).unwrap();
    for name in ["read", "validate", "settle", "publish"] {
        let found = stage(name);
        assert_eq!(found.len(), 1, "stage {name}: {found:?}");
        assert!(found[0]["elapsed_ms"].is_u64(), "stage {name}: {found:?}");
    }
    assert_eq!(stage("read")[0]["order_rows"], 4);
    assert_eq!(
        stage("validate")[0]["orders_rejected"],
        manifest.rows.orders_rejected
    );
    let settled = stage("settle")[0];
    assert_eq!(settled["order_lines"], manifest.totals.order_lines);
    assert_eq!(
        settled["surcharge_jpy"],
        manifest.totals.surcharge_lines_jpy
    );
    assert_eq!(settled["payable_jpy"], manifest.totals.payable_jpy);
    assert_eq!(settled["rebate_jpy"], manifest.totals.rebate_jpy);
    assert_eq!(stage("publish")[0]["version"], 1);

    // Rejected rows are summarised by reason: one line, however many rows.
    let rejected: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["level"] == "WARN" && l["fields"]["reason"].is_string())
        .map(|l| &l["fields"])
        .collect();
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0]["reason"], "duplicate_order_id");
    assert_eq!(rejected[0]["rows"], manifest.rows.orders_rejected);
    assert!(manifest.rows.orders_rejected >= 2);
}

#[test]
fn progress_lines_stay_out_of_logs_when_stderr_is_not_a_terminal() {
    let folder = tempfile::tempdir().unwrap();
    let job = write_job(folder.path(), &sample_data(), "");

    let output = settle(&["run", "--job", path_arg(&job), "--month", "2015-10"]);

    assert_code(&output, 0);
    let text = stderr(&output);
    assert!(!text.contains("reading orders 1/1"), "{text}");
    assert!(!text.contains("writing 1/6"), "{text}");
}

// CSV files with a byte order mark.

#[test]
fn csv_files_with_a_byte_order_mark_verify_and_change_no_amount() {
    let folder = tempfile::tempdir().unwrap();
    let job = write_job(folder.path(), &sample_data(), "csv_bom = true");
    let ledger = folder.path().join("ledger");
    let plain_folder = tempfile::tempdir().unwrap();
    let plain_job = write_job(plain_folder.path(), &sample_data(), "");
    let plain = plain_folder.path().join("ledger");

    assert_code(
        &settle(&["run", "--job", path_arg(&job), "--month", "2015-10"]),
        0,
    );
    assert_code(
        &settle(&["run", "--job", path_arg(&plain_job), "--month", "2015-10"]),
        0,
    );

    let version = Path::new("2015-10/v1");
    for file in [
        "client_charges.csv",
        "lancer_payouts.csv",
        "hold_events.csv",
        "rejected_rows.csv",
    ] {
        let with_mark = std::fs::read(ledger.join(version).join(file)).unwrap();
        let without = std::fs::read(plain.join(version).join(file)).unwrap();
        assert_eq!(with_mark[..3], [0xEF, 0xBB, 0xBF], "{file}");
        assert_eq!(with_mark[3..], without[..], "{file}");
    }
    assert_eq!(
        assert_complete(&ledger.join(version)).totals,
        assert_complete(&plain.join(version)).totals
    );
    assert_verifies(&ledger);

    // The mark is not an input: the month is unchanged without it, and nothing is rewritten.
    let rerun = settle(&[
        "run",
        "--job",
        path_arg(&job),
        "--month",
        "2015-10",
        "--ledger",
        path_arg(&plain),
        "--csv-bom",
    ]);
    assert_code(&rerun, 0);
    assert!(
        stderr(&rerun).contains("nothing new was written"),
        "{}",
        stderr(&rerun)
    );
    let report = settle(&[
        "report",
        "--ledger",
        path_arg(&ledger),
        "--month",
        "2015-10",
    ]);
    assert_code(&report, 0);
}

// Help and version.

#[test]
fn the_version_names_the_policy_defaults() {
    let output = settle(&["--version"]);
    assert_code(&output, 0);
    let text = stdout(&output);
    assert!(text.contains(env!("CARGO_PKG_VERSION")), "{text}");
    assert!(text.contains(settle::policy::DEFAULT_POLICY_NAME), "{text}");
}

#[test]
fn every_help_text_shows_examples() {
    for command in [
        vec!["--help"],
        vec!["run", "--help"],
        vec!["report", "--help"],
        vec!["status", "--help"],
        vec!["verify", "--help"],
        vec!["generate", "--help"],
    ] {
        let output = settle(&command);
        assert_code(&output, 0);
        let text = stdout(&output);
        assert!(text.contains("Example"), "{command:?}:\n{text}");
        assert!(text.contains("settle "), "{command:?}:\n{text}");
    }
    let run_help = stdout(&settle(&["run", "--help"]));
    for option in [
        "--job",
        "--through",
        "--provisional",
        "--csv-bom",
        "current",
    ] {
        assert!(run_help.contains(option), "{option}:\n{run_help}");
    }
}

// The scheduler examples in jobs/.

/// A scheduler example's command with the production paths and month words replaced, so it
/// runs here: the job over the sample months, last month 2015-11, the current month 2015-12.
fn localised(command: &str, job: &Path) -> String {
    let binary = env!("CARGO_BIN_EXE_settle");
    let wrapper = Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs/run-from-scheduler.sh");
    let command = command.split(">>").next().unwrap().trim();
    let command = command
        .replace(
            "/usr/local/lib/settle/run-from-scheduler.sh",
            path_arg(&wrapper),
        )
        .replace("/usr/local/bin/settle", binary)
        .replace("/etc/settle/monthly.toml", path_arg(job))
        .replace("--through previous", "--through 2015-11")
        .replace("--month current", "--month 2015-12");
    match command.strip_prefix("settle ") {
        Some(rest) => format!("{binary} {rest}"),
        None => command,
    }
}

/// Runs a scheduler's month-end command, then its nightly one, as the scheduler would.
fn check_scheduler(name: &str, month_end: &str, nightly: &str) {
    let folder = tempfile::tempdir().unwrap();
    let job = write_job(folder.path(), &sample_data(), "first_month = \"2015-10\"");
    let ledger = folder.path().join("ledger");
    for command in [month_end, nightly] {
        let output = Command::new("sh")
            .args(["-c", &localised(command, &job)])
            .env("SETTLE_BIN", env!("CARGO_BIN_EXE_settle"))
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{name}: {command}\n{}",
            stderr(&output)
        );
    }
    assert_eq!(ledger_months(&ledger), ["2015-10", "2015-11"], "{name}");
    assert_complete(&ledger.join("provisional/2015-12"));
}

fn example(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

#[test]
fn the_crontab_example_runs_as_written() {
    let crontab = example("jobs/crontab");
    let commands: Vec<String> = crontab
        .lines()
        .filter(|line| line.contains("run-from-scheduler.sh") && !line.starts_with('#'))
        .map(|line| {
            line.split_whitespace()
                .skip(5)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    assert_eq!(commands.len(), 2, "{crontab}");
    check_scheduler("crontab", &commands[0], &commands[1]);
}

#[test]
fn the_systemd_examples_run_as_written() {
    let exec_start = |unit: &str| {
        let text = example(unit);
        let line = text
            .lines()
            .find_map(|line| line.strip_prefix("ExecStart="))
            .unwrap_or_else(|| panic!("{unit} has no ExecStart"))
            .to_string();
        assert!(text.contains("SuccessExitStatus=3"), "{unit}");
        assert!(text.contains("RestartPreventExitStatus=1 2 5 6"), "{unit}");
        line
    };
    check_scheduler(
        "systemd",
        &exec_start("jobs/systemd/settle-month-end.service"),
        &exec_start("jobs/systemd/settle-nightly.service"),
    );
}

#[test]
fn the_kubernetes_examples_run_as_written() {
    let manifest = example("jobs/kubernetes/settle-cronjobs.yaml");
    assert_eq!(manifest.matches("\n  concurrencyPolicy: Forbid").count(), 2);
    assert_eq!(manifest.matches("\n  timeZone: \"Asia/Tokyo\"").count(), 2);
    // Each container's folded `args` block: the lines after `- >-` up to `resources:`.
    let mut commands = Vec::new();
    let mut lines = manifest.lines();
    while lines.any(|line| line.trim() == "- >-") {
        let folded: Vec<&str> = lines
            .by_ref()
            .take_while(|line| !line.trim_start().starts_with("resources:"))
            .map(str::trim)
            .collect();
        commands.push(folded.join(" "));
    }
    assert_eq!(commands.len(), 2, "{commands:?}");
    check_scheduler("kubernetes", &commands[0], &commands[1]);
}

#[test]
fn the_scheduler_wrapper_treats_3_as_success_and_retries_a_locked_ledger() {
    let folder = tempfile::tempdir().unwrap();
    let inputs = folder.path().join("inputs");
    let twice = order("TWICE", "2015-12", 3, 20_000);
    write_month(&inputs, "2015-12", &[twice.clone(), twice], &[]);
    let job = write_job(folder.path(), &inputs, "");
    let wrapper = Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs/run-from-scheduler.sh");
    let wrapped = |retries: &str| {
        Command::new(&wrapper)
            .args(["--log-level", "warn", "run", "--job", path_arg(&job)])
            .args(["--month", "2015-12"])
            .env("SETTLE_BIN", env!("CARGO_BIN_EXE_settle"))
            .env("SETTLE_LOCK_RETRIES", retries)
            .env("SETTLE_LOCK_WAIT", "0")
            .output()
            .unwrap()
    };

    let ledger = Ledger::open(&folder.path().join("ledger")).unwrap();
    let held = ledger.lock("2015-12".parse().unwrap()).unwrap();
    let locked = wrapped("2");
    assert_code(&locked, 4);
    assert!(
        stderr(&locked).contains("still locked after 2 retries"),
        "{}",
        stderr(&locked)
    );
    drop(held);

    let published_with_rejections = wrapped("0");
    assert_code(&published_with_rejections, 0);
    assert!(stderr(&published_with_rejections).contains("rows were rejected"));
}

#[test]
fn a_terminal_sees_each_file_as_it_is_read_and_written() {
    // `script` gives the command a terminal; without it the check cannot be made here.
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("SKIPPED: `script` (util-linux) is absent, so no terminal can be faked");
        return;
    }
    let folder = tempfile::tempdir().unwrap();
    let job = write_job(folder.path(), &sample_data(), "");
    let command = format!(
        "{} --log-level warn run --job {} --month 2015-10",
        env!("CARGO_BIN_EXE_settle"),
        job.display()
    );

    let output = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .unwrap();

    assert_code(&output, 0);
    let seen = stdout(&output);
    assert!(seen.contains("reading orders 1/1"), "{seen}");
    assert!(seen.contains("writing 1/6: order_lines.parquet"), "{seen}");
}
