//! `time`: days, hours and a time zone.

use serde::Deserialize;
use serde::de::Deserializer;

use super::fields::{FromText, NonEmpty, Present, Text, checked_map};
use crate::error::Invalid;
use crate::window::{self, Days, Hours, TimeWindow};

/// `time`: `days`, `hours` or both, in `timezone` (UTC by default).
pub(super) struct TimeSection(pub(super) TimeWindow);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TimeFields {
    #[serde(default)]
    days: Present<NonEmpty<Text<DayName>>>,
    #[serde(default)]
    hours: Present<HoursSection>,
    #[serde(default)]
    timezone: Present<Text<Zone>>,
}

impl<'de> Deserialize<'de> for TimeSection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(
            d,
            "time: a mapping with `days`, `hours` and optional `timezone`",
            |f: TimeFields| {
                if f.days.0.is_none() && f.hours.0.is_none() {
                    return Err(Invalid::new("time has neither `days` nor `hours`")
                        .hint("add `days: [mon, tue, wed, thu, fri]` or `hours: {start: \"09:00\", end: \"17:00\"}`"));
                }
                Ok(TimeSection(TimeWindow {
                    days: f.days.0.map(|l| {
                        l.0.into_iter()
                            .fold(Days::empty(), |all, d| all.union(d.0.0))
                    }),
                    hours: f.hours.0.map(|h| h.0),
                    zone: f.timezone.0.map_or_else(window::Zone::utc, |z| z.0.0),
                    zone_slot: 0,
                }))
            },
        )
    }
}

struct HoursSection(Hours);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HoursFields {
    start: Text<StartTime>,
    end: Text<EndTime>,
}

impl<'de> Deserialize<'de> for HoursSection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(
            d,
            "hours: a mapping with `start` and `end`",
            |f: HoursFields| Hours::new(f.start.0.0, f.end.0.0).map(HoursSection),
        )
    }
}

struct DayName(Days);

impl FromText for DayName {
    const EXPECTING: &'static str = "a day (mon..sun)";
    fn from_text(text: &str) -> Result<Self, Invalid> {
        let mut day = Days::empty();
        day.insert(text)?;
        Ok(DayName(day))
    }
}

struct Zone(window::Zone);

impl FromText for Zone {
    const EXPECTING: &'static str = "an IANA time zone name";
    fn from_text(text: &str) -> Result<Self, Invalid> {
        window::zone(text).map(Zone)
    }
}

struct StartTime(u32);

impl FromText for StartTime {
    const EXPECTING: &'static str = "a time of day such as \"09:00\"";
    fn from_text(text: &str) -> Result<Self, Invalid> {
        window::start_time(text).map(StartTime)
    }
}

struct EndTime(u32);

impl FromText for EndTime {
    const EXPECTING: &'static str = "a time of day such as \"17:00\" or \"24:00\"";
    fn from_text(text: &str) -> Result<Self, Invalid> {
        window::end_time(text).map(EndTime)
    }
}
