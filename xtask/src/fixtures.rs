//! Seeds `conformance/fixtures/` from the specs: one file per documented
//! sample exchange and one per documented error code of the endpoint.
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
            let path = dir.join(name);
            if path.exists() {
                continue;
            }
            let text = serde_json::to_string_pretty(&value).unwrap_or_default() + "\n";
            if let Err(e) = fs::create_dir_all(&dir).and_then(|_| fs::write(&path, text)) {
                eprintln!("{}: {e}", path.display());
                return ExitCode::FAILURE;
            }
            written += 1;
        }
    }
    println!("wrote {written} new fixture(s)");
    ExitCode::SUCCESS
}
