//! Credential durations: `900`, `900s`, `15m`, `1h`, `1h30m`, within what STS
//! issues for a role session.

use crate::error::Invalid;
use crate::{MAX_DURATION_SECS, MIN_DURATION_SECS};

pub(crate) const DURATION_HINT: &str = "write durations as seconds (`900`) or with units (`900s`, `15m`, `1h`, `1h30m`), between 900 and 43200 seconds";

/// Parses a duration written as text (`"900"`, `"15m"`, `"1h30m"`).
pub(crate) fn parse_text(raw: &str) -> Result<u32, Invalid> {
    let malformed = || {
        Invalid::new(format!(
            "duration `{raw}` is not a number of seconds or a span such as `15m`"
        ))
        .hint(DURATION_HINT)
    };
    let text = raw.trim();
    if text.is_empty() {
        return Err(malformed());
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<u64>()
            .map_err(|_| out_of_range(raw))
            .and_then(|secs| check(secs, raw));
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    let mut last_unit = u64::MAX;
    for c in text.chars() {
        if let Some(digit) = c.to_digit(10) {
            let so_far = number.unwrap_or(0);
            number = Some(
                so_far
                    .checked_mul(10)
                    .and_then(|n| n.checked_add(u64::from(digit)))
                    .ok_or_else(|| out_of_range(raw))?,
            );
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(malformed()),
        };
        // Units must come once each, largest first (`1h30m`, never `30m1h`).
        let Some(n) = number.take() else {
            return Err(malformed());
        };
        if unit >= last_unit {
            return Err(malformed());
        }
        last_unit = unit;
        total = n
            .checked_mul(unit)
            .and_then(|part| total.checked_add(part))
            .ok_or_else(|| out_of_range(raw))?;
    }
    if number.is_some() {
        // Trailing digits without a unit, as in `1h30`.
        return Err(malformed());
    }
    check(total, raw)
}

/// Checks a number of seconds against the range STS accepts.
pub(crate) fn check(secs: u64, raw: &str) -> Result<u32, Invalid> {
    u32::try_from(secs)
        .ok()
        .filter(|s| (MIN_DURATION_SECS..=MAX_DURATION_SECS).contains(s))
        .ok_or_else(|| out_of_range(raw))
}

fn out_of_range(raw: &str) -> Invalid {
    Invalid::new(format!(
        "duration `{raw}` is outside {MIN_DURATION_SECS}..={MAX_DURATION_SECS} seconds"
    ))
    .hint(DURATION_HINT)
}

/// `3600` -> `1h`, `5400` -> `1h30m`, `901` -> `15m1s`.
pub(crate) fn format(secs: u32) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::new();
    for (n, unit) in [(h, 'h'), (m, 'm'), (s, 's')] {
        if n > 0 {
            out.push_str(&n.to_string());
            out.push(unit);
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_seconds_and_unit_spans() {
        assert_eq!(parse_text("900").unwrap(), 900);
        assert_eq!(parse_text("900s").unwrap(), 900);
        assert_eq!(parse_text("15m").unwrap(), 900);
        assert_eq!(parse_text("1h").unwrap(), 3600);
        assert_eq!(parse_text("1h30m").unwrap(), 5400);
        assert_eq!(parse_text("12h").unwrap(), 43_200);
        assert_eq!(parse_text("2h0m5s").unwrap(), 7205);
    }

    #[test]
    fn refuses_out_of_range_and_malformed_durations() {
        for bad in ["899", "14m", "12h1s", "13h", "99999999999999999999", "0"] {
            let e = parse_text(bad).unwrap_err();
            assert!(e.message.contains("outside 900..=43200"), "{bad}: {e}");
        }
        for bad in [
            "", "h", "1d", "15 m", "30m1h", "1h1h", "1h30", "-900", "1.5h",
        ] {
            let e = parse_text(bad).unwrap_err();
            assert!(e.message.contains("is not a number"), "{bad}: {e}");
        }
    }

    #[test]
    fn formats_compactly() {
        assert_eq!(format(3600), "1h");
        assert_eq!(format(5400), "1h30m");
        assert_eq!(format(901), "15m1s");
        assert_eq!(format(0), "0s");
    }
}
