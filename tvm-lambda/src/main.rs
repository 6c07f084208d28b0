//! `sentinel-tvm`: wiring only. Reads the settings once, builds the AWS clients once,
//! then runs the service as a Lambda (when `AWS_LAMBDA_RUNTIME_API` is set) or as
//! `sentinel-tvm serve`.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use approvals::{DynamoApprovalStore, DynamoBreakGlassStore};
use sentinel_aws::{IamRoles, SsmPolicyStore};
use sessions::DynamoSessionStore;
use tvm_lambda::aws::StsIssuer;
use tvm_lambda::gates::Gates;
use tvm_lambda::notify::Notifier;
use tvm_lambda::settings::JwtIssuers;
use tvm_lambda::{Service, Settings, lambda};

type Tvm = Service<SsmPolicyStore, StsIssuer, DynamoSessionStore, IamRoles>;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sentinel-tvm: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The Lambda build (`--no-default-features`, scripts/package.sh): no subcommands, no
/// argument parser, no local server or SigV4 verifier linked in.
#[cfg(not(feature = "serve"))]
fn run() -> Result<()> {
    if std::env::args_os().len() > 1 {
        bail!(
            "this build of sentinel-tvm only runs as a Lambda function (built without the `serve` feature)"
        );
    }
    run_lambda()
}

/// Runs as a Lambda function: it must find `AWS_LAMBDA_RUNTIME_API`.
fn run_lambda() -> Result<()> {
    // A bad setting stops start-up, naming the variable (docs/identity.md–§6).
    let settings = Settings::from_env()?;
    if let Err(why) = lambda::check_runtime_env() {
        let hint = if cfg!(feature = "serve") {
            "run `sentinel-tvm serve --auth-keys FILE` to serve the API locally"
        } else {
            "this build runs only as a Lambda function; a build with the default feature `serve` serves the API locally"
        };
        bail!("{why}\nhint: {hint}");
    }
    // One invocation at a time per Lambda container: a single-threaded runtime starts
    // fastest.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let config = sentinel_aws::config::load(settings.aws_timeouts).await;
        let service = build(settings, &config).await?;
        lambda::run(Arc::new(service))
            .await
            .map_err(|e| anyhow::anyhow!("lambda runtime: {e}"))
    })
}

/// `serve` and `create-table`: the local stack (feature `serve`, on by default).
#[cfg(feature = "serve")]
mod local {
    use std::net::SocketAddr;
    use std::path::PathBuf;
    use std::sync::Arc;

    use anyhow::{Context, Result, bail};
    use clap::{Parser, Subcommand};
    use sentinel_front::server::shutdown_signal;
    use sentinel_front::sigv4::{self, Verifier};
    use sentinel_types::AccountId;
    use tvm_lambda::Settings;
    use tvm_lambda::serve::{self, Front};

    /// Sentinel's token vending machine. Without a subcommand it runs as an AWS Lambda
    /// function (it must find `AWS_LAMBDA_RUNTIME_API`); configuration comes from the
    /// `SENTINEL_*` environment variables and the standard AWS SDK environment.
    #[derive(Debug, Parser)]
    #[command(name = "sentinel-tvm", version)]
    pub struct Cli {
        #[command(subcommand)]
        pub command: Option<Command>,
    }

    #[derive(Debug, Subcommand)]
    pub enum Command {
        /// Serve the TVM API over plain HTTP, verifying SigV4 like API Gateway's AWS_IAM auth.
        Serve {
            /// Address to listen on.
            #[arg(long, default_value = "127.0.0.1:8787")]
            listen: SocketAddr,
            /// JSON array of {"access_key_id", "secret_access_key", "arn", "account_id"}.
            #[arg(long)]
            auth_keys: PathBuf,
            /// Region requests must be signed for (service `execute-api`).
            #[arg(long, env = "AWS_REGION")]
            region: String,
            /// The account this TVM stands for: its users are bare names, every other
            /// account's are `<account>:<user>`. Default: the account of this process's own
            /// AWS credentials (sts:GetCallerIdentity at start).
            #[arg(long, value_name = "ACCOUNT")]
            account_id: Option<AccountId>,
            /// Refuse (403) a request signed for any `Host` but this one, e.g.
            /// `tvm.example.com` or `127.0.0.1:8787` (the port as the client sends it).
            #[arg(long, value_name = "HOST")]
            host: Option<String>,
        },
        /// Create the session table with its indexes and TTL (idempotent; for local
        /// stacks and tests: deploy/template.yaml creates it in AWS).
        CreateTable {
            /// DynamoDB table to create.
            #[arg(long, env = "SENTINEL_SESSION_TABLE", value_name = "TABLE")]
            table: String,
        },
        /// Create the approval and break-glass tables (idempotent; for local stacks and
        /// tests: deploy/template.yaml creates them in AWS).
        CreateTables {
            /// The approval requests' table.
            #[arg(long, env = "SENTINEL_APPROVAL_TABLE", value_name = "TABLE")]
            approval_table: String,
            /// The break-glass events' table.
            #[arg(long, env = "SENTINEL_BREAKGLASS_TABLE", value_name = "TABLE")]
            breakglass_table: String,
        },
    }

