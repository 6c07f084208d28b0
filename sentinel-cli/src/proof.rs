//! `sentinel proof`: the headers a client sends to a downstream API whose
//! authorizer runs in `proof` mode (docs/authorizer.md).
//!
//! The proof is an `sts:GetCallerIdentity` request signed with the vended
//! session's own credentials and bound to one audience by a signed
//! `x-sentinel-audience` header. The authorizer replays it to STS; the ARN STS
//! answers proves the caller holds the session's secret key, which the session
//! ID alone (visible in CloudTrail and access logs) never does. Nothing is sent
//! to STS here: the request is only signed.

use std::collections::BTreeMap;
use std::env;
use std::fmt;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use chrono::{DateTime, Utc};
use protocol::VendResponse;
use serde::Serialize;
use url::Url;

use crate::credentials::{Nesting, Target, TvmOptions, VendArgs, obtain};
use crate::environment::Environment;
use crate::failure::{Failure, error_chain};

/// The only request a proof may carry (the authorizer forwards nothing else).
pub const BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";
/// The content type STS's query protocol expects, signed.
pub const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";
/// The signed header that binds a proof to one downstream API.
pub const AUDIENCE_HEADER: &str = "x-sentinel-audience";

/// `sentinel proof` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ProofArgs {
    #[command(flatten)]
    pub vend: VendArgs,
    /// The downstream API the proof is for: its authorizer's SENTINEL_AUDIENCE
    #[arg(long, value_name = "AUDIENCE")]
    pub audience: String,
    /// Print the two headers as one JSON object instead of `Name: value` lines
    #[arg(long)]
    pub json: bool,
}

/// Why no proof could be made.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    /// Empty, or a character outside printable ASCII, or a space or comma.
    #[error(
        "audience `{0}` is not one word of printable ascii (no spaces or commas), e.g. orders-api"
    )]
    Audience(String),
    /// A region that cannot name an STS endpoint.
    #[error("region `{0}` cannot name an sts endpoint")]
    Region(String),
    /// `AWS_ENDPOINT_URL_STS` or `AWS_ENDPOINT_URL` is not an http(s) URL.
    #[error("sts endpoint `{0}` is not an http(s) url without query or fragment")]
    Endpoint(String),
    /// aws-sigv4 refused the request.
    #[error("cannot sign the proof: {0}")]
    Signing(String),
}

impl From<ProofError> for Failure {
    fn from(e: ProofError) -> Self {
        match e {
            ProofError::Audience(_) => Failure::invalid(e.to_string()).with_hint(
                "pass --audience with the value the downstream API's authorizer expects",
            ),
            ProofError::Region(_) | ProofError::Endpoint(_) => Failure::invalid(e.to_string()),
            ProofError::Signing(_) => Failure::error(e.to_string()),
        }
    }
}

/// A validated audience: non-empty printable ASCII without spaces or commas
/// (a comma would let one header value read as a list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience(String);

impl Audience {
    /// Checks `raw`.
    pub fn parse(raw: &str) -> Result<Self, ProofError> {
        let valid = !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_graphic() && b != b',');
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ProofError::Audience(raw.escape_default().to_string()))
        }
    }

    /// The audience.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The endpoint overrides the AWS SDKs honour, read once at start-up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StsEndpointEnv {
    /// `AWS_ENDPOINT_URL_STS`.
    pub sts: Option<String>,
    /// `AWS_ENDPOINT_URL`.
    pub all: Option<String>,
}

impl StsEndpointEnv {
    /// Reads the current process environment.
    pub fn from_process() -> Self {
        let var = |name: &str| env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self {
            sts: var("AWS_ENDPOINT_URL_STS"),
            all: var("AWS_ENDPOINT_URL"),
        }
    }
}

