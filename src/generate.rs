//! Seeded sample months of orders and claims, as the marketplace would export them.
//!
//! Each month gets `YYYY-MM/orders.parquet`, the orders completed in that Tokyo calendar month,
//! and `YYYY-MM/claims.parquet`, the whole claims register as exported at the month's cutoff:
//! every claim filed by then, with its status as known then. A claim under review in one
//! month's register may therefore show as decided in a later month's.
//!
//! Besides a random population, every worked example of SPEC.md is an order with a readable
//! `EX-` id, written into the month it completes, so that a reader can find it in the settled
//! files by name.
//!
//! Invariants: the same seed writes byte-identical files; a month's random orders depend only
//! on the seed and the month, not on which other months are written; every order completes in
//! its month with `request_created_at ≤ ordered_at ≤ completed_at`; every row passes the job's
//! validation. Amounts are whole yen throughout; no float comes near them.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use chrono::DateTime;
use polars::prelude::{Column, DataFrame, NamedFrom, Series, TimeUnit, TimeZone};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::calendar::{datetime_to_ns, format_jst, Month};
use crate::model::{Claim, ClaimStatus, InstantNs, Order, PayoutDecision, WorkType};
use crate::output::{text, write_frame};

pub mod bulk;

pub const ORDERS_FILE: &str = "orders.parquet";
pub const CLAIMS_FILE: &str = "claims.parquet";

/// Bounds on the request, so that a typo cannot fill a disk.
const MONTHS_MAX: usize = 1_200;
const ORDERS_PER_MONTH_MAX: usize = 1_000_000;

const CLIENT_COUNT: usize = 72;
const LANCER_COUNT: usize = 100;

/// The marketplace keeps a fee of one fifth (20%) of the order amount. The fee is rounded down
/// to whole yen, so any fraction of a yen goes to the lancer.
const FEE_DIVISOR: i64 = 5;

const SECOND_NS: i64 = 1_000_000_000;
const HOUR_NS: i64 = 3_600 * SECOND_NS;
const DAY_NS: i64 = 24 * HOUR_NS;
const NS_PER_MICROSECOND: i64 = 1_000;

#[derive(Debug, Clone)]
pub struct GenerateRequest {
    pub out: PathBuf,
    pub first: Month,
    pub last: Month,
    pub seed: u64,
    pub orders_per_month: usize,
    /// Write the orders in this encoding of `crate::encodings` instead of the default.
    pub encoding: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedMonth {
    pub month: Month,
    pub orders: usize,
    pub claims: usize,
}

impl fmt::Display for GeneratedMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "wrote {}: {} orders, {} claims",
            self.month, self.orders, self.claims
        )
    }
}

/// Writes `<out>/<YYYY-MM>/orders.parquet` and `claims.parquet` for every month of the request.
pub fn generate(request: &GenerateRequest) -> anyhow::Result<Vec<GeneratedMonth>> {
    let months = plan(request)?;

    let mut written = Vec::with_capacity(months.len());
    for month in &months {
        let folder = request.out.join(month.month.to_string());
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("cannot create folder {}", folder.display()))?;
        match &request.encoding {
            Some(name) => crate::encodings::write_orders_named(
                &folder.join(ORDERS_FILE),
                &month.orders,
                name,
            )?,
            None => write_orders(&folder.join(ORDERS_FILE), &month.orders)?,
        }
        write_claims(&folder.join(CLAIMS_FILE), &month.claims)?;
        written.push(GeneratedMonth {
            month: month.month,
            orders: month.orders.len(),
            claims: month.claims.len(),
        });
    }
    Ok(written)
}

/// One month's rows as they will be written: orders sorted by id, claims in register order.
#[derive(Debug)]
struct MonthRows {
    month: Month,
    orders: Vec<Order>,
    claims: Vec<Claim>,
}

/// Computes every month's rows without touching a file.
fn plan(request: &GenerateRequest) -> anyhow::Result<Vec<MonthRows>> {
    let months = months_between(request.first, request.last)?;
    if request.orders_per_month > ORDERS_PER_MONTH_MAX {
        bail!(
            "{} orders per month is more than the {ORDERS_PER_MONTH_MAX} the generator writes",
            request.orders_per_month
        );
    }

    let lancers = lancers(request.seed);
    let mut register: Vec<ClaimHistory> = Vec::new();
    let mut orders_by_month = Vec::with_capacity(months.len());
    for &month in &months {
        let mut rng = month_rng(request.seed, month);
        let mut orders = Vec::with_capacity(request.orders_per_month + EXAMPLES.len());
        for sequence in 1..=request.orders_per_month {
            let order = random_order(&mut rng, &lancers, month, sequence, &orders);
            if let Some(claim) = random_claim(&mut rng, &order) {
                register.push(claim);
            }
            orders.push(order);
        }
        for example in EXAMPLES
            .iter()
            .filter(|example| month.contains(instant(example.completed)))
        {
            orders.push(example.order());
            register.extend(example.claims.iter().map(|claim| claim.history(example)));
        }
        orders.sort_by(|a, b| a.order_id.cmp(&b.order_id));
        orders_by_month.push((month, orders));
    }

    register.sort_by(|a, b| (a.filed_at, &a.claim_id).cmp(&(b.filed_at, &b.claim_id)));
    Ok(orders_by_month
        .into_iter()
        .map(|(month, orders)| MonthRows {
            month,
            orders,
            claims: register
                .iter()
                .filter_map(|claim| claim.as_exported_at(month.cutoff_ns()))
                .collect(),
        })
        .collect())
}

