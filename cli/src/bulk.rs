//! `tim bulk`: a batch endpoint's list of any length, from a JSON Lines
//! file: checked item by item, split into the parts the endpoint takes,
//! paced to the quota (shared through Redis if asked), resumable from a
//! journal, with a report of every failed item.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{BufRead as _, BufReader, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};
use tim_runtime::api::ENDPOINTS;
use tim_runtime::dynamic::{self, BatchJson, EndpointEntry};
use tim_runtime::{Client, RateLimit};

use crate::{failed, full_path, read_body, unknown_endpoint, usage, Config, Failure};

#[derive(Args)]
pub(crate) struct BulkArgs {
    /// Batch endpoint path, e.g. v4/openim/batchsendmsg (see `tim describe`:
    /// its list field and part size).
    path: String,
    #[command(flatten)]
    pub(crate) app: crate::credentials::AppFlags,
    #[command(flatten)]
    pub(crate) target: crate::credentials::TargetFlags,
    /// JSON Lines, one item of the endpoint's batched list per line: a
    /// UserID string for batchsendmsg's `To_Account`, an account object such
    /// as {"UserID":"u1"} for multiaccount_import's `AccountList`.
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// The rest of the body: JSON text, `@file.json` or `@-` (for
    /// batchsendmsg: From_Account, MsgRandom, MsgBody).
    #[arg(long, short = 'd', default_value = "{}")]
    data: String,
    /// Makes the job resumable: parts confirmed here are not sent again when
    /// the same command is run after a stop (even kill -9).
    #[arg(long, value_name = "FILE")]
    journal: Option<PathBuf>,
    /// Where to write the failed items, one JSON line each (line, item, code, info).
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Share the quota with other processes through this Redis server
    /// (redis://host:port); without it the quota is this process's own.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// The share of each quota to keep to alone while Redis cannot be reached.
    #[arg(long, value_name = "SHARE", default_value_t = 0.25, value_parser = parse_share)]
    redis_fallback_share: f64,
    /// Parts in flight at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    concurrency: u32,
    /// Use this rate instead of the documented quota (raised on paid plans):
    /// `PATH=N/s` or `PATH=N/min`, in the unit the spec counts; repeatable.
    #[arg(long = "limit", value_name = "PATH=RATE", value_parser = crate::mock::parse_limit)]
    limits: Vec<(String, RateLimit)>,
    /// Seconds allowed for each attempt.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = crate::parse_secs)]
    timeout: Duration,
    /// Seconds a part is retried after frequency errors before it counts as failed.
    #[arg(long, value_name = "SECS", default_value = "120", value_parser = crate::parse_secs)]
    deadline: Duration,
}

fn parse_share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 1.0 => Ok(v),
        _ => Err(format!("`{s}` is not a share between 0 (excluded) and 1")),
    }
}

/// One input line that passed the checks.
struct Item {
    /// 1-based line number in the input.
    line: usize,
    value: Value,
}

/// One item that was not done.
struct Failed {
    line: usize,
    item: Value,
    code: Option<i64>,
    info: String,
}

