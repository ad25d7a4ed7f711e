//! `tim`: call Tencent Cloud IM REST endpoints, make and check UserSigs,
//! receive and send callbacks, and run the spec-driven mock server.
//!
//! Exit codes: 0 success, 1 the call or check failed (API error, transport
//! error, invalid UserSig), 2 bad usage or input (missing configuration,
//! unknown endpoint, request body that does not fit the endpoint).

mod bulk;
mod callback;
mod credentials;
mod describe;
mod mock;

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde_json::{json, Value};
use tim_runtime::api::ENDPOINTS;
use tim_runtime::dynamic::{self, EndpointEntry, RequestError};
use tim_runtime::{Client, ConfigError, DynApiError, Error, ErrorRole, Setting, Settings, UserSigKey};

/// Command-line interface of the Tencent Cloud IM (Chat) REST API.
#[derive(Parser)]
#[command(name = "tim", version, about, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Command,
}

/// App credentials and where to send requests, as given before the
/// subcommand (unlisted; each subcommand lists the flags it uses, see
/// `credentials`). Each flag falls back to its `TIM_*` variable, read by
/// `tim_runtime::Settings` (the same reader as `Client::from_env`).
///
/// Deliberately not `Debug`: it holds the secret key.
#[derive(Args, Clone)]
struct Config {
    #[arg(long, hide = true)]
    sdkappid: Option<String>,
    #[arg(long, hide = true)]
    identifier: Option<String>,
    #[arg(long, hide = true)]
    secret_key: Option<String>,
    #[arg(long, hide = true)]
    region: Option<String>,
    #[arg(long, hide = true)]
    base_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Call an endpoint with a JSON body and print the JSON reply.
    Call(CallArgs),
    /// Send a list of any length to a batch endpoint, from a JSON Lines file.
    ///
    /// Split into parts, paced to the quota, resumable, with a report of
    /// failed items. Exit 0 when every item succeeded, 1 when some failed.
    Bulk(bulk::BulkArgs),
    /// Generate or verify UserSigs (needs only the SDKAppID and secret key).
    #[command(subcommand)]
    Usersig(UsersigCommand),
    /// List the endpoints this build knows, or those matching a query.
    Endpoints {
        /// Words that must all appear in the path or the title (any case),
        /// e.g. `tim endpoints group member`.
        query: Vec<String>,
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Explain an endpoint: limits, group types, request and reply fields,
    /// error codes and a sample request, from its spec.
    Describe {
        /// Endpoint path, e.g. v4/openim/sendmsg (`v4/` and a leading `/` optional).
        path: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Callbacks (webhooks): list them, receive them, send signed ones.
    #[command(subcommand)]
    Callback(callback::CallbackCommand),
    /// Run the emulator (a stateful mock of the service) on 127.0.0.1
    /// until Ctrl-C.
    Mock(mock::MockArgs),
}

#[derive(Args)]
struct CallArgs {
    /// Endpoint path, e.g. v4/openim/admin_set_msg_read (leading `/` optional).
    path: String,
    #[command(flatten)]
    app: credentials::AppFlags,
    #[command(flatten)]
    target: credentials::TargetFlags,
    /// Request body: JSON text, `@file.json`, or `@-` for standard input.
    #[arg(long, short = 'd', default_value = "{}")]
    data: String,
    /// Seconds allowed for each attempt.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_secs)]
    timeout: Duration,
    /// Seconds allowed for the whole call, retries and waits for the rate
    /// limit included (with --paginate: for each page).
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    deadline: Option<Duration>,
    /// Use this rate instead of the documented quota (raised on paid plans):
    /// `PATH=N/s` or `PATH=N/min`; repeatable.
    #[arg(long = "limit", value_name = "PATH=RATE", value_parser = mock::parse_limit)]
    limits: Vec<(String, tim_runtime::RateLimit)>,
    /// Do not wait to stay within the endpoint's documented rate limit.
    #[arg(long)]
    no_rate_limit: bool,
    /// Send fields the spec does not know as given (the service ignores
    /// them) instead of refusing the body; known fields are still checked.
    #[arg(long)]
    allow_unknown: bool,
    /// Attempts for idempotent endpoints, counting the first.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    max_attempts: u32,
    /// For list endpoints: follow the paging cursor to the end and print one
    /// JSON line per item (the body is the first page's request).
    #[arg(long, conflicts_with = "allow_unknown")]
    paginate: bool,
    /// With --paginate: stop after N items.
    #[arg(long, value_name = "N", requires = "paginate")]
    max_items: Option<usize>,
    /// With --paginate: items per page, for endpoints whose page size the caller sets.
    #[arg(long, value_name = "N", requires = "paginate", value_parser = clap::value_parser!(u32).range(1..))]
    page_size: Option<u32>,
}

#[derive(Subcommand)]
enum UsersigCommand {
    /// Print a new UserSig for a user.
    Gen {
        /// UserID the sig is for.
        #[arg(long)]
        user: String,
        /// Lifetime in seconds.
        #[arg(long, value_name = "SECS", default_value_t = 86_400, value_parser = clap::value_parser!(u64).range(1..))]
        expire: u64,
        /// Opaque user data to embed in the sig.
        #[arg(long)]
        userbuf: Option<String>,
        #[command(flatten)]
        key: credentials::KeyFlags,
    },
    /// Check a UserSig; exit 0 only if it is valid for the user, app and key and not expired.
    Verify {
        /// UserID the sig must be for.
        #[arg(long)]
        user: String,
        /// The UserSig, or `-` to read it from standard input.
        sig: String,
        #[command(flatten)]
        key: credentials::KeyFlags,
    },
}

/// Why a command failed, with its exit code.
enum Failure {
    /// Bad usage or input; nothing was sent. Exit code 2.
    Usage(String),
    /// The operation itself failed. Exit code 1.
    Failed(String),
    /// Failed, and what failed was already printed. Exit code 1.
    Quiet,
}

fn usage(msg: impl Into<String>) -> Failure {
    Failure::Usage(msg.into())
}

fn failed(msg: impl Into<String>) -> Failure {
    Failure::Failed(msg.into())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Call(args) => call(&cli.config.with_app(&args.app).with_target(&args.target), args),
        Command::Bulk(args) => {
            let config = cli.config.with_app(&args.app).with_target(&args.target);
            bulk::bulk(&config, args)
        }
        Command::Usersig(cmd) => {
            let config = match &cmd {
                UsersigCommand::Gen { key, .. } | UsersigCommand::Verify { key, .. } => {
                    cli.config.with_key(key)
                }
            };
            usersig(&config, cmd)
        }
        Command::Endpoints { query, json } => endpoints(&query, json),
        Command::Describe { path, json } => describe_endpoint(&path, json),
        Command::Callback(cmd) => callback::run(&cli.config, cmd),
        Command::Mock(args) => mock::run(&cli.config.with_app(&args.app), args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            eprintln!("tim: error: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Failed(msg)) => {
            eprintln!("tim: error: {msg}");
            ExitCode::from(1)
        }
        Err(Failure::Quiet) => ExitCode::from(1),
    }
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    let secs: f64 = s.trim().parse().map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if !secs.is_finite() || secs <= 0.0 {
        return Err("must be positive".into());
    }
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

/// Writes to stdout; a closed pipe (e.g. `| head`) ends output quietly.
fn print_out(text: &str) -> Result<(), Failure> {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(failed(format!("cannot write to standard output: {e}")))
        }
        _ => Ok(()),
    }
}

impl Config {
    /// Flags, with unset (or blank) ones taken from the environment.
    fn settings(&self) -> Settings {
        let flag = |var: &str| match Setting::ALL.into_iter().find(|s| s.var() == var)? {
            Setting::SdkAppId => self.sdkappid.clone(),
            Setting::Identifier => self.identifier.clone(),
            Setting::SecretKey => self.secret_key.clone(),
            Setting::Region => self.region.clone(),
            Setting::BaseUrl => self.base_url.clone(),
            _ => None,
        };
        Settings::from_lookup(flag).or(Settings::from_env())
    }

