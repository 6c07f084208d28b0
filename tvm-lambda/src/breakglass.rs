//! `/breakglass` (docs/approvals.md): a vend without an approver, loudly. The caller's
//! cooldown is one conditional write before anything is vended; the event stays
//! `needs_review` until someone the admin policy allows `breakglass:review` (and who is
//! not the one who broke glass) closes it.

use approvals::{BreakGlassEvent, Review, ReviewStatus, StoreError};
use chrono::{DateTime, TimeDelta, Utc};
use policy::{Decision, Mode};
use protocol::{ErrorCode, wire_time};
use revocation::RoleWriters;
use serde_json::{Value, json};
use sessions::{LeaseStore, SessionStore};

use super::admin::{Admin, Body, no_query, query_pairs, to_json};
use super::requests::{body_duration, body_profile, cursor_error, gate_store_error, parse_id};
use super::{ApiError, ApiRequest, Caller, Gate, Service, credential_error, policy_deny};
use crate::audit::DecisionLog;
use crate::cursor::{Holder, MAX_STORE_PAGES};
use crate::gates::Gates;
use crate::grant::CredentialIssuer;
use crate::notify::{Notice, NoticeKind};
use crate::policies::PolicySource;

/// A `/breakglass` route, with the event ID from the path where it has one (unchecked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum BreakGlassRoute {
    /// `POST /breakglass`
    Open,
    /// `GET /breakglass`
    List,
    /// `GET /breakglass/{id}`
    Show(String),
    /// `POST /breakglass/{id}/review`
    Review(String),
}

/// The admin action that reads and closes events.
const REVIEW: &str = "breakglass:review";
/// Page size of `GET /breakglass` when `limit` is absent, and its largest.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 200;
/// Longest review notes kept.
const MAX_NOTES_CHARS: usize = 1000;

