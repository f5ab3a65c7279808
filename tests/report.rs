//! The finance report: its totals are the manifest's, it shows holds, rejections and a
//! correction's changes, it refuses files that do not tie, and its HTML form is one
//! self-contained file that a real browser renders with its charts.

mod ops;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ops::{
    assert_code, order, path_arg, sample_data, settle, stderr, stdout, write_job, write_month,
    SAMPLE_MONTHS,
};
use settle::ledger::Ledger;
use settle::model::{Claim, ClaimStatus, RejectReason};
use settle::money::yen;
use settle::report::{self, Format, Which};

/// A ledger holding the four sample months, settled by one backfill.
fn sample_ledger() -> (tempfile::TempDir, PathBuf) {
    let folder = tempfile::tempdir().unwrap();
    let job = write_job(folder.path(), &sample_data(), "");
    let output = settle(&[
        "run",
        "--job",
        path_arg(&job),
        "--month",
        "2015-10",
        "--through",
        "2016-01",
    ]);
    assert_code(&output, 0);
    let ledger = folder.path().join("ledger");
    (folder, ledger)
}

fn build(ledger: &Path, month: &str, which: Which) -> report::MonthReport {
    let ledger = Ledger::open_existing(ledger).unwrap();
    report::build(&ledger, month.parse().unwrap(), which).unwrap_or_else(|e| panic!("{e:#}"))
}

#[test]
fn the_reports_totals_equal_the_manifests_for_every_sample_month() {
    let (_folder, ledger) = sample_ledger();
    let opened = Ledger::open_existing(&ledger).unwrap();

    for month in SAMPLE_MONTHS {
        let manifest = opened
            .newest(month.parse().unwrap())
            .unwrap()
            .unwrap()
            .manifest;
        let built = build(&ledger, month, Which::Newest);
        assert_eq!(built.totals, manifest.totals, "{month}");

        let reason_orders: u64 = built.by_reason.iter().map(|r| r.orders).sum();
        let reason_surcharge: i64 = built.by_reason.iter().map(|r| r.surcharge_jpy).sum();
        assert_eq!(reason_orders, manifest.totals.order_lines, "{month}");
        assert_eq!(
            reason_surcharge, manifest.totals.surcharge_lines_jpy,
            "{month}"
        );
        let open_by_month: u64 = built
            .holds
            .open_by_month
            .iter()
            .map(|g| g.tally.count)
            .sum();
        assert_eq!(
            open_by_month, manifest.totals.holds_closing.count,
            "{month}"
        );
        let daily_paid: i64 = built.days.iter().map(|d| d.paid_payout_jpy).sum();
        assert_eq!(daily_paid, manifest.totals.paid_lines_payout_jpy, "{month}");

        // What finance reads is what the manifest says, with separators and the yen sign.
        let text = stdout(&settle(&[
            "report",
            "--ledger",
            path_arg(&ledger),
            "--month",
            month,
        ]));
        for jpy in [
            manifest.totals.surcharge_lines_jpy,
            manifest.totals.payable_jpy,
            manifest.totals.rebate_jpy,
            manifest.totals.reward_jpy,
            manifest.totals.holds_closing.jpy,
        ] {
            assert!(
                text.contains(&yen(jpy)),
                "{month}: {} missing\n{text}",
                yen(jpy)
            );
        }
    }
}

#[test]
fn holds_are_shown_with_their_ages() {
    let (_folder, ledger) = sample_ledger();

    let january = build(&ledger, "2016-01", Which::Newest);

    let ages: Vec<(String, u32)> = january
        .holds
        .open_by_month
        .iter()
        .map(|g| (g.opened_month.to_string(), g.age_months))
        .collect();
    assert_eq!(
        ages,
        [
            ("2015-10".to_string(), 3),
            ("2015-12".to_string(), 1),
            ("2016-01".to_string(), 0)
        ]
    );
    assert_eq!(
        january.holds.oldest_open[0].opened_month.to_string(),
        "2015-10"
    );
    let text = january.render(Format::Text);
    assert!(text.contains("2015-10  3 months"), "{text}");
    assert!(
        text.contains("Released this month, by month opened"),
        "{text}"
    );
}

