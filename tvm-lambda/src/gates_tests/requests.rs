//! Requests: asking, answering, vending under an approval, revoking, listing.

use super::*;

#[tokio::test]
async fn request_approval_by_a_lead_vend_then_the_window_ends() {
    let w = world();
    let refused = w.vend(CAROL, t0()).await;
    assert_eq!(code(&refused), ErrorCode::ApprovalRequired);
    assert!(
        body(&refused)["Message"]
            .as_str()
            .unwrap()
            .contains("sentinel request --profile prod --reason"),
        "{}",
        refused.response.body
    );

    let id = w.ask(CAROL, t0()).await;
    assert_eq!(w.approvals.requests()[0].status, RequestStatus::Pending);
    assert_eq!(
        code(&w.vend(CAROL, t0()).await),
        ErrorCode::ApprovalRequired
    );

    let approved = w
        .approve(LEAD_DAVE, &id, t0() + TimeDelta::minutes(10))
        .await;
    assert_eq!(approved.response.status, 200, "{}", approved.response.body);
    let approved = body(&approved);
    assert_eq!(approved["status"], "approved");
    // An Identity Center role's user is its session name.
    assert_eq!(approved["approvals"][0]["approver"], "dave");
    // The window starts at approval: 10:10 + 1h.
    assert_eq!(approved["approved_until"], "2026-11-23T11:10:00Z");

    let at = t0() + TimeDelta::minutes(20);
    let vended = w.vend(CAROL, at).await;
    assert_eq!(vended.response.status, 200, "{}", vended.response.body);
    let vended: VendResponse = serde_json::from_str(&vended.response.body).unwrap();
    let issued = w.service.issuer().requests();
    let tags = &issued.last().unwrap().tags;
    assert!(
        tags.contains(&("sentinel-approval-id".to_owned(), id.clone())),
        "{tags:?}"
    );
    // What is left of the window (50 minutes), not the hour approved.
    assert_eq!(issued.last().unwrap().duration_secs, 3000);
    let row = w
        .service
        .store()
        .unwrap()
        .get(&vended.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.approval_id.as_deref(), Some(id.as_str()));
    assert_eq!(row.rule, "prod-changes");

    // carol's other principal holds the same approval: the user is bound, not the ARN.
    assert_eq!(w.vend(CAROL_SSO, at).await.response.status, 200);
    // mallory matches the rule but holds no approval.
    assert_eq!(
        code(&w.vend(MALLORY, at).await),
        ErrorCode::ApprovalRequired
    );
    // The window is over at 11:10.
    let late = w.vend(CAROL, t0() + TimeDelta::minutes(70)).await;
    assert_eq!(code(&late), ErrorCode::ApprovalRequired);
    assert_eq!(
        w.kinds(),
        [NoticeKind::RequestCreated, NoticeKind::RequestApproved]
    );
}

#[tokio::test]
async fn the_requester_never_approves_not_even_through_another_principal() {
    let w = world();
    let id = w.ask(CAROL, t0()).await;
    // CAROL_SSO matches the approver group, but it is carol.
    let own = w.approve(CAROL_SSO, &id, t0()).await;
    assert_eq!(code(&own), ErrorCode::ApprovalDeny);
    let stranger = w.approve(MALLORY, &id, t0()).await;
    assert_eq!(code(&stranger), ErrorCode::ApprovalDeny);
    assert!(w.approvals.requests()[0].approvals.is_empty());
    assert_eq!(
        code(&w.vend(CAROL, t0()).await),
        ErrorCode::ApprovalRequired
    );
}

#[tokio::test]
async fn two_approvers_at_once_on_required_one_record_one_approval() {
    let w = world();
    let id = w.ask(CAROL, t0()).await;
    let (a, b) = tokio::join!(
        w.approve(LEAD_DAVE, &id, t0()),
        w.approve(LEAD_ERIN, &id, t0())
    );
    let mut statuses = [a.response.status, b.response.status];
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [200, 409],
        "{} {}",
        a.response.body,
        b.response.body
    );
    let stored = &w.approvals.requests()[0];
    assert_eq!(stored.approvals.len(), 1);
    assert_eq!(stored.status, RequestStatus::Approved);
}

