//! One request through the proxy, whichever front door it came by: size → identity →
//! target → route allow-list → policy → upstream credential → forward → answer.
//! Every refusal happens before the upstream is contacted; nothing here panics.

use std::time::Instant;

use chrono::{DateTime, Utc};
use http::header::{AUTHORIZATION, HeaderMap, HeaderValue, LOCATION};
use policy::identity::{self, IdentityError};
use policy::{ProxyDecision, ProxyRequest};
use protocol::{ErrorBody, ErrorCode};
use sentinel_front::IamCaller;
use sentinel_types::AccountId;

use crate::config::Config;
use crate::log::{Effect, ProxyLog};
use crate::params::{Cache, LoadError, Parameters};
use crate::target::{self, CALLER_HEADER};
use crate::upstream::{Upstream, UpstreamError, UpstreamRequest};

/// A request as either front door sees it.
#[derive(Debug, Clone, Default)]
pub struct Incoming {
    pub method: String,
    /// The request target as received: `/path?query`, or anything else a client sent.
    pub target: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The front door could not take the whole body (over its limit).
    pub body_too_large: bool,
    /// `None` when the request carried no verified IAM identity.
    pub caller: Option<IamCaller>,
    /// Why the front door could not verify the caller (log only).
    pub auth_failure: Option<String>,
    pub source_ip: Option<String>,
    pub request_id: String,
    /// The account the proxy runs in: home of bare user names.
    pub home_account: Option<AccountId>,
}

/// What goes back to the caller.
#[derive(Debug)]
pub enum Reply {
    /// The proxy's own answer: status and a docs/api.md error body.
    Refused {
        /// The code's status.
        status: u16,
        /// JSON.
        body: String,
    },
    /// The upstream's answer, its body still to be read.
    Upstream {
        /// The upstream's status.
        status: u16,
        /// The upstream's headers, less hop-by-hop ones.
        headers: HeaderMap,
        /// The answer whose body the front door streams or collects.
        response: Box<sentinel_aws::https::Response>,
    },
}

/// The reply plus the decision line.
#[derive(Debug)]
pub struct Handled {
    pub reply: Reply,
    pub log: ProxyLog,
}

/// A refusal: code, client-safe message, log-only detail.
#[derive(Debug)]
struct Refusal {
    code: ErrorCode,
    message: String,
    detail: Option<String>,
}

fn refusal(code: ErrorCode, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
        detail: None,
    }
}

impl Refusal {
    fn detail(mut self, detail: impl ToString) -> Self {
        self.detail = Some(detail.to_string());
        self
    }
}

/// The verified caller.
struct Caller {
    arn: String,
    account_id: AccountId,
    user: String,
}

/// The proxy: its settings, its parameters behind their cache, its upstream client.
pub struct Proxy<P, U> {
    config: Config,
    params: Cache<P>,
    upstream: U,
}

impl<P: Parameters, U: Upstream> Proxy<P, U> {
    /// Wires the proxy.
    pub fn new(config: Config, parameters: P, upstream: U) -> Self {
        let params = Cache::new(
            parameters,
            config.policy_parameter.clone(),
            config.auth_parameter.clone(),
            config.cache_ttl,
        );
        Self {
            config,
            params,
            upstream,
        }
    }

    /// The settings in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Handles one request at `now`.
    pub async fn handle(&self, mut request: Incoming, now: DateTime<Utc>) -> Handled {
        let started = Instant::now();
        let mut log = ProxyLog::new(request.request_id.clone(), request.method.clone(), now);
        log.stack = self.config.stack_name.clone();
        log.source_ip = request.source_ip.clone();
        log.request_bytes = request.body.len();
        let reply = match self.forward(&mut request, now, &mut log).await {
            Ok(reply) => reply,
            Err(refused) => {
                let status = refused.code.status();
                log.effect = Effect::of_refusal(refused.code);
                log.level = log.effect.level();
                log.code = Some(refused.code.as_str());
                if log.reason.is_none() {
                    log.reason = Some(refused.message.clone());
                }
                log.detail = refused.detail;
                let body = ErrorBody::new(refused.code, refused.message, &request.request_id);
                Reply::Refused {
                    status,
                    body: serde_json::to_string(&body).unwrap_or_default(),
                }
            }
        };
        log.latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        Handled { reply, log }
    }