#[test]
fn rejected_rows_are_counted_by_reason_with_an_example() {
    let folder = tempfile::tempdir().unwrap();
    let inputs = folder.path().join("inputs");
    let twice = order("TWICE", "2015-12", 3, 20_000);
    write_month(
        &inputs,
        "2015-12",
        &[order("A", "2015-12", 1, 50_000), twice.clone(), twice],
        &[],
    );
    let job = write_job(folder.path(), &inputs, "");
    assert_code(
        &settle(&["run", "--job", path_arg(&job), "--month", "2015-12"]),
        3,
    );

    let built = build(&folder.path().join("ledger"), "2015-12", Which::Newest);

    assert_eq!(built.rejected.len(), 1);
    let group = &built.rejected[0];
    assert_eq!(group.reason, RejectReason::DuplicateOrderId);
    assert_eq!(group.rows, built.rows.orders_rejected);
    assert_eq!(group.example.order_id.as_deref(), Some("TWICE"));
    let html = built.render(Format::Html);
    assert!(html.contains("duplicate_order_id"), "{html}");
}

/// December with A paid and B held by a claim under review; B's amount is then corrected.
fn corrected_ledger() -> (tempfile::TempDir, PathBuf) {
    let folder = tempfile::tempdir().unwrap();
    let inputs = folder.path().join("inputs");
    let claim = Claim {
        claim_id: "K-B".into(),
        order_id: "B".into(),
        filed_at: ops::day("2015-12", 25),
        status: ClaimStatus::UnderReview,
        decided_at: None,
        payout_decision: None,
    };
    let december = |b_amount_jpy| {
        [
            order("A", "2015-12", 10, 50_000),
            order("B", "2015-12", 20, b_amount_jpy),
        ]
    };
    write_month(
        &inputs,
        "2015-12",
        &december(100_000),
        std::slice::from_ref(&claim),
    );
    let job = write_job(folder.path(), &inputs, "");
    assert_code(
        &settle(&["run", "--job", path_arg(&job), "--month", "2015-12"]),
        0,
    );
    write_month(
        &inputs,
        "2015-12",
        &december(120_000),
        std::slice::from_ref(&claim),
    );
    let corrected = settle(&[
        "run",
        "--job",
        path_arg(&job),
        "--month",
        "2015-12",
        "--correction",
        "B was ¥120,000",
    ]);
    assert_code(&corrected, 0);
    let ledger = folder.path().join("ledger");
    (folder, ledger)
}

#[test]
fn a_correction_shows_what_changed_against_the_previous_version() {
    let (_folder, ledger) = corrected_ledger();

    let second = build(&ledger, "2015-12", Which::Newest);
    let first = build(&ledger, "2015-12", Which::Version(1));

    assert!(first.changes.is_none());
    let changes = second.changes.as_ref().expect("a correction has changes");
    assert_eq!(changes.previous_version, 1);
    assert_eq!(changes.reason, "B was ¥120,000");
    assert_eq!(changes.previous_totals, first.totals);
    // 2% of the extra ¥20,000 is charged; B is held, so nothing more is payable now.
    assert_eq!(changes.surcharge_delta_jpy, 400);
    assert_eq!(changes.payable_delta_jpy, 0);
    assert_eq!(changes.largest_lancers[0].lancer_id, "lancer-B");
    assert_eq!(
        changes.largest_lancers[0].held_jpy,
        second.totals.holds_closing.jpy - first.totals.holds_closing.jpy
    );

    let text = second.render(Format::Text);
    assert!(
        text.contains("Changes against v1 (B was ¥120,000)"),
        "{text}"
    );
    assert!(text.contains("client surcharge"), "{text}");
    assert!(text.contains("+¥400"), "{text}");
    let html = second.render(Format::Html);
    assert!(html.contains("What changed against v1"), "{html}");
    assert!(html.contains("Correction of v1: B was ¥120,000"), "{html}");
}

#[test]
fn a_version_whose_files_do_not_tie_is_refused_not_reported() {
    let (_folder, ledger) = sample_ledger();
    let payouts = ledger.join("2015-12/v1/lancer_payouts.csv");
    let text = std::fs::read_to_string(&payouts).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut fields: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    fields[4] = (fields[4].parse::<i64>().unwrap() + 1).to_string();
    lines[1] = fields.join(",");
    let report = || {
        settle(&[
            "report",
            "--ledger",
            path_arg(&ledger),
            "--month",
            "2015-12",
        ])
    };

    // Changed after publishing: the file no longer matches its manifest.
    let old_sha256 = settle::input::files::sha256_file(&payouts).unwrap();
    std::fs::write(&payouts, lines.join("\n") + "\n").unwrap();
    let output = report();
    assert_code(&output, 1);
    assert!(
        stderr(&output).contains("has changed since it was published"),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).is_empty());

    // Published so, its manifest hashing the changed file: the totals do not tie.
    let new_sha256 = settle::input::files::sha256_file(&payouts).unwrap();
    let manifest = ledger.join("2015-12/v1/manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(text.contains(&old_sha256));
    std::fs::write(&manifest, text.replace(&old_sha256, &new_sha256)).unwrap();
    let output = report();
    assert_code(&output, 1);
    assert!(
        stderr(&output).contains("do not tie"),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).is_empty());
}