#[tokio::test]
async fn late_denied_and_repeated_answers_are_conflicts() {
    let w = world();
    let id = w.ask(CAROL, t0()).await;
    // request_ttl is 2h.
    let late = w.approve(LEAD_DAVE, &id, t0() + TimeDelta::hours(2)).await;
    assert_eq!(code(&late), ErrorCode::RequestConflict);

    let id = w.ask(MALLORY, t0()).await;
    let denied = w
        .call(
            LEAD_DAVE,
            "POST",
            &format!("/requests/{id}/deny"),
            json!({"reason": "not now"}),
            t0(),
        )
        .await;
    assert_eq!(body(&denied)["status"], "denied");
    assert_eq!(
        code(&w.approve(LEAD_ERIN, &id, t0()).await),
        ErrorCode::RequestConflict
    );
    assert_eq!(
        code(&w.vend(MALLORY, t0()).await),
        ErrorCode::ApprovalRequired
    );
    // One open request per requester and profile: carol's first is still pending at t0.
    let again = w
        .call(
            CAROL,
            "POST",
            "/requests",
            json!({"profile": "prod", "reason": "CHG-1234 again"}),
            t0(),
        )
        .await;
    assert_eq!(code(&again), ErrorCode::RequestConflict);
    let later = t0() + TimeDelta::hours(3);
    let id = w.ask(CAROL, later).await;
    assert_eq!(w.approve(LEAD_DAVE, &id, later).await.response.status, 200);
    assert_eq!(
        code(&w.approve(LEAD_ERIN, &id, later).await),
        ErrorCode::RequestConflict
    );
}

#[tokio::test]
async fn reasons_follow_the_rule_and_allowed_callers_need_no_request() {
    let w = world();
    let bad = w
        .call(
            CAROL,
            "POST",
            "/requests",
            json!({"profile": "prod", "reason": "please"}),
            t0(),
        )
        .await;
    assert_eq!(code(&bad), ErrorCode::InvalidReason);
    let missing = w
        .call(CAROL, "POST", "/requests", json!({"profile": "prod"}), t0())
        .await;
    assert_eq!(code(&missing), ErrorCode::InvalidReason);
    let erin = w
        .call(
            LEAD_ERIN,
            "POST",
            "/requests",
            json!({"profile": "prod", "reason": "CHG-1 x y z w"}),
            t0(),
        )
        .await;
    // erin is allowed outright (after prod-changes, which names carol and mallory only).
    assert_eq!(code(&erin), ErrorCode::RequestConflict);
    let stranger = w
        .call(
            ONCALL,
            "POST",
            "/requests",
            json!({"profile": "prod", "reason": "CHG-1234 please"}),
            t0(),
        )
        .await;
    assert_eq!(code(&stranger), ErrorCode::PolicyDeny);
    assert!(w.approvals.requests().is_empty());
}

#[tokio::test]
async fn revoking_an_approved_request_revokes_its_sessions_in_both_layers() {
    let w = world();
    let id = w.ask(CAROL, t0()).await;
    w.approve(LEAD_DAVE, &id, t0()).await;
    let vended: VendResponse =
        serde_json::from_str(&w.vend(CAROL, t0()).await.response.body).unwrap();
    let revoked = w
        .call(
            LEAD_DAVE,
            "POST",
            &format!("/requests/{id}/revoke"),
            json!({"reason": "done early"}),
            t0(),
        )
        .await;
    assert_eq!(revoked.response.status, 200, "{}", revoked.response.body);
    assert_eq!(body(&revoked)["request"]["status"], "revoked");
    let row = w
        .service
        .store()
        .unwrap()
        .get(&vended.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status(), Status::Revoked);
    let deny = w
        .service
        .roles()
        .policy(ACCOUNT, "SentinelProtected-prod", revocation::POLICY_NAME);
    assert!(deny.is_some_and(|d| d.contains(vended.session_id.as_str())));
    assert_eq!(
        code(&w.vend(CAROL, t0()).await),
        ErrorCode::ApprovalRequired
    );
    // mallory is neither requester, approver nor admin.
    let id = w.ask(CAROL, t0()).await;
    let refused = w
        .call(
            MALLORY,
            "POST",
            &format!("/requests/{id}/revoke"),
            json!({"reason": "x"}),
            t0(),
        )
        .await;
    assert_eq!(code(&refused), ErrorCode::ApprovalDeny);
}

