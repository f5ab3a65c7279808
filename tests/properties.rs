//! Property tests over random chains of months: whatever the orders and claims, the books tie,
//! every order becomes one line, holds roll forward exactly, and nothing is paid twice.
//!
//! The expectations are recomputed here from the lines and events, not taken from the
//! settlement's own totals, so a wrong total cannot check itself.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use settle::calendar::Month;
use settle::model::{Claim, ClaimStatus, HoldEvent, Order, PayoutDecision, PayoutStatus, WorkType};
use settle::policy::{Policy, Rounding};
use settle::rules::{self, ExactRate};
use settle::settlement::{settle, Hold, MonthInputs, Settlement};

const MONTHS: [&str; 3] = ["2015-11", "2015-12", "2016-01"];
const NS_PER_HOUR: i64 = 3_600_000_000_000;

#[derive(Debug, Clone)]
struct OrderSeed {
    month_index: usize,
    hour_in_month: i64,
    hours_before_order: i64,
    hours_of_work: i64,
    lancer: u8,
    client: u8,
    work_type: usize,
    certified: bool,
    amount_jpy: i64,
    claim: Option<ClaimSeed>,
}

#[derive(Debug, Clone)]
struct ClaimSeed {
    /// Hours after the order completed (may cross into later months).
    filed_after_hours: i64,
    /// None: still under review; Some((hours after filing, outcome)).
    decided: Option<(i64, u8)>,
}

fn claim_seed() -> impl Strategy<Value = ClaimSeed> {
    (0i64..1_500, prop::option::of((0i64..1_500, 0u8..4))).prop_map(
        |(filed_after_hours, decided)| ClaimSeed {
            filed_after_hours,
            decided,
        },
    )
}

fn order_seed() -> impl Strategy<Value = OrderSeed> {
    (
        (0usize..3, 0i64..(24 * 28), 0i64..2_000, 0i64..300),
        (0u8..5, 0u8..5, 0usize..6, any::<bool>(), 1i64..500_000),
        prop::option::weighted(0.3, claim_seed()),
    )
        .prop_map(
            |(
                (month_index, hour, before, work),
                (lancer, client, kind, certified, amount),
                claim,
            )| {
                OrderSeed {
                    month_index,
                    hour_in_month: hour,
                    hours_before_order: before,
                    hours_of_work: work,
                    lancer,
                    client,
                    work_type: kind,
                    certified,
                    amount_jpy: amount,
                    claim,
                }
            },
        )
}

fn build(seeds: &[OrderSeed]) -> (Vec<Vec<Order>>, Vec<Claim>) {
    let mut orders = vec![Vec::new(); MONTHS.len()];
    let mut claims = Vec::new();
    for (index, seed) in seeds.iter().enumerate() {
        let month: Month = MONTHS[seed.month_index].parse().unwrap();
        let completed_at = month.start_ns() + seed.hour_in_month * NS_PER_HOUR;
        let ordered_at = completed_at - seed.hours_of_work * NS_PER_HOUR;
        let work_type = [
            WorkType::ProjectFixed,
            WorkType::ProjectFixed,
            WorkType::ProjectFixed,
            WorkType::ProjectHourly,
            WorkType::Competition,
            WorkType::Task,
        ][seed.work_type];
        let order = Order {
            order_id: format!("O{index:04}"),
            request_id: format!("R{index:04}"),
            client_id: format!("c{}", seed.client),
            lancer_id: format!("l{}", seed.lancer),
            work_type,
            lancer_certified: seed.certified,
            request_created_at: ordered_at - seed.hours_before_order * NS_PER_HOUR,
            ordered_at,
            completed_at,
            amount_jpy: seed.amount_jpy,
            reward_jpy: seed.amount_jpy - seed.amount_jpy / 5,
        };
        if let Some(claim) = &seed.claim {
            let filed_at = completed_at + claim.filed_after_hours * NS_PER_HOUR;
            let (status, decided_at, payout_decision) = match claim.decided {
                None => (ClaimStatus::UnderReview, None, None),
                Some((after, outcome)) => {
                    let decided_at = Some(filed_at + after * NS_PER_HOUR);
                    match outcome {
                        0 => (
                            ClaimStatus::Approved,
                            decided_at,
                            Some(PayoutDecision::Forfeit),
                        ),
                        1 => (
                            ClaimStatus::Approved,
                            decided_at,
                            Some(PayoutDecision::Release),
                        ),
                        2 => (ClaimStatus::Rejected, decided_at, None),
                        _ => (ClaimStatus::Withdrawn, decided_at, None),
                    }
                }
            };
            claims.push(Claim {
                claim_id: format!("K{index:04}"),
                order_id: order.order_id.clone(),
                filed_at,
                status,
                decided_at,
                payout_decision,
            });
        }
        orders[seed.month_index].push(order);
    }
    (orders, claims)
}

