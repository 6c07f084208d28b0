//! The behaviour every [`ApprovalStore`] and [`BreakGlassStore`] must show, as two suites
//! run on every store: the in-memory fakes (this crate's tests), DynamoDB on moto and
//! DynamoDB Local (the system tests). A fake that other crates' tests rely on is held to
//! the same rules as the real tables.
//!
//! Each case takes an empty store.
//! [`approval_store_contract!`](crate::approval_store_contract) and
//! [`breakglass_store_contract!`](crate::breakglass_store_contract) turn the suites into
//! one `#[tokio::test]` per case for a store factory.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test suite: a failed expectation is a test failure"
)]

use chrono::{DateTime, TimeDelta, Utc};
use sentinel_types::SessionId;

use crate::{
    Approval, ApprovalStore, BreakGlassEvent, BreakGlassStore, Closure, Request, RequestId,
    RequestQuery, RequestStatus, Review, ReviewStatus, StoreError,
};

/// A pending request with nothing optional set; `n` sets its ID (`n` in hex) and orders
/// it in time (`n` seconds after a base instant with nanoseconds).
pub fn request(n: u32, requester: &str, profile: &str) -> Request {
    let created_at = at("2026-11-22T13:50:00.123456789Z") + TimeDelta::seconds(i64::from(n));
    Request {
        request_id: id(n),
        profile: profile.parse().unwrap(),
        requester: requester.into(),
        principal_arn: format!("arn:aws:iam::111122223333:user/{requester}"),
        reason: "CHG-1234 rotate the keys".into(),
        duration_seconds: 3600,
        status: RequestStatus::Pending,
        approvals: Vec::new(),
        created_at,
        expires_at: created_at + TimeDelta::hours(24),
        approved_until: None,
        rule: "prod-changes".into(),
        closure: None,
        version: 1,
    }
}

/// An approval by `approver` for `group`, at `request`'s creation plus `minutes`.
pub fn approval(request: &Request, approver: &str, group: usize, minutes: i64) -> Approval {
    Approval {
        approver: approver.into(),
        principal_arn: format!("arn:aws:sts::111122223333:assumed-role/Leads/{approver}"),
        group,
        approvers_digest: Some("0123456789abcdef".into()),
        at: request.created_at + TimeDelta::minutes(minutes),
        comment: None,
    }
}

/// A closure (denial or revocation) by `by`, at `request`'s creation plus `minutes`.
pub fn closure(request: &Request, by: &str, minutes: i64) -> Closure {
    Closure {
        by: by.into(),
        principal_arn: format!("arn:aws:iam::111122223333:user/{by}"),
        reason: "not during the freeze".into(),
        at: request.created_at + TimeDelta::minutes(minutes),
    }
}

/// A break-glass event needing review with nothing optional set; `n` sets its ID and
/// orders it in time (`n` minutes after a base instant with nanoseconds).
pub fn event(n: u32, user: &str, profile: &str) -> BreakGlassEvent {
    BreakGlassEvent {
        breakglass_id: id(n),
        profile: profile.parse().unwrap(),
        user: user.into(),
        principal_arn: format!("arn:aws:sts::111122223333:assumed-role/OnCall/{user}"),
        reason: "INC-42 database down".into(),
        rule: "emergency".into(),
        duration_seconds: 1800,
        created_at: at("2026-11-22T02:00:00.987654321Z") + TimeDelta::minutes(i64::from(n)),
        session_id: None,
        status: ReviewStatus::NeedsReview,
        review: None,
    }
}

/// A review by `by` of `event`, an hour after it.
pub fn review(event: &BreakGlassEvent, by: &str) -> Review {
    Review {
        by: by.into(),
        principal_arn: format!("arn:aws:iam::111122223333:user/{by}"),
        notes: format!("checked by {by}: the incident needed it"),
        at: event.created_at + TimeDelta::hours(1),
    }
}

