//! Layer 2 end to end: every affected role's deny rebuilt from the table under that
//! role's lease, written, read back, and each row told where it stands (`aws_deny`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sentinel_types::{AccountId, RoleArn};
use sessions::{
    AwsDeny, LeaseStore, ListQuery, SessionId, SessionRecord, SessionStore, Status, StoreError,
};

use crate::document::{self, DenyPolicy, ExistingDeny, POLICY_NAME, RevokedSession};
use crate::roles::{IamError, RolePolicies, RoleWriters, revoker_arn};

/// How long one writer may hold a role's lease; a crashed writer's lease expires.
const LEASE_SECONDS: i64 = 30;
/// Attempts to take a busy lease, 100 ms apart (every writer finishes well within).
const LEASE_ATTEMPTS: u32 = 200;
/// Rebuilds of one role when what was read back is not what was written.
const WRITE_ATTEMPTS: u32 = 3;

/// Why one role's deny was not brought up to date. Messages are safe for an admin: role
/// and account names, AWS error text, never credentials.
#[derive(Debug, thiserror::Error)]
pub enum RevocationError {
    /// An IAM call failed.
    #[error(transparent)]
    Iam(#[from] IamError),
    /// The session table failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The role is in another account and its revoker role could not be assumed.
    #[error(
        "role `{role}` is in account {account}: its deny is written through `{revoker}`, which could not be used: {why}; deploy deploy/protected-role.yaml in account {account} (it creates the protected role and SentinelRevoker, trusted by the TVM's execution role)"
    )]
    Revoker {
        /// The protected role.
        role: RoleArn,
        /// Its account.
        account: String,
        /// The revoker role that was tried.
        revoker: String,
        /// Why it could not be used.
        why: String,
    },
    /// Another writer held the role's lease for too long.
    #[error("another revocation of this role held its lease for more than {0} s")]
    LeaseBusy(u64),
    /// IAM kept answering something else than what was written.
    #[error(
        "the deny read back from role `{role}` differed from what was written {attempts} times"
    )]
    ReadBack {
        /// The role name.
        role: String,
        /// How often it was written.
        attempts: u32,
    },
}

impl RevocationError {
    /// The row state this failure leaves: `Pending` when the deny will be written once
    /// the cause passes or is deployed and `reconcile` runs (IAM unreachable or
    /// throttled, the lease busy, the table failing, the revoker role not deployed yet:
    /// SPEC §6); `Failed` when IAM refused the TVM's own write or kept something else
    /// than was written, which a retry alone does not fix.
    fn state(&self) -> AwsDeny {
        match self {
            Self::Iam(e) if e.refused => AwsDeny::Failed {
                reason: self.to_string(),
            },
            Self::ReadBack { .. } => AwsDeny::Failed {
                reason: self.to_string(),
            },
            Self::Iam(_) | Self::Store(_) | Self::Revoker { .. } | Self::LeaseBusy(_) => {
                AwsDeny::Pending
            }
        }
    }
}

/// Where layer 2 stands for one role after a rebuild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleOutcome {
    /// `Applied` (verified after the write), `Pending` or `Failed` (see
    /// [`RevocationError`]); every row of the role that was touched records the same
    /// state.
    pub state: AwsDeny,
    /// Why the deny is not in force, when it is not (also for `Pending`, whose row
    /// carries no reason).
    pub reason: Option<String>,
    /// The IDs did not fit the inline limit: the `aws:TokenIssueTime` cut-off is in force.
    pub fallback: bool,
}

