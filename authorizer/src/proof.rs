//! Proof of possession (docs/authorizer.md): a session ID is in every CloudTrail record
//! and access log its credentials touch, so in `proof` mode it authorizes nothing alone.
//! The caller also sends `X-Sentinel-Proof`, an `sts:GetCallerIdentity` request signed
//! with that session's own credentials and bound to this API's audience, the way EKS's
//! aws-iam-authenticator and Vault's IAM auth method prove an AWS identity. The
//! authorizer checks the request locally, replays it to an STS endpoint it trusts and
//! requires the answered ARN to be the session's role session.
//!
//! The proof header is standard padded base64 of
//! `{"method": "POST", "url": "<sts endpoint>/", "headers": {...}, "body": "Action=GetCallerIdentity&Version=2011-06-15"}`.

use std::collections::BTreeMap;
use std::future::Future;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use sentinel_aws::https::{HttpsClient, HttpsError};
use sentinel_types::{Arn, RoleArn, RoleSessionName, SessionId};
use serde::Deserialize;

/// The header carrying the proof (matched case-insensitively).
pub const PROOF_HEADER: &str = "x-sentinel-proof";
/// The signed header naming the API the proof is for.
pub const AUDIENCE_HEADER: &str = "x-sentinel-audience";
/// The only request a proof may carry.
pub const BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";
/// A proof older than this is refused.
const MAX_AGE: TimeDelta = TimeDelta::minutes(15);
/// A proof dated this far in the future is refused (clock skew allowance).
const MAX_SKEW: TimeDelta = TimeDelta::minutes(5);
/// Larger headers are refused before decoding.
const MAX_PROOF_BYTES: usize = 8 * 1024;
/// Headers every proof must have signed.
const REQUIRED_SIGNED: [&str; 4] = [
    "host",
    "x-amz-date",
    "x-amz-security-token",
    AUDIENCE_HEADER,
];

/// Where proofs are sent and for which audience they must be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofSettings {
    /// `SENTINEL_AUDIENCE`: this API's name, signed into every proof.
    pub audience: String,
    /// The STS endpoint the authorizer trusts, without a trailing `/`: the regional
    /// endpoint of its own partition, or the configured one (`AWS_ENDPOINT_URL_STS`,
    /// `AWS_ENDPOINT_URL`) in tests. Never a URL from the request.
    pub sts_endpoint: String,
}

impl ProofSettings {
    /// The trusted endpoint for `region`, honouring the SDK's endpoint variables.
    pub fn sts_endpoint_for(region: &str, var: impl Fn(&str) -> Option<String>) -> String {
        let configured = var("AWS_ENDPOINT_URL_STS")
            .or_else(|| var("AWS_ENDPOINT_URL"))
            .filter(|url| !url.trim().is_empty());
        match configured {
            Some(url) => url.trim().trim_end_matches('/').to_owned(),
            None if region.starts_with("cn-") => format!("https://sts.{region}.amazonaws.com.cn"),
            None => format!("https://sts.{region}.amazonaws.com"),
        }
    }

    /// `host[:port]` of the trusted endpoint, as a signed `Host` header must say.
    fn host(&self) -> &str {
        let rest = self
            .sts_endpoint
            .split_once("://")
            .map_or(self.sts_endpoint.as_str(), |(_, rest)| rest);
        rest.split('/').next().unwrap_or(rest)
    }
}

/// The decoded proof document.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    method: String,
    url: String,
    headers: BTreeMap<String, String>,
    body: String,
}

/// A proof that passed every local check: ready to be replayed to the trusted endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct CheckedProof {
    /// The trusted endpoint's URL with `/`.
    pub url: String,
    /// The signed headers and `authorization`, lowercase names (`host` included).
    pub headers: BTreeMap<String, String>,
    /// [`BODY`].
    pub body: &'static str,
}