impl<P, I, S, R> Service<P, I, S, R>
where
    P: PolicySource,
    I: CredentialIssuer,
    S: SessionStore + LeaseStore,
    R: RoleWriters,
{
    /// One `/breakglass` request from an authenticated caller.
    pub(super) async fn breakglass(
        &self,
        route: BreakGlassRoute,
        request: &ApiRequest,
        caller: &Caller,
        now: DateTime<Utc>,
        log: &mut DecisionLog,
    ) -> Result<String, ApiError> {
        let (gates, store) = self.gates()?;
        let admin = Admin {
            service: self,
            store,
            request,
            caller,
            action: REVIEW,
            now,
        };
        match route {
            BreakGlassRoute::Open => self.open(gates, request, caller, now, log).await,
            BreakGlassRoute::List => {
                log.action = Some(REVIEW);
                list(gates, &admin, request, log).await
            }
            BreakGlassRoute::Show(raw) => {
                no_query(request)?;
                log.action = Some(REVIEW);
                let event = load(gates, &admin, &raw, log).await?;
                to_json(&event)
            }
            BreakGlassRoute::Review(raw) => {
                no_query(request)?;
                log.action = Some(REVIEW);
                let mut body = Body::parse(request, &["notes"])?;
                let notes = body.string("notes")?.ok_or_else(|| {
                    ApiError::new(ErrorCode::InvalidRequest, "the `notes` field is required")
                })?;
                let notes = notes.trim().to_owned();
                // One line, like a comment: the notes are shown in listings and notices.
                if notes.chars().count() > MAX_NOTES_CHARS
                    || notes.chars().any(sentinel_types::is_hidden_char)
                {
                    return Err(ApiError::new(
                        ErrorCode::InvalidRequest,
                        format!("`notes` must be one line of at most {MAX_NOTES_CHARS} characters"),
                    ));
                }
                let event = load(gates, &admin, &raw, log).await?;
                // SECURITY: whoever broke glass does not close their own event, also not
                // through another principal or session of theirs.
                if event.user == caller.user
                    || self.person_of(&event.principal_arn) == caller.person
                {
                    return Err(ApiError::new(
                        ErrorCode::AdminDeny,
                        "you cannot review your own break-glass use; someone else must",
                    ));
                }
                let review = Review {
                    by: caller.user.clone(),
                    principal_arn: caller.arn.clone(),
                    notes: notes.clone(),
                    at: now,
                };
                let reviewed = gates
                    .breakglass
                    .review(&event.breakglass_id, &review)
                    .await
                    .map_err(|e| match e {
                        StoreError::AlreadyReviewed(id) => ApiError::new(
                            ErrorCode::RequestConflict,
                            format!("break-glass event `{id}` is already reviewed"),
                        ),
                        other => gate_store_error(other),
                    })?;
                tell(
                    gates,
                    NoticeKind::BreakGlassReviewed,
                    &reviewed,
                    caller,
                    Some(notes),
                    None,
                    now,
                )
                .await;
                to_json(&reviewed)
            }
        }
    }

    /// `POST /breakglass {"profile", "reason", "duration"}`.
    async fn open(
        &self,
        gates: &Gates,
        request: &ApiRequest,
        caller: &Caller,
        now: DateTime<Utc>,
        log: &mut DecisionLog,
    ) -> Result<String, ApiError> {
        no_query(request)?;
        let mut body = Body::parse(request, &["profile", "reason", "duration"])?;
        let profile = body_profile(&mut body)?;
        log.profile = Some(profile.to_string());
        let reason = body.string("reason")?.unwrap_or_default();
        let requested = body_duration(&mut body)?;
        let set = self.load_policy(profile.as_str()).await?;
        log.known_profile = true;
        log.role_arn = Some(set.profile().role_arn.as_str().to_owned());
        let asked = Self::policy_caller(caller, request, requested);
        let (rule, rule_reason, break_glass, duration) =
            match policy::evaluate_in(&set, &asked, now, Mode::BreakGlass) {
                Decision::BreakGlass {
                    rule,
                    reason,
                    break_glass,
                    duration,
                    ..
                } => (rule, reason, break_glass, duration),
                Decision::Deny { rule: None, .. } => {
                    return Err(ApiError::new(
                        ErrorCode::PolicyDeny,
                        format!("no break_glass rule of profile `{profile}` admits you"),
                    ));
                }
                decision => {
                    log.rule = decision.rule().map(str::to_owned);
                    return Err(policy_deny(&profile, &decision));
                }
            };
        log.rule = Some(rule.to_owned());
        log.reason = rule_reason.map(str::to_owned);
        let reason = break_glass
            .reason_rule()
            .check(&reason)
            .map_err(|why| ApiError::new(ErrorCode::InvalidReason, why))?
            .to_owned();
        let id = approvals::new_id().map_err(gate_store_error)?;
        log.target = Some(id.to_string());
        let event = BreakGlassEvent {
            breakglass_id: id.clone(),
            profile: profile.clone(),
            user: caller.user.clone(),
            principal_arn: caller.arn.clone(),
            reason: reason.clone(),
            rule: rule.to_owned(),
            duration_seconds: duration.min(self.settings.max_duration),
            created_at: now,
            session_id: None,
            status: ReviewStatus::NeedsReview,
            review: None,
        };
        let cooldown = TimeDelta::seconds(i64::from(break_glass.cooldown().unwrap_or(0)));
        let holder = &caller.person;
        // SECURITY: the cooldown is taken (one conditional write) before anything is
        // vended; two calls at once cannot both pass it.
        gates
            .breakglass
            .begin(&event, holder, now + cooldown)
            .await
            .map_err(|e| match e {
                StoreError::Cooldown(until) => ApiError::new(
                    ErrorCode::Cooldown,
                    format!(
                        "break-glass on profile `{profile}` is cooling down for you until {}",
                        wire_time::format(&until)
                    ),
                ),
                other => gate_store_error(other),
            })?;
        // From here on the attempt is an event: the metric counts it, vended or not.
        log.breakglass_id = Some(id.to_string());
        let vended = self
            .issue(
                request,
                caller,
                now,
                log,
                &set,
                &profile,
                rule,
                duration,
                Some(Gate::BreakGlass(id.to_string())),
            )
            .await;
        let detail = match &vended {
            Ok(v) => format!(
                "session {} until {}",
                v.session_id,
                wire_time::format(&v.expiration)
            ),
            Err(e) => format!("no credentials: {}", e.message),
        };
        tell(
            gates,
            NoticeKind::BreakGlassUsed,
            &event,
            caller,
            Some(reason),
            Some(detail),
            now,
        )
        .await;
        if vended.is_err()
            && let Err(e) = gates.breakglass.release(&event, holder).await
        {
            // The cooldown then runs its course: refusing later tries is the safe side.
            log.detail = Some(format!(
                "the cooldown of a use that vended nothing could not be released: {}",
                sentinel_types::error_chain(&e)
            ));
        }
        let vended = vended?;
        if let Err(e) = gates
            .breakglass
            .attach_session(&id, &vended.session_id)
            .await
        {
            // The session row names the event too; the event's copy is a convenience.
            log.detail = Some(format!(
                "the event could not name its session: {}",
                sentinel_types::error_chain(&e)
            ));
        }
        let mut body = serde_json::to_value(&vended).map_err(credential_error)?;
        if let Value::Object(fields) = &mut body {
            fields.insert("BreakGlassId".to_owned(), json!(id.to_string()));
        }
        serde_json::to_string(&body).map_err(credential_error)
    }
}