#[tokio::test]
async fn requests_are_listed_for_their_requester_and_approvers_only() {
    let w = world();
    w.ask(CAROL, t0()).await;
    w.ask(MALLORY, t0()).await;
    let list = |arn: &'static str, query: &'static str| {
        let mut request = signed(arn, "GET", "/requests", Value::Null);
        request.query = Some(query.into());
        w.service.handle(request, t0())
    };
    let lead = body(&list(LEAD_DAVE, "status=pending").await);
    assert_eq!(lead["requests"].as_array().unwrap().len(), 2);
    let carol = body(&list(CAROL, "mine=true").await);
    assert_eq!(carol["requests"].as_array().unwrap().len(), 1);
    let stranger = body(&list(ONCALL, "").await);
    assert!(stranger["requests"].as_array().unwrap().is_empty());
    let id = w.approvals.requests()[0].request_id.to_string();
    let show = w
        .call(ONCALL, "GET", &format!("/requests/{id}"), Value::Null, t0())
        .await;
    assert_eq!(code(&show), ErrorCode::ApprovalDeny);
}

#[tokio::test]
async fn without_tables_the_routes_fail_closed_and_approval_profiles_never_vend() {
    let settings = Settings::from_lookup(|name| {
        (name == "SENTINEL_SESSION_TABLE").then(|| "sessions".to_owned())
    })
    .unwrap();
    let service: TestService = Service::new(
        settings,
        FakePolicySource::new([("prod", PROD)]),
        FakeIssuer::new(t0()),
        Some(InMemorySessionStore::default()),
        InMemoryIam::new(&ACCOUNT.parse().unwrap()),
    );
    let mut vend = signed(CAROL, "GET", "/", Value::Null);
    vend.query = Some("profile=prod".into());
    let refused = service.handle(vend, t0()).await;
    assert_eq!(code(&refused), ErrorCode::ConfigError);
    let ask = service
        .handle(
            signed(
                CAROL,
                "POST",
                "/requests",
                json!({"profile": "prod", "reason": "CHG-1234 x"}),
            ),
            t0(),
        )
        .await;
    assert_eq!(code(&ask), ErrorCode::ConfigError);
    assert!(service.issuer().requests().is_empty());
}

#[tokio::test]
async fn a_store_outage_is_an_error_never_credentials() {
    let w = world();
    let id = w.ask(CAROL, t0()).await;
    w.approve(LEAD_DAVE, &id, t0()).await;
    w.approvals.set_unavailable(true);
    let refused = w.vend(CAROL, t0()).await;
    assert_eq!(refused.response.status, 500);
    w.breakglass.set_unavailable(true);
    let bg = w
        .call(
            ONCALL,
            "POST",
            "/breakglass",
            json!({"profile": "prod", "reason": "INC-42 down"}),
            t0(),
        )
        .await;
    assert_eq!(bg.response.status, 500);
    assert!(w.service.issuer().requests().is_empty());
}

/// An approval is bound to the rule it was given under: one from the laxer `office`
/// rule does not open the stricter `remote` rule of the same profile.
#[tokio::test]
async fn an_approval_under_one_rule_does_not_open_another() {
    const SPLIT: &str = r#"version: "1"
profile:
  role_arn: arn:aws:iam::111122223333:role/SentinelProtected-split
rules:
  - name: office
    effect: require_approval
    conditions: {users: [carol], source_ips: ["10.0.0.0/8"]}
    approval:
      approvers: [{users: [dave]}]
  - name: remote
    effect: require_approval
    conditions: {users: [carol]}
    approval:
      approvers: [{users: [jane]}]
"#;
    let w = world();
    w.service.policy_source().put("split", SPLIT);
    let asked = w
        .call(
            CAROL,
            "POST",
            "/requests",
            json!({"profile": "split", "reason": "CHG-9 office work"}),
            t0(),
        )
        .await;
    assert_eq!(asked.response.status, 201, "{}", asked.response.body);
    let id = body(&asked)["request_id"].as_str().unwrap().to_owned();
    assert_eq!(body(&asked)["rule"], "office");
    assert_eq!(w.approve(LEAD_DAVE, &id, t0()).await.response.status, 200);
    let vend = |ip: &str| {
        let mut request = signed(CAROL, "GET", "/", Value::Null);
        request.query = Some("profile=split".into());
        request.source_ip = Some(ip.into());
        w.service.handle(request, t0())
    };
    assert_eq!(vend("10.1.2.3").await.response.status, 200);
    let remote = vend("192.0.2.1").await;
    assert_eq!(
        code(&remote),
        ErrorCode::ApprovalRequired,
        "{}",
        remote.response.body
    );
}

