//! The DynamoDB adapters: [`DynamoApprovalStore`], [`DynamoBreakGlassStore`] and
//! [`create_tables`]. The only module of the crate that speaks to the AWS SDK.
//!
//! Times are stored as fixed-width RFC 3339 strings in UTC with nine fractional digits
//! (`2026-11-22T13:50:00.123456789Z`), so the indexes sort them in time order, a
//! cooldown's `until` compares as a string, and every instant round-trips exactly.
//! Nested records are maps and lists of maps, so the rows read plainly in the console
//! and in PartiQL (`approvals[0].approver`). Absent options are omitted, never `NULL`.
//!
//! # The approval table
//!
//! Partition key `request_id` (S); index `by-requester` on (`requester`, `created_at`),
//! every attribute projected: a requester's requests, newest first.
//!
//! | attribute | type | |
//! | --- | --- | --- |
//! | `request_id`, `profile`, `requester`, `principal_arn`, `reason`, `rule`, `status` | S | as in [`Request`] |
//! | `duration_seconds`, `version` | N | |
//! | `created_at`, `expires_at`, `approved_until` (once approved) | S | times |
//! | `approvals` | L of M | `approver`, `principal_arn` (S), `group` (N), `at` (S), `comment` (S, if any), `approvers_digest` (S, if any) |
//! | `closure` (once denied or revoked) | M | `by`, `principal_arn`, `reason`, `at` (S) |
//! | `ttl` | N | epoch seconds of the later of `expires_at` and `approved_until`, plus [`RETENTION_DAYS`] |
//!
//! [`ApprovalStore::replace`] is one `PutItem` conditioned on the stored `version` being
//! the one before the new request's.
//!
//! # The break-glass table
//!
//! Partition key `breakglass_id` (S). It holds two kinds of item:
//!
//! - Events, keyed by their ID: `breakglass_id`, `kind` (= `event`), `profile`, `user`,
//!   `principal_arn`, `reason`, `rule`, `status` (S), `duration_seconds` (N),
//!   `created_at` (S), `session_id` (S, once attached), `review` (M: `by`,
//!   `principal_arn`, `notes`, `at`, once reviewed), `ttl` (N: the end of the access plus
//!   [`RETENTION_DAYS`]).
//! - Cooldowns, one per (person, profile), keyed `cooldown#<profile>#<person>` (the
//!   person behind the derived user: every session of one role shares it): `user`,
//!   `profile`, `until` (S), `event` (the event that started it, so that only that
//!   event's failed vend releases it) and `ttl` (a day after `until`). Profile names cannot contain
//!   `#` (`ProfileName`), so the first `#` after the prefix ends the profile and no two
//!   pairs share a key whatever the user name holds; event IDs are hex, never `cooldown#…`.
//!   Derived user names are IAM names (at most 129 characters), far below DynamoDB's
//!   2048-byte key limit; a longer one fails the write (closed).
//!
//! - The cursor key, keyed `cursor-key#1`: `key` (B, 32 random bytes; `cursor_key`).
//!
//! Two sparse indexes on events only (cooldowns carry neither `status` nor `kind`), both
//! sorted on `created_at` and projecting every attribute: `by-status` on `status` (one
//! status's events, newest first: what awaits review) and `by-kind` on `kind` (every
//! event, newest first; one partition is fine for break-glass, which is rare by design).
//!
//! [`BreakGlassStore::begin`] writes the cooldown (conditioned on there being none, or on
//! its `until` having passed the event's `created_at`) and the event (conditioned on its
//! ID being free) in one transaction: a refused event never starts a cooldown, and a
//! started cooldown always has its event.

mod breakglass;
mod cursor_key;
mod items;
mod pages;
mod requests;
mod tables;

pub use breakglass::DynamoBreakGlassStore;
pub use requests::DynamoApprovalStore;
pub use tables::create_tables;

#[cfg(doc)]
use crate::{ApprovalStore, BreakGlassStore, Request};

/// How long rows outlive what they record before DynamoDB's time to live may delete
/// them: a request its expiry or access window, an event its access. Long enough that a
/// yearly audit still finds the whole previous year.
pub const RETENTION_DAYS: i64 = 400;

#[cfg(test)]
mod tests;
