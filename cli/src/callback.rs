//! `tim callback`: list the callbacks the specs type, receive them on
//! 127.0.0.1 (verified, printed as JSON lines), and send signed ones as
//! Tencent would, to test an app's receiver.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use clap::{Args, Subcommand};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tim_runtime::api::callbacks::{Callback, CALLBACKS};
use tim_runtime::callback::{
    testing, CallbackEvent, CallbackKind, CallbackReceiver, CallbackReply, CallbackSet, CallbackVerifier,
};
use tim_runtime::transport::{HttpRequest, Transport};
use tim_runtime::HyperTransport;

use crate::{failed, print_out, read_body, runtime, usage, Config, Failure};

/// `tim callback ...`.
#[derive(Subcommand)]
pub(crate) enum CallbackCommand {
    /// List the callbacks this build types: command, kind, title.
    List {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Receive callbacks on 127.0.0.1: verify and acknowledge each, print one
    /// JSON line per accepted callback; refused requests get a 4xx reply and
    /// a reason on standard error.
    Listen(ListenArgs),
    /// Sign a callback body and POST it as Tencent would; print the reply.
    Send(SendArgs),
}

/// The callback token and how to use it.
#[derive(Args)]
pub(crate) struct TokenArgs {
    #[command(flatten)]
    app: crate::credentials::AppIdFlag,
    /// Callback token set in the console (not the secret key) [or
    /// TIM_CALLBACK_TOKEN]. Prefer the variable: a flag is visible to other
    /// users in process listings.
    #[arg(long)]
    token: Option<String>,
    /// Authentication is off in the console: no `Sign`/`RequestTime`.
    #[arg(long, conflicts_with = "token")]
    no_auth: bool,
}

#[derive(Args)]
pub(crate) struct ListenArgs {
    /// Port to listen on (default: any free port; the address is printed on standard error).
    #[arg(long, default_value_t = 0)]
    port: u16,
    #[command(flatten)]
    token: TokenArgs,
    /// Seconds `RequestTime` may be from now, either way.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    tolerance: u64,
}

#[derive(Args)]
pub(crate) struct SendArgs {
    /// The `CallbackCommand`, e.g. C2C.CallbackBeforeSendMsg (see `tim callback list`).
    command: String,
    /// The app's callback URL (https, or http for loopback).
    #[arg(long)]
    url: String,
    /// Body: JSON text, `@file.json`, or `@-` for standard input. `CallbackCommand` is added when absent.
    #[arg(long, short = 'd')]
    data: String,
    /// Send the body as given, without checking it against the payload type.
    #[arg(long)]
    raw: bool,
    #[command(flatten)]
    token: TokenArgs,
    /// `OptPlatform` to send.
    #[arg(long, default_value = "RESTAPI")]
    platform: String,
    /// `ClientIP` to send.
    #[arg(long, default_value = "127.0.0.1")]
    client_ip: String,
    /// Seconds to wait for the reply (Tencent waits 2).
    #[arg(long, value_name = "SECS", default_value = "2", value_parser = crate::parse_secs)]
    timeout: Duration,
}

/// Runs a `tim callback` command.
pub(crate) fn run(config: &Config, cmd: CallbackCommand) -> Result<(), Failure> {
    match cmd {
        CallbackCommand::List { json } => list(json),
        CallbackCommand::Listen(args) => listen(config, args),
        CallbackCommand::Send(args) => send(config, args),
    }
}

fn list(as_json: bool) -> Result<(), Failure> {
    if as_json {
        let rows: Vec<Value> = CALLBACKS
            .iter()
            .map(|m| {
                json!({
                    "command": m.command,
                    "kind": m.kind.as_str(),
                    "title": m.title,
                    "decisions": m.decisions.iter().map(|d| d.name).collect::<Vec<_>>(),
                    "partial": m.partial,
                })
            })
            .collect();
        let text = serde_json::to_string_pretty(&rows).map_err(|e| failed(e.to_string()))?;
        return print_out(&format!("{text}\n"));
    }
    let width = CALLBACKS.iter().map(|m| m.command.len()).max().unwrap_or(0).max("COMMAND".len());
    let mut out = format!("{:<width$}  KIND    TITLE\n", "COMMAND");
    for m in CALLBACKS {
        let partial = if m.partial.is_some() { " (partly documented)" } else { "" };
        let _ = writeln!(out, "{:<width$}  {:<6}  {}{partial}", m.command, m.kind.as_str(), m.title);
    }
    print_out(&out)
}

/// The SDKAppID and verifier settings shared by `listen` and `send`.
fn app_and_token(config: &Config, args: &TokenArgs) -> Result<(u64, Option<String>), Failure> {
    let settings = config.with_appid(&args.app).settings();
    let sdkappid = settings
        .sdkappid()
        .map_err(crate::config_usage)?
        .ok_or_else(|| usage("the SDKAppID is needed: --sdkappid (or TIM_SDKAPPID)"))?;
    if args.no_auth {
        return Ok((sdkappid, None));
    }
    let token = args.token.clone().filter(|t| !t.trim().is_empty()).or(settings.callback_token);
    match token {
        Some(t) => Ok((sdkappid, Some(t))),
        None => Err(usage(
            "the callback token is needed: --token (or TIM_CALLBACK_TOKEN); \
             pass --no-auth if authentication is off in the console",
        )),
    }
}

fn listen(config: &Config, args: ListenArgs) -> Result<(), Failure> {
    let (sdkappid, token) = app_and_token(config, &args.token)?;
    let verifier = match token {
        Some(t) => CallbackVerifier::new(sdkappid, t).map_err(|e| usage(e.to_string()))?,
        None => CallbackVerifier::without_authentication(sdkappid),
    };
    let verifier = verifier.tolerance(Duration::from_secs(args.tolerance));
    let receiver = Arc::new(CallbackReceiver::<Callback>::new(verifier));
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| failed(format!("cannot listen on {addr}: {e}")))?;
        let local = listener.local_addr().map_err(|e| failed(e.to_string()))?;
        eprintln!("tim callback: listening on http://{local}/ for SDKAppID {sdkappid}; press Ctrl-C to stop");
        loop {
            let (stream, _) = tokio::select! {
                r = tokio::signal::ctrl_c() => {
                    r.map_err(|e| failed(format!("cannot wait for Ctrl-C: {e}")))?;
                    return Ok(());
                }
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    // A failed accept (e.g. too many open files) ends one connection, not the receiver.
                    Err(e) => { eprintln!("tim callback: accept failed: {e}"); continue; }
                },
            };
            let receiver = Arc::clone(&receiver);
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let receiver = Arc::clone(&receiver);
                    async move { Ok::<_, Infallible>(receive(&receiver, req).await) }
                });
                // A client that hangs up mid-request is its own problem.
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    })
}

