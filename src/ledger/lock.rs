//! The ledger's single-writer lock.
//!
//! The lock is an advisory lock (`flock`, through the standard library) on `<ledger>/.lock`,
//! which the kernel releases when the holding process dies, however it dies: a lock left by a
//! dead run is never stale, and the next run takes it over without guessing. The file's text
//! names the holder for the message a refused run prints; it is information, not the lock
//! itself.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use anyhow::Context;

use crate::calendar::Month;

const LOCK_FILE: &str = ".lock";

/// Raised when another run holds the ledger; the CLI gives it its own exit code.
#[derive(Debug, thiserror::Error)]
#[error("ledger {ledger} is locked by another run ({holder}); try again when it has finished")]
pub struct LedgerBusy {
    pub ledger: String,
    pub holder: String,
}

/// Held for as long as the run writes; dropping it releases the ledger.
pub struct LedgerLock {
    file: File,
}

impl LedgerLock {
    pub fn acquire(root: &Path, month: Month) -> anyhow::Result<LedgerLock> {
        let path = root.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open lock file {}", path.display()))?;
        let acquired = match file.try_lock() {
            Ok(()) => true,
            Err(std::fs::TryLockError::WouldBlock) => false,
            Err(std::fs::TryLockError::Error(error)) => {
                return Err(error).with_context(|| format!("cannot lock {}", path.display()));
            }
        };
        if !acquired {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(LedgerBusy {
                ledger: root.display().to_string(),
                holder: if holder.is_empty() {
                    "holder unknown".to_string()
                } else {
                    holder.to_string()
                },
            }
            .into());
        }

        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "unknown host".to_string());
        let started = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let holder = format!(
            "pid {} on {host}, settling {month}, started {started}\n",
            std::process::id()
        );
        file.set_len(0)
            .and_then(|_| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(holder.as_bytes()))
            .with_context(|| format!("cannot write lock file {}", path.display()))?;
        Ok(LedgerLock { file })
    }
}

impl Drop for LedgerLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}
