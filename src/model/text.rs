//! Strings from the network are shown with control characters made visible, so an ESC sequence in a
//! deployment's error message or a log line cannot move the cursor, retitle the window or reach the clipboard.

use std::borrow::Cow;

/// `8-4-4-4-12` hex digits, as the providers write ids.
pub fn looks_like_uuid(s: &str) -> bool {
    s.len() == 36
        && s.chars()
            .enumerate()
            .all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { c == '-' } else { c.is_ascii_hexdigit() })
}

/// Returns `s` with every control character (C0, DEL, C1) replaced by a visible escape:
/// `\e` for ESC, `\n`, `\r`, `\t`, `\a` for BEL, and `\u{XX}` for the rest.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            match c {
                '\u{1b}' => out.push_str("\\e"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{7}' => out.push_str("\\a"),
                other => out.push_str(&format!("\\u{{{:02x}}}", other as u32)),
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The mark that ends a string cut short: `…[+N bytes]`, N the bytes left out.
pub fn truncation_mark(left_out: usize) -> String {
    format!("…[+{left_out} bytes]")
}

/// Whether `s` ends with a [`truncation_mark`]: a value cut short when it was read, which must never be
/// written back as if it were whole.
pub fn is_truncated(s: &str) -> bool {
    let Some(rest) = s.strip_suffix(" bytes]") else { return false };
    let Some(i) = rest.rfind("…[+") else { return false };
    let digits = &rest[i + "…[+".len()..];
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `s` cut to at most `max` bytes (on a character boundary) with a [`truncation_mark`] saying how much was
/// left out; borrowed unchanged when it fits.
pub fn truncate(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max {
        return Cow::Borrowed(s);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}{}", &s[..end], truncation_mark(s.len() - end)))
}

/// Control characters, plus the bidi overrides that can make text lie about its order.
fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        assert!(matches!(sanitize("llama-3 ✓"), Cow::Borrowed("llama-3 ✓")));
    }

    #[test]
    fn truncate_keeps_char_boundaries_and_says_how_much_is_gone() {
        assert!(matches!(truncate("short", 10), Cow::Borrowed("short")));
        let cut = truncate("ééééé", 3);
        assert_eq!(cut, "é…[+8 bytes]");
        assert!(is_truncated(&cut));
        assert!(!is_truncated("price […] 5 bytes]"));
        assert!(!is_truncated("…[+ bytes]"));
    }

    #[test]
    fn escape_sequences_become_visible() {
        let hostile = "pull failed\u{1b}[2J\u{1b}]0;pwned\u{7}\u{1b}]52;c;ZXZpbA==\u{7}\r\n\u{9b}31m";
        let shown = sanitize(hostile);
        assert!(!shown.chars().any(|c| c.is_control()));
        assert_eq!(shown, "pull failed\\e[2J\\e]0;pwned\\a\\e]52;c;ZXZpbA==\\a\\r\\n\\u{9b}31m");
    }
}