    async fn forward(
        &self,
        request: &mut Incoming,
        now: DateTime<Utc>,
        log: &mut ProxyLog,
    ) -> Result<Reply, Refusal> {
        let max = self.config.max_body;
        if request.body_too_large || request.body.len() > max {
            return Err(refusal(
                ErrorCode::BodyTooLarge,
                format!("the request body is larger than {max} bytes"),
            ));
        }
        let caller = self.authenticate(request, log)?;
        let target = target::canonical(&request.target).map_err(|e| {
            refusal(
                ErrorCode::InvalidRequest,
                format!("the request target is not proxied: {e}"),
            )
        })?;
        log.path = Some(target.path.clone());
        // SECURITY: only the seven methods routes can name; TRACE would echo the
        // injected credential, CONNECT asks for a tunnel, a lower-case `delete` could
        // slip past a rule on `DELETE` into an upstream that reads methods loosely.
        if !policy::ROUTE_METHODS.contains(&request.method.as_str()) {
            return Err(refusal(
                ErrorCode::MethodNotAllowed,
                format!(
                    "method `{}` is never proxied ({})",
                    request.method,
                    policy::ROUTE_METHODS.join(", ")
                ),
            ));
        }
        let route = self
            .config
            .routes
            .iter()
            .find(|r| r.matches(&request.method, &target.path))
            .ok_or_else(|| {
                refusal(
                    ErrorCode::RouteNotAllowed,
                    format!(
                        "`{} {}` is not an allowed route of this proxy",
                        request.method, target.path
                    ),
                )
            })?;
        log.route = Some(route.to_string());

        let loaded = self.params.get().await.map_err(|e| match &e {
            LoadError::Invalid { .. } => refusal(
                ErrorCode::PolicyError,
                "the proxy's policy is invalid; its owners must fix it",
            )
            .detail(&e),
            LoadError::Store(_) | LoadError::Missing(_) => refusal(
                ErrorCode::ConfigError,
                "the proxy cannot read its policy or upstream credential",
            )
            .detail(&e),
        })?;
        let source_ip = request.source_ip.as_deref().and_then(|ip| ip.parse().ok());
        let question = ProxyRequest {
            principal_arn: &caller.arn,
            user: &caller.user,
            account_id: caller.account_id.as_str(),
            source_ip,
            method: &request.method,
            path: &target.path,
        };
        match policy::evaluate_proxy(&loaded.policy, &question, now) {
            ProxyDecision::Allow { rule, reason } => {
                log.rule = Some(rule.to_owned());
                log.reason = reason.map(str::to_owned);
            }
            ProxyDecision::Deny { rule, reason } => {
                log.rule = rule.map(str::to_owned);
                let message = match (rule, reason) {
                    (None, _) => "no rule of the proxy's policy allows this request (default deny)"
                        .to_owned(),
                    (Some(rule), None) => format!("denied by rule `{rule}` of the proxy's policy"),
                    (Some(rule), Some(reason)) => {
                        format!("denied by rule `{rule}` of the proxy's policy: {reason}")
                    }
                };
                return Err(refusal(ErrorCode::PolicyDeny, message));
            }
        }

        let url = self
            .config
            .upstream
            .join(&target.path, target.query.as_deref())
            .map_err(|e| {
                refusal(
                    ErrorCode::InvalidRequest,
                    "the request target is not proxied",
                )
                .detail(e)
            })?;
        let mut headers = target::request_headers(&request.headers, &self.config.forward_headers);
        let caller_value = HeaderValue::from_str(&caller.arn).map_err(|e| {
            refusal(
                ErrorCode::InvalidIdentity,
                "the caller's ARN cannot be sent",
            )
            .detail(e)
        })?;
        headers.insert(CALLER_HEADER, caller_value);
        if let Some(auth) = &loaded.upstream_auth {
            let mut value = HeaderValue::from_str(auth).map_err(|_| {
                refusal(
                    ErrorCode::ConfigError,
                    "the proxy's upstream credential is not a valid header value",
                )
            })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let sent = self
            .upstream
            .send(UpstreamRequest {
                method: request.method.clone(),
                url: url.clone(),
                headers,
                body: std::mem::take(&mut request.body),
            })
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(UpstreamError::Timeout(why)) => {
                return Err(refusal(
                    ErrorCode::UpstreamTimeout,
                    format!(
                        "the upstream did not answer within {} ms",
                        self.config.timeout.as_millis()
                    ),
                )
                .detail(why));
            }
            Err(UpstreamError::Failed(why)) => {
                return Err(refusal(
                    ErrorCode::UpstreamError,
                    "the upstream could not be reached",
                )
                .detail(why));
            }
        };
        let status = response.status().as_u16();
        log.upstream_status = Some(status);
        // SECURITY: redirects are never followed; a `Location` (on any status: a 201's
        // too) that points at another origin is not passed on either, so the proxy's
        // name cannot send a caller elsewhere. Two `Location`s are refused: clients
        // differ on which they follow.
        let locations: Vec<_> = response.headers().get_all(LOCATION).iter().collect();
        let elsewhere = locations.len() > 1
            || locations.iter().any(|location| {
                location
                    .to_str()
                    .ok()
                    .and_then(|l| url.join(l).ok())
                    .is_none_or(|to| !self.config.upstream.same_origin(&to))
            });
        if elsewhere {
            return Err(refusal(
                ErrorCode::UpstreamError,
                "the upstream redirected to another host",
            )
            .detail(format!(
                "upstream answered {status} with a Location elsewhere (or several)"
            )));
        }
        Ok(Reply::Upstream {
            status,
            headers: target::response_headers(response.headers()),
            response: Box::new(response),
        })
    }

