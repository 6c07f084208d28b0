//! Deciding a request: the first rule whose conditions all hold decides; no
//! match is a deny.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::condition::Clock;
use crate::set::{Effect, PolicySet, Rule};
use sentinel_types::SessionDuration;

/// What is being asked, by whom (as AWS verified it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// The caller's ARN (`requestContext.authorizer.iam.userArn`).
    pub principal_arn: &'a str,
    /// The user derived from the ARN ([`crate::identity::derive_user`]).
    pub user: &'a str,
    /// The caller's 12-digit account.
    pub account_id: &'a str,
    /// Where the request came from; `source_ips` conditions never hold without it.
    pub source_ip: Option<IpAddr>,
    /// Seconds the caller asked for; the profile's default when `None`.
    pub requested_duration: Option<u32>,
}

/// The outcome. A deny is a value, not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision<'s> {
    /// Issue credentials.
    Allow {
        /// The deciding rule.
        rule: &'s str,
        /// Its reason, if it has one.
        reason: Option<&'s str>,
        /// Seconds to grant: the request (or the profile default) within `cap`.
        duration: u32,
        /// The longest this rule and profile allow: min(rule max, profile max, 43200).
        cap: u32,
    },
    /// Refuse.
    Deny {
        /// The deciding deny rule; `None` when no rule matched.
        rule: Option<&'s str>,
        /// Its reason, if it has one.
        reason: Option<&'s str>,
    },
}

impl Decision<'_> {
    /// Whether credentials may be issued.
    pub fn is_allow(&self) -> bool {
        matches!(self, Decision::Allow { .. })
    }
}

/// Decides `request` at `now`. Does not allocate.
pub fn evaluate<'s>(set: &'s PolicySet, request: &Request<'_>, now: DateTime<Utc>) -> Decision<'s> {
    let mut clock = Clock::new(now, request);
    set.rules
        .iter()
        .find(|rule| rule.checks.hold(&set.predicates, request, &mut clock))
        .map_or(
            Decision::Deny {
                rule: None,
                reason: None,
            },
            |rule| decide(set, rule, request),
        )
}

/// The decision once `rule` matched.
pub(crate) fn decide<'s>(
    set: &'s PolicySet,
    rule: &'s Rule,
    request: &Request<'_>,
) -> Decision<'s> {
    match rule.effect {
        Effect::Deny => Decision::Deny {
            rule: Some(&rule.name),
            reason: rule.reason.as_deref(),
        },
        Effect::Allow => {
            let cap = [rule.max_duration, set.profile.max_duration]
                .into_iter()
                .flatten()
                .fold(SessionDuration::MAX.secs(), u32::min);
            let wanted = request
                .requested_duration
                .unwrap_or(set.profile.default_duration);
            // `cap` is at least SessionDuration::MIN because every configured
            // duration was validated to be, so this cannot invert.
            let duration = wanted.max(SessionDuration::MIN.secs()).min(cap);
            Decision::Allow {
                rule: &rule.name,
                reason: rule.reason.as_deref(),
                duration,
                cap,
            }
        }
    }
}
