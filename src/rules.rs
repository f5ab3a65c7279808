//! The rules of SPEC §3–§6 as pure functions: coverage, surcharge, rebate, payout and the
//! state of an order's claims as of a cutoff.
//!
//! Nothing here reads a file, a clock or the environment; every input is an argument. Money is
//! whole yen in `i64`; a rate is a decimal, applied as the exact fraction it writes
//! (`0.003` = 3 / 1000) in 128-bit integers and rounded by the policy's named mode.

use anyhow::Context;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::model::{
    Claim, ClaimStatus, CoverageReason, InstantNs, Order, PayoutDecision, PayoutStatus, WorkType,
};
use crate::policy::{Rounding, Rules};

/// The fields of an order that its coverage and money depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    pub work_type: WorkType,
    pub lancer_certified: bool,
    pub request_created_at: InstantNs,
    pub ordered_at: InstantNs,
    pub amount_jpy: i64,
    pub reward_jpy: i64,
}

impl Terms {
    pub fn of(order: &Order) -> Terms {
        Terms {
            work_type: order.work_type,
            lancer_certified: order.lancer_certified,
            request_created_at: order.request_created_at,
            ordered_at: order.ordered_at,
            amount_jpy: order.amount_jpy,
            reward_jpy: order.reward_jpy,
        }
    }
}

/// SPEC §3: the first failing rule, in order, or `Covered`.
pub fn coverage(order: &Order, rules: &Rules) -> CoverageReason {
    coverage_of(&Terms::of(order), rules)
}

pub fn coverage_of(terms: &Terms, rules: &Rules) -> CoverageReason {
    if terms.work_type != WorkType::ProjectFixed {
        CoverageReason::NotFixedPrice
    } else if !terms.lancer_certified {
        CoverageReason::LancerNotCertified
    } else if terms.request_created_at < rules.service_start_ns {
        CoverageReason::RequestedBeforeStart
    } else if terms.ordered_at < rules.service_start_ns {
        CoverageReason::OrderedBeforeStart
    } else if terms.ordered_at >= rules.service_end_ns {
        CoverageReason::OrderedAfterEnd
    } else {
        CoverageReason::Covered
    }
}

/// A decimal rate as the exact fraction it writes: `0.003` is 3 / 1000.
///
/// Applying it takes a multiplication and a division of 128-bit integers, with no rounding
/// until the one the policy names, so it gives exactly what `Decimal` arithmetic gives (a
/// property test checks) at a fraction of the cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExactRate {
    numerator: i128,
    denominator: i128,
}

impl ExactRate {
    pub fn new(rate: Decimal) -> ExactRate {
        ExactRate {
            numerator: rate.mantissa(),
            denominator: 10i128.pow(rate.scale()),
        }
    }

    /// `amount_jpy × rate` rounded to whole yen, or `None` when the product does not fit 128
    /// bits or the result does not fit 64 (only rates with very many digits come near).
    pub fn apply(self, amount_jpy: i64, rounding: Rounding) -> Option<i64> {
        let product = i128::from(amount_jpy).checked_mul(self.numerator)?;
        // The denominator is a positive power of ten, so the product carries the sign.
        let negative = product < 0;
        let (product, denominator) = (product.unsigned_abs(), self.denominator.unsigned_abs());
        // A 64-bit division where the numbers fit one (every real order) is many times faster
        // than a 128-bit one, and gives the same quotient and remainder.
        let (quotient, remainder) = match (u64::try_from(product), u64::try_from(denominator)) {
            (Ok(product), Ok(denominator)) => (
                u128::from(product / denominator),
                u128::from(product % denominator),
            ),
            _ => (product / denominator, product % denominator),
        };
        // Every mode is symmetric around zero, so the magnitude is rounded and the sign put
        // back afterwards: `down` is towards zero and `up` away from it.
        let twice_remainder = remainder * 2;
        let away_from_zero = match rounding {
            Rounding::Down => false,
            Rounding::Up => remainder != 0,
            Rounding::HalfUp => twice_remainder >= denominator,
            Rounding::HalfEven => {
                twice_remainder > denominator
                    || (twice_remainder == denominator && quotient % 2 == 1)
            }
        };
        let magnitude = i128::try_from(quotient + u128::from(away_from_zero)).ok()?;
        i64::try_from(if negative { -magnitude } else { magnitude }).ok()
    }
}