fn id(n: u32) -> RequestId {
    RequestId::parse(&format!("{n:032x}")).unwrap()
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn number(id: &RequestId) -> u32 {
    u32::from_str_radix(id.as_str(), 16).unwrap()
}

fn invalid<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::InvalidQuery(_)))
}

// --- approval requests ---

/// Every attribute comes back as written: approvals with and without a comment, the
/// window, the closure, the version, sub-second times; and a request with none of them.
pub async fn create_then_get_round_trips_every_attribute<S: ApprovalStore>(store: &S) {
    let mut full = request(1, "carol", "prod");
    let mut first = approval(&full, "alice", 0, 5);
    first.comment = Some("ok, ticket checked".into());
    full.approvals = vec![first, approval(&full, "bob", 1, 7)];
    full.status = RequestStatus::Revoked;
    full.approved_until = Some(full.created_at + TimeDelta::minutes(67));
    full.closure = Some(closure(&full, "alice", 30));
    full.version = 4;
    full.duration_seconds = 43_200;
    let bare = request(2, "deployer/build-42", "dev");
    for r in [&full, &bare] {
        store.create(r).await.unwrap();
        assert_eq!(store.get(&r.request_id).await.unwrap().as_ref(), Some(r));
    }
    assert_eq!(store.get(&id(3)).await.unwrap(), None);
}

/// A second request with the same ID is refused and the first one is kept.
pub async fn create_never_overwrites<S: ApprovalStore>(store: &S) {
    let first = request(1, "carol", "prod");
    store.create(&first).await.unwrap();
    let mut second = first.clone();
    second.requester = "mallory".into();
    second.status = RequestStatus::Approved;
    assert!(matches!(
        store.create(&second).await,
        Err(StoreError::AlreadyExists(id)) if id == first.request_id
    ));
    assert_eq!(store.get(&first.request_id).await.unwrap(), Some(first));
}

/// `replace` writes only over the version before the new one; a stale or skipped version
/// is refused and the stored request does not change.
pub async fn replace_writes_only_over_the_previous_version<S: ApprovalStore>(store: &S) {
    let stored = request(1, "carol", "prod");
    store.create(&stored).await.unwrap();
    let approved = stored
        .approve(approval(&stored, "alice", 0, 5), 1, 1, str::to_owned)
        .unwrap();
    assert_eq!(approved.version, 2);
    store.replace(&approved).await.unwrap();
    assert_eq!(
        store.get(&stored.request_id).await.unwrap().as_ref(),
        Some(&approved)
    );

    // Made from the version-1 request another writer has since replaced.
    let stale = stored.deny(closure(&stored, "bob", 6)).unwrap();
    let mut skipped = approved.revoke(closure(&stored, "bob", 8)).unwrap();
    skipped.version += 1;
    let mut zero = approved.clone();
    zero.version = 0;
    for refused in [&stale, &skipped, &zero] {
        assert!(
            matches!(store.replace(refused).await, Err(StoreError::Stale(id)) if id == stored.request_id),
            "version {}",
            refused.version
        );
        assert_eq!(
            store.get(&stored.request_id).await.unwrap().as_ref(),
            Some(&approved)
        );
    }
}

/// Two writers replacing the same version at once: exactly one wins, the other is
/// `Stale`, and the stored request is the winner's.
pub async fn concurrent_replaces_of_one_version_let_exactly_one_win<S: ApprovalStore>(store: &S) {
    let stored = request(1, "carol", "prod");
    store.create(&stored).await.unwrap();
    let approved = stored
        .approve(approval(&stored, "alice", 0, 5), 1, 1, str::to_owned)
        .unwrap();
    let denied = stored.deny(closure(&stored, "bob", 5)).unwrap();
    let (a, b) = tokio::join!(store.replace(&approved), store.replace(&denied));
    let winner = match (a, b) {
        (Ok(()), Err(StoreError::Stale(_))) => approved,
        (Err(StoreError::Stale(_)), Ok(())) => denied,
        other => panic!("expected exactly one winner, got {other:?}"),
    };
    assert_eq!(store.get(&stored.request_id).await.unwrap(), Some(winner));
}

