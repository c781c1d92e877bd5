//! Text helpers every layer may use: making untrusted text inert for a terminal or a log, and the
//! edit distance behind every "did you mean" suggestion. It owns no format of its own (each
//! renderer escapes for its medium on top of [`inert`]) and imports nothing from the crate: it is
//! the lowest layer (docs/design.md §2).

use std::borrow::Cow;

/// Makes untrusted text inert on a terminal: C0/C1 control characters (ESC included), DEL and
/// the Unicode bidirectional overrides ("Trojan Source") become visible `\u{..}` escapes, so a
/// resource name cannot move the cursor, recolour the screen, set the window title or reorder
/// what the reader sees. Newlines are escaped too: one finding stays on its own row.
pub fn inert(s: &str) -> Cow<'_, str> {
    if !s.chars().any(dangerous) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if dangerous(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`inert`] text escaped for HTML and XML, element content and quoted attribute values alike
/// (the HTML report, the SVG map): a name cannot open or close an element or an attribute.
pub fn markup(s: &str) -> String {
    let s = inert(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A control character or a bidirectional override: what [`inert`] escapes.
pub fn dangerous(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Levenshtein distance in characters: insertions, deletions and substitutions.
/// The first `max` items joined with ", ", and how many more there were: a list said in a
/// message that does not grow with the estate.
pub fn list_at_most(items: &[String], max: usize) -> String {
    let shown = items
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    match items.len().saturating_sub(max) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate closest to `word` by [`edit_distance`], when it is at most `limit` edits away
/// (ties go to the alphabetically first, so suggestions are deterministic).
pub fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    limit: usize,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// The closest candidate by edit distance, when close enough to be a typo: a third of the word's
/// length in edits, at least one.
pub fn suggest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    closest(word, candidates, (word.chars().count() / 3).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inert_escapes_controls_and_bidi_but_keeps_unicode() {
        assert!(matches!(inert("estate-db é ✓"), Cow::Borrowed(_)));
        assert_eq!(
            inert("a\u{1b}]0;pwned\u{7}b\nc\u{9b}d\u{202e}e"),
            "a\\u{1b}]0;pwned\\u{7}b\\u{a}c\\u{9b}d\\u{202e}e"
        );
    }

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("asert", "assert"), 1);
        assert_eq!(edit_distance("tag_kye", "tag_key"), 2);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("é", "e"), 1);
    }

    #[test]
    fn closest_keeps_near_misses_only_and_breaks_ties_by_name() {
        let c = ["assert", "when", "evidence"];
        assert_eq!(closest("asert", c, 2), Some("assert"));
        assert_eq!(closest("zzzzzz", c, 2), None);
        assert_eq!(closest("ab", ["ac", "aa"], 1), Some("aa"));
    }

    #[test]
    fn suggestions_only_for_near_misses() {
        let c = ["assert", "when", "evidence"];
        assert_eq!(suggest("asert", c.iter().copied()), Some("assert"));
        assert_eq!(suggest("zzzzzz", c.iter().copied()), None);
    }
}
