//! A minimal HTTP/1.1 loopback server: every request gets the same fixed OK
//! reply, with keep-alive, so it costs the same for every client measured.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const BODY: &str = r#"{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}"#;

fn response() -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    )
    .into_bytes()
}

/// Starts the server on its own thread (one core's worth) and returns its address.
pub fn start() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        crate::alloc::exclude_this_thread();
        let rt = tokio::runtime::Builder::new_current_thread().enable_io().build().expect("runtime");
        rt.block_on(async move {
            let listener = TcpListener::from_std(listener).expect("listener");
            let reply: &'static [u8] = Box::leak(response().into_boxed_slice());
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                tokio::spawn(serve(stream, reply));
            }
        });
    });
    addr
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn content_length(head: &[u8]) -> usize {
    let head = String::from_utf8_lossy(head);
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
}

async fn serve(mut stream: TcpStream, reply: &'static [u8]) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(8192);
    loop {
        // Read one request: head up to the blank line, then the body.
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        };
        let end = head_end + content_length(&buf[..head_end]);
        while buf.len() < end {
            match stream.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
        buf.drain(..end);
        if stream.write_all(reply).await.is_err() {
            return;
        }
    }
}
