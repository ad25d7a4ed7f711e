//! Maintainer tasks. `cargo xtask codegen [--check]` regenerates (or checks)
//! the checked-in API (`tim-api`, the region enum of `tim-core`) from `specs/`; `cargo xtask fixtures`
//! adds conformance fixtures for spec samples and documented error codes;
//! `cargo xtask bench [--compile | quota]` runs the benchmarks (see `bench.rs`, `quota.rs`).

mod bench;
mod fixtures;
mod quota;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_owned()
}

fn codegen(check: bool) -> ExitCode {
    let root = root();
    let specs = root.join("specs");
    let layout = tim_codegen::output::Layout {
        api_dir: root.join("api/src/generated"),
        api_manifest: root.join("api/Cargo.toml"),
        facade_manifest: root.join("runtime/Cargo.toml"),
        region_file: root.join("core/src/region.rs"),
    };
    let mut report = match tim_codegen::output::sync(&specs, &layout, check) {
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
        Ok(report) => report,
    };
    // The JSON Schema of the spec formats, beside the specs.
    for (name, content) in tim_codegen::schema::files() {
        let path = specs.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(content.as_str()) {
            continue;
        }
        if !check {
            if let Err(e) = std::fs::write(&path, &content) {
                eprintln!("cannot write {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
        report.stale.push(format!("specs/{name}"));
    }
    if check && (!report.stale.is_empty() || !report.extra.is_empty()) {
        eprintln!(
            "generated code is stale (stale: {:?}, not produced by any spec: {:?}); run `cargo xtask codegen`",
            report.stale, report.extra
        );
        return ExitCode::FAILURE;
    }
    if !check {
        println!("wrote {} file(s), removed {}", report.stale.len(), report.extra.len());
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["codegen"] => codegen(false),
        ["codegen", "--check"] => codegen(true),
        ["fixtures"] => fixtures::write_missing(&root()),
        ["bench"] => bench::run(&root()),
        ["bench", "--compile"] => bench::compile(&root()),
        ["bench", "quota"] => quota::run(&root()),
        _ => {
            eprintln!(
                "usage: cargo xtask codegen [--check] | cargo xtask fixtures | cargo xtask bench [--compile | quota]"
            );
            ExitCode::FAILURE
        }
    }
}
