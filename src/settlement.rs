//! One month's settlement computed from validated inputs: order lines, client charges, lancer
//! payouts, holds and hold events, and the control totals that must tie.
//!
//! Pure: no file, clock or environment. The caller hands in the month's valid orders, every
//! valid claim, the orders named by rejected claim rows, and the holds open at the previous
//! cutoff. Every order becomes exactly one line; every opening hold is either still open or
//! has exactly one event; the totals are checked before a `Settlement` is returned, so a
//! settlement that exists is one whose books balance.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{bail, Context};

use crate::calendar::Month;
use crate::model::{Claim, HoldEvent, Order, PayoutStatus};
use crate::policy::Rules;
use crate::rules::{self, ClaimState, Pricing};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub order: Order,
    pub pricing: Pricing,
    pub payout_status: PayoutStatus,
    /// The order's known claims at the cutoff, sorted and joined with `;`.
    pub claim_ids: String,
}

/// A lancer's payout withheld while a claim is under review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub order_id: String,
    pub lancer_id: String,
    pub reward_jpy: i64,
    pub rebate_jpy: i64,
    pub payout_jpy: i64,
    pub opened_month: Month,
    pub claim_ids: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HoldEventRow {
    pub order_id: String,
    pub lancer_id: String,
    pub event: HoldEvent,
    pub payout_jpy: i64,
    pub opened_month: Month,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClientCharge {
    pub client_id: String,
    pub orders: u64,
    pub covered_orders: u64,
    pub amount_jpy: i64,
    pub surcharge_jpy: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LancerPayout {
    pub lancer_id: String,
    pub reward_paid_jpy: i64,
    pub rebate_paid_jpy: i64,
    pub released_jpy: i64,
    pub payable_jpy: i64,
    pub held_jpy: i64,
    pub forfeited_jpy: i64,
}

/// A count and an amount, the two ways a set of holds is totalled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tally {
    pub count: u64,
    pub jpy: i64,
}

impl Tally {
    fn add(&mut self, jpy: i64, what: &str) -> anyhow::Result<()> {
        self.count += 1;
        add_jpy(&mut self.jpy, jpy, what)
    }
}

/// The totals of SPEC §8 that must tie, as recorded in the manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ControlTotals {
    pub order_lines: u64,
    pub covered_lines: u64,
    pub amount_jpy: i64,
    pub reward_jpy: i64,
    pub surcharge_lines_jpy: i64,
    pub surcharge_clients_jpy: i64,
    pub rebate_jpy: i64,
    pub paid_lines_payout_jpy: i64,
    pub released_jpy: i64,
    pub payable_jpy: i64,
    pub forfeited_jpy: i64,
    pub holds_opening: Tally,
    pub holds_opened: Tally,
    pub holds_released: Tally,
    pub holds_forfeited: Tally,
    pub holds_closing: Tally,
}

#[derive(Debug, Clone, Default)]
pub struct Settlement {
    pub lines: Vec<OrderLine>,
    pub client_charges: Vec<ClientCharge>,
    pub lancer_payouts: Vec<LancerPayout>,
    pub holds: Vec<Hold>,
    pub hold_events: Vec<HoldEventRow>,
    pub totals: ControlTotals,
    /// Conditions finance should look at that do not stop the run.
    pub warnings: Vec<String>,
}

pub struct MonthInputs<'a> {
    pub month: Month,
    pub rules: &'a Rules,
    pub orders: Vec<Order>,
    pub claims: &'a [Claim],
    /// Orders named by claim rows that were rejected: they are held until the row is fixed.
    pub orders_with_rejected_claims: &'a BTreeSet<String>,
    pub opening_holds: Vec<Hold>,
}

fn add_jpy(total: &mut i64, jpy: i64, what: &str) -> anyhow::Result<()> {
    *total = total
        .checked_add(jpy)
        .with_context(|| format!("the total of {what} overflows a signed 64-bit integer"))?;
    Ok(())
}

struct ClaimBook<'a> {
    cutoff_ns: i64,
    known_by_order: HashMap<&'a str, Vec<&'a Claim>>,
    orders_with_rejected_claims: &'a BTreeSet<String>,
}

