//! Receiving callbacks with [axum](https://docs.rs/axum) (feature `axum`).
//!
//! ```no_run
//! # async fn app() -> Result<(), Box<dyn std::error::Error>> {
//! # #[derive(Debug)] struct MyCallbacks;
//! # impl tim_runtime::callback::CallbackSet for MyCallbacks {
//! #     fn parse(_: &str, _: &[u8]) -> Result<Self, tim_runtime::callback::CallbackParseError> { Ok(Self) }
//! #     fn command(&self) -> &str { "" }
//! #     fn meta(&self) -> Option<&'static tim_runtime::callback::CallbackMeta> { None }
//! #     fn to_json(&self) -> serde_json::Value { serde_json::Value::Null }
//! # }
//! use tim_runtime::callback::{CallbackReceiver, CallbackReply, CallbackVerifier};
//!
//! let verifier = CallbackVerifier::new(1400000000, std::env::var("TIM_CALLBACK_TOKEN")?)?;
//! let receiver = CallbackReceiver::<MyCallbacks>::new(verifier);
//! let callbacks = tim_runtime::callback_axum::router(receiver, |event| async move {
//!     println!("{}", event.query.command);
//!     CallbackReply::ok()
//! });
//! let app = axum::Router::new().nest("/tim/callback", callbacks);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

use std::future::Future;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use axum::routing::any;
use axum::Router;
use tim_core::callback::{CallbackEvent, CallbackReceiver, CallbackReply, CallbackSet};

