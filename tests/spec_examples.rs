//! Every worked example of SPEC.md as a named test of the rules, under the default policy.
//!
//! Each test states an order (or a claim history) the way the SPEC tells it and checks the
//! outcome through one helper, so the examples read as the specification and survive changes
//! to how the rules are written.

use chrono::DateTime;
use settle::calendar::Month;
use settle::model::{Claim, ClaimStatus, CoverageReason, Order, PayoutDecision, WorkType};
use settle::policy::{Policy, Rounding, Rules};
use settle::rules::{self, ClaimState};

fn jst(text: &str) -> i64 {
    let with_offset = format!("{text}+09:00");
    DateTime::parse_from_rfc3339(&with_offset)
        .unwrap()
        .timestamp_nanos_opt()
        .unwrap()
}

fn rules_with(rounding: Rounding) -> Rules {
    Policy {
        rounding,
        ..Policy::default()
    }
    .rules()
    .unwrap()
}

fn default_rules() -> Rules {
    Policy::default().rules().unwrap()
}

/// A certified fixed-price order, requested and placed at `ordered`, completed a week later.
fn order(amount_jpy: i64, requested: &str, ordered: &str) -> Order {
    Order {
        order_id: "O-1".into(),
        request_id: "R-1".into(),
        client_id: "c-1".into(),
        lancer_id: "l-1".into(),
        work_type: WorkType::ProjectFixed,
        lancer_certified: true,
        request_created_at: jst(requested),
        ordered_at: jst(ordered),
        completed_at: jst(ordered) + 7 * 24 * 3600 * 1_000_000_000,
        amount_jpy,
        reward_jpy: amount_jpy - amount_jpy / 5,
    }
}

/// Checks an order's reason, surcharge and rebate under `rules`.
fn check(
    rules: &Rules,
    order: &Order,
    reason: CoverageReason,
    surcharge_jpy: i64,
    rebate_jpy: i64,
) {
    let pricing = rules::price(order, rules).unwrap();
    assert_eq!(
        (pricing.reason, pricing.surcharge_jpy, pricing.rebate_jpy),
        (reason, surcharge_jpy, rebate_jpy),
        "order {order:?}"
    );
    assert_eq!(pricing.payout_jpy, order.reward_jpy + rebate_jpy);
}

#[test]
fn requested_and_ordered_at_15_00_on_october_7_is_covered() {
    let order = order(50_000, "2015-10-07T15:00:00", "2015-10-07T15:00:00");
    check(&default_rules(), &order, CoverageReason::Covered, 0, 150);
}

#[test]
fn requested_and_ordered_at_13_00_on_october_7_is_not_covered() {
    let order = order(50_000, "2015-10-07T13:00:00", "2015-10-07T13:00:00");
    check(
        &default_rules(),
        &order,
        CoverageReason::RequestedBeforeStart,
        0,
        0,
    );
}

#[test]
fn requested_at_13_00_and_ordered_on_october_8_is_not_covered() {
    let order = order(50_000, "2015-10-07T13:00:00", "2015-10-08T10:00:00");
    check(
        &default_rules(),
        &order,
        CoverageReason::RequestedBeforeStart,
        0,
        0,
    );
}

#[test]
fn a_milestone_added_on_october_8_to_a_request_of_13_00_is_not_covered() {
    let mut milestone = order(30_000, "2015-10-07T13:00:00", "2015-10-08T11:00:00");
    milestone.order_id = "O-2".into();
    check(
        &default_rules(),
        &milestone,
        CoverageReason::RequestedBeforeStart,
        0,
        0,
    );
}

#[test]
fn the_service_starts_at_14_00_inclusive() {
    let at_start = order(20_000, "2015-10-07T14:00:00", "2015-10-07T14:00:00");
    check(&default_rules(), &at_start, CoverageReason::Covered, 0, 60);
    let just_before = order(
        20_000,
        "2015-10-07T13:59:59.999999999",
        "2015-10-07T14:00:00",
    );
    check(
        &default_rules(),
        &just_before,
        CoverageReason::RequestedBeforeStart,
        0,
        0,
    );
}

#[test]
fn an_order_placed_before_the_start_on_a_request_created_after_it_is_ordered_before_start() {
    let order = order(20_000, "2015-10-07T14:00:00", "2015-10-07T13:59:59");
    check(
        &default_rules(),
        &order,
        CoverageReason::OrderedBeforeStart,
        0,
        0,
    );
}

#[test]
fn hourly_competition_and_task_work_is_not_covered() {
    for work_type in [
        WorkType::ProjectHourly,
        WorkType::Competition,
        WorkType::Task,
    ] {
        let order = Order {
            work_type,
            ..order(50_000, "2015-12-01T10:00:00", "2015-12-02T10:00:00")
        };
        check(
            &default_rules(),
            &order,
            CoverageReason::NotFixedPrice,
            0,
            0,
        );
    }
}

