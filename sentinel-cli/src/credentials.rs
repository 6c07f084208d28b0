//! `sentinel credentials`: credential_process output for one profile, through
//! the cache. Also the vending path `exec` shares.

use chrono::{DateTime, Utc};
use protocol::{CredentialProcessOutput, VendResponse};
use sentinel_types::{ProfileName, SessionDuration};
use url::Url;

use crate::cache::{Cache, CacheKey, cache_dir};
use crate::environment::Environment;
use crate::failure::Failure;
use crate::recursion;
use crate::tvm::{self, SigningScope, TvmClient};

/// Options every TVM-calling command shares (SPEC §8 global options).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TvmOptions {
    /// TVM base URL, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/prod
    #[arg(
        long,
        global = true,
        env = "SENTINEL_TVM_URL",
        hide_env_values = true,
        help_heading = "Global options",
        value_name = "URL"
    )]
    pub tvm_url: Option<String>,
    /// AWS region (default: from the TVM host name for TVM calls, the SDK's for AWS calls)
    #[arg(
        long,
        global = true,
        env = "AWS_REGION",
        hide_env_values = true,
        help_heading = "Global options",
        value_name = "REGION"
    )]
    pub region: Option<String>,
    /// AWS profile whose credentials sign calls to the TVM (default: the SDK chain)
    #[arg(
        long,
        global = true,
        env = "SENTINEL_SOURCE_PROFILE",
        hide_env_values = true,
        help_heading = "Global options",
        value_name = "PROFILE"
    )]
    pub source_profile: Option<String>,
}

/// `sentinel credentials` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct CredentialsArgs {
    #[command(flatten)]
    pub vend: VendArgs,
}

/// What to vend and how to use the cache.
#[derive(Debug, Clone, clap::Args)]
pub struct VendArgs {
    /// Sentinel profile to get credentials for
    #[arg(long, value_name = "PROFILE")]
    pub profile: String,
    /// Requested lifetime: seconds (900-43200) or with a unit, e.g. 15m, 1h
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<SessionDuration>,
    /// Neither read nor write the credential cache
    #[arg(long)]
    pub no_cache: bool,
    /// Vend anew when cached credentials expire within this span
    #[arg(long, value_name = "SPAN", default_value = "5m")]
    pub refresh_window: String,
    /// A workload's JWT (a file holding the token): exchange it at the TVM's
    /// `POST /exchange` instead of signing with AWS credentials
    #[arg(long, env = "SENTINEL_JWT_FILE", value_name = "FILE")]
    pub jwt_file: Option<std::path::PathBuf>,
}

/// The largest token file read (a JWT is a few kilobytes).
const MAX_TOKEN_FILE: u64 = 16 * 1024;

/// The token in `path`, trimmed. Read for every vend: workload tokens rotate.
fn read_token(path: &std::path::Path) -> Result<String, Failure> {
    let unreadable = |e: &dyn std::fmt::Display| {
        Failure::invalid(format!("cannot read the JWT file `{}`: {e}", path.display()))
            .with_hint("pass --jwt-file (or SENTINEL_JWT_FILE) naming the file your platform writes the token to")
    };
    let size = std::fs::metadata(path).map_err(|e| unreadable(&e))?.len();
    if size > MAX_TOKEN_FILE {
        return Err(unreadable(&format!(
            "it is {size} bytes, more than a token"
        )));
    }
    let token = std::fs::read_to_string(path).map_err(|e| unreadable(&e))?;
    let token = token.trim();
    if token.is_empty() || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(unreadable(&"it does not hold one token"));
    }
    Ok(token.to_owned())
}

/// Who the cache entry belongs to for a token: its digest, so a rotated or another
/// workload's token never reads credentials vended for the last one.
fn token_signer(token: &str) -> String {
    use sha2::Digest as _;
    format!(
        "jwt:{}",
        hex::encode(sha2::Sha256::digest(token.as_bytes()))
    )
}

/// Whether the depth marker set by `exec` makes this call a refused re-entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// `credentials`: refuse when started by sentinel.
    Refuse,
    /// `exec`, `profiles`: allowed anywhere.
    Allow,
}

/// Runs `sentinel credentials`.
pub async fn run(
    args: &CredentialsArgs,
    options: &TvmOptions,
    env: &Environment,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    let vended = obtain(&args.vend, options, env, now, Nesting::Refuse).await?;
    let output = serde_json::to_string(&CredentialProcessOutput::from(&vended))
        .map_err(|e| Failure::error(format!("cannot encode the credentials: {e}")))?;
    println!("{output}");
    Ok(())
}

