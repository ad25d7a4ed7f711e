//! `tim mock`: the emulator (a stateful stand-in for the service), with its
//! state optionally kept in a file across runs.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::time::Duration;

use clap::Args;
use tim_emulator::world::{self, World};
use tim_emulator::{
    state_file, AppliedDecision, CallbackResponse, EmittedCallback, Fault, MockConfig, MockServer, Outcome,
    RecordedRequest, DEFAULT_LOG_MAX_BYTES, DEFAULT_MAX_CONNECTIONS,
};
use tim_runtime::RateLimit;
use tokio::task::JoinHandle;

use crate::{config_usage, failed, print_out, usage, Config, Failure};

/// SDKAppID the mock accepts when none is configured.
pub(crate) const MOCK_SDKAPPID: u64 = 1_400_000_000;
/// Admin account the mock accepts when none is configured.
pub(crate) const MOCK_IDENTIFIER: &str = "administrator";
/// Secret key the mock accepts when none is configured (a public demo value).
pub(crate) const MOCK_SECRET_KEY: &str = "tim-mock-demo-secret-key-0123456789abcdef";

/// Log lines waiting for stderr; past this, lines are dropped (and counted)
/// rather than slowing the server when nobody reads stderr.
const LOG_QUEUE: usize = 4096;

/// Options of `tim mock`.
#[derive(Args)]
#[command(after_long_help = stateful_help())]
pub(crate) struct MockArgs {
    /// The app the emulator serves: requests must be signed for it (each
    /// has a built-in default).
    #[command(flatten)]
    pub(crate) app: crate::credentials::AppFlags,
    /// Address to listen on. On a loopback address (the default) the control
    /// API under /__tim/ needs no credentials; on any other it needs the
    /// admin's UserSig query parameters, as REST calls do.
    #[arg(long, value_name = "ADDR", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// Port to listen on (default: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Keep the state in this file: loaded on start when it exists (anything
    /// that is not a state file of ours is an error, and the file is left as
    /// it is), written atomically on Ctrl-C, SIGTERM and SIGHUP (which saves
    /// and keeps serving) and every --save-every seconds.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Start from the accounts, groups, friends... of this file (the format
    /// --state writes), when no --state file exists yet.
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,
    /// How often the --state file is written, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10, requires = "state")]
    save_every: u64,
    /// Do not enforce the documented per-endpoint rate limits.
    #[arg(long)]
    no_rate_limit: bool,
    /// Keep no state: every valid request gets the spec's sample reply.
    #[arg(long, conflicts_with_all = ["state", "seed"])]
    stateless: bool,
    /// Send the callbacks the REST calls trigger to this URL (https, or
    /// http for loopback), as the real service does.
    #[arg(long, value_name = "URL")]
    callback_url: Option<String>,
    /// Callback token to sign them with [or TIM_CALLBACK_TOKEN]; without
    /// one they are sent unsigned.
    #[arg(long, value_name = "TOKEN", requires = "callback_url")]
    callback_token: Option<String>,
    /// Bytes the request log and the callback log may each keep for
    /// /__tim/requests and /__tim/callbacks; the oldest entries go first.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_LOG_MAX_BYTES)]
    log_max_bytes: usize,
    /// Connections served at once; more wait in the listen queue.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    max_connections: usize,
    /// Write request bodies in the log on stderr (off by default: they can
    /// hold users' messages).
    #[arg(long)]
    log_bodies: bool,
    /// Raise (or lower) an endpoint's quota, as a paid plan does:
    /// PATH=RATE, RATE as N/s or N/min, in the unit the spec counts
    /// (recipients per minute for v4/openim/batchsendmsg). Repeatable.
    #[arg(long = "limit", value_name = "PATH=RATE", value_parser = parse_limit)]
    limits: Vec<(String, RateLimit)>,
}

