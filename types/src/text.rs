//! Which characters people's free text (reasons, comments, notes) may hold.

/// Whether `c` is invisible or changes how the text around it reads: control characters
/// (escape sequences, line breaks), Unicode format characters (bidi controls, zero-width
/// spaces and joiners, word joiners, the byte-order mark, tag characters, the soft hyphen)
/// and other characters that render as nothing (the combining grapheme joiner, Hangul
/// fillers, variation selectors).
///
/// SECURITY: a reason one person types is read by another in a terminal, a table and a
/// chat message; none of these may make it read differently from what it holds.
///
/// ```
/// use sentinel_types::is_hidden_char;
///
/// assert!(is_hidden_char('\u{202e}') && is_hidden_char('\u{200b}') && is_hidden_char('\n'));
/// assert!(!is_hidden_char('é') && !is_hidden_char('-') && !is_hidden_char(' '));
/// ```
pub fn is_hidden_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00ad}'
                | '\u{034f}'
                | '\u{061c}'
                | '\u{06dd}'
                | '\u{070f}'
                | '\u{0890}'..='\u{0891}'
                | '\u{08e2}'
                | '\u{0600}'..='\u{0605}'
                | '\u{115f}'..='\u{1160}'
                | '\u{17b4}'..='\u{17b5}'
                | '\u{180b}'..='\u{180f}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{206f}'
                | '\u{3164}'
                | '\u{fe00}'..='\u{fe0f}'
                | '\u{feff}'
                | '\u{ffa0}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{110bd}'
                | '\u{110cd}'
                | '\u{13430}'..='\u{1343f}'
                | '\u{1bca0}'..='\u{1bca3}'
                | '\u{1d173}'..='\u{1d17a}'
                | '\u{e0000}'..='\u{e0fff}'
        )
}
