//! Turning raw rows into valid orders and claims, or into rejected rows with a reason.
//!
//! Pure: the month, the rows and what earlier months settled are arguments. Every order row
//! ends in exactly one of three places (a valid order of the month, out of the month, or
//! rejected), and every raw claim row in one of two (valid or rejected); the counts are
//! checked before the result is returned.
//!
//! Orders are judged in two steps, so that a month can be judged a batch at a time:
//! `screen_rows` judges each row by itself (a cheap check that passes the common row, and the
//! exact checks, which name the problem, for any row it does not pass), and `DuplicateScreen`
//! then reads the month's order ids in ascending order and finds every id that appears more
//! than once. `validate_orders` puts the two together for rows held in memory.

use std::collections::{BTreeSet, HashMap};

use unicode_normalization::{is_nfc, UnicodeNormalization};

use crate::calendar::{format_jst, Month};
use crate::input::rows::RowOrigin;
use polars::prelude::{BooleanType, PolarsDataType, StringType};

use crate::input::columns::FieldColumn;
use crate::input::{Field, OrderBatch, RawClaim, RawOrder};
use crate::model::{Claim, ClaimStatus, InstantNs, Order, PayoutDecision, RejectReason, WorkType};

pub const ID_MAX_CHARS: usize = 128;

/// A row that will not be settled, before its file index is turned into a file name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rejection {
    pub origin: RowOrigin,
    pub order_id: Option<String>,
    pub reason: RejectReason,
    pub detail: String,
}

#[derive(Debug, Default)]
pub struct OrderIntake {
    pub orders: Vec<Order>,
    pub out_of_month_rows: u64,
    /// Of the rows out of the month, those completed before it: late exports of a month that
    /// may already be settled. Counted, with the first few order ids for the warning.
    pub earlier_rows: u64,
    pub earlier_examples: Vec<String>,
    pub rejected: Vec<Rejection>,
}

/// Rows completed before the month: how many, and the first few for the warning that names
/// them, as `ID completed TIME`.
#[derive(Debug, Default)]
pub struct EarlierRows {
    pub rows: u64,
    pub examples: Vec<String>,
}

const EARLIER_EXAMPLES: usize = 3;

impl EarlierRows {
    pub fn add(&mut self, order_id: Option<&str>, completed_at: InstantNs) {
        self.rows += 1;
        if self.examples.len() < EARLIER_EXAMPLES {
            let id = order_id.unwrap_or("(no id)");
            self.examples
                .push(format!("{id} completed {}", format_jst(completed_at)));
        }
    }

    /// Adds `other`'s rows, keeping the first examples.
    pub fn extend(&mut self, other: EarlierRows) {
        self.rows += other.rows;
        let room = EARLIER_EXAMPLES.saturating_sub(self.examples.len());
        self.examples.extend(other.examples.into_iter().take(room));
    }
}

#[derive(Debug, Default)]
pub struct ClaimIntake {
    pub claims: Vec<Claim>,
    pub rejected: Vec<Rejection>,
}

type Problem = (RejectReason, String);

/// Characters that show as nothing (or change how text around them shows) yet make two ids
/// different: Unicode's format characters (Cf: the soft hyphen, zero-width spaces and joiners,
/// direction marks and overrides, number signs, the byte order mark, tags, ...), the other
/// characters it lists as ignorable by default (variation selectors, Hangul fillers, ...), and
/// the blank Braille pattern, which looks like a space but is not one.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// White space other than the plain space, which reads as a space (or as nothing) and so
/// makes `A 1` and `A\u{a0}1` two ids.
fn is_other_space(c: char) -> bool {
    c.is_whitespace() && c != ' '
}