/// `v4/openim/batchsendmsg=600/min`: a known endpoint and a rate.
pub(crate) fn parse_limit(text: &str) -> Result<(String, RateLimit), String> {
    let (path, rate) =
        text.split_once('=').ok_or("expected PATH=RATE, e.g. v4/openim/batchsendmsg=600/min")?;
    let path = path.trim().trim_start_matches('/');
    let path = if path.starts_with("v4/") { path.to_owned() } else { format!("v4/{path}") };
    if tim_runtime::dynamic::find(tim_runtime::api::ENDPOINTS, &path).is_none() {
        return Err(format!("no endpoint {path} (see `tim endpoints`)"));
    }
    let (n, unit) = rate.trim().split_once('/').ok_or("RATE is N/s or N/min, e.g. 600/min")?;
    let calls: u32 =
        n.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| format!("`{n}` is not a positive number"))?;
    let limit = match unit.trim() {
        "s" | "sec" | "second" => RateLimit::per_second(calls),
        "min" | "minute" => RateLimit::per_minute(calls),
        other => return Err(format!("unknown unit `{other}`: use s or min")),
    };
    Ok((path, limit))
}

/// The `--help` text listing which endpoints answer from the state and
/// which are still canned (answered from their spec's sample).
fn stateful_help() -> String {
    let mut paths: Vec<&str> = world::stateful_paths().collect();
    paths.sort_unstable();
    let mut canned: Vec<&str> = tim_runtime::api::ENDPOINTS
        .iter()
        .map(|e| e.meta.path.trim_start_matches("v4/"))
        .filter(|p| !world::is_stateful(p))
        .collect();
    canned.sort_unstable();
    let canned = if canned.is_empty() {
        "Every endpoint answers from the state.".to_owned()
    } else {
        format!(
            "Canned endpoints ({}; no handler yet: the request is checked against its spec and answered \
             with the spec's sample reply, marked \"canned\" in the log):\n  {}",
            canned.len(),
            canned.join("\n  ")
        )
    };
    format!(
        "Signals: Ctrl-C (SIGINT) and SIGTERM save the --state file and exit 0; SIGHUP saves it \
         and keeps serving.\n\n\
         Inspector page: /__tim/ui (accounts, conversations, groups, friends, callbacks and \
         requests, live; send messages, create accounts, reset, download and load the state).\n\n\
         Control API (no credentials on loopback): POST /__tim/reset, GET and PUT /__tim/state, \
         GET /__tim/requests, GET /__tim/callbacks, GET /__tim/version, GET /__tim/view/....\n\n\
         Endpoints answered from the emulated state ({}):\n  {}\n\n{canned}",
        paths.len(),
        paths.join("\n  ")
    )
}

/// The state to start from: the --state file when it exists, else the
/// --seed file, else an empty app. A file that cannot be read as a state
/// file is a usage error (exit 2), and nothing is written to it.
fn initial_state(args: &MockArgs, admin: &str) -> Result<World, Failure> {
    let read_error = |e: state_file::StateFileError| usage(format!("{e}; it was left as it was"));
    if let Some(path) = &args.state {
        if let Some(world) = state_file::load_if_exists(path).map_err(read_error)? {
            return Ok(world);
        }
    }
    match &args.seed {
        Some(seed) => state_file::load(seed).map_err(read_error),
        None => Ok(World::new(admin)),
    }
}