    /// The SDKAppID and secret key, or a usage error naming what is missing.
    fn key(&self) -> Result<UserSigKey, Failure> {
        self.settings().key().map_err(config_usage)
    }

    /// A client for `tim call`, or a usage error naming every missing setting.
    fn client(&self, args: &CallArgs) -> Result<Client, Failure> {
        let builder = self
            .settings()
            .client_builder(true)
            .map_err(config_usage)?
            .timeout(args.timeout)
            .max_attempts(args.max_attempts)
            .rate_limit(!args.no_rate_limit);
        let builder = match args.deadline {
            Some(d) => builder.deadline(d),
            None => builder,
        };
        let builder = args.limits.iter().fold(builder, |b, (path, rate)| b.limit(path, *rate));
        builder.build().map_err(|e| usage(format!("configuration: {e}")))
    }
}

/// A configuration problem, worded with the flag names users type.
fn config_usage(e: ConfigError) -> Failure {
    match e {
        ConfigError::Env { var, reason } => {
            let setting = [
                Setting::SdkAppId,
                Setting::Identifier,
                Setting::SecretKey,
                Setting::Region,
                Setting::BaseUrl,
            ]
            .into_iter()
            .find(|s| s.var() == var);
            match setting {
                Some(s) => usage(format!("{s}: {reason}")),
                None => usage(format!("{var}: {reason}")),
            }
        }
        other => usage(other.to_string()),
    }
}

/// The endpoint whose path, or else whose last part, is nearest to `word` by
/// edit distance, when close enough to be a likely typo.
fn nearest_endpoint(word: &str) -> Option<&'static str> {
    use tim_runtime::endpoint::check::nearest;
    let short = |p: &'static str| p.trim_start_matches("v4/");
    let paths = || ENDPOINTS.iter().map(|e| e.meta.path);
    let last = word.rsplit('/').next().unwrap_or(word);
    nearest(word.trim_start_matches("v4/"), paths().map(short))
        .and_then(|n| paths().find(|p| short(p) == n))
        .or_else(|| {
            let part = nearest(last, paths().filter_map(|p| p.rsplit('/').next()))?;
            paths().find(|p| p.rsplit('/').next() == Some(part))
        })
}

