//! Separation of duties: who counts as one person (docs/approvals.md, "persons").

use super::*;

/// Attack review F2: a role whose session name the caller picks is one person whatever
/// the session is called, so two sessions of it are one approval, not a quorum of two.
#[tokio::test]
async fn two_sessions_of_one_role_are_one_approver() {
    let w = quorum_world();
    let id = ask_quorum(&w, CAROL).await;
    let first = w
        .approve(
            "arn:aws:sts::111122223333:assumed-role/Leads/alice-1",
            &id,
            t0(),
        )
        .await;
    assert_eq!(first.response.status, 200, "{}", first.response.body);
    let second = w
        .approve(
            "arn:aws:sts::111122223333:assumed-role/Leads/alice-2",
            &id,
            t0(),
        )
        .await;
    assert_eq!(
        code(&second),
        ErrorCode::RequestConflict,
        "{}",
        second.response.body
    );
    let stored = &w.approvals.requests()[0];
    assert_eq!(stored.approvals.len(), 1);
    assert_eq!(stored.status, RequestStatus::Pending);
    // A second person completes it: an Identity Center lead.
    assert_eq!(w.approve(LEAD_DAVE, &id, t0()).await.response.status, 200);
    assert_eq!(w.approvals.requests()[0].status, RequestStatus::Approved);
}

/// Attack review F2: a requester signed in through such a role cannot approve with
/// another session of it.
#[tokio::test]
async fn a_role_requester_cannot_approve_through_another_session() {
    let w = quorum_world();
    let id = ask_quorum(
        &w,
        "arn:aws:sts::111122223333:assumed-role/Deployers/build-1",
    )
    .await;
    let own = w
        .approve(
            "arn:aws:sts::111122223333:assumed-role/Deployers/build-2",
            &id,
            t0(),
        )
        .await;
    assert_eq!(code(&own), ErrorCode::ApprovalDeny, "{}", own.response.body);
    assert!(w.approvals.requests()[0].approvals.is_empty());
}

/// Attack review F2: an Identity Center user is one person in every account: carol's
/// session in another account asks, her home session does not approve.
#[tokio::test]
async fn the_same_identity_center_user_in_another_account_is_the_requester() {
    let w = quorum_world();
    let id = ask_quorum(
        &w,
        "arn:aws:sts::222233334444:assumed-role/AWSReservedSSO_Dev_4567cdef/carol",
    )
    .await;
    let own = w.approve(CAROL_SSO, &id, t0()).await;
    assert_eq!(code(&own), ErrorCode::ApprovalDeny, "{}", own.response.body);
    assert!(w.approvals.requests()[0].approvals.is_empty());
}

/// Attack review F2: the break-glass cooldown holds for the person, not the session
/// name, and nobody reviews their own use through another session.
#[tokio::test]
async fn break_glass_cooldown_and_review_hold_across_sessions_of_one_role() {
    let w = quorum_world();
    let first = break_glass(
        &w,
        "arn:aws:sts::111122223333:assumed-role/Oncall/dan-1",
        t0(),
    )
    .await;
    assert_eq!(first.response.status, 200, "{}", first.response.body);
    let second = break_glass(
        &w,
        "arn:aws:sts::111122223333:assumed-role/Oncall/dan-2",
        t0() + TimeDelta::minutes(5),
    )
    .await;
    assert_eq!(
        code(&second),
        ErrorCode::Cooldown,
        "{}",
        second.response.body
    );
    assert_eq!(w.service.issuer().requests().len(), 1);

    let used = break_glass(
        &w,
        "arn:aws:sts::111122223333:assumed-role/Security/jane-1",
        t0(),
    )
    .await;
    assert_eq!(used.response.status, 200, "{}", used.response.body);
    let id = body(&used)["BreakGlassId"].as_str().unwrap().to_owned();
    let own = w
        .call(
            "arn:aws:sts::111122223333:assumed-role/Security/jane-2",
            "POST",
            &format!("/breakglass/{id}/review"),
            json!({"notes": "all fine"}),
            t0(),
        )
        .await;
    assert_eq!(code(&own), ErrorCode::AdminDeny, "{}", own.response.body);
    assert_eq!(
        w.breakglass
            .events()
            .iter()
            .filter(|e| e.status == ReviewStatus::Reviewed)
            .count(),
        0
    );
}

/// Attack review 2, finding 1: credentials Sentinel vended are a role session
/// (`R/sentinel-<session id>`), so their person is `R/*`, not the person they were vended
/// to. carol, allowed to vend the Leads and Deployers roles, approved her own request
/// twice (a quorum of two) through them. Sentinel-vended sessions may not ask for,
/// answer or review anything: whoever holds one signs with their own credentials.
#[tokio::test]
async fn credentials_sentinel_vended_cannot_ask_answer_or_review() {
    let w = quorum_world();
    let vended = |role: &str| {
        format!(
            "arn:aws:sts::111122223333:assumed-role/{role}/sentinel-0123456789abcdef0123456789abcdef"
        )
    };
    let id = ask_quorum(&w, CAROL).await;
    for role in ["Leads", "Deployers"] {
        let answered = w.approve(&vended(role), &id, t0()).await;
        assert_eq!(
            code(&answered),
            ErrorCode::InvalidIdentity,
            "{}",
            answered.response.body
        );
    }
    assert!(w.approvals.requests()[0].approvals.is_empty());
    let asked = w
        .call(
            &vended("Deployers"),
            "POST",
            "/requests",
            json!({"profile": "quorum", "reason": "CHG-1 two leads"}),
            t0(),
        )
        .await;
    assert_eq!(
        code(&asked),
        ErrorCode::InvalidIdentity,
        "{}",
        asked.response.body
    );
    let opened = break_glass(&w, &vended("Oncall"), t0()).await;
    assert_eq!(
        code(&opened),
        ErrorCode::InvalidIdentity,
        "{}",
        opened.response.body
    );
    let used = break_glass(
        &w,
        "arn:aws:sts::111122223333:assumed-role/Oncall/dan",
        t0(),
    )
    .await;
    let event = body(&used)["BreakGlassId"].as_str().unwrap().to_owned();
    let reviewed = w
        .call(
            &vended("Security"),
            "POST",
            &format!("/breakglass/{event}/review"),
            json!({"notes": "fine"}),
            t0(),
        )
        .await;
    assert_eq!(
        code(&reviewed),
        ErrorCode::InvalidIdentity,
        "{}",
        reviewed.response.body
    );
    // A session name that only looks like one is an ordinary session.
    let lookalike = w
        .approve(
            "arn:aws:sts::111122223333:assumed-role/Leads/sentinel-alice",
            &id,
            t0(),
        )
        .await;
    assert_eq!(
        lookalike.response.status, 200,
        "{}",
        lookalike.response.body
    );
}