/// Runs `tim mock` until Ctrl-C or SIGTERM.
pub(crate) fn run(config: &Config, args: MockArgs) -> Result<(), Failure> {
    let settings = config.settings();
    let sdkappid = settings.sdkappid().map_err(config_usage)?.unwrap_or(MOCK_SDKAPPID);
    let identifier = settings.identifier.clone().unwrap_or_else(|| MOCK_IDENTIFIER.to_owned());
    let own_key = settings.secret_key.as_deref();
    let secret = own_key.unwrap_or(MOCK_SECRET_KEY);
    let mut mock_config = MockConfig::new(sdkappid, secret, &identifier)
        .log_max_bytes(args.log_max_bytes)
        .max_connections(args.max_connections);
    for (path, rate) in &args.limits {
        mock_config = mock_config.limit(path, *rate);
    }
    if args.stateless {
        mock_config = mock_config.replay();
    } else {
        mock_config = mock_config.state(initial_state(&args, &identifier)?);
    }
    mock_config = mock_config.rate_limits(!args.no_rate_limit);
    if let Some(url) = &args.callback_url {
        let token =
            args.callback_token.clone().filter(|t| !t.trim().is_empty()).or(settings.callback_token.clone());
        mock_config = mock_config.callbacks(url, token.as_deref()).map_err(|e| usage(e.to_string()))?;
    }
    let addr = SocketAddr::from((args.host, args.port));
    // Serving, saving and logging each get a thread, so a slow disk or an
    // unread stderr never holds up a request.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| failed(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let server = MockServer::start_on(mock_config, addr)
            .await
            .map_err(|e| failed(format!("cannot start the mock server on {addr}: {e}")))?;
        let base_url = server.base_url();
        // Never echo a key the user supplied; the built-in one is public.
        let shown_key =
            if own_key.is_some() { "(the key from --secret-key / TIM_SECRET_KEY)" } else { secret };
        let mode = if args.stateless { "stateless mock" } else { "emulator" };
        let control = if server.addr().ip().is_loopback() {
            format!(
                "inspector: {base_url}/__tim/ui\n\
                 control API: {base_url}/__tim/ (reset, state, requests, callbacks)"
            )
        } else {
            format!(
                "inspector: {base_url}/__tim/ui?<the admin's UserSig query parameters>\n\
                 control API: {base_url}/__tim/ (needs the admin's UserSig query parameters off loopback)\n\
                 warning: plain HTTP on a non-loopback address; put it behind TLS outside a test network"
            )
        };
        print_out(&format!(
            "{mode} running; it accepts:\n\
             TIM_BASE_URL={base_url}\n\
             TIM_SDKAPPID={sdkappid}\n\
             TIM_IDENTIFIER={identifier}\n\
             TIM_SECRET_KEY={shown_key}\n\
             {control}\n\
             press Ctrl-C to stop\n"
        ))?;
        let _ = std::io::stdout().flush();
        let logger = Logger::start();
        let result = serve(&server, &args, &logger).await;
        // The state is saved on the way out whatever stopped the loop.
        if let Some(path) = &args.state {
            save(&server, path.clone()).await.map_err(failed)?;
            logger.line(format!("mock: state saved to {}", path.display()));
        }
        logger.line("mock: stopped".to_owned());
        logger.finish();
        result
    })
}

/// Saves a snapshot of the state off the serving threads.
async fn save(server: &MockServer, path: PathBuf) -> Result<(), String> {
    let world = server.snapshot();
    match tokio::task::spawn_blocking(move || state_file::save(&world, &path)).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(e) => Err(format!("the save did not finish: {e}")),
    }
}

/// Why the serving loop stopped.
enum Stop {
    Interrupt,
    Terminate,
}

/// Follows the logs, saves the state, and answers signals until Ctrl-C or
/// SIGTERM.
async fn serve(server: &MockServer, args: &MockArgs, logger: &Logger) -> Result<(), Failure> {
    let mut stop = StopSignal::new()?;
    let mut hangup = Hangup::new()?;
    let (mut seen, mut seen_callbacks) = (0, 0);
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let mut periodic = tokio::time::interval(Duration::from_secs(args.save_every.max(1)));
    periodic.tick().await;
    let mut saving: Option<JoinHandle<()>> = None;
    loop {
        tokio::select! {
            stop = stop.recv() => {
                if let Some(task) = saving.take() {
                    let _ = task.await;
                }
                let why = match stop? { Stop::Interrupt => "interrupted", Stop::Terminate => "terminated" };
                logger.line(format!("mock: {why}"));
                return Ok(());
            }
            _ = hangup.recv() => {
                if let Some(path) = &args.state {
                    if let Some(task) = saving.take() {
                        let _ = task.await;
                    }
                    match save(server, path.clone()).await {
                        Ok(()) => logger.line(format!("mock: SIGHUP: state saved to {}", path.display())),
                        Err(e) => logger.line(format!("mock: SIGHUP: {e}")),
                    }
                } else {
                    logger.line("mock: SIGHUP: no --state file to save".to_owned());
                }
            }
            _ = periodic.tick(), if args.state.is_some() => {
                // One save at a time; a slow one makes the next tick skip.
                if saving.as_ref().is_none_or(JoinHandle::is_finished) {
                    if let Some(path) = args.state.clone() {
                        let world = server.snapshot();
                        let logger = logger.clone();
                        saving = Some(tokio::task::spawn_blocking(move || {
                            // A failed periodic save is reported; the one on exit decides.
                            if let Err(e) = state_file::save(&world, &path) {
                                logger.line(format!("mock: {e}"));
                            }
                        }));
                    }
                }
            }
            _ = tick.tick() => {
                let requests = server.requests_after(seen);
                seen += requests.len();
                for r in &requests {
                    logger.line(request_line(r, args.log_bodies));
                }
                let callbacks = server.callbacks_after(seen_callbacks);
                seen_callbacks += callbacks.len();
                for c in &callbacks {
                    logger.line(callback_line(c));
                }
                // Requests the bounded log let go before they were read.
                let total = server.request_count();
                if total > seen {
                    logger.line(format!("mock: ({} requests not shown)", total - seen));
                    seen = total;
                }
            }
        }
    }
}

