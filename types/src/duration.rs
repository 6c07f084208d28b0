//! Credential durations: one grammar and one range for policies, the CLI and the wire.

use std::fmt;
use std::str::FromStr;

use crate::InvalidValue;
use crate::account::shown;

const HINT: &str = "write durations as seconds (`900`) or with units (`900s`, `15m`, `1h`, `1h30m`), between 900 and 43200 seconds";

/// How long credentials for a role session live: 900 to 43200 seconds, the range
/// STS's `AssumeRole` accepts.
///
/// Text form ([`FromStr`]): seconds (`900`) or units largest first, each at most
/// once (`900s`, `15m`, `1h`, `1h30m`, `2h0m5s`). The wire's `duration` parameter
/// takes seconds only ([`SessionDuration::parse_seconds`]). `Display` writes the
/// compact unit form (`1h30m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionDuration(u32);

impl SessionDuration {
    /// The shortest credentials STS issues for a role session.
    pub const MIN: Self = Self(900);
    /// The longest credentials STS issues for a role session.
    pub const MAX: Self = Self(43_200);
    /// What a profile grants when neither it nor the caller names a duration.
    pub const DEFAULT: Self = Self(900);
    /// STS caps a role session that was itself assumed from a role session (role
    /// chaining, which every Lambda's call is) at one hour.
    pub const CHAINED_MAX: Self = Self(3600);

    /// A number of seconds within [`Self::MIN`]..=[`Self::MAX`].
    pub fn from_secs(secs: u64) -> Result<Self, InvalidValue> {
        Self::in_range(secs, &secs.to_string())
    }

    /// Seconds as the wire sends them: ASCII digits only, within range.
    pub fn parse_seconds(raw: &str) -> Result<Self, InvalidValue> {
        if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidValue::new(format!(
                "duration `{}` must be whole seconds between {} and {}",
                shown(raw),
                Self::MIN.0,
                Self::MAX.0
            )));
        }
        let secs = raw.parse::<u64>().unwrap_or(u64::MAX);
        Self::in_range(secs, raw)
    }

    /// The duration in seconds.
    pub const fn secs(self) -> u32 {
        self.0
    }

    fn in_range(secs: u64, raw: &str) -> Result<Self, InvalidValue> {
        u32::try_from(secs)
            .ok()
            .filter(|s| (Self::MIN.0..=Self::MAX.0).contains(s))
            .map(Self)
            .ok_or_else(|| {
                InvalidValue::new(format!(
                    "duration `{}` is outside {}..={} seconds",
                    shown(raw),
                    Self::MIN.0,
                    Self::MAX.0
                ))
                .hint(HINT)
            })
    }
}

impl FromStr for SessionDuration {
    type Err = InvalidValue;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let secs = parse_span(raw).map_err(|e| e.hint(HINT))?;
        Self::in_range(secs, raw)
    }
}

/// Parses a span in the duration grammar (seconds, or units `h`, `m`, `s` largest
/// first, each at most once) without a range: for spans that are not credential
/// durations (an approval request's time to live, a break-glass cooldown). An absurd
/// number saturates rather than being malformed.
pub fn parse_span(raw: &str) -> Result<u64, InvalidValue> {
    let malformed = || {
        InvalidValue::new(format!(
            "duration `{}` is not a number of seconds or a span such as `15m`",
            shown(raw)
        ))
    };
    let text = raw.trim();
    if text.is_empty() {
        return Err(malformed());
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    let mut last_unit = u64::MAX;
    for c in text.chars() {
        if let Some(digit) = c.to_digit(10) {
            number = Some(
                number
                    .unwrap_or(0)
                    .saturating_mul(10)
                    .saturating_add(u64::from(digit)),
            );
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(malformed()),
        };
        // Units come once each, largest first (`1h30m`, never `30m1h`).
        let Some(n) = number.take() else {
            return Err(malformed());
        };
        if unit >= last_unit {
            return Err(malformed());
        }
        last_unit = unit;
        total = total.saturating_add(n.saturating_mul(unit));
    }
    match number {
        // Plain seconds: `900`.
        Some(n) if last_unit == u64::MAX => Ok(n),
        // Trailing digits without a unit, as in `1h30`.
        Some(_) => Err(malformed()),
        None => Ok(total),
    }
}

impl fmt::Display for SessionDuration {
    /// `3600` -> `1h`, `5400` -> `1h30m`, `901` -> `15m1s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (h, m, s) = (self.0 / 3600, self.0 % 3600 / 60, self.0 % 60);
        for (n, unit) in [(h, 'h'), (m, 'm'), (s, 's')] {
            if n > 0 {
                write!(f, "{n}{unit}")?;
            }
        }
        Ok(())
    }
}

