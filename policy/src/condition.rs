//! A rule's conditions, compiled: every condition present must hold, an
//! absent one matches anything.

use std::fmt::Display;

use chrono::{DateTime, Utc};

use crate::decision::Request;
use crate::glob::{Glob, same};
use crate::network::{Address, Network};
use crate::window::{LocalTime, TimeWindow};

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Conditions {
    pub(crate) users: Option<Vec<Glob>>,
    pub(crate) principals: Option<Vec<Glob>>,
    pub(crate) accounts: Option<Vec<String>>,
    pub(crate) source_ips: Option<Vec<Network>>,
    pub(crate) time: Option<TimeWindow>,
}

/// What one evaluation computes once for all rules, without allocating: the
/// source address in the form networks compare, `now` in each of the policy's
/// time zones (the first [`Clock::SLOTS`] zones), and the result of each of the
/// first [`Clock::MEMO`] predicates; anything beyond is computed each time it
/// is needed.
pub(crate) struct Clock {
    timestamp: i64,
    address: Option<Address>,
    slots: [Option<LocalTime>; Clock::SLOTS],
    /// Per predicate: 0 not yet evaluated, 1 does not hold, 2 holds.
    memo: [u8; Clock::MEMO],
}

impl Clock {
    const SLOTS: usize = 8;
    const MEMO: usize = 128;

    pub(crate) fn new(now: DateTime<Utc>, request: &Request<'_>) -> Self {
        Self {
            timestamp: now.timestamp(),
            address: request.source_ip.map(Address::new),
            slots: [None; Clock::SLOTS],
            memo: [0; Clock::MEMO],
        }
    }

    #[inline]
    fn remembered(&mut self, id: u32, table: &[Predicate], request: &Request<'_>) -> bool {
        let index = usize::try_from(id).unwrap_or(usize::MAX);
        match self.memo.get(index) {
            Some(1) => return false,
            Some(2) => return true,
            _ => {}
        }
        let holds = table.get(index).is_some_and(|p| p.holds(request, self));
        if let Some(state) = self.memo.get_mut(index) {
            *state = if holds { 2 } else { 1 };
        }
        holds
    }

    fn local(&mut self, window: &TimeWindow) -> LocalTime {
        match self.slots.get_mut(window.zone_slot) {
            Some(Some(local)) => *local,
            Some(slot) => *slot.insert(LocalTime::of(self.timestamp, &window.zone)),
            None => LocalTime::of(self.timestamp, &window.zone),
        }
    }
}

fn any_glob(globs: &[Glob], input: &str) -> bool {
    globs.iter().any(|g| g.matches(input))
}

fn any_account(accounts: &[String], account: &str) -> bool {
    accounts
        .iter()
        .any(|a| same(a.as_bytes(), account.as_bytes()))
}

fn any_network(networks: &[Network], address: Option<Address>) -> bool {
    address.is_some_and(|address| networks.iter().any(|n| n.contains(address)))
}

/// One distinct condition of a policy. Rules refer to these by number, so a
/// condition shared by many rules (a team's user list, the office networks,
/// business hours) is evaluated once per request, not once per rule.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Predicate {
    Accounts(Vec<String>),
    Users(Vec<Glob>),
    Principals(Vec<Glob>),
    SourceIps(Vec<Network>),
    Time(TimeWindow),
}

impl Predicate {
    fn holds(&self, request: &Request<'_>, clock: &mut Clock) -> bool {
        match self {
            Predicate::Accounts(accounts) => any_account(accounts, request.account_id),
            Predicate::Users(globs) => any_glob(globs, request.user),
            Predicate::Principals(globs) => any_glob(globs, request.principal_arn),
            Predicate::SourceIps(networks) => any_network(networks, clock.address),
            Predicate::Time(window) => window.holds(clock.local(window)),
        }
    }
}

/// A rule's predicates by number, cheapest kind first; unused slots hold
/// [`Checks::NONE`]. Inline in the rule, so scanning rules follows no pointers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Checks([u32; 5]);

impl Checks {
    const NONE: u32 = u32::MAX;

    /// Numbers `conditions` into `table`, reusing equal predicates.
    pub(crate) fn compile(conditions: &Conditions, table: &mut Vec<Predicate>) -> Self {
        let wanted = [
            conditions.accounts.clone().map(Predicate::Accounts),
            conditions.users.clone().map(Predicate::Users),
            conditions.principals.clone().map(Predicate::Principals),
            conditions.source_ips.clone().map(Predicate::SourceIps),
            conditions.time.clone().map(Predicate::Time),
        ];
        let mut checks = [Self::NONE; 5];
        for (slot, predicate) in checks.iter_mut().zip(wanted.into_iter().flatten()) {
            let index = table
                .iter()
                .position(|p| *p == predicate)
                .unwrap_or_else(|| {
                    table.push(predicate);
                    table.len() - 1
                });
            *slot = u32::try_from(index).unwrap_or(Self::NONE - 1);
        }
        Self(checks)
    }

    /// Whether every predicate holds, remembering results in `clock`.
    #[inline]
    pub(crate) fn hold(
        &self,
        table: &[Predicate],
        request: &Request<'_>,
        clock: &mut Clock,
    ) -> bool {
        self.0
            .iter()
            .take_while(|id| **id != Self::NONE)
            .all(|id| clock.remembered(*id, table, request))
    }
}

impl Conditions {
    /// Every condition that does not hold, in the order of the document's
    /// keys, as text for people. Empty exactly when [`Checks::hold`] is true.
    pub(crate) fn why_not(&self, request: &Request<'_>, clock: &mut Clock) -> Vec<String> {
        let mut reasons = Vec::new();
        if let Some(users) = self.users.as_ref().filter(|g| !any_glob(g, request.user)) {
            reasons.push(format!(
                "users: `{}` matches none of {}",
                request.user,
                list(users)
            ));
        }
        if let Some(principals) = self
            .principals
            .as_ref()
            .filter(|g| !any_glob(g, request.principal_arn))
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
            .filter(|a| !any_account(a, request.account_id))
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
            .filter(|n| !any_network(n, clock.address))
        {
            reasons.push(match request.source_ip.map(|ip| ip.to_canonical()) {
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
                    theirs.iter().all(|t| mine.iter().any(|m| m.covers(t)))
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