impl std::fmt::Debug for CheckedProof {
    /// The signature and session token stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckedProof")
            .field("url", &self.url)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Why a proof does not authorize. The reason is logged, never returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// Not there, not base64, not the JSON shape, or too large.
    #[error("proof malformed: {0}")]
    Malformed(&'static str),
    /// A well-formed proof for something else (another endpoint, audience, action).
    #[error("proof refused: {0}")]
    Refused(&'static str),
    /// Older than 15 minutes or dated in the future.
    #[error("proof expired or not yet valid")]
    Stale,
    /// STS answered that the signature or credentials are not valid.
    #[error("sts refused the proof (http {0})")]
    StsRefused(u16),
    /// STS could not be asked (network, timeout, an answer without an ARN).
    #[error("sts unavailable: {0}")]
    StsUnavailable(String),
    /// The credentials are valid but belong to another session or role.
    #[error("proof signed by `{0}`, not by this session")]
    WrongSession(String),
}

impl ProofError {
    /// Whether the check itself failed (STS unreachable): a deny that is also an error
    /// for the operators' alarm.
    pub fn is_failure(&self) -> bool {
        matches!(self, Self::StsUnavailable(_))
    }
}

/// Decodes and checks a proof header against `settings` at `now`: everything that can
/// be checked without STS.
pub fn check(
    raw: &str,
    settings: &ProofSettings,
    now: DateTime<Utc>,
) -> Result<CheckedProof, ProofError> {
    if raw.len() > MAX_PROOF_BYTES {
        return Err(ProofError::Malformed("larger than 8 KiB"));
    }
    let bytes = aws_smithy_types::base64::decode(raw.trim())
        .map_err(|_| ProofError::Malformed("not standard base64"))?;
    let document: Document =
        serde_json::from_slice(&bytes).map_err(|_| ProofError::Malformed("not the proof JSON"))?;
    let mut headers = BTreeMap::new();
    for (name, value) in document.headers {
        // Two spellings of one header would leave which one STS reads to chance.
        if headers.insert(name.to_ascii_lowercase(), value).is_some() {
            return Err(ProofError::Malformed("a header appears twice"));
        }
    }
    if document.method != "POST" {
        return Err(ProofError::Refused("the method is not POST"));
    }
    if document.body != BODY {
        return Err(ProofError::Refused("the request is not GetCallerIdentity"));
    }
    // SECURITY: the proof is only ever sent to the endpoint this authorizer trusts; a
    // proof that names another URL or signs another Host is refused, never followed
    // (no SSRF, and no proof meant for another STS).
    let url = format!("{}/", settings.sts_endpoint);
    if document.url != url {
        return Err(ProofError::Refused(
            "the url is not the trusted sts endpoint",
        ));
    }
    if headers.get("host").map(String::as_str) != Some(settings.host()) {
        return Err(ProofError::Refused(
            "the signed host is not the trusted sts endpoint",
        ));
    }
    let authorization = headers
        .get("authorization")
        .ok_or(ProofError::Malformed("no authorization header"))?;
    let (scope, signed) = parse_authorization(authorization)?;
    if scope.get(3) != Some(&"sts") || scope.get(4) != Some(&"aws4_request") {
        return Err(ProofError::Refused("not signed for sts"));
    }
    if let Some(missing) = REQUIRED_SIGNED.iter().find(|h| !signed.contains(h)) {
        return Err(match *missing {
            AUDIENCE_HEADER => ProofError::Refused("the audience is not signed"),
            _ => ProofError::Malformed("a required header is not signed"),
        });
    }
    if signed.iter().any(|h| !headers.contains_key(*h)) {
        return Err(ProofError::Malformed("a signed header is missing"));
    }
    if headers.get(AUDIENCE_HEADER) != Some(&settings.audience) {
        return Err(ProofError::Refused("made for another audience"));
    }
    let date = headers
        .get("x-amz-date")
        .and_then(|d| NaiveDateTime::parse_from_str(d, "%Y%m%dT%H%M%SZ").ok())
        .ok_or(ProofError::Malformed("x-amz-date is not a SigV4 date"))?
        .and_utc();
    if now - date > MAX_AGE || date - now > MAX_SKEW {
        return Err(ProofError::Stale);
    }
    Ok(CheckedProof {
        url,
        headers,
        body: BODY,
    })
}

/// `AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request,
/// SignedHeaders=a;b, Signature=...` -> (credential scope parts, signed header names).
fn parse_authorization(value: &str) -> Result<(Vec<&str>, Vec<&str>), ProofError> {
    let malformed = ProofError::Malformed("the authorization header is not SigV4");
    let rest = value
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or(malformed.clone())?;
    let mut credential = None;
    let mut signed = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed = Some(v);
        }
    }
    let scope: Vec<&str> = credential.ok_or(malformed.clone())?.split('/').collect();
    let signed: Vec<&str> = signed.ok_or(malformed)?.split(';').collect();
    Ok((scope, signed))
}

/// The caller ARN a proof's credentials belong to must be the session's own role
/// session: `arn:<p>:sts::<acct>:assumed-role/<role>/sentinel-<session_id>`, with the
/// role and account of the session's row.
pub fn check_caller(arn: &str, session: &SessionId, role: &RoleArn) -> Result<(), ProofError> {
    let wrong = || ProofError::WrongSession(arn.chars().take(200).collect());
    let parsed = Arn::parse(arn).map_err(|_| wrong())?;
    let expected = format!(
        "assumed-role/{}/{}",
        role.name(),
        RoleSessionName::for_session(session)
    );
    let same = parsed.partition() == role.partition()
        && parsed.service() == "sts"
        && parsed.region().is_empty()
        && parsed.account() == Some(&role.account())
        && parsed.resource() == expected;
    if same { Ok(()) } else { Err(wrong()) }
}