/// Replacing a request that was never created is `NotFound` and creates nothing.
pub async fn replacing_an_unknown_request_is_not_found_and_creates_nothing<S: ApprovalStore>(
    store: &S,
) {
    let mut ghost = request(9, "carol", "prod");
    ghost.version = 2;
    assert!(matches!(
        store.replace(&ghost).await,
        Err(StoreError::NotFound(id)) if id == ghost.request_id
    ));
    assert_eq!(store.get(&ghost.request_id).await.unwrap(), None);
}

async fn request_pages<S: ApprovalStore>(store: &S, mut query: RequestQuery) -> Vec<Vec<Request>> {
    let mut pages = Vec::new();
    for _ in 0..20 {
        let page = store.list(&query).await.unwrap();
        assert!(page.items.len() <= query.limit, "{page:?}");
        let newest_first = page
            .items
            .windows(2)
            .all(|w| w[0].created_at >= w[1].created_at);
        assert!(newest_first, "a page is newest first: {page:?}");
        pages.push(page.items);
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return pages,
        }
    }
    panic!("more than 20 pages: {pages:?}");
}

async fn listed<S: ApprovalStore>(store: &S, query: RequestQuery) -> Vec<u32> {
    let pages = request_pages(store, query).await;
    pages
        .iter()
        .flatten()
        .map(|r| number(&r.request_id))
        .collect()
}

/// A requester's requests page newest first and cover every match once; profile and
/// status filters combine with it; without a requester the table is scanned, each page
/// newest first.
pub async fn list_pages_through_a_requesters_requests_newest_first<S: ApprovalStore>(store: &S) {
    // carol: 1..=5 alternating prod/dev, 2 denied; bob: 6 on prod.
    for n in 1..=5 {
        let profile = if n % 2 == 1 { "prod" } else { "dev" };
        store.create(&request(n, "carol", profile)).await.unwrap();
    }
    store.create(&request(6, "bob", "prod")).await.unwrap();
    let two = request(2, "carol", "dev");
    store
        .replace(&two.deny(closure(&two, "alice", 1)).unwrap())
        .await
        .unwrap();

    let carol = RequestQuery {
        requester: Some("carol".into()),
        limit: 2,
        ..RequestQuery::default()
    };
    let pages = request_pages(store, carol.clone()).await;
    assert!(pages.len() >= 3, "{pages:?}");
    assert_eq!(listed(store, carol.clone()).await, [5, 4, 3, 2, 1]);
    let dev = RequestQuery {
        profile: Some("dev".into()),
        ..carol.clone()
    };
    assert_eq!(listed(store, dev).await, [4, 2]);
    let denied = RequestQuery {
        status: Some(RequestStatus::Denied),
        ..carol.clone()
    };
    assert_eq!(listed(store, denied).await, [2]);
    let pending_prod = RequestQuery {
        status: Some(RequestStatus::Pending),
        profile: Some("prod".into()),
        ..carol
    };
    assert_eq!(listed(store, pending_prod).await, [5, 3, 1]);
    let nobody = RequestQuery {
        requester: Some("nobody".into()),
        limit: 2,
        ..RequestQuery::default()
    };
    assert!(listed(store, nobody).await.is_empty());

    let everything = RequestQuery {
        limit: 2,
        ..RequestQuery::default()
    };
    let mut all = listed(store, everything.clone()).await;
    all.sort_unstable();
    assert_eq!(all, [1, 2, 3, 4, 5, 6]);
    let prod = RequestQuery {
        profile: Some("prod".into()),
        ..everything.clone()
    };
    let mut prod = listed(store, prod).await;
    prod.sort_unstable();
    assert_eq!(prod, [1, 3, 5, 6]);
    let pending = RequestQuery {
        status: Some(RequestStatus::Pending),
        ..everything
    };
    let mut pending = listed(store, pending).await;
    pending.sort_unstable();
    assert_eq!(pending, [1, 3, 4, 5, 6]);
}