fn unknown_endpoint(path: &str) -> Failure {
    let wanted = path.trim_matches('/');
    let last = wanted.rsplit('/').next().unwrap_or(wanted);
    let similar: Vec<&str> = ENDPOINTS
        .iter()
        .map(|e| e.meta.path)
        .filter(|p| !last.is_empty() && (p.ends_with(&format!("/{last}")) || p.contains(wanted)))
        .collect();
    let mut similar = similar;
    if similar.is_empty() {
        similar.extend(nearest_endpoint(wanted));
    }
    let mut msg = format!("unknown endpoint `{path}`");
    if !similar.is_empty() {
        let _ = write!(msg, "; did you mean {}?", similar.join(" or "));
    }
    msg.push_str("\nhint: run `tim endpoints` to list the known endpoints");
    usage(msg)
}

fn read_body(data: &str) -> Result<Vec<u8>, Failure> {
    match data.strip_prefix('@') {
        Some("-") => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| usage(format!("cannot read request body from standard input: {e}")))?;
            Ok(buf)
        }
        Some(file) => std::fs::read(file)
            .map_err(|e| usage(format!("cannot read request body from file `{file}`: {e}"))),
        None => Ok(data.as_bytes().to_vec()),
    }
}

fn describe_request_error(entry: &EndpointEntry, e: &RequestError) -> String {
    let mut msg = format!("request body for {} rejected, nothing was sent: ", entry.meta.path);
    if e.path.is_empty() {
        let _ = write!(msg, "{}", e.reason);
    } else {
        let _ = write!(msg, "field `{}`: {}", e.path, e.reason);
    }
    let _ = write!(msg, "\nhint: a valid body looks like {}", entry.meta.sample_request);
    if e.reason.starts_with("unknown field") {
        msg.push_str(
            "\nhint: the service ignores fields it does not know; --allow-unknown sends them as given",
        );
    }
    msg
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| failed(format!("cannot start the async runtime: {e}")))
}

fn call(config: &Config, args: CallArgs) -> Result<(), Failure> {
    let entry =
        dynamic::find(ENDPOINTS, &full_path(&args.path)).ok_or_else(|| unknown_endpoint(&args.path))?;
    let raw = read_body(&args.data)?;
    // Keys the spec does not know at any depth (inside union contents and
    // shared types too), named by their full path.
    let unknown = serde_json::from_slice::<Value>(&raw)
        .map(|body| dynamic::unknown_keys(&body, entry.request_fields))
        .unwrap_or_default();
    if let (false, Some(first)) = (args.allow_unknown, unknown.first()) {
        return Err(usage(describe_request_error(entry, first)));
    }
    if args.paginate {
        return paginate(config, entry, &raw, &args);
    }
    // Parsed, validated and serialized once; these exact bytes are sent.
    let prepared = if args.allow_unknown {
        let lenient = entry.prepare_lenient(&raw).map_err(|e| usage(describe_request_error(entry, &e)))?;
        let mut ignored: Vec<String> = unknown.into_iter().map(|e| e.path).collect();
        for f in &lenient.ignored {
            if !ignored.contains(f) {
                ignored.push(f.clone());
            }
        }
        if !ignored.is_empty() {
            eprintln!(
                "tim: warning: fields {} are not in the spec of {}; sent as given (--allow-unknown)",
                ignored.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", "),
                entry.meta.path
            );
        }
        lenient.value
    } else {
        (entry.prepare)(&raw).map_err(|e| usage(describe_request_error(entry, &e)))?
    };
    let client = config.client(&args)?;
    let rt = runtime()?;
    let result = match args.deadline {
        None => rt.block_on(prepared.send(&client)),
        Some(deadline) => {
            match rt.block_on(async { tokio::time::timeout(deadline, prepared.send(&client)).await }) {
                Ok(result) => result,
                Err(_) => {
                    return Err(failed(format!(
                        "{}: no reply within --deadline {}s (retries and rate-limit waits included)",
                        entry.meta.path,
                        deadline.as_secs_f64()
                    )))
                }
            }
        }
    };
    match result {
        Ok(reply) => {
            let text = serde_json::to_string_pretty(&reply)
                .map_err(|e| failed(format!("cannot print reply: {e}")))?;
            print_out(&format!("{text}\n"))
        }
        Err(e) => Err(call_failure(entry, &args, e)),
    }
}