/// Credentials for `args.profile`: from the cache when fresh, else from the
/// TVM (one caller at a time per cache key), then cached.
pub async fn obtain(
    args: &VendArgs,
    options: &TvmOptions,
    env: &Environment,
    now: DateTime<Utc>,
    nesting: Nesting,
) -> Result<VendResponse, Failure> {
    let profile = ProfileName::parse(&args.profile).map_err(|e| Failure::invalid(e.to_string()))?;
    let duration = args.duration.map(SessionDuration::secs);
    let window = parse_span(&args.refresh_window).ok_or_else(|| {
        Failure::invalid(format!(
            "refresh window `{}` is not a span such as 300, 300s, 5m or 1h",
            args.refresh_window
        ))
    })?;
    let token = args.jwt_file.as_deref().map(read_token).transpose()?;
    let url_only;
    let (tvm_url, signer) = match &token {
        // A workload: no AWS credentials, no SigV4 scope needed.
        Some(token) => {
            url_only = options.tvm_url.as_deref().ok_or_else(|| {
                Failure::invalid("no tvm url given")
                    .with_hint("pass --tvm-url or set SENTINEL_TVM_URL to the TVM's https URL")
            })?;
            (url_only, token_signer(token))
        }
        None => {
            guard_recursion(options, env, nesting).await?;
            (Target::resolve(options)?.tvm_url, env.signer.clone())
        }
    };
    let vend = async || match &token {
        Some(token) => {
            let url = tvm::parse_url(tvm_url).map_err(|e| e.into_failure(None))?;
            TvmClient::with_token(url, token.clone())
                .map_err(|e| e.into_failure(Some(profile.as_str())))?
                .exchange(&profile, duration)
                .await
                .map_err(|e| e.into_failure(Some(profile.as_str())))
        }
        None => {
            let target = Target::resolve(options)?;
            let client = target.connect(options, Some(profile.as_str())).await?;
            client
                .vend(&profile, duration)
                .await
                .map_err(|e| e.into_failure(Some(profile.as_str())))
        }
    };
    if args.no_cache {
        return vend().await;
    }

    let dir = cache_dir(env.xdg_cache_home.as_deref(), env.home.as_deref()).ok_or_else(|| {
        Failure::error("cannot find a cache directory: neither XDG_CACHE_HOME nor HOME is set")
            .with_hint("set XDG_CACHE_HOME, or pass --no-cache")
    })?;
    let cache = Cache::open(dir)?;
    let key = CacheKey {
        tvm_url,
        profile: profile.as_str(),
        source_profile: options.source_profile.as_deref(),
        signer: &signer,
        duration,
    }
    .digest();
    if let Some(hit) = cache.read_fresh(&key, profile.as_str(), now, window) {
        return Ok(hit);
    }
    let _lock = cache.lock(&key)?;
    // Another process may have vended while this one waited for the lock.
    if let Some(hit) = cache.read_fresh(&key, profile.as_str(), now, window) {
        return Ok(hit);
    }
    let vended = vend().await?;
    cache.store(&key, &vended)?;
    Ok(vended)
}

/// Where the TVM is and how requests to it are signed.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// `--tvm-url` as given (part of the cache key).
    pub tvm_url: &'a str,
    url: Url,
    scope: SigningScope,
}

impl<'a> Target<'a> {
    /// Checks `--tvm-url` and works out the signing region and service.
    pub fn resolve(options: &'a TvmOptions) -> Result<Self, Failure> {
        let tvm_url = options.tvm_url.as_deref().ok_or_else(|| {
            Failure::invalid("no tvm url given")
                .with_hint("pass --tvm-url or set SENTINEL_TVM_URL to the TVM's https URL")
        })?;
        let url = tvm::parse_url(tvm_url).map_err(|e| e.into_failure(None))?;
        let scope = tvm::signing_scope(&url, options.region.as_deref())
            .map_err(|e| e.into_failure(None))?;
        Ok(Self {
            tvm_url,
            url,
            scope,
        })
    }

    /// The parsed URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The region and service requests are signed for.
    pub fn scope(&self) -> &SigningScope {
        &self.scope
    }

    /// Loads the signing credentials and builds the client.
    pub async fn connect(
        &self,
        options: &TvmOptions,
        profile: Option<&str>,
    ) -> Result<TvmClient, Failure> {
        let credentials = tvm::load_credentials(options.source_profile.as_deref())
            .await
            .map_err(|e| e.into_failure(profile))?;
        Ok(TvmClient::new(
            self.url.clone(),
            self.scope.clone(),
            credentials,
        ))
    }
}

/// Fails when signing would run sentinel again (see [`recursion`]).
pub async fn guard_recursion(
    options: &TvmOptions,
    env: &Environment,
    nesting: Nesting,
) -> Result<(), Failure> {
    let mut signing = env.signing(options.source_profile.as_deref());
    signing.nested = signing.nested && nesting == Nesting::Refuse;
    recursion::check(&signing).await
}

/// `300`, `300s`, `5m`, `1h`.
pub fn parse_span(raw: &str) -> Option<chrono::Duration> {
    let raw = raw.trim();
    let (digits, unit) = match raw.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => raw.split_at(at),
        None => (raw, "s"),
    };
    if digits.is_empty() || digits.len() > 9 {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    match unit {
        "s" => Some(chrono::Duration::seconds(n)),
        "m" => Some(chrono::Duration::minutes(n)),
        "h" => Some(chrono::Duration::hours(n)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_accept_plain_seconds_and_units() {
        assert_eq!(parse_span("300"), Some(chrono::Duration::seconds(300)));
        assert_eq!(parse_span("5m"), Some(chrono::Duration::minutes(5)));
        assert_eq!(parse_span("1h"), Some(chrono::Duration::hours(1)));
        assert_eq!(parse_span("0s"), Some(chrono::Duration::zero()));
        for bad in ["", "m", "5d", "-5m", "1.5h", "5 m", "9999999999"] {
            assert_eq!(parse_span(bad), None, "{bad:?}");
        }
    }
}
