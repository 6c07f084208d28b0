//! `sentinel-tvm serve` bounds its clients (docs/api.md): a request must arrive whole
//! within 10 s, at most 256 connections are served at once, and `--host` refuses a
//! request signed for another host. Raw TCP clients on loopback play the slow and the
//! greedy client.

#![cfg(test)]

use std::time::{Duration, SystemTime};

use system_tests::Moto;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::tvm::{ACCOUNT, ALICE, Tvm, error_code, seed, sign_headers, vend};

/// Connections `serve` serves at once.
const MAX_CONNECTIONS: usize = 256;

/// `host:port` of a running `serve`.
fn address(tvm: &Tvm) -> &str {
    tvm.url.trim_start_matches("http://")
}

/// Waits up to `wait` for the first bytes of an answer on `stream`: `Some(bytes)`, empty
/// when the server closed or reset the connection; `None` when nothing came.
async fn answer_within(stream: &mut TcpStream, wait: Duration) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 4096];
    match tokio::time::timeout(wait, stream.read(&mut buf)).await {
        Err(_elapsed) => None,
        Ok(Ok(n)) => Some(buf.get(..n).unwrap_or_default().to_vec()),
        Ok(Err(_reset)) => Some(Vec::new()),
    }
}

#[tokio::test]
async fn a_body_that_trickles_in_is_cut_off() {
    let moto = Moto::start();
    let tvm = Tvm::start_with_args(&moto, &["--account-id", ACCOUNT], &[]);
    let mut stream = TcpStream::connect(address(&tvm)).await.unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: 64\r\n\r\n",
        address(&tvm)
    );
    stream.write_all(head.as_bytes()).await.unwrap();

    // One byte a second, never the whole body; the server must give up long before the
    // 30 bytes (and 30 s) this loop can send.
    let mut answer = None;
    for _ in 0..30 {
        answer = answer_within(&mut stream, Duration::from_secs(1)).await;
        if answer.is_some() || stream.write_all(b" ").await.is_err() {
            break;
        }
    }
    let answer =
        answer.unwrap_or_else(|| panic!("a body trickling in for 30 s was still being read"));
    // Closed, or answered with a refusal before closing.
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408") || text.starts_with("HTTP/1.1 403"),
        "{text}"
    );
}

#[tokio::test]
async fn past_256_connections_the_next_waits_until_one_closes() {
    let moto = Moto::start();
    let tvm = Tvm::start_with_args(&moto, &["--account-id", ACCOUNT], &[]);
    let mut held = Vec::with_capacity(MAX_CONNECTIONS);
    for _ in 0..MAX_CONNECTIONS {
        held.push(TcpStream::connect(address(&tvm)).await.unwrap());
    }

    // The kernel queues the next connection, but serve does not take it up: its request
    // (unsigned, so answered at once when served) gets no answer.
    let mut next = TcpStream::connect(address(&tvm)).await.unwrap();
    let request = format!("GET /profiles HTTP/1.1\r\nhost: {}\r\n\r\n", address(&tvm));
    next.write_all(request.as_bytes()).await.unwrap();
    let early = answer_within(&mut next, Duration::from_secs(1)).await;
    assert!(
        early.is_none(),
        "connection {} was served while {MAX_CONNECTIONS} were open: {:?}",
        MAX_CONNECTIONS + 1,
        early.map(|a| String::from_utf8_lossy(&a).into_owned())
    );

    // One closes; the waiting one is served.
    drop(held.pop());
    let answer = answer_within(&mut next, Duration::from_secs(30))
        .await
        .expect("the waiting connection was not served after one closed");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 403"), "{text}");
    drop(held);
}

#[tokio::test]
async fn host_flag_refuses_requests_signed_for_another_host() {
    let moto = Moto::start();
    seed(&moto).await;
    let tvm = Tvm::start_with_args(&moto, &["--host", "tvm.example.test"], &[]);
    let client = reqwest::Client::new();

    // Signed for `host` and sent to serve on loopback with that `Host` header.
    let send_as = |host: &'static str| {
        let signed_url = format!("http://{host}/?profile=dev");
        let mut request = client.get(format!("{}/?profile=dev", tvm.url));
        for (name, value) in sign_headers(&ALICE, "GET", &signed_url, b"", SystemTime::now()) {
            request = request.header(name, value);
        }
        request.send()
    };

    let response = send_as("tvm.example.test").await.unwrap();
    assert_eq!(response.status().as_u16(), 200);

    for response in [
        send_as("other.example.test").await.unwrap(),
        send_as("TVM.example.test:8080").await.unwrap(),
    ] {
        assert_eq!(response.status().as_u16(), 403);
        assert_eq!(
            error_code(&response.text().await.unwrap()),
            "IAM_AUTH_REQUIRED"
        );
    }

    // Correctly signed for the loopback address serve listens on: still another host.
    let (status, body) = vend(&tvm, &ALICE, "dev").await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (403, "IAM_AUTH_REQUIRED")
    );
}
