//! One month's settlement computed from validated inputs: order lines, client charges, lancer
//! payouts, holds and hold events, and the control totals that must tie.
//!
//! Pure: no file, clock or environment. The caller hands in the month's valid orders, every
//! valid claim, the orders named by rejected claim rows, and the holds open at the previous
//! cutoff. Every order becomes exactly one line; every opening hold is either still open or
//! has exactly one event; the totals are checked before the books are returned, so books that
//! exist are books that balance.
//!
//! Lines need not be held together: `MonthBook` takes them one at a time (or a batch of
//! columns at a time, `lines`) and keeps only what grows with the number of clients and
//! lancers, and the few lines that open holds. `settle` is the whole month at once, for orders
//! held in memory.

use std::collections::BTreeSet;

use anyhow::{bail, Context};
use polars::prelude::PlHashMap;

use crate::calendar::Month;
use crate::model::{Claim, HoldEvent, Order, PayoutStatus};
use crate::policy::Rules;
use crate::rules::{self, ClaimState, Pricing};

pub mod lines;
mod totals;

use totals::TotalsById;

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

/// Everything a month's settlement holds besides its order lines, which may be too many to
/// hold.
#[derive(Debug, Clone, Default)]
pub struct Books {
    pub client_charges: Vec<ClientCharge>,
    pub lancer_payouts: Vec<LancerPayout>,
    pub holds: Vec<Hold>,
    pub hold_events: Vec<HoldEventRow>,
    pub totals: ControlTotals,
    /// Conditions finance should look at that do not stop the run.
    pub warnings: Vec<String>,
}

impl Settlement {
    fn new(lines: Vec<OrderLine>, books: Books) -> Settlement {
        Settlement {
            lines,
            client_charges: books.client_charges,
            lancer_payouts: books.lancer_payouts,
            holds: books.holds,
            hold_events: books.hold_events,
            totals: books.totals,
            warnings: books.warnings,
        }
    }
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

/// What an order's claims come to at the cutoff.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OrderClaims {
    state: ClaimState,
    /// The known claims' ids, sorted and joined with `;`.
    claim_ids: String,
}

/// Every order's claims as of the month's cutoff, worked out once: an order is looked up once
/// per line, and most orders have no claim at all.
#[derive(Debug, Clone)]
pub struct ClaimBook {
    by_order: PlHashMap<String, OrderClaims>,
}

static NO_CLAIMS: OrderClaims = OrderClaims {
    state: ClaimState::None,
    claim_ids: String::new(),
};

impl ClaimBook {
    /// `claims` may hold claims filed after the cutoff; they are not known yet. An order named
    /// by a rejected claim row counts as under review.
    pub fn new(
        claims: &[Claim],
        orders_with_rejected_claims: &BTreeSet<String>,
        cutoff_ns: i64,
    ) -> ClaimBook {
        let mut known_by_order: PlHashMap<&str, Vec<&Claim>> = PlHashMap::default();
        for claim in claims
            .iter()
            .filter(|claim| rules::is_known(claim, cutoff_ns))
        {
            known_by_order
                .entry(claim.order_id.as_str())
                .or_default()
                .push(claim);
        }
        let mut by_order: PlHashMap<String, OrderClaims> = known_by_order
            .into_iter()
            .map(|(order_id, known)| {
                let state = rules::claim_state(known.iter().copied(), cutoff_ns);
                let mut ids: Vec<&str> = known.iter().map(|c| c.claim_id.as_str()).collect();
                ids.sort_unstable();
                let claim_ids = ids.join(";");
                (order_id.to_string(), OrderClaims { state, claim_ids })
            })
            .collect();
        for order_id in orders_with_rejected_claims {
            let claims = by_order
                .entry(order_id.clone())
                .or_insert_with(|| NO_CLAIMS.clone());
            claims.state = claims.state.max(ClaimState::UnderReview);
        }
        ClaimBook { by_order }
    }

    fn claims(&self, order_id: &str) -> &OrderClaims {
        self.by_order.get(order_id).unwrap_or(&NO_CLAIMS)
    }

    /// The order's claim state at the cutoff and its known claims' ids.
    pub fn lookup(&self, order_id: &str) -> (ClaimState, &str) {
        let claims = self.claims(order_id);
        (claims.state, &claims.claim_ids)
    }

    pub fn state(&self, order_id: &str) -> ClaimState {
        self.claims(order_id).state
    }