/// One request: verified before the body is read, then parsed, printed and acknowledged.
async fn receive(
    receiver: &CallbackReceiver<Callback>,
    req: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let refuse = |r: tim_runtime::callback::CallbackRejection| {
        eprintln!("tim callback: refused ({}): {r}", r.status().as_u16());
        into_hyper(r.to_response())
    };
    let event = match receiver.check_head(&parts) {
        Ok(query) => receiver.read_body(query, body).await,
        Err(r) => Err(r),
    };
    let event = match event {
        Ok(e) => e,
        Err(r) => return refuse(r),
    };
    print_event(&event);
    into_hyper(receiver.dispatch(event, |_| async { CallbackReply::ok() }).await)
}

fn print_event(event: &CallbackEvent<Callback>) {
    let cb = &event.callback;
    let line = json!({
        "command": cb.command(),
        "known": cb.is_known(),
        "kind": cb.kind().as_str(),
        "client_ip": event.query.client_ip,
        "platform": event.query.opt_platform,
        "event": cb.to_json(),
    });
    // One line per callback; a closed stdout only loses the printout.
    let _ = print_out(&format!("{line}\n"));
}

fn into_hyper(resp: hyper::Response<Bytes>) -> hyper::Response<Full<Bytes>> {
    resp.map(Full::new)
}

