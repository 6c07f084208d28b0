//! Listing cursors (`next`) of `/requests` and `/breakglass`: sealed, so that a cursor
//! tells its holder nothing about the row it stops at, and bound to the caller it was
//! given to.

use super::*;

/// `text` read as hex, as the stores' own cursors are written (empty if it is not hex).
fn unhex(text: &str) -> String {
    let bytes: Option<Vec<u8>> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8_lossy(&bytes.unwrap_or_default()).into_owned()
}

fn list(arn: &str, path: &str, query: String) -> ApiRequest {
    let mut request = signed(arn, "GET", path, Value::Null);
    request.query = Some(query);
    request
}

/// Closing note of the approvals work: a cursor named the last row read, so a caller who
/// may see none of a page still learnt the ID, time and status of a row hidden from them.
/// Now a page is filled past hidden rows up to a budget of store pages; when the budget
/// runs out the cursor may stop at a hidden row, and it names none.
#[tokio::test]
async fn a_cursor_names_no_row_the_caller_may_not_see() {
    use approvals::ApprovalStore;
    let w = world();
    // More requests than a listing reads pages of one row, none of them ONCALL's to see.
    let mut ids = Vec::new();
    for n in 1..=8 {
        let request = approvals::contract::request(n, &format!("dev-{n}"), "prod");
        w.approvals.create(&request).await.unwrap();
        ids.push(request.request_id.to_string());
    }
    let page = w
        .service
        .handle(list(ONCALL, "/requests", "limit=1".into()), t0())
        .await;
    assert_eq!(page.response.status, 200, "{}", page.response.body);
    let page = body(&page);
    assert!(page["requests"].as_array().unwrap().is_empty(), "{page}");
    let next = page["next"]
        .as_str()
        .expect("a cursor where the budget ran out");
    for id in &ids {
        assert!(!next.contains(id.as_str()), "{next} names {id}");
        assert!(
            !unhex(next).contains(id.as_str()),
            "{} names {id}",
            unhex(next)
        );
    }
    assert!(!unhex(next).contains("request_id"), "{}", unhex(next));
}

/// Attack review F6's listing, one step further: the cursor a prod reviewer got, with an
/// event hidden from them ahead, resumes their listing only. Another caller, even one who may
/// review everything, and a cursor altered in one digit, get 400.
#[tokio::test]
async fn a_cursor_resumes_only_the_listing_of_the_caller_it_was_given_to() {
    let w = quorum_world();
    let [prod_id, hidden_id, _] = prod_quorum_prod_events(&w).await;
    let at = t0() + TimeDelta::minutes(3);
    let reviewer = "arn:aws:sts::111122223333:assumed-role/ProdReviewer/ann";
    let first = body(
        &w.service
            .handle(list(reviewer, "/breakglass", "limit=1".into()), at)
            .await,
    );
    let next = first["next"].as_str().expect("a cursor");
    assert!(!unhex(next).contains(&hidden_id), "{}", unhex(next));
    assert!(!next.contains(&hidden_id), "{next}");

    for (arn, cursor) in [
        (SECURITY, next.to_owned()),
        // The same role, another session: another caller.
        (
            "arn:aws:sts::111122223333:assumed-role/ProdReviewer/bob",
            next.to_owned(),
        ),
        (reviewer, flip_last_digit(next)),
    ] {
        let refused = w
            .service
            .handle(
                list(arn, "/breakglass", format!("limit=1&next={cursor}")),
                at,
            )
            .await;
        assert_eq!(
            code(&refused),
            ErrorCode::InvalidRequest,
            "{arn}: {}",
            refused.response.body
        );
    }
    // A cursor of `/breakglass` does not resume `/requests`.
    let elsewhere = w
        .service
        .handle(list(reviewer, "/requests", format!("next={next}")), at)
        .await;
    assert_eq!(code(&elsewhere), ErrorCode::InvalidRequest);

    let second = body(
        &w.service
            .handle(
                list(reviewer, "/breakglass", format!("limit=1&next={next}")),
                at,
            )
            .await,
    );
    assert_eq!(second["events"][0]["breakglass_id"], prod_id.as_str());
}

fn flip_last_digit(text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    if let Some(last) = chars.last_mut() {
        *last = if *last == '0' { '1' } else { '0' };
    }
    chars.into_iter().collect()
}

/// The attack review of the sealed cursors: a short page with `next` still told the
/// caller that rows were left out of it, and how many (a page was the store's page minus
/// the hidden rows), and a one-page break-glass listing that was all hidden was 403
/// instead of empty. A page is now filled past the rows the caller may not see.
#[tokio::test]
async fn a_page_is_filled_past_rows_the_caller_may_not_see() {
    let w = world();
    w.ask(CAROL, t0()).await;
    w.ask(MALLORY, t0() + TimeDelta::minutes(1)).await;
    // Nothing ONCALL may see: an empty last page, as if there were no requests at all.
    let page = w
        .service
        .handle(list(ONCALL, "/requests", "limit=1".into()), t0())
        .await;
    assert_eq!(page.response.status, 200, "{}", page.response.body);
    assert_eq!(
        body(&page),
        json!({"requests": [], "next": null}),
        "{}",
        page.response.body
    );

    // A prod reviewer, when every event is of a profile they may not review.
    let w = quorum_world();
    let hidden = break_glass(
        &w,
        "arn:aws:sts::111122223333:assumed-role/Oncall/dan",
        t0(),
    )
    .await;
    assert_eq!(hidden.response.status, 200, "{}", hidden.response.body);
    let reviewer = "arn:aws:sts::111122223333:assumed-role/ProdReviewer/ann";
    let page = w
        .service
        .handle(list(reviewer, "/breakglass", String::new()), t0())
        .await;
    assert_eq!(page.response.status, 200, "{}", page.response.body);
    assert_eq!(body(&page), json!({"events": [], "next": null}));
}
