//! `tim mock`: the emulator (a stateful stand-in for the service) on
//! 127.0.0.1, with its state optionally kept in a file across runs.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use tim_emulator::world::{self, World};
use tim_emulator::{CallbackResponse, MockConfig, MockServer};

use crate::{config_usage, failed, print_out, runtime, usage, Config, Failure};

/// SDKAppID the mock accepts when none is configured.
pub(crate) const MOCK_SDKAPPID: u64 = 1_400_000_000;
/// Admin account the mock accepts when none is configured.
pub(crate) const MOCK_IDENTIFIER: &str = "administrator";
/// Secret key the mock accepts when none is configured (a public demo value).
pub(crate) const MOCK_SECRET_KEY: &str = "tim-mock-demo-secret-key-0123456789abcdef";

/// Options of `tim mock`.
#[derive(Args)]
#[command(after_long_help = stateful_help())]
pub(crate) struct MockArgs {
    /// Port to listen on (default: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Keep the state in this JSON file: loaded on start when it exists (a
    /// file that cannot be read is an error), written atomically on Ctrl-C
    /// and every --save-every seconds.
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
}

/// The `--help` text listing which endpoints answer from the state.
fn stateful_help() -> String {
    let mut paths: Vec<&str> = world::stateful_paths().collect();
    paths.sort_unstable();
    format!(
        "Endpoints answered from the emulated state ({}):\n  {}\n\n\
         Every other endpoint is stateless: the request is checked against its spec and \
         answered with the spec's sample reply.",
        paths.len(),
        paths.join("\n  ")
    )
}

/// The state to start from: the --state file when it exists, else the
/// --seed file, else an empty app.
fn initial_state(args: &MockArgs, admin: &str) -> Result<World, Failure> {
    let load = |path: &Path| World::load(path).map_err(|e| failed(e.to_string()));
    match (&args.state, &args.seed) {
        (Some(state), _) if state.exists() => load(state),
        (_, Some(seed)) => load(seed),
        _ => Ok(World::new(admin)),
    }
}

/// Runs `tim mock` until Ctrl-C.
pub(crate) fn run(config: &Config, args: MockArgs) -> Result<(), Failure> {
    let settings = config.settings();
    let sdkappid = settings.sdkappid().map_err(config_usage)?.unwrap_or(MOCK_SDKAPPID);
    let identifier = settings.identifier.clone().unwrap_or_else(|| MOCK_IDENTIFIER.to_owned());
    let own_key = settings.secret_key.as_deref();
    let secret = own_key.unwrap_or(MOCK_SECRET_KEY);
    let mut mock_config = MockConfig::new(sdkappid, secret, &identifier);
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
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    // The server runs on this runtime, which block_on drives until Ctrl-C.
    runtime()?.block_on(async {
        let server = MockServer::start_on(mock_config, addr)
            .await
            .map_err(|e| failed(format!("cannot start the mock server on {addr}: {e}")))?;
        let base_url = server.base_url();
        // Never echo a key the user supplied; the built-in one is public.
        let shown_key =
            if own_key.is_some() { "(the key from --secret-key / TIM_SECRET_KEY)" } else { secret };
        let mode = if args.stateless { "stateless mock" } else { "emulator" };
        print_out(&format!(
            "{mode} running; it accepts:\n\
             TIM_BASE_URL={base_url}\n\
             TIM_SDKAPPID={sdkappid}\n\
             TIM_IDENTIFIER={identifier}\n\
             TIM_SECRET_KEY={shown_key}\n\
             press Ctrl-C to stop\n"
        ))?;
        let result = serve(&server, &args).await;
        // The state is saved on the way out whatever stopped the loop.
        if let Some(path) = &args.state {
            server.snapshot().save(path).map_err(|e| failed(e.to_string()))?;
            eprintln!("mock: state saved to {}", path.display());
        }
        eprintln!("mock: stopped");
        result
    })
}

/// Logs requests and callbacks and saves the state until Ctrl-C.
async fn serve(server: &MockServer, args: &MockArgs) -> Result<(), Failure> {
    let (mut seen, mut seen_callbacks) = (0, 0);
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let mut save = tokio::time::interval(Duration::from_secs(args.save_every.max(1)));
    loop {
        tokio::select! {
            r = tokio::signal::ctrl_c() => {
                return r.map_err(|e| failed(format!("cannot wait for Ctrl-C: {e}")));
            }
            _ = save.tick(), if args.state.is_some() => {
                if let Some(path) = &args.state {
                    // A failed periodic save is reported; the one on exit decides.
                    if let Err(e) = server.snapshot().save(path) {
                        eprintln!("mock: {e}");
                    }
                }
            }
            _ = tick.tick() => {
                // The query holds the UserSig, so only path, outcome and body are shown.
                let requests = server.requests_after(seen);
                for r in &requests {
                    eprintln!("mock: {} /{} -> {:?} {}", r.method, r.path, r.outcome, String::from_utf8_lossy(&r.body));
                }
                seen += requests.len();
                // Callbacks sent; the query (with its Sign) is not shown.
                let callbacks = server.callbacks_after(seen_callbacks);
                for c in &callbacks {
                    let answer = match &c.response {
                        CallbackResponse::Replied { status, .. } => format!("HTTP {status}"),
                        CallbackResponse::Failed(why) => format!("failed: {why}"),
                        _ => "?".to_owned(),
                    };
                    eprintln!("mock: callback {} -> {answer}, {:?} {}", c.command, c.applied, c.body);
                }
                seen_callbacks += callbacks.len();
            }
        }
    }
}
