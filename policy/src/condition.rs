//! A rule's conditions, compiled: every condition present must hold, an
//! absent one matches anything.
//!
//! Two kinds of callers meet here (docs/policy.md, "Workload conditions"):
//! IAM callers and workloads (a verified JWT, [`crate::Workload`]).
//! `principals` and `accounts` hold for IAM callers only; `issuers`,
//! `subjects` and `claims` for workloads only; `users`, `source_ips` and
//! `time` for both.

use std::collections::BTreeMap;
use std::fmt::{self, Display};

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
    pub(crate) issuers: Option<Vec<Glob>>,
    pub(crate) subjects: Option<Vec<Glob>>,
    pub(crate) claims: Option<Vec<Claim>>,
}

/// One entry of `claims`: the token's claim `name` must have a value that
/// matches one of `globs`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Claim {
    pub(crate) name: String,
    pub(crate) globs: Vec<Glob>,
}

impl Claim {
    #[inline]
    fn holds(&self, claims: &BTreeMap<String, Vec<String>>) -> bool {
        claims
            .get(self.name.as_str())
            .is_some_and(|values| values.iter().any(|v| any_glob(&self.globs, v)))
    }

    /// Whether every token `other` admits, `self` admits too: the same
    /// claim, and each of `other`'s globs covered by one of `self`'s.
    fn covers(&self, other: &Claim) -> bool {
        self.name == other.name
            && other
                .globs
                .iter()
                .all(|t| self.globs.iter().any(|m| m.covers(t)))
    }

    /// Why the claim does not hold for `claims`, when it does not.
    fn why_not(&self, claims: &BTreeMap<String, Vec<String>>) -> Option<String> {
        if self.holds(claims) {
            return None;
        }
        Some(match claims.get(self.name.as_str()) {
            None => format!("claims: the token has no `{}` claim", self.name),
            Some(values) if values.is_empty() => {
                format!("claims: `{}` has no values", self.name)
            }
            Some(values) => {
                let quoted: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
                format!(
                    "claims: `{}` ({}) matches none of {}",
                    self.name,
                    quoted.join(", "),
                    list(&self.globs)
                )
            }
        })
    }
}

impl Display for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, list(&self.globs))
    }
}

/// The kinds of callers, for questions that depend on it (lints).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Callers {
    /// Callers AWS authenticated (`workload: None`).
    Iam,
    /// Callers authenticated by a verified JWT.
    Workloads,
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
    Issuers(Vec<Glob>),
    Subjects(Vec<Glob>),
    Claims(Vec<Claim>),
}

impl Predicate {
    fn holds(&self, request: &Request<'_>, clock: &mut Clock) -> bool {
        match self {
            // SECURITY: a workload's `principal_arn` and `account_id` are not
            // verified by AWS, so the IAM-only conditions never hold for one...
            Predicate::Accounts(accounts) => {
                request.workload.is_none() && any_account(accounts, request.account_id)
            }
            Predicate::Users(globs) => any_glob(globs, request.user),
            Predicate::Principals(globs) => {
                request.workload.is_none() && any_glob(globs, request.principal_arn)
            }
            Predicate::SourceIps(networks) => any_network(networks, clock.address),
            Predicate::Time(window) => window.holds(clock.local(window)),
            // ...and the workload conditions never hold without a token.
            Predicate::Issuers(globs) => {
                request.workload.is_some_and(|w| any_glob(globs, w.issuer))
            }
            Predicate::Subjects(globs) => {
                request.workload.is_some_and(|w| any_glob(globs, w.subject))
            }
            Predicate::Claims(claims) => request
                .workload
                .is_some_and(|w| claims.iter().all(|c| c.holds(w.claims))),
        }
    }
}

/// A rule's predicates by number, cheapest kind first; unused slots hold
/// [`Checks::NONE`]. Inline in the rule, so scanning rules follows no pointers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Checks {
    /// One slot per kind of predicate, so no condition can be left out.
    ids: [u32; Checks::SLOTS],
    /// Whether the rule can match a workload at all: a deny, or a rule with
    /// workload conditions. An allow without them never does.
    workloads: bool,
}

impl Checks {
    const NONE: u32 = u32::MAX;
    const SLOTS: usize = 8;

    /// Numbers `conditions` into `table`, reusing equal predicates;
    /// `workloads` is whether the rule can match a workload at all.
    pub(crate) fn compile(
        conditions: &Conditions,
        workloads: bool,
        table: &mut Vec<Predicate>,
    ) -> Self {
        let wanted: [Option<Predicate>; Self::SLOTS] = [
            conditions.accounts.clone().map(Predicate::Accounts),
            conditions.users.clone().map(Predicate::Users),
            conditions.principals.clone().map(Predicate::Principals),
            conditions.issuers.clone().map(Predicate::Issuers),
            conditions.subjects.clone().map(Predicate::Subjects),
            conditions.source_ips.clone().map(Predicate::SourceIps),
            conditions.claims.clone().map(Predicate::Claims),
            conditions.time.clone().map(Predicate::Time),
        ];
        let mut checks = [Self::NONE; Self::SLOTS];
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
        Self {
            ids: checks,
            workloads,
        }
    }

