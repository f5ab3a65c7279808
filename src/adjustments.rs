//! A correction's adjustments: per client and per lancer, the new version minus the previous
//! one in every amount column, so that the payments system charges and pays only the delta.
//!
//! Pure. A party present in only one version counts as zero in the other; a party whose every
//! difference is zero is left out. Differences are checked, so a wrap is an error.

use std::collections::BTreeMap;

use anyhow::Context;

use crate::settlement::{ClientCharge, LancerPayout};

fn delta_jpy(new_jpy: i64, old_jpy: i64, column: &str, party: &str) -> anyhow::Result<i64> {
    new_jpy
        .checked_sub(old_jpy)
        .with_context(|| format!("the {column} adjustment of {party} overflows"))
}

fn delta_count(new: u64, old: u64, column: &str, party: &str) -> anyhow::Result<i64> {
    let new = i64::try_from(new).with_context(|| format!("{column} of {party} is too large"))?;
    let old = i64::try_from(old).with_context(|| format!("{column} of {party} is too large"))?;
    delta_jpy(new, old, column, party)
}

/// A client's difference between two versions. Counts are signed here, unlike in a version.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClientAdjustment {
    pub client_id: String,
    pub orders: i64,
    pub covered_orders: i64,
    pub amount_jpy: i64,
    pub surcharge_jpy: i64,
}

/// A lancer's difference between two versions, in the columns of `lancer_payouts.csv`.
pub type LancerAdjustment = LancerPayout;

/// Pairs the rows of two versions by key; a row missing from one side pairs with `None`.
fn pair_by_key<'a, T>(
    old: &'a [T],
    new: &'a [T],
    key: impl Fn(&T) -> &str,
) -> BTreeMap<String, (Option<&'a T>, Option<&'a T>)> {
    let mut pairs: BTreeMap<String, (Option<&T>, Option<&T>)> = BTreeMap::new();
    for row in old {
        pairs.entry(key(row).to_string()).or_default().0 = Some(row);
    }
    for row in new {
        pairs.entry(key(row).to_string()).or_default().1 = Some(row);
    }
    pairs
}

pub fn client_adjustments(
    old: &[ClientCharge],
    new: &[ClientCharge],
) -> anyhow::Result<Vec<ClientAdjustment>> {
    let zero = ClientCharge::default();
    let mut adjustments = Vec::new();
    for (client_id, (old_row, new_row)) in pair_by_key(old, new, |c| c.client_id.as_str()) {
        let (old_row, new_row) = (old_row.unwrap_or(&zero), new_row.unwrap_or(&zero));
        let adjustment = ClientAdjustment {
            orders: delta_count(new_row.orders, old_row.orders, "orders", &client_id)?,
            covered_orders: delta_count(
                new_row.covered_orders,
                old_row.covered_orders,
                "covered_orders",
                &client_id,
            )?,
            amount_jpy: delta_jpy(
                new_row.amount_jpy,
                old_row.amount_jpy,
                "amount_jpy",
                &client_id,
            )?,
            surcharge_jpy: delta_jpy(
                new_row.surcharge_jpy,
                old_row.surcharge_jpy,
                "surcharge_jpy",
                &client_id,
            )?,
            client_id,
        };
        let unchanged = ClientAdjustment {
            client_id: adjustment.client_id.clone(),
            ..Default::default()
        };
        if adjustment != unchanged {
            adjustments.push(adjustment);
        }
    }
    Ok(adjustments)
}

pub fn lancer_adjustments(
    old: &[LancerPayout],
    new: &[LancerPayout],
) -> anyhow::Result<Vec<LancerAdjustment>> {
    let zero = LancerPayout::default();
    let mut adjustments = Vec::new();
    for (lancer_id, (old_row, new_row)) in pair_by_key(old, new, |p| p.lancer_id.as_str()) {
        let (old_row, new_row) = (old_row.unwrap_or(&zero), new_row.unwrap_or(&zero));
        let delta = |column: &str, pick: fn(&LancerPayout) -> i64| {
            delta_jpy(pick(new_row), pick(old_row), column, &lancer_id)
        };
        let adjustment = LancerPayout {
            reward_paid_jpy: delta("reward_paid_jpy", |p| p.reward_paid_jpy)?,
            rebate_paid_jpy: delta("rebate_paid_jpy", |p| p.rebate_paid_jpy)?,
            released_jpy: delta("released_jpy", |p| p.released_jpy)?,
            payable_jpy: delta("payable_jpy", |p| p.payable_jpy)?,
            held_jpy: delta("held_jpy", |p| p.held_jpy)?,
            forfeited_jpy: delta("forfeited_jpy", |p| p.forfeited_jpy)?,
            lancer_id: lancer_id.clone(),
        };
        if adjustment
            != (LancerPayout {
                lancer_id,
                ..LancerPayout::default()
            })
        {
            adjustments.push(adjustment);
        }
    }
    Ok(adjustments)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charge(client_id: &str, orders: u64, amount_jpy: i64, surcharge_jpy: i64) -> ClientCharge {
        ClientCharge {
            client_id: client_id.into(),
            orders,
            covered_orders: orders,
            amount_jpy,
            surcharge_jpy,
        }
    }

    #[test]
    fn clients_differ_column_by_column_and_unchanged_ones_are_left_out() {
        let old = [
            charge("a", 2, 100_000, 2_000),
            charge("b", 1, 50_000, 1_000),
        ];
        let new = [
            charge("a", 2, 100_000, 2_000),
            charge("b", 1, 60_000, 1_200),
            charge("c", 1, 10, 0),
        ];
        let adjustments = client_adjustments(&old, &new).unwrap();
        let rendered: Vec<(&str, i64, i64, i64)> = adjustments
            .iter()
            .map(|a| {
                (
                    a.client_id.as_str(),
                    a.orders,
                    a.amount_jpy,
                    a.surcharge_jpy,
                )
            })
            .collect();
        assert_eq!(rendered, [("b", 0, 10_000, 200), ("c", 1, 10, 0)]);
    }

    #[test]
    fn a_lancer_missing_from_the_new_version_is_paid_back_in_full() {
        let old = [LancerPayout {
            lancer_id: "l".into(),
            reward_paid_jpy: 40_000,
            rebate_paid_jpy: 150,
            payable_jpy: 40_150,
            ..LancerPayout::default()
        }];
        let adjustments = lancer_adjustments(&old, &[]).unwrap();
        assert_eq!(adjustments.len(), 1);
        assert_eq!(adjustments[0].payable_jpy, -40_150);
        assert_eq!(adjustments[0].reward_paid_jpy, -40_000);
    }
}