/// Ctrl-C and SIGTERM: stop.
struct StopSignal {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

/// SIGHUP: save and keep serving.
struct Hangup {
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
}

#[cfg(unix)]
fn listen(kind: tokio::signal::unix::SignalKind, name: &str) -> Result<tokio::signal::unix::Signal, Failure> {
    tokio::signal::unix::signal(kind).map_err(|e| failed(format!("cannot listen for {name}: {e}")))
}

impl StopSignal {
    fn new() -> Result<Self, Failure> {
        #[cfg(unix)]
        return Ok(Self { term: listen(tokio::signal::unix::SignalKind::terminate(), "SIGTERM")? });
        #[cfg(not(unix))]
        Ok(Self {})
    }

    async fn recv(&mut self) -> Result<Stop, Failure> {
        #[cfg(unix)]
        tokio::select! {
            r = tokio::signal::ctrl_c() => {
                r.map_err(|e| failed(format!("cannot wait for Ctrl-C: {e}")))?;
                Ok(Stop::Interrupt)
            }
            _ = self.term.recv() => Ok(Stop::Terminate),
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await.map_err(|e| failed(format!("cannot wait for Ctrl-C: {e}")))?;
            Ok(Stop::Interrupt)
        }
    }
}

impl Hangup {
    fn new() -> Result<Self, Failure> {
        #[cfg(unix)]
        return Ok(Self { hup: listen(tokio::signal::unix::SignalKind::hangup(), "SIGHUP")? });
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// The next SIGHUP (never, where there is none).
    async fn recv(&mut self) {
        #[cfg(unix)]
        self.hup.recv().await;
        #[cfg(not(unix))]
        std::future::pending::<()>().await;
    }
}

/// Writes log lines to stderr on a thread of its own. When stderr is slow
/// or not read at all, lines are dropped and counted; serving never waits.
#[derive(Clone)]
struct Logger {
    tx: SyncSender<String>,
    dropped: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    writer: std::sync::Arc<std::sync::Mutex<Option<std::thread::JoinHandle<()>>>>,
}

impl Logger {
    fn start() -> Self {
        let (tx, rx) = sync_channel::<String>(LOG_QUEUE);
        let writer = std::thread::spawn(move || {
            let stderr = std::io::stderr();
            for line in rx {
                let mut out = stderr.lock();
                if writeln!(out, "{line}").is_err() {
                    return;
                }
            }
        });
        Self {
            tx,
            dropped: Default::default(),
            writer: std::sync::Arc::new(std::sync::Mutex::new(Some(writer))),
        }
    }