/// Checks an id: present, at most 128 characters, no control characters, and not starting
/// with a character that makes a spreadsheet treat the cell as a formula. Two ids that read
/// the same must be the same id, or the same order could be paid twice under two spellings:
/// an id may not start or end with white space, hold white space other than the plain space
/// or an invisible character (`is_invisible`), or be written in any Unicode form but NFC (`Ó`
/// as one code point, not `O` and an accent). Characters that look alike but are different
/// letters (Latin `O` and Cyrillic `О`, `O` and full-width `Ｏ`) stay different ids: telling
/// them apart is beyond what an id check can do without refusing legitimate Japanese text.
fn id(column: &str, value: &Option<String>) -> Result<String, Problem> {
    let Some(value) = value else {
        return Err((
            RejectReason::MissingValue,
            format!("{column} is empty (null)"),
        ));
    };
    let problem = if value.is_empty() {
        Some("is an empty string".to_string())
    } else if value.trim().is_empty() {
        Some("is blank".to_string())
    } else if value.chars().count() > ID_MAX_CHARS {
        Some(format!("is longer than {ID_MAX_CHARS} characters"))
    } else if value.chars().any(char::is_control) {
        Some("contains a control character".to_string())
    } else if value.trim() != value {
        Some("starts or ends with white space".to_string())
    } else if let Some(c) = value.chars().find(|&c| is_invisible(c)) {
        Some(format!(
            "contains the invisible character U+{:04X}",
            u32::from(c)
        ))
    } else if let Some(c) = value.chars().find(|&c| is_other_space(c)) {
        Some(format!(
            "contains the white space character U+{:04X}; only the plain space may be used",
            u32::from(c)
        ))
    } else if !is_nfc(value) {
        Some("is not in Unicode normal form C (it can be written with other code points)".into())
    } else if value.starts_with(['=', '+', '-', '@']) {
        Some("starts with =, +, - or @, which spreadsheets run as a formula".to_string())
    } else {
        None
    };
    match problem {
        Some(problem) => Err((
            RejectReason::InvalidId,
            format!("{column} {value:?} {problem}"),
        )),
        None => Ok(value.clone()),
    }
}

fn present<T: Clone>(column: &str, value: &Field<T>) -> Result<T, Problem> {
    match value {
        Field::Value(value) => Ok(value.clone()),
        Field::Missing => Err((
            RejectReason::MissingValue,
            format!("{column} is empty (null)"),
        )),
        Field::Invalid(reason, detail) => Err((*reason, detail.clone())),
    }
}

fn required<T: Clone>(column: &str, value: &Option<T>) -> Result<T, Problem> {
    value.clone().ok_or_else(|| {
        (
            RejectReason::MissingValue,
            format!("{column} is empty (null)"),
        )
    })
}

fn order(raw: &RawOrder) -> Result<Order, Problem> {
    let order_id = id("order_id", &raw.order_id)?;
    let request_id = id("request_id", &raw.request_id)?;
    let client_id = id("client_id", &raw.client_id)?;
    let lancer_id = id("lancer_id", &raw.lancer_id)?;
    let work_type_text = required("work_type", &raw.work_type)?;
    let work_type = WorkType::parse(&work_type_text).ok_or_else(|| {
        (
            RejectReason::UnknownWorkType,
            format!(
                "work_type {work_type_text:?} is not one of {}",
                names(WorkType::ALL.iter().map(|w| w.as_str()))
            ),
        )
    })?;
    let lancer_certified = required("lancer_certified", &raw.lancer_certified)?;
    let request_created_at = present("request_created_at", &raw.request_created_at)?;
    let ordered_at = present("ordered_at", &raw.ordered_at)?;
    let completed_at = present("completed_at", &raw.completed_at)?;
    let amount_jpy = present("amount_jpy", &raw.amount_jpy)?;
    let reward_jpy = present("reward_jpy", &raw.reward_jpy)?;

    if amount_jpy <= 0 {
        return Err((
            RejectReason::NonPositiveAmount,
            format!("amount_jpy is {amount_jpy}"),
        ));
    }
    if reward_jpy < 0 {
        return Err((
            RejectReason::NegativeReward,
            format!("reward_jpy is {reward_jpy}"),
        ));
    }
    // A request created after its order is not rejected: SPEC §3's rule 4
    // (`ordered_before_start`) can only fail for such an order, so the contract expects these
    // rows to settle, and the shared expected results settle them.
    if ordered_at > completed_at {
        return Err(out_of_order(
            "ordered_at",
            ordered_at,
            "completed_at",
            completed_at,
        ));
    }
    Ok(Order {
        order_id,
        request_id,
        client_id,
        lancer_id,
        work_type,
        lancer_certified,
        request_created_at,
        ordered_at,
        completed_at,
        amount_jpy,
        reward_jpy,
    })
}