/// Rebuilds the deny of every role the `affected` sessions were issued for (a role outside
/// `own_account` through its revoker role; `None`: every role with the writer's own
/// credentials) and records
/// each role's outcome on its affected rows. A failed role does not stop the others; a
/// store failure while recording the outcome does (the rows would lie otherwise).
///
/// SECURITY: IAM has no conditional write, so two revokers of one role would each read,
/// build and put, and the later put would drop the earlier one's IDs. Each role's deny is
/// therefore rebuilt under a per-role lease in the session table, from the table (every
/// revoked, unexpired session of the role) rather than from what the policy held, and
/// read back after the write.
pub async fn deny_on_roles<S: SessionStore + LeaseStore, W: RoleWriters>(
    writers: &W,
    own_account: Option<&AccountId>,
    store: &S,
    affected: &[SessionRecord],
    now: DateTime<Utc>,
) -> Result<BTreeMap<RoleArn, RoleOutcome>, StoreError> {
    let mut by_role: BTreeMap<&RoleArn, Vec<&SessionRecord>> = BTreeMap::new();
    for record in affected {
        by_role.entry(&record.role_arn).or_default().push(record);
    }
    let owner = sessions::new_session_id()?.to_string();
    let mut outcomes = BTreeMap::new();
    for (arn, records) in by_role {
        let written = deny_on_role(writers, own_account, store, arn, &records, &owner, now).await;
        let outcome = match written {
            Ok(fallback) => RoleOutcome {
                state: AwsDeny::Applied { at: Utc::now() },
                reason: None,
                fallback,
            },
            Err(e) => RoleOutcome {
                state: e.state(),
                reason: Some(e.to_string()),
                fallback: false,
            },
        };
        // Each row says where layer 2 stands for it, so `sessions show` tells the truth.
        for record in &records {
            store
                .set_aws_deny(&record.session_id, &outcome.state)
                .await?;
        }
        outcomes.insert(arn.clone(), outcome);
    }
    Ok(outcomes)
}