    fn line(&self, line: String) {
        use std::sync::atomic::Ordering;
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            let note = format!("mock: ({dropped} log lines dropped: stderr is not keeping up)");
            if self.tx.try_send(note).is_err() {
                self.dropped.fetch_add(dropped, Ordering::Relaxed);
            }
        }
        match self.tx.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Lets the last lines out, for a short while at most (stderr may be a
    /// pipe nobody reads).
    fn finish(self) {
        let writer = self.writer.lock().ok().and_then(|mut w| w.take());
        drop(self);
        if let Some(w) = writer {
            let deadline = std::time::Instant::now() + Duration::from_millis(500);
            while !w.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// Control characters (a terminal escape, a newline in a path) as escapes,
/// so one request is one line and cannot rewrite the terminal.
fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            let _ = write!(out, "{}", c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// One line for a request: method, path, code, info, latency, and the body
/// when asked. The query is never shown: it holds the UserSig.
fn request_line(r: &RecordedRequest, bodies: bool) -> String {
    let outcome = match &r.outcome {
        Outcome::Replied(0) if r.canned => "OK (canned: the spec's sample reply)".to_owned(),
        Outcome::Replied(0) => "OK".to_owned(),
        Outcome::Replied(code) => format!("{code} {}", r.error_info),
        Outcome::Ignored => "OK (ignored for this group type)".to_owned(),
        Outcome::Fault(Fault::HttpStatus(status)) => format!("scripted fault: HTTP {status}"),
        Outcome::Fault(Fault::ErrorCode(code, info)) => format!("scripted fault: {code} {info}"),
        Outcome::Fault(Fault::Delay(d)) => format!("scripted fault: delayed {d:?}"),
        Outcome::Fault(Fault::TruncatedBody) => "scripted fault: truncated reply".to_owned(),
    };
    let mut line =
        format!("mock: {} /{} -> {} ({:.1} ms)", r.method, r.path, outcome, r.latency.as_secs_f64() * 1000.0);
    if !r.ignored_fields.is_empty() {
        let _ = write!(line, " ignored fields: {}", r.ignored_fields.join(", "));
    }
    if bodies && !r.body.is_empty() {
        let _ = write!(line, " body: {}", String::from_utf8_lossy(&r.body));
    }
    clean(&line)
}

/// One line for a callback: command, the receiver's answer, what the
/// emulator did with it. The query (with its Sign) is not shown.
fn callback_line(c: &EmittedCallback) -> String {
    let answer = match &c.response {
        CallbackResponse::Replied { status, .. } => format!("HTTP {status}"),
        CallbackResponse::Failed(why) => format!("failed: {why}"),
        _ => "?".to_owned(),
    };
    let applied = match &c.applied {
        AppliedDecision::Acknowledged => "acknowledged".to_owned(),
        AppliedDecision::Allowed { decision, modified } if modified.is_empty() => {
            format!("allowed ({decision})")
        }
        AppliedDecision::Allowed { decision, modified } => {
            format!("allowed ({decision}), replaced {}", modified.join(", "))
        }
        AppliedDecision::Denied { decision, caller_error, .. } => {
            format!("denied ({decision}): the caller got {caller_error}")
        }
        AppliedDecision::Dropped { decision } => format!("dropped ({decision}): the caller was told OK"),
        AppliedDecision::Default { reason } => format!("went ahead: {reason}"),
        _ => "?".to_owned(),
    };
    clean(&format!(
        "mock: callback {} -> {answer}, {applied} ({:.1} ms)",
        c.command,
        c.latency.as_secs_f64() * 1000.0
    ))
}

#[cfg(test)]
mod tests {
    use super::{clean, parse_limit};

    #[test]
    fn limits_parse_and_name_what_is_wrong() {
        let (path, rate) = parse_limit("v4/openim/batchsendmsg=600/min").unwrap();
        assert_eq!(
            (path.as_str(), rate),
            ("v4/openim/batchsendmsg", tim_runtime::RateLimit::per_minute(600))
        );
        assert_eq!(parse_limit("/openim/sendmsg=5/s").unwrap().0, "v4/openim/sendmsg");
        assert!(parse_limit("v4/openim/nope=5/s").unwrap_err().contains("no endpoint"));
        assert!(parse_limit("v4/openim/sendmsg=5/h").unwrap_err().contains("unit"));
        assert!(parse_limit("v4/openim/sendmsg=0/s").unwrap_err().contains("positive"));
        assert!(parse_limit("v4/openim/sendmsg").unwrap_err().contains("PATH=RATE"));
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(clean("a\nb\u{1b}[2Jc"), "a\\nb\\u{1b}[2Jc");
        assert_eq!(clean("plain ünïcode"), "plain ünïcode");
    }
}