pub(crate) fn bulk(config: &Config, args: BulkArgs) -> Result<(), Failure> {
    let entry =
        dynamic::find(ENDPOINTS, &full_path(&args.path)).ok_or_else(|| unknown_endpoint(&args.path))?;
    let Some(batch) = entry.batch_json else {
        let batched: Vec<&str> =
            ENDPOINTS.iter().filter(|e| e.batch_json.is_some()).map(|e| e.meta.path).collect();
        return Err(usage(format!(
            "{} takes no list in parts; tim bulk works with: {}",
            entry.meta.path,
            batched.join(", ")
        )));
    };
    let field = batch.meta.field;
    let template_bytes = read_body(&args.data)?;
    let template: Value =
        serde_json::from_slice(&template_bytes).map_err(|e| usage(format!("--data is not JSON: {e}")))?;
    match template.as_object() {
        None => return Err(usage("--data must be a JSON object (the body without the list)")),
        Some(map) if map.contains_key(field) => {
            return Err(usage(format!(
                "--data must not hold `{field}`: its items come from --input, one per line"
            )))
        }
        Some(_) => {}
    }
    let input = std::fs::read(&args.input)
        .map_err(|e| usage(format!("cannot read --input {}: {e}", args.input.display())))?;
    let (items, mut failed) = check_items(entry, &batch, &template, &input)?;
    let total = items.len() + failed.len();
    let client = client(config, &args)?;
    let part_size = (batch.part_size)(&client).max(1);
    let digest = hex(&Sha256::new().chain_update(&input).chain_update(&template_bytes).finalize());
    let parts: Vec<&[Item]> = items.chunks(part_size).collect();

    let mut journal = match &args.journal {
        Some(path) => Some(Journal::open(path, entry.meta.path, &digest, part_size, parts.len())?),
        None => None,
    };
    let resumed = journal.as_ref().map(|j| j.done.len()).unwrap_or(0);
    let resent = journal.as_ref().map_or(0, |j| j.in_flight.len());
    if let Some(j) = &journal {
        failed.extend(j.failed_before(&parts));
    }
    let todo: Vec<usize> =
        (0..parts.len()).filter(|k| journal.as_ref().is_none_or(|j| !j.done.contains_key(k))).collect();
    let already: usize = journal.as_ref().map_or(0, |j| j.done.keys().map(|k| parts[*k].len()).sum());

    let rt = crate::runtime()?;
    let started = Instant::now();
    let progress = Progress::new(items.len() as u64, already as u64);
    let template = Arc::new(template);
    let outcome = rt.block_on(async {
        let mut running = tokio::task::JoinSet::new();
        let mut next = todo.into_iter();
        let mut results = Vec::new();
        loop {
            while running.len() < args.concurrency as usize {
                let Some(k) = next.next() else { break };
                if let Some(j) = journal.as_mut() {
                    j.sending(k)?;
                }
                let values: Vec<Value> = parts[k].iter().map(|i| i.value.clone()).collect();
                let (client, template, send) = (client.clone(), template.clone(), batch.send);
                running.spawn(async move { (k, send(&client, &template, values).await) });
            }
            let Some(joined) = running.join_next().await else { break };
            let (k, result) = joined.map_err(|e| crate::failed(format!("a part's task failed: {e}")))?;
            let part = parts[k];
            let part_failed: Vec<Failed> = match result {
                Ok(each) => part
                    .iter()
                    .zip(each)
                    .filter_map(|(item, f)| {
                        f.map(|f| Failed {
                            line: item.line,
                            item: item.value.clone(),
                            code: f.code,
                            info: f.info,
                        })
                    })
                    .collect(),
                Err(e) => {
                    let f = tim_runtime::batch::Failure::of_part(&e);
                    part.iter()
                        .map(|i| Failed {
                            line: i.line,
                            item: i.value.clone(),
                            code: f.code,
                            info: f.info.clone(),
                        })
                        .collect()
                }
            };
            if let Some(j) = journal.as_mut() {
                j.done(k, &part_failed)?;
            }
            progress.advance(part.len() as u64);
            results.extend(part_failed);
        }
        Ok::<_, Failure>(results)
    });
    progress.finish();
    failed.extend(outcome?);
    failed.sort_by_key(|f| f.line);

    if let Some(path) = &args.report {
        write_report(path, &failed)?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let sent_now = items.len() - already;
    let mut summary = format!(
        "tim bulk {}: {total} items, {} succeeded, {} failed; {} parts of up to {part_size}",
        entry.meta.path,
        total - failed.len(),
        failed.len(),
        parts.len(),
    );
    if resumed > 0 {
        let _ = write!(summary, "; resumed: {resumed} parts confirmed before were not sent again");
        let _ = write!(summary, ", {resent} in flight at the stop were sent again");
    }
    let _ = write!(
        summary,
        "; {sent_now} items in {elapsed:.1} s ({:.1} items/s)",
        if elapsed > 0.0 { sent_now as f64 / elapsed } else { 0.0 }
    );
    if !failed.is_empty() {
        match &args.report {
            Some(p) => {
                let _ = write!(summary, "; failed items in {}", p.display());
            }
            None => {
                let _ = write!(summary, "; --report FILE lists the failed items");
            }
        }
    }
    eprintln!("{summary}");
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::Quiet)
    }
}

fn client(config: &Config, args: &BulkArgs) -> Result<Client, Failure> {
    let builder = config
        .settings()
        .client_builder(true)
        .map_err(crate::config_usage)?
        .timeout(args.timeout)
        .deadline(args.deadline);
    let builder = args.limits.iter().fold(builder, |b, (path, rate)| b.limit(path, *rate));
    let builder = match &args.redis {
        None => builder,
        Some(url) => {
            // Budgets are kept per app: the key names its SDKAppID.
            let app = builder.clone().build().map_err(|e| usage(format!("configuration: {e}")))?.sdkappid();
            let limiter = tim_runtime::RedisRateLimiter::new(url, &app.to_string())
                .map_err(|e| usage(format!("--redis: {e}")))?
                .fallback_share(args.redis_fallback_share);
            builder.rate_limiter(limiter)
        }
    };
    builder.build().map_err(|e| usage(format!("configuration: {e}")))
}