/// A cursor continues only the query it came from; a zero limit, an empty requester and
/// garbage are refused.
pub async fn a_request_cursor_from_another_query_is_refused<S: ApprovalStore>(store: &S) {
    for n in 1..=3 {
        store.create(&request(n, "carol", "prod")).await.unwrap();
    }
    let carol = RequestQuery {
        requester: Some("carol".into()),
        limit: 1,
        ..RequestQuery::default()
    };
    let cursor = store.list(&carol).await.unwrap().next_cursor.unwrap();
    assert!(cursor.bytes().all(|b| b.is_ascii_hexdigit()), "{cursor}");
    let next = RequestQuery {
        cursor: Some(cursor.clone()),
        ..carol.clone()
    };
    let second = store.list(&next).await.unwrap();
    assert_eq!(
        second
            .items
            .iter()
            .map(|r| number(&r.request_id))
            .collect::<Vec<_>>(),
        [2]
    );
    let others = [
        RequestQuery {
            requester: Some("bob".into()),
            ..next.clone()
        },
        RequestQuery {
            profile: Some("prod".into()),
            ..next.clone()
        },
        RequestQuery {
            status: Some(RequestStatus::Pending),
            ..next.clone()
        },
        RequestQuery {
            requester: None,
            ..next.clone()
        },
    ];
    for other in others {
        assert!(invalid(store.list(&other).await), "{other:?}");
    }
    for garbage in ["", "zz", "7b7d", &hex::encode(r#"{"listing":{},"key":{}}"#)] {
        let query = RequestQuery {
            cursor: Some(garbage.to_owned()),
            ..carol.clone()
        };
        assert!(invalid(store.list(&query).await), "{garbage:?}");
    }
    let zero = RequestQuery { limit: 0, ..carol };
    assert!(invalid(store.list(&zero).await));
    assert!(invalid(store.list(&RequestQuery::default()).await));
    let empty = RequestQuery {
        requester: Some(String::new()),
        limit: 1,
        ..RequestQuery::default()
    };
    assert!(invalid(store.list(&empty).await));
}

// --- break-glass ---

/// Every attribute of an event comes back as written, and an event with none of the
/// optional ones too.
pub async fn begin_then_get_round_trips_every_attribute<S: BreakGlassStore>(store: &S) {
    let mut full = event(1, "oncall-1", "prod");
    full.session_id = Some(SessionId::parse(&"ab".repeat(16)).unwrap());
    full.status = ReviewStatus::Reviewed;
    full.review = Some(review(&full, "lead"));
    let bare = event(2, "deployer/build-42:x#y", "dev");
    for e in [&full, &bare] {
        store
            .begin(e, &e.user, e.created_at + TimeDelta::hours(4))
            .await
            .unwrap();
        assert_eq!(store.get(&e.breakglass_id).await.unwrap().as_ref(), Some(e));
    }
    assert_eq!(store.get(&id(3)).await.unwrap(), None);
}

/// A second use by the same user of the same profile before the cooldown's end is
/// refused with that end and stores nothing; at the end it is allowed and starts a new one.
pub async fn a_cooldown_refuses_a_second_begin_until_it_ends<S: BreakGlassStore>(store: &S) {
    let first = event(1, "oncall-1", "prod");
    let until = first.created_at + TimeDelta::hours(4);
    store.begin(&first, &first.user, until).await.unwrap();

    let mut early = event(2, "oncall-1", "prod");
    early.created_at = until - TimeDelta::nanoseconds(1);
    assert!(matches!(
        store.begin(&early, &early.user, early.created_at + TimeDelta::hours(4)).await,
        Err(StoreError::Cooldown(end)) if end == until
    ));
    assert_eq!(store.get(&early.breakglass_id).await.unwrap(), None);

    let mut on_time = event(3, "oncall-1", "prod");
    on_time.created_at = until;
    let next_until = until + TimeDelta::hours(4);
    store
        .begin(&on_time, &on_time.user, next_until)
        .await
        .unwrap();
    assert_eq!(
        store.get(&on_time.breakglass_id).await.unwrap(),
        Some(on_time.clone())
    );
    let mut again = event(4, "oncall-1", "prod");
    again.created_at = until + TimeDelta::minutes(1);
    assert!(matches!(
        store.begin(&again, &again.user, again.created_at).await,
        Err(StoreError::Cooldown(end)) if end == next_until
    ));
}

/// Each (user, profile) has its own cooldown, whatever characters the user name holds.
pub async fn cooldowns_are_per_user_and_profile<S: BreakGlassStore>(store: &S) {
    let pairs = [
        ("ops", "prod"),
        ("ops", "dev"),
        ("dev", "ops"),
        ("ops#prod", "prod"),
        ("ops#dev", "prod"),
        ("ops:prod", "prod"),
        ("OnCall/ops", "prod"),
        ("OPS", "prod"),
    ];
    let mut n = 0;
    for (user, profile) in pairs {
        n += 1;
        let mut e = event(n, user, profile);
        e.created_at = event(1, user, profile).created_at;
        store
            .begin(&e, &e.user, e.created_at + TimeDelta::hours(1))
            .await
            .unwrap_or_else(|err| panic!("({user}, {profile}): {err}"));
    }
    for (user, profile) in pairs {
        n += 1;
        let e = event(n, user, profile);
        assert!(
            matches!(
                store.begin(&e, &e.user, e.created_at).await,
                Err(StoreError::Cooldown(_))
            ),
            "({user}, {profile})"
        );
    }
}

/// An event ID already taken is refused, the stored event is kept and the refused
/// caller's cooldown does not start (the two writes are one).
pub async fn begin_with_a_taken_id_is_refused_and_starts_no_cooldown<S: BreakGlassStore>(
    store: &S,
) {
    let first = event(1, "oncall-1", "prod");
    store
        .begin(&first, &first.user, first.created_at + TimeDelta::hours(4))
        .await
        .unwrap();
    let mut clash = event(1, "oncall-2", "prod");
    clash.created_at = first.created_at + TimeDelta::minutes(1);
    assert!(matches!(
        store.begin(&clash, &clash.user, clash.created_at + TimeDelta::hours(4)).await,
        Err(StoreError::AlreadyExists(id)) if id == first.breakglass_id
    ));
    assert_eq!(store.get(&first.breakglass_id).await.unwrap(), Some(first));
    let mut retry = event(2, "oncall-2", "prod");
    retry.created_at = clash.created_at;
    store
        .begin(&retry, &retry.user, retry.created_at)
        .await
        .unwrap();
}

/// An event is reviewed once: the first review is kept, a second is `AlreadyReviewed`,
/// an unknown event `NotFound`.
pub async fn review_closes_an_event_once<S: BreakGlassStore>(store: &S) {
    let open = event(1, "oncall-1", "prod");
    store
        .begin(&open, &open.user, open.created_at)
        .await
        .unwrap();
    let first = review(&open, "lead-1");
    let closed = store.review(&open.breakglass_id, &first).await.unwrap();
    let expected = BreakGlassEvent {
        status: ReviewStatus::Reviewed,
        review: Some(first),
        ..open.clone()
    };
    assert_eq!(closed, expected);
    assert!(matches!(
        store.review(&open.breakglass_id, &review(&open, "lead-2")).await,
        Err(StoreError::AlreadyReviewed(id)) if id == open.breakglass_id
    ));
    assert_eq!(
        store.get(&open.breakglass_id).await.unwrap(),
        Some(expected)
    );
    assert!(matches!(
        store.review(&id(9), &review(&open, "lead-1")).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.get(&id(9)).await.unwrap(), None);
}

/// The session vended under an event is recorded on it; an unknown event is `NotFound`
/// and nothing is created.
pub async fn attach_session_records_the_vended_session<S: BreakGlassStore>(store: &S) {
    let open = event(1, "oncall-1", "prod");
    store
        .begin(&open, &open.user, open.created_at)
        .await
        .unwrap();
    let session = SessionId::parse(&"cd".repeat(16)).unwrap();
    store
        .attach_session(&open.breakglass_id, &session)
        .await
        .unwrap();
    assert_eq!(
        store.get(&open.breakglass_id).await.unwrap(),
        Some(BreakGlassEvent {
            session_id: Some(session.clone()),
            ..open
        })
    );
    assert!(matches!(
        store.attach_session(&id(9), &session).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.get(&id(9)).await.unwrap(), None);
}

async fn event_pages<S: BreakGlassStore>(
    store: &S,
    status: Option<ReviewStatus>,
    limit: usize,
) -> Vec<Vec<u32>> {
    let mut pages = Vec::new();
    let mut cursor = None;
    for _ in 0..20 {
        let page = store.list(status, limit, cursor.as_deref()).await.unwrap();
        assert!(page.items.len() <= limit, "{page:?}");
        pages.push(
            page.items
                .iter()
                .map(|e| number(&e.breakglass_id))
                .collect(),
        );
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return pages,
        }
    }
    panic!("more than 20 pages: {pages:?}");
}

/// Events list newest first across pages, optionally by status; cooldown entries never
/// show up as events.
pub async fn list_pages_through_events_newest_first_by_status<S: BreakGlassStore>(store: &S) {
    for n in 1..=5 {
        let e = event(n, &format!("oncall-{n}"), "prod");
        store
            .begin(&e, &e.user, e.created_at + TimeDelta::hours(4))
            .await
            .unwrap();
    }
    for n in [2, 4] {
        let e = event(n, "x", "prod");
        store
            .review(&e.breakglass_id, &review(&e, "lead"))
            .await
            .unwrap();
    }
    let all = event_pages(store, None, 2).await;
    assert!(all.len() >= 3, "{all:?}");
    assert_eq!(all.concat(), [5, 4, 3, 2, 1]);
    let open = event_pages(store, Some(ReviewStatus::NeedsReview), 2).await;
    assert_eq!(open.concat(), [5, 3, 1]);
    let closed = event_pages(store, Some(ReviewStatus::Reviewed), 10).await;
    assert_eq!(closed, [vec![4, 2]]);
    let page = store.list(None, 100, None).await.unwrap();
    assert_eq!(page.items.len(), 5, "no cooldown among the events");
    assert_eq!(page.next_cursor, None);
}

/// `release` ends the cooldown its event started, and no other.
pub async fn release_ends_only_its_own_events_cooldown<S: BreakGlassStore>(store: &S) {
    let first = event(1, "oncall-dan", "prod");
    let until = first.created_at + TimeDelta::hours(4);
    store.begin(&first, &first.user, until).await.unwrap();
    // Another event (same person and profile) releases nothing of the first's.
    let other = event(2, "oncall-dan", "prod");
    store.release(&other, &other.user).await.unwrap();
    let mut blocked = event(3, "oncall-dan", "prod");
    blocked.created_at = first.created_at + TimeDelta::minutes(1);
    assert!(matches!(
        store.begin(&blocked, &blocked.user, until).await,
        Err(StoreError::Cooldown(_))
    ));
    store.release(&first, &first.user).await.unwrap();
    store.begin(&blocked, &blocked.user, until).await.unwrap();
    // Releasing twice, or a cooldown never started, is no error.
    store.release(&first, &first.user).await.unwrap();
    store.release(&first, "nobody").await.unwrap();
}

/// A cursor continues only the listing it came from; a zero limit and garbage are refused.
pub async fn an_event_cursor_from_another_listing_is_refused<S: BreakGlassStore>(store: &S) {
    for n in 1..=3 {
        let e = event(n, &format!("oncall-{n}"), "prod");
        store.begin(&e, &e.user, e.created_at).await.unwrap();
    }
    let cursor = store
        .list(None, 1, None)
        .await
        .unwrap()
        .next_cursor
        .unwrap();
    let second = store.list(None, 1, Some(&cursor)).await.unwrap();
    assert_eq!(
        second
            .items
            .iter()
            .map(|e| number(&e.breakglass_id))
            .collect::<Vec<_>>(),
        [2]
    );
    for status in [ReviewStatus::NeedsReview, ReviewStatus::Reviewed] {
        assert!(invalid(store.list(Some(status), 1, Some(&cursor)).await));
    }
    let open = store
        .list(Some(ReviewStatus::NeedsReview), 1, None)
        .await
        .unwrap()
        .next_cursor
        .unwrap();
    assert!(invalid(store.list(None, 1, Some(&open)).await));
    for garbage in ["", "zz", "7b7d"] {
        assert!(
            invalid(store.list(None, 1, Some(garbage)).await),
            "{garbage:?}"
        );
    }
    assert!(invalid(store.list(None, 0, None).await));
}

/// The cursor key is made once: concurrent first calls agree, later calls read the same
/// 32 bytes back, and no listing ever shows the key's item.
pub async fn the_cursor_key_is_made_once_and_never_listed<S: BreakGlassStore>(store: &S) {
    let (a, b, c) = tokio::join!(store.cursor_key(), store.cursor_key(), store.cursor_key());
    let key = a.unwrap();
    assert_eq!(b.unwrap(), key);
    assert_eq!(c.unwrap(), key);
    assert_ne!(key, [0u8; 32]);
    assert_eq!(store.cursor_key().await.unwrap(), key);
    let e = event(1, "oncall-1", "prod");
    store.begin(&e, &e.user, e.created_at).await.unwrap();
    let id = e.breakglass_id.clone();
    assert_eq!(store.list(None, 10, None).await.unwrap().items, [e]);
    for status in [ReviewStatus::NeedsReview, ReviewStatus::Reviewed] {
        let listed = store.list(Some(status), 10, None).await.unwrap().items;
        assert!(listed.iter().all(|l| l.breakglass_id == id));
    }
}

/// One `#[tokio::test]` per [`ApprovalStore`] contract case, each on a fresh, empty store.
/// `$make` is an expression (it may `.await`) giving `(guard, store)`: the guard (a local
/// server, say) lives as long as the test.
///
/// ```text
/// approvals::approval_store_contract!(((), InMemoryApprovalStore::new()));
/// ```
#[macro_export]
macro_rules! approval_store_contract {
    ($make:expr) => {
        $crate::approval_store_contract!(@cases $make;
            create_then_get_round_trips_every_attribute,
            create_never_overwrites,
            replace_writes_only_over_the_previous_version,
            concurrent_replaces_of_one_version_let_exactly_one_win,
            replacing_an_unknown_request_is_not_found_and_creates_nothing,
            list_pages_through_a_requesters_requests_newest_first,
            a_request_cursor_from_another_query_is_refused,
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

/// One `#[tokio::test]` per [`BreakGlassStore`] contract case, each on a fresh, empty
/// store; `$make` as for [`approval_store_contract!`](crate::approval_store_contract).
///
/// ```text
/// approvals::breakglass_store_contract!(((), InMemoryBreakGlassStore::new()));
/// ```
#[macro_export]
macro_rules! breakglass_store_contract {
    ($make:expr) => {
        $crate::breakglass_store_contract!(@cases $make;
            begin_then_get_round_trips_every_attribute,
            a_cooldown_refuses_a_second_begin_until_it_ends,
            cooldowns_are_per_user_and_profile,
            begin_with_a_taken_id_is_refused_and_starts_no_cooldown,
            release_ends_only_its_own_events_cooldown,
            review_closes_an_event_once,
            attach_session_records_the_vended_session,
            list_pages_through_events_newest_first_by_status,
            an_event_cursor_from_another_listing_is_refused,
            the_cursor_key_is_made_once_and_never_listed,
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
