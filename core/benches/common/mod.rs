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

/// Short runs (30 samples in 1.5 s after 0.5 s of warm-up), which keep
/// `cargo xtask bench` quick; the summary ratios come from [`paired_ns`].
pub fn criterion() -> Criterion {
    Criterion::default()
        .output_directory(&output_dir())
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(30)
        .without_plots()
        .configure_from_args()
}

/// Time per iteration, in nanoseconds, of benchmark `group/function`: the
/// fastest of its samples (each the mean of many iterations). Other work on
/// the machine only ever slows a sample down, so on a shared machine the
/// fastest sample is the steadiest figure, and ratios of them compare like
/// with like.
pub fn best_ns(group: &str, function: &str) -> f64 {
    let path = output_dir().join(group).join(function).join("new/sample.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: serde_json::Value = serde_json::from_str(&text).expect("criterion samples are JSON");
    let column = |name: &str| -> Vec<f64> {
        v[name].as_array().expect("sample column").iter().map(|x| x.as_f64().expect("number")).collect()
    };
    let (iters, times) = (column("iters"), column("times"));
    iters.iter().zip(&times).map(|(n, t)| t / n).fold(f64::INFINITY, f64::min)
}

/// Nanoseconds per call of `f`: the fastest of many short batches.
fn batch_ns(f: &mut dyn FnMut(), iters: u32) -> f64 {
    let start = std::time::Instant::now();
    for _ in 0..iters {
        f();
    }
    start.elapsed().as_nanos() as f64 / f64::from(iters)
}

/// Batch size that makes one batch of `f` take about 200 µs.
fn batch_size(f: &mut dyn FnMut()) -> u32 {
    let mut n = 1u32;
    while n < 1 << 24 && batch_ns(f, n) * f64::from(n) < 200_000.0 {
        n *= 2;
    }
    n
}

/// Cost per call of `ours` and `baseline`, measured interleaved: short
/// batches of each in turn for about `secs` seconds, keeping the fastest
/// batch of each. On this shared VM the CPU is now and then taken away for
/// milliseconds at a time (other builds, hypervisor steal); such a stretch
/// hits batches of both sides alike, and the fastest batches are those it
/// missed, so the ratio compares like with like. The criterion figures
/// printed above measure each side for seconds on its own, which can differ
/// by a third from one run to the next here.
pub fn paired_ns(mut ours: impl FnMut(), mut baseline: impl FnMut(), secs: f64) -> (f64, f64) {
    let (n_ours, n_base) = (batch_size(&mut ours), batch_size(&mut baseline));
    let (mut best_ours, mut best_base) = (f64::INFINITY, f64::INFINITY);
    let start = std::time::Instant::now();
    while start.elapsed().as_secs_f64() < secs {
        best_ours = best_ours.min(batch_ns(&mut ours, n_ours));
        best_base = best_base.min(batch_ns(&mut baseline, n_base));
    }
    (best_ours, best_base)
}

/// Cost per call of `f`: the fastest of short batches over about `secs` seconds.
pub fn single_ns(mut f: impl FnMut(), secs: f64) -> f64 {
    let n = batch_size(&mut f);
    let mut best = f64::INFINITY;
    let start = std::time::Instant::now();
    while start.elapsed().as_secs_f64() < secs {
        best = best.min(batch_ns(&mut f, n));
    }
    best
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