#[test]
fn an_uncertified_lancer_is_not_covered() {
    let order = Order {
        lancer_certified: false,
        ..order(50_000, "2015-12-01T10:00:00", "2015-12-02T10:00:00")
    };
    check(
        &default_rules(),
        &order,
        CoverageReason::LancerNotCertified,
        0,
        0,
    );
}

#[test]
fn the_first_failing_rule_names_the_reason() {
    let order = Order {
        work_type: WorkType::Task,
        lancer_certified: false,
        ..order(50_000, "2015-01-01T00:00:00", "2015-01-02T00:00:00")
    };
    check(
        &default_rules(),
        &order,
        CoverageReason::NotFixedPrice,
        0,
        0,
    );
}

#[test]
fn orders_placed_from_2018_are_not_covered_and_the_last_second_of_2017_is() {
    let last = order(88_000, "2017-12-01T00:00:00", "2017-12-31T23:59:59");
    check(&default_rules(), &last, CoverageReason::Covered, 1_760, 264);
    let first_of_2018 = order(88_000, "2017-12-01T00:00:00", "2018-01-01T00:00:00");
    check(
        &default_rules(),
        &first_of_2018,
        CoverageReason::OrderedAfterEnd,
        0,
        0,
    );
}

#[test]
fn an_order_placed_in_2017_and_completed_in_2018_is_still_covered() {
    let mut order = order(88_000, "2017-12-01T00:00:00", "2017-12-31T23:59:59");
    order.completed_at = jst("2018-01-03T00:00:00");
    check(
        &default_rules(),
        &order,
        CoverageReason::Covered,
        1_760,
        264,
    );
    assert!("2018-01"
        .parse::<Month>()
        .unwrap()
        .contains(order.completed_at));
}

#[test]
fn a_50000_yen_logo_ordered_in_december_2015_pays_a_1000_yen_surcharge() {
    let logo = order(50_000, "2015-12-10T10:00:00", "2015-12-10T12:00:00");
    check(&default_rules(), &logo, CoverageReason::Covered, 1_000, 150);
}

#[test]
fn the_surcharge_is_free_for_orders_placed_until_the_end_of_november() {
    let last_free = order(100_000, "2015-11-20T00:00:00", "2015-11-30T23:59:59");
    check(
        &default_rules(),
        &last_free,
        CoverageReason::Covered,
        0,
        300,
    );
    let first_charged = order(100_000, "2015-11-20T00:00:00", "2015-12-01T00:00:00");
    check(
        &default_rules(),
        &first_charged,
        CoverageReason::Covered,
        2_000,
        300,
    );
}

#[test]
fn an_order_placed_on_november_30_and_completed_in_december_pays_no_surcharge() {
    let mut order = order(100_000, "2015-11-20T00:00:00", "2015-11-30T12:00:00");
    order.completed_at = jst("2015-12-05T12:00:00");
    check(&default_rules(), &order, CoverageReason::Covered, 0, 300);
    assert!("2015-12"
        .parse::<Month>()
        .unwrap()
        .contains(order.completed_at));
}

#[test]
fn the_rebate_accrues_in_the_free_window() {
    let october = order(50_000, "2015-10-08T00:00:00", "2015-10-08T00:00:00");
    check(&default_rules(), &october, CoverageReason::Covered, 0, 150);
}

#[test]
fn rebate_examples_of_section_5() {
    let december = |amount_jpy| order(amount_jpy, "2015-12-10T10:00:00", "2015-12-10T12:00:00");
    // (amount, surcharge, rebate): 30 yen is below the floor; 349.5 is rounded down.
    let table = [
        (50_000, 1_000, 150),
        (10_000, 200, 50),
        (16_666, 333, 50),
        (116_500, 2_330, 349),
    ];
    for (amount_jpy, surcharge_jpy, rebate_jpy) in table {
        check(
            &default_rules(),
            &december(amount_jpy),
            CoverageReason::Covered,
            surcharge_jpy,
            rebate_jpy,
        );
    }
}

#[test]
fn every_rounding_mode_rounds_as_named() {
    // (amount, rate, mode, expected): 116,500 × 0.3% = 349.5 and 16,667 × 2% = 333.34.
    let rate = rust_decimal::Decimal::new(3, 3);
    let table = [
        (116_500, rate, Rounding::Down, 349),
        (116_500, rate, Rounding::HalfUp, 350),
        (116_500, rate, Rounding::HalfEven, 350),
        (116_500, rate, Rounding::Up, 350),
        (115_500, rate, Rounding::HalfEven, 346),
        (115_500, rate, Rounding::HalfUp, 347),
        (16_667, rust_decimal::Decimal::new(2, 2), Rounding::Up, 334),
        (
            16_667,
            rust_decimal::Decimal::new(2, 2),
            Rounding::HalfUp,
            333,
        ),
    ];
    for (amount_jpy, rate, rounding, expected) in table {
        let actual = rules::apply_rate(amount_jpy, rate, rounding).unwrap();
        assert_eq!(
            actual, expected,
            "{amount_jpy} × {rate} rounded {rounding:?}"
        );
    }
}

