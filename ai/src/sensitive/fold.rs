//! Folding text for matching: full-width forms to half width, upper to lower case, and
//! (for word lists) separators dropped, so "微 信", "微-信" and "ＷｅＣｈａｔ" match "微信" and
//! "wechat". Each folded byte remembers the original character it came from, so a match in
//! the folded text maps back to a span of the original.

/// Text folded for matching, with the original span of every folded byte.
#[derive(Debug, Default)]
pub struct Folded {
    /// The folded text.
    pub text: String,
    /// For each byte of `text`, the original character's byte range.
    origin: Vec<(usize, usize)>,
}

impl Folded {
    /// Folds width and case; with `drop_separators`, also leaves out whitespace and
    /// punctuation (see [`is_separator`]).
    pub fn new(original: &str, drop_separators: bool) -> Self {
        let mut out = Folded {
            text: String::with_capacity(original.len()),
            origin: Vec::with_capacity(original.len()),
        };
        for (start, c) in original.char_indices() {
            let end = start + c.len_utf8();
            let half = to_half_width(c);
            if drop_separators && is_separator(half) {
                continue;
            }
            for lower in half.to_lowercase() {
                let before = out.text.len();
                out.text.push(lower);
                let added = out.text.len() - before;
                out.origin.extend(std::iter::repeat_n((start, end), added));
            }
        }
        out
    }

    /// The original byte range of the folded range `start..end` (non-empty).
    pub fn original_span(&self, start: usize, end: usize) -> (usize, usize) {
        let first = self.origin.get(start).map_or(0, |o| o.0);
        let last = self
            .origin
            .get(end.saturating_sub(1))
            .map_or(first, |o| o.1);
        (first, last)
    }
}

/// A word-list pattern folded the same way as text (separators dropped).
pub fn fold_word(word: &str) -> String {
    Folded::new(word, true).text
}

/// Full-width ASCII forms (U+FF01–U+FF5E) and the ideographic space to their ASCII forms.
pub fn to_half_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// Characters people put inside a word to slip it past a filter: whitespace, ASCII and CJK
/// punctuation, symbols such as `*` `·` `|`, and zero-width characters.
pub fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || c.is_ascii_punctuation()
        || matches!(
            c,
            '\u{200B}'
                ..='\u{200D}'
                    | '\u{2060}'
                    | '\u{FEFF}'
                    | '·'
                    | '•'
                    | '、'
                    | '。'
                    | '，'
                    | '；'
                    | '：'
                    | '“'
                    | '”'
                    | '‘'
                    | '’'
                    | '【'
                    | '】'
                    | '（'
                    | '）'
                    | '《'
                    | '》'
                    | '—'
                    | '…'
                    | '～'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_width_case_and_separators() {
        let f = Folded::new("加我 ＷｅＣｈａｔ：微 - 信", true);
        assert_eq!(f.text, "加我wechat微信");
        let at = f.text.find("微信").expect("found");
        let (s, e) = f.original_span(at, at + "微信".len());
        assert_eq!(&"加我 ＷｅＣｈａｔ：微 - 信"[s..e], "微 - 信");
    }

    #[test]
    fn keeps_separators_when_asked() {
        assert_eq!(Folded::new("１３８ 0013", false).text, "138 0013");
    }
}
