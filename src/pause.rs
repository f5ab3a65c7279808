//! Test-only pause points in the publishing path.
//!
//! When `SETTLE_PAUSE_AT` names a point, the run prints `paused at POINT` on stderr and sleeps
//! for `SETTLE_PAUSE_MS` milliseconds (default a minute) there, so that a test can kill the
//! process at that exact step, or start a second run beside it. Without the variable every
//! point does nothing. The crash-safety tests kill real processes at each of these points.

pub const POINTS: &[&str] = &[
    "staging-created",
    "order-lines-written",
    "before-manifest",
    "staged",
    "before-rename",
    "published",
];

pub fn checkpoint(point: &str) {
    debug_assert!(POINTS.contains(&point), "unknown pause point {point}");
    let Ok(wanted) = std::env::var("SETTLE_PAUSE_AT") else {
        return;
    };
    if wanted != point {
        return;
    }
    let millis = std::env::var("SETTLE_PAUSE_MS")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(60_000);
    eprintln!("paused at {point}");
    std::thread::sleep(std::time::Duration::from_millis(millis));
}