#[test]
fn the_floor_applies_after_rounding_whatever_the_mode() {
    let order = order(16_666, "2015-12-10T10:00:00", "2015-12-10T12:00:00");
    for rounding in [
        Rounding::Down,
        Rounding::HalfUp,
        Rounding::HalfEven,
        Rounding::Up,
    ] {
        let pricing = rules::price(&order, &rules_with(rounding)).unwrap();
        assert_eq!(pricing.rebate_jpy, 50, "{rounding:?}");
    }
}

#[test]
fn the_largest_amount_prices_without_overflow() {
    let order = order(i64::MAX / 2, "2015-12-10T10:00:00", "2015-12-10T12:00:00");
    let pricing = rules::price(&order, &default_rules()).unwrap();
    assert_eq!(pricing.surcharge_jpy, (i64::MAX / 2) / 50);
}

fn claim(
    id: &str,
    filed: &str,
    status: ClaimStatus,
    decided: Option<&str>,
    decision: Option<PayoutDecision>,
) -> Claim {
    Claim {
        claim_id: id.into(),
        order_id: "O-1".into(),
        filed_at: jst(filed),
        status,
        decided_at: decided.map(jst),
        payout_decision: decision,
    }
}

/// Checks an order's claim state as of `month`'s cutoff.
fn check_claims(month: &str, claims: &[Claim], expected: ClaimState) {
    let cutoff_ns = month.parse::<Month>().unwrap().cutoff_ns();
    assert_eq!(
        rules::claim_state(claims, cutoff_ns),
        expected,
        "{month}: {claims:?}"
    );
}

#[test]
fn an_order_without_claims_is_paid() {
    check_claims("2015-12", &[], ClaimState::None);
    assert_eq!(
        rules::payout_status(ClaimState::None),
        settle::model::PayoutStatus::Paid
    );
}

#[test]
fn a_claim_filed_after_the_cutoff_does_not_exist_yet() {
    let claim = claim(
        "K-1",
        "2016-01-01T00:00:00",
        ClaimStatus::UnderReview,
        None,
        None,
    );
    check_claims("2015-12", std::slice::from_ref(&claim), ClaimState::None);
    check_claims("2016-01", &[claim], ClaimState::UnderReview);
}

#[test]
fn a_claim_decided_after_the_cutoff_is_still_under_review_for_that_month() {
    let decided_in_january = claim(
        "K-1",
        "2015-12-10T00:00:00",
        ClaimStatus::Approved,
        Some("2016-01-01T00:00:00"),
        Some(PayoutDecision::Forfeit),
    );
    check_claims(
        "2015-12",
        std::slice::from_ref(&decided_in_january),
        ClaimState::UnderReview,
    );
    check_claims("2016-01", &[decided_in_january], ClaimState::Forfeit);
}

#[test]
fn rejected_and_withdrawn_claims_release_the_payout() {
    for status in [ClaimStatus::Rejected, ClaimStatus::Withdrawn] {
        let claim = claim(
            "K-1",
            "2015-12-01T00:00:00",
            status,
            Some("2015-12-02T00:00:00"),
            None,
        );
        check_claims("2015-12", &[claim], ClaimState::Release);
    }
    let approved_release = claim(
        "K-1",
        "2015-12-01T00:00:00",
        ClaimStatus::Approved,
        Some("2015-12-02T00:00:00"),
        Some(PayoutDecision::Release),
    );
    check_claims("2015-12", &[approved_release], ClaimState::Release);
}

#[test]
fn under_review_wins_over_forfeit_and_forfeit_over_release() {
    let rejected = claim(
        "K-a",
        "2015-12-01T00:00:00",
        ClaimStatus::Rejected,
        Some("2015-12-02T00:00:00"),
        None,
    );
    let forfeit = claim(
        "K-b",
        "2015-12-01T00:00:00",
        ClaimStatus::Approved,
        Some("2015-12-03T00:00:00"),
        Some(PayoutDecision::Forfeit),
    );
    let open = claim(
        "K-c",
        "2015-12-04T00:00:00",
        ClaimStatus::UnderReview,
        None,
        None,
    );
    check_claims(
        "2015-12",
        &[rejected.clone(), forfeit.clone()],
        ClaimState::Forfeit,
    );
    check_claims(
        "2015-12",
        &[rejected, forfeit, open],
        ClaimState::UnderReview,
    );
}
