//! A SigV4-signing HTTP client for the TVM API (docs/api.md).
//!
//! The TVM sits behind API Gateway or a Lambda Function URL with `AWS_IAM`
//! auth, so every call is signed with the caller's own AWS credentials: from
//! `--source-profile` when given, else the SDK's default chain.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use aws_config::provider_config::ProviderConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use protocol::{ErrorBody, ErrorCode, ProfilesResponse, VendResponse};
use sentinel_aws::https::HttpsClient;
use sentinel_types::{ProfileName, SessionId};
use sessions::SessionRecord;
use url::Url;

use crate::failure::{ExitKind, Failure, error_chain};

mod gates;

pub use gates::{BreakGlassVend, EventsPage, RequestRevoked, RequestsPage};

/// The region and service name a request is signed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningScope {
    /// For example `eu-west-1`.
    pub region: String,
    /// `execute-api` (API Gateway, `sentinel-tvm serve`) or `lambda` (Function URL).
    pub service: &'static str,
}

/// What went wrong talking to the TVM.
#[derive(Debug, thiserror::Error)]
pub enum TvmError {
    /// `--tvm-url` is not an http(s) URL.
    #[error("`{0}` is not a usable tvm url")]
    BadUrl(String),
    /// No `--region` and none in the host name.
    #[error("cannot tell which aws region `{0}` signs for")]
    NoRegion(String),
    /// The SDK chain or the source profile gave no credentials.
    #[error("no aws credentials to sign the call to the tvm: {0}")]
    Credentials(String),
    /// aws-sigv4 refused the request.
    #[error("cannot sign the request to the tvm: {0}")]
    Signing(String),
    /// Connection, TLS or timeout.
    #[error("cannot reach the tvm at `{url}`: {reason}")]
    Connect {
        /// Where.
        url: String,
        /// Why.
        reason: String,
    },
    /// The TVM answered with a Sentinel error body.
    #[error("{}: {} (request id {})", .body.code, .body.message, .body.request_id)]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The body.
        body: ErrorBody,
    },
    /// A non-2xx answer without a Sentinel error body (a gateway, a proxy).
    #[error("the tvm answered http {status}: {detail}")]
    Http {
        /// HTTP status.
        status: u16,
        /// Whatever the body said, shortened.
        detail: String,
    },
    /// A 200 whose body is not what the contract promises.
    #[error("the tvm's answer is not a valid {what}: {reason}")]
    Unreadable {
        /// Which document.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

impl TvmError {
    /// The exit class and hint for this error (docs/cli.md exit codes).
    pub fn into_failure(self, profile: Option<&str>) -> Failure {
        let (kind, hint) = match &self {
            Self::BadUrl(_) => (
                ExitKind::Invalid,
                Some("pass --tvm-url (or SENTINEL_TVM_URL) as https://host[/stage]".to_owned()),
            ),
            Self::NoRegion(_) => (
                ExitKind::Invalid,
                Some("pass --region (or set AWS_REGION) to the TVM's region".to_owned()),
            ),
            Self::Credentials(_) => (ExitKind::Error, Some(source_credentials_hint())),
            Self::Signing(_) | Self::Unreadable { .. } => (ExitKind::Error, None),
            Self::Connect { .. } => (
                ExitKind::Error,
                Some("check --tvm-url (or SENTINEL_TVM_URL) and your network".to_owned()),
            ),
            Self::Rejected { status, body } => rejected_class(*status, body, profile),
            Self::Http { status, .. } if *status == 403 => {
                (ExitKind::Error, Some(source_credentials_hint()))
            }
            Self::Http { status, .. } if (400..500).contains(status) && *status != 404 => {
                (ExitKind::Invalid, None)
            }
            Self::Http { .. } => (
                ExitKind::Error,
                Some("check --tvm-url (or SENTINEL_TVM_URL)".to_owned()),
            ),
        };
        let message = match (&self, profile) {
            // The TVM's message names the command too; the hint says it once.
            (Self::Rejected { body, .. }, Some(profile))
                if body.known_code() == Some(ErrorCode::ApprovalRequired) =>
            {
                format!(
                    "{}: profile `{profile}` needs an approved request (request id {})",
                    body.code, body.request_id
                )
            }
            _ => self.to_string(),
        };
        let failure = Failure::new(kind, message);
        match hint {
            Some(hint) => failure.with_hint(hint),
            None => failure,
        }
    }
}

fn source_credentials_hint() -> String {
    "check the credentials of the source profile (--source-profile / SENTINEL_SOURCE_PROFILE, else the AWS SDK default chain): `aws sts get-caller-identity` must work with them".to_owned()
}

fn rejected_class(
    status: u16,
    body: &ErrorBody,
    profile: Option<&str>,
) -> (ExitKind, Option<String>) {
    let profile = profile.unwrap_or("PROFILE");
    match body.known_code() {
        Some(ErrorCode::PolicyDeny) => (
            ExitKind::Denied,
            Some(format!(
                "run `sentinel policy pull {profile}` to read the policy, or `sentinel policy test` to try it offline"
            )),
        ),
        Some(ErrorCode::AdminDeny) => (
            ExitKind::Denied,
            Some("the admin policy (`<root>/_admin`) decides who administers sessions and reviews break-glass; try it offline with `sentinel policy test _admin.yaml --principal ARN --action ACTION`".to_owned()),
        ),
        Some(ErrorCode::ApprovalRequired) => (
            ExitKind::Denied,
            Some(format!(
                "run `sentinel request --profile {profile} --reason \"<why>\" --wait`"
            )),
        ),
        Some(ErrorCode::ApprovalDeny) => (
            ExitKind::Denied,
            Some("only an approver named by the profile's rule answers a request, and never its requester (under any of their principals)".to_owned()),
        ),
        Some(ErrorCode::Cooldown) => (
            ExitKind::Denied,
            Some(format!(
                "the credentials of your last break-glass may still be valid; otherwise ask an approver: `sentinel request --profile {profile} --reason \"<why>\" --wait`"
            )),
        ),
        Some(ErrorCode::InvalidReason) => (
            ExitKind::Invalid,
            Some(format!(
                "the profile's rule says what a reason must hold (a length, a ticket pattern): `sentinel policy pull {profile}` shows it"
            )),
        ),
        Some(ErrorCode::IamAuthRequired | ErrorCode::InvalidIdentity) => {
            (ExitKind::Error, Some(source_credentials_hint()))
        }
        Some(ErrorCode::ProfileNotFound) => (
            ExitKind::Error,
            Some("run `sentinel profiles` to list the profiles this TVM serves".to_owned()),
        ),
        Some(ErrorCode::InvalidToken) => (
            ExitKind::Error,
            Some("the TVM did not accept the token of --jwt-file (SENTINEL_JWT_FILE): check that it is current and that its issuer and audience are in the TVM's SENTINEL_JWT_ISSUERS".to_owned()),
        ),
        _ if (400..500).contains(&status) && status != 403 && status != 404 => {
            (ExitKind::Invalid, None)
        }
        _ => (ExitKind::Error, None),
    }
}

/// Region from `--region`/`AWS_REGION` or the host name; `lambda` for
/// Function URLs, `execute-api` for everything else.
pub fn signing_scope(url: &Url, region: Option<&str>) -> Result<SigningScope, TvmError> {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    let (service, from_host) = match labels.as_slice() {
        [_, "lambda-url", region, "on", "aws"] => ("lambda", Some(*region)),
        [_, "execute-api", region, "amazonaws", "com"] => ("execute-api", Some(*region)),
        [_, "execute-api", region, "amazonaws", "com", "cn"] => ("execute-api", Some(*region)),
        _ => ("execute-api", None),
    };
    let region = region
        .filter(|r| !r.is_empty())
        .or(from_host)
        .ok_or_else(|| TvmError::NoRegion(url.to_string()))?;
    Ok(SigningScope {
        region: region.to_owned(),
        service,
    })
}

/// Parses `--tvm-url`.
pub fn parse_url(raw: &str) -> Result<Url, TvmError> {
    let url = Url::parse(raw).map_err(|_| TvmError::BadUrl(raw.to_owned()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(TvmError::BadUrl(raw.to_owned()));
    }
    Ok(url)
}

/// Loads the signing credentials: the source profile's, else the default chain's.
pub async fn load_credentials(source_profile: Option<&str>) -> Result<Credentials, TvmError> {
    let config = ProviderConfig::default().with_http_client(crate::aws::https_client());
    let provided = match source_profile {
        Some(profile) => {
            aws_config::profile::ProfileFileCredentialsProvider::builder()
                .configure(&config)
                .profile_name(profile)
                .build()
                .provide_credentials()
                .await
        }
        None => {
            aws_config::default_provider::credentials::DefaultCredentialsChain::builder()
                .configure(config)
                .build()
                .await
                .provide_credentials()
                .await
        }
    };
    provided.map_err(|e| TvmError::Credentials(error_chain(&e)))
}

/// How long connecting to the TVM may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one call may take, connecting and reading the whole answer included.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest answer read from the TVM (a page of sessions is far smaller).
const MAX_ANSWER: usize = 8 * 1024 * 1024;

/// A client for one TVM: SigV4-signed, or (workloads, `POST /exchange`) with a bearer
/// token.
#[derive(Debug)]
pub struct TvmClient {
    http: HttpsClient,
    base: Url,
    auth: Auth,
}

/// How requests prove who sends them.
enum Auth {
    SigV4 {
        scope: SigningScope,
        credentials: Credentials,
    },
    Bearer(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SigV4 { scope, .. } => f
                .debug_struct("SigV4")
                .field("scope", scope)
                .finish_non_exhaustive(),
            Self::Bearer(_) => f.write_str("Bearer(<redacted>)"),
        }
    }
}

impl TvmClient {
    /// A client for the TVM at `base`, signing with `credentials`.
    pub fn new(base: Url, scope: SigningScope, credentials: Credentials) -> Self {
        Self::build(base, Auth::SigV4 { scope, credentials })
    }

    /// A client for a workload: its JWT as the bearer token of `POST /exchange`.
    ///
    /// SECURITY: a bearer token is the credential itself (SigV4 never sends the key), so
    /// it goes over https only, or to a loopback `serve`.
    pub fn with_token(base: Url, token: String) -> Result<Self, TvmError> {
        let loopback = matches!(base.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if base.scheme() != "https" && !loopback {
            return Err(TvmError::BadUrl(format!(
                "{base} (a bearer token is sent over https only)"
            )));
        }
        Ok(Self::build(base, Auth::Bearer(token)))
    }

    /// The workspace's one HTTP client, the connector the SDK's calls use: same TLS and
    /// trusted roots, and proxies from `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`.
    fn build(base: Url, auth: Auth) -> Self {
        let http = HttpsClient::new(CONNECT_TIMEOUT, CALL_TIMEOUT);
        Self { http, base, auth }
    }

    /// `GET /?profile=P[&duration=S]`.
    pub async fn vend(
        &self,
        profile: &ProfileName,
        duration: Option<u32>,
    ) -> Result<VendResponse, TvmError> {
        let mut url = route(&self.base, "");
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("profile", profile.as_str());
            if let Some(secs) = duration {
                query.append_pair("duration", &secs.to_string());
            }
        }
        let body = self.get(url).await?;
        serde_json::from_slice(&body).map_err(|e| TvmError::Unreadable {
            what: "credentials response",
            reason: e.to_string(),
        })
    }

    /// `POST /exchange {"profile", "duration"}` with the bearer token (SPEC §10).
    pub async fn exchange(
        &self,
        profile: &ProfileName,
        duration: Option<u32>,
    ) -> Result<VendResponse, TvmError> {
        let mut fields = serde_json::Map::new();
        fields.insert("profile".to_owned(), profile.as_str().into());
        if let Some(secs) = duration {
            fields.insert("duration".to_owned(), secs.into());
        }
        let body = serde_json::Value::Object(fields).to_string();
        read(
            &self
                .post(route(&self.base, "exchange"), body.as_bytes())
                .await?,
            "credentials response",
        )
    }

    /// `GET /profiles`.
    pub async fn profiles(&self) -> Result<ProfilesResponse, TvmError> {
        let body = self.get(route(&self.base, "profiles")).await?;
        serde_json::from_slice(&body).map_err(|e| TvmError::Unreadable {
            what: "profiles response",
            reason: e.to_string(),
        })
    }

    /// `GET /sessions?...`: one page of sessions, newest first.
    pub async fn sessions(&self, query: &[(&str, &str)]) -> Result<SessionsPage, TvmError> {
        let mut url = route(&self.base, "sessions");
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let body = self.get(url).await?;
        read(&body, "sessions page")
    }

    /// `GET /sessions/{id}`.
    pub async fn session(&self, id: &SessionId) -> Result<SessionRecord, TvmError> {
        let body = self
            .get(route(&self.base, &format!("sessions/{id}")))
            .await?;
        read(&body, "session")
    }

    /// `POST /sessions/{id}/revoke`.
    pub async fn revoke(&self, id: &SessionId, reason: &str) -> Result<Revoked, TvmError> {
        let url = route(&self.base, &format!("sessions/{id}/revoke"));
        let body = serde_json::json!({ "reason": reason }).to_string();
        read(&self.post(url, body.as_bytes()).await?, "revoke answer")
    }

    /// `POST /sessions/revoke`: every active session of a user or a profile (`by` is
    /// `user` or `profile`).
    pub async fn revoke_all(
        &self,
        by: &str,
        value: &str,
        reason: &str,
    ) -> Result<Revoked, TvmError> {
        let url = route(&self.base, "sessions/revoke");
        let mut fields = serde_json::Map::new();
        fields.insert(by.to_owned(), value.into());
        fields.insert("reason".to_owned(), reason.into());
        let body = serde_json::Value::Object(fields).to_string();
        read(&self.post(url, body.as_bytes()).await?, "revoke answer")
    }

    /// `POST /sessions/reconcile`.
    pub async fn reconcile(&self) -> Result<Reconciled, TvmError> {
        let url = route(&self.base, "sessions/reconcile");
        read(&self.post(url, b"").await?, "reconcile answer")
    }

    async fn get(&self, url: Url) -> Result<Vec<u8>, TvmError> {
        self.send("GET", url, &[]).await
    }

    async fn post(&self, url: Url, body: &[u8]) -> Result<Vec<u8>, TvmError> {
        self.send("POST", url, body).await
    }

    async fn send(&self, method: &str, url: Url, body: &[u8]) -> Result<Vec<u8>, TvmError> {
        let connect = |reason: String| TvmError::Connect {
            url: url.to_string(),
            reason,
        };
        let mut request = http::Request::builder()
            .method(method)
            .uri(url.as_str())
            .header(
                "user-agent",
                concat!("sentinel-cli/", env!("CARGO_PKG_VERSION")),
            );
        if method == "POST" {
            request = request.header("content-type", "application/json");
        }
        match &self.auth {
            Auth::SigV4 { scope, credentials } => {
                let signed = sign_request(scope, credentials, method, &url, body)?;
                for (name, value) in signed {
                    request = request.header(name, value);
                }
            }
            Auth::Bearer(token) => {
                request = request.header("authorization", format!("Bearer {token}"))
            }
        }
        let request = request
            .body(body.to_vec())
            .map_err(|e| connect(error_chain(&e)))?;
        let response = self
            .http
            .send(request)
            .await
            .map_err(|e| connect(e.to_string()))?;
        let status = response.status().as_u16();
        let body = response
            .body(MAX_ANSWER)
            .await
            .map_err(|e| connect(e.to_string()))?;
        if (200..300).contains(&status) {
            return Ok(body);
        }
        match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(error) => Err(TvmError::Rejected {
                status,
                body: error,
            }),
            Err(_) => Err(TvmError::Http {
                status,
                detail: describe_foreign_body(&body),
            }),
        }
    }
}