fn settle_chain(seeds: &[OrderSeed], rounding: Rounding) -> Vec<(Vec<Hold>, Settlement)> {
    let rules = Policy {
        rounding,
        ..Policy::default()
    }
    .rules()
    .unwrap();
    let (orders, claims) = build(seeds);
    let mut opening = Vec::new();
    let mut chain = Vec::new();
    for (index, month) in MONTHS.iter().enumerate() {
        let settlement = settle(MonthInputs {
            month: month.parse().unwrap(),
            rules: &rules,
            orders: orders[index].clone(),
            claims: &claims,
            orders_with_rejected_claims: &BTreeSet::new(),
            opening_holds: opening.clone(),
        })
        .unwrap();
        let closing = settlement.holds.clone();
        chain.push((opening, settlement));
        opening = closing;
    }
    chain
}

fn rounding() -> impl Strategy<Value = Rounding> {
    prop_oneof![
        Just(Rounding::Down),
        Just(Rounding::HalfUp),
        Just(Rounding::HalfEven),
        Just(Rounding::Up)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_order_is_one_line_and_the_books_tie(
        seeds in prop::collection::vec(order_seed(), 0..60),
        rounding in rounding(),
    ) {
        let (orders, _) = build(&seeds);
        for (index, (_, settlement)) in settle_chain(&seeds, rounding).iter().enumerate() {
            let ids: BTreeSet<&str> =
                settlement.lines.iter().map(|l| l.order.order_id.as_str()).collect();
            let expected: BTreeSet<&str> =
                orders[index].iter().map(|o| o.order_id.as_str()).collect();
            prop_assert_eq!(ids, expected);

            let line_surcharge: i64 =
                settlement.lines.iter().map(|l| l.pricing.surcharge_jpy).sum();
            let client_surcharge: i64 =
                settlement.client_charges.iter().map(|c| c.surcharge_jpy).sum();
            prop_assert_eq!(line_surcharge, client_surcharge);

            let paid: i64 = settlement.lines.iter()
                .filter(|l| l.payout_status == PayoutStatus::Paid)
                .map(|l| l.pricing.payout_jpy).sum();
            let released: i64 = settlement.hold_events.iter()
                .filter(|e| e.event == HoldEvent::Released).map(|e| e.payout_jpy).sum();
            let payable: i64 = settlement.lancer_payouts.iter().map(|p| p.payable_jpy).sum();
            prop_assert_eq!(payable, paid + released);

            for line in &settlement.lines {
                let payout_jpy = line.order.reward_jpy + line.pricing.rebate_jpy;
                prop_assert_eq!(line.pricing.payout_jpy, payout_jpy);
                if line.pricing.reason.is_covered() {
                    prop_assert!(line.pricing.rebate_jpy >= 50);
                    prop_assert!(line.pricing.surcharge_jpy <= line.order.amount_jpy);
                } else {
                    prop_assert_eq!((line.pricing.surcharge_jpy, line.pricing.rebate_jpy), (0, 0));
                }
            }
        }
    }

    #[test]
    fn holds_roll_forward_exactly_and_nothing_is_paid_twice(
        seeds in prop::collection::vec(order_seed(), 0..60),
    ) {
        let chain = settle_chain(&seeds, Rounding::Down);
        let mut paid_or_forfeited: BTreeMap<String, &str> = BTreeMap::new();
        for (opening, settlement) in &chain {
            let opening_ids: BTreeSet<&str> = opening.iter().map(|h| h.order_id.as_str()).collect();
            let still_open: BTreeSet<&str> = settlement.holds.iter()
                .filter(|h| opening_ids.contains(h.order_id.as_str()))
                .map(|h| h.order_id.as_str()).collect();
            let resolved: Vec<&str> = settlement.hold_events.iter()
                .filter(|e| e.event != HoldEvent::Opened)
                .map(|e| e.order_id.as_str()).collect();
            let resolved_set: BTreeSet<&str> = resolved.iter().copied().collect();
            prop_assert_eq!(resolved.len(), resolved_set.len(), "a hold resolved twice");
            prop_assert!(still_open.is_disjoint(&resolved_set));
            prop_assert_eq!(&still_open | &resolved_set, opening_ids.clone());

            let jpy = |holds: &[Hold]| holds.iter().map(|h| h.payout_jpy).sum::<i64>();
            let event_jpy = |event: HoldEvent| settlement.hold_events.iter()
                .filter(|e| e.event == event).map(|e| e.payout_jpy).sum::<i64>();
            prop_assert_eq!(
                jpy(opening) + event_jpy(HoldEvent::Opened) - event_jpy(HoldEvent::Released)
                    - event_jpy(HoldEvent::Forfeited),
                jpy(&settlement.holds)
            );

            let outcomes = settlement.lines.iter().filter_map(|l| match l.payout_status {
                PayoutStatus::Paid => Some((l.order.order_id.clone(), "paid")),
                PayoutStatus::Forfeited => Some((l.order.order_id.clone(), "forfeited")),
                PayoutStatus::Held => None,
            }).chain(settlement.hold_events.iter().filter_map(|e| match e.event {
                HoldEvent::Released => Some((e.order_id.clone(), "released")),
                HoldEvent::Forfeited => Some((e.order_id.clone(), "forfeited")),
                HoldEvent::Opened => None,
            }));
            for (order_id, outcome) in outcomes {
                let earlier = paid_or_forfeited.insert(order_id.clone(), outcome);
                prop_assert!(earlier.is_none(), "{} was {:?}, then {}", order_id, earlier, outcome);
            }
        }
    }
}

/// A rate between 0 and 1 with up to `max_scale` decimal places, as a policy may write one.
fn rate(max_scale: u32) -> impl Strategy<Value = rust_decimal::Decimal> {
    (0u32..=max_scale).prop_flat_map(|scale| {
        let one = 10i64.pow(scale);
        (0..=one).prop_map(move |mantissa| rust_decimal::Decimal::new(mantissa, scale))
    })
}

/// An amount and a rate whose product `Decimal` holds exactly (at most 28 digits), so that it
/// is a fair reference: any amount at all with rates of up to 3 places (the policy's are 0.02
/// and 0.003), or amounts up to 10^15 yen with rates of up to 12 places.
fn amount_and_rate() -> impl Strategy<Value = (i64, rust_decimal::Decimal)> {
    let any_amount = prop_oneof![
        1i64..1_000_000,
        any::<i64>(),
        Just(i64::MAX),
        Just(i64::MIN + 1),
    ];
    prop_oneof![
        (any_amount, rate(3)),
        (-1_000_000_000_000_000i64..=1_000_000_000_000_000, rate(12)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5_000))]

    /// The integer arithmetic that applies rates in the hot path gives exactly what decimal
    /// arithmetic gives, in every rounding mode.
    #[test]
    fn exact_rates_round_as_decimal_arithmetic_does(
        (amount_jpy, rate) in amount_and_rate(),
        rounding in rounding(),
    ) {
        let decimal = rules::apply_rate_in_decimal(amount_jpy, rate, rounding).unwrap();
        let exact = ExactRate::new(rate).apply(amount_jpy, rounding);
        prop_assert_eq!(exact, Some(decimal), "{} × {} {:?}", amount_jpy, rate, rounding);
        prop_assert_eq!(rules::apply_rate(amount_jpy, rate, rounding).unwrap(), decimal);
    }
}