impl<'a> ClaimBook<'a> {
    fn new(inputs: &'a MonthInputs<'a>) -> ClaimBook<'a> {
        let cutoff_ns = inputs.month.cutoff_ns();
        let mut known_by_order: HashMap<&str, Vec<&Claim>> = HashMap::new();
        for claim in inputs
            .claims
            .iter()
            .filter(|claim| rules::is_known(claim, cutoff_ns))
        {
            known_by_order
                .entry(claim.order_id.as_str())
                .or_default()
                .push(claim);
        }
        ClaimBook {
            cutoff_ns,
            known_by_order,
            orders_with_rejected_claims: inputs.orders_with_rejected_claims,
        }
    }

    fn known(&self, order_id: &str) -> &[&'a Claim] {
        self.known_by_order
            .get(order_id)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The order's claim state; an order named by a rejected claim row counts as under review.
    fn state(&self, order_id: &str) -> ClaimState {
        let state = rules::claim_state(self.known(order_id).iter().copied(), self.cutoff_ns);
        if self.orders_with_rejected_claims.contains(order_id) {
            state.max(ClaimState::UnderReview)
        } else {
            state
        }
    }

    fn claim_ids(&self, order_id: &str) -> String {
        let mut ids: Vec<&str> = self
            .known(order_id)
            .iter()
            .map(|c| c.claim_id.as_str())
            .collect();
        ids.sort_unstable();
        ids.join(";")
    }
}

pub fn settle(inputs: MonthInputs<'_>) -> anyhow::Result<Settlement> {
    let book = ClaimBook::new(&inputs);
    let mut settlement = Settlement::default();

    let lines = order_lines(&inputs, &book)?;
    let (holds, events) = roll_holds(&inputs, &book, &lines, &mut settlement.warnings)?;
    settlement.client_charges = client_charges(&lines)?;
    settlement.lancer_payouts = lancer_payouts(&lines, &holds, &events)?;
    settlement.totals =
        control_totals(&lines, &inputs.opening_holds, &holds, &events, &settlement)?;
    settlement.lines = lines;
    settlement.holds = holds;
    settlement.hold_events = events;

    check_totals(&settlement.totals)?;
    Ok(settlement)
}

fn order_lines(inputs: &MonthInputs<'_>, book: &ClaimBook<'_>) -> anyhow::Result<Vec<OrderLine>> {
    let mut lines = Vec::with_capacity(inputs.orders.len());
    for order in &inputs.orders {
        let pricing = rules::price(order, inputs.rules)?;
        let payout_status = rules::payout_status(book.state(&order.order_id));
        let claim_ids = book.claim_ids(&order.order_id);
        lines.push(OrderLine {
            order: order.clone(),
            pricing,
            payout_status,
            claim_ids,
        });
    }
    lines.sort_by(|a, b| a.order.order_id.cmp(&b.order.order_id));
    if let Some(pair) = lines
        .windows(2)
        .find(|pair| pair[0].order.order_id == pair[1].order.order_id)
    {
        bail!(
            "order {} would be settled twice in one month",
            pair[0].order.order_id
        );
    }
    Ok(lines)
}

/// Carries the previous month's open holds through this month's claims and opens a hold for
/// every line held now. Returns the holds open at the cutoff and the month's hold events.
fn roll_holds(
    inputs: &MonthInputs<'_>,
    book: &ClaimBook<'_>,
    lines: &[OrderLine],
    warnings: &mut Vec<String>,
) -> anyhow::Result<(Vec<Hold>, Vec<HoldEventRow>)> {
    let mut holds = Vec::new();
    let mut events = Vec::new();
    let mut seen = BTreeSet::new();
    for hold in &inputs.opening_holds {
        if !seen.insert(hold.order_id.as_str()) {
            bail!("the opening holds name order {} twice", hold.order_id);
        }
        let event = match book.state(&hold.order_id) {
            ClaimState::UnderReview => None,
            ClaimState::None => {
                warnings.push(format!(
                    "hold on order {} (opened {}) has no claim in the claims input; it stays open",
                    hold.order_id, hold.opened_month
                ));
                None
            }
            ClaimState::Release => Some(HoldEvent::Released),
            ClaimState::Forfeit => Some(HoldEvent::Forfeited),
        };
        match event {
            None => {
                let claim_ids = book.claim_ids(&hold.order_id);
                let claim_ids = if claim_ids.is_empty() {
                    hold.claim_ids.clone()
                } else {
                    claim_ids
                };
                holds.push(Hold {
                    claim_ids,
                    ..hold.clone()
                });
            }
            Some(event) => events.push(HoldEventRow {
                order_id: hold.order_id.clone(),
                lancer_id: hold.lancer_id.clone(),
                event,
                payout_jpy: hold.payout_jpy,
                opened_month: hold.opened_month,
            }),
        }
    }

    for line in lines
        .iter()
        .filter(|line| line.payout_status == PayoutStatus::Held)
    {
        if seen.contains(line.order.order_id.as_str()) {
            bail!(
                "order {} is both an open hold and an order line",
                line.order.order_id
            );
        }
        let hold = Hold {
            order_id: line.order.order_id.clone(),
            lancer_id: line.order.lancer_id.clone(),
            reward_jpy: line.order.reward_jpy,
            rebate_jpy: line.pricing.rebate_jpy,
            payout_jpy: line.pricing.payout_jpy,
            opened_month: inputs.month,
            claim_ids: line.claim_ids.clone(),
        };
        events.push(HoldEventRow {
            order_id: hold.order_id.clone(),
            lancer_id: hold.lancer_id.clone(),
            event: HoldEvent::Opened,
            payout_jpy: hold.payout_jpy,
            opened_month: inputs.month,
        });
        holds.push(hold);
    }

    holds.sort_by(|a, b| a.order_id.cmp(&b.order_id));
    events.sort_by(|a, b| (&a.order_id, a.event).cmp(&(&b.order_id, b.event)));
    Ok((holds, events))
}

