//! Time windows: days of the week and a `[start, end)` span of wall-clock time
//! in an IANA time zone.
//!
//! A window whose end is before its start wraps midnight and belongs to the
//! day it starts: `days: [fri]`, `22:00`–`02:00` covers Friday 22:00 to
//! Saturday 02:00. Wall-clock time is what people mean by "business hours", so
//! across a daylight-saving change a 09:00–17:00 window keeps meaning 09:00 to
//! 17:00 local time (a UTC offset that changes with it).

use std::fmt;

use crate::error::Invalid;

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const SECS_PER_DAY: u32 = 86_400;

/// A set of weekdays, bit 0 Monday .. bit 6 Sunday.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Days(u8);

impl Days {
    pub(crate) const ALL: Days = Days(0x7f);

    pub(crate) fn empty() -> Self {
        Days(0)
    }

    /// Adds a day written `mon` .. `sun`.
    pub(crate) fn insert(&mut self, name: &str) -> Result<(), Invalid> {
        let index = DAY_NAMES.iter().position(|d| *d == name).ok_or_else(|| {
            Invalid::new(format!("unknown day `{name}`"))
                .hint("days are written mon, tue, wed, thu, fri, sat, sun")
        })?;
        self.0 |= 1 << index;
        Ok(())
    }

    pub(crate) fn union(self, other: Days) -> Days {
        Days(self.0 | other.0)
    }

    fn contains(self, day: u8) -> bool {
        self.0 & (1 << day) != 0
    }

    pub(crate) fn is_superset(self, other: Days) -> bool {
        self.0 & other.0 == other.0
    }
}

impl fmt::Display for Days {
    /// `[mon..fri]`, `[sat, sun]`, `[mon, wed, fri]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        let mut day = 0u8;
        while day < 7 {
            if !self.contains(day) {
                day += 1;
                continue;
            }
            let start = day;
            while day + 1 < 7 && self.contains(day + 1) {
                day += 1;
            }
            let name = |d: u8| DAY_NAMES.get(usize::from(d)).copied().unwrap_or("?");
            match day - start {
                0 => parts.push(name(start).to_owned()),
                1 => {
                    parts.push(name(start).to_owned());
                    parts.push(name(day).to_owned());
                }
                _ => parts.push(format!("{}..{}", name(start), name(day))),
            }
            day += 1;
        }
        write!(f, "[{}]", parts.join(", "))
    }
}

/// `[start, end)` in seconds after local midnight; `end` may be 86400 (`24:00`)
/// and is before `start` when the span wraps midnight. Never equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hours {
    start: u32,
    end: u32,
}

impl Hours {
    /// `start` and `end` as returned by [`start_time`] and [`end_time`].
    pub(crate) fn new(start: u32, end: u32) -> Result<Self, Invalid> {
        if start == end {
            return Err(Invalid::new(format!(
                "hours start and end are both `{}`, which is an empty window",
                clock(start)
            ))
            .hint("leave `hours` out to cover the whole day"));
        }
        Ok(Self { start, end })
    }

    fn wraps(self) -> bool {
        self.end < self.start
    }
}

impl fmt::Display for Hours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}, {})", clock(self.start), clock(self.end))
    }
}

/// A window start: `HH:MM`, 00:00 to 23:59, in seconds after midnight.
pub(crate) fn start_time(raw: &str) -> Result<u32, Invalid> {
    parse_clock(raw, false)
}

/// A window end: like [`start_time`], and `24:00` for the end of the day.
pub(crate) fn end_time(raw: &str) -> Result<u32, Invalid> {
    parse_clock(raw, true)
}

/// `HH:MM`, 00:00 to 23:59, and `24:00` when `end_of_day` is allowed.
fn parse_clock(raw: &str, end_of_day: bool) -> Result<u32, Invalid> {
    let malformed = || {
        Invalid::new(format!("time `{raw}` is not a time of day written HH:MM"))
            .hint("write times as two-digit hours and minutes, such as \"09:00\" or \"17:30\" (\"24:00\" as an end)")
    };
    let bytes = raw.as_bytes();
    let [h1, h2, b':', m1, m2] = bytes else {
        return Err(malformed());
    };
    let digit = |b: &u8| b.is_ascii_digit().then(|| u32::from(b - b'0'));
    let (Some(h1), Some(h2), Some(m1), Some(m2)) = (digit(h1), digit(h2), digit(m1), digit(m2))
    else {
        return Err(malformed());
    };
    let (hours, minutes) = (h1 * 10 + h2, m1 * 10 + m2);
    if end_of_day && hours == 24 && minutes == 0 {
        return Ok(SECS_PER_DAY);
    }
    if hours > 23 || minutes > 59 {
        return Err(malformed());
    }
    Ok(hours * 3600 + minutes * 60)
}

