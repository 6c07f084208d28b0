//! `conditions`: who (users, principals, accounts), from where (networks)
//! and when (`time`, in [`super::time`]).

use std::fmt;

use ipnet::IpNet;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::fields::{FromText, NonEmpty, Present, Text, checked_map};
use super::time::TimeSection;
use crate::condition::Conditions;
use crate::error::Invalid;
use crate::glob::Glob;
use crate::network::Network;
use sentinel_types::AccountId;

/// `conditions`: when present, at least one condition (an absent key matches
/// anything, so an empty section would be an accidental catch-all).
pub(super) struct ConditionsSection(pub(super) Conditions);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ConditionFields {
    #[serde(default)]
    pub(super) users: Present<NonEmpty<Text<UserGlob>>>,
    #[serde(default)]
    pub(super) principals: Present<NonEmpty<Text<PrincipalGlob>>>,
    #[serde(default)]
    pub(super) accounts: Present<NonEmpty<Account>>,
    #[serde(default)]
    pub(super) source_ips: Present<NonEmpty<Text<NetworkText>>>,
    #[serde(default)]
    pub(super) time: Present<TimeSection>,
}

impl ConditionFields {
    /// The conditions; [`Conditions::default`] when none was given.
    pub(super) fn into_conditions(self) -> Conditions {
        Conditions {
            users: self
                .users
                .0
                .map(|l| l.0.into_iter().map(|g| g.0.0).collect()),
            principals: self
                .principals
                .0
                .map(|l| l.0.into_iter().map(|g| g.0.0).collect()),
            accounts: self
                .accounts
                .0
                .map(|l| l.0.into_iter().map(|a| a.0).collect()),
            source_ips: self
                .source_ips
                .0
                .map(|l| l.0.into_iter().map(|n| n.0.0).collect()),
            time: self.time.0.map(|t| t.0),
        }
    }
}

impl<'de> Deserialize<'de> for ConditionsSection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(
            d,
            "conditions: a mapping with `users`, `principals`, `accounts`, `source_ips` or `time`",
            |f: ConditionFields| {
                let conditions = f.into_conditions();
                if conditions == Conditions::default() {
                    return Err(Invalid::new("conditions is empty").hint(
                        "leave `conditions` out to match every request, or add a condition",
                    ));
                }
                Ok(ConditionsSection(conditions))
            },
        )
    }
}

pub(super) struct UserGlob(pub(super) Glob);

impl FromText for UserGlob {
    const EXPECTING: &'static str = "a user name glob";
    fn from_text(text: &str) -> Result<Self, Invalid> {
        if text.starts_with("arn:") {
            return Err(Invalid::new(format!(
                "`{text}` is an ARN, but `users` matches user names"
            ))
            .hint("match ARNs with `principals`, or write the user name (e.g. `alice`)"));
        }
        Glob::new(text).map(UserGlob)
    }
}

pub(super) struct PrincipalGlob(pub(super) Glob);

impl FromText for PrincipalGlob {
    const EXPECTING: &'static str = "a principal ARN glob";
    fn from_text(text: &str) -> Result<Self, Invalid> {
        if !text.starts_with("arn:") && !text.starts_with('*') {
            return Err(Invalid::new(format!(
                "`{text}` is not an ARN glob, so it can never match a caller ARN"
            ))
            .hint("principals match caller ARNs such as `arn:aws:iam::123456789012:user/*`; match user names with `users`"));
        }
        Glob::new(text).map(PrincipalGlob)
    }
}

pub(super) struct NetworkText(pub(super) Network);

impl FromText for NetworkText {
    const EXPECTING: &'static str = "an IPv4 or IPv6 CIDR";
    fn from_text(text: &str) -> Result<Self, Invalid> {
        // A bare address means that one host (/32 or /128).
        let net = match text.parse::<IpNet>() {
            Ok(net) => net,
            Err(_) => match text.parse::<std::net::IpAddr>() {
                Ok(ip) => IpNet::from(ip),
                Err(_) => {
                    return Err(Invalid::new(format!("`{text}` is not a CIDR")).hint(
                        "write networks as `10.0.0.0/8` or `2001:db8::/32`, or a single address",
                    ));
                }
            },
        };
        // SECURITY: `10.1.2.3/8` most likely means a typo; refusing it beats
        // silently widening or narrowing who gets in.
        if net.trunc() != net {
            return Err(Invalid::new(format!("`{text}` has host bits set"))
                .hint(format!("did you mean `{}`?", net.trunc())));
        }
        Ok(NetworkText(Network::new(net)))
    }
}

/// A 12-digit account ID, which must be quoted: YAML reads unquoted digits as
/// a number and drops leading zeros.
pub(super) struct Account(pub(super) String);

impl<'de> Deserialize<'de> for Account {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Account;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a quoted 12-digit account ID")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Account, E> {
                AccountId::parse(v)
                    .map(|a| Account(a.as_str().to_owned()))
                    .map_err(|e| E::custom(Invalid::from(e)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Account, E> {
                Err(unquoted_account(&v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Account, E> {
                Err(unquoted_account(&v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Account, E> {
                Err(unquoted_account(&v))
            }
        }
        d.deserialize_any(V)
    }
}

fn unquoted_account<E: de::Error>(v: &dyn fmt::Display) -> E {
    E::custom(
        Invalid::new(format!("account `{v}` must be a quoted string"))
            .hint("quote account IDs, e.g. \"012345678901\": YAML reads bare digits as a number and drops leading zeros"),
    )
}