/// The headers SigV4 adds to `method url` with `body`.
fn sign_request(
    scope: &SigningScope,
    credentials: &Credentials,
    method: &str,
    url: &Url,
    body: &[u8],
) -> Result<Vec<(String, String)>, TvmError> {
    let failed = |e: &dyn std::error::Error| TvmError::Signing(error_chain(e));
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&scope.region)
        .name(scope.service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| failed(&e))?
        .into();
    let signable = SignableRequest::new(
        method,
        url.as_str(),
        std::iter::empty(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| failed(&e))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| failed(&e))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect())
}

fn read<T: serde::de::DeserializeOwned>(body: &[u8], what: &'static str) -> Result<T, TvmError> {
    serde_json::from_slice(body).map_err(|e| TvmError::Unreadable {
        what,
        reason: e.to_string(),
    })
}

/// `GET /sessions`'s answer.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct SessionsPage {
    /// Newest first.
    pub sessions: Vec<SessionRecord>,
    /// The `next` query parameter of the following page.
    pub next: Option<String>,
}

/// A revoke's answer: the rows as they now stand and where layer 2 stands per role.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Revoked {
    /// Every session the call was about, revoked.
    pub revoked: Vec<SessionRecord>,
    /// Those that were revoked before this call.
    #[serde(default)]
    pub already_revoked: Vec<String>,
    /// By role ARN.
    pub aws_deny: BTreeMap<String, RoleDeny>,
}

