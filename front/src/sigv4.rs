//! The workspace's one SigV4 verification, for the local front doors: `sentinel-tvm serve`
//! checks requests the way API Gateway's AWS_IAM auth does (service `execute-api`,
//! docs/api.md), `sentinel-proxy serve` the way a Function URL's does (service `lambda`,
//! docs/proxy.md). The configured region and service, `X-Amz-Date` within five minutes,
//! `X-Amz-Security-Token` honoured, body hash covered.
//!
//! The request is rebuilt from exactly the headers the client signed and signed
//! again with `aws-sigv4` using the stored secret; the two signatures are compared
//! in constant time. Every check fails closed with a reason for the log.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use chrono::{DateTime, NaiveDateTime, Utc};
use http::HeaderMap;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::IamCaller;
use sentinel_types::AccountId;

/// API Gateway's service name in SigV4 scopes.
pub const EXECUTE_API: &str = "execute-api";
/// Lambda's (what Function URL clients sign for).
pub const LAMBDA: &str = "lambda";
/// Allowed clock skew between signer and verifier.
pub const MAX_SKEW: Duration = Duration::from_secs(5 * 60);
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// One entry of the `--auth-keys` file: a key pair and the identity it stands for.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthKey {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub arn: String,
    pub account_id: String,
    #[serde(default)]
    pub principal_org_id: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
    /// For temporary credentials: the session token the request must carry.
    #[serde(default)]
    pub session_token: Option<String>,
}

impl std::fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthKey")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("arn", &self.arn)
            .field("account_id", &self.account_id)
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// Why a request's signature was not accepted (for the log, not the client).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("sigv4: {0}")]
pub struct AuthError(String);

fn reject(reason: impl Into<String>) -> AuthError {
    AuthError(reason.into())
}

/// Checks SigV4 signatures against a fixed set of keys.
pub struct Verifier {
    keys: HashMap<String, AuthKey>,
    region: String,
    service: &'static str,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("keys", &self.keys.len())
            .field("region", &self.region)
            .field("service", &self.service)
            .finish()
    }
}

/// The parts of an `Authorization` header.
struct Authorization<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

impl Verifier {
    /// A verifier for signatures scoped to `region` and `service` ([`EXECUTE_API`],
    /// [`LAMBDA`]) over `keys`; duplicate or malformed keys are refused.
    pub fn new(
        keys: Vec<AuthKey>,
        region: impl Into<String>,
        service: &'static str,
    ) -> Result<Self, String> {
        let region = region.into();
        if region.is_empty() {
            return Err("a region is required (--region or AWS_REGION)".into());
        }
        let mut map = HashMap::new();
        for key in keys {
            if key.access_key_id.is_empty() || key.secret_access_key.is_empty() {
                return Err("every key needs `access_key_id` and `secret_access_key`".into());
            }
            if AccountId::parse(&key.account_id).is_err() {
                return Err(format!(
                    "key `{}`: `account_id` must be 12 digits",
                    key.access_key_id
                ));
            }
            if !key.arn.starts_with("arn:") {
                return Err(format!("key `{}`: `arn` is not an ARN", key.access_key_id));
            }
            let id = key.access_key_id.clone();
            if map.insert(id.clone(), key).is_some() {
                return Err(format!("key `{id}` is listed twice"));
            }
        }
        if map.is_empty() {
            return Err("the auth keys file lists no keys".into());
        }
        Ok(Self {
            keys: map,
            region,
            service,
        })
    }

    /// Parses the JSON array of docs/api.md.
    pub fn from_json(
        json: &str,
        region: impl Into<String>,
        service: &'static str,
    ) -> Result<Self, String> {
        let keys: Vec<AuthKey> =
            serde_json::from_str(json).map_err(|e| format!("auth keys file is not valid: {e}"))?;
        Self::new(keys, region, service)
    }

