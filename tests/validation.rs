//! Row validation: every rejection reason of SPEC §7 from a raw row, and the accounting that
//! puts every row in exactly one place.

use settle::calendar::Month;
use settle::input::rows::RowOrigin;
use settle::input::{Field, RawClaim, RawOrder};
use settle::model::RejectReason;
use settle::validate::{orders_named_by_rejected_claims, validate_claims, validate_orders};

const NS_PER_HOUR: i64 = 3_600_000_000_000;
/// 2015-12-10 12:00 JST.
const DECEMBER_10: i64 = 1_449_716_400_000_000_000;

fn december() -> Month {
    "2015-12".parse().unwrap()
}

fn raw_order(row: u64, order_id: &str) -> RawOrder {
    RawOrder {
        origin: RowOrigin { file_index: 0, row },
        order_id: Some(order_id.into()),
        request_id: Some("R-1".into()),
        client_id: Some("c-1".into()),
        lancer_id: Some("l-1".into()),
        work_type: Some("project_fixed".into()),
        lancer_certified: Some(true),
        request_created_at: Field::Value(DECEMBER_10 - 48 * NS_PER_HOUR),
        ordered_at: Field::Value(DECEMBER_10 - 24 * NS_PER_HOUR),
        completed_at: Field::Value(DECEMBER_10),
        amount_jpy: Field::Value(50_000),
        reward_jpy: Field::Value(40_000),
    }
}

fn raw_claim(row: u64, claim_id: &str) -> RawClaim {
    RawClaim {
        origin: RowOrigin { file_index: 1, row },
        claim_id: Some(claim_id.into()),
        order_id: Some("O-1".into()),
        filed_at: Field::Value(DECEMBER_10),
        status: Some("under_review".into()),
        decided_at: Field::Missing,
        payout_decision: None,
    }
}

/// Checks that one altered order row is rejected for `reason` with a detail containing `says`.
fn check_order(alter: impl FnOnce(&mut RawOrder), reason: RejectReason, says: &str) {
    let mut raw = raw_order(1, "O-1");
    alter(&mut raw);
    let intake = validate_orders(&[raw], december(), |_| None);
    assert!(intake.orders.is_empty(), "{reason}: the row was accepted");
    assert_eq!(intake.rejected.len(), 1);
    let rejection = &intake.rejected[0];
    assert_eq!(rejection.reason, reason, "{}", rejection.detail);
    assert!(
        rejection.detail.contains(says),
        "{reason}: {:?} lacks {says:?}",
        rejection.detail
    );
}

fn check_claim(alter: impl FnOnce(&mut RawClaim), reason: RejectReason, says: &str) {
    let mut raw = raw_claim(1, "K-1");
    alter(&mut raw);
    let intake = validate_claims(&[raw]);
    assert!(intake.claims.is_empty(), "{reason}: the claim was accepted");
    let rejection = &intake.rejected[0];
    assert_eq!(rejection.reason, reason, "{}", rejection.detail);
    assert!(
        rejection.detail.contains(says),
        "{reason}: {:?} lacks {says:?}",
        rejection.detail
    );
    assert_eq!(rejection.order_id.as_deref(), Some("O-1"));
}

#[test]
fn a_valid_row_becomes_an_order() {
    let intake = validate_orders(&[raw_order(1, "O-1")], december(), |_| None);
    assert_eq!(intake.orders.len(), 1);
    assert_eq!(intake.orders[0].amount_jpy, 50_000);
}

#[test]
fn a_null_in_a_required_column_is_rejected_naming_the_column() {
    check_order(
        |r| r.client_id = None,
        RejectReason::MissingValue,
        "client_id",
    );
    check_order(
        |r| r.lancer_certified = None,
        RejectReason::MissingValue,
        "lancer_certified",
    );
    check_order(
        |r| r.ordered_at = Field::Missing,
        RejectReason::MissingValue,
        "ordered_at",
    );
    check_order(
        |r| r.completed_at = Field::Missing,
        RejectReason::MissingValue,
        "completed_at",
    );
    check_order(
        |r| r.reward_jpy = Field::Missing,
        RejectReason::MissingValue,
        "reward_jpy",
    );
}

#[test]
fn amounts_must_be_positive_and_rewards_not_negative() {
    check_order(
        |r| r.amount_jpy = Field::Value(0),
        RejectReason::NonPositiveAmount,
        "is 0",
    );
    check_order(
        |r| r.amount_jpy = Field::Value(-5),
        RejectReason::NonPositiveAmount,
        "-5",
    );
    check_order(
        |r| r.reward_jpy = Field::Value(-1),
        RejectReason::NegativeReward,
        "-1",
    );
    let mut free = raw_order(1, "O-1");
    free.reward_jpy = Field::Value(0);
    assert_eq!(
        validate_orders(&[free], december(), |_| None).orders.len(),
        1
    );
}

