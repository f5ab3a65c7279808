//! Provisional settlements: `<ledger>/provisional/<YYYY-MM>/`, the month so far, rewritten
//! every night until the month is published.
//!
//! A provisional folder is never a ledger version. It lies outside the month folders (the
//! name `provisional` is not a month, so `Ledger::months` never counts it), the payments
//! system never reads it, and publishing the month's first version removes it. It is written
//! like a version, in a staging folder that is flushed and then swapped into place by renames:
//! the previous night's folder is moved aside, the new one renamed in, the old one removed. A
//! reader therefore sees the old files complete, then for an instant no folder, then the new
//! files complete; never a folder half written. A run killed between the two renames leaves no
//! provisional folder, and the next run (which cleans the staging area under the lock) writes
//! it again.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{read_dir, rename_into_place, sync_dir, Ledger, STAGING_FOLDER};
use crate::calendar::Month;
use crate::manifest::Manifest;
use crate::output::MANIFEST_FILE;
use crate::pause;

/// The folder, directly in the ledger, that holds one provisional folder per month.
pub const PROVISIONAL_FOLDER: &str = "provisional";

/// The small file beside a provisional settlement's manifest saying when it was made.
pub const PROVISIONAL_NOTE_FILE: &str = "provisional.json";

/// A provisional settlement as found on disk.
#[derive(Debug, Clone)]
pub struct Provisional {
    pub month: Month,
    pub path: PathBuf,
    pub manifest: Manifest,
    /// When the run that wrote it started, RFC 3339 in JST.
    pub settled_at: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Note {
    month: String,
    settled_at: String,
    note: String,
}

impl Ledger {
    /// Where the provisional settlement of `month` lies, whether or not it exists.
    pub fn provisional_path(&self, month: Month) -> PathBuf {
        self.root.join(PROVISIONAL_FOLDER).join(month.to_string())
    }

    /// The provisional settlement of `month`, if one exists.
    pub fn provisional(&self, month: Month) -> anyhow::Result<Option<Provisional>> {
        let path = self.provisional_path(month);
        if !path.is_dir() {
            return Ok(None);
        }
        let manifest = Manifest::read(&path.join(MANIFEST_FILE))?;
        let note_path = path.join(PROVISIONAL_NOTE_FILE);
        let note: Note = serde_json::from_str(
            &std::fs::read_to_string(&note_path)
                .with_context(|| format!("cannot read {}", note_path.display()))?,
        )
        .with_context(|| format!("{} is not valid", note_path.display()))?;
        Ok(Some(Provisional {
            month,
            path,
            manifest,
            settled_at: note.settled_at,
        }))
    }

    /// The months that have a provisional settlement, in order.
    pub fn provisional_months(&self) -> anyhow::Result<Vec<Month>> {
        let folder = self.root.join(PROVISIONAL_FOLDER);
        if !folder.is_dir() {
            return Ok(Vec::new());
        }
        let mut months: Vec<Month> = read_dir(&folder)?
            .iter()
            .filter_map(|entry| entry.file_name().to_string_lossy().parse().ok())
            .collect();
        months.sort();
        Ok(months)
    }

    /// Writes the provisional settlement of `month`, replacing the one before it. `write`
    /// fills a staging folder (the manifest last); the note saying when is added here. Only
    /// called while holding the ledger lock.
    pub fn publish_provisional(
        &self,
        month: Month,
        settled_at: &str,
        write: impl FnOnce(&Path) -> anyhow::Result<()>,
    ) -> anyhow::Result<PathBuf> {
        let staging_root = self.root.join(STAGING_FOLDER);
        std::fs::create_dir_all(&staging_root)
            .with_context(|| format!("cannot create {}", staging_root.display()))?;
        let pid = std::process::id();
        let staging = staging_root.join(format!("provisional-{month}-{pid}"));
        let retired = staging_root.join(format!("provisional-{month}-{pid}-replaced"));
        for leftover in [&staging, &retired] {
            if leftover.exists() {
                std::fs::remove_dir_all(leftover)
                    .with_context(|| format!("cannot clear {}", leftover.display()))?;
            }
        }
        std::fs::create_dir(&staging)
            .with_context(|| format!("cannot create {}", staging.display()))?;

        pause::checkpoint("staging-created");
        write(&staging)?;
        write_note(&staging, month, settled_at)?;
        sync_dir(&staging)?;
        pause::checkpoint("staged");

        let parent = self.root.join(PROVISIONAL_FOLDER);
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        let target = parent.join(month.to_string());
        let replacing = target.exists();
        if replacing {
            std::fs::rename(&target, &retired)
                .with_context(|| format!("cannot move the previous {} aside", target.display()))?;
        }
        pause::checkpoint("before-rename");
        rename_into_place(&staging, &target)?;
        sync_dir(&parent)?;
        sync_dir(&staging_root)?;
        pause::checkpoint("published");
        if replacing {
            std::fs::remove_dir_all(&retired)
                .with_context(|| format!("cannot remove {}", retired.display()))?;
        }
        Ok(target)
    }

    /// Removes the provisional settlement of `month`, once the month is published. Returns
    /// whether there was one.
    pub fn remove_provisional(&self, month: Month) -> anyhow::Result<bool> {
        let path = self.provisional_path(month);
        if !path.exists() {
            return Ok(false);
        }
        std::fs::remove_dir_all(&path)
            .with_context(|| format!("cannot remove {}", path.display()))?;
        Ok(true)
    }
}

fn write_note(folder: &Path, month: Month, settled_at: &str) -> anyhow::Result<()> {
    let note = Note {
        month: month.to_string(),
        settled_at: settled_at.to_string(),
        note: "provisional: the month so far, not for payment; replaced by every provisional \
               run and removed when the month is published"
            .to_string(),
    };
    let path = folder.join(PROVISIONAL_NOTE_FILE);
    let mut text = serde_json::to_string_pretty(&note).expect("a note always serialises");
    text.push('\n');
    std::fs::write(&path, text)
        .and_then(|_| std::fs::File::open(&path)?.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}