impl From<SessionDuration> for u32 {
    fn from(d: SessionDuration) -> Self {
        d.0
    }
}

impl serde::Serialize for SessionDuration {
    /// Seconds, as the wire carries them.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for SessionDuration {
    /// Seconds as a JSON integer.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let secs = <u64 as serde::Deserialize>::deserialize(d)?;
        Self::from_secs(secs).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(raw: &str) -> Result<u32, InvalidValue> {
        raw.parse::<SessionDuration>().map(SessionDuration::secs)
    }

    #[test]
    fn accepts_seconds_and_unit_spans() {
        assert_eq!(secs("900").unwrap(), 900);
        assert_eq!(secs("900s").unwrap(), 900);
        assert_eq!(secs("15m").unwrap(), 900);
        assert_eq!(secs("1h").unwrap(), 3600);
        assert_eq!(secs("1h30m").unwrap(), 5400);
        assert_eq!(secs("12h").unwrap(), 43_200);
        assert_eq!(secs("2h0m5s").unwrap(), 7205);
        assert_eq!(secs(" 1h ").unwrap(), 3600);
    }

    #[test]
    fn refuses_out_of_range_and_malformed_durations() {
        for bad in ["899", "14m", "12h1s", "13h", "99999999999999999999", "0"] {
            let e = secs(bad).unwrap_err();
            assert!(e.message().contains("outside 900..=43200"), "{bad}: {e}");
        }
        for bad in [
            "", "h", "1d", "15 m", "30m1h", "1h1h", "1h30", "-900", "1.5h",
        ] {
            let e = secs(bad).unwrap_err();
            assert!(e.message().contains("is not a number"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_wire_takes_digits_only() {
        assert_eq!(SessionDuration::parse_seconds("3600").unwrap().secs(), 3600);
        for bad in ["1h", "", "+900", " 900", "900.0", "1e3", "899", "43201"] {
            assert!(SessionDuration::parse_seconds(bad).is_err(), "{bad}");
        }
        assert!(SessionDuration::parse_seconds("99999999999999999999999").is_err());
    }

    #[test]
    fn formats_compactly() {
        let f = |s: u64| SessionDuration::from_secs(s).unwrap().to_string();
        assert_eq!(f(3600), "1h");
        assert_eq!(f(5400), "1h30m");
        assert_eq!(f(901), "15m1s");
        assert_eq!(f(900), "15m");
    }

    #[test]
    fn serde_is_seconds() {
        let d: SessionDuration = serde_json::from_str("3600").unwrap();
        assert_eq!(d, SessionDuration::CHAINED_MAX);
        assert_eq!(serde_json::to_string(&d).unwrap(), "3600");
        assert!(serde_json::from_str::<SessionDuration>("60").is_err());
        assert!(serde_json::from_str::<SessionDuration>("-1").is_err());
    }

    proptest::proptest! {
        #[test]
        fn display_round_trips(s in 900u64..=43_200) {
            let d = SessionDuration::from_secs(s).unwrap();
            proptest::prop_assert_eq!(d.to_string().parse::<SessionDuration>().unwrap(), d);
        }

        #[test]
        fn arbitrary_text_never_panics(raw in "\\PC{0,30}") {
            let _ = raw.parse::<SessionDuration>();
            let _ = SessionDuration::parse_seconds(&raw);
        }
    }
}