#[test]
fn a_value_the_reader_could_not_represent_keeps_its_reason() {
    let fractional = Field::Invalid(RejectReason::FractionalYen, "amount_jpy 10.5".into());
    check_order(
        |r| r.amount_jpy = fractional,
        RejectReason::FractionalYen,
        "10.5",
    );
}

#[test]
fn unknown_work_types_are_rejected_with_the_known_ones_listed() {
    check_order(
        |r| r.work_type = Some("Project_Fixed".into()),
        RejectReason::UnknownWorkType,
        "not one of project_fixed, project_hourly, competition, task",
    );
}

#[test]
fn an_order_completed_before_it_was_placed_is_rejected() {
    check_order(
        |r| r.ordered_at = Field::Value(DECEMBER_10 + NS_PER_HOUR),
        RejectReason::TimestampsOutOfOrder,
        "ordered_at 2015-12-10T13:00:00+09:00 is after completed_at",
    );
}

#[test]
fn ids_must_be_safe_to_show_in_a_spreadsheet() {
    let long = "x".repeat(129);
    let table: [(&str, &str); 7] = [
        ("", "empty string"),
        ("   ", "blank"),
        (&long, "longer than 128"),
        ("O\u{7}1", "control character"),
        ("=1+1", "formula"),
        ("@SUM(A1)", "formula"),
        ("-1", "formula"),
    ];
    for (order_id, says) in table {
        check_order(
            |r| r.order_id = Some(order_id.into()),
            RejectReason::InvalidId,
            says,
        );
    }
    check_order(
        |r| r.lancer_id = Some("+81".into()),
        RejectReason::InvalidId,
        "lancer_id",
    );
}

/// Ids that read the same must be the same id, or one order could be paid twice under two
/// spellings: white space at either end, invisible characters and spellings other than NFC are
/// rejected, the row shown in rejected_rows.csv for someone to fix.
#[test]
fn ids_that_read_alike_but_differ_are_rejected() {
    let table = [
        ("O-1 ", "white space"),
        (" O-1", "white space"),
        ("O-1\u{A0}", "white space"),
        ("O-1\u{3000}", "white space"),
        ("O-1\u{200B}", "U+200B"),
        ("\u{200B}", "U+200B"),
        ("\u{FEFF}O-1", "U+FEFF"),
        ("\u{202E}O-1", "U+202E"),
        ("O\u{301}-1", "normal form C"),
        ("O-\u{A0}1", "U+00A0"),
        ("O-\u{3000}1", "U+3000"),
        ("O-1\u{2800}", "U+2800"),
        ("O-1\u{1BCA0}", "U+1BCA0"),
        ("O-1\u{13430}", "U+13430"),
        ("O-1\u{0600}", "U+0600"),
    ];
    for (order_id, says) in table {
        check_order(
            |r| r.order_id = Some(order_id.into()),
            RejectReason::InvalidId,
            says,
        );
    }
    for order_id in ["\u{D3}-1", "注文-1", "O 1"] {
        let intake = validate_orders(&[raw_order(1, order_id)], december(), |_| None);
        assert_eq!(
            intake.orders.len(),
            1,
            "{order_id:?}: {:?}",
            intake.rejected
        );
    }
}

/// A claim row whose order id is padded is rejected, and the order it most likely means is
/// held with the order named as written: a hold can be released next month, a payout cannot
/// be taken back.
#[test]
fn a_rejected_claim_on_a_padded_id_holds_the_order_it_means() {
    let mut claim = raw_claim(1, "K-1");
    claim.order_id = Some("O-1\u{200B} ".into());
    let intake = validate_claims(&[claim]);
    assert_eq!(intake.rejected.len(), 1);
    assert_eq!(intake.rejected[0].reason, RejectReason::InvalidId);
    let held = orders_named_by_rejected_claims(&intake);
    assert!(held.contains("O-1"), "{held:?}");
    assert!(held.contains("O-1\u{200B} "), "{held:?}");

    for (written, meant) in [("O-1\u{0}", "O-1"), ("O\t-1", "O-1"), ("O-\u{A0}1", "O- 1")] {
        let mut claim = raw_claim(1, "K-1");
        claim.order_id = Some(written.into());
        let held = orders_named_by_rejected_claims(&validate_claims(&[claim]));
        assert!(held.contains(meant), "{written:?}: {held:?}");
    }
}

