//! Progress for a person watching a terminal: one line on stderr as each long step starts
//! (reading an input file, writing an output file).
//!
//! Progress is for eyes only. When stderr is not a terminal (a scheduler, a pipe, a log
//! collector) nothing is printed, so logs hold only the structured stage lines. The binary
//! decides with `Progress::for_stderr`; the library never prints unless it is told to.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct Progress {
    started: Option<Instant>,
}

impl Default for Progress {
    fn default() -> Progress {
        Progress::off()
    }
}

impl Progress {
    /// Prints nothing.
    pub fn off() -> Progress {
        Progress { started: None }
    }

    /// Prints progress lines on stderr.
    pub fn on() -> Progress {
        Progress {
            started: Some(Instant::now()),
        }
    }

    /// On when stderr is a terminal, off otherwise.
    pub fn for_stderr() -> Progress {
        if std::io::stderr().is_terminal() {
            Progress::on()
        } else {
            Progress::off()
        }
    }

    pub fn is_on(&self) -> bool {
        self.started.is_some()
    }

    /// A line such as `[  1.2 s] reading orders 2/12: part-0001.parquet (41.0 MB)`.
    pub fn file(&self, verb: &str, what: &str, index: usize, count: usize, path: &Path) {
        let Some(started) = self.started else {
            return;
        };
        let size = std::fs::metadata(path)
            .map(|m| format!(" ({})", human_bytes(m.len())))
            .unwrap_or_default();
        eprintln!(
            "[{:>5.1} s] {verb} {what} {}/{count}: {}{size}",
            started.elapsed().as_secs_f64(),
            index + 1,
            path.display()
        );
    }

    /// A line for a step that is not a file, such as `writing into ledger/.staging/…`.
    pub fn step(&self, text: &str) {
        if let Some(started) = self.started {
            eprintln!("[{:>5.1} s] {text}", started.elapsed().as_secs_f64());
        }
    }
}

/// A size in bytes as a person reads it: `812 B`, `41.0 KB`, `1.4 GB` (powers of 1024).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut tenths = bytes * 10 / 1024;
    let mut unit = 1;
    while tenths >= 10 * 1024 && unit < UNITS.len() - 1 {
        tenths /= 1024;
        unit += 1;
    }
    format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_a_person_says_them() {
        for (bytes, expected) in [
            (0, "0 B"),
            (1023, "1023 B"),
            (1024, "1.0 KB"),
            (1536, "1.5 KB"),
            (41 * 1024 * 1024, "41.0 MB"),
            (3 * 1024 * 1024 * 1024, "3.0 GB"),
        ] {
            assert_eq!(human_bytes(bytes), expected, "{bytes} bytes");
        }
    }
}