/// The event `raw` names, once the caller may review events of its profile. An unknown
/// ID is decided as a request about no single profile (nothing to probe).
async fn load<P, I, S, R>(
    gates: &Gates,
    admin: &Admin<'_, P, I, S, R>,
    raw: &str,
    log: &mut DecisionLog,
) -> Result<BreakGlassEvent, ApiError>
where
    P: PolicySource,
    I: CredentialIssuer,
    S: SessionStore + LeaseStore,
    R: RoleWriters,
{
    let id = parse_id(raw)?;
    log.target = Some(id.to_string());
    log.breakglass_id = None;
    let event = gates.breakglass.get(&id).await.map_err(gate_store_error)?;
    let profile = event.as_ref().map(|e| e.profile.to_string());
    log.profile.clone_from(&profile);
    // SECURITY: the refusal names neither the event's profile nor the deciding rule (the
    // log has them), so an ID tells a caller who may not review it nothing.
    admin
        .authorize(profile.as_deref(), log)
        .await
        .map_err(|e| match e.code {
            ErrorCode::AdminDeny => ApiError::new(
                ErrorCode::AdminDeny,
                "the admin policy does not let you review this break-glass event",
            )
            .with_detail(e.message),
            _ => e,
        })?;
    event.ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no break-glass event `{id}`")))
}

/// `GET /breakglass?status=&limit=&next=`: the events of the profiles the caller may
/// review, newest first.
async fn list<P, I, S, R>(
    gates: &Gates,
    admin: &Admin<'_, P, I, S, R>,
    request: &ApiRequest,
    log: &mut DecisionLog,
) -> Result<String, ApiError>
where
    P: PolicySource,
    I: CredentialIssuer,
    S: SessionStore + LeaseStore,
    R: RoleWriters,
{
    let invalid = |m: String| ApiError::new(ErrorCode::InvalidRequest, m);
    let (mut status, mut limit, mut cursor) = (None, DEFAULT_LIMIT, None);
    let mut seen = std::collections::BTreeSet::new();
    for (key, value) in query_pairs(request) {
        if !seen.insert(key.clone()) {
            return Err(invalid(format!(
                "query parameter `{key}` is given more than once"
            )));
        }
        match key.as_str() {
            "status" => {
                status =
                    Some(ReviewStatus::parse(&value).ok_or_else(|| {
                        invalid("`status` is `needs_review` or `reviewed`".into())
                    })?);
            }
            "limit" => {
                limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        invalid(format!("`limit` is a whole number from 1 to {MAX_LIMIT}"))
                    })?;
            }
            "next" => cursor = Some(value).filter(|v| !v.is_empty()),
            other => {
                return Err(invalid(format!(
                    "unknown query parameter `{other}` (expected `status`, `limit` and `next`)"
                )));
            }
        }
    }
    log.target = Some(status.map_or("*", ReviewStatus::as_str).to_owned());
    // A caller who may review no profile's events learns nothing, not even a cursor.
    admin.authorize_somewhere().await?;
    let holder = Holder {
        route: "/breakglass",
        caller: &admin.caller.arn,
    };
    let mut next = gates
        .open_cursor(&holder, cursor)
        .await
        .map_err(cursor_error)?;
    let mut events = Vec::new();
    // Filled past the events the caller may not review (see `MAX_STORE_PAGES`); each
    // store page asks only for the events still missing.
    for _ in 0..MAX_STORE_PAGES {
        let page = gates
            .breakglass
            .list(status, limit.saturating_sub(events.len()), next.as_deref())
            .await
            .map_err(gate_store_error)?;
        for event in page.items {
            // Each event is the admin policy's call for its own profile; a deny hides it,
            // anything else (no admin policy, an invalid one) is the answer.
            let mut scratch = log.clone();
            match admin
                .authorize(Some(event.profile.as_str()), &mut scratch)
                .await
            {
                Ok(()) => events.push(event),
                Err(e) if e.code == ErrorCode::AdminDeny => {}
                Err(e) => return Err(e),
            }
        }
        next = page.next_cursor;
        if next.is_none() || events.len() >= limit {
            break;
        }
    }
    let next = gates
        .seal_cursor(&holder, next)
        .await
        .map_err(cursor_error)?;
    to_json(&json!({ "events": events, "next": next }))
}

async fn tell(
    gates: &Gates,
    kind: NoticeKind,
    event: &BreakGlassEvent,
    caller: &Caller,
    reason: Option<String>,
    detail: Option<String>,
    now: DateTime<Utc>,
) {
    let notice = Notice {
        kind,
        profile: event.profile.to_string(),
        subject_user: event.user.clone(),
        actor: caller.user.clone(),
        id: event.breakglass_id.to_string(),
        reason,
        detail,
        at: now,
    };
    gates.notifier.send(&notice).await;
}
