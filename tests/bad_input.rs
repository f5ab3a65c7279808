//! Bad input, file by file and row by row (SPEC §7): a bad file stops the run with exit 1,
//! nothing published and a message naming the file; a bad row is rejected with its reason,
//! file and row number, and the rest of the month settles with exit 3.
//!
//! Each case starts from three valid December orders and breaks one cell of the second row,
//! written with polars so that nulls and wrong values can be expressed at all.

mod support;

use std::path::{Path, PathBuf};

use polars::prelude::{Column, DataFrame, NamedFrom, ParquetWriter, Series, TimeUnit, TimeZone};
use settle::calendar::Month;
use settle::generate::write_claims;
use settle::model::{Claim, ClaimStatus, PayoutDecision};
use support::{csv_rows, run_command, stderr, versions};

const MONTH: &str = "2015-12";
const NS_PER_HOUR: i64 = 3_600_000_000_000;

fn december_day(day: i64) -> i64 {
    MONTH.parse::<Month>().unwrap().start_ns() + (day - 1) * 24 * NS_PER_HOUR + 12 * NS_PER_HOUR
}

/// One cell of the second row, replaced.
#[derive(Clone)]
enum Cell {
    Text(&'static str, Option<String>),
    Bool(&'static str, Option<bool>),
    Instant(&'static str, Option<i64>),
    Yen(&'static str, Option<i64>),
}

fn column_name(cell: &Cell) -> &'static str {
    match cell {
        Cell::Text(name, _) | Cell::Bool(name, _) | Cell::Instant(name, _) | Cell::Yen(name, _) => {
            name
        }
    }
}

/// Three valid orders; `broken` replaces one cell of the second.
fn orders_frame(broken: Option<&Cell>) -> DataFrame {
    let text = |name: &'static str, values: [&str; 3]| {
        let mut values: Vec<Option<String>> = values.iter().map(|v| Some(v.to_string())).collect();
        if let Some(Cell::Text(column, value)) = broken {
            if *column == name {
                values[1] = value.clone();
            }
        }
        Column::new(name.into(), values)
    };
    let instants = |name: &'static str, day: i64| {
        let mut values: Vec<Option<i64>> = (0..3)
            .map(|row| Some(december_day(day + row) / 1_000))
            .collect();
        if let Some(Cell::Instant(column, value)) = broken {
            if *column == name {
                values[1] = value.map(|ns| ns / 1_000);
            }
        }
        let zone = TimeZone::opt_try_new(Some("UTC")).unwrap();
        Column::from(Series::new(name.into(), values).into_datetime(TimeUnit::Microseconds, zone))
    };
    let yen = |name: &'static str, values: [i64; 3]| {
        let mut values: Vec<Option<i64>> = values.iter().map(|v| Some(*v)).collect();
        if let Some(Cell::Yen(column, value)) = broken {
            if *column == name {
                values[1] = *value;
            }
        }
        Column::new(name.into(), values)
    };
    let mut certified = vec![Some(true); 3];
    if let Some(Cell::Bool("lancer_certified", value)) = broken {
        certified[1] = *value;
    }
    let columns = vec![
        text("order_id", ["O-1", "O-2", "O-3"]),
        text("request_id", ["R-1", "R-2", "R-3"]),
        text("client_id", ["c-1", "c-2", "c-3"]),
        text("lancer_id", ["l-1", "l-2", "l-3"]),
        text("work_type", ["project_fixed"; 3]),
        Column::new("lancer_certified".into(), certified),
        instants("request_created_at", 1),
        instants("ordered_at", 2),
        instants("completed_at", 10),
        yen("amount_jpy", [50_000, 20_000, 10_000]),
        yen("reward_jpy", [40_000, 16_000, 8_000]),
    ];
    DataFrame::new(3, columns).unwrap()
}

fn write_frame(path: &Path, mut frame: DataFrame) {
    let file = std::fs::File::create(path).unwrap();
    ParquetWriter::new(file).finish(&mut frame).unwrap();
}

struct Month3 {
    _folder: tempfile::TempDir,
    orders: PathBuf,
    claims: PathBuf,
    ledger: PathBuf,
}

fn month_with(frame: DataFrame, claims: &[Claim]) -> Month3 {
    let folder = tempfile::tempdir().unwrap();
    let orders = folder.path().join("orders.parquet");
    let claims_path = folder.path().join("claims.parquet");
    write_frame(&orders, frame);
    write_claims(&claims_path, claims).unwrap();
    let ledger = folder.path().join("ledger");
    Month3 {
        orders,
        claims: claims_path,
        ledger,
        _folder: folder,
    }
}