/// Attack review F3: a revocation whose session revocation failed leaves the request
/// revoked; it must be possible to finish it, and the revocation is announced anyway.
#[tokio::test]
async fn a_revocation_that_could_not_reach_its_sessions_can_be_retried() {
    let w = world();
    let id = w.ask(CAROL, t0()).await;
    w.approve(LEAD_DAVE, &id, t0()).await;
    let vended: VendResponse =
        serde_json::from_str(&w.vend(CAROL, t0()).await.response.body).unwrap();
    let path = format!("/requests/{id}/revoke");
    let revoke = || {
        w.call(
            LEAD_DAVE,
            "POST",
            &path,
            json!({"reason": "done early"}),
            t0(),
        )
    };
    w.service.store().unwrap().set_unavailable(true);
    let failed = revoke().await;
    assert_eq!(failed.response.status, 500, "{}", failed.response.body);
    assert_eq!(w.approvals.requests()[0].status, RequestStatus::Revoked);
    assert!(
        w.kinds().contains(&NoticeKind::RequestRevoked),
        "{:?}",
        w.kinds()
    );
    w.service.store().unwrap().set_unavailable(false);
    let retried = revoke().await;
    assert_eq!(retried.response.status, 200, "{}", retried.response.body);
    let row = w
        .service
        .store()
        .unwrap()
        .get(&vended.session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status(), Status::Revoked);
    // A retry changes nothing in the request: its first closure stands.
    assert_eq!(w.approvals.requests()[0].version, 3);
}

/// Attack review F3: a vend that read the approval before a revocation was written, and
/// records its session after the revocation listed sessions, never hands out its keys.
#[tokio::test]
async fn a_revocation_racing_a_vend_keeps_its_credentials_in() {
    let w = world();
    let id = w.ask(CAROL, t0()).await;
    w.approve(LEAD_DAVE, &id, t0()).await;
    let approvals = w.approvals.clone();
    // The revocation lands while STS answers the vend.
    w.service.issuer().on_issue(move || {
        let mut request = approvals.requests()[0].clone();
        request.status = RequestStatus::Revoked;
        request.version += 1;
        approvals.insert(request);
    });
    let vend = w.vend(CAROL, t0()).await;
    assert_eq!(
        code(&vend),
        ErrorCode::ApprovalRequired,
        "{}",
        vend.response.body
    );
    assert!(!vend.response.body.contains("ASIAFAKE"));
    let rows = w.service.store().unwrap().records();
    assert_eq!(rows.len(), 1, "the session is recorded, as revoked");
    assert_eq!(rows[0].status(), Status::Revoked);
    assert_eq!(rows[0].approval_id.as_deref(), Some(id.as_str()));
}

/// Attack review F7: a caller who holds a request's ID but is neither its requester nor
/// an approver learns nothing of it from a refusal (not its profile, not its rule),
/// also once its rule changed.
#[tokio::test]
async fn refusals_name_nothing_of_a_request_the_caller_may_not_see() {
    // Policies are read on every request, so the rule's rename below is seen at once.
    let w = world_with(&[("SENTINEL_POLICY_CACHE_TTL", "0")]);
    let id = w.ask(CAROL, t0()).await;
    let paths = [
        ("GET", format!("/requests/{id}"), Value::Null),
        (
            "POST",
            format!("/requests/{id}/approve"),
            json!({"comment": "ok"}),
        ),
        (
            "POST",
            format!("/requests/{id}/deny"),
            json!({"reason": "no"}),
        ),
        (
            "POST",
            format!("/requests/{id}/revoke"),
            json!({"reason": "no"}),
        ),
    ];
    for (method, path, body) in &paths {
        let refused = w.call(ONCALL, method, path, body.clone(), t0()).await;
        assert_eq!(code(&refused), ErrorCode::ApprovalDeny, "{path}");
        let text = &refused.response.body;
        assert!(
            !text.contains("prod") && !text.contains("prod-changes"),
            "{text}"
        );
    }
    // The rule is renamed: an approver reading the request is refused the same way.
    w.service.policy_source().put(
        "prod",
        &PROD.replace("name: prod-changes", "name: prod-changes-v2"),
    );
    let show = w
        .call(
            LEAD_DAVE,
            "GET",
            &format!("/requests/{id}"),
            Value::Null,
            t0(),
        )
        .await;
    assert_eq!(
        code(&show),
        ErrorCode::ApprovalDeny,
        "{}",
        show.response.body
    );
    assert!(
        !show.response.body.contains("prod"),
        "{}",
        show.response.body
    );
    // Its requester still sees it.
    let own = w
        .call(CAROL, "GET", &format!("/requests/{id}"), Value::Null, t0())
        .await;
    assert_eq!(own.response.status, 200, "{}", own.response.body);
}

