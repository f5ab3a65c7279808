//! Backfills: every month from the first unsettled one through a given month, in order.
//!
//! Months settle in order, so a backfill is a loop of ordinary runs that stops at the first
//! failure; the months before it stay published, and the operator resumes from the failed
//! month once it is fixed. A month already published from the same inputs comes back
//! unchanged and is skipped, so running a backfill again does nothing and succeeds.
//!
//! Where it starts: with an empty ledger, at the month the operator names (or the job file's
//! `first_month`); otherwise at the month after the ledger's newest, or earlier if the
//! operator names an earlier month (those months are then checked against their inputs and
//! skipped when unchanged). It never starts before the ledger's first month.

use std::time::Instant;

use tracing::info;

use crate::calendar::Month;
use crate::job::UsageError;
use crate::run::{self, RunOutcome, RunRequest, RunSettings};

/// Which months a backfill runs, in order, given the months the ledger holds.
pub fn plan(
    ledger_months: &[Month],
    from: Option<Month>,
    through: Month,
) -> Result<Vec<Month>, UsageError> {
    let settled = ledger_months.first().zip(ledger_months.last());
    let start = match (settled, from) {
        (None, Some(from)) => from,
        (None, None) => {
            return Err(UsageError(
                "the ledger is empty: name the first month to settle with --month (or \
                 first_month in the job file)"
                    .to_string(),
            ))
        }
        (Some((&first, _)), Some(from)) if from < first => {
            return Err(UsageError(format!(
                "the ledger starts at {first}; --month {from} comes before it"
            )))
        }
        (Some((_, &newest)), Some(from)) => from.min(newest.next()),
        (Some((_, &newest)), None) => newest.next(),
    };
    if let Some(from) = from {
        if from > through {
            return Err(UsageError(format!(
                "--month {from} comes after --through {through}"
            )));
        }
    }
    let mut months = Vec::new();
    let mut month = start;
    while month <= through {
        months.push(month);
        month = month.next();
    }
    Ok(months)
}

/// One month of a backfill that ran to its end.
#[derive(Debug)]
pub struct Settled {
    pub month: Month,
    pub outcome: RunOutcome,
}

/// What a backfill did: the months settled or skipped in order, and the month it stopped at
/// with why, if it stopped.
#[derive(Debug, Default)]
pub struct Backfill {
    pub settled: Vec<Settled>,
    pub failed: Option<(Month, anyhow::Error)>,
}

impl Backfill {
    pub fn published(&self) -> usize {
        self.settled
            .iter()
            .filter(|s| matches!(s.outcome, RunOutcome::Published(_)))
            .count()
    }

    pub fn unchanged(&self) -> usize {
        self.settled.len() - self.published()
    }
}

/// Runs `months` in order with the request `request_for` makes for each, stopping at the first
/// month that fails or that leaves later months to correct. `settled` hears of each month as
/// it ends, so an operator sees progress on a long backfill.
pub fn backfill(
    months: &[Month],
    request_for: impl Fn(Month) -> RunRequest,
    settings: RunSettings,
    mut settled: impl FnMut(&Settled),
) -> Backfill {
    let started = Instant::now();
    let mut done = Backfill::default();
    for &month in months {
        match run::run_with(&request_for(month), settings) {
            Ok(outcome) => {
                let stop = matches!(
                    &outcome,
                    RunOutcome::Published(summary) if !summary.stale_later_months.is_empty()
                );
                let month_settled = Settled { month, outcome };
                settled(&month_settled);
                done.settled.push(month_settled);
                if stop {
                    break;
                }
            }
            Err(error) => {
                done.failed = Some((month, error));
                break;
            }
        }
    }
    info!(
        stage = "backfill",
        months_planned = months.len(),
        months_published = done.published(),
        months_unchanged = done.unchanged(),
        failed_month = done.failed.as_ref().map(|(m, _)| m.to_string()),
        elapsed_ms = started.elapsed().as_millis() as u64,
    );
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    fn months(texts: &[&str]) -> Vec<Month> {
        texts.iter().map(|t| t.parse().unwrap()).collect()
    }

    fn check(ledger: &[&str], from: Option<&str>, through: &str, expected: Result<&[&str], &str>) {
        let planned = plan(
            &months(ledger),
            from.map(|f| f.parse().unwrap()),
            through.parse().unwrap(),
        );
        match (planned, expected) {
            (Ok(planned), Ok(expected)) => assert_eq!(
                planned,
                months(expected),
                "ledger {ledger:?}, from {from:?}, through {through}"
            ),
            (Err(error), Err(fragment)) => assert!(
                error.0.contains(fragment),
                "ledger {ledger:?}, from {from:?}: {error}"
            ),
            (planned, expected) => panic!(
                "ledger {ledger:?}, from {from:?}, through {through}: got {planned:?}, expected \
                 {expected:?}"
            ),
        }
    }

    #[test]
    fn an_empty_ledger_starts_at_the_named_month() {
        check(
            &[],
            Some("2015-10"),
            "2016-01",
            Ok(&["2015-10", "2015-11", "2015-12", "2016-01"]),
        );
        check(&[], None, "2016-01", Err("the ledger is empty"));
    }

    #[test]
    fn a_ledger_continues_after_its_newest_month() {
        let ledger = ["2015-10", "2015-11"];
        check(&ledger, None, "2016-01", Ok(&["2015-12", "2016-01"]));
        // A later --month cannot skip the unsettled months before it.
        check(
            &ledger,
            Some("2016-01"),
            "2016-01",
            Ok(&["2015-12", "2016-01"]),
        );
        // An earlier --month rechecks the settled months, which come back unchanged.
        check(
            &ledger,
            Some("2015-11"),
            "2015-12",
            Ok(&["2015-11", "2015-12"]),
        );
    }

    #[test]
    fn nothing_to_do_is_an_empty_plan() {
        check(&["2015-10", "2015-11"], None, "2015-11", Ok(&[]));
        check(&["2015-10", "2015-11"], None, "2015-10", Ok(&[]));
    }

    #[test]
    fn impossible_ranges_are_usage_errors() {
        check(
            &["2015-10"],
            Some("2015-09"),
            "2015-12",
            Err("starts at 2015-10"),
        );
        check(
            &[],
            Some("2016-02"),
            "2016-01",
            Err("comes after --through"),
        );
    }
}
