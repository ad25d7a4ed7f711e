//! Seeds `conformance/fixtures/` from the specs: one file per documented
//! sample exchange and one per documented error code of the endpoint, and
//! one per documented callback body (`callbacks/<Command>/sample-N.json`).
//! Existing files are never overwritten: a fixture is a record, and a
//! maintainer may have edited or replaced it with a captured exchange.

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use serde_json::{json, Value};

/// The query every documented sample URL shows.
fn sample_query() -> Value {
    json!({
        "sdkappid": "88888888",
        "identifier": "admin",
        "usersig": "xxx",
        "random": "99999999",
        "contenttype": "json"
    })
}

fn fixture(path: &str, source: &str, request: &Value, status: u16, response: Value) -> Value {
    json!({
        "endpoint": path,
        "source": source,
        "request": {"query": sample_query(), "body": request},
        "response": {"status": status, "body": response},
    })
}

/// The query of a callback as the overview page shows it (without the sign,
/// which depends on the time it is sent).
fn callback_query(command: &str) -> Value {
    json!({
        "SdkAppid": "88888888",
        "CallbackCommand": command,
        "contenttype": "json",
        "ClientIP": "127.0.0.1",
        "OptPlatform": "RESTAPI"
    })
}

/// Writes `value` to `path` unless the file exists; `Ok(true)` when written.
fn write_new(path: &Path, value: &Value) -> Result<bool, String> {
    if path.exists() {
        return Ok(false);
    }
    let text = serde_json::to_string_pretty(value).unwrap_or_default() + "\n";
    let dir = path.parent().unwrap_or(path);
    fs::create_dir_all(dir)
        .and_then(|_| fs::write(path, text))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(true)
}

/// Writes the fixtures that do not exist yet.
pub fn write_missing(root: &Path) -> ExitCode {
    let specs = root.join("specs");
    let set = match tim_codegen::load_dir(&specs, Path::new("specs")) {
        Ok(set) => set,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let mut written = 0;
    for ep in &set.endpoints {
        let dir = root.join("conformance/fixtures").join(&ep.service).join(&ep.command);
        let mut files = Vec::new();
        for (i, sample) in ep.samples.iter().enumerate() {
            let source = format!("documented sample: {}", sample.name);
            let resp = sample.response.clone();
            files.push((
                format!("sample-{}.json", i + 1),
                fixture(&ep.path, &source, &sample.request, 200, resp),
            ));
        }
        for e in &ep.errors {
            let Some(first) = ep.samples.first() else { break };
            let body = json!({"ActionStatus": "FAIL", "ErrorInfo": e.meaning, "ErrorCode": e.code});
            let source = format!("documented error code {}", e.code);
            files.push((
                format!("error-{}.json", e.code),
                fixture(&ep.path, &source, &first.request, 200, body),
            ));
        }
        for (name, value) in files {
            match write_new(&dir.join(name), &value) {
                Ok(true) => written += 1,
                Ok(false) => {}
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    for cb in &set.callbacks {
        let dir = root.join("conformance/fixtures/callbacks").join(&cb.command);
        for (i, sample) in cb.samples.iter().enumerate() {
            let value = json!({
                "callback": cb.command,
                "source": format!("documented sample: {}", sample.name),
                "request": {"query": callback_query(&cb.command), "body": sample.payload},
                "reply": sample.reply,
            });
            match write_new(&dir.join(format!("sample-{}.json", i + 1)), &value) {
                Ok(true) => written += 1,
                Ok(false) => {}
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    println!("wrote {written} new fixture(s)");
    ExitCode::SUCCESS
}