/// Attack review F9: an approval counted for the index of the group it was given for, so
/// reordering a rule's approver groups while a request was pending made an approval
/// given as a member of one group count for another: the request was approved without
/// the other group. Approvals count only under the approver groups they were given
/// under.
#[tokio::test]
async fn reordered_approver_groups_do_not_move_earlier_approvals() {
    const PAIR: &str = r#"version: "1"
profile:
  role_arn: arn:aws:iam::111122223333:role/SentinelProtected-pair
rules:
  - name: two-groups
    effect: require_approval
    conditions: {users: [carol]}
    approval:
      approvers: [{users: [dave, erin]}, {users: [frank]}]
"#;
    let w = world_with(&[("SENTINEL_POLICY_CACHE_TTL", "0")]);
    w.service.policy_source().put("pair", PAIR);
    let asked = w
        .call(
            CAROL,
            "POST",
            "/requests",
            json!({"profile": "pair", "reason": "CHG-7 pair work"}),
            t0(),
        )
        .await;
    assert_eq!(asked.response.status, 201, "{}", asked.response.body);
    let id = body(&asked)["request_id"].as_str().unwrap().to_owned();
    assert_eq!(w.approve(LEAD_DAVE, &id, t0()).await.response.status, 200);
    // The groups swap places: dave's group is now the second.
    w.service.policy_source().put(
        "pair",
        &PAIR.replace(
            "[{users: [dave, erin]}, {users: [frank]}]",
            "[{users: [frank]}, {users: [dave, erin]}]",
        ),
    );
    let erin = w.approve(LEAD_ERIN, &id, t0()).await;
    assert_eq!(erin.response.status, 200, "{}", erin.response.body);
    assert_eq!(
        body(&erin)["status"],
        "pending",
        "frank's group has not approved: {}",
        erin.response.body
    );
    let frank = w
        .approve("arn:aws:iam::111122223333:user/frank", &id, t0())
        .await;
    assert_eq!(
        body(&frank)["status"],
        "approved",
        "{}",
        frank.response.body
    );
}

/// Attack review F9: an admin's revocation of a request logged the request's rule, not
/// the admin policy rule that allowed it, so the audit trail could not say why.
#[tokio::test]
async fn an_admin_revocation_logs_the_admin_rule_that_allowed_it() {
    let w = world();
    let id = w.ask(CAROL, t0()).await;
    let revoked = w
        .call(
            SECURITY,
            "POST",
            &format!("/requests/{id}/revoke"),
            json!({"reason": "incident"}),
            t0(),
        )
        .await;
    assert_eq!(revoked.response.status, 200, "{}", revoked.response.body);
    let line: Value = serde_json::from_str(&revoked.log_lines()[0]).unwrap();
    assert_eq!(line["rule"], "security", "{line}");
    assert_eq!(line["action"], "sessions:revoke", "{line}");
}

/// Attack review 2, finding 6: what `users` globs match depends on
/// `SENTINEL_IDENTITY_ROLES` too, so approvals given before it changed count no more.
#[tokio::test]
async fn approvals_count_only_under_the_identity_roles_they_were_given_under() {
    const TWO: &str = r#"version: "1"
profile:
  role_arn: arn:aws:iam::111122223333:role/SentinelProtected-two
rules:
  - name: two-leads
    effect: require_approval
    conditions: {users: [carol]}
    approval:
      approvers: [{users: [dave, erin, "okta-*"]}]
      required: 2
"#;
    let w = world();
    w.service.policy_source().put("two", TWO);
    let asked = w
        .call(
            CAROL,
            "POST",
            "/requests",
            json!({"profile": "two", "reason": "CHG-8 two leads"}),
            t0(),
        )
        .await;
    let id = body(&asked)["request_id"].as_str().unwrap().to_owned();
    assert_eq!(w.approve(LEAD_DAVE, &id, t0()).await.response.status, 200);
    // The same stores behind a TVM that trusts another identity provider's roles.
    let settings = Settings::from_lookup(|name| match name {
        "SENTINEL_SESSION_TABLE" => Some("sessions".to_owned()),
        "SENTINEL_APPROVAL_TABLE" => Some("approvals".to_owned()),
        "SENTINEL_BREAKGLASS_TABLE" => Some("breakglass".to_owned()),
        "SENTINEL_IDENTITY_ROLES" => Some("AWSReservedSSO_*,Okta_*".to_owned()),
        _ => None,
    })
    .unwrap();
    let changed: TestService = Service::new(
        settings,
        FakePolicySource::new([("two", TWO)]),
        FakeIssuer::new(t0()),
        Some(InMemorySessionStore::default()),
        InMemoryIam::new(&ACCOUNT.parse().unwrap()),
    )
    .with_gates(Gates::new(
        w.approvals.clone(),
        w.breakglass.clone(),
        Notifier::none(),
    ));
    let erin = changed
        .handle(
            signed(
                LEAD_ERIN,
                "POST",
                &format!("/requests/{id}/approve"),
                json!({}),
            ),
            t0(),
        )
        .await;
    assert_eq!(erin.response.status, 200, "{}", erin.response.body);
    assert_eq!(body(&erin)["status"], "pending", "{}", erin.response.body);
}

