//! `sentinel-authorizer`: wiring only. Reads its settings once (the session modes:
//! `SENTINEL_SESSION_TABLE`; the token modes: their issuer settings), builds the DynamoDB
//! client or the JWT verifier once (its key cache lives as long as the process), then
//! answers authorizer events until the Lambda runtime shuts the process down; each
//! answer's decision line and metrics line go to stdout, where Lambda ships them to
//! CloudWatch Logs.
//!
//! `sentinel-authorizer invoke` answers one event read from stdin instead (local
//! use: the demo, debugging a deny); it prints the response API Gateway would get.

use std::io::{Read, Write};
use std::process::ExitCode;

use authorizer::proof::{ProofSettings, StsReplay};
use authorizer::token::{TokenAuthorizer, TokenSettings};
use authorizer::{Mode, Outcome};
use chrono::{DateTime, Utc};
use lambda_runtime::{LambdaEvent, service_fn};
use sentinel_aws::config::AwsTimeouts;
use sentinel_jwt::HttpFetch;
use serde_json::Value;
use sessions::DynamoSessionStore;

const USAGE: &str = "usage: sentinel-authorizer [invoke]

Without arguments, runs as an AWS Lambda REQUEST authorizer (AWS_LAMBDA_RUNTIME_API
must be set). `invoke` answers one authorizer event read from stdin and prints the
response (the log lines go to stderr). Configuration: SENTINEL_AUTHORIZER_MODE
(`proof`, the default, `session-id`, `jwt` or `cognito`) and SENTINEL_STACK_NAME (the
metrics' `Stack` dimension, default `sentinel`).

`proof` and `session-id`: SENTINEL_SESSION_TABLE, SENTINEL_AUDIENCE (required in `proof`
mode: this API's name, signed into every proof) and the standard AWS SDK environment
(AWS_REGION picks the trusted STS endpoint; AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL
replace it for local stacks).

`jwt`: OIDC_ISSUER_URL, EXPECTED_AUDIENCE (comma-separated), REQUIRED_TRUST_DOMAIN
(optional), JWKS_REFRESH (optional, e.g. `120s`); or SENTINEL_JWT_ISSUERS (a JSON list).

`cognito`: COGNITO_USER_POOL_ID (or SENTINEL_COGNITO_ISSUER), SENTINEL_COGNITO_CLIENT_IDS
(comma-separated), SENTINEL_REQUIRED_SCOPES (e.g. `GET /orders=mrt/read; POST
/orders=mrt/write,mrt/admin`), JWKS_REFRESH (optional).";

/// What the process answers with, built once.
enum Authorizer {
    /// `proof`, `session-id`: the session table (and STS).
    Session {
        store: DynamoSessionStore,
        mode: Mode<StsReplay>,
    },
    /// `jwt`, `cognito`: the verifier and its key cache.
    Token(TokenAuthorizer<HttpFetch>),
}

impl Authorizer {
    async fn answer(&self, raw: &Value, now: DateTime<Utc>) -> Outcome {
        match self {
            Self::Session { store, mode } => authorizer::authorize(store, mode, raw, now).await,
            Self::Token(token) => token.authorize(raw, now).await,
        }
    }
}

/// The settings, read once before anything starts.
enum Settings {
    Session {
        table: String,
        timeouts: AwsTimeouts,
        mode: Mode<StsReplay>,
    },
    Token(TokenSettings),
}

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Every setting of the chosen mode; the error names the variable.
fn settings_from_env() -> Result<Settings, String> {
    match var("SENTINEL_AUTHORIZER_MODE").as_deref() {
        Some("jwt") => TokenSettings::jwt(var).map(Settings::Token),
        Some("cognito") => TokenSettings::cognito(var).map(Settings::Token),
        None | Some("proof" | "session-id") => {
            let table = var("SENTINEL_SESSION_TABLE")
                .ok_or("invalid setting `SENTINEL_SESSION_TABLE`: it is required")?;
            let timeouts = AwsTimeouts::from_lookup(|name| std::env::var(name).ok())
                .map_err(|e| e.to_string())?;
            let mode = mode_from_env(&timeouts)?;
            Ok(Settings::Session {
                table,
                timeouts,
                mode,
            })
        }
        Some(other) => Err(format!(
            "invalid setting `SENTINEL_AUTHORIZER_MODE`: `{other}` is not `proof`, `session-id`, `jwt` or `cognito`"
        )),
    }
}

/// `SENTINEL_AUTHORIZER_MODE` and what it needs, read once. The replay of a proof to
/// STS gets the same operation timeout as every AWS call.
fn mode_from_env(timeouts: &AwsTimeouts) -> Result<Mode<StsReplay>, String> {
    match var("SENTINEL_AUTHORIZER_MODE").as_deref() {
        None | Some("proof") => {
            let audience = var("SENTINEL_AUDIENCE").ok_or(
                "invalid setting `SENTINEL_AUDIENCE`: `proof` mode needs this API's audience",
            )?;
            let region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")).ok_or(
                "invalid setting `AWS_REGION`: `proof` mode trusts the STS endpoint of its region",
            )?;
            let settings = ProofSettings {
                audience,
                sts_endpoint: ProofSettings::sts_endpoint_for(&region, var),
            };
            let sts = StsReplay::new(timeouts.operation);
            Ok(Mode::Proof(settings, sts))
        }
        Some("session-id") => Ok(Mode::SessionId),
        Some(other) => Err(format!(
            "invalid setting `SENTINEL_AUTHORIZER_MODE`: `{other}` is not `proof`, `session-id`, `jwt` or `cognito`"
        )),
    }
}

/// The Lambda runtime client panics without these; Lambda always sets them.
const LAMBDA_VARIABLES: [&str; 4] = [
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
];

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("sentinel-authorizer: error: {message}");
    ExitCode::FAILURE
}