fn settle(month: &Month3, extra: &[&str]) -> std::process::Output {
    run_command(MONTH, &month.orders, &month.claims, &month.ledger)
        .args(["--log-level", "error"])
        .args(extra)
        .output()
        .unwrap()
}

/// Settles a month whose second order row has `cell`; checks the row is rejected for
/// `reason` with `says` in its detail, and that the other two orders settled.
fn check_row(cell: Cell, reason: &str, says: &str) {
    let name = column_name(&cell);
    let month = month_with(orders_frame(Some(&cell)), &[]);

    let output = settle(&month, &[]);

    assert_eq!(output.status.code(), Some(3), "{name}: {}", stderr(&output));
    let version = month.ledger.join(MONTH).join("v1");
    let rejected = csv_rows(&version.join("rejected_rows.csv"));
    assert_eq!(rejected.len(), 1, "{name}: {rejected:?}");
    let row = &rejected[0];
    assert_eq!(
        (row["row"].as_str(), row["reason"].as_str()),
        ("2", reason),
        "{name}: {row:?}"
    );
    assert!(row["file"].ends_with("orders.parquet"), "{row:?}");
    assert!(
        row["detail"].contains(says),
        "{name}: {:?} lacks {says:?}",
        row["detail"]
    );
    let lines = support::parquet_rows(&version.join("order_lines.parquet"));
    let ids: Vec<&str> = lines.iter().map(|l| l["order_id"].as_str()).collect();
    assert_eq!(ids, ["O-1", "O-3"], "{name}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(version.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["rows"]["orders_read"], 3);
    assert_eq!(manifest["rows"]["orders_rejected"], 1);
}

#[test]
fn a_null_in_each_required_column_rejects_the_row() {
    for column in [
        "order_id",
        "request_id",
        "client_id",
        "lancer_id",
        "work_type",
    ] {
        check_row(Cell::Text(column, None), "missing_value", column);
    }
    check_row(
        Cell::Bool("lancer_certified", None),
        "missing_value",
        "lancer_certified",
    );
    for column in ["request_created_at", "ordered_at", "completed_at"] {
        check_row(Cell::Instant(column, None), "missing_value", column);
    }
    for column in ["amount_jpy", "reward_jpy"] {
        check_row(Cell::Yen(column, None), "missing_value", column);
    }
}

#[test]
fn amounts_that_are_not_positive_yen_reject_the_row() {
    check_row(
        Cell::Yen("amount_jpy", Some(0)),
        "non_positive_amount",
        "amount_jpy is 0",
    );
    check_row(
        Cell::Yen("amount_jpy", Some(-20_000)),
        "non_positive_amount",
        "-20000",
    );
    check_row(
        Cell::Yen("reward_jpy", Some(-1)),
        "negative_reward",
        "reward_jpy is -1",
    );
}

#[test]
fn unknown_work_types_and_unsafe_ids_reject_the_row() {
    check_row(
        Cell::Text("work_type", Some("Project_Fixed".into())),
        "unknown_work_type",
        "Project_Fixed",
    );
    check_row(
        Cell::Text("work_type", Some("project_fixed ".into())),
        "unknown_work_type",
        "project_fixed ",
    );
    check_row(
        Cell::Text("order_id", Some(String::new())),
        "invalid_id",
        "empty string",
    );
    check_row(
        Cell::Text("order_id", Some("x".repeat(129))),
        "invalid_id",
        "longer than 128",
    );
    check_row(
        Cell::Text("client_id", Some("c\n2".into())),
        "invalid_id",
        "control character",
    );
    check_row(
        Cell::Text("client_id", Some("c\u{0}2".into())),
        "invalid_id",
        "control character",
    );
    for formula in ["=1+2", "+81", "-5", "@SUM(A1)"] {
        check_row(
            Cell::Text("lancer_id", Some(formula.into())),
            "invalid_id",
            "formula",
        );
    }
}

#[test]
fn an_order_completed_before_it_was_placed_rejects_the_row() {
    let after_completion = december_day(25);
    check_row(
        Cell::Instant("ordered_at", Some(after_completion)),
        "timestamps_out_of_order",
        "after completed_at",
    );
}

#[test]
fn a_fractional_yen_rejects_the_row_and_a_zero_fraction_settles() {
    // 200.50 yen cannot be paid; 500.00 and 100.00 are whole.
    let cents = vec![50_000_i128 * 100, 20_050, 10_000 * 100];
    let amounts = Series::new("amount_jpy".into(), cents)
        .into_decimal(12, 2)
        .unwrap();
    let mut frame = orders_frame(None);
    frame.replace("amount_jpy", Column::from(amounts)).unwrap();
    let month = month_with(frame, &[]);

    let output = settle(&month, &[]);

    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let rejected = csv_rows(&month.ledger.join(MONTH).join("v1/rejected_rows.csv"));
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0]["reason"], "fractional_yen");
    assert!(
        rejected[0]["detail"].contains("200.50"),
        "{:?}",
        rejected[0]
    );
}

