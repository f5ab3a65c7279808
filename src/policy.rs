//! The settings finance may change without a new build: service dates, rates, the rebate
//! floor, the rounding mode and the zone for timestamps written without one.
//!
//! The default is SPEC.md's. A policy file may name only the settings it changes; every run
//! records the whole policy in force in its manifest.

use std::path::Path;

use anyhow::{bail, Context};
use chrono::{DateTime, FixedOffset};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::calendar::{datetime_to_ns, parse_zone};
use crate::model::InstantNs;
use crate::rules::ExactRate;

/// How a fraction of a yen becomes whole yen. Amounts are never negative, so `down` and `up`
/// are towards and away from zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    Down,
    HalfUp,
    HalfEven,
    Up,
}

impl Rounding {
    pub fn strategy(self) -> RoundingStrategy {
        match self {
            Rounding::Down => RoundingStrategy::ToZero,
            Rounding::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
            Rounding::Up => RoundingStrategy::AwayFromZero,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// A name for this set of rules, recorded in manifests and shown by `settle --version`.
    pub name: String,
    /// First instant of cover, inclusive, for both request creation and order placement.
    pub service_start: DateTime<FixedOffset>,
    /// Orders placed at or after this instant are not covered.
    pub service_end: DateTime<FixedOffset>,
    /// Orders placed before this instant pay no surcharge (the introductory window).
    pub surcharge_free_until: DateTime<FixedOffset>,
    #[serde(with = "decimal_text")]
    pub surcharge_rate: Decimal,
    #[serde(with = "decimal_text")]
    pub rebate_rate: Decimal,
    pub rebate_floor_jpy: i64,
    pub rounding: Rounding,
    /// IANA zone in which timestamps without a zone are read as wall-clock time.
    pub naive_timestamp_zone: String,
}

/// Rates are written as decimal strings (`"0.02"`): a TOML float would pass through binary
/// floating point before it became a decimal, so floats are refused.
mod decimal_text {
    use std::str::FromStr;

    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(rate: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(rate)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        let text = String::deserialize(deserializer)?;
        Decimal::from_str(&text)
            .map_err(|_| serde::de::Error::custom(format!("{text:?} is not a decimal number")))
    }
}

pub const DEFAULT_POLICY_NAME: &str = "spec-2015";

impl Default for Policy {
    fn default() -> Policy {
        let jst = |text: &str| DateTime::parse_from_rfc3339(text).expect("a valid constant");
        Policy {
            name: DEFAULT_POLICY_NAME.to_string(),
            service_start: jst("2015-10-07T14:00:00+09:00"),
            service_end: jst("2018-01-01T00:00:00+09:00"),
            surcharge_free_until: jst("2015-12-01T00:00:00+09:00"),
            surcharge_rate: Decimal::new(2, 2),
            rebate_rate: Decimal::new(3, 3),
            rebate_floor_jpy: 50,
            rounding: Rounding::Down,
            naive_timestamp_zone: "Asia/Tokyo".to_string(),
        }
    }
}

/// The policy as the rules use it: instants in nanoseconds, checked once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    pub service_start_ns: InstantNs,
    pub service_end_ns: InstantNs,
    pub surcharge_free_until_ns: InstantNs,
    pub surcharge_rate: Decimal,
    pub rebate_rate: Decimal,
    pub rebate_floor_jpy: i64,
    pub rounding: Rounding,
    /// The two rates as exact fractions, for applying them without `Decimal` arithmetic.
    pub surcharge_fraction: ExactRate,
    pub rebate_fraction: ExactRate,
}

impl Policy {
    pub fn load(path: &Path) -> anyhow::Result<Policy> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read policy file {}", path.display()))?;
        let policy: Policy = toml::from_str(&text)
            .with_context(|| format!("policy file {} is not valid", path.display()))?;
        policy
            .rules()
            .with_context(|| format!("policy file {} is not valid", path.display()))?;
        Ok(policy)
    }

    /// Checks the settings against each other and converts them for the rules.
    pub fn rules(&self) -> anyhow::Result<Rules> {
        let instant = |name: &str, value: DateTime<FixedOffset>| {
            datetime_to_ns(value).with_context(|| format!("{name} {value} is out of range"))
        };
        let rules = Rules {
            service_start_ns: instant("service_start", self.service_start)?,
            service_end_ns: instant("service_end", self.service_end)?,
            surcharge_free_until_ns: instant("surcharge_free_until", self.surcharge_free_until)?,
            surcharge_rate: self.surcharge_rate,
            rebate_rate: self.rebate_rate,
            rebate_floor_jpy: self.rebate_floor_jpy,
            rounding: self.rounding,
            surcharge_fraction: ExactRate::new(self.surcharge_rate),
            rebate_fraction: ExactRate::new(self.rebate_rate),
        };
        if rules.service_start_ns >= rules.service_end_ns {
            bail!("service_start must be before service_end");
        }
        for (name, rate) in [
            ("surcharge_rate", self.surcharge_rate),
            ("rebate_rate", self.rebate_rate),
        ] {
            if rate.is_sign_negative() || rate > Decimal::ONE {
                bail!("{name} must be between 0 and 1, found {rate}");
            }
        }
        if self.rebate_floor_jpy < 0 {
            bail!(
                "rebate_floor_jpy must not be negative, found {}",
                self.rebate_floor_jpy
            );
        }
        parse_zone(&self.naive_timestamp_zone)?;
        Ok(rules)
    }

    pub fn naive_zone(&self) -> anyhow::Result<chrono_tz::Tz> {
        parse_zone(&self.naive_timestamp_zone)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a policy always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_policy_is_valid() {
        Policy::default().rules().unwrap();
    }

    #[test]
    fn a_partial_file_changes_only_what_it_names() {
        let policy: Policy = toml::from_str("rounding = \"half_up\"").unwrap();
        assert_eq!(policy.rounding, Rounding::HalfUp);
        assert_eq!(policy.rebate_floor_jpy, 50);
    }

    #[test]
    fn unknown_settings_and_float_rates_are_refused() {
        assert!(toml::from_str::<Policy>("rebate_flor_jpy = 40").is_err());
        assert!(toml::from_str::<Policy>("surcharge_rate = 0.02").is_err());
    }

    #[test]
    fn the_shipped_policy_file_is_the_default() {
        let text = include_str!("../jobs/policy.toml");
        let shipped: Policy = toml::from_str(text).unwrap();
        assert_eq!(shipped, Policy::default());
    }

    #[test]
    fn inconsistent_settings_are_refused() {
        let negative = Policy {
            rebate_rate: Decimal::new(-1, 3),
            ..Policy::default()
        };
        assert!(negative.rules().is_err());
        let mut policy = Policy::default();
        policy.service_end = policy.service_start;
        assert!(policy.rules().is_err());
        let unknown_zone = Policy {
            naive_timestamp_zone: "Mars/Olympus".into(),
            ..Policy::default()
        };
        assert!(unknown_zone.rules().is_err());
    }
}
