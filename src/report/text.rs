//! The report as plain text: aligned tables for a terminal, an e-mail or a ticket.

use std::fmt::Write;

use super::{
    age_text, compared_totals, months_between, thousands, yen, yen_delta, HoldGroup, MonthReport,
    Source, TOP_COUNT,
};
use crate::settlement::{ControlTotals, Tally};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

/// A table of text cells, each column as wide as its widest cell.
struct Table {
    columns: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            columns: columns
                .iter()
                .map(|(name, align)| (name.to_string(), *align))
                .collect(),
            rows: Vec::new(),
        }
    }

    fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.columns.len());
        self.rows.push(cells);
    }

    fn render(&self, out: &mut String) {
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|column| {
                self.rows
                    .iter()
                    .map(|row| row[column].chars().count())
                    .chain([self.columns[column].0.chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let header: Vec<String> = self.columns.iter().map(|(h, _)| h.clone()).collect();
        for cells in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (column, cell) in cells.iter().enumerate() {
                let width = widths[column];
                let _ = match self.columns[column].1 {
                    Align::Left => write!(line, "  {cell:<width$}"),
                    Align::Right => write!(line, "  {cell:>width$}"),
                };
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
}

fn heading(out: &mut String, title: &str) {
    let _ = write!(out, "\n{title}\n{}\n", "-".repeat(title.chars().count()));
}

pub fn render(report: &MonthReport) -> String {
    let mut out = String::new();
    header(&mut out, report);
    // A correction is read for what changed, so that comes before the month as a whole.
    changes(&mut out, report);
    money(&mut out, &report.totals);
    coverage(&mut out, report);
    holds(&mut out, report);
    payouts(&mut out, report);
    rejected(&mut out, report);
    daily(&mut out, report);
    out
}

fn header(out: &mut String, report: &MonthReport) {
    let _ = writeln!(out, "Settlement report {}", report.title());
    let status = match &report.source {
        Source::Version {
            correction: Some((previous, reason)),
            ..
        } => format!("correction of v{previous}: {reason}"),
        Source::Version { .. } => "first settlement of the month".to_string(),
        Source::Provisional { settled_at } => {
            format!("PROVISIONAL, the month so far as of {settled_at}; not for payment")
        }
    };
    let _ = writeln!(out, "  {status}");
    let _ = writeln!(out, "  files: {}", report.folder.display());
    let opening = report
        .opening_from
        .as_deref()
        .unwrap_or("none (first month)");
    let _ = writeln!(
        out,
        "  policy: {}; opening holds from: {opening}",
        report.policy_name
    );
    let _ = writeln!(
        out,
        "  every total below is recomputed from the files and equals the manifest's"
    );
    for warning in &report.warnings {
        let _ = writeln!(out, "  warning: {warning}");
    }
}

fn money(out: &mut String, totals: &ControlTotals) {
    heading(out, "Totals");
    let mut table = Table::new(&[("", Align::Left), ("amount", Align::Right)]);
    let rows = [
        ("order amount", totals.amount_jpy),
        ("client surcharge", totals.surcharge_lines_jpy),
        ("lancer reward", totals.reward_jpy),
        ("lancer rebate", totals.rebate_jpy),
        ("paid on completion", totals.paid_lines_payout_jpy),
        ("released from holds", totals.released_jpy),
        ("payable now", totals.payable_jpy),
        ("forfeited", totals.forfeited_jpy),
        ("held at the cutoff", totals.holds_closing.jpy),
    ];
    for (label, jpy) in rows {
        table.row(vec![label.to_string(), yen(jpy)]);
    }
    table.render(out);
    let _ = writeln!(
        out,
        "  {} orders settled, {} covered",
        thousands(totals.order_lines),
        thousands(totals.covered_lines)
    );
}

fn coverage(out: &mut String, report: &MonthReport) {
    heading(out, "Orders by coverage reason");
    let mut table = Table::new(&[
        ("reason", Align::Left),
        ("orders", Align::Right),
        ("amount", Align::Right),
        ("surcharge", Align::Right),
        ("rebate", Align::Right),
    ]);
    for line in &report.by_reason {
        table.row(vec![
            line.reason.to_string(),
            thousands(line.orders),
            yen(line.amount_jpy),
            yen(line.surcharge_jpy),
            yen(line.rebate_jpy),
        ]);
    }
    let totals = &report.totals;
    table.row(vec![
        "total".to_string(),
        thousands(totals.order_lines),
        yen(totals.amount_jpy),
        yen(totals.surcharge_lines_jpy),
        yen(totals.rebate_jpy),
    ]);
    table.render(out);
}

fn tally_row(label: &str, tally: Tally) -> Vec<String> {
    vec![label.to_string(), thousands(tally.count), yen(tally.jpy)]
}

fn group_table(out: &mut String, title: &str, groups: &[HoldGroup]) {
    let _ = writeln!(out, "\n  {title}");
    if groups.is_empty() {
        let _ = writeln!(out, "    none");
        return;
    }
    let mut table = Table::new(&[
        ("opened", Align::Left),
        ("age", Align::Left),
        ("holds", Align::Right),
        ("amount", Align::Right),
    ]);
    for group in groups {
        table.row(vec![
            group.opened_month.to_string(),
            age_text(group.age_months),
            thousands(group.tally.count),
            yen(group.tally.jpy),
        ]);
    }
    table.render(out);
}

fn holds(out: &mut String, report: &MonthReport) {
    heading(
        out,
        "Holds (payouts withheld while a claim is under review)",
    );
    let holds = &report.holds;
    let mut table = Table::new(&[
        ("", Align::Left),
        ("holds", Align::Right),
        ("amount", Align::Right),
    ]);
    table.row(tally_row("open at the start", holds.opening));
    table.row(tally_row("opened", holds.opened));
    table.row(tally_row("released (paid now)", holds.released));
    table.row(tally_row("forfeited", holds.forfeited));
    table.row(tally_row("open at the cutoff", holds.closing));
    table.render(out);

    group_table(out, "Still open, by month opened", &holds.open_by_month);
    group_table(
        out,
        "Released this month, by month opened",
        &holds.released_by_month,
    );
    group_table(
        out,
        "Forfeited this month, by month opened",
        &holds.forfeited_by_month,
    );

    if !holds.oldest_open.is_empty() {
        let _ = writeln!(out, "\n  Oldest open holds (at most {TOP_COUNT})");
        let mut table = Table::new(&[
            ("order", Align::Left),
            ("lancer", Align::Left),
            ("opened", Align::Left),
            ("age", Align::Left),
            ("payout", Align::Right),
            ("claims", Align::Left),
        ]);
        for hold in &holds.oldest_open {
            table.row(vec![
                hold.order_id.clone(),
                hold.lancer_id.clone(),
                hold.opened_month.to_string(),
                age_text(months_between(hold.opened_month, report.month)),
                yen(hold.payout_jpy),
                hold.claim_ids.clone(),
            ]);
        }
        table.render(out);
    }
}

fn payouts(out: &mut String, report: &MonthReport) {
    heading(
        out,
        &format!("Largest payouts (at most {TOP_COUNT} lancers, by payable now)"),
    );
    if report.largest_payouts.is_empty() {
        let _ = writeln!(out, "  no lancer is paid this month");
        return;
    }
    let mut table = Table::new(&[
        ("#", Align::Right),
        ("lancer", Align::Left),
        ("reward", Align::Right),
        ("rebate", Align::Right),
        ("released", Align::Right),
        ("payable", Align::Right),
        ("held", Align::Right),
    ]);
    for (rank, lancer) in report.largest_payouts.iter().enumerate() {
        table.row(vec![
            (rank + 1).to_string(),
            lancer.lancer_id.clone(),
            yen(lancer.reward_paid_jpy),
            yen(lancer.rebate_paid_jpy),
            yen(lancer.released_jpy),
            yen(lancer.payable_jpy),
            yen(lancer.held_jpy),
        ]);
    }
    table.render(out);
}

fn rejected(out: &mut String, report: &MonthReport) {
    heading(out, "Rejected rows");
    let rows = &report.rows;
    let _ = writeln!(
        out,
        "  {} order rows read: {} settled, {} in other months, {} rejected; {} claim rows read, \
         {} rejected",
        thousands(rows.orders_read),
        thousands(rows.order_lines),
        thousands(rows.orders_out_of_month),
        thousands(rows.orders_rejected),
        thousands(rows.claims_read),
        thousands(rows.claims_rejected)
    );
    if report.rejected.is_empty() {
        return;
    }
    let mut table = Table::new(&[
        ("reason", Align::Left),
        ("rows", Align::Right),
        ("first example", Align::Left),
    ]);
    for group in &report.rejected {
        let example = &group.example;
        table.row(vec![
            group.reason.to_string(),
            thousands(group.rows),
            format!("{} row {}: {}", example.file, example.row, example.detail),
        ]);
    }
    table.render(out);
}

fn daily(out: &mut String, report: &MonthReport) {
    heading(out, "Daily totals (by completed_at, Asia/Tokyo)");
    let mut table = Table::new(&[
        ("date", Align::Left),
        ("orders", Align::Right),
        ("surcharge", Align::Right),
        ("paid on completion", Align::Right),
    ]);
    for day in &report.days {
        table.row(vec![
            day.date.format("%Y-%m-%d %a").to_string(),
            thousands(day.orders),
            yen(day.surcharge_jpy),
            yen(day.paid_payout_jpy),
        ]);
    }
    table.render(out);
}

fn changes(out: &mut String, report: &MonthReport) {
    let Some(changes) = &report.changes else {
        return;
    };
    let version = match report.source {
        Source::Version { number, .. } => number,
        Source::Provisional { .. } => return,
    };
    heading(
        out,
        &format!(
            "Changes against v{} ({})",
            changes.previous_version, changes.reason
        ),
    );
    let old = &changes.previous_totals;
    let new = &report.totals;
    let previous_header = format!("v{}", changes.previous_version);
    let this_header = format!("v{version}");
    let mut table = Table::new(&[
        ("", Align::Left),
        (&previous_header, Align::Right),
        (&this_header, Align::Right),
        ("change", Align::Right),
    ]);
    for (label, before, after) in compared_totals(old, new) {
        table.row(vec![
            label.to_string(),
            before.shown(),
            after.shown(),
            after.change_from(before),
        ]);
    }
    table.render(out);
    let _ = writeln!(
        out,
        "  adjustment files: {} clients (surcharge {}), {} lancers (payable {})",
        changes.clients_adjusted,
        yen_delta(changes.surcharge_delta_jpy),
        changes.lancers_adjusted,
        yen_delta(changes.payable_delta_jpy)
    );
    if !changes.largest_lancers.is_empty() {
        let _ = writeln!(out, "\n  Largest lancer adjustments");
        let mut table = Table::new(&[
            ("lancer", Align::Left),
            ("payable", Align::Right),
            ("held", Align::Right),
            ("forfeited", Align::Right),
        ]);
        for lancer in &changes.largest_lancers {
            table.row(vec![
                lancer.lancer_id.clone(),
                yen_delta(lancer.payable_jpy),
                yen_delta(lancer.held_jpy),
                yen_delta(lancer.forfeited_jpy),
            ]);
        }
        table.render(out);
    }
    if !changes.largest_clients.is_empty() {
        let _ = writeln!(out, "\n  Largest client adjustments");
        let mut table = Table::new(&[
            ("client", Align::Left),
            ("orders", Align::Right),
            ("amount", Align::Right),
            ("surcharge", Align::Right),
        ]);
        for client in &changes.largest_clients {
            table.row(vec![
                client.client_id.clone(),
                format!("{:+}", client.orders),
                yen_delta(client.amount_jpy),
                yen_delta(client.surcharge_jpy),
            ]);
        }
        table.render(out);
    }
}