    /// The region signatures must be scoped to.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Verifies one request; on success returns the identity API Gateway or the Function
    /// URL would put in `requestContext.authorizer.iam`.
    pub fn verify(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<IamCaller, AuthError> {
        let header = single_header(headers, "authorization")?
            .ok_or_else(|| reject("no authorization header"))?;
        let auth = parse_authorization(header)?;

        if auth.service != self.service {
            return Err(reject(format!(
                "scope service `{}` is not `{}`",
                auth.service, self.service
            )));
        }
        if auth.region != self.region {
            return Err(reject(format!(
                "scope region `{}` is not `{}`",
                auth.region, self.region
            )));
        }
        let amz_date =
            single_header(headers, "x-amz-date")?.ok_or_else(|| reject("no x-amz-date header"))?;
        let signed_at = parse_amz_date(amz_date)?;
        if amz_date.get(..8) != Some(auth.date) {
            return Err(reject("scope date does not match x-amz-date"));
        }
        let skew = match now.duration_since(signed_at) {
            Ok(behind) => behind,
            Err(ahead) => ahead.duration(),
        };
        if skew > MAX_SKEW {
            return Err(reject(format!(
                "x-amz-date is {}s away from the server clock",
                skew.as_secs()
            )));
        }

        let key = self
            .keys
            .get(auth.access_key_id)
            .ok_or_else(|| reject(format!("unknown access key `{}`", auth.access_key_id)))?;

        for required in ["host", "x-amz-date"] {
            if !auth.signed_headers.contains(&required) {
                return Err(reject(format!("`{required}` is not a signed header")));
            }
        }
        let token = single_header(headers, "x-amz-security-token")?;
        match (token, key.session_token.as_deref()) {
            (None, None) => {}
            (Some(sent), Some(expected)) => {
                if !bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) {
                    return Err(reject("x-amz-security-token does not match the key"));
                }
            }
            (Some(_), None) => return Err(reject("x-amz-security-token sent for a long-term key")),
            (None, Some(_)) => {
                return Err(reject("x-amz-security-token missing for a temporary key"));
            }
        }
        if let Some(claimed) = single_header(headers, "x-amz-content-sha256")? {
            let actual = hex::encode(Sha256::digest(body));
            if !claimed.eq_ignore_ascii_case(&actual) {
                return Err(reject("x-amz-content-sha256 does not match the body"));
            }
        }

        // Rebuild the request from exactly the signed headers. aws-sigv4 adds
        // x-amz-date and x-amz-security-token itself, from the time and identity.
        let mut signable_headers = Vec::new();
        for name in &auth.signed_headers {
            if matches!(*name, "x-amz-date" | "x-amz-security-token") {
                continue;
            }
            let values: Vec<&str> = headers
                .get_all(*name)
                .iter()
                .map(|v| {
                    v.to_str()
                        .map_err(|_| reject(format!("header `{name}` is not text")))
                })
                .collect::<Result<_, _>>()?;
            if values.is_empty() {
                return Err(reject(format!("signed header `{name}` is missing")));
            }
            signable_headers.extend(values.into_iter().map(|v| (*name, v)));
        }

        let identity = aws_credential_types::Credentials::new(
            &key.access_key_id,
            &key.secret_access_key,
            token.map(str::to_owned),
            None,
            "sentinel-serve-auth-keys",
        )
        .into();
        let mut settings = SigningSettings::default();
        // Sign exactly what the client listed (the default would drop e.g. user-agent).
        settings.excluded_headers = None;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(self.service)
            .time(signed_at)
            .settings(settings)
            .build()
            .map_err(|e| reject(format!("signing parameters: {e}")))?;
        let uri = format!("http://sentinel.invalid{path_and_query}");
        let signable = SignableRequest::new(
            method,
            uri,
            signable_headers.into_iter(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| reject(format!("request cannot be canonicalised: {e}")))?;
        let expected = sign(signable, &params.into())
            .map_err(|e| reject(format!("request cannot be signed: {e}")))?;
        let (instructions, expected_signature) = expected.into_parts();

        let expected_signed_headers = instructions
            .headers()
            .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
            .and_then(|(_, value)| {
                parse_authorization(value)
                    .ok()
                    .map(|a| a.signed_headers.join(";"))
            });
        if expected_signed_headers.as_deref() != Some(auth.signed_headers.join(";").as_str()) {
            return Err(reject("signed headers do not match the request"));
        }
        if !bool::from(
            expected_signature
                .as_bytes()
                .ct_eq(auth.signature.as_bytes()),
        ) {
            return Err(reject("signature does not match"));
        }

        Ok(IamCaller {
            user_arn: Some(key.arn.clone()),
            account_id: Some(key.account_id.clone()),
            principal_org_id: key.principal_org_id.clone(),
            user_id: key.user_id.clone(),
            access_key: Some(key.access_key_id.clone()),
        })
    }
}

fn single_header<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, AuthError> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(reject(format!("`{name}` given more than once")));
    }
    first
        .to_str()
        .map(Some)
        .map_err(|_| reject(format!("`{name}` is not text")))
}

