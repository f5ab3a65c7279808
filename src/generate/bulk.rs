//! Large months for benchmarks: millions of orders completed in one month, written row group
//! by row group, with the shapes of a busy marketplace.
//!
//! The sample months of the parent module are small and hand-checked; these are big and only
//! plausible. A month of `n` orders has about `n / 6` clients and `n / 4` lancers (about 30%
//! of them certified), the work type mix and the amounts and durations of the sample months,
//! and a claim on about one order in 200 (one claimed order in ten has a second claim). The
//! claims register is the one exported at the month's cutoff: claims filed by then, each
//! under review or decided as known then.
//!
//! Every value of row `i` comes from a generator seeded by the seed and `i` alone, so row
//! groups are built in parallel and the same seed writes the same files. Order ids are
//! `O` and ten digits, ascending, as an export sorted by id would hold them.

use std::fmt::Write as _;
use std::fs::File;
use std::io::BufWriter;
use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use polars::prelude::{
    Column, DataFrame, IntoColumn, NamedFrom, ParquetCompression, ParquetWriter, Series,
    StringChunkedBuilder, TimeUnit, TimeZone,
};
use rand::{Rng, RngCore};

use super::{
    random_amount_jpy, random_request_wait_ns, random_work_ns, random_work_type, reward_jpy,
    write_claims, GeneratedMonth, CLAIMS_FILE, DAY_NS, HOUR_NS, ORDERS_FILE, SECOND_NS,
};
use crate::calendar::Month;
use crate::model::{Claim, ClaimStatus, InstantNs, PayoutDecision};

/// Rows per row group of the orders file: the unit a reader can stream.
pub const ROW_GROUP_ROWS: u64 = 1_000_000;

/// Bound on the request, so that a typo cannot fill a disk.
const ORDERS_MAX: u64 = 1_000_000_000;

const NS_PER_MICROSECOND: i64 = 1_000;

#[derive(Debug, Clone)]
pub struct BulkRequest {
    /// Folder to write `YYYY-MM/orders.parquet` and `YYYY-MM/claims.parquet` into.
    pub out: PathBuf,
    pub month: Month,
    pub orders: u64,
    pub seed: u64,
}

/// The population a month's rows are drawn from.
#[derive(Debug, Clone, Copy)]
struct Population {
    seed: u64,
    month: Month,
    orders: u64,
    clients: u64,
    lancers: u64,
}

/// Writes one large month. Returns what was written.
pub fn generate_bulk(request: &BulkRequest) -> anyhow::Result<GeneratedMonth> {
    if request.orders > ORDERS_MAX {
        bail!(
            "{} orders is more than the {ORDERS_MAX} the bulk generator writes",
            request.orders
        );
    }
    let population = Population {
        seed: request.seed,
        month: request.month,
        orders: request.orders,
        clients: (request.orders / 6).max(1),
        lancers: (request.orders / 4).max(1),
    };
    let folder = request.out.join(request.month.to_string());
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("cannot create folder {}", folder.display()))?;

    let claims = write_orders_bulk(&folder.join(ORDERS_FILE), population)?;
    write_claims(&folder.join(CLAIMS_FILE), &claims)?;
    Ok(GeneratedMonth {
        month: request.month,
        orders: request.orders as usize,
        claims: claims.len(),
    })
}

/// Writes the orders file group by group, two groups built at a time on two threads, and
/// returns the claims on its orders.
fn write_orders_bulk(path: &Path, population: Population) -> anyhow::Result<Vec<Claim>> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut writer = ParquetWriter::new(BufWriter::new(file))
        .with_compression(ParquetCompression::Snappy)
        .batched(&orders_chunk(population, 0..0).0.schema().clone())
        .with_context(|| format!("cannot write {}", path.display()))?;

    let groups: Vec<Range<u64>> = (0..population.orders)
        .step_by(ROW_GROUP_ROWS as usize)
        .map(|start| start..(start + ROW_GROUP_ROWS).min(population.orders))
        .collect();
    let mut claims = Vec::new();
    for pair in groups.chunks(2) {
        let built: Vec<(DataFrame, Vec<Claim>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = pair
                .iter()
                .map(|rows| scope.spawn(move || orders_chunk(population, rows.clone())))
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().expect("a generator thread does not panic"))
                .collect()
        });
        for (frame, group_claims) in built {
            writer
                .write_batch(&frame)
                .with_context(|| format!("cannot write {}", path.display()))?;
            claims.extend(group_claims);
        }
    }
    writer
        .finish()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(claims)
}

