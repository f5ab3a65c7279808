//! Turning raw rows into valid orders and claims, or into rejected rows with a reason.
//!
//! Pure: the month, the raw rows and what earlier months settled are arguments. Every raw order
//! row ends in exactly one of three places (a valid order of the month, out of the month, or
//! rejected), and every raw claim row in one of two (valid or rejected); the counts are
//! checked before the result is returned.

use std::collections::HashMap;

use crate::calendar::{format_jst, Month};
use crate::input::rows::RowOrigin;
use crate::input::{Field, RawClaim, RawOrder};
use crate::model::{Claim, ClaimStatus, InstantNs, Order, PayoutDecision, RejectReason, WorkType};

pub const ID_MAX_CHARS: usize = 128;

/// A row that will not be settled, before its file index is turned into a file name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rejection {
    pub origin: RowOrigin,
    pub order_id: Option<String>,
    pub reason: RejectReason,
    pub detail: String,
}

#[derive(Debug, Default)]
pub struct OrderIntake {
    pub orders: Vec<Order>,
    pub out_of_month_rows: u64,
    /// Of the rows out of the month, those completed before it: late exports of a month that
    /// may already be settled. Counted, with the first few order ids for the warning.
    pub earlier_rows: u64,
    pub earlier_examples: Vec<String>,
    pub rejected: Vec<Rejection>,
}

const EARLIER_EXAMPLES: usize = 3;

#[derive(Debug, Default)]
pub struct ClaimIntake {
    pub claims: Vec<Claim>,
    pub rejected: Vec<Rejection>,
}

type Problem = (RejectReason, String);

/// Checks an id: present, at most 128 characters, no control characters, and not starting
/// with a character that makes a spreadsheet treat the cell as a formula.
fn id(column: &str, value: &Option<String>) -> Result<String, Problem> {
    let Some(value) = value else {
        return Err((
            RejectReason::MissingValue,
            format!("{column} is empty (null)"),
        ));
    };
    let problem = if value.is_empty() {
        Some("is an empty string".to_string())
    } else if value.trim().is_empty() {
        Some("is blank".to_string())
    } else if value.chars().count() > ID_MAX_CHARS {
        Some(format!("is longer than {ID_MAX_CHARS} characters"))
    } else if value.chars().any(char::is_control) {
        Some("contains a control character".to_string())
    } else if value.starts_with(['=', '+', '-', '@']) {
        Some("starts with =, +, - or @, which spreadsheets run as a formula".to_string())
    } else {
        None
    };
    match problem {
        Some(problem) => Err((
            RejectReason::InvalidId,
            format!("{column} {value:?} {problem}"),
        )),
        None => Ok(value.clone()),
    }
}

fn present<T: Clone>(column: &str, value: &Field<T>) -> Result<T, Problem> {
    match value {
        Field::Value(value) => Ok(value.clone()),
        Field::Missing => Err((
            RejectReason::MissingValue,
            format!("{column} is empty (null)"),
        )),
        Field::Invalid(reason, detail) => Err((*reason, detail.clone())),
    }
}

fn required<T: Clone>(column: &str, value: &Option<T>) -> Result<T, Problem> {
    value.clone().ok_or_else(|| {
        (
            RejectReason::MissingValue,
            format!("{column} is empty (null)"),
        )
    })
}

