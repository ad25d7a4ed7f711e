//! `cargo xtask bench [--compile]`: runs the benchmarks and prints one table.
//!
//! Without `--compile`: the criterion benches of `tim-runtime` (encode/decode,
//! UserSig, rate limiter), `tim-codegen` (code generation) and
//! `tim-conformance` (emulator throughput under load), then the
//! whole-call comparison in `bench/compare`, a separate workspace so that the
//! main workspace never builds `tencent_im_rs` and its OpenSSL dependency.
//! With `--compile`: build times of `tim-runtime` and of synthetic endpoint sets.
//!
//! Every bench prints lines `@@bench|area|what|figure|baseline|ratio|target|verdict`;
//! they are gathered into a Markdown table, printed and written to
//! `target/bench-summary.md`.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

/// One row of the summary.
pub(crate) struct Row(pub(crate) Vec<String>);

/// Runs `cmd`, echoing its output to stderr, and collects its `@@bench` lines.
fn run_collect(cmd: &mut Command, rows: &mut Vec<Row>) -> bool {
    eprintln!("$ {cmd:?}");
    let mut child = match cmd.stdout(Stdio::piped()).spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot run: {e}");
            return false;
        }
    };
    let stdout = child.stdout.take().expect("piped");
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        match line.strip_prefix("@@bench|") {
            Some(fields) => rows.push(Row(fields.split('|').map(str::to_owned).collect())),
            None => eprintln!("{line}"),
        }
    }
    child.wait().is_ok_and(|s| s.success())
}

pub(crate) fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Makes sure OpenSSL headers and pkg-config are there for `tencent_im_rs`
/// (reqwest 0.11 with native-tls); installs them with apt-get when root.
fn ensure_openssl() -> bool {
    let has = || Command::new("pkg-config").args(["--exists", "openssl"]).status().is_ok_and(|s| s.success());
    if has() {
        return true;
    }
    let is_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if is_root && Command::new("apt-get").arg("--version").output().is_ok() {
        eprintln!("bench/compare needs OpenSSL headers and pkg-config: installing libssl-dev pkg-config");
        let ok = |args: &[&str]| Command::new("apt-get").args(args).status().is_ok_and(|s| s.success());
        if ok(&["update", "-qq"]) && ok(&["install", "-y", "-qq", "libssl-dev", "pkg-config"]) && has() {
            return true;
        }
    }
    eprintln!(
        "bench/compare (tencent_im_rs) needs OpenSSL development files and pkg-config \
         (Debian/Ubuntu: apt-get install libssl-dev pkg-config); skipping the whole-call comparison"
    );
    false
}

fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| Bench | What | Figure | Baseline | Ratio | Target | Result |\n|---|---|---|---|---|---|---|\n",
    );
    for Row(cells) in rows {
        let mut cells = cells.clone();
        cells.resize(7, String::new());
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

pub(crate) fn finish(root: &Path, rows: &[Row], command: &str, all_ran: bool) -> ExitCode {
    let mut text = format!("Command: `{command}`\n\n{}", table(rows));
    let missed = rows.iter().filter(|r| r.0.get(6).is_some_and(|v| v == "MISS")).count();
    text.push_str(&format!(
        "\n{} figures, {} targets met, {missed} missed{}\n",
        rows.len(),
        rows.iter().filter(|r| r.0.get(6).is_some_and(|v| v == "PASS")).count(),
        if all_ran { "" } else { "; some benches did not run (see above)" }
    ));
    println!("\n{text}");
    let path = root.join("target/bench-summary.md");
    if fs::create_dir_all(root.join("target")).and_then(|()| fs::write(&path, &text)).is_ok() {
        println!("(also written to {})", path.display());
    }
    // Missed targets are reported, not failures: the figures are the output.
    if all_ran {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `cargo xtask bench`.
pub fn run(root: &Path) -> ExitCode {
    let mut rows = Vec::new();
    let mut all_ran = true;
    all_ran &= run_collect(
        cargo().current_dir(root).args([
            "bench",
            "-p",
            "tim-runtime",
            "--features",
            "test-util",
            "--bench",
            "codec",
        ]),
        &mut rows,
    );
    all_ran &= run_collect(
        cargo().current_dir(root).args([
            "bench",
            "-p",
            "tim-core",
            "--features",
            "test-util",
            "--bench",
            "usersig",
            "--bench",
            "rate_limit",
        ]),
        &mut rows,
    );
    all_ran &= run_collect(
        cargo().current_dir(root).args(["bench", "-p", "tim-codegen", "--bench", "codegen"]),
        &mut rows,
    );
    all_ran &= run_collect(
        cargo().current_dir(root).args(["bench", "-p", "tim-conformance", "--bench", "emulator_load"]),
        &mut rows,
    );
    if ensure_openssl() {
        let target = root.join("target/bench-compare");
        all_ran &= run_collect(
            cargo()
                .current_dir(root.join("bench/compare"))
                .args(["run", "--release", "--locked", "--target-dir"])
                .arg(&target),
            &mut rows,
        );
    } else {
        all_ran = false;
    }
    finish(root, &rows, "cargo xtask bench", all_ran)
}

/// Wall time of a cargo command, in seconds; `None` if it failed.
fn timed(cmd: &mut Command) -> Option<f64> {
    eprintln!("$ {cmd:?}");
    let start = Instant::now();
    let ok = cmd.status().is_ok_and(|s| s.success());
    ok.then(|| start.elapsed().as_secs_f64())
}

/// Writes a crate whose `api` module is generated from `n` synthetic endpoints.
fn synthetic_crate(root: &Path, dir: &Path, n: usize) -> Result<(), String> {
    let specs = dir.join(format!("specs-{n}"));
    tim_codegen::synthetic::write_specs(&root.join("specs"), &specs, n).map_err(|e| e.to_string())?;
    let set = tim_codegen::load_dir(&specs, &specs).map_err(|e| e.to_string())?;
    // Rendered as the shipped API is: one feature per service, all on by default.
    let rendered = tim_codegen::render_with(&set, tim_codegen::RenderOptions::SHIPPED);
    let files = tim_codegen::output::files(&rendered)?;
    let krate = dir.join("crate");
    let api = krate.join("src/api");
    let _ = fs::remove_dir_all(&api);
    fs::create_dir_all(&api).map_err(|e| e.to_string())?;
    for f in files {
        let path = api.join(&f.name);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        fs::write(path, f.contents).map_err(|e| e.to_string())?;
    }
    // Same profile as the main workspace, so the dependencies built for it are reused.
    let manifest = format!(
        "[package]\nname = \"tim-bench-synth\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [workspace]\n\n[dependencies]\ntim-core = {{ path = {:?}, features = [\"derive\"] }}\n\n\
         [profile.dev]\ndebug = \"line-tables-only\"\n\n[profile.dev.package.\"*\"]\ndebug = false\n\n\
         [features]\ndefault = [\"all-services\"]\nserver = []\n{}\n{}\n",
        root.join("core").display().to_string(),
        tim_codegen::output::FEATURES_BEGIN,
        tim_codegen::output::FEATURES_END,
    );
    let manifest = tim_codegen::output::manifest_with_features(&manifest, &rendered, None)?;
    fs::write(krate.join("Cargo.toml"), manifest).map_err(|e| e.to_string())?;
    fs::write(krate.join("src/lib.rs"), "//! Synthetic endpoints for compile-time benchmarks.\n#[rustfmt::skip]\n#[allow(clippy::all)]\npub mod api;\n")
        .map_err(|e| e.to_string())?;
    fs::copy(root.join("Cargo.lock"), krate.join("Cargo.lock")).map_err(|e| e.to_string())?;
    Ok(())
}

/// Writes a binary crate depending on tim-runtime by path in `dir` and
/// builds it from clean (its own target directory); the seconds it took.
fn downstream(root: &Path, dir: &Path) -> Option<f64> {
    let runtime = root.join("runtime");
    let manifest = format!(
        "[package]\nname = \"tim-bench-downstream\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\ntim-runtime = {{ path = {:?} }}\ntokio = {{ version = \"1\", features = [\"rt\", \"macros\"] }}\n\n[workspace]\n",
        runtime.display().to_string()
    );
    let main = "use tim_runtime::api::openim::admin_set_msg_read;\n\
        #[tokio::main(flavor = \"current_thread\")]\nasync fn main() {\n    \
        let client = tim_runtime::Client::builder(1_400_000_000, \"administrator\", \"key\")\n        \
        .base_url(\"http://127.0.0.1:9\").build().expect(\"client\");\n    \
        let _ = client.call(&admin_set_msg_read::Request::new(\"a\", \"b\")).await;\n}\n";
    let written = std::fs::create_dir_all(dir.join("src"))
        .and_then(|()| std::fs::write(dir.join("Cargo.toml"), manifest))
        .and_then(|()| std::fs::write(dir.join("src/main.rs"), main))
        // The workspace's lock file: the same dependency versions as the tests.
        .and_then(|()| std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).map(drop));
    if let Err(e) = written {
        eprintln!("downstream crate: {e}");
        return None;
    }
    let target = dir.join("target");
    let _ = std::fs::remove_dir_all(&target);
    timed(cargo().current_dir(dir).args(["build", "--target-dir"]).arg(&target))
}

/// `cargo xtask bench --compile`.
pub fn compile(root: &Path) -> ExitCode {
    let target = root.join("target/bench-compile");
    let sizes: Vec<usize> = std::env::var("TIM_BENCH_COMPILE_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .filter(|v: &Vec<usize>| v.len() >= 2)
        .unwrap_or_else(|| vec![100, 300]);
    let mut rows = Vec::new();
    let mut all_ran = true;
    let build_runtime = || {
        let mut c = cargo();
        c.current_dir(root).args(["build", "-p", "tim-runtime", "--target-dir"]).arg(&target);
        c
    };
    // Dependencies first (not timed), then tim-runtime alone, from clean.
    all_ran &= timed(&mut build_runtime()).is_some();
    let clean =
        cargo().current_dir(root).args(["clean", "-p", "tim-runtime", "--target-dir"]).arg(&target).status();
    let runtime_secs = if clean.is_ok_and(|s| s.success()) { timed(&mut build_runtime()) } else { None };
    let endpoints =
        tim_codegen::load_dir(&root.join("specs"), &root.join("specs")).map(|s| s.endpoints.len());
    match (runtime_secs, endpoints) {
        (Some(secs), Ok(n)) => rows.push(Row(vec![
            "6 compile time".into(),
            format!("clean build of tim-runtime, deps built (dev, {n} endpoints)"),
            format!("{secs:.1} s"),
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
        ])),
        _ => all_ran = false,
    }

    // What a user's first build costs: a binary outside the workspace that
    // depends on tim-runtime (default features) and calls one endpoint,
    // every dependency built from clean in its own target directory.
    match downstream(root, &target.join("downstream")) {
        Some(secs) => rows.push(Row(vec![
            "6 compile time".into(),
            "clean build of a downstream binary calling one endpoint (dev, all dependencies)".into(),
            format!("{secs:.1} s"),
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
        ])),
        None => all_ran = false,
    }

    let dir = target.join("synthetic");
    let krate = dir.join("crate");
    let mut points = Vec::new();
    for &n in &sizes {
        if let Err(e) = synthetic_crate(root, &dir, n) {
            eprintln!("synthetic crate with {n} endpoints: {e}");
            all_ran = false;
            continue;
        }
        let build = || {
            let mut c = cargo();
            c.current_dir(&krate).args(["build", "--target-dir"]).arg(&target);
            c
        };
        // The first build of a size may still build tim-runtime for this crate.
        let warm = timed(&mut build());
        let clean = cargo()
            .current_dir(&krate)
            .args(["clean", "-p", "tim-bench-synth", "--target-dir"])
            .arg(&target)
            .status();
        match (warm, clean.is_ok_and(|s| s.success())) {
            (Some(_), true) => {}
            _ => {
                all_ran = false;
                continue;
            }
        }
        match timed(&mut build()) {
            Some(secs) => {
                points.push((n as f64, secs));
                rows.push(Row(vec![
                    "6 compile time".into(),
                    format!("clean build of a crate with {n} synthetic endpoints"),
                    format!("{secs:.1} s"),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                ]));
            }
            None => all_ran = false,
        }
    }
    if let [(n0, t0), .., (n1, t1)] = points.as_slice() {
        let per100 = (t1 - t0) / (n1 - n0) * 100.0;
        rows.push(Row(vec![
            "6 compile time".into(),
            format!("increment per 100 endpoints ({n0}→{n1})"),
            format!("{per100:.1} s"),
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
        ]));
    }
    finish(root, &rows, "cargo xtask bench --compile", all_ran)
}