/// SplitMix64: a tiny generator whose whole state is one word, so that each row can have its
/// own at the cost of an addition.
struct RowRng(u64);

impl RowRng {
    fn new(seed: u64, row: u64, stream: u64) -> RowRng {
        let mut rng = RowRng(seed ^ row.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (stream << 56));
        rng.next_u64();
        rng
    }
}

impl RngCore for RowRng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn fill_bytes(&mut self, destination: &mut [u8]) {
        rand::rand_core::impls::fill_bytes_via_next(self, destination)
    }
}

/// Streams of randomness per row: one for the order, one for its claims, one per lancer.
const ORDER_STREAM: u64 = 1;
const CLAIM_STREAM: u64 = 2;
const LANCER_STREAM: u64 = 3;

fn order_id(row: u64) -> String {
    format!("O{row:010}")
}

/// Builds the rows `rows` of the orders file, and the claims on them.
fn orders_chunk(population: Population, rows: Range<u64>) -> (DataFrame, Vec<Claim>) {
    let capacity = (rows.end - rows.start) as usize;
    let mut order_ids = StringChunkedBuilder::new("order_id".into(), capacity);
    let mut request_ids = StringChunkedBuilder::new("request_id".into(), capacity);
    let mut client_ids = StringChunkedBuilder::new("client_id".into(), capacity);
    let mut lancer_ids = StringChunkedBuilder::new("lancer_id".into(), capacity);
    let mut work_types = StringChunkedBuilder::new("work_type".into(), capacity);
    let mut certified = Vec::with_capacity(capacity);
    let mut requested_us = Vec::with_capacity(capacity);
    let mut ordered_us = Vec::with_capacity(capacity);
    let mut completed_us = Vec::with_capacity(capacity);
    let mut amounts_jpy = Vec::with_capacity(capacity);
    let mut rewards_jpy = Vec::with_capacity(capacity);
    let mut claims = Vec::new();

    let month_start_ns = population.month.start_ns();
    let cutoff_ns = population.month.cutoff_ns();
    let month_seconds = (cutoff_ns - month_start_ns) / SECOND_NS;
    let mut text = String::with_capacity(16);
    for row in rows {
        let mut rng = RowRng::new(population.seed, row, ORDER_STREAM);
        let work_type = random_work_type(&mut rng);
        let completed_at = month_start_ns + rng.random_range(0..month_seconds) * SECOND_NS;
        let ordered_at = completed_at - random_work_ns(&mut rng, work_type);
        let request_created_at = ordered_at - random_request_wait_ns(&mut rng, work_type);
        let amount_jpy = random_amount_jpy(&mut rng, work_type);
        let request = rng.random_range(0..population.orders);
        let client = rng.random_range(0..population.clients);
        let lancer = rng.random_range(0..population.lancers);

        let mut append = |builder: &mut StringChunkedBuilder, prefix: char, number: u64, width| {
            text.clear();
            write!(text, "{prefix}{number:0width$}").expect("writing to a String cannot fail");
            builder.append_value(&text);
        };
        append(&mut order_ids, 'O', row, 10);
        append(&mut request_ids, 'R', request, 10);
        append(&mut client_ids, 'c', client, 8);
        append(&mut lancer_ids, 'l', lancer, 8);
        work_types.append_value(work_type.as_str());
        certified.push(RowRng::new(population.seed, lancer, LANCER_STREAM).random_ratio(30, 100));
        requested_us.push(request_created_at / NS_PER_MICROSECOND);
        ordered_us.push(ordered_at / NS_PER_MICROSECOND);
        completed_us.push(completed_at / NS_PER_MICROSECOND);
        amounts_jpy.push(amount_jpy);
        rewards_jpy.push(reward_jpy(amount_jpy));

        let mut claim_rng = RowRng::new(population.seed, row, CLAIM_STREAM);
        if claim_rng.random_ratio(1, 200) {
            let count = if claim_rng.random_ratio(1, 10) { 2 } else { 1 };
            for number in 1..=count {
                claims.extend(random_claim(
                    &mut claim_rng,
                    row,
                    number,
                    completed_at,
                    cutoff_ns,
                ));
            }
        }
    }

    let instants = |name: &str, values: Vec<i64>| -> Column {
        Series::new(name.into(), values)
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
            .into()
    };
    let height = amounts_jpy.len();
    let columns = vec![
        order_ids.finish().into_column(),
        request_ids.finish().into_column(),
        client_ids.finish().into_column(),
        lancer_ids.finish().into_column(),
        work_types.finish().into_column(),
        Column::new("lancer_certified".into(), certified),
        instants("request_created_at", requested_us),
        instants("ordered_at", ordered_us),
        instants("completed_at", completed_us),
        Column::new("amount_jpy".into(), amounts_jpy),
        Column::new("reward_jpy".into(), rewards_jpy),
    ];
    let frame = DataFrame::new(height, columns).expect("columns of one length");
    (frame, claims)
}

