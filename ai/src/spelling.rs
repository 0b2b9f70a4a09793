//! [`Vocabulary`]: corrects a customer's misspelt English word ("shiping", "retrun",
//! "invioce") to a word of the knowledge base, so a typo still finds its entry.
//!
//! A word is corrected when the knowledge base does not have it and one of its words is a
//! single slip away: a letter dropped, added, replaced, or two neighbours swapped. Both are
//! reduced to their variants with one letter deleted (the symmetric-delete method of
//! SymSpell): two words are a slip apart when one is a variant of the other or they share a
//! variant. A lookup is then a few hash-map reads, whatever the size of the knowledge base.
//! Only words of [`MIN_LEN`] letters or more are corrected: shorter ones are a slip away from
//! too many others. Chinese typos (homophones typed through pinyin) are not corrected.

use std::collections::HashMap;

/// Shortest word corrected, and shortest correction.
pub const MIN_LEN: usize = 4;

/// The knowledge base's English words, for corrections.
#[derive(Debug, Default)]
pub struct Vocabulary {
    /// Each word, with how many phrasings have it.
    counts: HashMap<String, u32>,
    /// Each one-letter-deleted variant, with the words it comes from.
    variants: HashMap<String, Vec<String>>,
}

fn correctable(word: &str) -> bool {
    word.len() >= MIN_LEN && word.bytes().all(|b| b.is_ascii_lowercase())
}

/// `word` with one letter deleted, each way.
fn variants(word: &str) -> impl Iterator<Item = String> + '_ {
    (0..word.len()).map(move |i| format!("{}{}", &word[..i], &word[i + 1..]))
}

impl Vocabulary {
    /// The vocabulary of these features (each phrasing's, one after another).
    pub fn new<'a>(features: impl Iterator<Item = &'a str>) -> Self {
        let mut counts: HashMap<String, u32> = HashMap::new();
        for f in features.filter(|f| correctable(f)) {
            *counts.entry(f.to_owned()).or_default() += 1;
        }
        let mut by_variant: HashMap<String, Vec<String>> = HashMap::new();
        for word in counts.keys() {
            for v in variants(word) {
                let words = by_variant.entry(v).or_default();
                if !words.contains(word) {
                    words.push(word.clone());
                }
            }
        }
        Self {
            counts,
            variants: by_variant,
        }
    }

    /// The knowledge base's word `word` is a misspelling of, when it is one: the most
    /// common of those a slip away (then the first in alphabetical order).
    pub fn correct<'a>(&'a self, word: &str) -> Option<&'a str> {
        if !correctable(word) || self.counts.contains_key(word) {
            return None;
        }
        let count = |w: &str| self.counts.get(w).copied().unwrap_or(0);
        let best = |candidates: Vec<&'a str>| {
            candidates
                .into_iter()
                .filter(|c| c.len() >= MIN_LEN)
                .max_by(|a, b| count(a).cmp(&count(b)).then(b.cmp(a)))
        };
        // A letter too many or too few is a closer slip than one replaced or two swapped:
        // "trak" is "track", not "take".
        let mut near: Vec<&str> = variants(word)
            .filter_map(|v| self.counts.get_key_value(&v).map(|(k, _)| k.as_str()))
            .collect();
        if let Some(words) = self.variants.get(word) {
            near.extend(words.iter().map(String::as_str));
        }
        if let Some(w) = best(near) {
            return Some(w);
        }
        let mut far: Vec<&str> = Vec::new();
        for v in variants(word) {
            if let Some(words) = self.variants.get(&v) {
                far.extend(words.iter().map(String::as_str));
            }
        }
        best(far)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slips_are_corrected_to_known_words() {
        let v = Vocabulary::new(
            [
                "shipping", "return", "invoice", "refund", "cancel", "address", "coupon", "track",
                "payment", "order", "order", "take", "take",
            ]
            .into_iter(),
        );
        for (typo, want) in [
            ("shiping", "shipping"),   // dropped
            ("shippping", "shipping"), // added
            ("retrun", "return"),      // swapped
            ("invioce", "invoice"),    // swapped
            ("refnud", "refund"),      // swapped
            ("cancle", "cancel"),      // swapped
            ("adress", "address"),     // dropped
            ("coupn", "coupon"),       // dropped
            ("trak", "track"),         // dropped
            ("paymant", "payment"),    // replaced
        ] {
            assert_eq!(v.correct(typo), Some(want), "{typo}");
        }
        for word in ["order", "shipping", "zebra", "ordr1", "abc", "运费"] {
            assert_eq!(v.correct(word), None, "{word}");
        }
    }
}
