//! Which files an input path names, and what the ledger records about each one.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};

/// An input file as the manifest records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    pub path: PathBuf,
    pub sha256: String,
    pub rows: u64,
}

/// Expands files and folders into the data files they hold, in a stable order.
///
/// A folder is read as Spark writes one: every file below it, except names starting with `_`
/// or `.` (`_SUCCESS`, `.part-0.crc`), which are markers rather than data. A folder with no
/// data file is an error, since an empty month is far more likely a wrong path than a quiet
/// month.
pub fn expand_paths(paths: &[PathBuf], what: &str) -> anyhow::Result<Vec<PathBuf>> {
    if paths.is_empty() {
        bail!("no {what} path was given");
    }
    let mut files = Vec::new();
    for path in paths {
        let metadata = std::fs::metadata(path)
            .with_context(|| format!("cannot read {what} path {}", path.display()))?;
        if metadata.is_dir() {
            let before = files.len();
            collect_data_files(path, &mut files)?;
            if files.len() == before {
                bail!("{what} folder {} holds no data files", path.display());
            }
        } else if metadata.is_file() {
            files.push(path.clone());
        } else {
            bail!("{what} path {} is not a regular file", path.display());
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for file in &files {
        let canonical = file.canonicalize().unwrap_or_else(|_| file.clone());
        if !seen.insert(canonical) {
            bail!("{what} file {} is named more than once", file.display());
        }
    }
    Ok(files)
}

fn is_marker(name: &str) -> bool {
    name.starts_with('_') || name.starts_with('.')
}

fn collect_data_files(folder: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(folder)
        .with_context(|| format!("cannot list folder {}", folder.display()))?
    {
        let entry = entry.with_context(|| format!("cannot list folder {}", folder.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !is_marker(&name) {
            entries.push(entry.path());
        }
    }
    entries.sort();
    for path in entries {
        let metadata =
            std::fs::metadata(&path).with_context(|| format!("cannot read {}", path.display()))?;
        if metadata.is_dir() {
            collect_data_files(&path, files)?;
        } else if metadata.is_file() {
            files.push(path);
        } else {
            bail!("{} is neither a data file nor a folder", path.display());
        }
    }
    Ok(())
}

/// The sha256 of a file's bytes, as lowercase hex.
pub fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = file
            .read(&mut buffer)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_skip_markers_and_hidden_files() {
        let folder = tempfile::tempdir().unwrap();
        for name in [
            "part-1.parquet",
            "part-0.parquet",
            "_SUCCESS",
            ".part-0.parquet.crc",
        ] {
            std::fs::write(folder.path().join(name), b"x").unwrap();
        }
        let files = expand_paths(&[folder.path().to_path_buf()], "orders").unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|f| f.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(names, ["part-0.parquet", "part-1.parquet"]);
    }

    #[test]
    fn an_empty_folder_or_path_list_is_an_error() {
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(folder.path().join("_SUCCESS"), b"").unwrap();
        let error = expand_paths(&[folder.path().to_path_buf()], "orders").unwrap_err();
        assert!(error.to_string().contains("holds no data files"), "{error}");
        let error = expand_paths(&[], "claims").unwrap_err();
        assert!(error.to_string().contains("no claims path"), "{error}");
    }

    #[test]
    fn a_fifo_in_a_part_folder_is_an_error_not_a_hang() {
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(folder.path().join("part-0.parquet"), b"x").unwrap();
        let fifo = folder.path().join("part-1.parquet");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.map(|status| status.success()).unwrap_or(false) {
            eprintln!("SKIPPED: mkfifo is not available here");
            return;
        }
        let error = expand_paths(&[folder.path().to_path_buf()], "orders").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("neither a data file nor a folder"),
            "{error}"
        );
        let error = expand_paths(&[fifo], "orders").unwrap_err();
        assert!(error.to_string().contains("not a regular file"), "{error}");
    }

    #[test]
    fn a_file_named_twice_is_an_error() {
        let folder = tempfile::tempdir().unwrap();
        let file = folder.path().join("orders.parquet");
        std::fs::write(&file, b"x").unwrap();
        let error = expand_paths(&[file.clone(), file], "orders").unwrap_err();
        assert!(error.to_string().contains("more than once"), "{error}");
    }
}
