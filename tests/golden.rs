//! Golden files: the sample months of `sample_data/` settled in order (2015-10 to 2016-01) into
//! a fresh ledger, and every file of each month's `v1/` folder compared with the expected files
//! checked in under `tests/golden/<YYYY-MM>/`.
//!
//! - The CSV outputs (client_charges, lancer_payouts, hold_events, rejected_rows) are compared
//!   byte for byte.
//! - The Parquet outputs are read back with the `parquet` crate's record reader, not with polars
//!   that wrote them, and rendered as CSV (`order_lines.csv`, `holds.csv`), timestamps as
//!   RFC 3339 in +09:00.
//! - The manifest is compared through `manifest_summary.json`: its row counts, control totals,
//!   input hashes and output row counts. Output hashes are left out because the Parquet bytes
//!   belong to the writer's version, and the rows they hold are compared above.
//! - A file in the published folder that none of these covers fails the test, so a new output
//!   cannot go unchecked.
//!
//! To accept an intended change, rewrite the expected files and review the diff in git:
//!
//! ```text
//! SETTLE_BLESS=1 cargo test --test golden
//! ```
//!
//! Paths: the test runs from the package root and names its inputs relative to it
//! (`sample_data/2015-10/orders.parquet`). Those are the paths that the rejected rows and the
//! manifest record, so the expected files read the same on every machine and in every clone.
//!
//! Besides the snapshot, the worked examples of SPEC.md that the generator writes into the
//! sample months are checked by name against the values SPEC.md gives, so a blessed snapshot
//! cannot quietly accept a wrong rebate.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Once;

use chrono::{DateTime, FixedOffset, SecondsFormat};
use parquet::basic::{LogicalType, TimeUnit};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use serde_json::{json, Value};
use settle::calendar::Month;
use settle::generate::{self, GenerateRequest};
use settle::policy::Policy;
use settle::run::{self, RunOutcome, RunRequest};

const MONTHS: [&str; 4] = ["2015-10", "2015-11", "2015-12", "2016-01"];
const SAMPLE_DATA: &str = "sample_data";
const GOLDEN: &str = "tests/golden";
const BLESS_VARIABLE: &str = "SETTLE_BLESS";

/// Output files compared byte for byte.
const CSV_OUTPUTS: [&str; 4] = [
    "client_charges.csv",
    "lancer_payouts.csv",
    "hold_events.csv",
    "rejected_rows.csv",
];

/// Parquet outputs and the name of their CSV rendering.
const PARQUET_OUTPUTS: [(&str, &str); 2] = [
    ("order_lines.parquet", "order_lines.csv"),
    ("holds.parquet", "holds.csv"),
];

const MANIFEST_SUMMARY: &str = "manifest_summary.json";

/// Runs every test from the package root, whatever folder the test binary was started in, so
/// that the relative input paths resolve and are recorded the same way everywhere.
fn at_package_root() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::env::set_current_dir(env!("CARGO_MANIFEST_DIR"))
            .expect("the package root is a readable folder");
    });
}

fn blessing() -> bool {
    std::env::var(BLESS_VARIABLE).is_ok_and(|value| value == "1")
}

/// One settled month: each golden file's name and the contents the run produced for it.
struct SettledMonth {
    month: &'static str,
    files: BTreeMap<&'static str, String>,
}

impl SettledMonth {
    fn file(&self, name: &str) -> &str {
        self.files
            .get(name)
            .unwrap_or_else(|| panic!("{}: no output {name}", self.month))
    }
}

/// Settles the sample months in order into a fresh ledger and renders their outputs.
fn settle_sample_months() -> Vec<SettledMonth> {
    at_package_root();
    let ledger = tempfile::tempdir().expect("a temporary ledger folder");

    let mut settled = Vec::with_capacity(MONTHS.len());
    for month in MONTHS {
        let input = Path::new(SAMPLE_DATA).join(month);
        let request = RunRequest {
            month: month.parse::<Month>().expect("a valid month"),
            orders: vec![input.join("orders.parquet")],
            claims: vec![input.join("claims.parquet")],
            ledger: ledger.path().to_path_buf(),
            policy: Policy::default(),
            strict: false,
            correction: None,
        };
        let outcome = run::run(&request).unwrap_or_else(|e| panic!("{month}: {e:#}"));
        let RunOutcome::Published(summary) = outcome else {
            panic!("{month}: a fresh ledger published nothing");
        };
        assert_eq!(
            summary.version, 1,
            "{month}: the first version of a fresh ledger"
        );
        settled.push(render_month(month, &summary.folder));
    }
    settled
}

