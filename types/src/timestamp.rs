//! How Sentinel stores timestamps: RFC 3339 in UTC with `Z` and always nine fractional
//! digits, e.g. `2026-11-22T14:30:00.000000000Z`. The session, approval and break-glass
//! tables and their cursors all write this one form.
//!
//! The fixed width matters: the tables' indexes sort on these strings (`issued_at`,
//! `created_at`) and a cooldown's `until` is compared as one, and only fixed-width
//! fractions sort in time order (`…:00Z` would sort after `…:00.5Z`). Nanoseconds keep
//! every `DateTime<Utc>` exact across a round trip.
//!
//! ```
//! use sentinel_types::timestamp;
//!
//! let t = timestamp::parse("2026-11-22T15:30:00+01:00").unwrap();
//! assert_eq!(timestamp::format(t), "2026-11-22T14:30:00.000000000Z");
//! ```

use chrono::{DateTime, SecondsFormat, Utc};

/// The stored form of `t`, e.g. `2026-11-22T14:30:00.000000000Z`.
pub fn format(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// Reads any RFC 3339 timestamp (rows written by other tools may use an offset or fewer
/// digits) as UTC.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_is_fixed_width_utc_and_sorts_in_time_order() {
        let whole = parse("2026-11-22T14:30:00Z").unwrap();
        let half = parse("2026-11-22T14:30:00.5Z").unwrap();
        assert_eq!(format(whole), "2026-11-22T14:30:00.000000000Z");
        assert_eq!(format(half), "2026-11-22T14:30:00.500000000Z");
        assert!(format(whole) < format(half));
    }

    #[test]
    fn offsets_are_read_as_utc_and_garbage_is_refused() {
        let t = parse("2026-11-22T15:30:00+01:00").unwrap();
        assert_eq!(format(t), "2026-11-22T14:30:00.000000000Z");
        assert!(parse("yesterday").is_none());
        assert!(parse("2026-11-22 14:30:00").is_none());
    }
}