/// A claim as the register exported at the cutoff shows it, or `None` when it was filed
/// after the cutoff. Decided claims are rejected, withdrawn, or approved with a release or a
/// forfeit; a decision taken after the cutoff is not known yet.
fn random_claim(
    rng: &mut RowRng,
    row: u64,
    number: u32,
    completed_at: InstantNs,
    cutoff_ns: InstantNs,
) -> Option<Claim> {
    let whole_seconds = |ns: i64| ns - ns.rem_euclid(SECOND_NS);
    let filed_at = whole_seconds(completed_at + rng.random_range(HOUR_NS..10 * DAY_NS));
    if filed_at >= cutoff_ns {
        return None;
    }
    let decided_at = whole_seconds(filed_at + rng.random_range(DAY_NS..20 * DAY_NS));
    let decision = match rng.random_range(0..100) {
        0..30 => None,
        30..65 => Some((ClaimStatus::Rejected, None)),
        65..75 => Some((ClaimStatus::Withdrawn, None)),
        75..90 => Some((ClaimStatus::Approved, Some(PayoutDecision::Release))),
        _ => Some((ClaimStatus::Approved, Some(PayoutDecision::Forfeit))),
    };
    let (status, decided_at, payout_decision) = match decision {
        Some((status, payout_decision)) if decided_at < cutoff_ns => {
            (status, Some(decided_at), payout_decision)
        }
        _ => (ClaimStatus::UnderReview, None, None),
    };
    let order_id = order_id(row);
    Some(Claim {
        claim_id: format!("K{order_id}-{number}"),
        order_id,
        filed_at,
        status,
        decided_at,
        payout_decision,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{read_claims, read_orders};
    use crate::validate::{validate_claims, validate_orders};

    fn request(out: &Path, orders: u64) -> BulkRequest {
        BulkRequest {
            out: out.to_path_buf(),
            month: "2016-03".parse().unwrap(),
            orders,
            seed: 7,
        }
    }

    #[test]
    fn a_bulk_month_is_valid_sorted_and_complete() {
        let out = tempfile::tempdir().unwrap();
        let written = generate_bulk(&request(out.path(), 5_000)).unwrap();
        let folder = out.path().join("2016-03");
        let zone = crate::calendar::BUSINESS_ZONE;
        let (_, raw_orders) = read_orders(&[folder.join(ORDERS_FILE)], zone, 0).unwrap();
        let (_, raw_claims) = read_claims(&[folder.join(CLAIMS_FILE)], zone, 1).unwrap();
        assert_eq!(raw_orders.len(), 5_000);
        assert_eq!(raw_claims.len(), written.claims);
        assert!(written.claims > 0, "about one order in 200 has a claim");

        let intake = validate_orders(&raw_orders, written.month, |_| None);
        assert_eq!(intake.rejected, []);
        assert_eq!(intake.orders.len(), 5_000);
        assert!(intake
            .orders
            .windows(2)
            .all(|pair| pair[0].order_id < pair[1].order_id));
        let claims = validate_claims(&raw_claims);
        assert_eq!(claims.rejected, []);
    }

    #[test]
    fn the_same_seed_writes_the_same_bytes() {
        let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        generate_bulk(&request(one.path(), 3_000)).unwrap();
        generate_bulk(&request(two.path(), 3_000)).unwrap();
        for file in [ORDERS_FILE, CLAIMS_FILE] {
            let read = |dir: &Path| std::fs::read(dir.join("2016-03").join(file)).unwrap();
            assert!(read(one.path()) == read(two.path()), "{file} differs");
        }
    }
}