/// Port: replays a checked proof to STS and answers the caller's ARN.
pub trait CallerIdentity: Send + Sync {
    /// Sends the proof's request as signed and reads `GetCallerIdentityResult/Arn`.
    fn caller_arn(
        &self,
        proof: &CheckedProof,
    ) -> impl Future<Output = Result<String, ProofError>> + Send;
}

/// [`CallerIdentity`] over HTTPS to the trusted STS endpoint, on the workspace's one
/// HTTP client (`sentinel_aws::https`).
#[derive(Debug, Clone)]
pub struct StsReplay {
    http: HttpsClient,
}

/// The longest `GetCallerIdentity` answer read (one is well under 1 KiB).
const MAX_STS_ANSWER: usize = 64 * 1024;

impl StsReplay {
    /// A client that never follows redirects (a redirect could leave the trusted
    /// endpoint) and gives up after `timeout`.
    pub fn new(timeout: std::time::Duration) -> Self {
        Self {
            http: HttpsClient::new(timeout, timeout),
        }
    }
}

impl CallerIdentity for StsReplay {
    async fn caller_arn(&self, proof: &CheckedProof) -> Result<String, ProofError> {
        let unavailable = |e: HttpsError| ProofError::StsUnavailable(e.to_string());
        let mut request = http::Request::post(&proof.url);
        for (name, value) in &proof.headers {
            // The client writes Host from the URL (the same value: `check` compared
            // them) and Content-Length from the body.
            if name != "host" && name != "content-length" {
                request = request.header(name, value);
            }
        }
        let request = request
            .body(proof.body.as_bytes().to_vec())
            .map_err(|e| ProofError::StsUnavailable(sentinel_types::error_chain(&e)))?;
        let response = self.http.send(request).await.map_err(unavailable)?;
        let status = response.status().as_u16();
        if status == 400 || status == 403 {
            return Err(ProofError::StsRefused(status));
        }
        let body = response.body(MAX_STS_ANSWER).await.map_err(unavailable)?;
        if status != 200 {
            return Err(ProofError::StsUnavailable(format!("http {status}")));
        }
        let text = String::from_utf8_lossy(&body);
        arn_of(&text).ok_or_else(|| ProofError::StsUnavailable("no Arn in the answer".into()))
    }
}

/// `<GetCallerIdentityResult>...<Arn>X</Arn>` -> `X`.
fn arn_of(xml: &str) -> Option<String> {
    let result = xml.split_once("<GetCallerIdentityResult>")?.1;
    let arn = result.split_once("<Arn>")?.1.split_once("</Arn>")?.0;
    Some(arn.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_is_configured_or_the_partitions_regional_one() {
        let none = |_: &str| None;
        assert_eq!(
            ProofSettings::sts_endpoint_for("eu-central-1", none),
            "https://sts.eu-central-1.amazonaws.com"
        );
        assert_eq!(
            ProofSettings::sts_endpoint_for("cn-north-1", none),
            "https://sts.cn-north-1.amazonaws.com.cn"
        );
        let local = |n: &str| (n == "AWS_ENDPOINT_URL").then(|| "http://127.0.0.1:5000/".into());
        assert_eq!(
            ProofSettings::sts_endpoint_for("us-east-1", local),
            "http://127.0.0.1:5000"
        );
    }

    #[test]
    fn the_answered_arn_must_be_the_sessions_role_session() {
        let id = SessionId::from_bytes([0xab; 16]);
        let role: RoleArn = "arn:aws:iam::111122223333:role/team/SentinelProtected-prod"
            .parse()
            .unwrap();
        let good =
            format!("arn:aws:sts::111122223333:assumed-role/SentinelProtected-prod/sentinel-{id}");
        check_caller(&good, &id, &role).unwrap();
        let other = SessionId::from_bytes([0xcd; 16]);
        for bad in [
            format!(
                "arn:aws:sts::111122223333:assumed-role/SentinelProtected-prod/sentinel-{other}"
            ),
            format!("arn:aws:sts::999999999999:assumed-role/SentinelProtected-prod/sentinel-{id}"),
            format!("arn:aws:sts::111122223333:assumed-role/Other/sentinel-{id}"),
            format!(
                "arn:aws-cn:sts::111122223333:assumed-role/SentinelProtected-prod/sentinel-{id}"
            ),
            "arn:aws:iam::111122223333:user/alice".to_owned(),
            "garbage".to_owned(),
        ] {
            assert!(check_caller(&bad, &id, &role).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_arn_is_read_from_the_sts_answer() {
        let xml = "<GetCallerIdentityResponse><GetCallerIdentityResult><UserId>A:s</UserId><Account>1</Account><Arn>arn:aws:sts::1:assumed-role/R/s</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>";
        assert_eq!(
            arn_of(xml).as_deref(),
            Some("arn:aws:sts::1:assumed-role/R/s")
        );
        assert_eq!(arn_of("<Arn>x</Arn>"), None);
    }
}
