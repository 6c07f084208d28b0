//! A rule's conditions, compiled: every condition present must hold, an
//! absent one matches anything.

use std::fmt::Display;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use ipnet::IpNet;

use crate::decision::Request;
use crate::glob::Glob;
use crate::window::{LocalTime, TimeWindow};

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Conditions {
    pub(crate) users: Option<Vec<Glob>>,
    pub(crate) principals: Option<Vec<Glob>>,
    pub(crate) accounts: Option<Vec<String>>,
    pub(crate) source_ips: Option<Vec<IpNet>>,
    pub(crate) time: Option<TimeWindow>,
}

/// Converts `now` to each of the policy's time zones at most once per
/// evaluation, without allocating (the first [`Clock::SLOTS`] zones are
/// remembered; a policy with more zones converts the rest per rule).
pub(crate) struct Clock {
    now: DateTime<Utc>,
    slots: [Option<LocalTime>; Clock::SLOTS],
}

impl Clock {
    const SLOTS: usize = 8;

    pub(crate) fn new(now: DateTime<Utc>) -> Self {
        Self {
            now,
            slots: [None; Clock::SLOTS],
        }
    }

    fn local(&mut self, window: &TimeWindow) -> LocalTime {
        match self.slots.get_mut(window.zone_slot) {
            Some(Some(local)) => *local,
            Some(slot) => *slot.insert(LocalTime::of(self.now, window.zone)),
            None => LocalTime::of(self.now, window.zone),
        }
    }
}

/// The request's source address as the networks compare it.
fn source(request: &Request<'_>) -> Option<IpAddr> {
    // SECURITY: an IPv4 client seen through a dual-stack socket arrives as
    // `::ffff:a.b.c.d`; compare it as the IPv4 address it is, so IPv4 rules
    // neither miss it nor can be bypassed with it.
    request.source_ip.map(|ip| ip.to_canonical())
}

impl Conditions {
    fn users_hold(&self, request: &Request<'_>) -> bool {
        self.users
            .as_ref()
            .is_none_or(|globs| globs.iter().any(|g| g.matches(request.user)))
    }

    fn principals_hold(&self, request: &Request<'_>) -> bool {
        self.principals
            .as_ref()
            .is_none_or(|globs| globs.iter().any(|g| g.matches(request.principal_arn)))
    }

    fn accounts_hold(&self, request: &Request<'_>) -> bool {
        self.accounts
            .as_ref()
            .is_none_or(|accounts| accounts.iter().any(|a| a == request.account_id))
    }

    fn source_ips_hold(&self, request: &Request<'_>) -> bool {
        self.source_ips.as_ref().is_none_or(|networks| {
            source(request).is_some_and(|ip| networks.iter().any(|n| n.contains(&ip)))
        })
    }

    /// Cheapest checks first; the time zone conversion last.
    pub(crate) fn hold(&self, request: &Request<'_>, clock: &mut Clock) -> bool {
        self.accounts_hold(request)
            && self.users_hold(request)
            && self.principals_hold(request)
            && self.source_ips_hold(request)
            && self
                .time
                .as_ref()
                .is_none_or(|window| window.holds(clock.local(window)))
    }

    /// Every condition that does not hold, in the order of the document's
    /// keys, as text for people. Empty exactly when [`Conditions::hold`] is true.
    pub(crate) fn why_not(&self, request: &Request<'_>, clock: &mut Clock) -> Vec<String> {
        let mut reasons = Vec::new();
        if let Some(users) = self.users.as_ref().filter(|_| !self.users_hold(request)) {
            reasons.push(format!(
                "users: `{}` matches none of {}",
                request.user,
                list(users)
            ));
        }
        if let Some(principals) = self
            .principals
            .as_ref()
            .filter(|_| !self.principals_hold(request))
        {
            reasons.push(format!(
                "principals: `{}` matches none of {}",
                request.principal_arn,
                list(principals)
            ));
        }
        if let Some(accounts) = self
            .accounts
            .as_ref()
            .filter(|_| !self.accounts_hold(request))
        {
            reasons.push(format!(
                "accounts: `{}` is not in {}",
                request.account_id,
                list(accounts)
            ));
        }
        if let Some(networks) = self
            .source_ips
            .as_ref()
            .filter(|_| !self.source_ips_hold(request))
        {
            reasons.push(match source(request) {
                None => "source_ips: the request has no source IP".to_owned(),
                Some(ip) => format!("source_ips: `{ip}` is in none of {}", list(networks)),
            });
        }
        if let Some(window) = &self.time {
            let local = clock.local(window);
            if !window.holds(local) {
                reasons.push(window.why_not(local));
            }
        }
        reasons
    }

    /// Whether every request these conditions admit is admitted by `self`
    /// too. Conservative: `false` when not proven, so a lint never claims a
    /// shadow that is not there.
    pub(crate) fn covers(&self, other: &Conditions) -> bool {
        globs_cover(self.users.as_deref(), other.users.as_deref())
            && globs_cover(self.principals.as_deref(), other.principals.as_deref())
            && match (&self.accounts, &other.accounts) {
                (None, _) => true,
                (Some(mine), Some(theirs)) => theirs.iter().all(|a| mine.contains(a)),
                (Some(_), None) => false,
            }
            && match (&self.source_ips, &other.source_ips) {
                (None, _) => true,
                (Some(mine), Some(theirs)) => {
                    theirs.iter().all(|t| mine.iter().any(|m| m.contains(t)))
                }
                // A request without a source IP matches no network.
                (Some(_), None) => false,
            }
            && match (&self.time, &other.time) {
                (None, _) => true,
                (Some(mine), Some(theirs)) => mine.covers(theirs),
                (Some(_), None) => false,
            }
    }
}

fn globs_cover(mine: Option<&[Glob]>, theirs: Option<&[Glob]>) -> bool {
    match (mine, theirs) {
        (None, _) => true,
        (Some(mine), Some(theirs)) => theirs.iter().all(|t| mine.iter().any(|m| m.covers(t))),
        (Some(mine), None) => mine.iter().any(Glob::is_universal),
    }
}

fn list<T: Display>(items: &[T]) -> String {
    let parts: Vec<String> = items.iter().map(ToString::to_string).collect();
    format!("[{}]", parts.join(", "))
}