/// Every input line checked with the template: the items to send, and
/// those refused already (with their line). A template the endpoint refuses
/// is bad usage: nothing is sent.
fn check_items(
    entry: &EndpointEntry,
    batch: &BatchJson,
    template: &Value,
    input: &[u8],
) -> Result<(Vec<Item>, Vec<Failed>), Failure> {
    let field = batch.meta.field;
    let mut items = Vec::new();
    let mut failed = Vec::new();
    for (i, line) in input.split(|b| *b == b'\n').enumerate() {
        let line_no = i + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let value: Value = match serde_json::from_slice(line) {
            Ok(v) => v,
            Err(e) => {
                let text = String::from_utf8_lossy(line).into_owned();
                failed.push(Failed {
                    line: line_no,
                    item: Value::String(text),
                    code: None,
                    info: format!("line {line_no}: not JSON: {e}"),
                });
                continue;
            }
        };
        match (batch.check)(template, &value) {
            Ok(_key) => items.push(Item { line: line_no, value }),
            Err(e) => match e.path.strip_prefix(&format!("{field}[0]")) {
                Some(rest) => failed.push(Failed {
                    line: line_no,
                    item: value,
                    code: None,
                    info: format!("line {line_no}: invalid `{field}[]{rest}`: {}", e.reason),
                }),
                None => {
                    let at = if e.path.is_empty() { String::new() } else { format!("field `{}`: ", e.path) };
                    return Err(usage(format!(
                        "--data rejected for {}, nothing was sent: {at}{}\nhint: a valid body looks like {}",
                        entry.meta.path, e.reason, entry.meta.sample_request
                    )));
                }
            },
        }
    }
    Ok((items, failed))
}