fn months_between(first: Month, last: Month) -> anyhow::Result<Vec<Month>> {
    if first > last {
        bail!("the first month {first} comes after the last month {last}");
    }
    let mut months = vec![first];
    while let Some(&month) = months.last().filter(|&&month| month < last) {
        if months.len() == MONTHS_MAX {
            bail!("{first} to {last} is more than the {MONTHS_MAX} months the generator writes");
        }
        months.push(month.next());
    }
    Ok(months)
}

/// A generator for one month, derived from the seed and the month alone, so that writing
/// 2015-11 by itself gives the same November as writing 2015-10 to 2016-01.
fn month_rng(seed: u64, month: Month) -> StdRng {
    const SPREAD: u64 = 0x9E37_79B9_7F4A_7C15;
    StdRng::seed_from_u64(seed ^ (month.start_ns() as u64).wrapping_mul(SPREAD))
}

/// A lancer of the random population. Certification is judged when an order is placed, so a
/// lancer certified in the middle of the period has uncertified orders before that.
struct Lancer {
    lancer_id: String,
    certified_from_ns: Option<InstantNs>,
}

impl Lancer {
    fn certified_at(&self, instant_ns: InstantNs) -> bool {
        self.certified_from_ns
            .is_some_and(|from| from <= instant_ns)
    }
}

/// About 30% of lancers were certified before the service started; a few more are certified
/// during the sample period.
fn lancers(seed: u64) -> Vec<Lancer> {
    let mut rng = StdRng::seed_from_u64(seed);
    let certified_early_ns = instant("2015-09-01T10:00:00+09:00");
    let late_window_ns = (
        instant("2015-10-15T00:00:00+09:00"),
        instant("2016-03-01T00:00:00+09:00"),
    );
    (1..=LANCER_COUNT)
        .map(|number| {
            let certified_from_ns = if rng.random_ratio(30, 100) {
                Some(certified_early_ns)
            } else if rng.random_ratio(1, 12) {
                Some(whole_seconds(
                    rng.random_range(late_window_ns.0..late_window_ns.1),
                ))
            } else {
                None
            };
            Lancer {
                lancer_id: format!("L{number:04}"),
                certified_from_ns,
            }
        })
        .collect()
}

/// An index skewed towards the low end, so that some clients order far more than others.
fn skewed_index(rng: &mut impl Rng, count: usize) -> usize {
    rng.random_range(0..count).min(rng.random_range(0..count))
}

fn whole_seconds(instant_ns: i64) -> i64 {
    instant_ns - instant_ns.rem_euclid(SECOND_NS)
}

/// A duration between `low_ns` and `high_ns`, in whole seconds.
fn duration_ns(rng: &mut impl Rng, low_ns: i64, high_ns: i64) -> i64 {
    whole_seconds(rng.random_range(low_ns..=high_ns))
}

fn random_work_type(rng: &mut impl Rng) -> WorkType {
    match rng.random_range(0..100) {
        0..70 => WorkType::ProjectFixed,
        70..82 => WorkType::ProjectHourly,
        82..92 => WorkType::Competition,
        _ => WorkType::Task,
    }
}

/// `value` rounded down to a multiple of `step_jpy`.
fn round_down_to(value_jpy: i64, step_jpy: i64) -> i64 {
    value_jpy - value_jpy % step_jpy
}

/// An order amount from ¥1,000 to ¥400,000, shaped by how the work was contracted: tasks are
/// small, competition prizes and fixed prices are often round, hourly work is rate × hours.
fn random_amount_jpy(rng: &mut impl Rng, work_type: WorkType) -> i64 {
    match work_type {
        WorkType::Task => round_down_to(rng.random_range(1_000..=20_000), 100),
        WorkType::Competition => round_down_to(rng.random_range(5_000..=100_000), 1_000),
        WorkType::ProjectHourly => {
            let rate_jpy = round_down_to(rng.random_range(1_000..=5_000), 100);
            let hours = rng.random_range(5..=80);
            rate_jpy * hours
        }
        WorkType::ProjectFixed => {
            let (low_jpy, high_jpy) = match rng.random_range(0..100) {
                0..30 => (1_000, 30_000),
                30..75 => (30_000, 150_000),
                _ => (150_000, 400_000),
            };
            let amount_jpy = rng.random_range(low_jpy..=high_jpy);
            match rng.random_range(0..100) {
                0..50 => round_down_to(amount_jpy, 1_000),
                50..75 => round_down_to(amount_jpy, 100),
                _ => amount_jpy,
            }
        }
    }
}

/// What the marketplace owes the lancer: the amount minus its fee.
fn reward_jpy(amount_jpy: i64) -> i64 {
    amount_jpy - amount_jpy / FEE_DIVISOR
}