/// The proof's `url`: `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`, else the
/// regional endpoint of `region` (`.amazonaws.com.cn` for `cn-*`), with a trailing `/`.
pub fn sts_endpoint(region: &str, configured: &StsEndpointEnv) -> Result<Url, ProofError> {
    let raw = match configured.sts.as_deref().or(configured.all.as_deref()) {
        Some(raw) => raw.trim().to_owned(),
        None => {
            let valid = !region.is_empty()
                && region
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !valid {
                return Err(ProofError::Region(region.escape_default().to_string()));
            }
            let suffix = if region.starts_with("cn-") { ".cn" } else { "" };
            format!("https://sts.{region}.amazonaws.com{suffix}")
        }
    };
    let bad = || ProofError::Endpoint(raw.escape_default().to_string());
    let with_slash = format!("{}/", raw.trim_end_matches('/'));
    let url = Url::parse(&with_slash).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(bad());
    }
    Ok(url)
}

/// The proof document, serialised in this field order.
#[derive(Serialize)]
struct Document<'a> {
    method: &'static str,
    url: &'a str,
    headers: BTreeMap<String, String>,
    body: &'static str,
}

/// The session's key ID, secret and token.
#[derive(Clone)]
pub struct SessionKeys<'a> {
    /// `ASIA...`.
    pub access_key_id: &'a str,
    /// Secret.
    pub secret_access_key: &'a str,
    /// Secret.
    pub session_token: &'a str,
}

impl<'a> From<&'a VendResponse> for SessionKeys<'a> {
    fn from(vended: &'a VendResponse) -> Self {
        Self {
            access_key_id: &vended.access_key_id,
            secret_access_key: &vended.secret_access_key,
            session_token: &vended.session_token,
        }
    }
}

/// The `X-Sentinel-Proof` value: standard padded base64 of the JSON
/// `{"method", "url", "headers", "body"}` of a SigV4-signed (Authorization
/// header) `GetCallerIdentity` POST to `endpoint`, signed for `sts` in
/// `region` at `time`. `headers` holds every signed header and
/// `authorization`, names lowercase.
pub fn encode(
    keys: &SessionKeys<'_>,
    endpoint: &Url,
    region: &str,
    audience: &Audience,
    time: SystemTime,
) -> Result<String, ProofError> {
    let failed = |e: &dyn std::error::Error| ProofError::Signing(error_chain(e));
    let host = match endpoint.port() {
        Some(port) => format!("{}:{port}", endpoint.host_str().unwrap_or_default()),
        None => endpoint.host_str().unwrap_or_default().to_owned(),
    };
    // SECURITY: host, content type and audience are signed, so the authorizer can
    // trust each; aws-sigv4 adds and signs x-amz-date and x-amz-security-token.
    let mut headers = BTreeMap::from([
        ("host".to_owned(), host),
        ("content-type".to_owned(), CONTENT_TYPE.to_owned()),
        (AUDIENCE_HEADER.to_owned(), audience.as_str().to_owned()),
    ]);
    let identity = Credentials::new(
        keys.access_key_id,
        keys.secret_access_key,
        Some(keys.session_token.to_owned()),
        None,
        "sentinel-proof",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| failed(&e))?
        .into();
    let signable = SignableRequest::new(
        "POST",
        endpoint.as_str(),
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(BODY.as_bytes()),
    )
    .map_err(|e| failed(&e))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| failed(&e))?
        .into_parts();
    for (name, value) in instructions.headers() {
        headers.insert(name.to_ascii_lowercase(), value.to_owned());
    }
    let document = Document {
        method: "POST",
        url: endpoint.as_str(),
        headers,
        body: BODY,
    };
    let json = serde_json::to_vec(&document).map_err(|e| failed(&e))?;
    Ok(aws_smithy_types::base64::encode(json))
}

/// The two headers a client sends. The proof carries the session token, so
/// it is never printed by `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct ProofHeaders {
    /// The vended session's ID.
    #[serde(rename = "X-Sentinel-Session-ID")]
    pub session_id: String,
    /// Base64 of the signed request.
    #[serde(rename = "X-Sentinel-Proof")]
    pub proof: String,
}