fn write_report(path: &Path, failed: &[Failed]) -> Result<(), Failure> {
    let mut text = String::new();
    for f in failed {
        let line = json!({"line": f.line, "item": f.item, "code": f.code, "info": f.info});
        let _ = writeln!(text, "{line}");
    }
    // Written beside and renamed, so a reader never sees half a report.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| crate::failed(format!("cannot write --report {}: {e}", path.display())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The journal: a header naming the job, then a line when a part is sent
/// and one when its outcome is known. Appended and flushed line by line, so
/// a stop at any moment (kill -9 included) leaves every confirmed part in it.
struct Journal {
    file: File,
    path: PathBuf,
    /// Confirmed parts and their failed items (line, code, info).
    done: BTreeMap<usize, Vec<(usize, Option<i64>, String)>>,
    /// Parts sent but not confirmed when the last run stopped.
    in_flight: Vec<usize>,
}

impl Journal {
    fn open(
        path: &Path,
        endpoint: &str,
        digest: &str,
        part_size: usize,
        parts: usize,
    ) -> Result<Self, Failure> {
        let header =
            json!({"tim_bulk": 1, "path": endpoint, "input": digest, "part_size": part_size, "parts": parts});
        let mut done = BTreeMap::new();
        let mut sending = Vec::new();
        let existing = match File::open(path) {
            Ok(f) => Some(f),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(usage(format!("cannot read --journal {}: {e}", path.display()))),
        };
        if let Some(f) = existing {
            let bad = |n: usize, why: &str| {
                usage(format!(
                    "--journal {} line {n}: {why}; it is left as it is (use another --journal to start over)",
                    path.display()
                ))
            };
            let lines: Vec<String> = BufReader::new(f)
                .lines()
                .collect::<Result<_, _>>()
                .map_err(|e| usage(format!("cannot read --journal {}: {e}", path.display())))?;
            let count = lines.len();
            for (i, line) in lines.iter().enumerate() {
                let n = i + 1;
                let Ok(v) = serde_json::from_str::<Value>(line) else {
                    // A stop in the middle of a write leaves half a last line: that entry never happened.
                    if n == count {
                        break;
                    }
                    return Err(bad(n, "not a journal entry"));
                };
                if n == 1 {
                    if v != header {
                        return Err(usage(format!(
                            "--journal {} belongs to another job (endpoint, input, --data or part size differ); \
                             it is left as it is (use another --journal to start over)",
                            path.display()
                        )));
                    }
                    continue;
                }
                if let Some(k) = v.get("sending").and_then(Value::as_u64) {
                    sending.push(k as usize);
                } else if let Some(k) = v.get("done").and_then(Value::as_u64) {
                    let failed = v["failed"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .map(|f| {
                                    (
                                        f["line"].as_u64().unwrap_or(0) as usize,
                                        f["code"].as_i64(),
                                        f["info"].as_str().unwrap_or_default().to_owned(),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    done.insert(k as usize, failed);
                } else {
                    return Err(bad(n, "not a journal entry"));
                }
            }
        }
        let in_flight = sending.into_iter().filter(|k| !done.contains_key(k)).collect();
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| usage(format!("cannot open --journal {}: {e}", path.display())))?;
        let fresh = file.metadata().map(|m| m.len() == 0).unwrap_or(true);
        let mut journal = Journal {
            file: file.try_clone().map_err(|e| failed(e.to_string()))?,
            path: path.to_owned(),
            done,
            in_flight,
        };
        if fresh {
            writeln!(file, "{header}")
                .and_then(|()| file.sync_data())
                .map_err(|e| journal.write_error(&e))?;
        } else {
            journal.terminate_partial_line()?;
        }
        Ok(journal)
    }

    /// After a stop mid-write the file ends without a newline: end that line
    /// so the next entry starts on its own (the half line is then skipped).
    fn terminate_partial_line(&mut self) -> Result<(), Failure> {
        let bytes = std::fs::read(&self.path).map_err(|e| self.write_error(&e))?;
        if bytes.last().is_some_and(|b| *b != b'\n') {
            self.file.write_all(b"\n").map_err(|e| self.write_error(&e))?;
        }
        Ok(())
    }

    fn write_error(&self, e: &std::io::Error) -> Failure {
        failed(format!("cannot write --journal {}: {e}", self.path.display()))
    }

    fn append(&mut self, entry: &Value, sync: bool) -> Result<(), Failure> {
        let line = format!("{entry}\n");
        self.file.write_all(line.as_bytes()).map_err(|e| self.write_error(&e))?;
        if sync {
            self.file.sync_data().map_err(|e| self.write_error(&e))?;
        }
        Ok(())
    }

    fn sending(&mut self, part: usize) -> Result<(), Failure> {
        self.append(&json!({"sending": part}), false)
    }

    fn done(&mut self, part: usize, failed: &[Failed]) -> Result<(), Failure> {
        let failed: Vec<Value> =
            failed.iter().map(|f| json!({"line": f.line, "code": f.code, "info": f.info})).collect();
        self.append(&json!({"done": part, "failed": failed}), true)
    }

    /// The items that failed in parts confirmed by an earlier run.
    fn failed_before(&self, parts: &[&[Item]]) -> Vec<Failed> {
        let mut out = Vec::new();
        for (k, failures) in &self.done {
            let part = parts.get(*k).copied().unwrap_or(&[]);
            for (line, code, info) in failures {
                let item =
                    part.iter().find(|i| i.line == *line).map(|i| i.value.clone()).unwrap_or(Value::Null);
                out.push(Failed { line: *line, item, code: *code, info: info.clone() });
            }
        }
        out
    }
}

/// A progress bar on a terminal, a plain line every few seconds otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    plain: Option<std::sync::Mutex<PlainProgress>>,
}

struct PlainProgress {
    total: u64,
    done: u64,
    started: Instant,
    last: Instant,
    at_start: u64,
}

impl Progress {
    fn new(total: u64, done: u64) -> Self {
        if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(total);
            let style =
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} items  {per_sec}  ETA {eta}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_position(done);
            Self { bar: Some(bar), plain: None }
        } else {
            let now = Instant::now();
            Self {
                bar: None,
                plain: Some(std::sync::Mutex::new(PlainProgress {
                    total,
                    done,
                    started: now,
                    last: now,
                    at_start: done,
                })),
            }
        }
    }

    fn advance(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
        if let Some(p) = &self.plain {
            let mut p = p.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            p.done += n;
            if p.last.elapsed() >= Duration::from_secs(5) {
                p.last = Instant::now();
                let secs = p.started.elapsed().as_secs_f64();
                let rate = (p.done - p.at_start) as f64 / secs.max(0.001);
                let eta = (p.total - p.done.min(p.total)) as f64 / rate.max(0.001);
                eprintln!("tim bulk: {}/{} items, {rate:.1} items/s, ETA {eta:.0} s", p.done, p.total);
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
