//! The behaviour every [`SessionStore`] must show, as one suite run on every store:
//! the in-memory fake (this crate's tests), DynamoDB on moto and DynamoDB Local (the
//! system tests). A fake that other crates' tests rely on is held to the same rules as
//! the real table.
//!
//! Each case takes an empty store. [`session_store_contract!`](crate::session_store_contract)
//! turns the suite into one `#[tokio::test]` per case for a store factory.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test suite: a failed expectation is a test failure"
)]

use chrono::{DateTime, TimeDelta, Utc};

use crate::{
    AwsDeny, LeaseStore, ListQuery, Revocation, RevokeOutcome, SessionId, SessionRecord,
    SessionState, SessionStore, Status, StoreError,
};

/// A fully populated, active record; `n` sets its id (`n` in hex) and orders it in time.
pub fn record(n: u32, user: &str, profile: &str) -> SessionRecord {
    let issued_at = at("2026-11-22T14:15:00.123456789Z") + TimeDelta::seconds(i64::from(n));
    let expires_at = at("2026-11-22T14:30:00Z");
    SessionRecord {
        session_id: SessionId::parse(&format!("{n:032x}")).unwrap(),
        principal_arn: format!("arn:aws:iam::111122223333:user/{user}"),
        account_id: "111122223333".parse().unwrap(),
        user: user.into(),
        profile: profile.parse().unwrap(),
        role_arn: "arn:aws:iam::111122223333:role/SentinelProtected-prod"
            .parse()
            .unwrap(),
        source_identity: sentinel_types::SourceIdentity::for_user(user),
        access_key_id: "ASIAEXAMPLEEXAMPLE01".into(),
        rule: "oncall".into(),
        state: SessionState::Active,
        issued_at,
        expires_at,
        source_ip: Some("203.0.113.7".into()),
        approval_id: (n % 2 == 1).then(|| format!("{n:032x}")),
        breakglass_id: None,
        user_agent: Some("aws-cli/2.17 sentinel/0.1".into()),
        request_id: format!("req-{n}"),
        ttl: SessionRecord::ttl_for(expires_at, 90),
    }
}

