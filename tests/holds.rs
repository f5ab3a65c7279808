//! Withholding across months (SPEC §6): holds open, stay open, are released or forfeited, and
//! every month's books tie. These call the pure settlement directly.

use std::collections::BTreeSet;

use settle::calendar::Month;
use settle::model::{Claim, ClaimStatus, HoldEvent, Order, PayoutDecision, PayoutStatus, WorkType};
use settle::policy::{Policy, Rules};
use settle::settlement::{settle, Hold, MonthInputs, Settlement};

const NS_PER_DAY: i64 = 24 * 3_600_000_000_000;

fn month(text: &str) -> Month {
    text.parse().unwrap()
}

fn rules() -> Rules {
    Policy::default().rules().unwrap()
}

/// A covered order of ¥50,000 (rebate 150, reward 40,000) completed on day 10 of `completed`.
fn order(order_id: &str, lancer_id: &str, completed: &str) -> Order {
    let completed_at = month(completed).start_ns() + 9 * NS_PER_DAY;
    Order {
        order_id: order_id.into(),
        request_id: format!("R-{order_id}"),
        client_id: "c-1".into(),
        lancer_id: lancer_id.into(),
        work_type: WorkType::ProjectFixed,
        lancer_certified: true,
        request_created_at: completed_at - 5 * NS_PER_DAY,
        ordered_at: completed_at - 4 * NS_PER_DAY,
        completed_at,
        amount_jpy: 50_000,
        reward_jpy: 40_000,
    }
}

/// A claim filed on day 5 of `filed`, decided on day 3 of `decided` when given.
fn claim(
    claim_id: &str,
    order_id: &str,
    filed: &str,
    decision: Option<(&str, ClaimStatus, Option<PayoutDecision>)>,
) -> Claim {
    let (status, decided_at, payout_decision) = match decision {
        None => (ClaimStatus::UnderReview, None, None),
        Some((decided, status, payout)) => (
            status,
            Some(month(decided).start_ns() + 2 * NS_PER_DAY),
            payout,
        ),
    };
    Claim {
        claim_id: claim_id.into(),
        order_id: order_id.into(),
        filed_at: month(filed).start_ns() + 4 * NS_PER_DAY,
        status,
        decided_at,
        payout_decision,
    }
}

fn settle_month(
    text: &str,
    orders: Vec<Order>,
    claims: &[Claim],
    rejected_claim_orders: &[&str],
    opening_holds: Vec<Hold>,
) -> Settlement {
    let rules = rules();
    let with_rejected_claims: BTreeSet<String> = rejected_claim_orders
        .iter()
        .map(|id| id.to_string())
        .collect();
    settle(MonthInputs {
        month: month(text),
        rules: &rules,
        orders,
        claims,
        orders_with_rejected_claims: &with_rejected_claims,
        opening_holds,
    })
    .unwrap()
}

fn events(settlement: &Settlement) -> Vec<(String, HoldEvent, i64)> {
    settlement
        .hold_events
        .iter()
        .map(|e| (e.order_id.clone(), e.event, e.payout_jpy))
        .collect()
}

#[test]
fn a_claim_under_review_opens_a_hold_that_a_later_rejection_releases() {
    let claims_in_december = [claim("K-1", "O-1", "2015-12", None)];
    let december = settle_month(
        "2015-12",
        vec![order("O-1", "l-1", "2015-12")],
        &claims_in_december,
        &[],
        vec![],
    );

    assert_eq!(december.lines[0].payout_status, PayoutStatus::Held);
    assert_eq!(
        events(&december),
        [("O-1".into(), HoldEvent::Opened, 40_150)]
    );
    let lancer = &december.lancer_payouts[0];
    assert_eq!((lancer.payable_jpy, lancer.held_jpy), (0, 40_150));

    let claims_in_january = [claim(
        "K-1",
        "O-1",
        "2015-12",
        Some(("2016-01", ClaimStatus::Rejected, None)),
    )];
    let january = settle_month("2016-01", vec![], &claims_in_january, &[], december.holds);

    assert_eq!(
        events(&january),
        [("O-1".into(), HoldEvent::Released, 40_150)]
    );
    assert!(january.holds.is_empty());
    let lancer = &january.lancer_payouts[0];
    assert_eq!(
        (lancer.released_jpy, lancer.payable_jpy, lancer.held_jpy),
        (40_150, 40_150, 0)
    );
    assert_eq!(january.totals.holds_opening.jpy, 40_150);
    assert_eq!(january.totals.holds_closing.count, 0);
}

#[test]
fn a_hold_forfeited_in_a_later_month_is_never_paid() {
    let open = [claim("K-1", "O-1", "2015-12", None)];
    let december = settle_month(
        "2015-12",
        vec![order("O-1", "l-1", "2015-12")],
        &open,
        &[],
        vec![],
    );
    let forfeit = [claim(
        "K-1",
        "O-1",
        "2015-12",
        Some((
            "2016-01",
            ClaimStatus::Approved,
            Some(PayoutDecision::Forfeit),
        )),
    )];

    let january = settle_month("2016-01", vec![], &forfeit, &[], december.holds);

    assert_eq!(
        events(&january),
        [("O-1".into(), HoldEvent::Forfeited, 40_150)]
    );
    let lancer = &january.lancer_payouts[0];
    assert_eq!((lancer.payable_jpy, lancer.forfeited_jpy), (0, 40_150));
}