fn clock(secs: u32) -> String {
    format!("{:02}:{:02}", secs / 3600, secs % 3600 / 60)
}

/// An IANA time zone of the tz database bundled into the binary (crate `jiff`, feature
/// `tzdb-bundle-always`: the compiled zones as one byte blob, a zone read when a policy
/// names it). chrono-tz, used before, compiles every transition of every zone into
/// static tables of pointers: about 2 MB of data and relocations in each binary that
/// links the engine (BENCHMARKS.md, footprint).
#[derive(Clone)]
pub(crate) struct Zone {
    tz: jiff::tz::TimeZone,
    name: Box<str>,
}

impl Zone {
    /// `UTC`, the zone of a window that names none.
    pub(crate) fn utc() -> Self {
        Self {
            tz: jiff::tz::TimeZone::UTC,
            name: "UTC".into(),
        }
    }

    /// The name as the policy wrote it.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Local time minus UTC at `timestamp` (seconds since the epoch), in seconds.
    fn offset_at(&self, timestamp: i64) -> i64 {
        // Every `now` a TVM sees is in jiff's range (years -9999..=9999).
        jiff::Timestamp::from_second(timestamp)
            .map_or(0, |at| i64::from(self.tz.to_offset(at).seconds()))
    }
}

/// Zones are the same when their names are: a policy's distinct zones are numbered by
/// name (`Etc/UTC` and `UTC` are two names, as they were with chrono-tz).
impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// Resolves an IANA zone name (`Europe/Berlin`, `UTC`), exactly as written: the
/// database's lookup ignores case, the policy language does not.
pub(crate) fn zone(name: &str) -> Result<Zone, Invalid> {
    jiff::tz::db()
        .get(name)
        .ok()
        // `Factory` is in the database but is no place: refused, as chrono-tz did.
        .filter(|tz| tz.iana_name() == Some(name) && name != "Factory")
        .map(|tz| Zone {
            tz,
            name: name.into(),
        })
        .ok_or_else(|| {
            Invalid::new(format!("unknown time zone `{name}`")).hint(
                "use an IANA time zone name such as `Europe/Berlin`, `America/New_York` or `UTC`",
            )
        })
}

/// The local weekday (0 = Monday) and seconds after local midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LocalTime {
    day: u8,
    secs: u32,
    /// `1 << day` and `1 << (day - 1)`: window checks are then one AND each.
    today: u8,
    yesterday: u8,
}

impl LocalTime {
    /// `timestamp` is `now.timestamp()`, computed once by the caller.
    pub(crate) fn of(timestamp: i64, zone: &Zone) -> Self {
        // Only the zone's offset needs the tz tables; the rest is arithmetic
        // (cheaper than building a local date-time).
        let local = timestamp + zone.offset_at(timestamp);
        let days = local.div_euclid(i64::from(SECS_PER_DAY));
        // 1970-01-01 was a Thursday, three days after a Monday. Both values
        // are in range by construction.
        let day = u8::try_from((days + 3).rem_euclid(7)).unwrap_or(0);
        Self {
            day,
            secs: u32::try_from(local.rem_euclid(i64::from(SECS_PER_DAY))).unwrap_or(0),
            today: 1 << day,
            yesterday: 1 << ((day + 6) % 7),
        }
    }

    fn day_name(self) -> &'static str {
        DAY_NAMES.get(usize::from(self.day)).copied().unwrap_or("?")
    }
}

/// A validated `time` condition. `zone_slot` indexes the policy's distinct
/// zones, so evaluation converts `now` once per zone, not once per rule.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TimeWindow {
    pub(crate) days: Option<Days>,
    pub(crate) hours: Option<Hours>,
    pub(crate) zone: Zone,
    pub(crate) zone_slot: usize,
}

impl TimeWindow {
    #[inline]
    pub(crate) fn holds(&self, local: LocalTime) -> bool {
        let days = self.days.unwrap_or(Days::ALL).0;
        match self.hours {
            None => days & local.today != 0,
            Some(hours) if hours.wraps() => {
                (days & local.today != 0 && local.secs >= hours.start)
                    || (days & local.yesterday != 0 && local.secs < hours.end)
            }
            Some(hours) => {
                days & local.today != 0 && hours.start <= local.secs && local.secs < hours.end
            }
        }
    }

