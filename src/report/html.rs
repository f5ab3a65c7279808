//! The report as one self-contained HTML file: inline CSS, inline SVG charts, no script, no
//! font or image from the network, so it opens the same from a mail attachment, a file share
//! or a laptop without a connection, and prints cleanly.

use std::fmt::Write;

use chrono::{Datelike, Weekday};

use super::svg::{self, Bar};
use super::{
    age_text, compared_totals, months_between, thousands, yen, yen_delta, Figure, HoldGroup,
    MonthReport, Source, TOP_COUNT,
};
use crate::settlement::ControlTotals;

/// Text made safe inside HTML and SVG, in element content and in quoted attributes.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

const STYLE: &str = r#"
:root { --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; --surcharge: #2f6fb0;
  --payout: #2f8f5b; --hold: #c2721d; --bad: #b42318; }
* { box-sizing: border-box; }
body { margin: 0; background: #f5f7fa; color: var(--ink);
  font-family: system-ui, -apple-system, "Segoe UI", "Hiragino Sans", "Yu Gothic", "Noto Sans JP",
  "Noto Sans CJK JP", sans-serif; font-size: 14px; line-height: 1.45; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 32px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 0 0 12px; }
h3 { font-size: 14px; margin: 18px 0 6px; color: var(--muted); font-weight: 600; }
.sub { color: var(--muted); margin: 0; }
.banner { margin-top: 16px; padding: 10px 14px; border-radius: 8px; font-weight: 600; }
.banner.provisional { background: #fff4e5; border: 1px solid #f0b36b; color: #8a4b0f; }
.banner.correction { background: #eaf2fb; border: 1px solid #9cc0e6; color: #1d4f80; }
.banner.warning { background: #fdecea; border: 1px solid #f1a9a0; color: var(--bad); }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; margin-top: 20px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
.card .label { color: var(--muted); font-size: 13px; }
.card .value { font-size: 24px; font-weight: 650; font-variant-numeric: tabular-nums;
  margin-top: 2px; white-space: nowrap; }
.card .note { color: var(--muted); font-size: 12px; margin-top: 2px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 10px;
  padding: 18px 22px; margin-top: 16px; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left;
  vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
.num { text-align: right; white-space: nowrap; }
tr.total td { font-weight: 650; border-top: 2px solid var(--ink); }
.pos { color: #1d6b3f; } .neg { color: var(--bad); }
.legend { color: var(--muted); font-size: 12px; margin: 4px 0 0; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  margin-right: 6px; vertical-align: baseline; }
.empty { color: var(--muted); font-style: italic; }
.chart { display: block; }
footer { color: var(--muted); font-size: 12px; margin-top: 20px; }
@media (max-width: 800px) { .cards, .grid2 { grid-template-columns: 1fr 1fr; } }
@media print { body { background: #fff; } section, .card { break-inside: avoid; }
  main { padding: 0; } }
"#;

pub fn render(report: &MonthReport) -> String {
    let mut body = String::new();
    header(&mut body, report);
    cards(&mut body, report);
    // A correction is read for what changed, so that comes before the month as a whole.
    changes(&mut body, report);
    daily(&mut body, report);
    coverage_and_totals(&mut body, report);
    holds(&mut body, report);
    payouts(&mut body, report);
    rejected(&mut body, report);
    let _ = write!(
        body,
        "<footer>Made by settle {} from the files in {}. Every total is recomputed from those \
         files and equals the manifest's.</footer>",
        env!("CARGO_PKG_VERSION"),
        escape(&report.folder.display().to_string())
    );
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta \
         name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Settlement \
         report {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n\
         </body>\n</html>\n",
        escape(&report.title())
    )
}

fn header(out: &mut String, report: &MonthReport) {
    let _ =
        write!(
        out,
        "<h1>Settlement report {}</h1><p class=\"sub\">Policy {} · opening holds from {} · files \
         in <code>{}</code></p>",
        escape(&report.title()),
        escape(&report.policy_name),
        escape(report.opening_from.as_deref().unwrap_or("none (first month)")),
        escape(&report.folder.display().to_string())
    );
    match &report.source {
        Source::Provisional { settled_at } => {
            let _ = write!(
                out,
                "<div class=\"banner provisional\">Provisional: the month so far, as of {}. Not \
                 for payment; the month is not closed.</div>",
                escape(settled_at)
            );
        }
        Source::Version {
            correction: Some((previous, reason)),
            ..
        } => {
            let _ = write!(
                out,
                "<div class=\"banner correction\">Correction of v{previous}: {}. The payments \
                 system charges and pays only the differences listed below.</div>",
                escape(reason)
            );
        }
        Source::Version { .. } => {}
    }
    for warning in &report.warnings {
        let _ = write!(
            out,
            "<div class=\"banner warning\">{}</div>",
            escape(warning)
        );
    }
}

fn card(out: &mut String, label: &str, value: &str, note: &str) {
    let _ = write!(
        out,
        "<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\">{}</div><div \
         class=\"note\">{}</div></div>",
        escape(label),
        escape(value),
        escape(note)
    );
}

fn cards(out: &mut String, report: &MonthReport) {
    let totals = &report.totals;
    let against = |jpy: fn(&ControlTotals) -> i64| match &report.changes {
        Some(changes) => format!(
            "{} against v{}",
            Figure::Yen(jpy(totals)).change_from(Figure::Yen(jpy(&changes.previous_totals))),
            changes.previous_version
        ),
        None => String::new(),
    };
    out.push_str("<div class=\"cards\">");
    card(
        out,
        "Client surcharge",
        &yen(totals.surcharge_lines_jpy),
        &against(|t| t.surcharge_lines_jpy),
    );
    card(
        out,
        "Payable to lancers now",
        &yen(totals.payable_jpy),
        &against(|t| t.payable_jpy),
    );
    card(
        out,
        "Orders settled",
        &thousands(totals.order_lines),
        &format!("{} covered", thousands(totals.covered_lines)),
    );
    card(
        out,
        "Held at the cutoff",
        &yen(totals.holds_closing.jpy),
        &format!("{} holds open", thousands(totals.holds_closing.count)),
    );
    out.push_str("</div>");
}

fn daily(out: &mut String, report: &MonthReport) {
    let bars = |value: fn(&super::DayLine) -> i64, what: &str| -> Vec<Bar> {
        report
            .days
            .iter()
            .map(|day| Bar {
                label: day.date.day().to_string(),
                tooltip: format!(
                    "{}: {} {what} from {} orders",
                    day.date.format("%Y-%m-%d (%a)"),
                    yen(value(day)),
                    thousands(day.orders)
                ),
                value_jpy: value(day),
                caption: String::new(),
                quiet: matches!(day.date.weekday(), Weekday::Sat | Weekday::Sun),
            })
            .collect()
    };
    // A month with nothing yet (a provisional first night) gets a sentence, not empty axes.
    let chart = |label: &str, bars: Vec<Bar>, colour: &str| {
        if bars.iter().all(|bar| bar.value_jpy == 0) {
            "<p class=\"empty\">Nothing in the month so far.</p>".to_string()
        } else {
            svg::columns(label, &bars, colour)
        }
    };
    let surcharge = bars(|d| d.surcharge_jpy, "surcharge");
    let paid = bars(|d| d.paid_payout_jpy, "paid");
    let _ = write!(
        out,
        "<section><h2>Day by day</h2><h3><span class=\"swatch\" \
         style=\"background:var(--surcharge)\"></span>Client surcharge per day · {} in the \
         month</h3>{}<h3><span class=\"swatch\" style=\"background:var(--payout)\"></span>Lancer \
         payouts paid on completion per day · {} in the month</h3>{}<p class=\"legend\">Days \
         are Asia/Tokyo dates of <code>completed_at</code>; weekends are labelled in grey. \
         Held and forfeited lines are not paid on completion; released holds ({}) are paid at \
         the month's end and belong to no day.</p></section>",
        yen(report.totals.surcharge_lines_jpy),
        chart("Client surcharge per day", surcharge, "#2f6fb0"),
        yen(report.totals.paid_lines_payout_jpy),
        chart("Lancer payouts paid on completion per day", paid, "#2f8f5b"),
        yen(report.totals.released_jpy),
    );
}

/// An HTML table built row by row; numeric cells (`num`) are right-aligned.
struct Table {
    html: String,
}

impl Table {
    fn new(headers: &[(&str, bool)]) -> Table {
        let mut html = String::from("<table><thead><tr>");
        for (header, numeric) in headers {
            let class = if *numeric { " class=\"num\"" } else { "" };
            let _ = write!(html, "<th{class}>{}</th>", escape(header));
        }
        html.push_str("</tr></thead><tbody>");
        Table { html }
    }

    fn row(&mut self, cells: &[(String, bool)]) {
        self.row_with_class("", cells);
    }

    fn row_with_class(&mut self, class: &str, cells: &[(String, bool)]) {
        let _ = if class.is_empty() {
            write!(self.html, "<tr>")
        } else {
            write!(self.html, "<tr class=\"{class}\">")
        };
        for (cell, numeric) in cells {
            let class = if *numeric { " class=\"num\"" } else { "" };
            let _ = write!(self.html, "<td{class}>{}</td>", escape(cell));
        }
        self.html.push_str("</tr>");
    }

    fn finish(mut self) -> String {
        self.html.push_str("</tbody></table>");
        self.html
    }
}

fn text(value: impl Into<String>) -> (String, bool) {
    (value.into(), false)
}

fn num(value: impl Into<String>) -> (String, bool) {
    (value.into(), true)
}

fn coverage_and_totals(out: &mut String, report: &MonthReport) {
    let totals = &report.totals;
    let mut coverage = Table::new(&[
        ("reason", false),
        ("orders", true),
        ("amount", true),
        ("surcharge", true),
        ("rebate", true),
    ]);
    for line in &report.by_reason {
        coverage.row(&[
            text(line.reason.as_str()),
            num(thousands(line.orders)),
            num(yen(line.amount_jpy)),
            num(yen(line.surcharge_jpy)),
            num(yen(line.rebate_jpy)),
        ]);
    }
    coverage.row_with_class(
        "total",
        &[
            text("total"),
            num(thousands(totals.order_lines)),
            num(yen(totals.amount_jpy)),
            num(yen(totals.surcharge_lines_jpy)),
            num(yen(totals.rebate_jpy)),
        ],
    );

    let mut money = Table::new(&[("", false), ("amount", true)]);
    for (label, jpy) in [
        ("Order amount", totals.amount_jpy),
        ("Client surcharge", totals.surcharge_lines_jpy),
        ("Lancer reward", totals.reward_jpy),
        ("Lancer rebate", totals.rebate_jpy),
        ("Paid on completion", totals.paid_lines_payout_jpy),
        ("Released from holds", totals.released_jpy),
        ("Forfeited", totals.forfeited_jpy),
    ] {
        money.row(&[text(label), num(yen(jpy))]);
    }
    money.row_with_class(
        "total",
        &[text("Payable now"), num(yen(totals.payable_jpy))],
    );
    let _ = write!(
        out,
        "<section class=\"grid2\"><div><h2>Orders by coverage reason</h2>{}</div><div><h2>Money \
         totals</h2>{}<p class=\"legend\">Payable now is paid on completion plus released \
         holds.</p></div></section>",
        coverage.finish(),
        money.finish()
    );
}

fn group_table(groups: &[HoldGroup], empty: &str) -> String {
    if groups.is_empty() {
        return format!("<p class=\"empty\">{}</p>", escape(empty));
    }
    let mut table = Table::new(&[
        ("opened", false),
        ("age", false),
        ("holds", true),
        ("amount", true),
    ]);
    for group in groups {
        table.row(&[
            text(group.opened_month.to_string()),
            text(age_text(group.age_months)),
            num(thousands(group.tally.count)),
            num(yen(group.tally.jpy)),
        ]);
    }
    table.finish()
}

fn holds(out: &mut String, report: &MonthReport) {
    let holds = &report.holds;
    let mut flow = Table::new(&[("", false), ("holds", true), ("amount", true)]);
    for (label, tally) in [
        ("Open at the start", holds.opening),
        ("Opened", holds.opened),
        ("Released (paid now)", holds.released),
        ("Forfeited", holds.forfeited),
    ] {
        flow.row(&[
            text(label),
            num(thousands(tally.count)),
            num(yen(tally.jpy)),
        ]);
    }
    flow.row_with_class(
        "total",
        &[
            text("Open at the cutoff"),
            num(thousands(holds.closing.count)),
            num(yen(holds.closing.jpy)),
        ],
    );

    let bars: Vec<Bar> = holds
        .open_by_month
        .iter()
        .map(|group| Bar {
            label: format!("{} · {}", group.opened_month, age_text(group.age_months)),
            tooltip: format!(
                "opened {}: {} holds, {}",
                group.opened_month,
                thousands(group.tally.count),
                yen(group.tally.jpy)
            ),
            value_jpy: group.tally.jpy,
            caption: format!(
                "{} · {} holds",
                yen(group.tally.jpy),
                thousands(group.tally.count)
            ),
            quiet: false,
        })
        .collect();
    let chart = if bars.is_empty() {
        "<p class=\"empty\">No hold is open at the cutoff.</p>".to_string()
    } else {
        svg::rows("Holds open at the cutoff by month opened", &bars, "#c2721d")
    };

    let _ = write!(
        out,
        "<section><h2>Holds</h2><p class=\"legend\">A hold keeps a lancer's payout while a \
         claim on the order is under review; ages count whole months since the month it \
         opened.</p><div class=\"grid2\"><div><h3>This month</h3>{}</div><div><h3>Still open, by \
         month opened</h3>{}</div></div><h3><span class=\"swatch\" \
         style=\"background:var(--hold)\"></span>Held at the cutoff, by month opened</h3>{chart}",
        flow.finish(),
        group_table(&holds.open_by_month, "No hold is open at the cutoff."),
    );
    let _ = write!(
        out,
        "<div class=\"grid2\"><div><h3>Released this month, by month opened</h3>{}</div><div>\
         <h3>Forfeited this month, by month opened</h3>{}</div></div>",
        group_table(&holds.released_by_month, "None released."),
        group_table(&holds.forfeited_by_month, "None forfeited."),
    );
    if !holds.oldest_open.is_empty() {
        let mut oldest = Table::new(&[
            ("order", false),
            ("lancer", false),
            ("opened", false),
            ("age", false),
            ("payout", true),
            ("claims", false),
        ]);
        for hold in &holds.oldest_open {
            oldest.row(&[
                text(hold.order_id.clone()),
                text(hold.lancer_id.clone()),
                text(hold.opened_month.to_string()),
                text(age_text(months_between(hold.opened_month, report.month))),
                num(yen(hold.payout_jpy)),
                text(hold.claim_ids.clone()),
            ]);
        }
        let _ = write!(
            out,
            "<h3>Oldest open holds (at most {TOP_COUNT})</h3>{}",
            oldest.finish()
        );
    }
    out.push_str("</section>");
}

fn payouts(out: &mut String, report: &MonthReport) {
    let _ = write!(
        out,
        "<section><h2>Largest payouts</h2><p class=\"legend\">The lancers paid the most this \
         month (payable now), at most {TOP_COUNT}.</p>"
    );
    if report.largest_payouts.is_empty() {
        out.push_str("<p class=\"empty\">No lancer is paid this month.</p></section>");
        return;
    }
    let mut table = Table::new(&[
        ("#", true),
        ("lancer", false),
        ("reward", true),
        ("rebate", true),
        ("released", true),
        ("payable", true),
        ("still held", true),
    ]);
    for (rank, lancer) in report.largest_payouts.iter().enumerate() {
        table.row(&[
            num((rank + 1).to_string()),
            text(lancer.lancer_id.clone()),
            num(yen(lancer.reward_paid_jpy)),
            num(yen(lancer.rebate_paid_jpy)),
            num(yen(lancer.released_jpy)),
            num(yen(lancer.payable_jpy)),
            num(yen(lancer.held_jpy)),
        ]);
    }
    let _ = write!(out, "{}</section>", table.finish());
}

fn rejected(out: &mut String, report: &MonthReport) {
    let rows = &report.rows;
    let _ = write!(
        out,
        "<section><h2>Input rows</h2><p>{} order rows read: {} settled, {} belong to other \
         months, {} rejected. {} claim rows read: {} rejected.</p>",
        thousands(rows.orders_read),
        thousands(rows.order_lines),
        thousands(rows.orders_out_of_month),
        thousands(rows.orders_rejected),
        thousands(rows.claims_read),
        thousands(rows.claims_rejected)
    );
    if report.rejected.is_empty() {
        out.push_str("<p class=\"empty\">No row was rejected.</p></section>");
        return;
    }
    let mut table = Table::new(&[("reason", false), ("rows", true), ("first example", false)]);
    for group in &report.rejected {
        let example = &group.example;
        table.row(&[
            text(group.reason.as_str()),
            num(thousands(group.rows)),
            text(format!(
                "{} row {}: {}",
                example.file, example.row, example.detail
            )),
        ]);
    }
    let _ = write!(
        out,
        "<h3>Rejected rows by reason (every row is in rejected_rows.csv)</h3>{}</section>",
        table.finish()
    );
}

fn changes(out: &mut String, report: &MonthReport) {
    let (Some(changes), Source::Version { number, .. }) = (&report.changes, &report.source) else {
        return;
    };
    let previous = format!("v{}", changes.previous_version);
    let this = format!("v{number}");
    let mut table = Table::new(&[
        ("", false),
        (&previous, true),
        (&this, true),
        ("change", true),
    ]);
    for (label, before, after) in compared_totals(&changes.previous_totals, &report.totals) {
        table.row(&[
            text(label),
            num(before.shown()),
            num(after.shown()),
            num(after.change_from(before)),
        ]);
    }
    let _ = write!(
        out,
        "<section><h2>What changed against {previous}</h2><p>Reason: {}</p>{}<p>The adjustment \
         files change surcharges by {} across {} clients and payouts by {} across {} \
         lancers.</p>",
        escape(&changes.reason),
        table.finish(),
        yen_delta(changes.surcharge_delta_jpy),
        changes.clients_adjusted,
        yen_delta(changes.payable_delta_jpy),
        changes.lancers_adjusted
    );
    if !changes.largest_lancers.is_empty() {
        let mut lancers = Table::new(&[
            ("lancer", false),
            ("payable", true),
            ("held", true),
            ("forfeited", true),
        ]);
        for lancer in &changes.largest_lancers {
            lancers.row(&[
                text(lancer.lancer_id.clone()),
                num(yen_delta(lancer.payable_jpy)),
                num(yen_delta(lancer.held_jpy)),
                num(yen_delta(lancer.forfeited_jpy)),
            ]);
        }
        let _ = write!(
            out,
            "<h3>Largest lancer adjustments</h3>{}",
            lancers.finish()
        );
    }
    if !changes.largest_clients.is_empty() {
        let mut clients = Table::new(&[
            ("client", false),
            ("orders", true),
            ("amount", true),
            ("surcharge", true),
        ]);
        for client in &changes.largest_clients {
            clients.row(&[
                text(client.client_id.clone()),
                num(format!("{:+}", client.orders)),
                num(yen_delta(client.amount_jpy)),
                num(yen_delta(client.surcharge_jpy)),
            ]);
        }
        let _ = write!(
            out,
            "<h3>Largest client adjustments</h3>{}",
            clients.finish()
        );
    }
    out.push_str("</section>");
}
