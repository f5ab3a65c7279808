//! The run manifest: what a published version was made from, what it holds, and the totals
//! that tie. A version is trusted only through its manifest, which is written last.

use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::input::InputFile;
use crate::output::OutputFile;
use crate::policy::Policy;
use crate::settlement::ControlTotals;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestInput {
    pub path: String,
    pub sha256: String,
    pub rows: u64,
}

impl From<&InputFile> for ManifestInput {
    fn from(file: &InputFile) -> ManifestInput {
        ManifestInput {
            path: file.path.display().to_string(),
            sha256: file.sha256.clone(),
            rows: file.rows,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inputs {
    pub orders: Vec<ManifestInput>,
    pub claims: Vec<ManifestInput>,
}

impl Inputs {
    /// The contents the run was made from, ignoring where the files lay: the same bytes
    /// under another path are the same input.
    pub fn fingerprint(&self) -> (Vec<&str>, Vec<&str>) {
        (sorted_hashes(&self.orders), sorted_hashes(&self.claims))
    }
}

fn sorted_hashes(files: &[ManifestInput]) -> Vec<&str> {
    let mut hashes: Vec<&str> = files.iter().map(|f| f.sha256.as_str()).collect();
    hashes.sort_unstable();
    hashes
}

/// The published version whose open holds this month started from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpeningHolds {
    pub month: String,
    pub version: u32,
    pub holds_sha256: String,
}

/// Why a version replaced the one before it, and which one that was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    pub reason: String,
    pub previous_version: u32,
    pub previous_manifest_sha256: String,
}

/// How every input row was accounted for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowCounts {
    pub orders_read: u64,
    pub order_lines: u64,
    pub orders_out_of_month: u64,
    pub orders_rejected: u64,
    pub claims_read: u64,
    pub claims_valid: u64,
    pub claims_rejected: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub month: String,
    pub version: u32,
    pub settle_version: String,
    pub inputs: Inputs,
    pub policy: Policy,
    pub policy_sha256: String,
    pub naive_timestamp_zone: String,
    pub opening_holds: Option<OpeningHolds>,
    pub correction: Option<Correction>,
    pub rows: RowCounts,
    pub totals: ControlTotals,
    pub outputs: Vec<OutputFile>,
    pub warnings: Vec<String>,
}

/// The sha256 of the policy's canonical JSON form, so that two runs under the same settings
/// compare equal however their policy files were written.
pub fn policy_sha256(policy: &Policy) -> String {
    let canonical = serde_json::to_vec(policy).expect("a policy always serialises");
    hex::encode(Sha256::digest(canonical))
}

impl Manifest {
    pub fn read(path: &Path) -> anyhow::Result<Manifest> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read manifest {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("manifest {} is not valid", path.display()))
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a manifest always serialises");
        text.push('\n');
        text
    }
}