fn charge_line(charge: &mut ClientCharge, line: &OrderLine) -> anyhow::Result<()> {
    charge.orders += 1;
    charge.covered_orders += u64::from(line.pricing.reason.is_covered());
    add_jpy(&mut charge.amount_jpy, line.order.amount_jpy, "amount_jpy")?;
    add_jpy(
        &mut charge.surcharge_jpy,
        line.pricing.surcharge_jpy,
        "surcharge_jpy",
    )
}

fn client_charges(lines: &[OrderLine]) -> anyhow::Result<Vec<ClientCharge>> {
    let mut by_client: BTreeMap<&str, ClientCharge> = BTreeMap::new();
    for line in lines {
        let charge = by_client.entry(line.order.client_id.as_str()).or_default();
        charge_line(charge, line).with_context(|| {
            format!(
                "client {}, adding order {}",
                line.order.client_id, line.order.order_id
            )
        })?;
    }
    Ok(by_client
        .into_iter()
        .map(|(client_id, charge)| ClientCharge {
            client_id: client_id.to_string(),
            ..charge
        })
        .collect())
}

fn pay_line(payout: &mut LancerPayout, line: &OrderLine) -> anyhow::Result<()> {
    match line.payout_status {
        PayoutStatus::Paid => {
            add_jpy(
                &mut payout.reward_paid_jpy,
                line.order.reward_jpy,
                "reward_paid_jpy",
            )?;
            add_jpy(
                &mut payout.rebate_paid_jpy,
                line.pricing.rebate_jpy,
                "rebate_paid_jpy",
            )
        }
        PayoutStatus::Forfeited => add_jpy(
            &mut payout.forfeited_jpy,
            line.pricing.payout_jpy,
            "forfeited_jpy",
        ),
        // A held line counts through the hold it opened.
        PayoutStatus::Held => Ok(()),
    }
}

fn lancer_payouts(
    lines: &[OrderLine],
    holds: &[Hold],
    events: &[HoldEventRow],
) -> anyhow::Result<Vec<LancerPayout>> {
    let mut by_lancer: BTreeMap<&str, LancerPayout> = BTreeMap::new();
    for line in lines {
        let payout = by_lancer.entry(line.order.lancer_id.as_str()).or_default();
        pay_line(payout, line).with_context(|| {
            format!(
                "lancer {}, adding order {}",
                line.order.lancer_id, line.order.order_id
            )
        })?;
    }
    for hold in holds {
        let payout = by_lancer.entry(hold.lancer_id.as_str()).or_default();
        add_jpy(&mut payout.held_jpy, hold.payout_jpy, "held_jpy")?;
    }
    for event in events {
        let payout = by_lancer.entry(event.lancer_id.as_str()).or_default();
        match event.event {
            HoldEvent::Opened => {}
            HoldEvent::Released => {
                add_jpy(&mut payout.released_jpy, event.payout_jpy, "released_jpy")?
            }
            HoldEvent::Forfeited => {
                add_jpy(&mut payout.forfeited_jpy, event.payout_jpy, "forfeited_jpy")?
            }
        }
    }
    let mut payouts = Vec::with_capacity(by_lancer.len());
    for (lancer_id, payout) in by_lancer {
        let mut payable_jpy = payout.reward_paid_jpy;
        add_jpy(&mut payable_jpy, payout.rebate_paid_jpy, "payable_jpy")?;
        add_jpy(&mut payable_jpy, payout.released_jpy, "payable_jpy")?;
        payouts.push(LancerPayout {
            lancer_id: lancer_id.to_string(),
            payable_jpy,
            ..payout
        });
    }
    Ok(payouts)
}

