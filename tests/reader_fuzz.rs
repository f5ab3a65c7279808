//! The reader against random and damaged files: it returns rows or an error naming the file,
//! and never panics or hangs. Mutations flip, cut and overwrite bytes of a valid orders file,
//! so they reach the footer parser, the page decoders and the column readers.

mod support;

use std::path::Path;

use proptest::prelude::*;
use settle::encodings::{encodings, write_orders_encoded, Encoding};
use settle::input::{read_claims, read_orders};
use settle::policy::Policy;

fn valid_orders_bytes() -> Vec<u8> {
    let (orders, _) = support::sample_month("2015-10");
    std::fs::read(orders).unwrap()
}

/// The sample month rewritten uncompressed with plain and dictionary pages in small row
/// groups, so that damage reaches the page decoders rather than a decompressor's checksum.
fn uncompressed_orders_bytes() -> Vec<u8> {
    let (orders, _) = support::sample_month("2015-10");
    let zone = Policy::default().naive_zone().unwrap();
    let (_, raw) = read_orders(&[orders], zone, 0).unwrap();
    let month = "2015-10".parse().unwrap();
    let valid = settle::validate::validate_orders(&raw, month, |_| None).orders;
    let base = encodings()
        .into_iter()
        .find(|e| e.name == "uncompressed")
        .unwrap();
    let encoding = Encoding {
        rows_per_group: 50,
        ..base
    };
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("orders.parquet");
    write_orders_encoded(&path, &valid, &encoding).unwrap();
    std::fs::read(path).unwrap()
}

/// Reads `bytes` as an orders file and as a claims file; either must be rows or an error that
/// names the file.
fn check_reads(bytes: &[u8]) -> Result<(), TestCaseError> {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("damaged.parquet");
    std::fs::write(&path, bytes).unwrap();
    let zone = Policy::default().naive_zone().unwrap();
    for result in [
        read_orders(std::slice::from_ref(&path), zone, 0).map(|(_, rows)| rows.len()),
        read_claims(std::slice::from_ref(&path), zone, 0).map(|(_, rows)| rows.len()),
    ] {
        if let Err(error) = result {
            let message = format!("{error:#}");
            prop_assert!(
                message.contains(&shown(&path)),
                "no file name in {message:?}"
            );
        }
    }
    Ok(())
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

#[derive(Debug, Clone)]
enum Damage {
    Flip { at: usize, mask: u8 },
    Truncate { keep: usize },
    Overwrite { at: usize, bytes: Vec<u8> },
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(at, mask)| Damage::Flip { at, mask }),
        any::<usize>().prop_map(|keep| Damage::Truncate { keep }),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Damage::Overwrite { at, bytes }),
    ]
}

fn apply(mut bytes: Vec<u8>, damages: &[Damage]) -> Vec<u8> {
    for damage in damages {
        if bytes.is_empty() {
            break;
        }
        let len = bytes.len();
        match damage {
            Damage::Flip { at, mask } => bytes[at % len] ^= mask,
            Damage::Truncate { keep } => bytes.truncate(keep % len),
            Damage::Overwrite { at, bytes: patch } => {
                for (offset, byte) in patch.iter().enumerate() {
                    let index = (at + offset) % len;
                    bytes[index] = *byte;
                }
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_are_an_error_naming_the_file(
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        check_reads(&bytes)?;
    }

    #[test]
    fn damaged_parquet_is_rows_or_an_error_never_a_panic(
        damages in prop::collection::vec(damage(), 1..4),
    ) {
        let bytes = apply(valid_orders_bytes(), &damages);
        check_reads(&bytes)?;
    }

    #[test]
    fn damaged_uncompressed_pages_are_rows_or_an_error(
        damages in prop::collection::vec(damage(), 1..4),
    ) {
        let bytes = apply(uncompressed_orders_bytes(), &damages);
        check_reads(&bytes)?;
    }
}

#[test]
fn a_file_with_only_the_magic_bytes_is_an_error() {
    check_reads(b"PAR1PAR1").unwrap();
    check_reads(b"PAR1\x00\x00\x00\x00PAR1").unwrap();
}
