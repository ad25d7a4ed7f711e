//! A local, stateful Tencent Cloud IM (Chat) server: the emulator behind
//! `tim mock`.
//!
//! [`MockServer`] serves the REST API on 127.0.0.1 (or any address) for one
//! app. By default it emulates the service: the endpoints of
//! [`world::stateful_paths`] answer from a state the calls change
//! (accounts, one-to-one and group messages with their unread counts,
//! conversations, groups, friends; see [`World`]), and the documented rate
//! limits apply. Every other endpoint, and every endpoint in
//! [`MockConfig::replay`] mode, checks the request against its spec and
//! replies with a queued fixture or the spec's sample. Given a callback URL
//! ([`MockConfig::callbacks`]), the emulator also sends the callbacks
//! (webhooks) its state changes fire, signed, and obeys the
//! before-callbacks' replies; see [`MockServer::callbacks`].
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use tim_emulator::{MockConfig, MockServer};
//!
//! let server = MockServer::start(MockConfig::new(1400000000, "secret-key", "administrator")).await?;
//! let client = server.client_builder().build().expect("a valid client");
//! # let _ = client;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]
mod server;
pub mod state_file;
pub mod world;

pub use server::{
    AppliedDecision, CallbackResponse, CallbackUrlError, EmittedCallback, Fault, MockConfig, MockServer,
    Outcome, RecordedRequest, DEFAULT_CALLBACK_TIMEOUT, DEFAULT_LOG_LIMIT, DEFAULT_LOG_MAX_BYTES,
    DEFAULT_MAX_CONNECTIONS, DEFAULT_READ_TIMEOUT,
};
pub use world::World;
