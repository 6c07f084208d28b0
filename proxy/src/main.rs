//! `sentinel-proxy`: wiring only. Reads the settings once, builds the clients once, then
//! runs as a Lambda (when `AWS_LAMBDA_RUNTIME_API` is set) or as `sentinel-proxy serve`.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use sentinel_proxy::params::Ssm;
use sentinel_proxy::upstream::HttpUpstream;
use sentinel_proxy::{Config, Proxy, lambda};

type Live = Proxy<Ssm, HttpUpstream>;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sentinel-proxy: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The Lambda build (`--no-default-features`): no subcommands, no local server.
#[cfg(not(feature = "serve"))]
fn run() -> Result<()> {
    if std::env::args_os().len() > 1 {
        bail!(
            "this build of sentinel-proxy only runs as a Lambda function (built without the `serve` feature)"
        );
    }
    run_lambda()
}

/// Runs as a Lambda function.
fn run_lambda() -> Result<()> {
    let config = Config::from_env()?;
    if let Err(why) = sentinel_front::lambda::check_runtime_env() {
        bail!("{why}\nhint: run `sentinel-proxy serve --auth-keys FILE` to proxy locally");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let aws = sentinel_aws::config::load(Default::default()).await;
        let proxy = build(config, &aws)?;
        lambda::run(Arc::new(proxy))
            .await
            .map_err(|e| anyhow::anyhow!("lambda runtime: {e}"))
    })
}

/// Clients are built once per process (per Lambda container), never per request.
fn build(config: Config, aws: &aws_config::SdkConfig) -> Result<Live> {
    let upstream = HttpUpstream::new(config.timeout);
    Ok(Proxy::new(
        config,
        Ssm(aws_sdk_ssm::Client::new(aws)),
        upstream,
    ))
}

/// `serve` (feature `serve`, on by default).
#[cfg(feature = "serve")]
mod local {
    use std::collections::HashMap;
    use std::net::SocketAddr;
    use std::path::PathBuf;
    use std::sync::Arc;

    use anyhow::{Context, Result, bail};
    use clap::{Parser, Subcommand};
    use sentinel_front::server::shutdown_signal;
    use sentinel_front::sigv4::{self, Verifier};
    use sentinel_proxy::Config;
    use sentinel_proxy::serve::{self, Front};
    use sentinel_types::AccountId;

    /// Sentinel's signed egress proxy. Without a subcommand it runs as an AWS Lambda
    /// function behind a Function URL with AWS_IAM auth; configuration comes from the
    /// `SENTINEL_PROXY_*` environment variables (docs/proxy.md).
    #[derive(Debug, Parser)]
    #[command(name = "sentinel-proxy", version)]
    pub struct Cli {
        #[command(subcommand)]
        pub command: Option<Command>,
    }

    #[derive(Debug, Subcommand)]
    pub enum Command {
        /// Proxy over plain HTTP, verifying SigV4 (service `lambda`) like a Function URL's
        /// AWS_IAM auth.
        Serve(Box<ServeArgs>),
    }

