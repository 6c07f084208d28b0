//! [`HttpsClient`] against a loopback server that answers canned HTTP/1.1 bytes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::{HttpsClient, HttpsError};

/// A server that records each request (head and body as text) and answers each with
/// `answer`, or never answers when `answer` is `None`.
struct Server {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Server {
    async fn start(answer: Option<Vec<u8>>) -> Self {
        Self::start_then(answer, false).await
    }

    /// Writes `answer` and then holds the connection open without a word.
    async fn start_stalling(answer: Vec<u8>) -> Self {
        Self::start_then(Some(answer), true).await
    }

    async fn start_then(answer: Option<Vec<u8>>, stall: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let seen = Arc::clone(&seen);
                let answer = answer.clone();
                tokio::spawn(async move {
                    let request = read_request(&mut socket).await;
                    seen.lock().unwrap().push(request);
                    match answer {
                        Some(answer) => {
                            let _ = socket.write_all(&answer).await;
                            if stall {
                                tokio::time::sleep(Duration::from_secs(60)).await;
                            }
                            let _ = socket.shutdown().await;
                        }
                        // Hold the connection open without a word.
                        None => tokio::time::sleep(Duration::from_secs(60)).await,
                    }
                });
            }
        });
        Self { url, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// The head, then as many body bytes as its `content-length` says.
async fn read_request(socket: &mut tokio::net::TcpStream) -> String {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = socket.read(&mut buf).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&raw).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= length {
                break;
            }
        }
    }
    String::from_utf8_lossy(&raw).into_owned()
}

fn answer(status: &str, headers: &[&str], body: &str) -> Option<Vec<u8>> {
    let mut text = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
    for header in headers {
        text.push_str(header);
        text.push_str("\r\n");
    }
    text.push_str("connection: close\r\n\r\n");
    text.push_str(body);
    Some(text.into_bytes())
}

fn client() -> HttpsClient {
    HttpsClient::new(Duration::from_secs(5), Duration::from_secs(10))
}

#[tokio::test]
async fn a_post_carries_its_headers_and_body_and_the_answer_is_read() {
    let server = Server::start(answer(
        "201 Created",
        &["cache-control: max-age=60"],
        "done",
    ))
    .await;
    let request = http::Request::post(format!("{}/hooks/x?y=1", server.url))
        .header("content-type", "application/json")
        .header("x-amz-date", "20261204T120000Z")
        .body(br#"{"a":1}"#.to_vec())
        .unwrap();
    let response = client().send(request).await.unwrap();
    assert_eq!(response.status(), http::StatusCode::CREATED);
    assert_eq!(response.header("cache-control"), Some("max-age=60"));
    assert_eq!(response.body(1024).await.unwrap(), b"done");

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let lower = requests[0].to_ascii_lowercase();
    assert!(
        lower.starts_with("post /hooks/x?y=1 http/1.1\r\n"),
        "{lower}"
    );
    assert!(lower.contains("\r\nhost: 127.0.0.1:"), "{lower}");
    assert!(lower.contains("\r\ncontent-length: 7\r\n"), "{lower}");
    assert!(
        lower.contains("\r\nx-amz-date: 20261204t120000z\r\n"),
        "{lower}"
    );
    assert!(lower.ends_with("\r\n\r\n{\"a\":1}"), "{lower}");
}

#[tokio::test]
async fn a_get_sends_no_body() {
    let server = Server::start(answer("200 OK", &[], "{}")).await;
    let request = http::Request::get(format!("{}/jwks", server.url))
        .body(Vec::new())
        .unwrap();
    let response = client().send(request).await.unwrap();
    assert_eq!(response.body(1024).await.unwrap(), b"{}");
    let request = &server.requests()[0];
    assert!(request.starts_with("GET /jwks HTTP/1.1\r\n"), "{request}");
    assert!(request.ends_with("\r\n\r\n"), "{request}");
    assert!(
        !request.to_ascii_lowercase().contains("transfer-encoding"),
        "{request}"
    );
}

#[tokio::test]
async fn a_redirect_is_an_answer_and_is_not_followed() {
    let server = Server::start(answer("302 Found", &["location: /elsewhere"], "")).await;
    let request = http::Request::get(format!("{}/moved", server.url))
        .body(Vec::new())
        .unwrap();
    let response = client().send(request).await.unwrap();
    assert_eq!(response.status(), http::StatusCode::FOUND);
    assert_eq!(response.header("location"), Some("/elsewhere"));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_body_longer_than_allowed_is_refused() {
    let server = Server::start(answer("200 OK", &[], &"x".repeat(2000))).await;
    let get = || {
        http::Request::get(format!("{}/big", server.url))
            .body(Vec::new())
            .unwrap()
    };
    let response = client().send(get()).await.unwrap();
    assert_eq!(
        response.body(1999).await.unwrap_err(),
        HttpsError::TooLarge(1999)
    );
    // Exactly the limit is fine.
    let response = client().send(get()).await.unwrap();
    assert_eq!(response.body(2000).await.unwrap().len(), 2000);
}

#[tokio::test]
async fn a_server_that_never_answers_is_a_timeout() {
    let server = Server::start(None).await;
    let client = HttpsClient::new(Duration::from_secs(5), Duration::from_millis(300));
    let request = http::Request::get(format!("{}/slow", server.url))
        .body(Vec::new())
        .unwrap();
    let error = client.send(request).await.unwrap_err();
    assert_eq!(error, HttpsError::Timeout(Duration::from_millis(300)));
    assert_eq!(error.to_string(), "no answer within 300ms");
}

#[tokio::test]
async fn a_transport_failure_does_not_name_the_url() {
    // A port nothing listens on: bind one, learn it, close it.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let request = http::Request::post(format!(
        "http://{address}/services/T0/B0/s3cr3t?token=t0k3n"
    ))
    .body(b"{}".to_vec())
    .unwrap();
    let error = client().send(request).await.unwrap_err();
    assert!(matches!(error, HttpsError::Transport(_)), "{error:?}");
    let text = format!("{error} {error:?}");
    assert!(
        !text.contains("s3cr3t") && !text.contains("t0k3n"),
        "{text}"
    );
}

#[tokio::test]
async fn a_streamed_body_passes_on_what_arrives_and_ends_at_the_deadline() {
    use http_body_util::BodyExt;
    // The head promises 100 bytes; 5 arrive, then nothing.
    let server =
        Server::start_stalling(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhello".to_vec())
            .await;
    let client = HttpsClient::direct(Duration::from_secs(5), Duration::from_millis(500));
    let request = http::Request::get(format!("{}/stream", server.url))
        .body(Vec::new())
        .unwrap();
    let response = client.send(request).await.unwrap();
    assert_eq!(response.headers()["content-length"], "100");
    let mut body = response.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(&first[..], b"hello");
    let end = body.frame().await.unwrap().unwrap_err();
    assert_eq!(end, HttpsError::Timeout(Duration::from_millis(500)));
}

#[tokio::test]
async fn an_answer_in_hand_reads_like_one_received() {
    let mut headers = http::HeaderMap::new();
    headers.insert("x-test", http::HeaderValue::from_static("1"));
    let response = super::Response::from_bytes(http::StatusCode::ACCEPTED, headers, b"ok".to_vec());
    assert_eq!(response.status(), http::StatusCode::ACCEPTED);
    assert_eq!(response.header("x-test"), Some("1"));
    assert_eq!(response.body(2).await.unwrap(), b"ok");
}
