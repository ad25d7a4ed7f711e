#![allow(dead_code)] // Each test binary uses its own share of the helpers.
//! Helpers shared by the emulator's scenario tests.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::Response;
use hyper_util::rt::TokioIo;

/// A callback URL that answers every callback with success.
pub async fn ok_receiver() -> String {
    slow_receiver(std::time::Duration::ZERO).await
}

/// A callback URL that answers every callback with success after `delay`.
pub async fn slow_receiver(delay: std::time::Duration) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/im/callback", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let service = service_fn(move |_req| async move {
                tokio::time::sleep(delay).await;
                let ok = Bytes::from_static(br#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}"#);
                Ok::<_, Infallible>(Response::new(Full::new(ok)))
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tcp), service),
            );
        }
    });
    url
}