/// A revocation by `by` at a fixed instant with millisecond precision.
pub fn revocation(by: &str) -> Revocation {
    Revocation {
        by: by.into(),
        reason: "laptop lost".into(),
        at: at("2026-11-22T14:20:00.123Z"),
    }
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn numbers(page: &[SessionRecord]) -> Vec<u32> {
    page.iter()
        .map(|r| u32::from_str_radix(r.session_id.as_str(), 16).unwrap())
        .collect()
}

/// Every attribute comes back as written, revoked rows included.
pub async fn put_new_then_get_round_trips_every_attribute<S: SessionStore>(store: &S) {
    let mut revoked = record(1, "alice", "prod");
    revoked.state = SessionState::Revoked(
        revocation("admin"),
        AwsDeny::Applied {
            at: at("2026-11-22T14:21:00.5Z"),
        },
    );
    let mut bare = record(2, "deployer/build-42", "dev");
    bare.source_ip = None;
    bare.user_agent = None;
    for r in [&revoked, &bare] {
        store.put_new(r).await.unwrap();
        assert_eq!(store.get(&r.session_id).await.unwrap().as_ref(), Some(r));
    }
    assert_eq!(
        store.get(&record(3, "x", "p").session_id).await.unwrap(),
        None
    );
}

/// A second record with the same id is refused and the first one is kept.
pub async fn put_new_never_overwrites<S: SessionStore>(store: &S) {
    let first = record(1, "alice", "prod");
    store.put_new(&first).await.unwrap();
    let mut second = first.clone();
    second.user = "mallory".into();
    assert!(
        matches!(store.put_new(&second).await, Err(StoreError::AlreadyExists(id)) if id == first.session_id)
    );
    assert_eq!(store.get(&first.session_id).await.unwrap(), Some(first));
}

/// Revoking twice keeps the first revocation's who, why and when.
pub async fn revoke_is_idempotent_and_keeps_the_first_revocation<S: SessionStore>(store: &S) {
    let r = record(1, "alice", "prod");
    store.put_new(&r).await.unwrap();
    let first = store
        .revoke(&r.session_id, &revocation("admin-1"))
        .await
        .unwrap();
    let RevokeOutcome::Revoked(revoked) = first else {
        panic!("{first:?}")
    };
    assert_eq!(revoked.status(), Status::Revoked);
    assert_eq!(revoked.revocation(), Some(&revocation("admin-1")));
    assert_eq!(revoked.session_id, r.session_id);
    let again = store
        .revoke(&r.session_id, &revocation("admin-2"))
        .await
        .unwrap();
    assert_eq!(again, RevokeOutcome::AlreadyRevoked(revoked.clone()));
    assert_eq!(store.get(&r.session_id).await.unwrap(), Some(revoked));
}

/// An unknown id is `NotFound`, and revoking it does not create a row.
pub async fn revoking_an_unknown_session_is_not_found_and_creates_nothing<S: SessionStore>(
    store: &S,
) {
    let id = record(9, "nobody", "prod").session_id;
    assert!(matches!(
        store.revoke(&id, &revocation("admin")).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.get(&id).await.unwrap(), None);
}

async fn pages<S: SessionStore>(store: &S, mut query: ListQuery) -> Vec<Vec<u32>> {
    let mut pages = Vec::new();
    for _ in 0..20 {
        let page = store.list(&query).await.unwrap();
        assert!(page.records.len() <= query.limit.unwrap_or(ListQuery::DEFAULT_LIMIT));
        pages.push(numbers(&page.records));
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return pages,
        }
    }
    panic!("more than 20 pages: {pages:?}");
}

fn flat(pages: Vec<Vec<u32>>) -> Vec<u32> {
    pages.into_iter().flatten().collect()
}

/// Index queries page newest first and cover every match once; user, profile and
/// status filters combine; without user or profile the table is scanned page by page.
pub async fn list_pages_through_every_match_newest_first<S: SessionStore>(store: &S) {
    // alice: 1..=5 alternating prod/dev; bob: 6 on prod. 3 is revoked.
    for n in 1..=5 {
        let profile = if n % 2 == 1 { "prod" } else { "dev" };
        store.put_new(&record(n, "alice", profile)).await.unwrap();
    }
    store.put_new(&record(6, "bob", "prod")).await.unwrap();
    store
        .revoke(&record(3, "alice", "prod").session_id, &revocation("admin"))
        .await
        .unwrap();

    let by_user = ListQuery {
        user: Some("alice".into()),
        limit: Some(2),
        ..ListQuery::default()
    };
    let user_pages = pages(store, by_user.clone()).await;
    assert!(user_pages.len() >= 3, "{user_pages:?}");
    assert_eq!(flat(user_pages), [5, 4, 3, 2, 1]);
    let by_profile = ListQuery {
        profile: Some("prod".into()),
        limit: Some(2),
        ..ListQuery::default()
    };
    assert_eq!(flat(pages(store, by_profile).await), [6, 5, 3, 1]);
    let revoked = ListQuery {
        status: Some(Status::Revoked),
        ..by_user.clone()
    };
    assert_eq!(flat(pages(store, revoked).await), [3]);
    let active = ListQuery {
        status: Some(Status::Active),
        ..by_user.clone()
    };
    assert_eq!(flat(pages(store, active).await), [5, 4, 2, 1]);
    let user_and_profile = ListQuery {
        profile: Some("dev".into()),
        ..by_user
    };
    assert_eq!(flat(pages(store, user_and_profile).await), [4, 2]);

    let everything = ListQuery {
        limit: Some(2),
        ..ListQuery::default()
    };
    let mut all = flat(pages(store, everything.clone()).await);
    all.sort_unstable();
    assert_eq!(all, [1, 2, 3, 4, 5, 6]);
    let mut active_everywhere = flat(
        pages(
            store,
            ListQuery {
                status: Some(Status::Active),
                ..everything
            },
        )
        .await,
    );
    active_everywhere.sort_unstable();
    assert_eq!(active_everywhere, [1, 2, 4, 5, 6]);
}

/// A cursor only continues the query it came from; a zero limit is refused.
pub async fn a_cursor_from_another_query_is_refused<S: SessionStore>(store: &S) {
    for n in 1..=3 {
        store.put_new(&record(n, "alice", "prod")).await.unwrap();
    }
    let page = store
        .list(&ListQuery {
            user: Some("alice".into()),
            limit: Some(1),
            ..ListQuery::default()
        })
        .await
        .unwrap();
    let cursor = page.next_cursor.unwrap();
    let other = ListQuery {
        user: Some("bob".into()),
        cursor: Some(cursor),
        ..ListQuery::default()
    };
    assert!(matches!(
        store.list(&other).await,
        Err(StoreError::InvalidQuery(_))
    ));
    let zero = ListQuery {
        limit: Some(0),
        ..ListQuery::default()
    };
    assert!(matches!(
        store.list(&zero).await,
        Err(StoreError::InvalidQuery(_))
    ));
}

/// A revocation leaves layer 2 pending until its state is recorded; only revoked rows
/// carry one.
pub async fn aws_deny_is_pending_then_recorded_on_revoked_rows_only<S: SessionStore>(store: &S) {
    let r = record(1, "alice", "prod");
    store.put_new(&r).await.unwrap();
    assert!(matches!(
        store.set_aws_deny(&r.session_id, &AwsDeny::Pending).await,
        Err(StoreError::NotFound(_))
    ));
    let revoked = store
        .revoke(&r.session_id, &revocation("admin"))
        .await
        .unwrap()
        .into_record();
    assert_eq!(revoked.aws_deny(), Some(&AwsDeny::Pending));
    for state in [
        AwsDeny::Failed {
            reason: "role `x` in 222233334444: deploy SentinelRevoker".into(),
        },
        AwsDeny::Applied {
            at: at("2026-11-22T14:20:01.250Z"),
        },
        AwsDeny::Pending,
    ] {
        store.set_aws_deny(&r.session_id, &state).await.unwrap();
        let row = store.get(&r.session_id).await.unwrap().unwrap();
        assert_eq!(row.aws_deny(), Some(&state));
        assert_eq!(
            row.revocation(),
            Some(&revocation("admin")),
            "the audit stays"
        );
    }
    let unknown = record(9, "x", "prod").session_id;
    assert!(matches!(
        store.set_aws_deny(&unknown, &AwsDeny::Pending).await,
        Err(StoreError::NotFound(_))
    ));
}

/// What a role's deny must hold: its revoked sessions that have not expired, nothing else.
pub async fn revoked_unexpired_sessions_are_found_by_role<S: SessionStore>(store: &S) {
    let other_role: sentinel_types::RoleArn = "arn:aws:iam::222233334444:role/SentinelProtected-x"
        .parse()
        .unwrap();
    let mut expired = record(4, "alice", "prod");
    expired.expires_at = expired.issued_at - TimeDelta::minutes(1);
    let mut elsewhere = record(5, "alice", "prod");
    elsewhere.role_arn = other_role.clone();
    for r in [
        record(1, "alice", "prod"),
        record(2, "bob", "prod"),
        record(3, "carol", "prod"),
        expired,
        elsewhere,
    ] {
        store.put_new(&r).await.unwrap();
    }
    for n in [1, 3, 4, 5] {
        store
            .revoke(&record(n, "x", "prod").session_id, &revocation("admin"))
            .await
            .unwrap();
    }
    let role = record(1, "alice", "prod").role_arn;
    let now = record(1, "alice", "prod").issued_at;
    let mut found = numbers(&store.revoked_unexpired(&role, now).await.unwrap());
    found.sort_unstable();
    assert_eq!(found, [1, 3], "revoked, unexpired and of this role only");
    assert_eq!(
        numbers(&store.revoked_unexpired(&other_role, now).await.unwrap()),
        [5]
    );
    let later = record(1, "alice", "prod").expires_at;
    assert!(
        store
            .revoked_unexpired(&role, later)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A lease is exclusive until it expires or its owner gives it back, and never shows up
/// as a session.
pub async fn leases_are_exclusive_until_released_or_expired<S: SessionStore + LeaseStore>(
    store: &S,
) {
    let now = at("2026-11-22T14:00:00Z");
    let until = now + TimeDelta::seconds(30);
    assert!(
        store
            .acquire_lease("role-a", "tvm-1", until, now)
            .await
            .unwrap()
    );
    assert!(
        !store
            .acquire_lease("role-a", "tvm-2", until, now)
            .await
            .unwrap()
    );
    assert!(
        store
            .acquire_lease("role-b", "tvm-2", until, now)
            .await
            .unwrap()
    );
    assert!(
        store
            .acquire_lease("role-a", "tvm-1", until, now)
            .await
            .unwrap(),
        "the holder renews"
    );
    store.release_lease("role-a", "tvm-2").await.unwrap();
    assert!(
        !store
            .acquire_lease("role-a", "tvm-2", until, now)
            .await
            .unwrap(),
        "only the holder releases"
    );
    store.release_lease("role-a", "tvm-1").await.unwrap();
    assert!(
        store
            .acquire_lease("role-a", "tvm-2", until, now)
            .await
            .unwrap()
    );
    let after = until + TimeDelta::seconds(1);
    assert!(
        store
            .acquire_lease("role-a", "tvm-3", after + TimeDelta::seconds(30), after)
            .await
            .unwrap(),
        "an expired lease is taken over"
    );
    store.put_new(&record(1, "alice", "prod")).await.unwrap();
    let page = store.list(&ListQuery::default()).await.unwrap();
    assert_eq!(numbers(&page.records), [1], "leases are not sessions");
}

/// One `#[tokio::test]` per contract case, each on a fresh, empty store. `$make` is an
/// expression (it may `.await`) giving `(guard, store)`: the guard (a local server, say)
/// lives as long as the test.
///
/// ```text
/// sessions::session_store_contract!(((), InMemorySessionStore::new()));
/// ```
#[macro_export]
macro_rules! session_store_contract {
    ($make:expr) => {
        $crate::session_store_contract!(@cases $make;
            put_new_then_get_round_trips_every_attribute,
            put_new_never_overwrites,
            revoke_is_idempotent_and_keeps_the_first_revocation,
            revoking_an_unknown_session_is_not_found_and_creates_nothing,
            list_pages_through_every_match_newest_first,
            a_cursor_from_another_query_is_refused,
            aws_deny_is_pending_then_recorded_on_revoked_rows_only,
            revoked_unexpired_sessions_are_found_by_role,
            leases_are_exclusive_until_released_or_expired,
        );
    };
    (@cases $make:expr; $($case:ident,)*) => {
        $(
            #[tokio::test]
            async fn $case() {
                let (_guard, store) = $make;
                $crate::contract::$case(&store).await;
            }
        )*
    };
}