fn order(raw: &RawOrder) -> Result<Order, Problem> {
    let order_id = id("order_id", &raw.order_id)?;
    let request_id = id("request_id", &raw.request_id)?;
    let client_id = id("client_id", &raw.client_id)?;
    let lancer_id = id("lancer_id", &raw.lancer_id)?;
    let work_type_text = required("work_type", &raw.work_type)?;
    let work_type = WorkType::parse(&work_type_text).ok_or_else(|| {
        (
            RejectReason::UnknownWorkType,
            format!(
                "work_type {work_type_text:?} is not one of {}",
                names(WorkType::ALL.iter().map(|w| w.as_str()))
            ),
        )
    })?;
    let lancer_certified = required("lancer_certified", &raw.lancer_certified)?;
    let request_created_at = present("request_created_at", &raw.request_created_at)?;
    let ordered_at = present("ordered_at", &raw.ordered_at)?;
    let completed_at = present("completed_at", &raw.completed_at)?;
    let amount_jpy = present("amount_jpy", &raw.amount_jpy)?;
    let reward_jpy = present("reward_jpy", &raw.reward_jpy)?;

    if amount_jpy <= 0 {
        return Err((
            RejectReason::NonPositiveAmount,
            format!("amount_jpy is {amount_jpy}"),
        ));
    }
    if reward_jpy < 0 {
        return Err((
            RejectReason::NegativeReward,
            format!("reward_jpy is {reward_jpy}"),
        ));
    }
    // A request created after its order is not rejected: SPEC §3's rule 4
    // (`ordered_before_start`) can only fail for such an order, so the contract expects these
    // rows to settle, and the shared expected results settle them.
    if ordered_at > completed_at {
        return Err(out_of_order(
            "ordered_at",
            ordered_at,
            "completed_at",
            completed_at,
        ));
    }
    Ok(Order {
        order_id,
        request_id,
        client_id,
        lancer_id,
        work_type,
        lancer_certified,
        request_created_at,
        ordered_at,
        completed_at,
        amount_jpy,
        reward_jpy,
    })
}

fn out_of_order(first: &str, first_ns: InstantNs, second: &str, second_ns: InstantNs) -> Problem {
    (
        RejectReason::TimestampsOutOfOrder,
        format!(
            "{first} {} is after {second} {}",
            format_jst(first_ns),
            format_jst(second_ns)
        ),
    )
}

fn names<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

/// Validates the order rows of `month`.
///
/// A row whose `completed_at` is a valid instant outside the month is counted as out of the
/// month and judged no further: it belongs to another month's run. Every copy of an order id
/// that appears more than once in the month is rejected, since no copy can be trusted over
/// another; an id that `settled_in` knows from an earlier month is rejected so that it is
/// never paid twice.
pub fn validate_orders(
    raw_orders: &[RawOrder],
    month: Month,
    settled_in: impl Fn(&str) -> Option<String>,
) -> OrderIntake {
    let mut intake = OrderIntake::default();
    let mut in_month: Vec<(&RawOrder, Result<Order, Problem>)> = Vec::new();
    for raw in raw_orders {
        if let Field::Value(completed_at) = raw.completed_at {
            if !month.contains(completed_at) {
                intake.out_of_month_rows += 1;
                if completed_at < month.start_ns() {
                    intake.earlier_rows += 1;
                    if intake.earlier_examples.len() < EARLIER_EXAMPLES {
                        let id = raw
                            .order_id
                            .clone()
                            .unwrap_or_else(|| "(no id)".to_string());
                        intake
                            .earlier_examples
                            .push(format!("{id} completed {}", format_jst(completed_at)));
                    }
                }
                continue;
            }
        }
        in_month.push((raw, order(raw)));
    }

    let mut copies: HashMap<&str, u64> = HashMap::new();
    for (raw, _) in &in_month {
        if let Some(order_id) = raw.order_id.as_deref() {
            *copies.entry(order_id).or_default() += 1;
        }
    }
    for (raw, checked) in &in_month {
        let checked = checked.clone().and_then(|order| {
            let count = copies.get(order.order_id.as_str()).copied().unwrap_or(0);
            if count > 1 {
                return Err((
                    RejectReason::DuplicateOrderId,
                    format!(
                        "order_id {:?} appears {count} times in the month",
                        order.order_id
                    ),
                ));
            }
            if let Some(settled) = settled_in(&order.order_id) {
                return Err((
                    RejectReason::AlreadySettled,
                    format!("order_id {:?} was settled in {settled}", order.order_id),
                ));
            }
            Ok(order)
        });
        match checked {
            Ok(order) => intake.orders.push(order),
            Err((reason, detail)) => intake.rejected.push(Rejection {
                origin: raw.origin,
                order_id: raw.order_id.clone(),
                reason,
                detail,
            }),
        }
    }

    let accounted =
        intake.orders.len() as u64 + intake.out_of_month_rows + intake.rejected.len() as u64;
    assert_eq!(
        accounted,
        raw_orders.len() as u64,
        "every order row is accounted for"
    );
    intake
}