impl fmt::Debug for ProofHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProofHeaders")
            .field("session_id", &self.session_id)
            .field("proof", &"<redacted>")
            .finish()
    }
}

impl ProofHeaders {
    /// `X-Sentinel-Session-ID: ...` and `X-Sentinel-Proof: ...`, one a line, for `curl -H`.
    pub fn lines(&self) -> String {
        format!(
            "X-Sentinel-Session-ID: {}\nX-Sentinel-Proof: {}",
            self.session_id, self.proof
        )
    }
}

/// Runs `sentinel proof`: vends through the cache as `credentials` does, then
/// prints the headers.
pub async fn run(
    args: &ProofArgs,
    options: &TvmOptions,
    env: &Environment,
    endpoints: &StsEndpointEnv,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    // Every input is checked before the TVM is asked for anything.
    let audience = Audience::parse(&args.audience)?;
    let region = Target::resolve(options)?.scope().region.clone();
    let endpoint = sts_endpoint(&region, endpoints)?;
    let vended = obtain(&args.vend, options, env, now, Nesting::Allow).await?;
    let headers = ProofHeaders {
        session_id: vended.session_id.as_str().to_owned(),
        proof: encode(
            &SessionKeys::from(&vended),
            &endpoint,
            &region,
            &audience,
            now.into(),
        )?,
    };
    let output = if args.json {
        serde_json::to_string(&headers)
            .map_err(|e| Failure::error(format!("cannot encode the headers: {e}")))?
    } else {
        headers.lines()
    };
    println!("{output}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: SessionKeys<'static> = SessionKeys {
        access_key_id: "ASIAPROOFTEST",
        secret_access_key: "proof-secret-key",
        session_token: "proof-session-token",
    };

    fn regional(region: &str) -> Url {
        sts_endpoint(region, &StsEndpointEnv::default()).unwrap()
    }

    fn decode(proof: &str) -> serde_json::Value {
        let json = aws_smithy_types::base64::decode(proof).unwrap();
        serde_json::from_slice(&json).unwrap()
    }

    fn at(rfc3339: &str) -> SystemTime {
        DateTime::parse_from_rfc3339(rfc3339).unwrap().into()
    }

    #[test]
    fn the_proof_is_a_header_signed_get_caller_identity_bound_to_the_audience() {
        let audience = Audience::parse("orders-api").unwrap();
        let proof = encode(
            &KEYS,
            &regional("eu-central-1"),
            "eu-central-1",
            &audience,
            at("2026-11-22T14:00:00Z"),
        )
        .unwrap();
        let doc = decode(&proof);
        let fields: Vec<&str> = doc
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(fields.len(), 4, "{doc}");
        assert_eq!(doc["method"], "POST");
        assert_eq!(doc["url"], "https://sts.eu-central-1.amazonaws.com/");
        assert_eq!(doc["body"], "Action=GetCallerIdentity&Version=2011-06-15");
        let headers = doc["headers"].as_object().unwrap();
        let names: Vec<&str> = headers.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "authorization",
                "content-type",
                "host",
                "x-amz-date",
                "x-amz-security-token",
                "x-sentinel-audience"
            ]
        );
        assert_eq!(headers["host"], "sts.eu-central-1.amazonaws.com");
        assert_eq!(
            headers["content-type"],
            "application/x-www-form-urlencoded; charset=utf-8"
        );
        assert_eq!(headers["x-amz-date"], "20261122T140000Z");
        assert_eq!(headers["x-amz-security-token"], "proof-session-token");
        assert_eq!(headers["x-sentinel-audience"], "orders-api");
        let authorization = headers["authorization"].as_str().unwrap();
        assert!(
            authorization.starts_with(
                "AWS4-HMAC-SHA256 Credential=ASIAPROOFTEST/20261122/eu-central-1/sts/aws4_request, "
            ),
            "{authorization}"
        );
        assert!(
            authorization.contains(
                "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-sentinel-audience,"
            ),
            "{authorization}"
        );
        assert!(!doc.to_string().contains("proof-secret-key"));
    }

    #[test]
    fn the_signature_covers_the_audience_and_the_body() {
        let sign = |audience: &str| {
            let doc = decode(
                &encode(
                    &KEYS,
                    &regional("us-east-1"),
                    "us-east-1",
                    &Audience::parse(audience).unwrap(),
                    at("2026-01-01T00:00:00Z"),
                )
                .unwrap(),
            );
            doc["headers"]["authorization"].as_str().unwrap().to_owned()
        };
        assert_eq!(sign("orders-api"), sign("orders-api"));
        assert_ne!(sign("orders-api"), sign("billing-api"));
    }

    #[test]
    fn a_configured_endpoint_keeps_its_port_in_url_and_host() {
        let configured = StsEndpointEnv {
            sts: None,
            all: Some("http://127.0.0.1:5000".to_owned()),
        };
        let endpoint = sts_endpoint("us-east-1", &configured).unwrap();
        assert_eq!(endpoint.as_str(), "http://127.0.0.1:5000/");
        let doc = decode(
            &encode(
                &KEYS,
                &endpoint,
                "us-east-1",
                &Audience::parse("a").unwrap(),
                SystemTime::now(),
            )
            .unwrap(),
        );
        assert_eq!(doc["url"], "http://127.0.0.1:5000/");
        assert_eq!(doc["headers"]["host"], "127.0.0.1:5000");
    }

    #[test]
    fn the_endpoint_is_the_sts_override_then_the_global_one_then_regional() {
        let both = StsEndpointEnv {
            sts: Some("http://sts.local:4566/".to_owned()),
            all: Some("http://all.local:4566".to_owned()),
        };
        assert_eq!(
            sts_endpoint("us-east-1", &both).unwrap().as_str(),
            "http://sts.local:4566/"
        );
        assert_eq!(
            regional("us-west-2").as_str(),
            "https://sts.us-west-2.amazonaws.com/"
        );
        assert_eq!(
            regional("cn-north-1").as_str(),
            "https://sts.cn-north-1.amazonaws.com.cn/"
        );
        for bad in ["", "us-east-1.evil.com/x?", "US_EAST"] {
            assert!(
                matches!(
                    sts_endpoint(bad, &StsEndpointEnv::default()),
                    Err(ProofError::Region(_))
                ),
                "{bad:?}"
            );
        }
        for bad in ["ftp://x", "not a url", "http://h/?q=1", "http://u:p@h"] {
            let configured = StsEndpointEnv {
                sts: Some(bad.to_owned()),
                all: None,
            };
            assert!(
                matches!(
                    sts_endpoint("us-east-1", &configured),
                    Err(ProofError::Endpoint(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn audiences_are_one_printable_ascii_word() {
        for good in ["orders-api", "a", "https://api.example.com/v1", "x_y.z:1"] {
            assert!(Audience::parse(good).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            " ",
            "orders api",
            "a,b",
            "tab\there",
            "caf\u{e9}",
            "nl\n",
        ] {
            let failure = Failure::from(Audience::parse(bad).unwrap_err());
            assert_eq!(failure.kind.code(), 3, "{bad:?}");
        }
    }

    #[test]
    fn debug_never_prints_the_proof() {
        let headers = ProofHeaders {
            session_id: "0123".to_owned(),
            proof: "c2VjcmV0LXRva2Vu".to_owned(),
        };
        let debug = format!("{headers:?}");
        assert!(debug.contains("0123"), "{debug}");
        assert!(!debug.contains("c2VjcmV0LXRva2Vu"), "{debug}");
        assert_eq!(
            headers.lines(),
            "X-Sentinel-Session-ID: 0123\nX-Sentinel-Proof: c2VjcmV0LXRva2Vu"
        );
    }
}