    /// Whether every predicate holds, remembering results in `clock`.
    #[inline]
    pub(crate) fn hold(
        &self,
        table: &[Predicate],
        request: &Request<'_>,
        clock: &mut Clock,
    ) -> bool {
        if request.workload.is_some() && !self.workloads {
            return false;
        }
        self.ids
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
        let workload = request.workload;
        if let Some(principals) = &self.principals {
            if workload.is_some() {
                reasons.push("principals never hold for a workload".to_owned());
            } else if !any_glob(principals, request.principal_arn) {
                reasons.push(format!(
                    "principals: `{}` matches none of {}",
                    request.principal_arn,
                    list(principals)
                ));
            }
        }
        if let Some(accounts) = &self.accounts {
            if workload.is_some() {
                reasons.push("accounts never hold for a workload".to_owned());
            } else if !any_account(accounts, request.account_id) {
                reasons.push(format!(
                    "accounts: `{}` is not in {}",
                    request.account_id,
                    list(accounts)
                ));
            }
        }
        for (key, globs, value) in [
            ("issuers", &self.issuers, workload.map(|w| w.issuer)),
            ("subjects", &self.subjects, workload.map(|w| w.subject)),
        ] {
            match (globs, value) {
                (None, _) => {}
                (Some(_), None) => reasons.push(format!("{key} never hold for an IAM caller")),
                (Some(globs), Some(value)) if !any_glob(globs, value) => {
                    reasons.push(format!("{key}: `{value}` matches none of {}", list(globs)))
                }
                (Some(_), Some(_)) => {}
            }
        }
        if let Some(claims) = &self.claims {
            match workload {
                None => reasons.push("claims never hold for an IAM caller".to_owned()),
                Some(w) => reasons.extend(claims.iter().filter_map(|c| c.why_not(w.claims))),
            }
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

    /// The conditions as people read them (`principals: [...]; users: [...]`), for an
    /// approver group in `sentinel policy test` and the TVM's hints.
    pub(crate) fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(users) = &self.users {
            parts.push(format!("users: {}", list(users)));
        }
        if let Some(principals) = &self.principals {
            parts.push(format!("principals: {}", list(principals)));
        }
        if let Some(accounts) = &self.accounts {
            parts.push(format!("accounts: {}", list(accounts)));
        }
        if let Some(networks) = &self.source_ips {
            parts.push(format!("source_ips: {}", list(networks)));
        }
        if let Some(window) = &self.time {
            let days = window.days.map(|d| d.to_string());
            let hours = window.hours.map(|h| h.to_string());
            let text: Vec<String> = days.into_iter().chain(hours).collect();
            parts.push(format!("time: {} {}", text.join(" "), window.zone.name()));
        }
        if parts.is_empty() {
            "anyone".to_owned()
        } else {
            parts.join("; ")
        }
    }

    /// Names `principals` or `accounts`, which hold for IAM callers only.
    pub(crate) fn names_iam(&self) -> bool {
        self.principals.is_some() || self.accounts.is_some()
    }

    /// Names `issuers`, `subjects` or `claims`, which hold for workloads only.
    pub(crate) fn names_workload(&self) -> bool {
        self.issuers.is_some() || self.subjects.is_some() || self.claims.is_some()
    }

    /// Whether every request of `callers` that `other` admits is admitted by
    /// `self` too. Conservative: `false` when not proven, so a lint never
    /// claims a shadow that is not there.
    pub(crate) fn covers(&self, other: &Conditions, callers: Callers) -> bool {
        match callers {
            // Nothing to cover when `other` admits no IAM caller at all;
            // nothing covered when `self` admits none.
            Callers::Iam if other.names_workload() => true,
            Callers::Iam if self.names_workload() => false,
            Callers::Iam => {
                self.shared_cover(other)
                    && globs_cover(self.principals.as_deref(), other.principals.as_deref())
                    && match (&self.accounts, &other.accounts) {
                        (None, _) => true,
                        (Some(mine), Some(theirs)) => theirs.iter().all(|a| mine.contains(a)),
                        (Some(_), None) => false,
                    }
            }
            // The same for workloads.
            Callers::Workloads if other.names_iam() => true,
            Callers::Workloads if self.names_iam() => false,
            Callers::Workloads => {
                self.shared_cover(other)
                    && globs_cover(self.issuers.as_deref(), other.issuers.as_deref())
                    && globs_cover(self.subjects.as_deref(), other.subjects.as_deref())
                    && match (&self.claims, &other.claims) {
                        (None, _) => true,
                        // Every claim of mine is required by theirs, with
                        // globs that cover theirs (extra claims of theirs
                        // only narrow it further).
                        (Some(mine), Some(theirs)) => {
                            mine.iter().all(|m| theirs.iter().any(|t| m.covers(t)))
                        }
                        // A token may lack the claim: not proven.
                        (Some(_), None) => false,
                    }
            }
        }
    }

    /// `covers` for the conditions both kinds of callers share.
    fn shared_cover(&self, other: &Conditions) -> bool {
        globs_cover(self.users.as_deref(), other.users.as_deref())
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