    pub fn claim_ids(&self, order_id: &str) -> &str {
        &self.claims(order_id).claim_ids
    }
}

/// One order line as the books need it.
#[derive(Debug, Clone, Copy)]
pub struct LineRef<'a> {
    pub order_id: &'a str,
    pub client_id: &'a str,
    pub lancer_id: &'a str,
    pub amount_jpy: i64,
    pub reward_jpy: i64,
    pub covered: bool,
    pub surcharge_jpy: i64,
    pub rebate_jpy: i64,
    pub payout_jpy: i64,
    pub payout_status: PayoutStatus,
    pub claim_ids: &'a str,
}

#[derive(Debug, Clone, Copy, Default)]
struct ClientTotals {
    orders: u64,
    covered_orders: u64,
    amount_jpy: i64,
    surcharge_jpy: i64,
}

/// What a lancer's order lines pay and forfeit; holds and their events are added at the end.
#[derive(Debug, Clone, Copy, Default)]
struct LancerTotals {
    reward_paid_jpy: i64,
    rebate_paid_jpy: i64,
    forfeited_jpy: i64,
    released_jpy: i64,
    held_jpy: i64,
}

/// The books of a month being settled, line by line: a total per client and per lancer, the
/// holds that lines opened, and the totals over lines.
pub struct MonthBook {
    month: Month,
    clients: TotalsById<ClientTotals>,
    lancers: TotalsById<LancerTotals>,
    opened: Vec<Hold>,
    totals: ControlTotals,
}

impl MonthBook {
    pub fn new(month: Month) -> MonthBook {
        MonthBook {
            month,
            clients: TotalsById::default(),
            lancers: TotalsById::default(),
            opened: Vec::new(),
            totals: ControlTotals::default(),
        }
    }

    pub fn order_lines(&self) -> u64 {
        self.totals.order_lines
    }

    pub fn add(&mut self, line: &LineRef<'_>) -> anyhow::Result<()> {
        let client_hash = self.clients.hash(line.client_id);
        add_to_client(&mut self.clients, client_hash, line)?;
        let lancer_hash = self.lancers.hash(line.lancer_id);
        add_to_lancer(&mut self.lancers, lancer_hash, line)?;
        self.add_to_totals(line)
    }

    /// Adds a line to the month's totals, and opens its hold when it is held.
    fn add_to_totals(&mut self, line: &LineRef<'_>) -> anyhow::Result<()> {
        if line.payout_status == PayoutStatus::Held {
            self.opened.push(Hold {
                order_id: line.order_id.to_string(),
                lancer_id: line.lancer_id.to_string(),
                reward_jpy: line.reward_jpy,
                rebate_jpy: line.rebate_jpy,
                payout_jpy: line.payout_jpy,
                opened_month: self.month,
                claim_ids: line.claim_ids.to_string(),
            });
        }
        add_to_month(&mut self.totals, line)
    }

    /// Closes the month: rolls the opening holds through the claims, lists clients and
    /// lancers in key order, and checks that the totals tie.
    pub fn finish(self, opening_holds: Vec<Hold>, claims: &ClaimBook) -> anyhow::Result<Books> {
        let mut books = Books::default();
        let (holds, events) = roll_holds(
            self.opened,
            &opening_holds,
            claims,
            self.month,
            &mut books.warnings,
        )?;
        // Clients and lancers are sorted and listed at once, on two threads.
        let (clients, lancers) = (self.clients, self.lancers);
        let (client_list, lancer_list) = std::thread::scope(|scope| {
            let client_list = scope.spawn(|| client_charges(clients));
            let lancer_list = lancer_payouts(lancers, &holds, &events);
            let client_list = client_list
                .join()
                .expect("listing the clients does not panic");
            (client_list, lancer_list)
        });
        books.client_charges = client_list;
        books.lancer_payouts = lancer_list?;
        books.totals = control_totals(self.totals, &opening_holds, &holds, &events, &books)?;
        books.holds = holds;
        books.hold_events = events;

        check_totals(&books.totals)?;
        Ok(books)
    }
}

