//! The rules of SPEC §3–§6 as pure functions: coverage, surcharge, rebate, payout and the
//! state of an order's claims as of a cutoff.
//!
//! Nothing here reads a file, a clock or the environment; every input is an argument. Money is
//! whole yen in `i64`; a rate is applied in `Decimal` and rounded by the policy's named mode.

use anyhow::Context;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::model::{
    Claim, ClaimStatus, CoverageReason, InstantNs, Order, PayoutDecision, PayoutStatus, WorkType,
};
use crate::policy::{Rounding, Rules};

/// SPEC §3: the first failing rule, in order, or `Covered`.
pub fn coverage(order: &Order, rules: &Rules) -> CoverageReason {
    if order.work_type != WorkType::ProjectFixed {
        CoverageReason::NotFixedPrice
    } else if !order.lancer_certified {
        CoverageReason::LancerNotCertified
    } else if order.request_created_at < rules.service_start_ns {
        CoverageReason::RequestedBeforeStart
    } else if order.ordered_at < rules.service_start_ns {
        CoverageReason::OrderedBeforeStart
    } else if order.ordered_at >= rules.service_end_ns {
        CoverageReason::OrderedAfterEnd
    } else {
        CoverageReason::Covered
    }
}

/// `amount_jpy × rate`, rounded to whole yen by `rounding`.
///
/// The rates are between 0 and 1 (the policy checks), so the result never exceeds the amount;
/// the only failure is a rate with so many digits that `Decimal` cannot hold the product.
pub fn apply_rate(amount_jpy: i64, rate: Decimal, rounding: Rounding) -> anyhow::Result<i64> {
    let product = Decimal::from(amount_jpy)
        .checked_mul(rate)
        .with_context(|| format!("{amount_jpy} yen × {rate} does not fit a decimal"))?;
    product
        .round_dp_with_strategy(0, rounding.strategy())
        .to_i64()
        .with_context(|| format!("{amount_jpy} yen × {rate} does not fit 64 bits"))
}

/// SPEC §4: the client's surcharge, waived for orders placed in the free window.
pub fn surcharge_jpy(order: &Order, reason: CoverageReason, rules: &Rules) -> anyhow::Result<i64> {
    if reason != CoverageReason::Covered || order.ordered_at < rules.surcharge_free_until_ns {
        return Ok(0);
    }
    apply_rate(order.amount_jpy, rules.surcharge_rate, rules.rounding)
}

/// SPEC §5: the lancer's rebate, the rate rounded first and the floor applied last. It accrues
/// in the free window too.
pub fn rebate_jpy(order: &Order, reason: CoverageReason, rules: &Rules) -> anyhow::Result<i64> {
    if reason != CoverageReason::Covered {
        return Ok(0);
    }
    let rebate_jpy = apply_rate(order.amount_jpy, rules.rebate_rate, rules.rounding)?;
    Ok(rebate_jpy.max(rules.rebate_floor_jpy))
}

/// The money of one order line, before claims decide what happens to the payout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pricing {
    pub reason: CoverageReason,
    pub surcharge_jpy: i64,
    pub rebate_jpy: i64,
    pub payout_jpy: i64,
}

pub fn price(order: &Order, rules: &Rules) -> anyhow::Result<Pricing> {
    let reason = coverage(order, rules);
    let surcharge_jpy = surcharge_jpy(order, reason, rules)?;
    let rebate_jpy = rebate_jpy(order, reason, rules)?;
    let payout_jpy = order.reward_jpy.checked_add(rebate_jpy).with_context(|| {
        format!(
            "order {}: reward {} + rebate {rebate_jpy} overflows",
            order.order_id, order.reward_jpy
        )
    })?;
    Ok(Pricing {
        reason,
        surcharge_jpy,
        rebate_jpy,
        payout_jpy,
    })
}

/// An order's claims as of a cutoff (SPEC §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ClaimState {
    None,
    Release,
    Forfeit,
    UnderReview,
}

/// A claim exists for a month only when it was filed before that month's cutoff.
pub fn is_known(claim: &Claim, cutoff_ns: InstantNs) -> bool {
    claim.filed_at < cutoff_ns
}

/// A known claim is still under review at the cutoff when it had not been decided by then,
/// whatever the register says today.
pub fn is_under_review(claim: &Claim, cutoff_ns: InstantNs) -> bool {
    match claim.decided_at {
        None => true,
        Some(decided_at) => decided_at >= cutoff_ns,
    }
}

fn forfeits(claim: &Claim) -> bool {
    claim.status == ClaimStatus::Approved && claim.payout_decision == Some(PayoutDecision::Forfeit)
}

/// Combines one order's claims: under review wins over forfeit, forfeit over release.
///
/// `claims` may hold claims filed after the cutoff; they are ignored here.
pub fn claim_state<'a>(
    claims: impl IntoIterator<Item = &'a Claim>,
    cutoff_ns: InstantNs,
) -> ClaimState {
    claims
        .into_iter()
        .filter(|claim| is_known(claim, cutoff_ns))
        .map(|claim| {
            if is_under_review(claim, cutoff_ns) {
                ClaimState::UnderReview
            } else if forfeits(claim) {
                ClaimState::Forfeit
            } else {
                ClaimState::Release
            }
        })
        .max()
        .unwrap_or(ClaimState::None)
}

/// What happens to the payout of an order completed in the month.
pub fn payout_status(state: ClaimState) -> PayoutStatus {
    match state {
        ClaimState::None | ClaimState::Release => PayoutStatus::Paid,
        ClaimState::UnderReview => PayoutStatus::Held,
        ClaimState::Forfeit => PayoutStatus::Forfeited,
    }
}