fn total_line(totals: &mut ControlTotals, line: &OrderLine) -> anyhow::Result<()> {
    totals.covered_lines += u64::from(line.pricing.reason.is_covered());
    add_jpy(&mut totals.amount_jpy, line.order.amount_jpy, "amount_jpy")?;
    add_jpy(&mut totals.reward_jpy, line.order.reward_jpy, "reward_jpy")?;
    add_jpy(
        &mut totals.surcharge_lines_jpy,
        line.pricing.surcharge_jpy,
        "surcharge_jpy",
    )?;
    add_jpy(
        &mut totals.rebate_jpy,
        line.pricing.rebate_jpy,
        "rebate_jpy",
    )?;
    match line.payout_status {
        PayoutStatus::Paid => add_jpy(
            &mut totals.paid_lines_payout_jpy,
            line.pricing.payout_jpy,
            "paid payouts",
        ),
        PayoutStatus::Forfeited => add_jpy(
            &mut totals.forfeited_jpy,
            line.pricing.payout_jpy,
            "forfeited_jpy",
        ),
        PayoutStatus::Held => Ok(()),
    }
}

fn control_totals(
    lines: &[OrderLine],
    opening_holds: &[Hold],
    holds: &[Hold],
    events: &[HoldEventRow],
    settlement: &Settlement,
) -> anyhow::Result<ControlTotals> {
    let mut totals = ControlTotals {
        order_lines: lines.len() as u64,
        ..ControlTotals::default()
    };
    for line in lines {
        total_line(&mut totals, line)
            .with_context(|| format!("adding order {}", line.order.order_id))?;
    }
    for charge in &settlement.client_charges {
        add_jpy(
            &mut totals.surcharge_clients_jpy,
            charge.surcharge_jpy,
            "client surcharges",
        )?;
    }
    for payout in &settlement.lancer_payouts {
        add_jpy(&mut totals.payable_jpy, payout.payable_jpy, "payable_jpy")?;
    }
    for hold in opening_holds {
        totals.holds_opening.add(hold.payout_jpy, "opening holds")?;
    }
    for hold in holds {
        totals.holds_closing.add(hold.payout_jpy, "closing holds")?;
    }
    for event in events {
        match event.event {
            HoldEvent::Opened => totals.holds_opened.add(event.payout_jpy, "holds opened")?,
            HoldEvent::Released => {
                totals
                    .holds_released
                    .add(event.payout_jpy, "holds released")?;
                add_jpy(&mut totals.released_jpy, event.payout_jpy, "released_jpy")?;
            }
            HoldEvent::Forfeited => {
                totals
                    .holds_forfeited
                    .add(event.payout_jpy, "holds forfeited")?;
                add_jpy(&mut totals.forfeited_jpy, event.payout_jpy, "forfeited_jpy")?;
            }
        }
    }
    Ok(totals)
}

/// The ties of SPEC §8. A failure here is a defect in the job, never in the input, and stops
/// the run before anything is published.
pub fn check_totals(totals: &ControlTotals) -> anyhow::Result<()> {
    if totals.surcharge_lines_jpy != totals.surcharge_clients_jpy {
        bail!(
            "control totals do not tie: surcharges over lines {} != over clients {}",
            totals.surcharge_lines_jpy,
            totals.surcharge_clients_jpy
        );
    }
    let expected_payable = totals
        .paid_lines_payout_jpy
        .checked_add(totals.released_jpy);
    if expected_payable != Some(totals.payable_jpy) {
        bail!(
            "control totals do not tie: payable {} != paid lines {} + released holds {}",
            totals.payable_jpy,
            totals.paid_lines_payout_jpy,
            totals.released_jpy
        );
    }
    let roll = |opening: i128, opened: i128, released: i128, forfeited: i128| {
        opening + opened - released - forfeited
    };
    let (opening, opened, released, forfeited, closing) = (
        totals.holds_opening,
        totals.holds_opened,
        totals.holds_released,
        totals.holds_forfeited,
        totals.holds_closing,
    );
    let count_roll = roll(
        opening.count.into(),
        opened.count.into(),
        released.count.into(),
        forfeited.count.into(),
    );
    let jpy_roll = roll(
        opening.jpy.into(),
        opened.jpy.into(),
        released.jpy.into(),
        forfeited.jpy.into(),
    );
    if count_roll != i128::from(closing.count) || jpy_roll != i128::from(closing.jpy) {
        bail!(
            "control totals do not tie: holds opening {opening:?} + opened {opened:?} - released \
             {released:?} - forfeited {forfeited:?} != closing {closing:?}"
        );
    }
    Ok(())
}
