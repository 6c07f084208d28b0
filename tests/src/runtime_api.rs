//! A minimal AWS Lambda Runtime API on loopback, so tests (and the cold-start
//! benchmark) can run the real `bootstrap` binaries: it hands out queued events on
//! `GET /2018-06-01/runtime/invocation/next` and collects what the function posts
//! to `.../invocation/{id}/response`, `.../invocation/{id}/error` and `.../init/error`.

#![expect(
    clippy::expect_used,
    reason = "test harness: a broken harness must fail the test loudly"
)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc};

const PREFIX: &str = "/2018-06-01/runtime";

/// What the function posted back.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `POST .../invocation/{id}/response`.
    Response { request_id: String, body: Value },
    /// `POST .../invocation/{id}/error`.
    Error { request_id: String, body: Value },
    /// `POST .../init/error`.
    InitError { body: Value },
}

struct State {
    queue: Mutex<VecDeque<(String, Value)>>,
    queued: Notify,
    outcomes: mpsc::UnboundedSender<Outcome>,
}

/// A running Runtime API; stops when dropped (its task is aborted).
pub struct RuntimeApi {
    addr: SocketAddr,
    state: Arc<State>,
    outcomes: mpsc::UnboundedReceiver<Outcome>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RuntimeApi {
    /// Listens on a free loopback port.
    pub async fn start() -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind runtime api");
        let addr = listener.local_addr().expect("runtime api address");
        let (tx, rx) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            queue: Mutex::new(VecDeque::new()),
            queued: Notify::new(),
            outcomes: tx,
        });
        let serving = Arc::clone(&state);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = Arc::clone(&serving);
                tokio::spawn(async move {
                    let handler = service_fn(move |request| {
                        let state = Arc::clone(&state);
                        async move { Ok::<_, Infallible>(handle(&state, request).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), handler)
                        .await;
                });
            }
        });
        RuntimeApi {
            addr,
            state,
            outcomes: rx,
            task,
        }
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// The environment a Lambda `provided.al2023` function starts with.
    pub fn lambda_env(&self, function: &str) -> Vec<(String, String)> {
        [
            ("AWS_LAMBDA_RUNTIME_API", self.address()),
            ("AWS_LAMBDA_FUNCTION_NAME", function.to_owned()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_owned()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{function}"),
            ),
            (
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/11/23/[$LATEST]test".to_owned(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Queues an event under `request_id`.
    pub fn push(&self, request_id: &str, event: Value) {
        self.state
            .queue
            .lock()
            .expect("queue lock")
            .push_back((request_id.to_owned(), event));
        self.state.queued.notify_one();
    }

    /// The next thing the function posted, or `None` after `timeout`.
    pub async fn next_outcome(&mut self, timeout: Duration) -> Option<Outcome> {
        tokio::time::timeout(timeout, self.outcomes.recv())
            .await
            .ok()
            .flatten()
    }
}

async fn handle(state: &State, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let json = || serde_json::from_slice(&body).unwrap_or(Value::Null);
    let rest = path.strip_prefix(PREFIX).unwrap_or("");
    match (method.as_str(), rest) {
        ("GET", "/invocation/next") => {
            let (request_id, event) = loop {
                if let Some(next) = state.queue.lock().expect("queue lock").pop_front() {
                    break next;
                }
                state.queued.notified().await;
            };
            let deadline = SystemTime::now()
                .checked_add(Duration::from_secs(30))
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_millis());
            Response::builder()
                .header("lambda-runtime-aws-request-id", request_id)
                .header("lambda-runtime-deadline-ms", deadline.to_string())
                .header(
                    "lambda-runtime-invoked-function-arn",
                    "arn:aws:lambda:us-east-1:111122223333:function:test",
                )
                .header(
                    "lambda-runtime-trace-id",
                    "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
                )
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(event.to_string())))
                .expect("response")
        }
        ("POST", "/init/error") => {
            let _ = state.outcomes.send(Outcome::InitError { body: json() });
            accepted()
        }
        ("POST", rest) if rest.starts_with("/invocation/") => {
            let mut parts = rest.trim_start_matches("/invocation/").splitn(2, '/');
            let request_id = parts.next().unwrap_or_default().to_owned();
            let outcome = match parts.next() {
                Some("response") => Outcome::Response {
                    request_id,
                    body: json(),
                },
                _ => Outcome::Error {
                    request_id,
                    body: json(),
                },
            };
            let _ = state.outcomes.send(outcome);
            accepted()
        }
        _ => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Full::new(Bytes::new()))
            .expect("response"),
    }
}

fn accepted() -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::ACCEPTED)
        .body(Full::new(Bytes::from_static(b"{\"status\":\"OK\"}")))
        .expect("response")
}