/// A log line that cannot be written is lost; the answer still goes out.
fn write_lines(out: &mut impl Write, lines: &[String]) {
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let invoke = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => false,
        ["invoke"] => true,
        ["-h" | "--help"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            return fail(format!(
                "unexpected arguments `{}`\n{USAGE}",
                args.join(" ")
            ));
        }
    };
    let settings = match settings_from_env() {
        Ok(settings) => settings,
        Err(e) => return fail(e),
    };
    let stack = std::env::var("SENTINEL_STACK_NAME")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| authorizer::DEFAULT_STACK.to_owned());
    let missing = LAMBDA_VARIABLES
        .iter()
        .find(|name| std::env::var_os(name).is_none());
    if let (false, Some(missing)) = (invoke, missing) {
        return fail(format!(
            "`{missing}` is not set, so this is not a Lambda environment\nhint: `sentinel-authorizer invoke < event.json` answers one event locally"
        ));
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(async move {
        let authorizer = match settings {
            Settings::Session {
                table,
                timeouts,
                mode,
            } => {
                let config = sentinel_aws::config::load(timeouts).await;
                let store = DynamoSessionStore::new(aws_sdk_dynamodb::Client::new(&config), table);
                Authorizer::Session { store, mode }
            }
            Settings::Token(settings) => {
                Authorizer::Token(TokenAuthorizer::new(settings, HttpFetch::new()))
            }
        };
        if invoke {
            let mut raw = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut raw) {
                return fail(format!("cannot read the event from stdin: {e}"));
            }
            let event: Value = match serde_json::from_str(&raw) {
                Ok(event) => event,
                Err(e) => return fail(format!("the event on stdin is not JSON: {e}")),
            };
            let now = Utc::now();
            let outcome = authorizer.answer(&event, now).await;
            // stdout carries the response alone.
            write_lines(
                &mut std::io::stderr().lock(),
                &[outcome.log_line(now), outcome.metrics_line(&stack, now)],
            );
            println!("{}", outcome.response());
            return ExitCode::SUCCESS;
        }
        let (authorizer, stack) = (&authorizer, stack.as_str());
        let served = lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
            let now = Utc::now();
            let outcome = authorizer.answer(&event.payload, now).await;
            write_lines(
                &mut std::io::stdout().lock(),
                &[outcome.log_line(now), outcome.metrics_line(stack, now)],
            );
            Ok::<Value, lambda_runtime::Error>(outcome.response())
        }))
        .await;
        match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(format!("lambda runtime: {e}")),
        }
    })
}
