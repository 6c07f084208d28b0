//! How the TVM's records are shown to people: aligned tables, one field per line, and
//! remote text made safe for a terminal.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every control character (escape sequences, newlines) and every bidi or
/// invisible character (`sentinel_types::is_hidden_char`) shown as `?`.
///
/// SECURITY: reasons, comments and notes are typed by other people (a requester writes
/// the reason an approver reads); a terminal must not run their escape sequences, nor
/// show them reordered or with hidden parts.
pub fn printable(text: &str) -> Cow<'_, str> {
    if text.chars().any(sentinel_types::is_hidden_char) {
        Cow::Owned(
            text.chars()
                .map(|c| {
                    if sentinel_types::is_hidden_char(c) {
                        '?'
                    } else {
                        c
                    }
                })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

/// At most `max` characters of `text` (printable), with `…` when it was cut.
pub fn shortened(text: &str, max: usize) -> String {
    let text = printable(text);
    if text.chars().count() <= max {
        return text.into_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Columns padded to their widest cell, two spaces apart, no trailing spaces.
pub fn render_table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header = header.map(str::to_owned);
    for row in std::iter::once(&header).chain(rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// One `name value` line per field, values aligned (made printable).
pub fn render_fields(fields: &[(&str, String)]) -> String {
    let mut out = String::new();
    for (name, value) in fields {
        let _ = writeln!(out, "{name:<16}{}", printable(value));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_text_cannot_drive_the_terminal() {
        assert_eq!(printable("CHG-1 ok"), "CHG-1 ok");
        assert_eq!(printable("a\u{1b}[2Jb\nc"), "a?[2Jb?c");
        assert_eq!(shortened("abcdef", 4), "abc…");
        assert_eq!(shortened("abc", 4), "abc");
    }

    #[test]
    fn tables_align_columns_without_trailing_space() {
        let rows = [
            ["1".to_owned(), "alice".to_owned(), String::new()],
            ["22".to_owned(), "bo".to_owned(), "x".to_owned()],
        ];
        assert_eq!(
            render_table(["ID", "USER", "NOTE"], &rows),
            "ID  USER   NOTE\n1   alice\n22  bo     x\n"
        );
        assert_eq!(
            render_fields(&[("status", "pending".into()), ("reason", "a\u{7}".into())]),
            "status          pending\nreason          a?\n"
        );
    }
}