    /// `sentinel-tvm serve`.
    pub fn serve(
        listen: SocketAddr,
        auth_keys: PathBuf,
        region: String,
        account_id: Option<AccountId>,
        host: Option<String>,
    ) -> Result<()> {
        let settings = Settings::from_env()?;
        let keys = std::fs::read_to_string(&auth_keys)
            .with_context(|| format!("cannot read the auth keys file `{}`", auth_keys.display()))?;
        let verifier = Verifier::from_json(&keys, region, sigv4::EXECUTE_API)
            .map_err(|e| anyhow::anyhow!("{e} (in `{}`)", auth_keys.display()))?;
        if host.as_deref().is_some_and(|h| h.trim().is_empty()) {
            bail!("`--host` is empty; name the host clients sign for, or leave it out");
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on `{listen}`"))?;
            let local = listener.local_addr().context("listener has no address")?;
            let config = sentinel_aws::config::load(settings.aws_timeouts).await;
            let account = match account_id {
                Some(account) => account,
                None => sentinel_aws::own_account(&config)
                    .await
                    .map_err(anyhow::Error::msg)?,
            };
            let service = Arc::new(super::build(settings, &config).await?);
            // Tests and scripts wait for this line before sending requests.
            eprintln!("sentinel-tvm: listening on http://{local}");
            let front = Front {
                verifier,
                tvm_account: account,
                host,
            };
            serve::run(listener, service, Arc::new(front), shutdown_signal())
                .await
                .context("server failed")
        })
    }

    /// `sentinel-tvm create-tables`.
    pub fn create_tables(approvals: &str, breakglass: &str) -> Result<()> {
        if approvals.trim().is_empty() || breakglass.trim().is_empty() {
            bail!("a table name is empty (--approval-table, --breakglass-table)");
        }
        if approvals == breakglass {
            bail!("the approval and break-glass tables must be two tables");
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        runtime.block_on(async {
            let config = sentinel_aws::config::load(Default::default()).await;
            approvals::create_tables(&aws_sdk_dynamodb::Client::new(&config), approvals, breakglass)
                .await
                .context(
                    "check the table names and this shell's AWS credentials and region (AWS_PROFILE, AWS_REGION)",
                )
        })?;
        println!("tables {approvals} and {breakglass} are active (TTL on ttl)");
        Ok(())
    }

    /// `sentinel-tvm create-table`.
    pub fn create_table(table: &str) -> Result<()> {
        if table.trim().is_empty() {
            bail!("the session table name is empty (--table or SENTINEL_SESSION_TABLE)");
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        runtime.block_on(async {
            let config = sentinel_aws::config::load(Default::default()).await;
            sessions::create_table(&aws_sdk_dynamodb::Client::new(&config), table)
                .await
                .context(
                    "check the table name and this shell's AWS credentials and region (AWS_PROFILE, AWS_REGION)",
                )
        })?;
        println!(
            "table {table} is active (indexes by-user, by-profile and revoked-by-role, TTL on ttl)"
        );
        Ok(())
    }
}

/// The local build: `serve`, `create-table`, or (no subcommand) the Lambda function.
#[cfg(feature = "serve")]
fn run() -> Result<()> {
    use clap::Parser;
    use local::{Cli, Command};
    match Cli::parse().command {
        None => run_lambda(),
        Some(Command::Serve {
            listen,
            auth_keys,
            region,
            account_id,
            host,
        }) => local::serve(listen, auth_keys, region, account_id, host),
        Some(Command::CreateTable { table }) => local::create_table(&table),
        Some(Command::CreateTables {
            approval_table,
            breakglass_table,
        }) => local::create_tables(&approval_table, &breakglass_table),
    }
}

/// SDK clients are built once per process (per Lambda container), never per request;
/// so is the JWT verifier of `/exchange`, whose key cache lives as long.
async fn build(settings: Settings, config: &aws_config::SdkConfig) -> Result<Tvm> {
    let ssm = aws_sdk_ssm::Client::new(config);
    let issuers = match &settings.jwt_issuers {
        None => None,
        Some(JwtIssuers::Inline(issuers)) => Some(issuers.clone()),
        Some(JwtIssuers::Parameter(name)) => {
            let json = sentinel_aws::get_parameter(&ssm, name)
                .await
                .with_context(|| format!("cannot read SENTINEL_JWT_ISSUERS from `{name}`"))?
                .with_context(|| {
                    format!("SENTINEL_JWT_ISSUERS names `{name}`, which does not exist")
                })?;
            Some(
                sentinel_jwt::parse_issuers(&json)
                    .map_err(anyhow::Error::msg)
                    .with_context(|| {
                        format!("invalid setting `SENTINEL_JWT_ISSUERS` (parameter `{name}`)")
                    })?,
            )
        }
    };
    let policies = SsmPolicyStore::new(ssm, settings.policy_root.clone());
    let issuer = StsIssuer::new(aws_sdk_sts::Client::new(config));
    let store = settings
        .session_table
        .as_ref()
        .map(|table| DynamoSessionStore::new(aws_sdk_dynamodb::Client::new(config), table.clone()));
    let gates = match &settings.gate_tables {
        None => None,
        Some(tables) => {
            let dynamodb = aws_sdk_dynamodb::Client::new(config);
            let notifier = Notifier::new(&settings.notify, config)
                .map_err(|e| anyhow::anyhow!("invalid setting `{}`: {}", e.variable, e.message))?;
            Some(Gates::new(
                DynamoApprovalStore::new(dynamodb.clone(), tables.approvals.clone()),
                DynamoBreakGlassStore::new(dynamodb, tables.breakglass.clone()),
                notifier,
            ))
        }
    };
    let service = Service::new(settings, policies, issuer, store, IamRoles::new(config));
    let service = match gates {
        Some(gates) => service.with_gates(gates),
        None => service,
    };
    Ok(match issuers {
        None => service,
        Some(issuers) => {
            let fetch = sentinel_jwt::HttpFetch::new();
            service.with_workloads(Arc::new(sentinel_jwt::Verifier::new(issuers, fetch)))
        }
    })
}