/// How long the work took, from order to completion, by kind of work.
fn random_work_ns(rng: &mut impl Rng, work_type: WorkType) -> i64 {
    match work_type {
        WorkType::ProjectFixed => duration_ns(rng, DAY_NS, 45 * DAY_NS),
        WorkType::ProjectHourly => duration_ns(rng, 7 * DAY_NS, 31 * DAY_NS),
        WorkType::Competition => duration_ns(rng, 3 * DAY_NS, 14 * DAY_NS),
        WorkType::Task => duration_ns(rng, HOUR_NS, 3 * DAY_NS),
    }
}

/// How long a request waited for its order: projects are negotiated, the rest start at once.
fn random_request_wait_ns(rng: &mut impl Rng, work_type: WorkType) -> i64 {
    match work_type {
        WorkType::ProjectFixed | WorkType::ProjectHourly => duration_ns(rng, 0, 21 * DAY_NS),
        WorkType::Competition | WorkType::Task => duration_ns(rng, 0, 2 * DAY_NS),
    }
}

/// One random order completed in `month`. About one in twenty fixed-price orders is a further
/// milestone of a request that already has an order this month, placed with the same parties.
fn random_order(
    rng: &mut StdRng,
    lancers: &[Lancer],
    month: Month,
    sequence: usize,
    earlier: &[Order],
) -> Order {
    let month_seconds = (month.cutoff_ns() - month.start_ns()) / SECOND_NS;
    let completed_at = month.start_ns() + rng.random_range(0..month_seconds) * SECOND_NS;

    let milestone_of = if !earlier.is_empty() && rng.random_ratio(1, 20) {
        let parent = &earlier[rng.random_range(0..earlier.len())];
        let fits = parent.work_type == WorkType::ProjectFixed && parent.ordered_at <= completed_at;
        fits.then_some(parent)
    } else {
        None
    };

    let order_id = format!("O{month}-{sequence:04}");
    let order = match milestone_of {
        Some(parent) => {
            let ordered_at = parent.ordered_at
                + duration_ns(rng, 0, completed_at - parent.ordered_at).min(DAY_NS * 30);
            let lancer = lancers
                .iter()
                .find(|lancer| lancer.lancer_id == parent.lancer_id)
                .expect("a random order's lancer is in the population");
            let amount_jpy = random_amount_jpy(rng, parent.work_type);
            Order {
                order_id,
                request_id: parent.request_id.clone(),
                client_id: parent.client_id.clone(),
                lancer_id: parent.lancer_id.clone(),
                work_type: parent.work_type,
                lancer_certified: lancer.certified_at(ordered_at),
                request_created_at: parent.request_created_at,
                ordered_at,
                completed_at,
                amount_jpy,
                reward_jpy: reward_jpy(amount_jpy),
            }
        }
        None => {
            let work_type = random_work_type(rng);
            let ordered_at = completed_at - random_work_ns(rng, work_type);
            let request_created_at = ordered_at - random_request_wait_ns(rng, work_type);
            let client_number = skewed_index(rng, CLIENT_COUNT) + 1;
            let lancer = &lancers[rng.random_range(0..lancers.len())];
            let amount_jpy = random_amount_jpy(rng, work_type);
            Order {
                order_id,
                request_id: format!("R{month}-{sequence:04}"),
                client_id: format!("C{client_number:04}"),
                lancer_id: lancer.lancer_id.clone(),
                work_type,
                lancer_certified: lancer.certified_at(ordered_at),
                request_created_at,
                ordered_at,
                completed_at,
                amount_jpy,
                reward_jpy: reward_jpy(amount_jpy),
            }
        }
    };
    debug_assert!(order.request_created_at <= order.ordered_at);
    debug_assert!(order.ordered_at <= order.completed_at);
    order
}

/// A claim in the register over its whole life: filed once, decided once or never.
#[derive(Debug, Clone)]
struct ClaimHistory {
    claim_id: String,
    order_id: String,
    filed_at: InstantNs,
    decision: Option<Decision>,
}

#[derive(Debug, Clone, Copy)]
struct Decision {
    decided_at: InstantNs,
    status: ClaimStatus,
    payout_decision: Option<PayoutDecision>,
}

impl ClaimHistory {
    /// The claim as the register exported at `cutoff_ns` shows it, or `None` when it had not
    /// been filed yet. A decision taken at or after the cutoff is not known at the export.
    fn as_exported_at(&self, cutoff_ns: InstantNs) -> Option<Claim> {
        if self.filed_at >= cutoff_ns {
            return None;
        }
        let decision = self.decision.filter(|d| d.decided_at < cutoff_ns);
        Some(Claim {
            claim_id: self.claim_id.clone(),
            order_id: self.order_id.clone(),
            filed_at: self.filed_at,
            status: decision.map_or(ClaimStatus::UnderReview, |d| d.status),
            decided_at: decision.map(|d| d.decided_at),
            payout_decision: decision.and_then(|d| d.payout_decision),
        })
    }
}