fn parse_authorization(header: &str) -> Result<Authorization<'_>, AuthError> {
    let rest = header
        .strip_prefix(ALGORITHM)
        .and_then(|r| r.strip_prefix(' '))
        .ok_or_else(|| reject(format!("authorization is not {ALGORITHM}")))?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (name, value) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| reject("malformed authorization header"))?;
        let slot = match name {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            _ => {
                return Err(reject(format!(
                    "unexpected `{name}` in authorization header"
                )));
            }
        };
        if slot.replace(value).is_some() {
            return Err(reject(format!(
                "`{name}` given twice in authorization header"
            )));
        }
    }
    let credential = credential.ok_or_else(|| reject("no Credential in authorization header"))?;
    let signed = signed.ok_or_else(|| reject("no SignedHeaders in authorization header"))?;
    let signature = signature.ok_or_else(|| reject("no Signature in authorization header"))?;

    let mut scope = credential.split('/');
    let (Some(access_key_id), Some(date), Some(region), Some(service), Some("aws4_request"), None) = (
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
    ) else {
        return Err(reject("malformed credential scope"));
    };
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(reject("malformed credential scope date"));
    }
    if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(reject("malformed signature"));
    }
    let signed_headers: Vec<&str> = signed.split(';').collect();
    let canonical = signed_headers
        .windows(2)
        .all(|w| matches!(w, [a, b] if a < b))
        && signed_headers
            .iter()
            .all(|h| !h.is_empty() && h.bytes().all(|b| !b.is_ascii_uppercase()));
    if !canonical {
        return Err(reject("SignedHeaders must be lowercase and sorted"));
    }
    Ok(Authorization {
        access_key_id,
        date,
        region,
        service,
        signed_headers,
        signature,
    })
}