/// Adds a line to the totals over the month's lines. An overflow names the order.
fn add_to_month(totals: &mut ControlTotals, line: &LineRef<'_>) -> anyhow::Result<()> {
    let mut add = || -> anyhow::Result<()> {
        match line.payout_status {
            PayoutStatus::Paid => add_jpy(
                &mut totals.paid_lines_payout_jpy,
                line.payout_jpy,
                "paid payouts",
            )?,
            PayoutStatus::Forfeited => {
                add_jpy(&mut totals.forfeited_jpy, line.payout_jpy, "forfeited_jpy")?
            }
            // A held line counts through the hold it opens.
            PayoutStatus::Held => {}
        }
        totals.order_lines += 1;
        totals.covered_lines += u64::from(line.covered);
        add_jpy(&mut totals.amount_jpy, line.amount_jpy, "amount_jpy")?;
        add_jpy(&mut totals.reward_jpy, line.reward_jpy, "reward_jpy")?;
        add_jpy(
            &mut totals.surcharge_lines_jpy,
            line.surcharge_jpy,
            "surcharge_jpy",
        )?;
        add_jpy(&mut totals.rebate_jpy, line.rebate_jpy, "rebate_jpy")
    };
    add().with_context(|| format!("the month's totals, adding order {}", line.order_id))
}

/// Adds a line to its client's totals; `hash` is the client id's. An overflow names the
/// client and the order.
fn add_to_client(
    clients: &mut TotalsById<ClientTotals>,
    hash: u64,
    line: &LineRef<'_>,
) -> anyhow::Result<()> {
    let client = clients.get(hash, line.client_id);
    client.orders += 1;
    client.covered_orders += u64::from(line.covered);
    add_jpy(&mut client.amount_jpy, line.amount_jpy, "amount_jpy")
        .and_then(|()| {
            add_jpy(
                &mut client.surcharge_jpy,
                line.surcharge_jpy,
                "surcharge_jpy",
            )
        })
        .with_context(|| format!("client {}, adding order {}", line.client_id, line.order_id))
}

/// Adds a line to its lancer's totals; `hash` is the lancer id's. A held line counts
/// through the hold it opens (`add_to_totals`), but its lancer is listed all the same. An
/// overflow names the lancer and the order.
fn add_to_lancer(
    lancers: &mut TotalsById<LancerTotals>,
    hash: u64,
    line: &LineRef<'_>,
) -> anyhow::Result<()> {
    let lancer = lancers.get(hash, line.lancer_id);
    let added = match line.payout_status {
        PayoutStatus::Paid => {
            add_jpy(
                &mut lancer.reward_paid_jpy,
                line.reward_jpy,
                "reward_paid_jpy",
            )?;
            add_jpy(
                &mut lancer.rebate_paid_jpy,
                line.rebate_jpy,
                "rebate_paid_jpy",
            )
        }
        PayoutStatus::Forfeited => {
            add_jpy(&mut lancer.forfeited_jpy, line.payout_jpy, "forfeited_jpy")
        }
        PayoutStatus::Held => Ok(()),
    };
    added.with_context(|| format!("lancer {}, adding order {}", line.lancer_id, line.order_id))
}

/// Settles a month of orders held in memory.
pub fn settle(inputs: MonthInputs<'_>) -> anyhow::Result<Settlement> {
    let claims = ClaimBook::new(
        inputs.claims,
        inputs.orders_with_rejected_claims,
        inputs.month.cutoff_ns(),
    );
    let mut orders = inputs.orders;
    orders.sort_by(|a, b| a.order_id.cmp(&b.order_id));
    if let Some(pair) = orders
        .windows(2)
        .find(|pair| pair[0].order_id == pair[1].order_id)
    {
        bail!(
            "order {} would be settled twice in one month",
            pair[0].order_id
        );
    }

    let mut book = MonthBook::new(inputs.month);
    let mut lines = Vec::with_capacity(orders.len());
    for order in orders {
        let pricing = rules::price(&order, inputs.rules)?;
        let (state, claim_ids) = claims.lookup(&order.order_id);
        let payout_status = rules::payout_status(state);
        book.add(&LineRef {
            order_id: &order.order_id,
            client_id: &order.client_id,
            lancer_id: &order.lancer_id,
            amount_jpy: order.amount_jpy,
            reward_jpy: order.reward_jpy,
            covered: pricing.reason.is_covered(),
            surcharge_jpy: pricing.surcharge_jpy,
            rebate_jpy: pricing.rebate_jpy,
            payout_jpy: pricing.payout_jpy,
            payout_status,
            claim_ids,
        })?;
        let claim_ids = claim_ids.to_string();
        lines.push(OrderLine {
            order,
            pricing,
            payout_status,
            claim_ids,
        });
    }
    let books = book.finish(inputs.opening_holds, &claims)?;
    Ok(Settlement::new(lines, books))
}