fn claim(raw: &RawClaim) -> Result<Claim, Problem> {
    let claim_id = id("claim_id", &raw.claim_id)?;
    let order_id = id("order_id", &raw.order_id)?;
    let filed_at = present("filed_at", &raw.filed_at)?;
    let status_text = required("status", &raw.status)?;
    let status = ClaimStatus::parse(&status_text).ok_or_else(|| {
        (
            RejectReason::UnknownClaimStatus,
            format!(
                "status {status_text:?} is not one of {}",
                names(ClaimStatus::ALL.iter().map(|s| s.as_str()))
            ),
        )
    })?;
    let payout_decision = match &raw.payout_decision {
        None => None,
        Some(text) => Some(PayoutDecision::parse(text).ok_or_else(|| {
            (
                RejectReason::UnknownPayoutDecision,
                format!(
                    "payout_decision {text:?} is not one of {}",
                    names(PayoutDecision::ALL.iter().map(|d| d.as_str()))
                ),
            )
        })?),
    };
    let decided_at = match &raw.decided_at {
        Field::Missing => None,
        Field::Value(decided_at) => Some(*decided_at),
        Field::Invalid(reason, detail) => return Err((*reason, detail.clone())),
    };

    match (status, decided_at) {
        (ClaimStatus::UnderReview, Some(decided_at)) => {
            return Err((
                RejectReason::DecisionTimeWhileUnderReview,
                format!(
                    "claim {claim_id} is under review but decided_at is {}",
                    format_jst(decided_at)
                ),
            ));
        }
        (ClaimStatus::Approved | ClaimStatus::Rejected | ClaimStatus::Withdrawn, None) => {
            return Err((
                RejectReason::DecidedWithoutTime,
                format!("claim {claim_id} is {status} but decided_at is empty"),
            ));
        }
        (_, Some(decided_at)) if decided_at < filed_at => {
            return Err((
                RejectReason::DecidedBeforeFiled,
                format!(
                    "claim {claim_id} was decided at {} before it was filed at {}",
                    format_jst(decided_at),
                    format_jst(filed_at)
                ),
            ));
        }
        _ => {}
    }
    match (status, payout_decision) {
        (ClaimStatus::Approved, None) => {
            return Err((
                RejectReason::ApprovedWithoutDecision,
                format!("claim {claim_id} is approved but payout_decision is empty"),
            ));
        }
        (ClaimStatus::UnderReview, Some(decision))
        | (
            ClaimStatus::Rejected | ClaimStatus::Withdrawn,
            Some(decision @ PayoutDecision::Forfeit),
        ) => {
            return Err((
                RejectReason::DecisionConflictsWithStatus,
                format!("claim {claim_id} is {status} but payout_decision is {decision}"),
            ));
        }
        _ => {}
    }
    Ok(Claim {
        claim_id,
        order_id,
        filed_at,
        status,
        decided_at,
        payout_decision,
    })
}

/// Validates every claim row. Claims are not filtered by month: whether a claim is known at a
/// cutoff is the rules' question, not the reader's. Every copy of a duplicated claim id is
/// rejected.
pub fn validate_claims(raw_claims: &[RawClaim]) -> ClaimIntake {
    let mut copies: HashMap<&str, u64> = HashMap::new();
    for raw in raw_claims {
        if let Some(claim_id) = raw.claim_id.as_deref() {
            *copies.entry(claim_id).or_default() += 1;
        }
    }

    let mut intake = ClaimIntake::default();
    for raw in raw_claims {
        let checked = claim(raw).and_then(|claim| {
            let count = copies.get(claim.claim_id.as_str()).copied().unwrap_or(0);
            if count > 1 {
                return Err((
                    RejectReason::DuplicateClaimId,
                    format!("claim_id {:?} appears {count} times", claim.claim_id),
                ));
            }
            Ok(claim)
        });
        match checked {
            Ok(claim) => intake.claims.push(claim),
            Err((reason, detail)) => {
                let detail = match &raw.claim_id {
                    Some(claim_id) if !detail.contains(claim_id.as_str()) => {
                        format!("claim {claim_id:?}: {detail}")
                    }
                    _ => detail,
                };
                intake.rejected.push(Rejection {
                    origin: raw.origin,
                    order_id: raw.order_id.clone(),
                    reason,
                    detail,
                });
            }
        }
    }

    assert_eq!(
        intake.claims.len() + intake.rejected.len(),
        raw_claims.len(),
        "every claim row is accounted for"
    );
    intake
}