/// `tim call --paginate`: one JSON line per item, page after page.
fn paginate(config: &Config, entry: &EndpointEntry, raw: &[u8], args: &CallArgs) -> Result<(), Failure> {
    if entry.paginate_json.is_none() {
        let paged: Vec<&str> =
            ENDPOINTS.iter().filter(|e| e.paginate_json.is_some()).map(|e| e.meta.path).collect();
        return Err(usage(format!(
            "{} does not page; --paginate works with: {}",
            entry.meta.path,
            paged.join(", ")
        )));
    }
    let client = config.client(args)?;
    let options = dynamic::PageOptions::new().page_size(args.page_size).max_items(args.max_items);
    let rt = runtime()?;
    let mut items = match entry.paginate(&client, raw, options) {
        Some(Ok(items)) => items,
        Some(Err(e)) => return Err(usage(describe_request_error(entry, &e))),
        None => return Err(usage(format!("{} does not page", entry.meta.path))),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    loop {
        let next = rt.block_on(items.next());
        match next {
            None => break,
            Some(Ok(item)) => {
                let line =
                    serde_json::to_string(&item).map_err(|e| failed(format!("cannot print item: {e}")))?;
                if writeln!(out, "{line}").is_err() {
                    // The reader went away (`| head`): stop listing quietly.
                    return Ok(());
                }
            }
            Some(Err(e)) => {
                let _ = out.flush();
                return Err(call_failure(entry, args, e));
            }
        }
    }
    out.flush().or(Ok(()))
}

fn call_failure(entry: &EndpointEntry, args: &CallArgs, e: Error<DynApiError>) -> Failure {
    let path = entry.meta.path;
    match e {
        Error::Api(api) => {
            let meta = api.meta.or_else(|| entry.meta.error(api.code));
            let mut msg = format!("{path} failed with an API error\n");
            let _ = writeln!(msg, "  ErrorCode: {}", api.code);
            let _ = writeln!(msg, "  ErrorInfo: {}", api.info);
            match meta {
                Some(m) => {
                    let retry = if m.retryable { ", retryable" } else { "" };
                    let _ = write!(msg, "  Meaning:   {} ({}{retry})", m.meaning, m.name);
                }
                None => msg.push_str("  Meaning:   not documented in the spec for this endpoint"),
            }
            if meta.and_then(|m| m.role).is_some_and(ErrorRole::is_usersig_rejection) {
                msg.push_str("\nhint: the server rejected the UserSig; check --sdkappid, --identifier and --secret-key");
            }
            failed(msg)
        }
        Error::InvalidRequest(v) => {
            let e = RequestError::from(v);
            usage(describe_request_error(entry, &e))
        }
        Error::Timeout { attempts, elapsed } => failed(format!(
            "{path}: request timed out after {attempts} attempt{} and {:.1} s in all (--timeout {}s per attempt)",
            if attempts == 1 { "" } else { "s" },
            elapsed.as_secs_f64(),
            args.timeout.as_secs_f64()
        )),
        Error::Decode { path: at, message, body_snippet } => {
            let mut msg = format!("{path}: cannot decode the reply at `{at}`: {message}");
            if !body_snippet.is_empty() {
                let _ = write!(msg, "\n  reply starts with: {body_snippet}");
            }
            failed(msg)
        }
        other => failed(format!("{path}: {other}")),
    }
}

fn usersig(config: &Config, cmd: UsersigCommand) -> Result<(), Failure> {
    let key = config.key()?;
    match cmd {
        UsersigCommand::Gen { user, expire, userbuf, .. } => {
            if user.is_empty() {
                return Err(usage("--user must not be empty"));
            }
            let expire = Duration::from_secs(expire);
            let sig = match userbuf {
                Some(buf) => key.gen_with_userbuf(&user, expire, buf.as_bytes()),
                None => key.gen(&user, expire),
            };
            print_out(&format!("{sig}\n"))
        }
        UsersigCommand::Verify { user, sig, .. } => {
            let sig = if sig == "-" {
                let mut buf = String::new();
                std::io::stdin()
                    .read_to_string(&mut buf)
                    .map_err(|e| usage(format!("cannot read the UserSig from standard input: {e}")))?;
                buf.trim().to_owned()
            } else {
                sig
            };
            let v = key.verify(&user, &sig).map_err(|e| failed(format!("invalid UserSig: {e}")))?;
            let mut out = format!("valid UserSig for `{}` (SDKAppID {})\n", v.identifier, v.sdkappid);
            let _ = writeln!(out, "issued:  {} ({})", v.time, utc(v.time));
            let _ = writeln!(
                out,
                "expires: {} ({}), lifetime {} s",
                v.expires_at(),
                utc(v.expires_at()),
                v.expire
            );
            if let Some(buf) = &v.userbuf {
                let _ = writeln!(out, "userbuf: {:?}", String::from_utf8_lossy(buf));
            }
            print_out(&out)
        }
    }
}

/// Formats Unix seconds as an ISO 8601 UTC time.
fn utc(unix: u64) -> String {
    let days = i64::try_from(unix / 86_400).unwrap_or(i64::MAX / 2);
    let secs = unix % 86_400;
    // Civil-from-days (H. Hinnant), valid for the proleptic Gregorian calendar.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// A path as the endpoint table names it: `v4/` and no leading `/`.
fn full_path(path: &str) -> String {
    let trimmed = path.trim_matches('/');
    if trimmed.starts_with("v4/") {
        trimmed.to_owned()
    } else {
        format!("v4/{trimmed}")
    }
}

fn describe_endpoint(path: &str, as_json: bool) -> Result<(), Failure> {
    let entry = dynamic::find(ENDPOINTS, &full_path(path)).ok_or_else(|| unknown_endpoint(path))?;
    if as_json {
        let text = serde_json::to_string_pretty(&describe::json(entry)).map_err(|e| failed(e.to_string()))?;
        return print_out(&format!("{text}\n"));
    }
    print_out(&describe::text(entry))
}

/// Whether every word of `query` appears in the endpoint's path or title.
fn matches(meta: &tim_runtime::EndpointMeta, query: &[String]) -> bool {
    let (path, title) = (meta.path.to_lowercase(), meta.title.to_lowercase());
    query.iter().map(|w| w.to_lowercase()).all(|w| path.contains(&w) || title.contains(&w))
}

fn endpoints(query: &[String], as_json: bool) -> Result<(), Failure> {
    let selected: Vec<&EndpointEntry> = ENDPOINTS.iter().filter(|e| matches(e.meta, query)).collect();
    if selected.is_empty() {
        let words = query.join(" ");
        let near = nearest_endpoint(&words).map(|p| format!("; did you mean `{p}`?")).unwrap_or_default();
        return Err(failed(format!("no endpoint matches {words:?}{near}")));
    }
    if as_json {
        let list: Vec<Value> = selected
            .iter()
            .map(|e| {
                let m = e.meta;
                json!({
                    "path": m.path,
                    "title": m.title,
                    "rate_limit": { "calls": m.rate_limit.calls, "per_secs": m.rate_limit.per.as_secs() },
                    "idempotent": m.idempotent,
                    "partial": m.partial,
                })
            })
            .collect();
        let text = serde_json::to_string_pretty(&list).map_err(|e| failed(e.to_string()))?;
        return print_out(&format!("{text}\n"));
    }
    let rows: Vec<[String; 4]> = selected
        .iter()
        .map(|e| {
            let m = e.meta;
            let idempotent = if m.idempotent { "yes" } else { "no" };
            let partial = if m.partial.is_some() { " (partly documented)" } else { "" };
            [
                m.path.to_owned(),
                m.rate_limit.to_string(),
                idempotent.to_owned(),
                format!("{}{partial}", m.title),
            ]
        })
        .collect();
    let header = ["PATH", "RATE LIMIT", "IDEMPOTENT", "TITLE"].map(String::from);
    let mut widths = [0usize; 3];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for [path, rate, idem, title] in std::iter::once(&header).chain(&rows) {
        let _ = writeln!(
            out,
            "{path:<w0$}  {rate:<w1$}  {idem:<w2$}  {title}",
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
    }
    print_out(&out)
}
