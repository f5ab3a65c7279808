//! Settlement months and instants in Asia/Tokyo.
//!
//! Every business boundary is a JST instant. Nothing here reads the host's clock or time zone,
//! so a run under any `TZ` computes the same boundaries.

use std::fmt;
use std::str::FromStr;

use anyhow::{bail, Context};
use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::model::InstantNs;

pub const BUSINESS_ZONE: Tz = chrono_tz::Asia::Tokyo;

/// A calendar month, `YYYY-MM`, as the unit of settlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    month: u32,
}

impl Month {
    pub fn new(year: i32, month: u32) -> anyhow::Result<Month> {
        if !(1..=12).contains(&month) {
            bail!("month {year:04}-{month:02} names month {month}; months run from 01 to 12");
        }
        if !(1900..=2200).contains(&year) {
            bail!("month {year:04}-{month:02} is out of range (expected a year 1900-2200)");
        }
        Ok(Month { year, month })
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn previous(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// The first instant of the month in JST.
    pub fn start_ns(self) -> InstantNs {
        let first_day = NaiveDate::from_ymd_opt(self.year, self.month, 1)
            .expect("a Month always holds a valid year and month");
        let local = first_day.and_hms_opt(0, 0, 0).expect("midnight exists");
        // JST has no daylight saving, so local midnight is always a single instant.
        let instant = BUSINESS_ZONE
            .from_local_datetime(&local)
            .single()
            .expect("JST has no gaps or folds");
        datetime_to_ns(instant.with_timezone(&Utc)).expect("years 1900-2200 fit in i64 ns")
    }

    /// The cutoff: the first instant of the next month in JST. Claims are judged as of it.
    pub fn cutoff_ns(self) -> InstantNs {
        self.next().start_ns()
    }

    pub fn contains(self, instant_ns: InstantNs) -> bool {
        self.start_ns() <= instant_ns && instant_ns < self.cutoff_ns()
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl serde::Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Month {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Month, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl FromStr for Month {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> anyhow::Result<Month> {
        let malformed = || format!("month {text:?} is not of the form YYYY-MM");
        let (year, month) = text.split_once('-').with_context(malformed)?;
        if year.len() != 4 || month.len() != 2 {
            bail!(malformed());
        }
        let year: i32 = year.parse().with_context(malformed)?;
        let month: u32 = month.parse().with_context(malformed)?;
        Month::new(year, month)
    }
}

pub fn datetime_to_ns<Z: TimeZone>(instant: DateTime<Z>) -> Option<InstantNs> {
    instant.timestamp_nanos_opt()
}

/// Reads a wall-clock time in `zone` as an instant. A time that the zone skips or repeats (a
/// daylight-saving change) has no single instant, and the caller must reject it.
pub fn wall_clock_to_ns(local: NaiveDateTime, zone: Tz) -> Option<InstantNs> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(instant) => datetime_to_ns(instant),
        LocalResult::Ambiguous(..) | LocalResult::None => None,
    }
}

/// Formats an instant as JST with an explicit offset, for messages and reports.
pub fn format_jst(instant_ns: InstantNs) -> String {
    DateTime::<Utc>::from_timestamp_nanos(instant_ns)
        .with_timezone(&BUSINESS_ZONE)
        .format("%Y-%m-%dT%H:%M:%S%.f%:z")
        .to_string()
}

/// Parses a time zone name from the IANA database, such as `Asia/Tokyo` or `UTC`.
pub fn parse_zone(name: &str) -> anyhow::Result<Tz> {
    name.parse::<Tz>()
        .map_err(|_| anyhow::anyhow!("time zone {name:?} is not an IANA zone name"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> InstantNs {
        datetime_to_ns(DateTime::parse_from_rfc3339(text).unwrap()).unwrap()
    }

    #[test]
    fn month_boundaries_are_tokyo_midnights() {
        let october: Month = "2015-10".parse().unwrap();
        assert_eq!(october.start_ns(), utc("2015-09-30T15:00:00Z"));
        assert_eq!(october.cutoff_ns(), utc("2015-10-31T15:00:00Z"));
        let december: Month = "2017-12".parse().unwrap();
        assert_eq!(december.cutoff_ns(), utc("2017-12-31T15:00:00Z"));
    }

    #[test]
    fn an_utc_evening_on_the_last_day_belongs_to_the_next_month() {
        // SPEC §2: 2015-10-31T15:30:00Z is 2015-11-01 00:30 JST.
        let instant = utc("2015-10-31T15:30:00Z");
        assert!(!"2015-10".parse::<Month>().unwrap().contains(instant));
        assert!("2015-11".parse::<Month>().unwrap().contains(instant));
    }

    #[test]
    fn malformed_months_are_refused_with_the_text() {
        for text in ["2015-1", "15-10", "2015-13", "2015/10", "", "2015-00"] {
            let error = text.parse::<Month>().unwrap_err().to_string();
            assert!(error.contains("month"), "{text}: {error}");
        }
    }

    #[test]
    fn months_step_over_year_ends() {
        let december: Month = "2015-12".parse().unwrap();
        assert_eq!(december.next().to_string(), "2016-01");
        assert_eq!(december.next().previous(), december);
    }

    #[test]
    fn wall_clock_in_a_zone_with_daylight_saving_refuses_gaps() {
        let zone = parse_zone("America/New_York").unwrap();
        let in_gap = NaiveDate::from_ymd_opt(2016, 3, 13)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        assert_eq!(wall_clock_to_ns(in_gap, zone), None);
        let jst = NaiveDate::from_ymd_opt(2015, 10, 7)
            .unwrap()
            .and_hms_opt(14, 0, 0)
            .unwrap();
        assert_eq!(
            wall_clock_to_ns(jst, BUSINESS_ZONE),
            Some(utc("2015-10-07T05:00:00Z"))
        );
    }
}