/// Attack review 2, findings 3b and 4: while a request's policy cannot be read, a
/// stranger's refusal named the profile; and an approver who revoked a request got the
/// requester's sessions with their source IP and user agent.
#[tokio::test]
async fn a_broken_policy_and_a_revocation_leak_nothing_of_the_requester() {
    let w = world_with(&[("SENTINEL_POLICY_CACHE_TTL", "0")]);
    let id = w.ask(CAROL, t0()).await;
    w.approve(LEAD_DAVE, &id, t0()).await;
    let mut vend = signed(CAROL, "GET", "/", Value::Null);
    vend.query = Some("profile=prod".into());
    vend.user_agent = Some("carols-laptop/1.0".into());
    assert_eq!(w.service.handle(vend, t0()).await.response.status, 200);

    w.service.policy_source().put("prod", "version: [");
    let shown = w
        .call(ONCALL, "GET", &format!("/requests/{id}"), Value::Null, t0())
        .await;
    assert!(shown.response.status >= 400, "{}", shown.response.body);
    assert!(
        !shown.response.body.contains("prod"),
        "{}",
        shown.response.body
    );
    w.service.policy_source().put("prod", PROD);

    let revoked = w
        .call(
            LEAD_DAVE,
            "POST",
            &format!("/requests/{id}/revoke"),
            json!({"reason": "done"}),
            t0(),
        )
        .await;
    assert_eq!(revoked.response.status, 200, "{}", revoked.response.body);
    let answer = body(&revoked);
    let row = &answer["sessions"]["revoked"][0];
    assert!(row["session_id"].is_string(), "{answer}");
    assert!(row.get("source_ip").is_none_or(Value::is_null), "{row}");
    assert!(row.get("user_agent").is_none_or(Value::is_null), "{row}");
}

/// Attack review 2, finding 5: reasons, comments and notes took bidi controls and
/// invisible characters, so what an approver read in a terminal was not what was asked.
#[tokio::test]
async fn free_text_refuses_bidi_and_invisible_characters() {
    let w = world();
    let reason = w
        .call(
            CAROL,
            "POST",
            "/requests",
            json!({"profile": "prod", "reason": "CHG-1234 read-only\u{202e}etirw llA"}),
            t0(),
        )
        .await;
    assert_eq!(
        code(&reason),
        ErrorCode::InvalidReason,
        "{}",
        reason.response.body
    );
    let id = w.ask(CAROL, t0()).await;
    let comment = w
        .call(
            LEAD_DAVE,
            "POST",
            &format!("/requests/{id}/approve"),
            json!({"comment": "ok\u{200b}"}),
            t0(),
        )
        .await;
    assert_eq!(
        code(&comment),
        ErrorCode::InvalidRequest,
        "{}",
        comment.response.body
    );
    let opened = break_glass_on(&w, ONCALL, "prod", t0()).await;
    let event = body(&opened)["BreakGlassId"].as_str().unwrap().to_owned();
    let notes = w
        .call(
            SECURITY,
            "POST",
            &format!("/breakglass/{event}/review"),
            json!({"notes": "fine\u{2066}"}),
            t0(),
        )
        .await;
    assert_eq!(
        code(&notes),
        ErrorCode::InvalidRequest,
        "{}",
        notes.response.body
    );
}