/// `amount_jpy × rate`, rounded to whole yen by `rounding`.
///
/// The rates are between 0 and 1 (the policy checks), so the result never exceeds the amount.
/// A rate with so many digits that the exact product does not fit 128 bits is applied in
/// `Decimal`, which fails only where it cannot hold the product either.
pub fn apply_rate(amount_jpy: i64, rate: Decimal, rounding: Rounding) -> anyhow::Result<i64> {
    if let Some(applied_jpy) = ExactRate::new(rate).apply(amount_jpy, rounding) {
        return Ok(applied_jpy);
    }
    apply_rate_in_decimal(amount_jpy, rate, rounding)
}

/// `amount_jpy × rate` in `Decimal` arithmetic: the definition `ExactRate` is checked against.
pub fn apply_rate_in_decimal(
    amount_jpy: i64,
    rate: Decimal,
    rounding: Rounding,
) -> anyhow::Result<i64> {
    let product = Decimal::from(amount_jpy)
        .checked_mul(rate)
        .with_context(|| format!("{amount_jpy} yen × {rate} does not fit a decimal"))?;
    product
        .round_dp_with_strategy(0, rounding.strategy())
        .to_i64()
        .with_context(|| format!("{amount_jpy} yen × {rate} does not fit 64 bits"))
}

fn apply(amount_jpy: i64, rate: ExactRate, decimal: Decimal, rules: &Rules) -> anyhow::Result<i64> {
    match rate.apply(amount_jpy, rules.rounding) {
        Some(applied_jpy) => Ok(applied_jpy),
        None => apply_rate_in_decimal(amount_jpy, decimal, rules.rounding),
    }
}

/// SPEC §4: the client's surcharge, waived for orders placed in the free window.
pub fn surcharge_jpy(order: &Order, reason: CoverageReason, rules: &Rules) -> anyhow::Result<i64> {
    surcharge_of(&Terms::of(order), reason, rules)
}

pub fn surcharge_of(terms: &Terms, reason: CoverageReason, rules: &Rules) -> anyhow::Result<i64> {
    if reason != CoverageReason::Covered || terms.ordered_at < rules.surcharge_free_until_ns {
        return Ok(0);
    }
    apply(
        terms.amount_jpy,
        rules.surcharge_fraction,
        rules.surcharge_rate,
        rules,
    )
}

/// SPEC §5: the lancer's rebate, the rate rounded first and the floor applied last. It accrues
/// in the free window too.
pub fn rebate_jpy(order: &Order, reason: CoverageReason, rules: &Rules) -> anyhow::Result<i64> {
    rebate_of(&Terms::of(order), reason, rules)
}

pub fn rebate_of(terms: &Terms, reason: CoverageReason, rules: &Rules) -> anyhow::Result<i64> {
    if reason != CoverageReason::Covered {
        return Ok(0);
    }
    let rebate_jpy = apply(
        terms.amount_jpy,
        rules.rebate_fraction,
        rules.rebate_rate,
        rules,
    )?;
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
    price_terms(&Terms::of(order), rules)
        .map_err(|error| anyhow::anyhow!("order {}: {error:#}", order.order_id))
}

pub fn price_terms(terms: &Terms, rules: &Rules) -> anyhow::Result<Pricing> {
    let reason = coverage_of(terms, rules);
    let surcharge_jpy = surcharge_of(terms, reason, rules)?;
    let rebate_jpy = rebate_of(terms, reason, rules)?;
    let payout_jpy = terms.reward_jpy.checked_add(rebate_jpy).with_context(|| {
        format!(
            "reward {} + rebate {rebate_jpy} overflows",
            terms.reward_jpy
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