#[test]
fn every_copy_of_a_duplicated_order_id_is_rejected() {
    let month = month_with(
        orders_frame(Some(&Cell::Text("order_id", Some("O-1".into())))),
        &[],
    );
    let output = settle(&month, &[]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let rejected = csv_rows(&month.ledger.join(MONTH).join("v1/rejected_rows.csv"));
    let rows: Vec<(&str, &str)> = rejected
        .iter()
        .map(|r| (r["row"].as_str(), r["reason"].as_str()))
        .collect();
    assert_eq!(
        rows,
        [("1", "duplicate_order_id"), ("2", "duplicate_order_id")]
    );
}

fn claim(
    claim_id: &str,
    status: ClaimStatus,
    decided_day: Option<i64>,
    decision: Option<PayoutDecision>,
) -> Claim {
    Claim {
        claim_id: claim_id.into(),
        order_id: "O-2".into(),
        filed_at: december_day(12),
        status,
        decided_at: decided_day.map(december_day),
        payout_decision: decision,
    }
}

#[test]
fn a_rejected_claim_row_holds_its_order_instead_of_paying_it() {
    let bad_claims = [
        (
            claim("K-1", ClaimStatus::Approved, Some(14), None),
            "approved_without_decision",
        ),
        (
            claim("K-1", ClaimStatus::Rejected, Some(11), None),
            "decided_before_filed",
        ),
        (
            claim("K-1", ClaimStatus::Withdrawn, None, None),
            "decided_without_time",
        ),
        (
            claim("K-1", ClaimStatus::UnderReview, Some(14), None),
            "decision_time_while_under_review",
        ),
        (
            claim(
                "K-1",
                ClaimStatus::Rejected,
                Some(14),
                Some(PayoutDecision::Forfeit),
            ),
            "decision_conflicts_with_status",
        ),
    ];
    for (bad, reason) in bad_claims {
        let month = month_with(orders_frame(None), &[bad]);
        let output = settle(&month, &[]);
        assert_eq!(
            output.status.code(),
            Some(3),
            "{reason}: {}",
            stderr(&output)
        );
        let version = month.ledger.join(MONTH).join("v1");
        let rejected = csv_rows(&version.join("rejected_rows.csv"));
        assert_eq!(rejected.len(), 1, "{reason}: {rejected:?}");
        assert_eq!(rejected[0]["reason"], reason);
        assert!(rejected[0]["file"].ends_with("claims.parquet"));
        assert_eq!(rejected[0]["order_id"], "O-2");
        let lines = support::parquet_rows(&version.join("order_lines.parquet"));
        let held: Vec<&str> = lines
            .iter()
            .filter(|l| l["payout_status"] == "held")
            .map(|l| l["order_id"].as_str())
            .collect();
        assert_eq!(held, ["O-2"], "{reason}");
    }
}

#[test]
fn every_copy_of_a_duplicated_claim_id_is_rejected() {
    let decided = claim("K-1", ClaimStatus::Rejected, Some(14), None);
    let month = month_with(orders_frame(None), &[decided.clone(), decided]);
    let output = settle(&month, &[]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let rejected = csv_rows(&month.ledger.join(MONTH).join("v1/rejected_rows.csv"));
    assert_eq!(rejected.len(), 2);
    assert!(rejected.iter().all(|r| r["reason"] == "duplicate_claim_id"));
}

#[test]
fn strict_mode_publishes_nothing_when_a_row_is_rejected() {
    let month = month_with(orders_frame(Some(&Cell::Yen("amount_jpy", Some(0)))), &[]);
    let output = settle(&month, &["--strict"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("--strict"), "{}", stderr(&output));
    assert!(versions(&month.ledger, MONTH).is_empty());
}

#[test]
fn amounts_whose_total_overflows_stop_the_run() {
    let huge = i64::MAX / 2 + 1;
    let mut frame = orders_frame(None);
    frame
        .replace(
            "amount_jpy",
            Column::new("amount_jpy".into(), vec![huge, huge, 10_000]),
        )
        .unwrap();
    let month = month_with(frame, &[]);
    let output = settle(&month, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(text.contains("overflows"), "{text}");
    assert!(
        text.contains("the month's totals, adding order O-2"),
        "{text}"
    );
    assert!(versions(&month.ledger, MONTH).is_empty());

    // One client's two orders: the message names the client.
    let mut frame = orders_frame(None);
    for (name, values) in [
        ("amount_jpy", vec![huge, huge, 10_000]),
        ("reward_jpy", vec![10, 10, 8_000]),
    ] {
        frame
            .replace(name, Column::new(name.into(), values))
            .unwrap();
    }
    frame
        .replace(
            "client_id",
            Column::new("client_id".into(), vec!["c-1", "c-1", "c-3"]),
        )
        .unwrap();
    let month = month_with(frame, &[]);
    let output = settle(&month, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(text.contains("client c-1, adding order O-2"), "{text}");
    assert!(versions(&month.ledger, MONTH).is_empty());
}

/// A file-level problem: exit 1, the message names the file and says `says`, nothing published.
fn check_file(frame_or_bytes: Result<DataFrame, Vec<u8>>, says: &str) {
    let month = month_with(orders_frame(None), &[]);
    match frame_or_bytes {
        Ok(frame) => write_frame(&month.orders, frame),
        Err(bytes) => std::fs::write(&month.orders, bytes).unwrap(),
    }
    let output = settle(&month, &[]);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{says}: {text}");
    assert!(
        text.contains(&month.orders.display().to_string()),
        "{says}: {text}"
    );
    assert!(text.contains(says), "{says}: {text}");
    assert!(!text.contains("panicked"), "{text}");
    assert!(versions(&month.ledger, MONTH).is_empty());
}

#[test]
fn a_column_of_the_wrong_kind_stops_the_run_naming_it() {
    let mut float_amounts = orders_frame(None);
    float_amounts
        .replace(
            "amount_jpy",
            Column::new("amount_jpy".into(), vec![50_000.0f64, 1.5, 3.0]),
        )
        .unwrap();
    check_file(Ok(float_amounts), "column amount_jpy should hold whole yen");

    let mut text_times = orders_frame(None);
    text_times
        .replace(
            "completed_at",
            Column::new("completed_at".into(), vec!["2015-12-10"; 3]),
        )
        .unwrap();
    check_file(Ok(text_times), "column completed_at should hold timestamps");

    let mut integer_times = orders_frame(None);
    integer_times
        .replace(
            "ordered_at",
            Column::new("ordered_at".into(), vec![1i64, 2, 3]),
        )
        .unwrap();
    check_file(
        Ok(integer_times),
        "column ordered_at should hold timestamps",
    );

    let mut numeric_flags = orders_frame(None);
    numeric_flags
        .replace(
            "lancer_certified",
            Column::new("lancer_certified".into(), vec![1i32, 0, 1]),
        )
        .unwrap();
    check_file(
        Ok(numeric_flags),
        "column lancer_certified should hold true/false values",
    );
}

#[test]
fn an_empty_truncated_or_foreign_file_stops_the_run_naming_it() {
    check_file(Err(Vec::new()), "is not a readable Parquet file");
    check_file(
        Err(b"order_id,amount_jpy\nO-1,5\n".to_vec()),
        "is not a readable Parquet file",
    );
    let folder = tempfile::tempdir().unwrap();
    let good = folder.path().join("good.parquet");
    write_frame(&good, orders_frame(None));
    let bytes = std::fs::read(&good).unwrap();
    check_file(
        Err(bytes[..bytes.len() - 100].to_vec()),
        "is not a readable Parquet file",
    );
    let mut middle_cut = bytes[..bytes.len() / 2].to_vec();
    middle_cut.extend_from_slice(&bytes[bytes.len() / 2 + 50..]);
    check_file(Err(middle_cut), "orders file");
}

#[test]
fn a_file_with_no_rows_settles_an_empty_month() {
    let month = month_with(orders_frame(None).slice(0, 0), &[]);
    let output = settle(&month, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("0 orders settled"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_register_whose_decision_columns_are_all_empty_is_read() {
    // pyarrow types a column with no value at all as `null`.
    let claims = DataFrame::new(
        1,
        vec![
            Column::new("claim_id".into(), ["K-1"]),
            Column::new("order_id".into(), ["O-2"]),
            Column::from(
                Series::new("filed_at".into(), [december_day(12) / 1_000]).into_datetime(
                    TimeUnit::Microseconds,
                    TimeZone::opt_try_new(Some("UTC")).unwrap(),
                ),
            ),
            Column::new("status".into(), ["under_review"]),
            Column::full_null("decided_at".into(), 1, &polars::prelude::DataType::Null),
            Column::full_null(
                "payout_decision".into(),
                1,
                &polars::prelude::DataType::Null,
            ),
        ],
    )
    .unwrap();
    let month = month_with(orders_frame(None), &[]);
    write_frame(&month.claims, claims);

    let output = settle(&month, &[]);

    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let lines = support::parquet_rows(&month.ledger.join(MONTH).join("v1/order_lines.parquet"));
    assert_eq!(lines[1]["payout_status"], "held");
}

#[test]
fn rows_of_an_earlier_month_are_counted_and_warned_about() {
    let november = MONTH.parse::<Month>().unwrap().start_ns() - 24 * NS_PER_HOUR;
    let month = month_with(
        orders_frame(Some(&Cell::Instant("completed_at", Some(november)))),
        &[],
    );

    let output = settle(&month, &[]);

    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output)
            .contains("1 order rows completed before this month (O-2 completed 2015-11-30"),
        "{}",
        stderr(&output)
    );
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(month.ledger.join(MONTH).join("v1/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["rows"]["orders_out_of_month"], 1);
    assert!(manifest["warnings"][0]
        .as_str()
        .unwrap()
        .contains("correct that month"));
}

/// A page whose bytes no longer match the checksum its writer stored is damage, even where the
/// bytes still decode: here order id O-2 has become O-9, which would otherwise be settled as an
/// order nobody placed. The file comes from pyarrow (tests/fixtures/make_page_checksums.py),
/// since neither writer of this project stores page checksums.
#[test]
fn a_page_whose_checksum_does_not_match_stops_the_run() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/orders-page-checksums.parquet");
    let bytes = std::fs::read(&fixture).unwrap();

    let month = month_with(orders_frame(None), &[]);
    std::fs::write(&month.orders, &bytes).unwrap();
    let output = settle(&month, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let lines = month.ledger.join(MONTH).join("v1/manifest.json");
    assert!(std::fs::read_to_string(lines)
        .unwrap()
        .contains("\"order_lines\": 3"));

    let at = bytes
        .windows(3)
        .position(|window| window == b"O-2")
        .expect("the fixture stores O-2 once, plainly");
    let mut damaged = bytes.clone();
    damaged[at + 2] = b'9';
    check_file(Err(damaged), "checksum");
}

/// The Arrow schema a writer embeds in the footer is a hint that no checksum protects; where it
/// contradicts the Parquet schema, the Parquet schema decides. A `completed_at` the Arrow schema
/// calls zone-less is still the instant the Parquet schema says it is, and settles as the same
/// month; a `reward_jpy` it calls null (polars would read every value as missing) is damage.
#[test]
fn the_parquet_schema_decides_over_a_contradicting_arrow_schema() {
    let fixture = |name: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    };
    let settled_lines = |orders: &Path| {
        let month = month_with(orders_frame(None), &[]);
        std::fs::copy(orders, &month.orders).unwrap();
        let output = settle(&month, &[]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        std::fs::read(month.ledger.join(MONTH).join("v1/order_lines.parquet")).unwrap()
    };
    assert_eq!(
        settled_lines(&fixture("orders-arrow-schema-naive-completed.parquet")),
        settled_lines(&fixture("orders-page-checksums.parquet")),
    );

    let bytes = std::fs::read(fixture("orders-arrow-schema-null-reward.parquet")).unwrap();
    check_file(Err(bytes), "column reward_jpy holds no values");

    // Plain integers, which only the Arrow schema calls timestamps: no unit or zone to trust.
    let bytes = std::fs::read(fixture("orders-arrow-schema-int64-completed.parquet")).unwrap();
    check_file(
        Err(bytes),
        "only the Arrow schema in the footer calls timestamps",
    );
}