/// A reconcile's answer.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Reconciled {
    /// By role ARN.
    pub aws_deny: BTreeMap<String, RoleDeny>,
}

/// Where layer 2 stands for one role.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct RoleDeny {
    /// `applied`, `pending` or `failed`.
    pub state: String,
    /// Why the deny is not in force (`pending` or `failed`).
    pub reason: Option<String>,
    /// The `aws:TokenIssueTime` cut-off is in force.
    #[serde(default)]
    pub fallback: bool,
}

/// `base` + `path`, keeping a stage prefix such as `/prod`.
fn route(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/');
    url.set_path(&format!("{prefix}/{path}"));
    url.set_query(None);
    url.set_fragment(None);
    url
}

/// API Gateway and proxies answer `{"message": "..."}` or HTML; keep it short.
fn describe_foreign_body(body: &[u8]) -> String {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let message = json.as_ref().and_then(|v| {
        ["message", "Message"]
            .into_iter()
            .find_map(|k| v.get(k).and_then(serde_json::Value::as_str))
            .map(str::to_owned)
    });
    let text = message.unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    if clean.trim().is_empty() {
        "empty body".to_owned()
    } else {
        clean.trim().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bearer_token_goes_over_https_or_to_loopback_only() {
        let url = |raw: &str| Url::parse(raw).unwrap();
        assert!(TvmClient::with_token(url("https://tvm.example.com"), "t".into()).is_ok());
        assert!(TvmClient::with_token(url("http://127.0.0.1:8787"), "t".into()).is_ok());
        let err = TvmClient::with_token(url("http://tvm.example.com"), "t".into()).unwrap_err();
        assert!(err.to_string().contains("https only"), "{err}");
    }

    fn scope(url: &str, region: Option<&str>) -> Result<SigningScope, TvmError> {
        signing_scope(&parse_url(url).unwrap(), region)
    }

    #[test]
    fn region_and_service_come_from_api_gateway_and_function_url_hosts() {
        let apigw = scope(
            "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
            None,
        )
        .unwrap();
        assert_eq!(apigw.region, "eu-west-1");
        assert_eq!(apigw.service, "execute-api");
        let lambda = scope("https://xyz.lambda-url.us-east-2.on.aws/", None).unwrap();
        assert_eq!(lambda.region, "us-east-2");
        assert_eq!(lambda.service, "lambda");
    }

    #[test]
    fn an_explicit_region_wins_and_is_required_for_other_hosts() {
        let explicit = scope(
            "https://abc.execute-api.eu-west-1.amazonaws.com",
            Some("us-west-2"),
        );
        assert_eq!(explicit.unwrap().region, "us-west-2");
        let local = scope("http://127.0.0.1:8787", Some("us-east-1")).unwrap();
        assert_eq!(local.service, "execute-api");
        assert!(matches!(
            scope("https://tvm.example.com", None),
            Err(TvmError::NoRegion(_))
        ));
        assert!(matches!(
            scope("https://tvm.example.com", Some("")),
            Err(TvmError::NoRegion(_))
        ));
    }

    #[test]
    fn only_http_urls_are_accepted() {
        assert!(parse_url("ftp://x").is_err());
        assert!(parse_url("not a url").is_err());
        assert!(parse_url("https://x/stage").is_ok());
    }

    #[test]
    fn routes_keep_the_stage_prefix() {
        let base = parse_url("https://h/prod").unwrap();
        assert_eq!(route(&base, "").as_str(), "https://h/prod/");
        assert_eq!(route(&base, "profiles").as_str(), "https://h/prod/profiles");
        let root = parse_url("http://127.0.0.1:1/").unwrap();
        assert_eq!(
            route(&root, "profiles").as_str(),
            "http://127.0.0.1:1/profiles"
        );
    }

    fn rejected(status: u16, code: &str) -> TvmError {
        TvmError::Rejected {
            status,
            body: ErrorBody {
                code: code.to_owned(),
                message: "m".to_owned(),
                request_id: "r-1".to_owned(),
            },
        }
    }

    #[test]
    fn errors_map_to_exit_classes_and_hints() {
        let deny = rejected(403, "POLICY_DENY").into_failure(Some("prod"));
        assert_eq!(deny.kind, ExitKind::Denied);
        assert_eq!(deny.message, "POLICY_DENY: m (request id r-1)");
        assert!(deny.hint.unwrap().contains("sentinel policy pull prod"));
        let bad = rejected(400, "INVALID_DURATION").into_failure(None);
        assert_eq!(bad.kind, ExitKind::Invalid);
        let auth = rejected(403, "IAM_AUTH_REQUIRED").into_failure(None);
        assert_eq!(auth.kind, ExitKind::Error);
        assert!(auth.hint.unwrap().contains("source profile"));
        assert_eq!(
            rejected(500, "POLICY_ERROR").into_failure(None).kind,
            ExitKind::Error
        );
        assert_eq!(
            rejected(404, "PROFILE_NOT_FOUND").into_failure(None).kind,
            ExitKind::Error
        );
        let unreachable = TvmError::Connect {
            url: "u".into(),
            reason: "refused".into(),
        }
        .into_failure(None);
        assert_eq!(unreachable.kind, ExitKind::Error);
        assert!(unreachable.hint.unwrap().contains("--tvm-url"));
        let gateway = TvmError::Http {
            status: 403,
            detail: "Forbidden".into(),
        }
        .into_failure(None);
        assert!(gateway.hint.unwrap().contains("source profile"));
    }

    #[test]
    fn approval_required_is_denied_with_the_one_command_to_run() {
        let failure = rejected(403, "APPROVAL_REQUIRED").into_failure(Some("prod"));
        assert_eq!(failure.kind, ExitKind::Denied);
        assert_eq!(
            failure.to_string(),
            "sentinel: error: APPROVAL_REQUIRED: profile `prod` needs an approved request (request id r-1)\nhint: run `sentinel request --profile prod --reason \"<why>\" --wait`"
        );
        let cooldown = rejected(429, "COOLDOWN").into_failure(Some("prod"));
        assert_eq!(cooldown.kind, ExitKind::Denied);
        assert!(
            cooldown
                .hint
                .unwrap()
                .contains("sentinel request --profile prod")
        );
        let not_approver = rejected(403, "APPROVAL_DENY").into_failure(None);
        assert_eq!(not_approver.kind, ExitKind::Denied);
        assert_eq!(not_approver.message, "APPROVAL_DENY: m (request id r-1)");
        let reason = rejected(400, "INVALID_REASON").into_failure(Some("prod"));
        assert_eq!(reason.kind, ExitKind::Invalid);
        assert!(reason.hint.unwrap().contains("sentinel policy pull prod"));
        assert_eq!(
            rejected(409, "REQUEST_CONFLICT").into_failure(None).kind,
            ExitKind::Invalid
        );
    }

    #[test]
    fn foreign_bodies_are_summarised() {
        assert_eq!(
            describe_foreign_body(br#"{"message":"Forbidden"}"#),
            "Forbidden"
        );
        assert_eq!(describe_foreign_body(b""), "empty body");
        assert_eq!(
            describe_foreign_body(b"<html>\nx</html>"),
            "<html> x</html>"
        );
        assert_eq!(describe_foreign_body(&[b'a'; 500]).len(), 200);
    }
}