#[test]
fn a_provisional_settlement_is_reported_as_not_for_payment() {
    let (folder, ledger) = sample_ledger();
    let inputs = folder.path().join("inputs");
    write_month(
        &inputs,
        "2016-02",
        &[order("FEB-1", "2016-02", 3, 80_000)],
        &[],
    );
    let job = write_job(folder.path(), &inputs, "");
    assert_code(
        &settle(&[
            "run",
            "--job",
            path_arg(&job),
            "--ledger",
            path_arg(&ledger),
            "--provisional",
            "--month",
            "2016-02",
        ]),
        0,
    );

    let output = settle(&[
        "report",
        "--ledger",
        path_arg(&ledger),
        "--month",
        "2016-02",
        "--provisional",
    ]);

    assert_code(&output, 0);
    assert!(
        stdout(&output).contains("PROVISIONAL"),
        "{}",
        stdout(&output)
    );
    assert!(
        stdout(&output).contains("not for payment"),
        "{}",
        stdout(&output)
    );
    let missing = settle(&[
        "report",
        "--ledger",
        path_arg(&ledger),
        "--month",
        "2016-02",
    ]);
    assert_code(&missing, 1);
    assert!(
        stderr(&missing).contains("2016-02 has no published version"),
        "{}",
        stderr(&missing)
    );
}

/// Writes the HTML report of January (holds of three ages, releases) and returns its path.
fn january_html(ledger: &Path, folder: &Path) -> PathBuf {
    let out = folder.join("report-2016-01.html");
    let output = settle(&[
        "report",
        "--ledger",
        path_arg(ledger),
        "--month",
        "2016-01",
        "--out",
        path_arg(&out),
    ]);
    assert_code(&output, 0);
    out
}

#[test]
fn the_html_report_is_one_self_contained_file() {
    let (folder, ledger) = sample_ledger();
    let html = std::fs::read_to_string(january_html(&ledger, folder.path())).unwrap();

    assert!(html.starts_with("<!DOCTYPE html>"));
    for outside in [
        "<script",
        "<link",
        " src=",
        "href=",
        "url(",
        "@import",
        "@font-face",
    ] {
        assert!(
            !html.contains(outside),
            "the report refers outside itself: {outside}"
        );
    }
    let addresses: Vec<&str> = html
        .match_indices("http")
        .map(|(at, _)| &html[at..at + 26])
        .collect();
    assert!(
        addresses.iter().all(|a| *a == "http://www.w3.org/2000/svg"),
        "only the SVG namespace may be named: {addresses:?}"
    );
    assert_eq!(html.matches("<svg").count(), 3);
    let totals = build(&ledger, "2016-01", Which::Newest).totals;
    for jpy in [
        totals.surcharge_lines_jpy,
        totals.payable_jpy,
        totals.holds_closing.jpy,
    ] {
        assert!(html.contains(&yen(jpy)), "{} missing", yen(jpy));
    }
}

/// Chromium from the system's packages; `.ci/run` installs it.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("SETTLE_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    path.is_file().then_some(path)
}

/// Runs headless Chromium on `page` with `args`, killing it after two minutes.
fn headless(chromium: &Path, page: &Path, args: &[String]) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            child.kill().unwrap();
            panic!("chromium did not finish within two minutes");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn the_html_report_renders_its_charts_in_a_headless_browser() {
    let Some(chromium) = chromium() else {
        if std::env::var_os("CI").is_some() {
            panic!("chromium is missing at /usr/bin/chromium; .ci/run installs it");
        }
        eprintln!("SKIPPED: chromium is absent, so the HTML report is not rendered in a browser");
        return;
    };
    let (folder, ledger) = sample_ledger();
    let page = january_html(&ledger, folder.path());

    let dom = headless(&chromium, &page, &["--dump-dom".to_string()]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(dom.matches("<svg").count(), 3, "{dom}");
    assert!(
        dom.matches("<rect").count() >= 31 * 2 + 3,
        "bars missing:\n{dom}"
    );
    assert!(dom.contains("Held at the cutoff, by month opened"), "{dom}");

    let screenshot = folder.path().join("report.png");
    headless(
        &chromium,
        &page,
        &[
            format!("--screenshot={}", screenshot.display()),
            "--window-size=1200,1600".to_string(),
        ],
    );
    let png = std::fs::read(&screenshot).expect("chromium wrote a screenshot");
    assert_eq!(png[..8], *b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1200, 1600));
    // A blank or unstyled page compresses to a few kilobytes; charts and tables do not.
    assert!(
        png.len() > 60_000,
        "the screenshot is nearly empty: {} bytes",
        png.len()
    );
}