/// Carries the previous month's open holds through this month's claims, beside the holds
/// this month's lines opened. Returns the holds open at the cutoff and the month's hold
/// events.
fn roll_holds(
    opened: Vec<Hold>,
    opening_holds: &[Hold],
    claims: &ClaimBook,
    month: Month,
    warnings: &mut Vec<String>,
) -> anyhow::Result<(Vec<Hold>, Vec<HoldEventRow>)> {
    let mut holds = Vec::new();
    let mut events = Vec::new();
    let mut seen = BTreeSet::new();
    for hold in opening_holds {
        if !seen.insert(hold.order_id.as_str()) {
            bail!("the opening holds name order {} twice", hold.order_id);
        }
        let event = match claims.state(&hold.order_id) {
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
                let claim_ids = claims.claim_ids(&hold.order_id);
                let claim_ids = if claim_ids.is_empty() {
                    hold.claim_ids.clone()
                } else {
                    claim_ids.to_string()
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

    for hold in opened {
        if seen.contains(hold.order_id.as_str()) {
            bail!(
                "order {} is both an open hold and an order line",
                hold.order_id
            );
        }
        events.push(HoldEventRow {
            order_id: hold.order_id.clone(),
            lancer_id: hold.lancer_id.clone(),
            event: HoldEvent::Opened,
            payout_jpy: hold.payout_jpy,
            opened_month: month,
        });
        holds.push(hold);
    }

    holds.sort_by(|a, b| a.order_id.cmp(&b.order_id));
    events.sort_by(|a, b| (&a.order_id, a.event).cmp(&(&b.order_id, b.event)));
    Ok((holds, events))
}

fn client_charges(clients: TotalsById<ClientTotals>) -> Vec<ClientCharge> {
    clients.into_sorted(|client_id, totals| ClientCharge {
        client_id: client_id.to_string(),
        orders: totals.orders,
        covered_orders: totals.covered_orders,
        amount_jpy: totals.amount_jpy,
        surcharge_jpy: totals.surcharge_jpy,
    })
}

fn lancer_payouts(
    mut lancers: TotalsById<LancerTotals>,
    holds: &[Hold],
    events: &[HoldEventRow],
) -> anyhow::Result<Vec<LancerPayout>> {
    for hold in holds {
        let lancer = lancers.get(lancers.hash(&hold.lancer_id), &hold.lancer_id);
        add_jpy(&mut lancer.held_jpy, hold.payout_jpy, "held_jpy")?;
    }
    for event in events {
        let lancer = lancers.get(lancers.hash(&event.lancer_id), &event.lancer_id);
        match event.event {
            HoldEvent::Opened => {}
            HoldEvent::Released => {
                add_jpy(&mut lancer.released_jpy, event.payout_jpy, "released_jpy")?
            }
            HoldEvent::Forfeited => {
                add_jpy(&mut lancer.forfeited_jpy, event.payout_jpy, "forfeited_jpy")?
            }
        }
    }

    let mut overflow = None;
    let payouts = lancers.into_sorted(|lancer_id, totals| {
        let mut payable_jpy = totals.reward_paid_jpy;
        for jpy in [totals.rebate_paid_jpy, totals.released_jpy] {
            if let Err(error) = add_jpy(&mut payable_jpy, jpy, "payable_jpy") {
                overflow.get_or_insert(error);
            }
        }
        LancerPayout {
            lancer_id: lancer_id.to_string(),
            reward_paid_jpy: totals.reward_paid_jpy,
            rebate_paid_jpy: totals.rebate_paid_jpy,
            released_jpy: totals.released_jpy,
            payable_jpy,
            held_jpy: totals.held_jpy,
            forfeited_jpy: totals.forfeited_jpy,
        }
    });
    match overflow {
        Some(error) => Err(error),
        None => Ok(payouts),
    }
}

/// Completes the totals over lines with those over clients, lancers and holds.
fn control_totals(
    line_totals: ControlTotals,
    opening_holds: &[Hold],
    holds: &[Hold],
    events: &[HoldEventRow],
    books: &Books,
) -> anyhow::Result<ControlTotals> {
    let mut totals = line_totals;
    for charge in &books.client_charges {
        add_jpy(
            &mut totals.surcharge_clients_jpy,
            charge.surcharge_jpy,
            "client surcharges",
        )?;
    }
    for payout in &books.lancer_payouts {
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
