//! Bench 5: code generation time, for the shipped specs and for a synthetic
//! set of 1,000 endpoints made here from them.
//!
//! - load + validate: `load_dir` (YAML parsing, all checks);
//! - render: `render` (typed spec set to token streams, as the proc-macro
//!   renders them);
//! - files: `output::files` (what `cargo xtask codegen` writes: parse and
//!   pretty-print every module, a file per endpoint, rendered as shipped);
//! - proc-macro: `output::macro_expansion`, the whole body of `generate!`
//!   (load, validate, render, inline) minus the compiler's token conversion.
//!
//! Target: under 1 ms per endpoint for load + validate + render, and for the
//! proc-macro. The ratio printed is the cost per endpoint against the 1 ms
//! budget for the shipped set, and against the shipped set's cost per endpoint
//! for the synthetic one (1.0 = cost grows linearly with endpoints).

#[path = "../../core/benches/common/mod.rs"]
mod common;

use std::fs;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, SamplingMode};
use tim_codegen::{load_dir, output, render, render_with, RenderOptions};

const SYNTHETIC: usize = 1_000;

struct Set {
    name: &'static str,
    dir: PathBuf,
    endpoints: usize,
}

fn bench_set(c: &mut Criterion, set: &Set) {
    let dir = &set.dir;
    let spec_set = load_dir(dir, dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let rendered = render_with(&spec_set, RenderOptions::SHIPPED);
    let mut g = c.benchmark_group(format!("codegen_{}", set.name));
    if set.endpoints > 200 {
        g.sample_size(10).sampling_mode(SamplingMode::Flat).measurement_time(Duration::from_secs(3));
    }
    g.bench_function("load_validate", |b| b.iter(|| load_dir(black_box(dir), dir).unwrap()));
    g.bench_function("render", |b| b.iter(|| render(black_box(&spec_set))));
    g.bench_function("files", |b| b.iter(|| output::files(black_box(&rendered)).unwrap()));
    g.bench_function("proc_macro", |b| b.iter(|| output::macro_expansion(black_box(dir), dir).unwrap()));
    g.finish();
}

fn main() {
    let specs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../specs");
    let shipped = load_dir(&specs, &specs).expect("shipped specs load").endpoints.len();
    let synth_dir = std::env::temp_dir().join(format!("tim-bench-synth-{}", std::process::id()));
    tim_codegen::synthetic::write_specs(&specs, &synth_dir, SYNTHETIC).expect("write synthetic specs");
    let sets = [
        Set { name: "shipped", dir: specs, endpoints: shipped },
        Set { name: "synthetic", dir: synth_dir.clone(), endpoints: SYNTHETIC },
    ];
    let mut c = common::criterion();
    for set in &sets {
        bench_set(&mut c, set);
    }
    c.final_summary();
    let _ = fs::remove_dir_all(&synth_dir);
    if !common::measuring() {
        return;
    }
    let per = |set: &Set, steps: &[&str]| -> f64 {
        let group = format!("codegen_{}", set.name);
        steps.iter().map(|step| common::best_ns(&group, step)).sum::<f64>() / set.endpoints as f64
    };
    let rows: [(&str, &[&str], bool); 5] = [
        ("load + validate + render", &["load_validate", "render"], true),
        ("proc-macro expansion", &["proc_macro"], true),
        ("  of which load + validate", &["load_validate"], false),
        ("  of which render", &["render"], false),
        ("files for `cargo xtask codegen` (parse + pretty-print)", &["files"], false),
    ];
    for (what, steps, has_target) in rows {
        let shipped = per(&sets[0], steps);
        for set in &sets {
            let per_ep = per(set, steps);
            let figure = format!(
                "{} ({} per endpoint)",
                common::fmt_ns(per_ep * set.endpoints as f64),
                common::fmt_ns(per_ep)
            );
            let what = format!("{what}, {} set ({} endpoints)", set.name, set.endpoints);
            // Baseline: the 1 ms budget for the shipped set; for the synthetic
            // set, the shipped set's cost per endpoint (ratio 1.0 = linear growth).
            let (baseline, ratio) = if set.name == "shipped" {
                ("1 ms per endpoint".to_owned(), per_ep / 1e6)
            } else {
                (format!("{} per endpoint (shipped)", common::fmt_ns(shipped)), per_ep / shipped)
            };
            if has_target {
                common::report(
                    "5 codegen",
                    &what,
                    &figure,
                    &baseline,
                    ratio,
                    "< 1 ms per endpoint",
                    per_ep < 1e6,
                );
            } else {
                common::info("5 codegen", &what, &figure, &baseline, ratio);
            }
        }
    }
}
