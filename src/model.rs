//! The vocabulary of a settlement: orders and claims as read, and the enums that name every
//! work type, status, coverage reason and rejection reason.
//!
//! Strings exist only at the file boundary: each enum parses from and prints to exactly the
//! spelling SPEC.md uses, and nothing else is accepted.

use std::fmt;

/// An instant, as nanoseconds since the Unix epoch in UTC.
///
/// Nanoseconds keep every input unit exact (s, ms, µs and ns all convert without loss), and
/// an `i64` of them spans 1677 to 2262, far wider than any business date.
pub type InstantNs = i64;

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<$name> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl From<$name> for &'static str {
            fn from(case: $name) -> &'static str {
                case.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D>(deserializer: D) -> Result<$name, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                let text = String::deserialize(deserializer)?;
                $name::parse(&text).ok_or_else(|| {
                    let kind = stringify!($name);
                    serde::de::Error::custom(format!("{text:?} is not a known {kind}"))
                })
            }
        }
    };
}

string_enum! {
    /// How the work was contracted; only fixed-price projects are covered.
    WorkType {
        ProjectFixed => "project_fixed",
        ProjectHourly => "project_hourly",
        Competition => "competition",
        Task => "task",
    }
}

string_enum! {
    /// Why an order is or is not covered: the first failing rule of SPEC §3, or `covered`.
    CoverageReason {
        Covered => "covered",
        NotFixedPrice => "not_fixed_price",
        LancerNotCertified => "lancer_not_certified",
        RequestedBeforeStart => "requested_before_start",
        OrderedBeforeStart => "ordered_before_start",
        OrderedAfterEnd => "ordered_after_end",
    }
}

string_enum! {
    /// A claim's status in the claims register, as of when the register was exported.
    ClaimStatus {
        UnderReview => "under_review",
        Approved => "approved",
        Rejected => "rejected",
        Withdrawn => "withdrawn",
    }
}

string_enum! {
    /// What an approved claim decided about the lancer's payout.
    PayoutDecision {
        Release => "release",
        Forfeit => "forfeit",
    }
}

string_enum! {
    /// What happens to an order line's payout in its month.
    PayoutStatus {
        Paid => "paid",
        Held => "held",
        Forfeited => "forfeited",
    }
}

string_enum! {
    /// What happened to a hold in a month.
    HoldEvent {
        Opened => "opened",
        Released => "released",
        Forfeited => "forfeited",
    }
}

string_enum! {
    /// Why an input row was not settled. Each reason is its own case so that finance can count
    /// and fix them by kind.
    RejectReason {
        MissingValue => "missing_value",
        InvalidId => "invalid_id",
        NonPositiveAmount => "non_positive_amount",
        FractionalYen => "fractional_yen",
        NegativeReward => "negative_reward",
        AmountOutOfRange => "amount_out_of_range",
        UnknownWorkType => "unknown_work_type",
        TimestampOutOfRange => "timestamp_out_of_range",
        TimestampsOutOfOrder => "timestamps_out_of_order",
        DuplicateOrderId => "duplicate_order_id",
        AlreadySettled => "already_settled",
        UnknownClaimStatus => "unknown_claim_status",
        UnknownPayoutDecision => "unknown_payout_decision",
        DecidedBeforeFiled => "decided_before_filed",
        ApprovedWithoutDecision => "approved_without_decision",
        DecidedWithoutTime => "decided_without_time",
        DecisionTimeWhileUnderReview => "decision_time_while_under_review",
        DecisionConflictsWithStatus => "decision_conflicts_with_status",
        DuplicateClaimId => "duplicate_claim_id",
    }
}

impl CoverageReason {
    pub fn is_covered(self) -> bool {
        self == CoverageReason::Covered
    }
}

/// One completed order, validated: every field present and every rule of SPEC §7 holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub order_id: String,
    pub request_id: String,
    pub client_id: String,
    pub lancer_id: String,
    pub work_type: WorkType,
    pub lancer_certified: bool,
    pub request_created_at: InstantNs,
    pub ordered_at: InstantNs,
    pub completed_at: InstantNs,
    pub amount_jpy: i64,
    pub reward_jpy: i64,
}

/// One claim, validated. `decided_at` is `None` exactly when the register says it is still
/// under review; the settlement judges it again as of the cutoff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub claim_id: String,
    pub order_id: String,
    pub filed_at: InstantNs,
    pub status: ClaimStatus,
    pub decided_at: Option<InstantNs>,
    pub payout_decision: Option<PayoutDecision>,
}

/// An input row that was not settled, with where it came from and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct RejectedRow {
    pub file: String,
    /// 1-based position of the row among the data rows of its file.
    pub row: u64,
    pub order_id: Option<String>,
    pub reason: RejectReason,
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_enum_spelling_round_trips() {
        for reason in RejectReason::ALL {
            assert_eq!(RejectReason::parse(reason.as_str()), Some(*reason));
        }
        for work_type in WorkType::ALL {
            assert_eq!(WorkType::parse(work_type.as_str()), Some(*work_type));
        }
        assert_eq!(WorkType::parse("Project_Fixed"), None);
        assert_eq!(ClaimStatus::parse(""), None);
    }
}
