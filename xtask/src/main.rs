//! Maintainer tasks. `cargo xtask codegen [--check]` regenerates (or checks)
//! the checked-in API (`tim-api`, the region enum of `tim-core`), the spec
//! formats' JSON Schema and the OpenAPI document from `specs/`; `cargo xtask fixtures`
//! adds conformance fixtures for spec samples and documented error codes;
//! `cargo xtask bench [--compile | quota]` runs the benchmarks (see `bench.rs`, `quota.rs`);
//! `cargo xtask scaffold PATH --request req.json --response resp.json` starts a
//! new spec from a sample pair; `cargo xtask openapi` writes the OpenAPI document.

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
    // The JSON Schema of the spec formats and the OpenAPI document, beside the specs.
    let set = match tim_codegen::load_dir(&specs, Path::new("specs")) {
        Ok(set) => set,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let mut files = tim_codegen::schema::files();
    files.push((tim_codegen::openapi::FILE, tim_codegen::openapi::text(&set, env!("CARGO_PKG_VERSION"))));
    for (name, content) in files {
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

/// `cargo xtask openapi`: writes `specs/openapi.json` alone (`cargo xtask
/// codegen` writes it too, with everything else generated).
fn openapi() -> ExitCode {
    let specs = root().join("specs");
    let set = match tim_codegen::load_dir(&specs, Path::new("specs")) {
        Ok(set) => set,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let path = specs.join(tim_codegen::openapi::FILE);
    match std::fs::write(&path, tim_codegen::openapi::text(&set, env!("CARGO_PKG_VERSION"))) {
        Ok(()) => {
            println!("wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot write {}: {e}", path.display());
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask scaffold v4/<service>/<command> --request req.json --response resp.json`:
/// a new spec from a documented sample pair, which the loader accepts as it
/// is (see `tim_codegen::scaffold`); never written over an existing file.
fn scaffold(path: &str, request: &str, response: &str) -> ExitCode {
    let read = |file: &str| -> Result<serde_json::Value, String> {
        let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {file}: {e}"))?;
        serde_json::from_str(&text).map_err(|e| format!("{file} is not JSON: {e}"))
    };
    let yaml = match (read(request), read(response)) {
        (Ok(req), Ok(resp)) => tim_codegen::scaffold::endpoint_yaml(path, &req, &resp),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    let yaml = match yaml {
        Ok(y) => y,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let specs = root().join("specs");
    let Some((service, command)) = tim_codegen::names::split_path(path.trim_start_matches('/')) else {
        return ExitCode::from(2);
    };
    let file = specs.join(service).join(format!("{command}.yaml"));
    if file.exists() {
        eprintln!("{} exists; it is left as it is", file.display());
        return ExitCode::from(2);
    }
    if let Err(e) = std::fs::create_dir_all(specs.join(service)).and_then(|()| std::fs::write(&file, yaml)) {
        eprintln!("cannot write {}: {e}", file.display());
        return ExitCode::FAILURE;
    }
    println!("wrote {}", file.display());
    match tim_codegen::load_dir(&specs, Path::new("specs")) {
        Ok(_) => println!(
            "it loads; confirm what its comments list from the endpoint's page, then run `cargo xtask codegen` \
             and `cargo xtask fixtures`"
        ),
        Err(e) => println!("the specs do not load yet:\n{e}"),
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
        ["scaffold", path, "--request", req, "--response", resp] => scaffold(path, req, resp),
        ["openapi"] => openapi(),
        _ => {
            eprintln!(
                "usage: cargo xtask codegen [--check] | cargo xtask fixtures | cargo xtask bench [--compile | quota] | cargo xtask openapi | cargo xtask scaffold v4/<service>/<command> --request FILE --response FILE"
            );
            ExitCode::FAILURE
        }
    }
}