/// Rebuilds the deny of every role that has revoked, unexpired sessions, from the table
/// (`POST /sessions/reconcile`): what repairs a `pending` or `failed` layer 2.
pub async fn reconcile<S: SessionStore + LeaseStore, W: RoleWriters>(
    writers: &W,
    own_account: Option<&AccountId>,
    store: &S,
    now: DateTime<Utc>,
) -> Result<BTreeMap<RoleArn, RoleOutcome>, StoreError> {
    let mut query = ListQuery {
        status: Some(Status::Revoked),
        ..ListQuery::default()
    };
    let mut revoked = Vec::new();
    loop {
        let page = store.list(&query).await?;
        revoked.extend(page.records.into_iter().filter(|r| r.expires_at > now));
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    deny_on_roles(writers, own_account, store, &revoked, now).await
}

/// One role's deny under its lease, through the writer for the role's account. `true`:
/// the fallback cut-off is in force.
async fn deny_on_role<S: SessionStore + LeaseStore, W: RoleWriters>(
    writers: &W,
    own_account: Option<&AccountId>,
    store: &S,
    arn: &RoleArn,
    records: &[&SessionRecord],
    owner: &str,
    now: DateTime<Utc>,
) -> Result<bool, RevocationError> {
    let account = arn.account();
    // SECURITY: a role in another account is written there, through its revoker role;
    // never to the same-named role of the writer's own account.
    if own_account.is_none_or(|own| *own == account) {
        return deny_with(&writers.own(), store, arn, records, owner, now).await;
    }
    let revoker = revoker_arn(arn);
    let through = |why: String| RevocationError::Revoker {
        role: arn.clone(),
        account: account.to_string(),
        revoker: revoker.clone(),
        why,
    };
    let policies = writers
        .assume(&revoker)
        .await
        .map_err(|e| through(e.to_string()))?;
    // A revoker that can be assumed but may not write (or a role missing there) is still
    // a problem of what is deployed in that account; a busy lease, a failing table or a
    // read-back mismatch are what they are.
    deny_with(&policies, store, arn, records, owner, now)
        .await
        .map_err(|e| match e {
            RevocationError::Iam(e) => through(e.to_string()),
            other => other,
        })
}

/// One role's deny under its lease, with `policies` of the role's account.
async fn deny_with<S: SessionStore + LeaseStore, P: RolePolicies>(
    policies: &P,
    store: &S,
    arn: &RoleArn,
    records: &[&SessionRecord],
    owner: &str,
    now: DateTime<Utc>,
) -> Result<bool, RevocationError> {
    let lease = arn.to_string();
    let mut held = false;
    for _ in 0..LEASE_ATTEMPTS {
        let until = Utc::now() + chrono::Duration::seconds(LEASE_SECONDS);
        if store
            .acquire_lease(&lease, owner, until, Utc::now())
            .await?
        {
            held = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    if !held {
        return Err(RevocationError::LeaseBusy(u64::from(LEASE_ATTEMPTS) / 10));
    }
    let written = rebuild_role(policies, store, arn, records, now).await;
    // The lease expires anyway; a failed release only delays the next writer.
    let _ = store.release_lease(&lease, owner).await;
    written
}

/// One role's deny, rebuilt from the table and verified; the caller holds the lease.
async fn rebuild_role<S: SessionStore, P: RolePolicies>(
    roles: &P,
    store: &S,
    arn: &RoleArn,
    records: &[&SessionRecord],
    now: DateTime<Utc>,
) -> Result<bool, RevocationError> {
    let role = arn.name();
    for _ in 0..WRITE_ATTEMPTS {
        let current = roles.get(role, POLICY_NAME).await?;
        let existing = current
            .as_deref()
            .map(ExistingDeny::parse)
            .unwrap_or_default();
        // The table decides: the role's revoked, unexpired sessions (an index that may lag
        // an instant, so the sessions of this call and the IDs already in the policy are
        // read too, each confirmed by a consistent read).
        let mut revoked: BTreeMap<String, RevokedSession> = store
            .revoked_unexpired(arn, now)
            .await?
            .iter()
            .map(|r| (r.session_id.to_string(), revoked_session(r)))
            .collect();
        for record in records {
            revoked.insert(record.session_id.to_string(), revoked_session(record));
        }
        for id in &existing.ids {
            if revoked.contains_key(id) {
                continue;
            }
            // Ids that no longer parse or exist are pruned by leaving them out.
            let Ok(parsed) = SessionId::parse(id) else {
                continue;
            };
            let stored = store.get(&parsed).await?;
            if let Some(record) = stored.filter(|r| r.status() == Status::Revoked) {
                revoked.insert(id.clone(), revoked_session(&record));
            }
        }
        let revoked: Vec<RevokedSession> = revoked.into_values().collect();
        let mut others = 0;
        for name in roles.names(role).await? {
            if name == POLICY_NAME {
                continue;
            }
            if let Some(text) = roles.get(role, &name).await? {
                others += document::counted_chars(&text);
            }
        }
        let (wanted, fallback) = match document::build(&existing, &revoked, others, now) {
            DenyPolicy::Remove => {
                if current.is_some() {
                    roles.delete(role, POLICY_NAME).await?;
                }
                (None, false)
            }
            DenyPolicy::Document { json, fallback } => {
                if current.as_deref() != Some(json.as_str()) {
                    roles.put(role, POLICY_NAME, &json).await?;
                }
                (Some(json), fallback)
            }
        };
        // Read back: only what IAM now holds counts (compared as JSON, whatever its
        // whitespace).
        let json =
            |text: Option<String>| text.map(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
        if json(roles.get(role, POLICY_NAME).await?) == json(wanted) {
            return Ok(fallback);
        }
    }
    Err(RevocationError::ReadBack {
        role: role.to_owned(),
        attempts: WRITE_ATTEMPTS,
    })
}

fn revoked_session(record: &SessionRecord) -> RevokedSession {
    RevokedSession {
        id: record.session_id.as_str().to_owned(),
        issued_at: record.issued_at,
        expires_at: record.expires_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roles::InMemoryIam;
    use chrono::Duration;
    use sessions::{InMemorySessionStore, Revocation};

    const OWN: &str = "111122223333";
    const OTHER: &str = "444455556666";

    fn own() -> AccountId {
        OWN.parse().unwrap()
    }

    fn record(n: u32, account: &str) -> SessionRecord {
        let mut record = sessions::contract::record(n, "alice", "prod");
        record.role_arn = format!("arn:aws:iam::{account}:role/SentinelProtected-prod")
            .parse()
            .unwrap();
        record.issued_at = Utc::now() - Duration::minutes(1);
        record.expires_at = Utc::now() + Duration::hours(1);
        record
    }

    async fn revoke(store: &InMemorySessionStore, record: SessionRecord) -> SessionRecord {
        let id = record.session_id.clone();
        store.insert(record);
        store
            .revoke(
                &id,
                &Revocation {
                    by: "admin".into(),
                    reason: "test".into(),
                    at: Utc::now(),
                },
            )
            .await
            .unwrap()
            .into_record()
    }

    fn ids(iam: &InMemoryIam, account: &str) -> Vec<String> {
        let text = iam
            .policy(account, "SentinelProtected-prod", POLICY_NAME)
            .unwrap_or_default();
        ExistingDeny::parse(&text).ids.into_iter().collect()
    }

    /// Layer 2 for one revoked session, written from the own account `OWN`.
    async fn deny_one(
        iam: &InMemoryIam,
        store: &InMemorySessionStore,
        revoked: &SessionRecord,
    ) -> BTreeMap<RoleArn, RoleOutcome> {
        deny_on_roles(
            iam,
            Some(&own()),
            store,
            std::slice::from_ref(revoked),
            Utc::now(),
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn a_revoke_is_applied_and_recorded_on_the_row() {
        let store = InMemorySessionStore::new();
        let iam = InMemoryIam::new(&own());
        let earlier = revoke(&store, record(1, OWN)).await;
        let now = revoke(&store, record(2, OWN)).await;
        let outcomes = deny_one(&iam, &store, &now).await;
        let outcome = outcomes.get(&now.role_arn).unwrap();
        assert!(matches!(outcome.state, AwsDeny::Applied { .. }));
        // Rebuilt from the table: the earlier revoked session is in the deny too.
        assert_eq!(
            ids(&iam, OWN),
            vec![earlier.session_id.to_string(), now.session_id.to_string()]
        );
        let row = store.get(&now.session_id).await.unwrap().unwrap();
        assert!(matches!(row.aws_deny(), Some(AwsDeny::Applied { .. })));
    }

    #[tokio::test]
    async fn another_accounts_role_is_written_through_its_revoker_or_fails_naming_it() {
        let store = InMemorySessionStore::new();
        let iam = InMemoryIam::new(&own());
        let revoked = revoke(&store, record(1, OTHER)).await;
        let outcomes = deny_one(&iam, &store, &revoked).await;
        // SPEC §6: the row says layer 2 is pending; the answer names what to deploy.
        let outcome = outcomes.get(&revoked.role_arn).unwrap();
        assert_eq!(outcome.state, AwsDeny::Pending, "{outcomes:?}");
        let reason = outcome.reason.as_deref().unwrap();
        assert!(reason.contains(&format!("arn:aws:iam::{OTHER}:role/SentinelRevoker")));
        assert!(reason.contains("deploy/protected-role.yaml"), "{reason}");
        assert!(ids(&iam, OWN).is_empty(), "never the same-named role here");

        iam.deploy_revoker(OTHER);
        let outcomes = reconcile(&iam, Some(&own()), &store, Utc::now())
            .await
            .unwrap();
        assert!(matches!(
            outcomes.get(&revoked.role_arn).unwrap().state,
            AwsDeny::Applied { .. }
        ));
        assert_eq!(ids(&iam, OTHER), vec![revoked.session_id.to_string()]);
        assert!(ids(&iam, OWN).is_empty());
    }

    /// Revokes one session while IAM fails with `failure`, checks the outcome and the
    /// row with `check`, then reconciles with IAM back and checks the deny is applied.
    async fn fails_then_reconciles(failure: IamError, check: impl Fn(&RoleOutcome, &AwsDeny)) {
        let store = InMemorySessionStore::new();
        let iam = InMemoryIam::new(&own());
        let revoked = revoke(&store, record(1, OWN)).await;
        iam.fail_with(Some(failure));
        let outcomes = deny_one(&iam, &store, &revoked).await;
        let row = store.get(&revoked.session_id).await.unwrap().unwrap();
        check(
            outcomes.get(&revoked.role_arn).unwrap(),
            row.aws_deny().unwrap(),
        );

        iam.fail_with(None);
        reconcile(&iam, Some(&own()), &store, Utc::now())
            .await
            .unwrap();
        assert_eq!(ids(&iam, OWN), vec![revoked.session_id.to_string()]);
        let row = store.get(&revoked.session_id).await.unwrap().unwrap();
        assert!(matches!(row.aws_deny(), Some(AwsDeny::Applied { .. })));
    }

    #[tokio::test]
    async fn an_unavailable_iam_leaves_the_row_pending_and_reconcile_applies_it() {
        let failure = IamError::unavailable("iam PutRolePolicy failed: throttled");
        fails_then_reconciles(failure, |outcome, row| {
            assert_eq!(outcome.state, AwsDeny::Pending);
            assert!(outcome.reason.as_deref().unwrap().contains("throttled"));
            assert_eq!(row, &AwsDeny::Pending);
        })
        .await;
    }

    #[tokio::test]
    async fn a_refused_write_is_failed_with_its_reason_and_reconcile_repairs_it() {
        let failure = IamError::refused("iam PutRolePolicy failed: AccessDenied");
        fails_then_reconciles(failure, |outcome, row| {
            assert!(matches!(outcome.state, AwsDeny::Failed { .. }));
            assert!(
                matches!(row, AwsDeny::Failed { reason } if reason.contains("AccessDenied")),
                "{row:?}"
            );
        })
        .await;
    }
}