/// A claim on about 1.5% of orders, filed within weeks of completion (often in the same month,
/// so that the payout is held) and decided weeks later, or still under review.
fn random_claim(rng: &mut StdRng, order: &Order) -> Option<ClaimHistory> {
    if !rng.random_ratio(3, 200) {
        return None;
    }
    let filed_at = order.completed_at + duration_ns(rng, 2 * HOUR_NS, 25 * DAY_NS);
    let decision = if rng.random_ratio(1, 5) {
        None
    } else {
        let decided_at = filed_at + duration_ns(rng, 2 * DAY_NS, 70 * DAY_NS);
        let (status, payout_decision) = match rng.random_range(0..100) {
            0..25 => (ClaimStatus::Approved, Some(PayoutDecision::Release)),
            25..45 => (ClaimStatus::Approved, Some(PayoutDecision::Forfeit)),
            45..80 => (ClaimStatus::Rejected, None),
            _ => (ClaimStatus::Withdrawn, None),
        };
        Some(Decision {
            decided_at,
            status,
            payout_decision,
        })
    };
    Some(ClaimHistory {
        claim_id: format!("{}-K1", order.order_id),
        order_id: order.order_id.clone(),
        filed_at,
        decision,
    })
}

/// A worked example of SPEC.md. Times are RFC 3339 text so that they read as the spec writes
/// them. The client and lancer are named after the request, one pair per example, so that
/// each example has its own rows in the client and lancer files.
struct Example {
    order_id: &'static str,
    request_id: &'static str,
    work_type: WorkType,
    lancer_certified: bool,
    requested: &'static str,
    ordered: &'static str,
    completed: &'static str,
    amount_jpy: i64,
    claims: &'static [ExampleClaim],
}