    /// docs/identity.md: the user from the verified ARN; the context's account must be
    /// the ARN's.
    fn authenticate(&self, request: &Incoming, log: &mut ProxyLog) -> Result<Caller, Refusal> {
        let caller = request.caller.as_ref();
        let Some(arn) = caller
            .and_then(|c| c.user_arn.as_deref())
            .filter(|a| !a.is_empty())
        else {
            let refused = refusal(
                ErrorCode::IamAuthRequired,
                "the request must be signed with AWS credentials (SigV4, service `lambda`)",
            );
            return Err(match &request.auth_failure {
                Some(why) => refused.detail(why),
                None => refused,
            });
        };
        log.caller_arn = Some(arn.to_owned());
        let derived =
            identity::derive_user(arn, &self.config.identity_roles).map_err(|e| match e {
                IdentityError::Root => refusal(
                    ErrorCode::InvalidIdentity,
                    "root credentials cannot be used with sentinel-proxy",
                ),
                other => refusal(
                    ErrorCode::InvalidIdentity,
                    format!("caller `{arn}` is not a supported identity"),
                )
                .detail(other),
            })?;
        log.account_id = Some(derived.account_id.clone());
        // SECURITY: a context that does not name the ARN's account was not built by AWS
        // (or by serve's SigV4 check) and is not trusted.
        let context_account = caller.and_then(|c| c.account_id.as_deref()).unwrap_or("");
        if context_account != derived.account_id {
            return Err(refusal(
                ErrorCode::InvalidIdentity,
                format!("caller `{arn}` does not belong to account `{context_account}`"),
            ));
        }
        let account_id = AccountId::parse(&derived.account_id).map_err(|e| {
            refusal(
                ErrorCode::InvalidIdentity,
                format!("caller `{arn}` is not a supported identity"),
            )
            .detail(e)
        })?;
        let Some(home) = request.home_account.as_ref() else {
            return Err(refusal(
                ErrorCode::ConfigError,
                "sentinel-proxy does not know the account it runs in",
            ));
        };
        // Two accounts' `alice` are never one user: a bare name is the home account's.
        let user = if account_id == *home {
            derived.user
        } else {
            format!("{account_id}:{}", derived.user)
        };
        log.user = Some(user.clone());
        Ok(Caller {
            arn: arn.to_owned(),
            account_id,
            user,
        })
    }
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
