//! A crate outside the workspace depends on `tim-runtime` and
//! `tim-emulator` by version, built from the packaged `.crate` files (what a
//! registry would serve, unpacked and put in place with `[patch]`), and
//! calls one endpoint against the emulator.
//!
//! Slow (a clean build of the packages), so it runs when
//! `TIM_DOWNSTREAM_TEST=1` (CI sets it); otherwise it says it skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

const PACKAGES: [&str; 4] = ["tim-core", "tim-api", "tim-runtime", "tim-emulator"];

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

#[test]
fn a_crate_outside_the_workspace_builds_from_the_packages_and_calls_the_emulator() {
    if std::env::var("TIM_DOWNSTREAM_TEST").as_deref() != Ok("1") {
        eprintln!(
            "set TIM_DOWNSTREAM_TEST=1 to build a downstream crate from the packages (CI does): skipping"
        );
        return;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let scratch = std::env::temp_dir().join(format!("tim-downstream-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(scratch.join("src")).unwrap();

    // 1. The packages, as `cargo publish` would upload them.
    let mut package = Command::new(&cargo);
    package.current_dir(&workspace).args(["package", "--no-verify", "--allow-dirty", "--target-dir"]);
    package.arg(scratch.join("pkg"));
    for p in PACKAGES {
        package.args(["-p", p]);
    }
    run(&mut package);
    let mut unpacked = Vec::new();
    for p in PACKAGES {
        let file = scratch.join("pkg/package").join(format!("{p}-0.1.0.crate"));
        run(Command::new("tar").arg("xzf").arg(&file).arg("-C").arg(scratch.join("src")));
        unpacked.push((p, scratch.join("src").join(format!("{p}-0.1.0"))));
    }

    // 2. A crate that knows them by version only.
    let app = scratch.join("app");
    std::fs::create_dir_all(app.join("src")).unwrap();
    let patches: String = unpacked
        .iter()
        .map(|(name, dir)| format!("{name} = {{ path = {:?} }}\n", dir.display().to_string()))
        .collect();
    std::fs::write(
        app.join("Cargo.toml"),
        format!(
            "[package]\nname = \"downstream\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\ntim-runtime = \"0.1\"\ntim-emulator = \"0.1\"\n\
             tokio = {{ version = \"1\", features = [\"rt\", \"macros\"] }}\n\n\
             [patch.crates-io]\n{patches}\n[workspace]\n"
        ),
    )
    .unwrap();
    std::fs::write(
        app.join("src/main.rs"),
        r#"use tim_runtime::api::im_open_login_svc::account_check;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let config = tim_emulator::MockConfig::new(1_400_000_000, "downstream-key", "admin");
    let mock = tim_emulator::MockServer::start(config).await.expect("emulator");
    let client = mock.client_builder().build().expect("client");
    let req = account_check::Request::new([account_check::CheckItem::new("admin")]);
    let reply = client.call(&req).await.expect("call");
    let first = &reply.result_item.expect("results")[0];
    println!("checked {} ok", first.user_id);
}
"#,
    )
    .unwrap();

    // 3. Built and run; dependencies are kept between runs beside the
    // workspace's build, the packages are rebuilt from their sources.
    let target: PathBuf = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), PathBuf::from)
        .join("downstream-check");
    let out = run(Command::new(&cargo)
        .args(["run", "--quiet", "--manifest-path"])
        .arg(app.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target));
    assert!(out.contains("checked admin ok"), "{out}");
    // The packages were what was built, not the workspace's sources.
    let lock = std::fs::read_to_string(app.join("Cargo.lock")).unwrap();
    assert!(lock.contains("name = \"tim-api\""), "{lock}");
    std::fs::remove_dir_all(&scratch).ok();
}
