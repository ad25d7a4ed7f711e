//! Shared by the criterion benches of this workspace: settings, reading back
//! criterion's estimates, and the summary lines `cargo xtask bench` collects.
//!
//! Every figure is printed with the ratio to its baseline measured in the same
//! run, as a line `@@bench|area|what|figure|baseline|ratio|target|verdict`.

#![allow(dead_code)] // each bench uses a different part

use std::path::PathBuf;
use std::time::Duration;

use criterion::Criterion;

/// True when run by `cargo bench` (criterion's `--bench`); false in test mode
/// (`cargo test --benches`), where each bench runs once and nothing is reported.
pub fn measuring() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn output_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("crate in workspace").join("target")
    });
    target.join("criterion")
}

/// Short runs: the figures are medians of 30 samples, which is steady enough
/// for ratios on a busy 2-core machine and keeps `cargo xtask bench` quick.
pub fn criterion() -> Criterion {
    Criterion::default()
        .output_directory(&output_dir())
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(30)
        .without_plots()
        .configure_from_args()
}

/// Median time per iteration, in nanoseconds, of benchmark `group/function`.
pub fn median_ns(group: &str, function: &str) -> f64 {
    let path = output_dir().join(group).join(function).join("new/estimates.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: serde_json::Value = serde_json::from_str(&text).expect("criterion estimates are JSON");
    v["median"]["point_estimate"].as_f64().expect("median estimate")
}

/// Formats a duration given in nanoseconds with a fitting unit.
pub fn fmt_ns(ns: f64) -> String {
    if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1_000.0)
    } else {
        format!("{:.2} ms", ns / 1_000_000.0)
    }
}

/// One summary line (see the module docs); `pass` decides PASS or MISS.
pub fn report(area: &str, what: &str, figure: &str, baseline: &str, ratio: f64, target: &str, pass: bool) {
    let verdict = if pass { "PASS" } else { "MISS" };
    println!("@@bench|{area}|{what}|{figure}|{baseline}|{ratio:.3}|{target}|{verdict}");
}

/// A line for a figure that has no target of its own.
pub fn info(area: &str, what: &str, figure: &str, baseline: &str, ratio: f64) {
    println!("@@bench|{area}|{what}|{figure}|{baseline}|{ratio:.3}|-|-");
}
