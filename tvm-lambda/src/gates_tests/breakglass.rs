//! Break-glass: use, cooldown, review and listing.

use super::*;

#[tokio::test]
async fn break_glass_vends_loudly_cools_down_and_waits_for_review() {
    let w = world();
    let opened = w
        .call(
            ONCALL,
            "POST",
            "/breakglass",
            json!({"profile": "prod", "reason": "INC-42 db down", "duration": 3600}),
            t0(),
        )
        .await;
    assert_eq!(opened.response.status, 200, "{}", opened.response.body);
    let opened_body = body(&opened);
    let id = opened_body["BreakGlassId"].as_str().unwrap().to_owned();
    assert!(opened_body["AccessKeyId"].is_string());
    let issued = w.service.issuer().requests();
    assert_eq!(
        issued.last().unwrap().duration_secs,
        1800,
        "the rule's 30m cap"
    );
    assert!(
        issued
            .last()
            .unwrap()
            .tags
            .contains(&("sentinel-breakglass-id".to_owned(), id.clone()))
    );
    let emf = opened.log_lines().join("\n");
    assert!(emf.contains(r#""BreakGlass":1"#), "{emf}");
    let events = w.breakglass.events();
    assert_eq!(events[0].status, ReviewStatus::NeedsReview);
    assert!(events[0].session_id.is_some());
    assert_eq!(w.kinds(), [NoticeKind::BreakGlassUsed]);

    // The cooldown (4h) refuses a second use, also to the same user's other calls.
    let again = w
        .call(
            ONCALL,
            "POST",
            "/breakglass",
            json!({"profile": "prod", "reason": "INC-43 again"}),
            t0() + TimeDelta::hours(1),
        )
        .await;
    assert_eq!(code(&again), ErrorCode::Cooldown);
    assert_eq!(w.service.issuer().requests().len(), 1);
    // Not a break-glass caller; a vend never uses break_glass rules.
    let carol = w
        .call(
            CAROL,
            "POST",
            "/breakglass",
            json!({"profile": "prod", "reason": "INC-42 me too"}),
            t0(),
        )
        .await;
    assert_eq!(code(&carol), ErrorCode::PolicyDeny);
    assert_eq!(code(&w.vend(ONCALL, t0()).await), ErrorCode::PolicyDeny);

    let list = {
        let mut request = signed(SECURITY, "GET", "/breakglass", Value::Null);
        request.query = Some("status=needs_review".into());
        body(&w.service.handle(request, t0()).await)
    };
    assert_eq!(list["events"][0]["breakglass_id"], id.as_str());
    let own = w
        .call(
            ONCALL,
            "POST",
            &format!("/breakglass/{id}/review"),
            json!({"notes": "fine"}),
            t0(),
        )
        .await;
    assert_eq!(code(&own), ErrorCode::AdminDeny);
    let path = format!("/breakglass/{id}/review");
    let review = |at| {
        w.call(
            SECURITY,
            "POST",
            &path,
            json!({"notes": "checked the logs"}),
            at,
        )
    };
    let reviewed = review(t0()).await;
    assert_eq!(
        body(&reviewed)["status"],
        "reviewed",
        "{}",
        reviewed.response.body
    );
    assert_eq!(code(&review(t0()).await), ErrorCode::RequestConflict);
    assert_eq!(
        w.kinds(),
        [NoticeKind::BreakGlassUsed, NoticeKind::BreakGlassReviewed]
    );
}

/// Attack review F6: a page holding only events of profiles the caller may not review
/// answered 403 and dropped `next`, so the caller never reached the events they may
/// review. A page is now filled past the hidden events; a caller who may review nothing
/// at all still gets 403.
#[tokio::test]
async fn a_reviewer_pages_through_the_events_they_may_review_past_hidden_ones() {
    let w = quorum_world();
    let [first, _hidden, last] = prod_quorum_prod_events(&w).await;
    let list = |arn: &'static str, query: String| {
        let mut request = signed(arn, "GET", "/breakglass", Value::Null);
        request.query = Some(query);
        w.service.handle(request, t0() + TimeDelta::minutes(3))
    };
    let reviewer = "arn:aws:sts::111122223333:assumed-role/ProdReviewer/ann";
    // Newest first: the last prod event, then (past the hidden quorum event) the first.
    let page = body(&list(reviewer, "limit=1".into()).await);
    assert_eq!(page["events"][0]["breakglass_id"], last.as_str(), "{page}");
    let next = page["next"].as_str().expect("a cursor");
    let page = body(&list(reviewer, format!("limit=1&next={next}")).await);
    assert_eq!(page["events"][0]["breakglass_id"], first.as_str(), "{page}");
    // Someone who may review no profile is told so before anything is read.
    let stranger = list(MALLORY, String::new()).await;
    assert_eq!(
        code(&stranger),
        ErrorCode::AdminDeny,
        "{}",
        stranger.response.body
    );
}

/// Attack review F9: review notes took control characters (an ANSI escape or a forged
/// second line in `sentinel breakglass list` and the notification), unlike comments.
#[tokio::test]
async fn review_notes_are_one_line_without_control_characters() {
    let w = world();
    let opened = break_glass_on(&w, ONCALL, "prod", t0()).await;
    let id = body(&opened)["BreakGlassId"].as_str().unwrap().to_owned();
    for notes in ["fine\nreviewed by: ceo", "fine \u{1b}[2J", "fine\u{7f}"] {
        let refused = w
            .call(
                SECURITY,
                "POST",
                &format!("/breakglass/{id}/review"),
                json!({ "notes": notes }),
                t0(),
            )
            .await;
        assert_eq!(code(&refused), ErrorCode::InvalidRequest, "{notes:?}");
    }
    assert_eq!(w.breakglass.events()[0].status, ReviewStatus::NeedsReview);
}

/// Attack review 2, finding 2: a caller whom the admin policy lets review no break-glass
/// event got 200 with an empty page and a cursor naming a hidden event (its ID, time
/// and status), and `GET /breakglass/{id}` named its profile.
#[tokio::test]
async fn someone_who_may_review_nothing_learns_nothing_of_break_glass() {
    let w = quorum_world();
    for (n, arn) in ["arn:aws:sts::111122223333:assumed-role/Oncall/dan", ONCALL]
        .into_iter()
        .enumerate()
    {
        let at = t0() + TimeDelta::minutes(i64::try_from(n).unwrap());
        let profile = if n == 0 { "quorum" } else { "prod" };
        let used = break_glass_on(&w, arn, profile, at).await;
        assert_eq!(used.response.status, 200, "{}", used.response.body);
    }
    let mut request = signed(MALLORY, "GET", "/breakglass", Value::Null);
    request.query = Some("status=needs_review&limit=1".into());
    let listed = w.service.handle(request, t0()).await;
    assert_eq!(
        code(&listed),
        ErrorCode::AdminDeny,
        "{}",
        listed.response.body
    );
    let id = w.breakglass.events()[0].breakglass_id.to_string();
    let shown = w
        .call(
            MALLORY,
            "GET",
            &format!("/breakglass/{id}"),
            Value::Null,
            t0(),
        )
        .await;
    assert_eq!(
        code(&shown),
        ErrorCode::AdminDeny,
        "{}",
        shown.response.body
    );
    for name in ["quorum", "prod"] {
        assert!(
            !shown.response.body.contains(name),
            "{}",
            shown.response.body
        );
    }
}

/// Attack review F4: a break-glass use that vended nothing does not hold the cooldown
/// (the next try is the emergency still going on); its event stays for review.
#[tokio::test]
async fn a_failed_break_glass_vend_leaves_no_cooldown() {
    let w = world();
    let open = |at| break_glass_on(&w, ONCALL, "prod", at);
    w.service
        .issuer()
        .fail_with(Some(crate::grant::IssueError("STS is down".into())));
    let failed = open(t0()).await;
    assert!(failed.response.status >= 500, "{}", failed.response.body);
    w.service.issuer().fail_with(None);
    let retried = open(t0() + TimeDelta::minutes(1)).await;
    assert_eq!(retried.response.status, 200, "{}", retried.response.body);
    // Both attempts are events; the second holds the cooldown.
    assert_eq!(w.breakglass.events().len(), 2);
    let again = open(t0() + TimeDelta::minutes(2)).await;
    assert_eq!(code(&again), ErrorCode::Cooldown);
}