#[test]
fn every_copy_of_a_duplicated_order_id_is_rejected() {
    let rows = [
        raw_order(1, "O-1"),
        raw_order(2, "O-2"),
        raw_order(3, "O-1"),
    ];
    let intake = validate_orders(&rows, december(), |_| None);
    assert_eq!(intake.orders.len(), 1);
    let rejected: Vec<(u64, RejectReason)> = intake
        .rejected
        .iter()
        .map(|r| (r.origin.row, r.reason))
        .collect();
    assert_eq!(
        rejected,
        [
            (1, RejectReason::DuplicateOrderId),
            (3, RejectReason::DuplicateOrderId)
        ]
    );
    assert!(intake.rejected[0].detail.contains("appears 2 times"));
}

#[test]
fn an_order_settled_in_an_earlier_month_is_rejected_naming_where() {
    let settled = |order_id: &str| (order_id == "O-1").then(|| "2015-11 v2".to_string());
    let intake = validate_orders(
        &[raw_order(1, "O-1"), raw_order(2, "O-2")],
        december(),
        settled,
    );
    assert_eq!(intake.orders.len(), 1);
    assert_eq!(intake.rejected[0].reason, RejectReason::AlreadySettled);
    assert!(intake.rejected[0].detail.contains("2015-11 v2"));
}

#[test]
fn rows_of_other_months_are_counted_not_rejected() {
    let mut november = raw_order(1, "O-1");
    november.completed_at = Field::Value(DECEMBER_10 - 20 * 24 * NS_PER_HOUR);
    let mut bad_november = raw_order(2, "O-2");
    bad_november.completed_at = november.completed_at.clone();
    bad_november.amount_jpy = Field::Value(-1);
    let intake = validate_orders(
        &[november, bad_november, raw_order(3, "O-3")],
        december(),
        |_| None,
    );
    assert_eq!(
        (
            intake.orders.len(),
            intake.out_of_month_rows,
            intake.rejected.len()
        ),
        (1, 2, 0)
    );
}

#[test]
fn the_first_instant_of_the_next_month_belongs_to_it() {
    let mut at_cutoff = raw_order(1, "O-1");
    at_cutoff.completed_at = Field::Value(december().cutoff_ns());
    let mut last_instant = raw_order(2, "O-2");
    last_instant.completed_at = Field::Value(december().cutoff_ns() - 1);
    let intake = validate_orders(&[at_cutoff, last_instant], december(), |_| None);
    assert_eq!(intake.out_of_month_rows, 1);
    assert_eq!(intake.orders[0].order_id, "O-2");
}

#[test]
fn claim_rows_break_no_rule_of_section_7() {
    check_claim(
        |c| c.status = Some("pending".into()),
        RejectReason::UnknownClaimStatus,
        "pending",
    );
    check_claim(
        |c| {
            c.status = Some("approved".into());
            c.decided_at = Field::Value(DECEMBER_10 + NS_PER_HOUR);
            c.payout_decision = Some("keep".into());
        },
        RejectReason::UnknownPayoutDecision,
        "keep",
    );
    check_claim(
        |c| {
            c.status = Some("rejected".into());
            c.decided_at = Field::Value(DECEMBER_10 - NS_PER_HOUR);
        },
        RejectReason::DecidedBeforeFiled,
        "before it was filed",
    );
    check_claim(
        |c| {
            c.status = Some("approved".into());
            c.decided_at = Field::Value(DECEMBER_10 + NS_PER_HOUR);
        },
        RejectReason::ApprovedWithoutDecision,
        "payout_decision is empty",
    );
    check_claim(
        |c| c.status = Some("withdrawn".into()),
        RejectReason::DecidedWithoutTime,
        "empty",
    );
    check_claim(
        |c| c.decided_at = Field::Value(DECEMBER_10 + NS_PER_HOUR),
        RejectReason::DecisionTimeWhileUnderReview,
        "under review",
    );
    check_claim(
        |c| {
            c.status = Some("rejected".into());
            c.decided_at = Field::Value(DECEMBER_10 + NS_PER_HOUR);
            c.payout_decision = Some("forfeit".into());
        },
        RejectReason::DecisionConflictsWithStatus,
        "forfeit",
    );
    check_claim(
        |c| c.filed_at = Field::Missing,
        RejectReason::MissingValue,
        "filed_at",
    );
}

#[test]
fn every_copy_of_a_duplicated_claim_id_is_rejected() {
    let intake = validate_claims(&[
        raw_claim(1, "K-1"),
        raw_claim(2, "K-1"),
        raw_claim(3, "K-2"),
    ]);
    assert_eq!(intake.claims.len(), 1);
    assert!(intake
        .rejected
        .iter()
        .all(|r| r.reason == RejectReason::DuplicateClaimId));
    assert_eq!(intake.rejected.len(), 2);
}