fn render_month(month: &'static str, folder: &Path) -> SettledMonth {
    let compared: BTreeSet<&str> = CSV_OUTPUTS
        .into_iter()
        .chain(PARQUET_OUTPUTS.map(|(parquet_name, _)| parquet_name))
        .chain(["manifest.json"])
        .collect();
    let published: BTreeSet<String> = std::fs::read_dir(folder)
        .unwrap_or_else(|e| panic!("{month}: cannot list {}: {e}", folder.display()))
        .map(|entry| {
            entry
                .expect("a folder entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let uncompared: Vec<&String> = published
        .iter()
        .filter(|name| !compared.contains(name.as_str()))
        .collect();
    assert!(
        uncompared.is_empty(),
        "{month}: the golden test does not compare {uncompared:?}; add them to it"
    );

    let mut files = BTreeMap::new();
    for name in CSV_OUTPUTS {
        let path = folder.join(name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{month}: cannot read {}: {e}", path.display()));
        files.insert(name, text);
    }
    for (parquet_name, csv_name) in PARQUET_OUTPUTS {
        files.insert(csv_name, parquet_as_csv(&folder.join(parquet_name)));
    }
    files.insert(
        MANIFEST_SUMMARY,
        manifest_summary(&folder.join("manifest.json")),
    );
    SettledMonth { month, files }
}

/// The unit of a column that holds timestamps, from the file's logical types. The record
/// reader hands nanosecond timestamps over as plain integers, so the schema is what tells
/// them apart from amounts.
fn timestamp_unit(logical_type: Option<&LogicalType>) -> Option<i64> {
    match logical_type {
        Some(LogicalType::Timestamp(timestamp)) => Some(match timestamp.unit {
            TimeUnit::MILLIS => 1_000_000,
            TimeUnit::MICROS => 1_000,
            TimeUnit::NANOS => 1,
        }),
        _ => None,
    }
}

/// Renders every row of a Parquet file as CSV, in the file's column order.
fn parquet_as_csv(path: &Path) -> String {
    let shown = path.display();
    let file = File::open(path).unwrap_or_else(|e| panic!("cannot open {shown}: {e}"));
    let reader =
        SerializedFileReader::new(file).unwrap_or_else(|e| panic!("{shown} is not Parquet: {e}"));
    let columns: Vec<(String, Option<i64>)> = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|column| {
            let ns_per_unit = timestamp_unit(column.logical_type_ref());
            (column.name().to_string(), ns_per_unit)
        })
        .collect();

    let mut writer = csv_writer();
    writer
        .write_record(columns.iter().map(|(name, _)| name))
        .expect("writing to memory");
    let rows = reader
        .get_row_iter(None)
        .unwrap_or_else(|e| panic!("{shown}: no row reader: {e}"));
    for (number, row) in rows.enumerate() {
        let row = row.unwrap_or_else(|e| panic!("{shown}: row {}: {e}", number + 1));
        let mut fields = Vec::with_capacity(columns.len());
        for ((name, value), (column, ns_per_unit)) in row.get_column_iter().zip(&columns) {
            assert_eq!(
                name,
                column,
                "{shown}: row {} is out of column order",
                number + 1
            );
            fields.push(render(value, *ns_per_unit, &shown.to_string()));
        }
        writer.write_record(&fields).expect("writing to memory");
    }
    String::from_utf8(writer.into_inner().expect("writing to memory")).expect("UTF-8 text")
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new())
}

fn render(value: &Field, ns_per_unit: Option<i64>, file: &str) -> String {
    match (value, ns_per_unit) {
        (Field::Null, _) => String::new(),
        (Field::Long(raw), Some(ns_per_unit)) => jst(*raw, ns_per_unit),
        (Field::TimestampMicros(raw), _) => jst(*raw, 1_000),
        (Field::TimestampMillis(raw), _) => jst(*raw, 1_000_000),
        (Field::Bool(value), None) => value.to_string(),
        (Field::Int(value), None) => value.to_string(),
        (Field::Long(value), None) => value.to_string(),
        (Field::Str(value), None) => value.clone(),
        (other, _) => panic!("{file}: a settlement file should not hold {other:?}"),
    }
}

/// An instant as RFC 3339 in Tokyo time, the way SPEC.md writes business times.
fn jst(raw: i64, ns_per_unit: i64) -> String {
    let instant_ns = raw
        .checked_mul(ns_per_unit)
        .unwrap_or_else(|| panic!("timestamp {raw} × {ns_per_unit} ns overflows"));
    let tokyo = FixedOffset::east_opt(9 * 3600).expect("+09:00 is a valid offset");
    DateTime::from_timestamp_nanos(instant_ns)
        .with_timezone(&tokyo)
        .to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// The parts of the manifest that say what was settled, without the paths and hashes that
/// belong to where and with which writer the run happened.
fn manifest_summary(path: &Path) -> String {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let manifest: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    let inputs = |kind: &str| -> Value {
        let files = manifest["inputs"][kind]
            .as_array()
            .cloned()
            .unwrap_or_default();
        files
            .iter()
            .map(|file| json!({ "sha256": file["sha256"], "rows": file["rows"] }))
            .collect()
    };
    let outputs: Value = manifest["outputs"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|file| json!({ "file": file["file"], "rows": file["rows"] }))
        .collect();
    let opening_holds = match &manifest["opening_holds"] {
        Value::Null => Value::Null,
        holds => json!({ "month": holds["month"], "version": holds["version"] }),
    };
    let summary = json!({
        "month": manifest["month"],
        "version": manifest["version"],
        "naive_timestamp_zone": manifest["naive_timestamp_zone"],
        "inputs": { "orders": inputs("orders"), "claims": inputs("claims") },
        "opening_holds": opening_holds,
        "rows": manifest["rows"],
        "totals": manifest["totals"],
        "outputs": outputs,
        "warnings": manifest["warnings"],
    });
    let mut text = serde_json::to_string_pretty(&summary).expect("JSON serialises");
    text.push('\n');
    text
}

/// Where two texts first differ, by line, for a failure message.
fn first_difference(expected: &str, actual: &str) -> String {
    let (mut expected_lines, mut actual_lines) = (expected.lines(), actual.lines());
    let mut number = 0;
    loop {
        number += 1;
        match (expected_lines.next(), actual_lines.next()) {
            (Some(wanted), Some(found)) if wanted == found => continue,
            (None, None) => return "the lines agree; the line ends or final newline differ".into(),
            (wanted, found) => {
                return format!(
                    "first difference at line {number}:\n    expected: {}\n    actual:   {}",
                    wanted.unwrap_or("<end of file>"),
                    found.unwrap_or("<end of file>")
                )
            }
        }
    }
}

fn golden_path(month: &str, name: &str) -> PathBuf {
    Path::new(GOLDEN).join(month).join(name)
}

#[test]
fn sample_months_settle_to_the_golden_files() {
    let settled = settle_sample_months();

    if blessing() {
        for month in &settled {
            for (name, text) in &month.files {
                let path = golden_path(month.month, name);
                std::fs::create_dir_all(path.parent().expect("a golden file has a folder"))
                    .and_then(|()| std::fs::write(&path, text))
                    .unwrap_or_else(|e| panic!("cannot bless {}: {e}", path.display()));
            }
        }
        eprintln!("{BLESS_VARIABLE}=1: rewrote the expected files under {GOLDEN}/");
        return;
    }

    let mut mismatches = Vec::new();
    for month in &settled {
        for (name, actual) in &month.files {
            let path = golden_path(month.month, name);
            match std::fs::read_to_string(&path) {
                Err(e) => mismatches.push(format!(
                    "{} {name}: cannot read {}: {e}",
                    month.month,
                    path.display()
                )),
                Ok(expected) if expected != *actual => mismatches.push(format!(
                    "{} {name}: {}",
                    month.month,
                    first_difference(&expected, actual)
                )),
                Ok(_) => {}
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} output files differ from {GOLDEN}/ (if the change is intended, run \
         `{BLESS_VARIABLE}=1 cargo test --test golden` and review the diff):\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// One row of a CSV text, by column name.
type Row = BTreeMap<String, String>;

fn csv_rows(what: &str, text: &str) -> Vec<Row> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("a header row").clone();
    reader
        .records()
        .map(|record| {
            let record = record.unwrap_or_else(|e| panic!("{what}: bad row: {e}"));
            header
                .iter()
                .zip(record.iter())
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect()
        })
        .collect()
}

/// What SPEC.md says an example's order line holds in the month it completes.
struct Line {
    month: &'static str,
    order_id: &'static str,
    reason: &'static str,
    surcharge_jpy: i64,
    rebate_jpy: i64,
    payout_jpy: i64,
    payout_status: &'static str,
    claim_ids: &'static str,
}

const fn line(
    month: &'static str,
    order_id: &'static str,
    reason: &'static str,
    (surcharge_jpy, rebate_jpy, payout_jpy): (i64, i64, i64),
    payout_status: &'static str,
    claim_ids: &'static str,
) -> Line {
    Line {
        month,
        order_id,
        reason,
        surcharge_jpy,
        rebate_jpy,
        payout_jpy,
        payout_status,
        claim_ids,
    }
}

/// Every worked example, with (surcharge, rebate, payout) in yen. The payout is the reward
/// (the amount less the marketplace's 20% fee) plus the rebate.
#[rustfmt::skip]
const EXAMPLE_LINES: &[Line] = &[
    // §3 rule 3 and the free window of §4: covered, no surcharge, 0.3% of ¥40,000.
    line("2015-10", "EX-COVERED-1007-1500", "covered",
         (0, 120, 32_120), "paid", ""),
    // §3 rule 3: the request, the order or a later milestone came before 14:00 on 10-07.
    line("2015-10", "EX-BEFORE-START-1007-1300", "requested_before_start",
         (0, 0, 32_000), "paid", ""),
    line("2015-10", "EX-OLD-REQUEST-ORDERED-1008", "requested_before_start",
         (0, 0, 48_000), "paid", ""),
    line("2015-10", "EX-OLD-REQUEST-MILESTONE-1008", "requested_before_start",
         (0, 0, 24_000), "paid", ""),
    // §5: 30 is below the floor.
    line("2015-10", "EX-REBATE-FLOOR-10000", "covered",
         (0, 50, 8_050), "paid", ""),
    // §6: held in October, released in December.
    line("2015-10", "EX-HOLD-RELEASED-LATER", "covered",
         (0, 240, 64_240), "held", "EX-HOLD-RELEASED-LATER-K1"),
    // §2: 2015-10-31T15:30:00Z is November in Tokyo.
    line("2015-11", "EX-COMPLETED-1031-1530Z", "covered",
         (0, 60, 16_060), "paid", ""),
    // §5: 49.998 rounds down to 49, below the floor.
    line("2015-11", "EX-REBATE-FLOOR-16666", "covered",
         (0, 50, 13_383), "paid", ""),
    // §6: held in November, forfeited in December.
    line("2015-11", "EX-HOLD-FORFEITED", "covered",
         (0, 360, 96_360), "held", "EX-HOLD-FORFEITED-K1"),
    // §6: holds apply to uncovered orders too.
    line("2015-11", "EX-HOLD-UNCOVERED", "not_fixed_price",
         (0, 0, 76_800), "held", "EX-HOLD-UNCOVERED-K1"),
    // §4: the free window is judged by ordered_at, not completed_at.
    line("2015-12", "EX-PLACED-1130-DONE-1205", "covered",
         (0, 180, 48_180), "paid", ""),
    line("2015-12", "EX-FREE-WINDOW-LAST-SECOND", "covered",
         (0, 300, 80_300), "paid", ""),
    line("2015-12", "EX-FREE-WINDOW-FIRST-SECOND", "covered",
         (2_000, 300, 80_300), "paid", ""),
    // §4 and §5: the notice's ¥50,000 logo order.
    line("2015-12", "EX-LOGO-50000", "covered",
         (1_000, 150, 40_150), "paid", ""),
    // §6: one claim withdrawn, one under review at the cutoff (placed in the free window).
    line("2015-12", "EX-TWO-CLAIMS", "covered",
         (0, 210, 56_210), "held", "EX-TWO-CLAIMS-K1;EX-TWO-CLAIMS-K2"),
    // §5: 349.5 rounds down.
    line("2016-01", "EX-REBATE-116500", "covered",
         (2_330, 349, 93_549), "paid", ""),
    // §3 rules 1 and 2.
    line("2016-01", "EX-NOT-FIXED-PRICE", "not_fixed_price",
         (0, 0, 24_000), "paid", ""),
    line("2016-01", "EX-LANCER-NOT-CERTIFIED", "lancer_not_certified",
         (0, 0, 24_000), "paid", ""),
    // §6 and §4: forfeited at once, and the surcharge is charged whatever happens to the payout.
    line("2016-01", "EX-FORFEITED-SAME-MONTH", "covered",
         (900, 135, 36_135), "forfeited", "EX-FORFEITED-SAME-MONTH-K1"),
    // §6: a claim decided within the month releases: paid, and the line lists the claim.
    line("2016-01", "EX-CLAIM-REJECTED-SAME-MONTH", "covered",
         (500, 75, 20_075), "paid", "EX-CLAIM-REJECTED-SAME-MONTH-K1"),
    // §6: a claim never decided: held, and open at January's cutoff.
    line("2016-01", "EX-HOLD-STILL-OPEN", "covered",
         (3_000, 450, 120_450), "held", "EX-HOLD-STILL-OPEN-K1"),
];

/// The examples' hold events, month by month (§6).
const EXAMPLE_HOLD_EVENTS: &[(&str, &str, &str)] = &[
    ("2015-10", "EX-HOLD-RELEASED-LATER", "opened"),
    ("2015-11", "EX-HOLD-FORFEITED", "opened"),
    ("2015-11", "EX-HOLD-UNCOVERED", "opened"),
    ("2015-12", "EX-HOLD-FORFEITED", "forfeited"),
    ("2015-12", "EX-HOLD-RELEASED-LATER", "released"),
    ("2015-12", "EX-TWO-CLAIMS", "opened"),
    ("2016-01", "EX-HOLD-STILL-OPEN", "opened"),
    ("2016-01", "EX-HOLD-UNCOVERED", "released"),
    ("2016-01", "EX-TWO-CLAIMS", "released"),
];

/// The examples' holds open at each cutoff: a hold stays open while its claim is under review.
const EXAMPLE_OPEN_HOLDS: &[(&str, &str)] = &[
    ("2015-10", "EX-HOLD-RELEASED-LATER"),
    ("2015-11", "EX-HOLD-FORFEITED"),
    ("2015-11", "EX-HOLD-RELEASED-LATER"),
    ("2015-11", "EX-HOLD-UNCOVERED"),
    ("2015-12", "EX-HOLD-UNCOVERED"),
    ("2015-12", "EX-TWO-CLAIMS"),
    ("2016-01", "EX-HOLD-STILL-OPEN"),
];

fn is_example(order_id: &str) -> bool {
    order_id.starts_with("EX-")
}

#[test]
fn worked_examples_settle_as_spec_md_says() {
    let settled = settle_sample_months();

    let mut lines_found = BTreeMap::new();
    let mut events_found = Vec::new();
    let mut holds_found = Vec::new();
    for month in &settled {
        let what = |name: &str| format!("{} {name}", month.month);
        for row in csv_rows(&what("order_lines"), month.file("order_lines.csv")) {
            if is_example(&row["order_id"]) {
                let previous = lines_found.insert(row["order_id"].clone(), (month.month, row));
                assert!(
                    previous.is_none(),
                    "an example is settled twice: {previous:?}"
                );
            }
        }
        for row in csv_rows(&what("hold_events"), month.file("hold_events.csv")) {
            if is_example(&row["order_id"]) {
                events_found.push((month.month, row["order_id"].clone(), row["event"].clone()));
            }
        }
        for row in csv_rows(&what("holds"), month.file("holds.csv")) {
            if is_example(&row["order_id"]) {
                holds_found.push((month.month, row["order_id"].clone()));
            }
        }
    }

    let mut problems = Vec::new();
    for expected in EXAMPLE_LINES {
        let Some((month, row)) = lines_found.get(expected.order_id) else {
            problems.push(format!(
                "{} is in no month's order lines",
                expected.order_id
            ));
            continue;
        };
        let actual = (
            month.to_string(),
            row["reason"].clone(),
            row["surcharge_jpy"].clone(),
            row["rebate_jpy"].clone(),
            row["payout_jpy"].clone(),
            row["payout_status"].clone(),
            row["claim_ids"].clone(),
        );
        let wanted = (
            expected.month.to_string(),
            expected.reason.to_string(),
            expected.surcharge_jpy.to_string(),
            expected.rebate_jpy.to_string(),
            expected.payout_jpy.to_string(),
            expected.payout_status.to_string(),
            expected.claim_ids.to_string(),
        );
        if actual != wanted {
            problems.push(format!(
                "{}: (month, reason, surcharge, rebate, payout, status, claims) expected \
                 {wanted:?}, found {actual:?}",
                expected.order_id
            ));
        }
    }
    let named: BTreeSet<&str> = EXAMPLE_LINES.iter().map(|line| line.order_id).collect();
    for order_id in lines_found.keys().filter(|id| !named.contains(id.as_str())) {
        problems.push(format!(
            "{order_id} is settled but this test does not check it"
        ));
    }
    assert!(
        problems.is_empty(),
        "worked examples:\n{}",
        problems.join("\n")
    );

    let events_wanted: Vec<(&str, String, String)> = EXAMPLE_HOLD_EVENTS
        .iter()
        .map(|&(month, order_id, event)| (month, order_id.to_string(), event.to_string()))
        .collect();
    assert_eq!(events_found, events_wanted, "the examples' hold events");
    let holds_wanted: Vec<(&str, String)> = EXAMPLE_OPEN_HOLDS
        .iter()
        .map(|&(month, order_id)| (month, order_id.to_string()))
        .collect();
    assert_eq!(holds_found, holds_wanted, "the examples' open holds");

    // §2, through the rendering: the order completed at 15:30 UTC on 10-31 is shown completed
    // at 00:30 on 11-01 in Tokyo.
    let (_, row) = &lines_found["EX-COMPLETED-1031-1530Z"];
    assert_eq!(row["completed_at"], "2015-11-01T00:30:00+09:00");
}

/// The files that `sample_data/README.md` says its command writes are what the generator
/// writes today, so the sample months can always be rebuilt from the documented command.
#[test]
fn sample_data_is_what_the_documented_command_writes() {
    at_package_root();
    let out = tempfile::tempdir().expect("a temporary folder");
    let request = GenerateRequest {
        out: out.path().to_path_buf(),
        first: MONTHS[0].parse().expect("a valid month"),
        last: MONTHS[MONTHS.len() - 1].parse().expect("a valid month"),
        seed: 20151007,
        orders_per_month: 300,
        encoding: None,
    };
    generate::generate(&request).expect("the generator writes the sample months");

    let mut differing = Vec::new();
    for month in MONTHS {
        for name in ["orders.parquet", "claims.parquet"] {
            let written = std::fs::read(out.path().join(month).join(name));
            let checked_in = std::fs::read(Path::new(SAMPLE_DATA).join(month).join(name));
            match (written, checked_in) {
                (Ok(written), Ok(checked_in)) if written == checked_in => {}
                _ => differing.push(format!("{SAMPLE_DATA}/{month}/{name}")),
            }
        }
    }
    assert!(
        differing.is_empty(),
        "{} differ from what the generator writes now; regenerate them with the command in \
         {SAMPLE_DATA}/README.md, then run `{BLESS_VARIABLE}=1 cargo test --test golden`",
        differing.join(", ")
    );
}
