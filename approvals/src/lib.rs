//! Sentinel's approval requests and break-glass events (docs/approvals.md) and where they
//! are kept.
//!
//! A [`Request`] is one engineer's ask for a profile that needs approval: its status moves
//! `pending` → `approved` | `denied` | `expired`, and an approved one → `revoked`. A
//! [`BreakGlassEvent`] is one emergency use of a profile, `needs_review` until someone
//! closes it. The TVM is the only writer of both tables; every state change is one
//! conditional write ([`ApprovalStore::replace`] on the request's `version`,
//! [`BreakGlassStore::begin`] on the caller's cooldown, [`BreakGlassStore::review`] on the
//! event's status), so two approvers at once count once and nothing moves a request out
//! of a final state.
//!
//! The crate holds the records, the two ports, their DynamoDB adapters behind the
//! `dynamodb` feature and, behind `test-util`, in-memory fakes and the `contract` suites
//! every store must pass. Without features it is pure: records and ports. It decides
//! nothing about *who* may approve (that is the policy's `approvers`, crate `policy`).

mod record;
mod store;

pub use record::{
    Approval, BreakGlassEvent, Closure, Conflict, Request, RequestId, RequestStatus, Review,
    ReviewStatus, new_id,
};
pub use store::{ApprovalStore, BreakGlassStore, Page, RequestQuery, StoreError};