/// A router answering callbacks at `/` (so it can be nested at any path)
/// with `receiver` and `handler`.
///
/// Every method is routed to the receiver, so a wrong one gets its `FAIL`
/// reply with 405 rather than axum's empty one. The query is verified before
/// the body is read, and no more than the receiver's `max_body` is read. To
/// nest it in a router with state, use `Router::nest_service`.
pub fn router<S, F, Fut>(receiver: CallbackReceiver<S>, handler: F) -> Router
where
    S: CallbackSet,
    F: Fn(CallbackEvent<S>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = CallbackReply> + Send + 'static,
{
    let receiver = Arc::new(receiver);
    Router::new().route(
        "/",
        any(move |req: Request| {
            let receiver = Arc::clone(&receiver);
            let handler = handler.clone();
            async move { receive(&receiver, req, handler).await }
        }),
    )
}

/// One request: head checks, a bounded body read, then the receiver's parse
/// and dispatch.
async fn receive<S, F, Fut>(receiver: &CallbackReceiver<S>, req: Request, handler: F) -> Response
where
    S: CallbackSet,
    F: FnOnce(CallbackEvent<S>) -> Fut,
    Fut: Future<Output = CallbackReply>,
{
    let (head, body) = req.into_parts();
    let event = match receiver.check_head(&head) {
        Ok(query) => receiver.read_body(query, body).await,
        Err(rejection) => Err(rejection),
    };
    let response = match event {
        Ok(event) => receiver.dispatch(event, handler).await,
        Err(rejection) => receiver.reject(&rejection),
    };
    response.map(Body::from)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use serde_json::{json, Value};
    use tim_core::callback::testing::{meta, signed_query, unsigned_query};
    use tim_core::callback::{CallbackKind, CallbackMeta, CallbackParseError, CallbackVerifier};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    const APP: u64 = 1_400_000_000;
    const TOKEN: &str = "xxxxyyyy";
    const BEFORE: &str = "C2C.CallbackBeforeSendMsg";
    const AFTER: &str = "C2C.CallbackAfterSendMsg";
    static BEFORE_META: CallbackMeta = meta(BEFORE, CallbackKind::Before);
    static AFTER_META: CallbackMeta = meta(AFTER, CallbackKind::After);

    /// Two commands with untyped payloads, standing in for the generated set.
    #[derive(Debug)]
    struct Set {
        command: String,
        body: Value,
    }

    impl CallbackSet for Set {
        fn parse(command: &str, body: &[u8]) -> Result<Self, CallbackParseError> {
            Ok(Self { command: command.to_owned(), body: CallbackParseError::parse(command, body)? })
        }
        fn command(&self) -> &str {
            &self.command
        }
        fn meta(&self) -> Option<&'static CallbackMeta> {
            match self.command.as_str() {
                BEFORE => Some(&BEFORE_META),
                AFTER => Some(&AFTER_META),
                _ => None,
            }
        }
        fn to_json(&self) -> Value {
            self.body.clone()
        }
    }

    /// Serves callbacks nested at `/cb` on 127.0.0.1 (OS-assigned port);
    /// the handler denies `"spam"`, sleeps on `"slow"`, else allows.
    async fn serve() -> std::net::SocketAddr {
        let verifier = CallbackVerifier::new(APP, TOKEN).unwrap();
        let receiver = CallbackReceiver::<Set>::builder(verifier)
            .deadline(Duration::from_millis(200))
            .fallback(CallbackReply::with_code(1, "fallback"))
            .max_body(1024)
            .build()
            .unwrap();
        let callbacks = router(receiver, |event: CallbackEvent<Set>| async move {
            match event.callback.body["Text"].as_str() {
                Some("spam") => CallbackReply::with_code(1, "no spam"),
                Some("slow") => {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    CallbackReply::with_code(2, "too late")
                }
                _ => CallbackReply::ok(),
            }
        });
        let app = Router::new().nest("/cb", callbacks);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }

    /// Sends one HTTP/1.1 request and returns the status and the body as JSON.
    async fn send(addr: std::net::SocketAddr, method: &str, target: &str, body: &str) -> (u16, Value) {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        let text = String::from_utf8(raw).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        assert!(head.to_ascii_lowercase().contains("content-type: application/json"), "{head}");
        (status, serde_json::from_str(body).unwrap())
    }

    fn now() -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
    }

    fn signed(command: &str) -> String {
        format!("/cb?{}", signed_query(APP, command, TOKEN, now()))
    }

    fn body(command: &str, text: &str) -> String {
        json!({"CallbackCommand": command, "Text": text}).to_string()
    }

    #[tokio::test]
    async fn accepts_signed_callbacks_and_sends_the_handlers_reply() {
        let addr = serve().await;
        let (status, reply) = send(addr, "POST", &signed(BEFORE), &body(BEFORE, "hi")).await;
        assert_eq!((status, reply), (200, json!({"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": ""})));
        let (status, reply) = send(addr, "POST", &signed(BEFORE), &body(BEFORE, "spam")).await;
        assert_eq!(
            (status, reply["ErrorCode"].as_i64(), reply["ErrorInfo"].as_str()),
            (200, Some(1), Some("no spam"))
        );
        // An unknown command reaches the handler too.
        let (status, reply) = send(addr, "POST", &signed("New.Command"), &body("New.Command", "hi")).await;
        assert_eq!((status, reply["ErrorCode"].as_i64()), (200, Some(0)));
    }

    #[tokio::test]
    async fn rejects_bad_requests_with_fail_bodies() {
        let addr = serve().await;
        let ok_body = body(AFTER, "hi");
        let forged = format!("/cb?{}", signed_query(APP, AFTER, "forged", now()));
        let stale = format!("/cb?{}", signed_query(APP, AFTER, TOKEN, now() - 3600));
        let unsigned = format!("/cb?{}", unsigned_query(APP, AFTER));
        let cases = [
            ("POST", forged, ok_body.clone(), 403),
            ("POST", stale, ok_body.clone(), 403),
            ("POST", unsigned, ok_body.clone(), 401),
            ("GET", signed(AFTER), String::new(), 405),
            ("POST", signed(AFTER), "{\"Text\":".to_owned(), 400),
            ("POST", signed(AFTER), "x".repeat(2048), 413),
        ];
        for (method, target, body, want) in cases {
            let (status, reply) = send(addr, method, &target, &body).await;
            assert_eq!(status, want, "{method} {target}: {reply}");
            assert_eq!(reply["ActionStatus"], "FAIL");
            assert!(!reply["ErrorInfo"].as_str().unwrap().is_empty());
        }
    }

    #[tokio::test]
    async fn late_handlers_get_the_fallback_for_before_and_ok_for_after() {
        let addr = serve().await;
        let (status, reply) = send(addr, "POST", &signed(BEFORE), &body(BEFORE, "slow")).await;
        assert_eq!((status, reply["ErrorInfo"].as_str()), (200, Some("fallback")));
        let (status, reply) = send(addr, "POST", &signed(AFTER), &body(AFTER, "slow")).await;
        assert_eq!((status, reply), (200, json!({"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": ""})));
    }
}