fn out_of_order(first: &str, first_ns: InstantNs, second: &str, second_ns: InstantNs) -> Problem {
    (
        RejectReason::TimestampsOutOfOrder,
        format!(
            "{first} {} is after {second} {}",
            format_jst(first_ns),
            format_jst(second_ns)
        ),
    )
}

fn names<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

/// An in-month row with an order id: it may become an order line, and it is a copy of its id
/// whether or not it is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// The row's index in its batch.
    pub row: usize,
    /// The row's work type when the row passed every check that looks at the row alone,
    /// `None` when it was rejected.
    pub accepted: Option<WorkType>,
}

/// One batch of order rows, each judged by itself.
#[derive(Debug, Default)]
pub struct ScreenedRows {
    pub out_of_month_rows: u64,
    /// Of the rows out of the month, those completed before it.
    pub earlier: EarlierRows,
    /// Rows rejected for what they hold, with each row's index in the batch, in row order.
    pub rejected: Vec<(usize, Rejection)>,
    /// In-month rows with an order id, in row order.
    pub candidates: Vec<Candidate>,
}

/// Judges each row of `batch` by itself for `month`.
///
/// A row whose `completed_at` is a valid instant outside the month is counted as out of the
/// month and judged no further: it belongs to another month's run. Every other row is checked
/// first by `QuickColumns::passes`, which accepts the common valid row without allocating; a row it
/// does not accept goes through the exact checks of `order`, which name what is wrong.
pub fn screen_rows(batch: &OrderBatch, month: Month) -> ScreenedRows {
    let (start_ns, cutoff_ns) = (month.start_ns(), month.cutoff_ns());
    let mut screened = ScreenedRows::default();
    let columns = QuickColumns::of(batch);
    let completed_at = &batch.completed_at;
    for row in 0..batch.len() {
        if let Some(completed_ns) = completed_at.value(row) {
            if completed_ns < start_ns || completed_ns >= cutoff_ns {
                screened.out_of_month_rows += 1;
                if completed_ns < start_ns {
                    let id = columns.ids[0].get(row);
                    screened.earlier.add(id, completed_ns);
                }
                continue;
            }
        }
        let accepted = columns.passes(row).or_else(|| {
            let raw = batch.raw(row);
            match order(&raw) {
                Ok(order) => Some(order.work_type),
                Err((reason, detail)) => {
                    let rejection = Rejection {
                        origin: raw.origin,
                        order_id: raw.order_id,
                        reason,
                        detail,
                    };
                    screened.rejected.push((row, rejection));
                    None
                }
            }
        });
        if columns.ids[0].get(row).is_some() {
            screened.candidates.push(Candidate { row, accepted });
        }
    }
    screened
}

type Utf8ViewArray = <StringType as PolarsDataType>::Array;
type BooleanArray = <BooleanType as PolarsDataType>::Array;

