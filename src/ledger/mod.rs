//! The ledger: a folder of published settlement versions, `<ledger>/<YYYY-MM>/v<N>/`.
//!
//! Invariants it keeps:
//! - a version folder exists only complete: it is written in a staging folder inside the
//!   ledger, flushed, and renamed into place with its manifest already inside;
//! - a published version is never changed; a new one is added beside it;
//! - one run at a time writes: every run holds the ledger lock while it reads history and
//!   publishes;
//! - only folders named `YYYY-MM` are months: `.staging`, `.lock` and `provisional` (see
//!   `provisional`) never count as one.

mod lock;
pub mod provisional;

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

pub use lock::{LedgerBusy, LedgerLock};

use crate::calendar::Month;
use crate::input::columns::ParquetFile;
use crate::input::Field;
use crate::manifest::Manifest;
use crate::output::{HOLDS_FILE, MANIFEST_FILE, ORDER_LINES_FILE};
use crate::pause;
use crate::settlement::Hold;

const STAGING_FOLDER: &str = ".staging";

pub struct Ledger {
    root: PathBuf,
}

/// A published version of a month.
#[derive(Debug, Clone)]
pub struct Version {
    pub month: Month,
    pub number: u32,
    pub path: PathBuf,
    pub manifest: Manifest,
}

/// A published month that must be corrected because an earlier month changed under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleMonth {
    pub month: Month,
    pub version: u32,
    pub reason: String,
}

impl Version {
    /// The sha256 of this version's `holds.parquet`, as its manifest records it.
    pub fn holds_sha256(&self) -> anyhow::Result<String> {
        self.output_sha256(HOLDS_FILE)
    }

    pub fn output_sha256(&self, file: &str) -> anyhow::Result<String> {
        self.manifest
            .outputs
            .iter()
            .find(|output| output.file == file)
            .map(|output| output.sha256.clone())
            .with_context(|| {
                format!(
                    "manifest of {} v{} lists no {file}",
                    self.month, self.number
                )
            })
    }
}

impl Ledger {
    /// Opens the ledger at `root`, creating the folder when it does not exist yet.
    pub fn open(root: &Path) -> anyhow::Result<Ledger> {
        std::fs::create_dir_all(root)
            .with_context(|| format!("cannot create ledger folder {}", root.display()))?;
        Ok(Ledger {
            root: root.to_path_buf(),
        })
    }