fn send(config: &Config, args: SendArgs) -> Result<(), Failure> {
    let (sdkappid, token) = app_and_token(config, &args.token)?;
    let raw = read_body(&args.data)?;
    let body = prepare_body(&args.command, &raw, args.raw)?;
    let uri = callback_uri(&args.url, &args, sdkappid, token.as_deref())?;
    let transport = HyperTransport::new(args.timeout).map_err(|e| failed(e.to_string()))?;
    let mut headers = http::HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    let req =
        HttpRequest { uri, headers, body: Bytes::from(body), timeout: args.timeout, reply_limit: 1 << 20 };
    let reply = runtime()?
        .block_on(transport.send(req))
        .map_err(|e| failed(format!("{}: not delivered: {e}", args.command)))?;
    let text = String::from_utf8_lossy(&reply.body);
    print_out(&format!("{text}\n"))?;
    if reply.status != 200 {
        return Err(failed(format!("{}: the receiver answered HTTP {}", args.command, reply.status)));
    }
    let envelope: Option<Value> = serde_json::from_slice(&reply.body).ok();
    let ok = envelope.as_ref().is_some_and(|v| {
        v.get("ActionStatus").and_then(Value::as_str).is_some()
            && v.get("ErrorCode").is_some_and(Value::is_i64)
    });
    if !ok {
        return Err(failed(format!(
            "{}: the reply is not a callback reply (`ActionStatus`, integer `ErrorCode`)",
            args.command
        )));
    }
    if let Some(meta) = CALLBACKS.iter().find(|m| m.command == args.command) {
        if meta.kind == CallbackKind::Before {
            let reply = CallbackReply::from_bytes(&reply.body).unwrap_or_default();
            match meta.decision_for(reply.error_code) {
                Some(d) => eprintln!("tim callback: decision `{}` (ErrorCode {})", d.name, reply.error_code),
                None => eprintln!(
                    "tim callback: ErrorCode {} is no documented decision; Tencent would go ahead",
                    reply.error_code
                ),
            }
        }
    }
    Ok(())
}

/// The body to send: `CallbackCommand` added when absent, and (unless
/// `raw`) checked against the command's payload type, naming a bad field.
fn prepare_body(command: &str, raw: &[u8], send_raw: bool) -> Result<Vec<u8>, Failure> {
    if send_raw {
        return Ok(raw.to_vec());
    }
    let mut value: Value = serde_json::from_slice(raw)
        .map_err(|e| usage(format!("the body is not JSON: {e}; nothing was sent")))?;
    let Some(map) = value.as_object_mut() else {
        return Err(usage("the body must be a JSON object; nothing was sent"));
    };
    match map.get("CallbackCommand") {
        None => {
            map.insert("CallbackCommand".into(), Value::from(command));
        }
        Some(Value::String(c)) if c == command => {}
        Some(other) => {
            return Err(usage(format!(
                "field `CallbackCommand`: {other} does not match the command `{command}`; nothing was sent"
            )))
        }
    }
    let bytes = serde_json::to_vec(&value).map_err(|e| failed(e.to_string()))?;
    match Callback::parse(command, &bytes) {
        Ok(cb) if cb.is_known() => Ok(bytes),
        Ok(_) => Err(usage(format!(
            "unknown callback `{command}`; nothing was sent\nhint: `tim callback list` lists the known ones; --raw sends it anyway"
        ))),
        Err(e) => {
            let at = if e.field.is_empty() { String::new() } else { format!("field `{}`: ", e.field) };
            Err(usage(format!("body for {command} rejected, nothing was sent: {at}{}", e.reason)))
        }
    }
}

/// `url` with the callback query appended (signed now when there is a token).
fn callback_uri(
    url: &str,
    args: &SendArgs,
    sdkappid: u64,
    token: Option<&str>,
) -> Result<http::Uri, Failure> {
    let parsed: http::Uri = url.parse().map_err(|e| usage(format!("--url `{url}`: {e}")))?;
    let host = parsed.host().unwrap_or_default();
    let loopback = host == "localhost"
        || host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme_str() {
        Some("https") => {}
        Some("http") if loopback => {}
        Some("http") => return Err(usage(format!("--url `{url}`: plain http only for loopback; use https"))),
        _ => return Err(usage(format!("--url `{url}`: not an http(s) URL"))),
    }
    let mut query = match token {
        Some(t) => testing::signed_query(sdkappid, &args.command, t, now()),
        None => testing::unsigned_query(sdkappid, &args.command),
    };
    // The defaults of the testing helpers are replaced by the flags.
    query = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some(("ClientIP", _)) => format!("ClientIP={}", tim_runtime::query::encode(&args.client_ip)),
            Some(("OptPlatform", _)) => format!("OptPlatform={}", tim_runtime::query::encode(&args.platform)),
            _ => kv.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&");
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{query}").parse().map_err(|e| usage(format!("--url `{url}`: {e}")))
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