#[test]
fn a_hold_still_under_review_stays_open_and_counts_in_held_jpy() {
    let open = [claim("K-1", "O-1", "2015-12", None)];
    let december = settle_month(
        "2015-12",
        vec![order("O-1", "l-1", "2015-12")],
        &open,
        &[],
        vec![],
    );

    let january = settle_month(
        "2016-01",
        vec![order("O-2", "l-1", "2016-01")],
        &open,
        &[],
        december.holds,
    );

    assert!(events(&january).is_empty());
    assert_eq!(january.holds.len(), 1);
    assert_eq!(january.holds[0].opened_month, month("2015-12"));
    let lancer = &january.lancer_payouts[0];
    assert_eq!((lancer.payable_jpy, lancer.held_jpy), (40_150, 40_150));
}

#[test]
fn a_decision_after_the_cutoff_keeps_the_order_held_in_its_month() {
    let decided_in_january = [claim(
        "K-1",
        "O-1",
        "2015-12",
        Some(("2016-01", ClaimStatus::Withdrawn, None)),
    )];
    let december = settle_month(
        "2015-12",
        vec![order("O-1", "l-1", "2015-12")],
        &decided_in_january,
        &[],
        vec![],
    );
    assert_eq!(december.lines[0].payout_status, PayoutStatus::Held);
}

#[test]
fn an_order_with_a_forfeiting_claim_decided_in_its_month_is_forfeited_without_a_hold() {
    let forfeit = [claim(
        "K-1",
        "O-1",
        "2015-12",
        Some((
            "2015-12",
            ClaimStatus::Approved,
            Some(PayoutDecision::Forfeit),
        )),
    )];
    let december = settle_month(
        "2015-12",
        vec![order("O-1", "l-1", "2015-12")],
        &forfeit,
        &[],
        vec![],
    );
    assert_eq!(december.lines[0].payout_status, PayoutStatus::Forfeited);
    assert!(december.holds.is_empty() && december.hold_events.is_empty());
    assert_eq!(december.lancer_payouts[0].forfeited_jpy, 40_150);
}

#[test]
fn an_order_named_by_a_rejected_claim_row_is_held_not_paid() {
    let december = settle_month(
        "2015-12",
        vec![order("O-1", "l-1", "2015-12")],
        &[],
        &["O-1"],
        vec![],
    );
    assert_eq!(december.lines[0].payout_status, PayoutStatus::Held);
    assert_eq!(december.holds.len(), 1);
}

#[test]
fn a_hold_whose_claims_vanished_stays_open_with_a_warning() {
    let open = [claim("K-1", "O-1", "2015-12", None)];
    let december = settle_month(
        "2015-12",
        vec![order("O-1", "l-1", "2015-12")],
        &open,
        &[],
        vec![],
    );

    let january = settle_month("2016-01", vec![], &[], &[], december.holds);

    assert_eq!(january.holds.len(), 1);
    assert_eq!(january.holds[0].claim_ids, "K-1");
    assert_eq!(january.warnings.len(), 1);
    assert!(
        january.warnings[0].contains("O-1"),
        "{}",
        january.warnings[0]
    );
}

#[test]
fn claim_ids_list_known_claims_sorted() {
    let claims = [
        claim(
            "K-b",
            "O-1",
            "2015-12",
            Some(("2015-12", ClaimStatus::Rejected, None)),
        ),
        claim(
            "K-a",
            "O-1",
            "2015-12",
            Some(("2015-12", ClaimStatus::Rejected, None)),
        ),
        claim("K-later", "O-1", "2016-01", None),
    ];
    let december = settle_month(
        "2015-12",
        vec![order("O-1", "l-1", "2015-12")],
        &claims,
        &[],
        vec![],
    );
    assert_eq!(december.lines[0].claim_ids, "K-a;K-b");
    assert_eq!(december.lines[0].payout_status, PayoutStatus::Paid);
}

#[test]
fn a_lancer_with_only_an_open_hold_is_listed() {
    let open = [claim("K-1", "O-1", "2015-12", None)];
    let december = settle_month(
        "2015-12",
        vec![order("O-1", "l-1", "2015-12")],
        &open,
        &[],
        vec![],
    );
    let january = settle_month(
        "2016-01",
        vec![order("O-2", "l-2", "2016-01")],
        &open,
        &[],
        december.holds,
    );
    let lancers: Vec<&str> = january
        .lancer_payouts
        .iter()
        .map(|p| p.lancer_id.as_str())
        .collect();
    assert_eq!(lancers, ["l-1", "l-2"]);
}

#[test]
fn opening_holds_naming_an_order_twice_are_refused() {
    let open = [claim("K-1", "O-1", "2015-12", None)];
    let december = settle_month(
        "2015-12",
        vec![order("O-1", "l-1", "2015-12")],
        &open,
        &[],
        vec![],
    );
    let twice = vec![december.holds[0].clone(), december.holds[0].clone()];
    let rules = rules();
    let error = settle(MonthInputs {
        month: month("2016-01"),
        rules: &rules,
        orders: vec![],
        claims: &open,
        orders_with_rejected_claims: &BTreeSet::new(),
        opening_holds: twice,
    })
    .unwrap_err();
    assert!(error.to_string().contains("O-1"), "{error}");
}

#[test]
fn totals_that_overflow_stop_the_month() {
    let mut first = order("O-1", "l-1", "2015-12");
    first.amount_jpy = i64::MAX - 10;
    first.reward_jpy = 0;
    let mut second = order("O-2", "l-1", "2015-12");
    second.amount_jpy = i64::MAX - 10;
    second.reward_jpy = 0;
    let rules = rules();
    let error = settle(MonthInputs {
        month: month("2015-12"),
        rules: &rules,
        orders: vec![first, second],
        claims: &[],
        orders_with_rejected_claims: &BTreeSet::new(),
        opening_holds: vec![],
    })
    .unwrap_err();
    let message = format!("{error:#}");
    assert!(message.contains("overflows"), "{message}");
    assert!(
        message.contains("client c-1, adding order O-2"),
        "{message}"
    );
}