    /// Opens a ledger that must already exist, for commands that only read.
    pub fn open_existing(root: &Path) -> anyhow::Result<Ledger> {
        if !root.is_dir() {
            bail!("ledger folder {} does not exist", root.display());
        }
        Ok(Ledger {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Takes the ledger's lock, or fails at once naming the run that holds it.
    pub fn lock(&self, month: Month) -> anyhow::Result<LedgerLock> {
        LedgerLock::acquire(&self.root, month)
    }

    /// The months that have at least one published version, in order.
    pub fn months(&self) -> anyhow::Result<Vec<Month>> {
        let mut months = Vec::new();
        for entry in read_dir(&self.root)? {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Ok(month) = name.parse::<Month>() {
                if !self.versions(month)?.is_empty() {
                    months.push(month);
                }
            }
        }
        months.sort();
        Ok(months)
    }

    /// The published version numbers of `month`, ascending. A folder without a manifest is not
    /// a version (publishing renames whole folders, so none should exist).
    pub fn versions(&self, month: Month) -> anyhow::Result<Vec<u32>> {
        let folder = self.root.join(month.to_string());
        if !folder.is_dir() {
            return Ok(Vec::new());
        }
        let mut numbers = Vec::new();
        for entry in read_dir(&folder)? {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(number) = name.strip_prefix('v').and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            if entry.path().join(MANIFEST_FILE).is_file() {
                numbers.push(number);
            }
        }
        numbers.sort_unstable();
        Ok(numbers)
    }

    pub fn version(&self, month: Month, number: u32) -> anyhow::Result<Version> {
        let path = self.root.join(month.to_string()).join(format!("v{number}"));
        let manifest = Manifest::read(&path.join(MANIFEST_FILE))?;
        if manifest.month != month.to_string() || manifest.version != number {
            bail!(
                "manifest in {} says {} v{}; the ledger has been altered by hand",
                path.display(),
                manifest.month,
                manifest.version
            );
        }
        Ok(Version {
            month,
            number,
            path,
            manifest,
        })
    }

    pub fn newest(&self, month: Month) -> anyhow::Result<Option<Version>> {
        match self.versions(month)?.last() {
            Some(&number) => Ok(Some(self.version(month, number)?)),
            None => Ok(None),
        }
    }

    /// Every published month whose newest version no longer starts from the holds of the
    /// newest version of the month before it, in order. A month after a stale month is stale
    /// too, since its own opening holds may change when the stale month is corrected.
    pub fn stale_months(&self) -> anyhow::Result<Vec<StaleMonth>> {
        let mut stale = Vec::new();
        let mut previous: Option<(Version, bool)> = None;
        for month in self.months()? {
            let Some(version) = self.newest(month)? else {
                continue;
            };
            let reason = match &previous {
                None => None,
                Some((_, true)) => Some(format!(
                    "it starts from {}, which is stale",
                    month.previous()
                )),
                Some((before, false)) => {
                    let expected = before.holds_sha256()?;
                    match &version.manifest.opening_holds {
                        Some(opening) if opening.holds_sha256 == expected => None,
                        Some(opening) => Some(format!(
                            "it started from the holds of {} v{}, and {} v{} now holds others",
                            opening.month, opening.version, before.month, before.number
                        )),
                        None => Some(format!(
                            "it started from no holds, before {} existed",
                            before.month
                        )),
                    }
                }
            };
            let is_stale = reason.is_some();
            if let Some(reason) = reason {
                stale.push(StaleMonth {
                    month,
                    version: version.number,
                    reason,
                });
            }
            previous = Some((version, is_stale));
        }
        Ok(stale)
    }

    /// The holds open at the cutoff of a published version.
    pub fn holds(&self, version: &Version) -> anyhow::Result<Vec<Hold>> {
        read_holds(&version.path.join(HOLDS_FILE))
    }

    /// Every order id settled in a month before `month`, with where it was settled
    /// (`YYYY-MM v<N>`), from the newest version of each month.
    pub fn settled_before(&self, month: Month) -> anyhow::Result<HashMap<String, String>> {
        let mut settled = HashMap::new();
        for earlier in self.months()?.into_iter().filter(|m| *m < month) {
            let Some(version) = self.newest(earlier)? else {
                continue;
            };
            let file = ParquetFile::open(
                &version.path.join(ORDER_LINES_FILE),
                "ledger",
                &["order_id"],
            )?
            .read()?;
            let place = format!("{earlier} v{}", version.number);
            for order_id in file.text("order_id")?.into_iter().flatten() {
                settled.insert(order_id, place.clone());
            }
        }
        Ok(settled)
    }

    /// Publishes a new version of `month`: `write` fills a staging folder, which is flushed and
    /// renamed into place. Either the whole version appears or nothing does.
    pub fn publish(
        &self,
        month: Month,
        number: u32,
        write: impl FnOnce(&Path) -> anyhow::Result<()>,
    ) -> anyhow::Result<PathBuf> {
        let staging_root = self.root.join(STAGING_FOLDER);
        std::fs::create_dir_all(&staging_root)
            .with_context(|| format!("cannot create {}", staging_root.display()))?;
        let staging = staging_root.join(format!("{month}-v{number}-{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging)
                .with_context(|| format!("cannot clear {}", staging.display()))?;
        }
        std::fs::create_dir(&staging)
            .with_context(|| format!("cannot create {}", staging.display()))?;

        pause::checkpoint("staging-created");
        if let Err(error) = write(&staging) {
            // Nothing was published; what was staged is of no use to anyone.
            let _ = std::fs::remove_dir_all(&staging);
            return Err(error);
        }
        sync_dir(&staging)?;
        pause::checkpoint("staged");

        let month_folder = self.root.join(month.to_string());
        std::fs::create_dir_all(&month_folder)
            .with_context(|| format!("cannot create {}", month_folder.display()))?;
        sync_dir(&self.root)?;
        let target = month_folder.join(format!("v{number}"));
        if target.exists() {
            bail!(
                "{} already exists; a published version is never replaced",
                target.display()
            );
        }
        pause::checkpoint("before-rename");
        rename_into_place(&staging, &target)?;
        sync_dir(&month_folder)?;
        pause::checkpoint("published");
        Ok(target)
    }

    /// Removes staging folders left by runs that died before publishing. Only called while
    /// holding the lock, so no live run owns them.
    pub fn clean_staging(&self) -> anyhow::Result<u64> {
        let staging_root = self.root.join(STAGING_FOLDER);
        if !staging_root.is_dir() {
            return Ok(0);
        }
        let mut removed = 0;
        for entry in read_dir(&staging_root)? {
            std::fs::remove_dir_all(entry.path())
                .with_context(|| format!("cannot remove {}", entry.path().display()))?;
            removed += 1;
        }
        Ok(removed)
    }
}

fn read_dir(folder: &Path) -> anyhow::Result<Vec<std::fs::DirEntry>> {
    let entries =
        std::fs::read_dir(folder).with_context(|| format!("cannot list {}", folder.display()))?;
    entries
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("cannot list {}", folder.display()))
}

/// Moves a complete staging folder to where readers look for it.
pub(crate) fn rename_into_place(staging: &Path, target: &Path) -> anyhow::Result<()> {
    std::fs::rename(staging, target).with_context(|| {
        format!(
            "cannot move {} into place at {}",
            staging.display(),
            target.display()
        )
    })
}

/// Flushes a folder's entries to disk, so that a rename into it survives a power loss.
fn sync_dir(folder: &Path) -> anyhow::Result<()> {
    File::open(folder)
        .and_then(|handle| handle.sync_all())
        .with_context(|| format!("cannot flush folder {} to disk", folder.display()))
}

/// Reads a `holds.parquet` written by this job.
pub fn read_holds(path: &Path) -> anyhow::Result<Vec<Hold>> {
    let columns = [
        "order_id",
        "lancer_id",
        "reward_jpy",
        "rebate_jpy",
        "payout_jpy",
        "opened_month",
        "claim_ids",
    ];
    let file = ParquetFile::open(path, "holds", &columns)?.read()?;
    let order_ids = file.text("order_id")?;
    let lancer_ids = file.text("lancer_id")?;
    let rewards = file.yen("reward_jpy")?;
    let rebates = file.yen("rebate_jpy")?;
    let payouts = file.yen("payout_jpy")?;
    let opened = file.text("opened_month")?;
    let claim_ids = file.text("claim_ids")?;

    let damaged = |row: usize, column: &str| {
        anyhow::anyhow!(
            "{} row {}: {column} is missing or invalid",
            path.display(),
            row + 1
        )
    };
    let yen = |values: &[Field<i64>], row: usize, column: &str| {
        values[row]
            .value()
            .copied()
            .ok_or_else(|| damaged(row, column))
    };
    let mut holds = Vec::with_capacity(order_ids.len());
    for row in 0..order_ids.len() {
        let opened_month: Month = opened[row]
            .as_deref()
            .ok_or_else(|| damaged(row, "opened_month"))?
            .parse()
            .with_context(|| format!("{} row {}", path.display(), row + 1))?;
        holds.push(Hold {
            order_id: order_ids[row]
                .clone()
                .ok_or_else(|| damaged(row, "order_id"))?,
            lancer_id: lancer_ids[row]
                .clone()
                .ok_or_else(|| damaged(row, "lancer_id"))?,
            reward_jpy: yen(&rewards, row, "reward_jpy")?,
            rebate_jpy: yen(&rebates, row, "rebate_jpy")?,
            payout_jpy: yen(&payouts, row, "payout_jpy")?,
            opened_month,
            claim_ids: claim_ids[row].clone().unwrap_or_default(),
        });
    }
    Ok(holds)
}
