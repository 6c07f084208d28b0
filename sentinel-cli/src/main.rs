//! `sentinel`: parses the command line, reads the clock and the environment
//! once, runs one command, and turns its outcome into the exit code — the
//! only place that does (0 success, 1 error, 2 denied by policy, 3 invalid
//! input or invalid policy). Failures print `sentinel: error: ...` and an
//! optional `hint: ...` on stderr.

mod policy_cmd;

use std::process::ExitCode;

use chrono::Utc;
use clap::error::ErrorKind;
use clap::{Parser, Subcommand};
use sentinel_cli::cli;
use sentinel_cli::credentials::TvmOptions;
use sentinel_cli::environment::Environment;
use sentinel_cli::failure::{ExitKind, Failure};

/// Sentinel: short-lived AWS credentials for protected roles, vended by a
/// policy-checking TVM.
#[derive(Debug, Parser)]
#[command(name = "sentinel", version)]
struct Cli {
    #[command(flatten)]
    options: TvmOptions,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Engineer(cli::Command),
    /// Validate and test policies offline; pull, push and diff them in SSM
    #[command(subcommand)]
    Policy(policy_cmd::PolicyCommand),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage(&error),
    };
    let outcome = match &cli.command {
        Command::Engineer(command) => cli::run(command, &cli.options, &Environment::from_process()),
        Command::Policy(command) => policy_cmd::run(command, &cli.options, Utc::now()),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(failure) => fail(&failure),
    }
}

fn fail(failure: &Failure) -> ExitCode {
    eprintln!("{failure}");
    ExitCode::from(failure.kind.code())
}

/// Help and version go to stdout with success; a usage mistake is invalid
/// input (exit 3, not clap's 2, which means "denied" here), told in
/// sentinel's one-line form with the usage as the hint.
fn usage(error: &clap::Error) -> ExitCode {
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        let _ = error.print();
        return ExitCode::SUCCESS;
    }
    if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let _ = error.print();
        return ExitCode::from(ExitKind::Invalid.code());
    }
    let text = error.render().to_string();
    let mut lines = text.lines();
    let mut message = lines
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_owned();
    if message.ends_with(':') {
        // "the following required arguments were not provided:" + one per line.
        let items: Vec<&str> = lines
            .take_while(|l| l.starts_with("  "))
            .map(str::trim)
            .collect();
        message = format!("{message} {}", items.join(", "));
    }
    let usage = text
        .lines()
        .find_map(|line| line.strip_prefix("Usage: "))
        .map(|usage| format!("usage: {usage} (see --help)"))
        .unwrap_or_else(|| "see `sentinel --help`".to_owned());
    fail(&Failure::invalid(message).with_hint(usage))
}