struct ExampleClaim {
    claim_id: &'static str,
    filed: &'static str,
    /// When it is decided, how, and what it decides about the payout; `None` while it stays
    /// under review for good.
    decision: Option<(&'static str, ClaimStatus, Option<PayoutDecision>)>,
}

impl Example {
    fn order(&self) -> Order {
        Order {
            order_id: self.order_id.to_string(),
            request_id: self.request_id.to_string(),
            client_id: format!("{}-CLIENT", self.request_id),
            lancer_id: format!("{}-LANCER", self.request_id),
            work_type: self.work_type,
            lancer_certified: self.lancer_certified,
            request_created_at: instant(self.requested),
            ordered_at: instant(self.ordered),
            completed_at: instant(self.completed),
            amount_jpy: self.amount_jpy,
            reward_jpy: reward_jpy(self.amount_jpy),
        }
    }
}

impl ExampleClaim {
    fn history(&self, example: &Example) -> ClaimHistory {
        ClaimHistory {
            claim_id: self.claim_id.to_string(),
            order_id: example.order_id.to_string(),
            filed_at: instant(self.filed),
            decision: self
                .decision
                .map(|(decided, status, payout_decision)| Decision {
                    decided_at: instant(decided),
                    status,
                    payout_decision,
                }),
        }
    }
}

/// Parses a constant RFC 3339 time of this module.
fn instant(text: &str) -> InstantNs {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .and_then(datetime_to_ns)
        .unwrap_or_else(|| panic!("{text:?} is not a valid RFC 3339 instant"))
}

const fn example(
    order_id: &'static str,
    requested: &'static str,
    ordered: &'static str,
    completed: &'static str,
    amount_jpy: i64,
) -> Example {
    Example {
        order_id,
        request_id: order_id,
        work_type: WorkType::ProjectFixed,
        lancer_certified: true,
        requested,
        ordered,
        completed,
        amount_jpy,
        claims: &[],
    }
}

/// The worked examples of SPEC.md, each in the month it completes. Every one is a certified
/// lancer's fixed-price order with no claim unless it says otherwise.
const EXAMPLES: &[Example] = &[
    // §3 rule 3: requested and placed at 15:00 on 10-07, after the 14:00 start: covered. The
    // surcharge is waived in the free window (§4); the rebate is 0.3% of ¥40,000 = 120 (§5).
    example(
        "EX-COVERED-1007-1500",
        "2015-10-07T15:00:00+09:00",
        "2015-10-07T15:00:00+09:00",
        "2015-10-21T11:00:00+09:00",
        40_000,
    ),
    // §3 rule 3: requested and placed at 13:00 on 10-07, before the start:
    // requested_before_start.
    example(
        "EX-BEFORE-START-1007-1300",
        "2015-10-07T13:00:00+09:00",
        "2015-10-07T13:00:00+09:00",
        "2015-10-15T17:00:00+09:00",
        40_000,
    ),
    // §3 rule 3: requested at 13:00 on 10-07 and ordered on 10-08: the request came before the
    // start, so requested_before_start although the order came after it.
    Example {
        request_id: "EX-OLD-REQUEST",
        ..example(
            "EX-OLD-REQUEST-ORDERED-1008",
            "2015-10-07T13:00:00+09:00",
            "2015-10-08T10:00:00+09:00",
            "2015-10-22T16:00:00+09:00",
            60_000,
        )
    },
    // §3 rule 3: a milestone added on 10-08 to the same old request shares its request_id and
    // its creation time: requested_before_start too.
    Example {
        request_id: "EX-OLD-REQUEST",
        ..example(
            "EX-OLD-REQUEST-MILESTONE-1008",
            "2015-10-07T13:00:00+09:00",
            "2015-10-08T17:30:00+09:00",
            "2015-10-29T12:00:00+09:00",
            30_000,
        )
    },
    // §5: ¥10,000 × 0.3% = 30, below the floor: rebate 50.
    example(
        "EX-REBATE-FLOOR-10000",
        "2015-10-09T09:00:00+09:00",
        "2015-10-09T11:00:00+09:00",
        "2015-10-16T18:00:00+09:00",
        10_000,
    ),
    // §6: a claim filed in October and still under review at October's cutoff holds the
    // payout (a hold opens); it is still under review at November's cutoff (the hold stays
    // open) and is rejected in December, so the hold is released and paid in December.
    Example {
        claims: &[ExampleClaim {
            claim_id: "EX-HOLD-RELEASED-LATER-K1",
            filed: "2015-10-26T10:00:00+09:00",
            decision: Some(("2015-12-09T15:00:00+09:00", ClaimStatus::Rejected, None)),
        }],
        ..example(
            "EX-HOLD-RELEASED-LATER",
            "2015-10-08T09:00:00+09:00",
            "2015-10-09T10:00:00+09:00",
            "2015-10-20T18:00:00+09:00",
            80_000,
        )
    },
    // §2: completed at 2015-10-31T15:30:00Z, which is 2015-11-01 00:30 JST: settled in
    // November, not October.
    example(
        "EX-COMPLETED-1031-1530Z",
        "2015-10-19T09:00:00+09:00",
        "2015-10-19T14:00:00+09:00",
        "2015-10-31T15:30:00Z",
        20_000,
    ),
    // §5: ¥16,666 × 0.3% = 49.998, rounded down to 49, below the floor: rebate 50.
    example(
        "EX-REBATE-FLOOR-16666",
        "2015-11-02T10:00:00+09:00",
        "2015-11-04T10:00:00+09:00",
        "2015-11-11T19:00:00+09:00",
        16_666,
    ),
    // §6: held in November (claim under review at the cutoff), then the claim is approved with
    // a forfeit in December: the hold is forfeited in December.
    Example {
        claims: &[ExampleClaim {
            claim_id: "EX-HOLD-FORFEITED-K1",
            filed: "2015-11-20T11:00:00+09:00",
            decision: Some((
                "2015-12-14T16:00:00+09:00",
                ClaimStatus::Approved,
                Some(PayoutDecision::Forfeit),
            )),
        }],
        ..example(
            "EX-HOLD-FORFEITED",
            "2015-10-26T10:00:00+09:00",
            "2015-10-28T10:00:00+09:00",
            "2015-11-12T15:00:00+09:00",
            120_000,
        )
    },
    // §6: holds apply to uncovered orders too. An hourly project (not_fixed_price) with a claim
    // under review at November's and December's cutoffs, withdrawn in January: held in
    // November, still open in December, released in January.
    Example {
        work_type: WorkType::ProjectHourly,
        claims: &[ExampleClaim {
            claim_id: "EX-HOLD-UNCOVERED-K1",
            filed: "2015-11-25T09:30:00+09:00",
            decision: Some(("2016-01-12T10:00:00+09:00", ClaimStatus::Withdrawn, None)),
        }],
        ..example(
            "EX-HOLD-UNCOVERED",
            "2015-10-30T10:00:00+09:00",
            "2015-11-02T09:00:00+09:00",
            "2015-11-18T18:00:00+09:00",
            96_000,
        )
    },
    // §4: placed on 11-30, inside the free window, and completed on 12-05: settled in
    // December with a surcharge of 0.
    example(
        "EX-PLACED-1130-DONE-1205",
        "2015-11-27T10:00:00+09:00",
        "2015-11-30T10:00:00+09:00",
        "2015-12-05T14:00:00+09:00",
        60_000,
    ),
    // §4: the last second of the free window: placed 2015-11-30 23:59:59 JST, surcharge 0.
    example(
        "EX-FREE-WINDOW-LAST-SECOND",
        "2015-11-30T20:00:00+09:00",
        "2015-11-30T23:59:59+09:00",
        "2015-12-10T12:00:00+09:00",
        100_000,
    ),
    // §4: the first second after the free window: placed 2015-12-01 00:00:00 JST, surcharge
    // 2% of ¥100,000 = 2,000.
    example(
        "EX-FREE-WINDOW-FIRST-SECOND",
        "2015-11-30T20:00:00+09:00",
        "2015-12-01T00:00:00+09:00",
        "2015-12-10T12:00:00+09:00",
        100_000,
    ),
    // §4 and §5, the notice's example: a ¥50,000 logo order placed in December 2015 pays a
    // surcharge of ¥1,000 and earns a rebate of ¥150; the lancer is paid 40,000 + 150.
    example(
        "EX-LOGO-50000",
        "2015-12-01T15:00:00+09:00",
        "2015-12-03T11:00:00+09:00",
        "2015-12-18T17:00:00+09:00",
        50_000,
    ),
    // §6: an order with two claims. The first is withdrawn in December; the second is under
    // review at December's cutoff, so the order is held in December with claim_ids listing
    // both, and released in January when the second is approved with a release.
    Example {
        claims: &[
            ExampleClaim {
                claim_id: "EX-TWO-CLAIMS-K1",
                filed: "2015-12-10T10:00:00+09:00",
                decision: Some(("2015-12-20T10:00:00+09:00", ClaimStatus::Withdrawn, None)),
            },
            ExampleClaim {
                claim_id: "EX-TWO-CLAIMS-K2",
                filed: "2015-12-22T13:00:00+09:00",
                decision: Some((
                    "2016-01-20T12:00:00+09:00",
                    ClaimStatus::Approved,
                    Some(PayoutDecision::Release),
                )),
            },
        ],
        ..example(
            "EX-TWO-CLAIMS",
            "2015-11-10T10:00:00+09:00",
            "2015-11-12T10:00:00+09:00",
            "2015-12-08T16:00:00+09:00",
            70_000,
        )
    },
    // §5: ¥116,500 × 0.3% = 349.5, rounded down: rebate 349. Placed after the free window, so
    // the surcharge is 2% = 2,330.
    example(
        "EX-REBATE-116500",
        "2015-12-20T10:00:00+09:00",
        "2015-12-22T10:00:00+09:00",
        "2016-01-14T15:00:00+09:00",
        116_500,
    ),
    // §3 rule 1: a competition is not a fixed-price project: not_fixed_price.
    Example {
        work_type: WorkType::Competition,
        ..example(
            "EX-NOT-FIXED-PRICE",
            "2015-12-28T10:00:00+09:00",
            "2016-01-05T10:00:00+09:00",
            "2016-01-15T10:00:00+09:00",
            30_000,
        )
    },
    // §3 rule 2: the lancer was not certified when the order was placed: lancer_not_certified.
    Example {
        lancer_certified: false,
        ..example(
            "EX-LANCER-NOT-CERTIFIED",
            "2016-01-04T10:00:00+09:00",
            "2016-01-05T10:00:00+09:00",
            "2016-01-18T10:00:00+09:00",
            30_000,
        )
    },
    // §6: a claim filed and approved with a forfeit within the month the order completes: the
    // line is forfeited at once, no hold is opened.
    Example {
        claims: &[ExampleClaim {
            claim_id: "EX-FORFEITED-SAME-MONTH-K1",
            filed: "2016-01-08T10:00:00+09:00",
            decision: Some((
                "2016-01-25T10:00:00+09:00",
                ClaimStatus::Approved,
                Some(PayoutDecision::Forfeit),
            )),
        }],
        ..example(
            "EX-FORFEITED-SAME-MONTH",
            "2015-12-14T10:00:00+09:00",
            "2015-12-15T10:00:00+09:00",
            "2016-01-06T10:00:00+09:00",
            45_000,
        )
    },
    // §6: a claim filed and rejected within the month: the order is paid, and its line lists
    // the claim.
    Example {
        claims: &[ExampleClaim {
            claim_id: "EX-CLAIM-REJECTED-SAME-MONTH-K1",
            filed: "2016-01-11T10:00:00+09:00",
            decision: Some(("2016-01-22T10:00:00+09:00", ClaimStatus::Rejected, None)),
        }],
        ..example(
            "EX-CLAIM-REJECTED-SAME-MONTH",
            "2015-12-16T10:00:00+09:00",
            "2015-12-17T10:00:00+09:00",
            "2016-01-08T10:00:00+09:00",
            25_000,
        )
    },
    // §6: a claim that is never decided: held in January and still open at the cutoff.
    Example {
        claims: &[ExampleClaim {
            claim_id: "EX-HOLD-STILL-OPEN-K1",
            filed: "2016-01-19T10:00:00+09:00",
            decision: None,
        }],
        ..example(
            "EX-HOLD-STILL-OPEN",
            "2015-12-21T10:00:00+09:00",
            "2015-12-24T10:00:00+09:00",
            "2016-01-12T10:00:00+09:00",
            150_000,
        )
    },
    // §3 rule 5: placed at the last second of the service, 2017-12-31 23:59:59 JST, and
    // completed after the end: still covered, settled in January 2018.
    example(
        "EX-ORDERED-LAST-SECOND-OF-SERVICE",
        "2017-12-28T10:00:00+09:00",
        "2017-12-31T23:59:59+09:00",
        "2018-01-10T10:00:00+09:00",
        100_000,
    ),
    // §3 rule 5: placed at 2018-01-01 00:00:00 JST, the end of the service: ordered_after_end.
    example(
        "EX-ORDERED-AFTER-END",
        "2017-12-28T10:00:00+09:00",
        "2018-01-01T00:00:00+09:00",
        "2018-01-15T10:00:00+09:00",
        100_000,
    ),
];

/// Writes orders as an orders file of SPEC §7, in the given row order. Tests use it to write
/// inputs of their own; every instant must be a whole microsecond.
pub fn write_orders(path: &Path, orders: &[Order]) -> anyhow::Result<()> {
    let columns = vec![
        text("order_id", orders.iter().map(|o| o.order_id.as_str())),
        text("request_id", orders.iter().map(|o| o.request_id.as_str())),
        text("client_id", orders.iter().map(|o| o.client_id.as_str())),
        text("lancer_id", orders.iter().map(|o| o.lancer_id.as_str())),
        text("work_type", orders.iter().map(|o| o.work_type.as_str())),
        Column::new(
            "lancer_certified".into(),
            orders
                .iter()
                .map(|o| o.lancer_certified)
                .collect::<Vec<_>>(),
        ),
        instants(
            path,
            "request_created_at",
            orders.iter().map(|o| Some(o.request_created_at)),
        )?,
        instants(
            path,
            "ordered_at",
            orders.iter().map(|o| Some(o.ordered_at)),
        )?,
        instants(
            path,
            "completed_at",
            orders.iter().map(|o| Some(o.completed_at)),
        )?,
        Column::new(
            "amount_jpy".into(),
            orders.iter().map(|o| o.amount_jpy).collect::<Vec<_>>(),
        ),
        Column::new(
            "reward_jpy".into(),
            orders.iter().map(|o| o.reward_jpy).collect::<Vec<_>>(),
        ),
    ];
    write_parquet(path, orders.len(), columns)
}

/// Writes claims as a claims register of SPEC §7, in the given row order, `decided_at` and
/// `payout_decision` empty where they are `None`. Every instant must be a whole microsecond.
pub fn write_claims(path: &Path, claims: &[Claim]) -> anyhow::Result<()> {
    let columns = vec![
        text("claim_id", claims.iter().map(|c| c.claim_id.as_str())),
        text("order_id", claims.iter().map(|c| c.order_id.as_str())),
        instants(path, "filed_at", claims.iter().map(|c| Some(c.filed_at)))?,
        text("status", claims.iter().map(|c| c.status.as_str())),
        instants(path, "decided_at", claims.iter().map(|c| c.decided_at))?,
        Column::new(
            "payout_decision".into(),
            claims
                .iter()
                .map(|c| c.payout_decision.map(PayoutDecision::as_str))
                .collect::<Vec<_>>(),
        ),
    ];
    write_parquet(path, claims.len(), columns)
}

/// A timestamp column in microseconds with zone UTC, as Spark writes them. Every generated
/// instant is a whole second; an instant with a fraction of a microsecond cannot be written
/// exactly, and is refused rather than rounded.
fn instants(
    path: &Path,
    name: &str,
    values: impl Iterator<Item = Option<InstantNs>>,
) -> anyhow::Result<Column> {
    let mut micros: Vec<Option<i64>> = Vec::new();
    for value in values {
        if let Some(instant_ns) = value.filter(|ns| ns % NS_PER_MICROSECOND != 0) {
            bail!(
                "cannot write {}: {name} {} is not a whole microsecond",
                path.display(),
                format_jst(instant_ns)
            );
        }
        micros.push(value.map(|instant_ns| instant_ns / NS_PER_MICROSECOND));
    }
    Ok(Series::new(name.into(), micros)
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        .into())
}

fn write_parquet(path: &Path, rows: usize, columns: Vec<Column>) -> anyhow::Result<()> {
    let frame = DataFrame::new(rows, columns)
        .with_context(|| format!("cannot lay out the rows of {}", path.display()))?;
    write_frame(path, frame)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::input::{read_claims, read_orders};
    use crate::validate::{validate_claims, validate_orders};

    fn request(out: &Path, first: &str, last: &str, orders_per_month: usize) -> GenerateRequest {
        GenerateRequest {
            out: out.to_path_buf(),
            first: first.parse().unwrap(),
            last: last.parse().unwrap(),
            seed: 20151007,
            orders_per_month,
            encoding: None,
        }
    }

    fn files_below(folder: &Path) -> Vec<(String, Vec<u8>)> {
        let mut files = Vec::new();
        for month in std::fs::read_dir(folder).unwrap() {
            let month = month.unwrap().path();
            for file in std::fs::read_dir(&month).unwrap() {
                let file = file.unwrap().path();
                let name = file.strip_prefix(folder).unwrap().display().to_string();
                files.push((name, std::fs::read(&file).unwrap()));
            }
        }
        files.sort();
        files
    }

    #[test]
    fn the_same_seed_writes_identical_bytes() {
        let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        generate(&request(one.path(), "2015-10", "2015-12", 120)).unwrap();
        generate(&request(two.path(), "2015-10", "2015-12", 120)).unwrap();

        let (first, second) = (files_below(one.path()), files_below(two.path()));
        assert_eq!(first.len(), 6);
        for ((name, bytes), (other_name, other_bytes)) in first.iter().zip(&second) {
            assert_eq!(name, other_name);
            assert!(bytes == other_bytes, "{name} differs between two runs");
        }

        let three = tempfile::tempdir().unwrap();
        let mut reseeded = request(three.path(), "2015-10", "2015-12", 120);
        reseeded.seed += 1;
        generate(&reseeded).unwrap();
        assert_ne!(
            files_below(three.path()),
            first,
            "another seed writes other files"
        );
    }

    #[test]
    fn every_order_completes_in_its_month_after_it_was_requested_and_placed() {
        let months = plan(&request(Path::new("unused"), "2015-10", "2016-01", 300)).unwrap();

        let mut order_ids = BTreeSet::new();
        for month in &months {
            assert!(month.orders.len() >= 300, "{}", month.month);
            for order in &month.orders {
                let id = &order.order_id;
                assert!(
                    month.month.contains(order.completed_at),
                    "{id} not in {}",
                    month.month
                );
                assert!(order.request_created_at <= order.ordered_at, "{id}");
                assert!(order.ordered_at <= order.completed_at, "{id}");
                assert!((1_000..=400_000).contains(&order.amount_jpy), "{id}");
                assert_eq!(
                    order.reward_jpy,
                    order.amount_jpy - order.amount_jpy / 5,
                    "{id}"
                );
                assert!(order_ids.insert(id.clone()), "{id} appears twice");
            }
        }
    }

    #[test]
    fn a_months_random_orders_do_not_depend_on_the_other_months_written() {
        let alone = plan(&request(Path::new("unused"), "2015-11", "2015-11", 50)).unwrap();
        let chain = plan(&request(Path::new("unused"), "2015-10", "2016-01", 50)).unwrap();
        assert_eq!(alone[0].orders, chain[1].orders);
    }

    #[test]
    fn examples_are_written_only_into_the_month_they_complete() {
        let november = plan(&request(Path::new("unused"), "2015-11", "2015-11", 0)).unwrap();
        let ids: Vec<&str> = november[0]
            .orders
            .iter()
            .map(|o| o.order_id.as_str())
            .collect();
        assert!(ids.contains(&"EX-COMPLETED-1031-1530Z"), "{ids:?}");
        assert!(!ids.contains(&"EX-COVERED-1007-1500"), "{ids:?}");
        assert!(!ids.contains(&"EX-LOGO-50000"), "{ids:?}");

        let service_end = plan(&request(Path::new("unused"), "2017-12", "2018-01", 0)).unwrap();
        let january_2018: Vec<&str> = service_end[1]
            .orders
            .iter()
            .map(|o| o.order_id.as_str())
            .collect();
        assert_eq!(
            january_2018,
            ["EX-ORDERED-AFTER-END", "EX-ORDERED-LAST-SECOND-OF-SERVICE"]
        );
    }

    #[test]
    fn each_claims_register_shows_what_was_known_at_its_cutoff() {
        let months = plan(&request(Path::new("unused"), "2015-10", "2016-01", 0)).unwrap();
        let status_in = |month: usize, claim_id: &str| {
            months[month]
                .claims
                .iter()
                .find(|c| c.claim_id == claim_id)
                .map(|c| (c.status, c.decided_at.is_some()))
        };

        let claim = "EX-HOLD-RELEASED-LATER-K1";
        assert_eq!(status_in(0, claim), Some((ClaimStatus::UnderReview, false)));
        assert_eq!(status_in(1, claim), Some((ClaimStatus::UnderReview, false)));
        assert_eq!(status_in(2, claim), Some((ClaimStatus::Rejected, true)));
        assert_eq!(status_in(1, "EX-TWO-CLAIMS-K1"), None, "filed in December");
        assert_eq!(
            status_in(3, "EX-HOLD-STILL-OPEN-K1"),
            Some((ClaimStatus::UnderReview, false))
        );
        for pair in months.windows(2) {
            assert!(
                pair[0].claims.len() <= pair[1].claims.len(),
                "the register only grows"
            );
        }
    }

    #[test]
    fn the_written_files_pass_the_jobs_validation() {
        let out = tempfile::tempdir().unwrap();
        let written = generate(&request(out.path(), "2015-10", "2016-01", 300)).unwrap();
        let zone = crate::calendar::BUSINESS_ZONE;

        let mut order_ids = BTreeSet::new();
        for generated in &written {
            let folder = out.path().join(generated.month.to_string());
            let (_, raw_orders) = read_orders(&[folder.join(ORDERS_FILE)], zone, 0).unwrap();
            let (_, raw_claims) = read_claims(&[folder.join(CLAIMS_FILE)], zone, 1).unwrap();
            assert_eq!(raw_orders.len(), generated.orders);
            assert_eq!(raw_claims.len(), generated.claims);

            let orders = validate_orders(&raw_orders, generated.month, |_| None);
            assert_eq!(orders.rejected, [], "{}", generated.month);
            assert_eq!(orders.out_of_month_rows, 0, "{}", generated.month);
            order_ids.extend(orders.orders.into_iter().map(|o| o.order_id));

            let claims = validate_claims(&raw_claims);
            assert_eq!(claims.rejected, [], "{}", generated.month);
            for claim in &claims.claims {
                assert!(order_ids.contains(&claim.order_id), "{}", claim.claim_id);
            }
        }
    }

    #[test]
    fn a_reversed_or_oversized_request_is_refused() {
        let reversed = request(Path::new("unused"), "2016-01", "2015-10", 1);
        let error = plan(&reversed).unwrap_err().to_string();
        assert!(error.contains("comes after"), "{error}");
        let oversized = request(Path::new("unused"), "2015-10", "2015-10", usize::MAX);
        assert!(plan(&oversized).is_err());
    }

    #[test]
    fn an_instant_finer_than_a_microsecond_is_refused_not_rounded() {
        let out = tempfile::tempdir().unwrap();
        let path = out.path().join(CLAIMS_FILE);
        let claim = Claim {
            claim_id: "K".into(),
            order_id: "O".into(),
            filed_at: instant("2015-10-20T10:00:00+09:00") + 1,
            status: ClaimStatus::UnderReview,
            decided_at: None,
            payout_decision: None,
        };
        let error = write_claims(&path, &[claim]).unwrap_err().to_string();
        assert!(
            error.contains("filed_at") && error.contains(CLAIMS_FILE),
            "{error}"
        );
    }

    #[test]
    fn an_unwritable_folder_is_named_in_the_error() {
        let out = tempfile::tempdir().unwrap();
        let blocker = out.path().join("not-a-folder");
        std::fs::write(&blocker, b"").unwrap();
        let error = generate(&request(&blocker, "2015-10", "2015-10", 1)).unwrap_err();
        assert!(format!("{error:#}").contains("not-a-folder"), "{error:#}");
    }
}