/// The columns of a batch that the quick check reads, each looked up once per batch.
struct QuickColumns<'a> {
    /// order_id, request_id, client_id and lancer_id.
    ids: [&'a Utf8ViewArray; 4],
    work_type: &'a Utf8ViewArray,
    lancer_certified: &'a BooleanArray,
    instants: [&'a FieldColumn; 3],
    amount_jpy: &'a FieldColumn,
    reward_jpy: &'a FieldColumn,
    ordered_at: &'a [i64],
    completed_at: &'a [i64],
}

impl<'a> QuickColumns<'a> {
    fn of(batch: &'a OrderBatch) -> QuickColumns<'a> {
        QuickColumns {
            ids: [
                batch.order_id.downcast_as_array(),
                batch.request_id.downcast_as_array(),
                batch.client_id.downcast_as_array(),
                batch.lancer_id.downcast_as_array(),
            ],
            work_type: batch.work_type.downcast_as_array(),
            lancer_certified: batch.lancer_certified.downcast_as_array(),
            instants: [
                &batch.request_created_at,
                &batch.ordered_at,
                &batch.completed_at,
            ],
            amount_jpy: &batch.amount_jpy,
            reward_jpy: &batch.reward_jpy,
            ordered_at: batch.ordered_at.values(),
            completed_at: batch.completed_at.values(),
        }
    }

    /// The row's work type when the row certainly passes every check of `order`, decided
    /// without allocating. `None` is no verdict: the row goes through `order`, which is the
    /// definition.
    fn passes(&self, row: usize) -> Option<WorkType> {
        if !self
            .ids
            .iter()
            .all(|ids| ids.get(row).is_some_and(is_clean_id))
        {
            return None;
        }
        let work_type = WorkType::parse(self.work_type.get(row)?)?;
        let passes = self.lancer_certified.get(row).is_some()
            && self.instants.iter().all(|column| column.usable()[row])
            && self.amount_jpy.value(row).is_some_and(|amount| amount > 0)
            && self.reward_jpy.value(row).is_some_and(|reward| reward >= 0)
            && self.ordered_at[row] <= self.completed_at[row];
        passes.then_some(work_type)
    }
}

/// `id`'s checks as a yes or no: ASCII ids byte by byte, others character by character.
fn is_clean_id(value: &str) -> bool {
    let bytes = value.as_bytes();
    let Some(first) = bytes.first() else {
        return false;
    };
    if matches!(first, b'=' | b'+' | b'-' | b'@') {
        return false;
    }
    if value.is_ascii() {
        bytes.len() <= ID_MAX_CHARS
            && bytes.iter().all(|byte| (0x20..0x7f).contains(byte))
            && *first != b' '
            && bytes.last() != Some(&b' ')
    } else {
        value.chars().count() <= ID_MAX_CHARS
            && !value
                .chars()
                .any(|c| c.is_control() || is_invisible(c) || is_other_space(c))
            && value.trim() == value
            && is_nfc(value)
    }
}

/// Order ids that are not read in ascending order, which `DuplicateScreen` needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("order id {later:?} comes after {earlier:?}: the ids are not in ascending order")]
pub struct NotAscending {
    pub earlier: String,
    pub later: String,
}

/// Finds every copy of an order id that appears more than once in the month, reading the ids
/// of the month's candidate rows in ascending order, batch after batch: copies of an id then
/// sit side by side, and only the last id of the batch before is remembered, besides the ids
/// found more than once.
#[derive(Debug, Default)]
pub struct DuplicateScreen {
    previous_id: Option<String>,
    copies: HashMap<String, u64>,
}

impl DuplicateScreen {
    /// For each id of `ids` (ascending, continuing the batches before), whether another row
    /// has the same id; `next_id` is the first id after the batch, if any.
    pub fn screen(
        &mut self,
        ids: &[&str],
        next_id: Option<&str>,
    ) -> Result<Vec<bool>, NotAscending> {
        let mut duplicated = Vec::with_capacity(ids.len());
        for (index, &id) in ids.iter().enumerate() {
            let previous = match index {
                0 => self.previous_id.as_deref(),
                _ => Some(ids[index - 1]),
            };
            if let Some(previous) = previous.filter(|previous| *previous > id) {
                return Err(NotAscending {
                    earlier: previous.to_string(),
                    later: id.to_string(),
                });
            }
            let next = ids.get(index + 1).copied().or(next_id);
            let copy = previous == Some(id) || next == Some(id);
            if copy {
                *self.copies.entry(id.to_string()).or_default() += 1;
            }
            duplicated.push(copy);
        }
        if let Some(last) = ids.last() {
            self.previous_id = Some(last.to_string());
        }
        Ok(duplicated)
    }

    /// The rejection of a copy of a duplicated id, once every id has been screened.
    pub fn rejection(&self, origin: RowOrigin, order_id: &str) -> Rejection {
        let count = self.copies.get(order_id).copied().unwrap_or(0);
        Rejection {
            origin,
            order_id: Some(order_id.to_string()),
            reason: RejectReason::DuplicateOrderId,
            detail: format!("order_id {order_id:?} appears {count} times in the month"),
        }
    }
}

/// The rejection of an order id that an earlier month settled.
pub fn already_settled(origin: RowOrigin, order_id: &str, settled: &str) -> Rejection {
    Rejection {
        origin,
        order_id: Some(order_id.to_string()),
        reason: RejectReason::AlreadySettled,
        detail: format!("order_id {order_id:?} was settled in {settled}"),
    }
}

/// Validates the order rows of `month` held in memory, in any order.
///
/// Every copy of an order id that appears more than once in the month is rejected, since no
/// copy can be trusted over another; an id that `settled_in` knows from an earlier month is
/// rejected so that it is never paid twice. Orders and rejections keep the rows' order.
pub fn validate_orders(
    raw_orders: &[RawOrder],
    month: Month,
    settled_in: impl Fn(&str) -> Option<String>,
) -> OrderIntake {
    let batch = OrderBatch::from_rows(raw_orders);
    let screened = screen_rows(&batch, month);
    let id = |candidate: &Candidate| {
        batch
            .order_id
            .downcast_as_array()
            .get(candidate.row)
            .expect("a candidate has an order id")
    };

    // Sorting brings the copies of an id together, as the ascending files of a stream are.
    let mut by_id: Vec<usize> = (0..screened.candidates.len()).collect();
    by_id.sort_by_key(|&index| id(&screened.candidates[index]));
    let sorted_ids: Vec<&str> = by_id
        .iter()
        .map(|&index| id(&screened.candidates[index]))
        .collect();
    let mut duplicates = DuplicateScreen::default();
    let sorted_copies = duplicates
        .screen(&sorted_ids, None)
        .expect("sorted ids are ascending");
    let mut is_copy = vec![false; screened.candidates.len()];
    for (position, &index) in by_id.iter().enumerate() {
        is_copy[index] = sorted_copies[position];
    }

    let mut intake = OrderIntake {
        out_of_month_rows: screened.out_of_month_rows,
        earlier_rows: screened.earlier.rows,
        earlier_examples: screened.earlier.examples,
        ..OrderIntake::default()
    };
    let mut rejected = screened.rejected;
    for (candidate, copy) in screened.candidates.iter().zip(is_copy) {
        if candidate.accepted.is_none() {
            continue;
        }
        let raw = &raw_orders[candidate.row];
        let order_id = id(candidate);
        if copy {
            rejected.push((candidate.row, duplicates.rejection(raw.origin, order_id)));
        } else if let Some(settled) = settled_in(order_id) {
            rejected.push((
                candidate.row,
                already_settled(raw.origin, order_id, &settled),
            ));
        } else {
            intake
                .orders
                .push(order(raw).expect("an accepted row is a valid order"));
        }
    }
    rejected.sort_by_key(|(row, _)| *row);
    intake.rejected = rejected
        .into_iter()
        .map(|(_, rejection)| rejection)
        .collect();

    let accounted =
        intake.orders.len() as u64 + intake.out_of_month_rows + intake.rejected.len() as u64;
    assert_eq!(
        accounted,
        raw_orders.len() as u64,
        "every order row is accounted for"
    );
    intake
}

fn claim(raw: &RawClaim) -> Result<Claim, Problem> {
    let claim_id = id("claim_id", &raw.claim_id)?;
    let order_id = id("order_id", &raw.order_id)?;
    let filed_at = present("filed_at", &raw.filed_at)?;
    let status_text = required("status", &raw.status)?;
    let status = ClaimStatus::parse(&status_text).ok_or_else(|| {
        (
            RejectReason::UnknownClaimStatus,
            format!(
                "status {status_text:?} is not one of {}",
                names(ClaimStatus::ALL.iter().map(|s| s.as_str()))
            ),
        )
    })?;
    let payout_decision = match &raw.payout_decision {
        None => None,
        Some(text) => Some(PayoutDecision::parse(text).ok_or_else(|| {
            (
                RejectReason::UnknownPayoutDecision,
                format!(
                    "payout_decision {text:?} is not one of {}",
                    names(PayoutDecision::ALL.iter().map(|d| d.as_str()))
                ),
            )
        })?),
    };
    let decided_at = match &raw.decided_at {
        Field::Missing => None,
        Field::Value(decided_at) => Some(*decided_at),
        Field::Invalid(reason, detail) => return Err((*reason, detail.clone())),
    };

    match (status, decided_at) {
        (ClaimStatus::UnderReview, Some(decided_at)) => {
            return Err((
                RejectReason::DecisionTimeWhileUnderReview,
                format!(
                    "claim {claim_id} is under review but decided_at is {}",
                    format_jst(decided_at)
                ),
            ));
        }
        (ClaimStatus::Approved | ClaimStatus::Rejected | ClaimStatus::Withdrawn, None) => {
            return Err((
                RejectReason::DecidedWithoutTime,
                format!("claim {claim_id} is {status} but decided_at is empty"),
            ));
        }
        (_, Some(decided_at)) if decided_at < filed_at => {
            return Err((
                RejectReason::DecidedBeforeFiled,
                format!(
                    "claim {claim_id} was decided at {} before it was filed at {}",
                    format_jst(decided_at),
                    format_jst(filed_at)
                ),
            ));
        }
        _ => {}
    }
    match (status, payout_decision) {
        (ClaimStatus::Approved, None) => {
            return Err((
                RejectReason::ApprovedWithoutDecision,
                format!("claim {claim_id} is approved but payout_decision is empty"),
            ));
        }
        (ClaimStatus::UnderReview, Some(decision))
        | (
            ClaimStatus::Rejected | ClaimStatus::Withdrawn,
            Some(decision @ PayoutDecision::Forfeit),
        ) => {
            return Err((
                RejectReason::DecisionConflictsWithStatus,
                format!("claim {claim_id} is {status} but payout_decision is {decision}"),
            ));
        }
        _ => {}
    }
    Ok(Claim {
        claim_id,
        order_id,
        filed_at,
        status,
        decided_at,
        payout_decision,
    })
}

/// The order ids that rejected claim rows name, whose orders are held until the rows are
/// fixed: each as written and, where it is not a valid id, as it most likely meant (trimmed,
/// its control and invisible characters removed, in NFC and in NFKC), so that a claim on
/// `O1 ` holds order `O1`.
/// Holding can be undone next month; a payout cannot.
pub fn orders_named_by_rejected_claims(claims: &ClaimIntake) -> BTreeSet<String> {
    let mut named = BTreeSet::new();
    for order_id in claims.rejected.iter().filter_map(|r| r.order_id.as_deref()) {
        let visible: String = order_id
            .chars()
            .filter(|&c| !c.is_control() && !is_invisible(c))
            .collect();
        let visible = visible.trim();
        named.insert(visible.nfc().collect());
        // Compatibility forms too: a no-break space as a space, full-width letters as ASCII.
        named.insert(visible.nfkc().collect());
        named.insert(order_id.to_string());
    }
    named
}

/// Validates every claim row. Claims are not filtered by month: whether a claim is known at a
/// cutoff is the rules' question, not the reader's. Every copy of a duplicated claim id is
/// rejected.
pub fn validate_claims(raw_claims: &[RawClaim]) -> ClaimIntake {
    let mut copies: HashMap<&str, u64> = HashMap::new();
    for raw in raw_claims {
        if let Some(claim_id) = raw.claim_id.as_deref() {
            *copies.entry(claim_id).or_default() += 1;
        }
    }

    let mut intake = ClaimIntake::default();
    for raw in raw_claims {
        let checked = claim(raw).and_then(|claim| {
            let count = copies.get(claim.claim_id.as_str()).copied().unwrap_or(0);
            if count > 1 {
                return Err((
                    RejectReason::DuplicateClaimId,
                    format!("claim_id {:?} appears {count} times", claim.claim_id),
                ));
            }
            Ok(claim)
        });
        match checked {
            Ok(claim) => intake.claims.push(claim),
            Err((reason, detail)) => {
                let detail = match &raw.claim_id {
                    Some(claim_id) if !detail.contains(claim_id.as_str()) => {
                        format!("claim {claim_id:?}: {detail}")
                    }
                    _ => detail,
                };
                intake.rejected.push(Rejection {
                    origin: raw.origin,
                    order_id: raw.order_id.clone(),
                    reason,
                    detail,
                });
            }
        }
    }

    assert_eq!(
        intake.claims.len() + intake.rejected.len(),
        raw_claims.len(),
        "every claim row is accounted for"
    );
    intake
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The quick check may pass an id only where the exact checks do: it decides which
        /// rows skip them.
        #[test]
        fn the_quick_id_check_never_passes_what_the_exact_checks_reject(
            id_text in concat!(
                "[ =+@\\-Oo0-9注\u{7}\u{A0}\u{D3}\u{301}",
                "\u{200B}\u{202E}\u{2800}\u{3000}\u{FEFF}\u{1BCA0}]{0,6}"
            )
        ) {
            if is_clean_id(&id_text) {
                prop_assert_eq!(id("order_id", &Some(id_text.clone())), Ok(id_text));
            }
        }
    }
}
