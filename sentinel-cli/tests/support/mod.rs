//! A fake TVM for CLI tests: answers every request with a configured status
//! and body, counts requests and keeps their heads.

#![cfg(test)]
#![allow(dead_code, reason = "each test binary uses a different part")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use assert_cmd::Command;
use chrono::{DateTime, Utc};

/// What the fake answers.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub delay: Duration,
}

pub struct FakeTvm {
    pub url: String,
    requests: Arc<Mutex<Vec<String>>>,
    reply: Arc<Mutex<Reply>>,
}

impl FakeTvm {
    pub fn start(reply: Reply) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let reply = Arc::new(Mutex::new(reply));
        let (seen, answer) = (requests.clone(), reply.clone());
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (seen, answer) = (seen.clone(), answer.clone());
                thread::spawn(move || serve(stream, &seen, &answer));
            }
        });
        Self {
            url,
            requests,
            reply,
        }
    }

    pub fn set_reply(&self, reply: Reply) {
        *self.reply.lock().unwrap() = reply;
    }

    pub fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, seen: &Mutex<Vec<String>>, answer: &Mutex<Reply>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    seen.lock().unwrap().push(head);
    let reply = answer.lock().unwrap().clone();
    thread::sleep(reply.delay);
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        reply.status,
        reply.body.len(),
        reply.body
    );
}

pub fn vend_body(profile: &str, expiration: DateTime<Utc>, n: u32) -> String {
    serde_json::json!({
        "Version": 1,
        "AccessKeyId": format!("ASIAFAKE{n}"),
        "SecretAccessKey": format!("secret-{n}"),
        "SessionToken": format!("token-{n}"),
        "Token": format!("token-{n}"),
        "Expiration": protocol::wire_time::format(&expiration),
        "SessionId": format!("{n:032x}"),
        "SourceIdentity": "sentinel=alice",
        "Profile": profile,
        "RoleArn": "arn:aws:iam::111122223333:role/SentinelProtected-prod",
    })
    .to_string()
}

pub fn ok(body: String) -> Reply {
    Reply {
        status: 200,
        body,
        delay: Duration::ZERO,
    }
}

/// A private HOME, cache and AWS config for one test.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn aws_config(&self) -> PathBuf {
        self.path().join("aws-config")
    }

    pub fn cache(&self) -> PathBuf {
        self.path().join("cache")
    }

    /// `sentinel` with a clean environment: signing keys from the environment,
    /// no profiles, no metadata service.
    pub fn sentinel(&self) -> Command {
        Command::from_std(self.std_command())
    }

    /// The same, as a plain `std::process::Command` (to spawn several at once).
    pub fn std_command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("sentinel"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("XDG_CACHE_HOME", self.cache())
            .env("AWS_CONFIG_FILE", self.aws_config())
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.path().join("aws-credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ACCESS_KEY_ID", "AKIDSENTINELTEST")
            .env(
                "AWS_SECRET_ACCESS_KEY",
                "sentinel-test-secret-key-0123456789abcdef",
            );
        cmd
    }
}