    #[derive(Debug, clap::Args)]
    pub struct ServeArgs {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8788")]
        listen: SocketAddr,
        /// JSON array of {"access_key_id", "secret_access_key", "arn", "account_id"}.
        #[arg(long)]
        auth_keys: PathBuf,
        /// Region requests must be signed for (service `lambda`).
        #[arg(long, env = "AWS_REGION")]
        region: String,
        /// The account the proxy stands for: its users are bare names, every other
        /// account's `<account>:<user>`. Default: the account of this process's own AWS
        /// credentials (sts:GetCallerIdentity at start).
        #[arg(long, value_name = "ACCOUNT")]
        account_id: Option<AccountId>,
        /// The only `Host` requests may be signed for. Default: the listen address as
        /// bound (`127.0.0.1:8788`).
        #[arg(long, value_name = "HOST")]
        host: Option<String>,
        /// Base URL of the one upstream.
        #[arg(long, env = "SENTINEL_PROXY_UPSTREAM")]
        upstream: Option<String>,
        /// Comma list of `METHOD /path-glob`.
        #[arg(long, env = "SENTINEL_PROXY_ROUTES")]
        routes: Option<String>,
        /// SSM name of the proxy's policy.
        #[arg(long, env = "SENTINEL_PROXY_POLICY_PARAMETER")]
        policy_parameter: Option<String>,
        /// SSM SecureString sent upstream as `Authorization`.
        #[arg(long, env = "SENTINEL_PROXY_UPSTREAM_AUTH_PARAMETER")]
        upstream_auth_parameter: Option<String>,
        /// Largest request body in bytes (default 1 MiB).
        #[arg(long, env = "SENTINEL_PROXY_MAX_BODY")]
        max_body: Option<String>,
        /// Upstream timeout in milliseconds (default 10000).
        #[arg(long, env = "SENTINEL_PROXY_TIMEOUT_MS")]
        timeout_ms: Option<String>,
        /// Request headers to forward besides the standard ones (comma list).
        #[arg(long, env = "SENTINEL_PROXY_FORWARD_HEADERS")]
        forward_headers: Option<String>,
    }

    /// `sentinel-proxy serve`.
    pub fn serve(args: ServeArgs) -> Result<()> {
        let flags: HashMap<&str, Option<String>> = HashMap::from([
            ("SENTINEL_PROXY_UPSTREAM", args.upstream),
            ("SENTINEL_PROXY_ROUTES", args.routes),
            ("SENTINEL_PROXY_POLICY_PARAMETER", args.policy_parameter),
            (
                "SENTINEL_PROXY_UPSTREAM_AUTH_PARAMETER",
                args.upstream_auth_parameter,
            ),
            ("SENTINEL_PROXY_MAX_BODY", args.max_body),
            ("SENTINEL_PROXY_TIMEOUT_MS", args.timeout_ms),
            ("SENTINEL_PROXY_FORWARD_HEADERS", args.forward_headers),
        ]);
        // A flag wins; the rest (cache TTL, identity roles, stack) from the environment.
        let config = Config::from_lookup(|name| match flags.get(name) {
            Some(value) => value.clone(),
            None => std::env::var(name).ok(),
        })?;
        let keys = std::fs::read_to_string(&args.auth_keys).with_context(|| {
            format!(
                "cannot read the auth keys file `{}`",
                args.auth_keys.display()
            )
        })?;
        let verifier = Verifier::from_json(&keys, args.region, sigv4::LAMBDA)
            .map_err(|e| anyhow::anyhow!("{e} (in `{}`)", args.auth_keys.display()))?;
        if args.host.as_deref().is_some_and(|h| h.trim().is_empty()) {
            bail!("`--host` is empty; name the host clients sign for, or leave it out");
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind(args.listen)
                .await
                .with_context(|| format!("cannot listen on `{}`", args.listen))?;
            let local = listener.local_addr().context("listener has no address")?;
            let aws = sentinel_aws::config::load(Default::default()).await;
            let home_account = match args.account_id {
                Some(account) => account,
                None => sentinel_aws::own_account(&aws)
                    .await
                    .map_err(anyhow::Error::msg)?,
            };
            let proxy = Arc::new(super::build(config, &aws)?);
            // Tests and scripts wait for this line before sending requests.
            eprintln!("sentinel-proxy: listening on http://{local}");
            let front = Front {
                verifier,
                home_account,
                host: args.host.unwrap_or_else(|| local.to_string()),
            };
            serve::run(listener, proxy, front, shutdown_signal())
                .await
                .context("server failed")
        })
    }
}

/// The local build: `serve`, or (no subcommand) the Lambda function.
#[cfg(feature = "serve")]
fn run() -> Result<()> {
    use clap::Parser;
    use local::{Cli, Command};
    match Cli::parse().command {
        None => run_lambda(),
        Some(Command::Serve(args)) => local::serve(*args),
    }
}