    /// Why the window does not hold at `local`, for `sentinel policy test`.
    pub(crate) fn why_not(&self, local: LocalTime) -> String {
        let zone = if self.zone.name() == "UTC" {
            String::new()
        } else {
            format!(" ({})", self.zone.name())
        };
        let now = clock(local.secs);
        let day = local.day_name();
        let text = match (self.days, self.hours) {
            (Some(days), Some(hours)) if hours.wraps() => {
                format!("{day} {now} is not in {hours} starting on {days}")
            }
            (Some(days), _) if !days.contains(local.day) => format!("{day} is not in {days}"),
            (_, Some(hours)) => format!("{now} is not in {hours}"),
            (Some(days), None) => format!("{day} is not in {days}"),
            (None, None) => "no window".to_owned(),
        };
        format!("time: {text}{zone}")
    }

    /// Whether every instant in `other` is also in this window.
    pub(crate) fn covers(&self, other: &TimeWindow) -> bool {
        if self.zone != other.zone {
            return false;
        }
        let days = self.days.unwrap_or(Days::ALL);
        let other_days = other.days.unwrap_or(Days::ALL);
        match (self.hours, other.hours) {
            (None, None) => days.is_superset(other_days),
            (None, Some(hours)) => {
                if hours.wraps() {
                    // The span runs into the next day, which must be covered as well.
                    days == Days::ALL
                } else {
                    days.is_superset(other_days)
                }
            }
            (Some(mine), Some(theirs)) => mine == theirs && days.is_superset(other_days),
            (Some(_), None) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Offset, TimeZone, Utc};

    use super::*;

    fn days(names: &[&str]) -> Days {
        let mut d = Days::empty();
        for n in names {
            d.insert(n).unwrap();
        }
        d
    }

    fn window(
        day_names: Option<&[&str]>,
        hours: Option<(&str, &str)>,
        zone_name: &str,
    ) -> TimeWindow {
        TimeWindow {
            days: day_names.map(days),
            hours: hours
                .map(|(s, e)| Hours::new(start_time(s).unwrap(), end_time(e).unwrap()).unwrap()),
            zone: zone(zone_name).unwrap(),
            zone_slot: 0,
        }
    }

    fn local(now: DateTime<Utc>, zone: &Zone) -> LocalTime {
        LocalTime::of(now.timestamp(), zone)
    }

    fn at(w: &TimeWindow, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> bool {
        let now = Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap();
        w.holds(LocalTime::of(now.timestamp(), &w.zone))
    }

    #[test]
    fn clock_times_are_two_digit_and_24_00_is_only_an_end() {
        assert_eq!(parse_clock("09:00", false).unwrap(), 9 * 3600);
        assert_eq!(parse_clock("23:59", false).unwrap(), 86_340);
        assert_eq!(parse_clock("24:00", true).unwrap(), 86_400);
        for bad in [
            "24:00", "9:00", "09:60", "25:00", "0900", "09:00:00", "", "ab:cd",
        ] {
            assert!(parse_clock(bad, false).is_err(), "{bad}");
        }
        assert!(start_time("24:00").is_err());
        assert_eq!(end_time("24:00").unwrap(), 86_400);
        let e = Hours::new(9 * 3600, 9 * 3600).unwrap_err();
        assert!(e.message.contains("empty window"), "{e}");
    }

    #[test]
    fn business_hours_are_half_open() {
        let w = window(
            Some(&["mon", "tue", "wed", "thu", "fri"]),
            Some(("09:00", "17:00")),
            "UTC",
        );
        // 2026-03-02 is a Monday.
        assert!(at(&w, 2026, 3, 2, 9, 0));
        assert!(at(&w, 2026, 3, 2, 16, 59));
        assert!(!at(&w, 2026, 3, 2, 17, 0));
        assert!(!at(&w, 2026, 3, 2, 8, 59));
        assert!(!at(&w, 2026, 3, 7, 10, 0), "saturday");
    }

    #[test]
    fn a_wrapping_window_belongs_to_the_day_it_starts() {
        let w = window(Some(&["fri"]), Some(("22:00", "02:00")), "UTC");
        // 2026-03-06 is a Friday.
        assert!(at(&w, 2026, 3, 6, 22, 0));
        assert!(at(&w, 2026, 3, 7, 1, 0), "saturday 01:00 is friday's night");
        assert!(!at(&w, 2026, 3, 7, 2, 0));
        assert!(
            !at(&w, 2026, 3, 7, 22, 30),
            "saturday evening is not friday's"
        );
        assert!(
            !at(&w, 2026, 3, 6, 1, 0),
            "friday 01:00 belongs to thursday's window"
        );
    }

    #[test]
    fn hours_follow_local_wall_clock_across_daylight_saving() {
        let w = window(None, Some(("09:00", "17:00")), "Europe/Berlin");
        // Winter: UTC+1. 2026-03-27 08:30Z is 09:30 local.
        assert!(at(&w, 2026, 3, 27, 8, 30));
        assert!(!at(&w, 2026, 3, 27, 16, 30));
        // Summer from 2026-03-29: UTC+2. 07:30Z is 09:30 local.
        assert!(at(&w, 2026, 3, 30, 7, 30));
        assert!(!at(&w, 2026, 3, 30, 15, 30));
    }

    #[test]
    fn days_display_as_ranges() {
        assert_eq!(
            days(&["mon", "tue", "wed", "thu", "fri"]).to_string(),
            "[mon..fri]"
        );
        assert_eq!(days(&["sat", "sun"]).to_string(), "[sat, sun]");
        assert_eq!(days(&["mon", "wed", "fri"]).to_string(), "[mon, wed, fri]");
        assert!(Days::empty().insert("Monday").is_err());
    }

    #[test]
    fn explains_which_part_of_the_window_failed() {
        let w = window(
            Some(&["mon", "tue", "wed", "thu", "fri"]),
            Some(("09:00", "17:00")),
            "UTC",
        );
        let sat = local(Utc.with_ymd_and_hms(2026, 3, 7, 10, 0, 0).unwrap(), &w.zone);
        assert_eq!(w.why_not(sat), "time: sat is not in [mon..fri]");
        let late = local(
            Utc.with_ymd_and_hms(2026, 3, 2, 18, 30, 0).unwrap(),
            &w.zone,
        );
        assert_eq!(w.why_not(late), "time: 18:30 is not in [09:00, 17:00)");
        let berlin = window(None, Some(("09:00", "17:00")), "Europe/Berlin");
        let early = local(
            Utc.with_ymd_and_hms(2026, 3, 2, 6, 0, 0).unwrap(),
            &berlin.zone,
        );
        assert_eq!(
            berlin.why_not(early),
            "time: 07:00 is not in [09:00, 17:00) (Europe/Berlin)"
        );
    }

    #[test]
    fn local_time_agrees_with_chrono_across_zones_and_years() {
        use chrono::{Datelike, Timelike};
        for name in [
            "UTC",
            "Europe/Berlin",
            "America/St_Johns",
            "Asia/Kathmandu",
            "Pacific/Kiritimati",
        ] {
            let tz = zone(name).unwrap();
            // chrono-tz, an independent implementation of the same database, is the oracle.
            let oracle: chrono_tz::Tz = name.parse().unwrap();
            let mut secs = -100_000_000i64;
            while secs < 4_000_000_000 {
                let now = DateTime::from_timestamp(secs, 0).unwrap();
                let local = now.with_timezone(&oracle);
                let mine = LocalTime::of(now.timestamp(), &tz);
                assert_eq!(
                    u32::from(mine.day),
                    local.weekday().num_days_from_monday(),
                    "{name} at {now}"
                );
                assert_eq!(
                    mine.secs,
                    local.num_seconds_from_midnight(),
                    "{name} at {now}"
                );
                let yesterday = (local.weekday().num_days_from_monday() + 6) % 7;
                assert_eq!(u32::from(mine.yesterday), 1 << yesterday);
                secs += 7_777_777;
            }
        }
    }

    #[test]
    fn unknown_zones_are_refused() {
        assert!(zone("Europe/Berlin").is_ok());
        assert!(zone("UTC").is_ok());
        assert!(zone("Mars/Olympus").is_err());
        assert!(zone("europe/berlin").is_err(), "names are exact");
        assert!(zone("Factory").is_err());
    }

    #[test]
    fn every_name_chrono_tz_knows_is_a_zone_with_the_same_offsets() {
        // Links (`US/Eastern`, `GMT`, `Etc/GMT+5`) included: the names a policy could use
        // before the engine moved from chrono-tz to jiff still work, and mean the same.
        let at = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        for oracle in chrono_tz::TZ_VARIANTS {
            let name = oracle.name();
            let mine = zone(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            let expected = at.with_timezone(&oracle).offset().fix().local_minus_utc();
            assert_eq!(
                mine.offset_at(at.timestamp()),
                i64::from(expected),
                "{name}"
            );
        }
    }
}