fn parse_amz_date(raw: &str) -> Result<SystemTime, AuthError> {
    let naive = NaiveDateTime::parse_from_str(raw, "%Y%m%dT%H%M%SZ")
        .map_err(|_| reject(format!("x-amz-date `{raw}` is not YYYYMMDDTHHMMSSZ")))?;
    Ok(SystemTime::from(
        DateTime::<Utc>::from_naive_utc_and_offset(naive, Utc),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn verifier() -> Verifier {
        Verifier::from_json(
            &format!(
                r#"[{{"access_key_id": "AKIDEXAMPLE", "secret_access_key": "{SECRET}",
                     "arn": "arn:aws:iam::111122223333:user/alice", "account_id": "111122223333"}}]"#
            ),
            "eu-west-1",
            EXECUTE_API,
        )
        .unwrap()
    }

    /// Signs like a client would, with aws-sigv4's default settings.
    /// Signed now, for the known key, in the verifier's region and service.
    fn signed_now(method: &str, path_and_query: &str, body: &[u8]) -> HeaderMap {
        signed(
            method,
            path_and_query,
            body,
            now(),
            "eu-west-1",
            EXECUTE_API,
            "AKIDEXAMPLE",
        )
    }

    fn signed(
        method: &str,
        path_and_query: &str,
        body: &[u8],
        at: SystemTime,
        region: &str,
        service: &str,
        access_key: &str,
    ) -> HeaderMap {
        let identity =
            aws_credential_types::Credentials::new(access_key, SECRET, None, None, "test").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(service)
            .time(at)
            .settings(SigningSettings::default())
            .build()
            .unwrap();
        let uri = format!("http://127.0.0.1:8787{path_and_query}");
        let host = [
            ("host", "127.0.0.1:8787"),
            ("content-type", "application/json"),
        ];
        let signable =
            SignableRequest::new(method, uri, host.into_iter(), SignableBody::Bytes(body)).unwrap();
        let (instructions, _) = sign(signable, &params.into()).unwrap().into_parts();
        let mut headers = HeaderMap::new();
        for (name, value) in host {
            headers.insert(name, HeaderValue::from_static(value));
        }
        for (name, value) in instructions.headers() {
            headers.insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000)
    }

    #[test]
    fn a_correctly_signed_request_yields_the_keys_identity() {
        let headers = signed_now("GET", "/?profile=dev", b"");
        let caller = verifier()
            .verify("GET", "/?profile=dev", &headers, b"", now())
            .unwrap();
        assert_eq!(
            caller.user_arn.as_deref(),
            Some("arn:aws:iam::111122223333:user/alice")
        );
        assert_eq!(caller.account_id.as_deref(), Some("111122223333"));
    }

    #[test]
    fn changed_query_is_rejected() {
        let headers = signed_now("GET", "/?profile=dev", b"");
        assert!(
            verifier()
                .verify("GET", "/?profile=prod", &headers, b"", now())
                .is_err()
        );
    }

    #[test]
    fn changed_body_is_rejected() {
        let body = br#"{"profile":"dev"}"#;
        let headers = signed_now("POST", "/", body);
        assert!(
            verifier()
                .verify("POST", "/", &headers, body, now())
                .is_ok()
        );
        let err = verifier()
            .verify("POST", "/", &headers, br#"{"profile":"prod"}"#, now())
            .unwrap_err();
        assert!(err.to_string().contains("signature"), "{err}");
    }

    #[test]
    fn changed_signed_header_is_rejected() {
        let mut headers = signed_now("GET", "/?profile=dev", b"");
        assert!(
            headers["authorization"]
                .to_str()
                .unwrap()
                .contains("content-type;host")
        );
        headers.insert("content-type", HeaderValue::from_static("text/plain"));
        assert!(
            verifier()
                .verify("GET", "/?profile=dev", &headers, b"", now())
                .is_err()
        );
        let mut headers = signed_now("GET", "/?profile=dev", b"");
        headers.insert("host", HeaderValue::from_static("evil.example:8787"));
        assert!(
            verifier()
                .verify("GET", "/?profile=dev", &headers, b"", now())
                .is_err()
        );
    }

    #[test]
    fn date_outside_five_minutes_is_rejected() {
        let headers = signed(
            "GET",
            "/",
            b"",
            now(),
            "eu-west-1",
            EXECUTE_API,
            "AKIDEXAMPLE",
        );
        let later = now() + Duration::from_secs(301);
        let err = verifier()
            .verify("GET", "/", &headers, b"", later)
            .unwrap_err();
        assert!(
            err.to_string().contains("away from the server clock"),
            "{err}"
        );
        let earlier = now() - Duration::from_secs(301);
        assert!(
            verifier()
                .verify("GET", "/", &headers, b"", earlier)
                .is_err()
        );
        let within = now() + Duration::from_secs(299);
        assert!(verifier().verify("GET", "/", &headers, b"", within).is_ok());
    }

    #[test]
    fn wrong_region_or_service_is_rejected() {
        let headers = signed(
            "GET",
            "/",
            b"",
            now(),
            "us-east-1",
            EXECUTE_API,
            "AKIDEXAMPLE",
        );
        assert!(
            verifier()
                .verify("GET", "/", &headers, b"", now())
                .unwrap_err()
                .to_string()
                .contains("region")
        );
        let headers = signed("GET", "/", b"", now(), "eu-west-1", "sts", "AKIDEXAMPLE");
        assert!(
            verifier()
                .verify("GET", "/", &headers, b"", now())
                .unwrap_err()
                .to_string()
                .contains("service")
        );
    }

    #[test]
    fn unknown_key_is_rejected() {
        let headers = signed(
            "GET",
            "/",
            b"",
            now(),
            "eu-west-1",
            EXECUTE_API,
            "AKIDUNKNOWN",
        );
        assert!(
            verifier()
                .verify("GET", "/", &headers, b"", now())
                .unwrap_err()
                .to_string()
                .contains("unknown")
        );
    }

    #[test]
    fn unsigned_and_garbage_authorization_are_rejected() {
        let v = verifier();
        assert!(v.verify("GET", "/", &HeaderMap::new(), b"", now()).is_err());
        for garbage in [
            "Bearer xyz",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/eu-west-1/execute-api/aws4_request",
            "AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 ,,,",
        ] {
            let mut headers = signed(
                "GET",
                "/",
                b"",
                now(),
                "eu-west-1",
                EXECUTE_API,
                "AKIDEXAMPLE",
            );
            headers.insert("authorization", HeaderValue::from_static(garbage));
            assert!(
                v.verify("GET", "/", &headers, b"", now()).is_err(),
                "{garbage}"
            );
        }
    }

    #[test]
    fn security_token_must_match_a_temporary_key() {
        let v = verifier();
        let mut headers = signed(
            "GET",
            "/",
            b"",
            now(),
            "eu-west-1",
            EXECUTE_API,
            "AKIDEXAMPLE",
        );
        headers.insert("x-amz-security-token", HeaderValue::from_static("token"));
        assert!(v.verify("GET", "/", &headers, b"", now()).is_err());
    }

    #[test]
    fn a_lambda_verifier_wants_service_lambda_and_refuses_execute_api() {
        let keys = r#"[{"access_key_id": "AKIDEXAMPLE", "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                        "arn": "arn:aws:iam::111122223333:user/alice", "account_id": "111122223333"}]"#;
        let lambda = Verifier::from_json(keys, "eu-west-1", LAMBDA).unwrap();
        let for_lambda = signed("GET", "/", b"", now(), "eu-west-1", LAMBDA, "AKIDEXAMPLE");
        assert!(lambda.verify("GET", "/", &for_lambda, b"", now()).is_ok());
        let for_gateway = signed(
            "GET",
            "/",
            b"",
            now(),
            "eu-west-1",
            EXECUTE_API,
            "AKIDEXAMPLE",
        );
        let err = lambda
            .verify("GET", "/", &for_gateway, b"", now())
            .unwrap_err();
        assert!(err.to_string().contains("is not `lambda`"), "{err}");
        assert!(
            verifier()
                .verify("GET", "/", &for_lambda, b"", now())
                .is_err()
        );
    }

    #[test]
    fn auth_keys_file_is_validated() {
        assert!(Verifier::from_json("[]", "eu-west-1", EXECUTE_API).is_err());
        assert!(Verifier::from_json("{}", "eu-west-1", EXECUTE_API).is_err());
        let dup = r#"[{"access_key_id":"A","secret_access_key":"s","arn":"arn:aws:iam::111122223333:user/a","account_id":"111122223333"},
                      {"access_key_id":"A","secret_access_key":"s","arn":"arn:aws:iam::111122223333:user/a","account_id":"111122223333"}]"#;
        assert!(
            Verifier::from_json(dup, "eu-west-1", EXECUTE_API)
                .unwrap_err()
                .contains("twice")
        );
        let key: AuthKey = serde_json::from_str(
            r#"{"access_key_id":"A","secret_access_key":"topsecret","arn":"arn:x","account_id":"1"}"#,
        )
        .unwrap();
        assert!(!format!("{key:?}").contains("topsecret"));
    }
}
