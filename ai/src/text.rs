//! How a question becomes the features it is matched on: the words of Kefu's search analyzer
//! (jieba for Chinese, lowercased words for English), without function words, with common
//! synonyms and English plurals brought to one form, plus the character bigrams of every run
//! of Chinese characters, so a product name jieba does not know ("小米手环") still matches by
//! its pairs of characters.
//!
//! Features are weighted: a word counts 1, a bigram that is not also a word of the text
//! counts [`BIGRAM_WEIGHT`]. Most such bigrams straddle two words ("费怎" in "运费怎么算") and
//! say little; they stay as a fallback for names jieba cuts wrongly.

use std::collections::BTreeMap;

use kefu_normalizer::search::terms;

mod synonyms;

/// What a bigram that is not also a word of its text counts for, against 1 for a word.
pub const BIGRAM_WEIGHT: f32 = 0.2;

/// A text's features and their weights.
pub type Features = BTreeMap<String, f32>;

/// Words that say nothing about what a customer asks (questions words, pronouns, particles).
const STOP_WORDS: &[&str] = &[
    // Chinese
    "的",
    "了",
    "吗",
    "呢",
    "吧",
    "啊",
    "呀",
    "哦",
    "嘛",
    "么",
    "是",
    "请",
    "请问",
    "我",
    "你",
    "您",
    "我们",
    "你们",
    "什么",
    "怎么",
    "怎么样",
    "怎样",
    "如何",
    "一下",
    "可以",
    "能",
    "有",
    "在",
    "和",
    "想",
    "要",
    "这个",
    "那个",
    "哪",
    "哪里",
    "吗？",
    // English
    "a",
    "an",
    "the",
    "is",
    "are",
    "am",
    "was",
    "were",
    "be",
    "do",
    "does",
    "did",
    "i",
    "you",
    "my",
    "your",
    "me",
    "we",
    "our",
    "it",
    "its",
    "to",
    "of",
    "for",
    "in",
    "on",
    "at",
    "and",
    "or",
    "can",
    "could",
    "would",
    "should",
    "how",
    "what",
    "when",
    "where",
    "which",
    "who",
    "why",
    "please",
    "hi",
    "hello",
    "with",
    "this",
    "that",
    "there",
    "have",
    "has",
    "will",
    "from",
    "about",
    "any",
    "much",
    "many",
    "get",
    "want",
    "need",
    "s",
];

/// Single characters dropped from a Chinese run before its bigrams are taken.
const STOP_CHARS: &[char] = &[
    '的', '了', '吗', '呢', '吧', '啊', '呀', '哦', '嘛', '么', '是', '请', '我', '你', '您',
];

fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

/// The features of `text`: content words, then bigrams, each once, in order.
pub fn features(text: &str) -> Vec<String> {
    weighted(text).into_iter().map(|(f, _)| f).collect()
}

/// The features of `text` with their weights.
pub fn weighted_features(text: &str) -> Features {
    weighted(text).into_iter().collect()
}

fn weighted(text: &str) -> Vec<(String, f32)> {
    let mut out: Vec<(String, f32)> = Vec::new();
    for t in terms(text) {
        // Before the plural is folded too: "does" must not become the word "doe".
        if STOP_WORDS.contains(&t.as_str()) {
            continue;
        }
        let w = normalize(t);
        if !STOP_WORDS.contains(&w.as_str()) && !out.iter().any(|(f, _)| *f == w) {
            out.push((w, 1.0));
        }
    }
    let mut run: Vec<char> = Vec::new();
    let flush = |run: &mut Vec<char>, out: &mut Vec<(String, f32)>| {
        for pair in run.windows(2) {
            let gram: String = pair.iter().collect();
            let gram = synonyms::canonical(&gram).map_or(gram, str::to_owned);
            if !STOP_WORDS.contains(&gram.as_str()) && !out.iter().any(|(f, _)| *f == gram) {
                out.push((gram, BIGRAM_WEIGHT));
            }
        }
        run.clear();
    };
    for c in text.chars() {
        if is_han(c) {
            if !STOP_CHARS.contains(&c) {
                run.push(c);
            }
        } else {
            flush(&mut run, &mut out);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// One form for a word: its synonym's (see `text/synonyms.rs`), and an English word
/// without its plural ending ("items" → "item", "countries" → "country").
pub fn normalize(word: String) -> String {
    let word = match synonyms::canonical(&word) {
        Some(c) => c.to_owned(),
        None => word,
    };
    if !word.bytes().all(|b| b.is_ascii_lowercase()) || word.len() <= 3 {
        return word;
    }
    if let Some(stem) = word.strip_suffix("ies").filter(|s| s.len() >= 3) {
        return format!("{stem}y");
    }
    if word.ends_with('s') && !word.ends_with("ss") && !word.ends_with("us") {
        let stem = &word[..word.len() - 1];
        return synonyms::canonical(stem).unwrap_or(stem).to_owned();
    }
    word
}

/// English words that are matched under another form (synonyms), which a misspelling
/// should still be corrected to.
pub fn english_synonyms() -> impl Iterator<Item = &'static str> {
    synonyms::english_words()
}

/// Whether `text` has a Chinese character.
pub fn has_han(text: &str) -> bool {
    text.chars().any(is_han)
}

/// How closely a customer's words (`query`) match one phrasing, from 0 to 1: the F1 measure
/// of the shared features' weights, recall (how much of what the customer said the phrasing
/// covers) and precision (how much of the phrasing the customer said) counting alike. (Recall
/// used to count twice as much; on the evaluation set, `ai/eval/`, the balanced measure
/// answers more questions right for as many off-topic ones answered.)
pub fn similarity(query: &Features, phrasing: &Features) -> f32 {
    let total = |f: &Features| f.values().sum::<f32>();
    let (query_total, phrasing_total) = (total(query), total(phrasing));
    if query_total <= 0.0 || phrasing_total <= 0.0 {
        return 0.0;
    }
    let (mut in_query, mut in_phrasing) = (0.0, 0.0);
    for (f, w) in query {
        if let Some(p) = phrasing.get(f) {
            in_query += w;
            in_phrasing += p;
        }
    }
    if in_query == 0.0 {
        return 0.0;
    }
    let recall = in_query / query_total;
    let precision = in_phrasing / phrasing_total;
    2.0 * precision * recall / (precision + recall)
}

/// The least whole weight [`coverage`] divides by: one telling word. An example made only of
/// words other intents use too ("where is my order" is `order`, which "refund my order" has
/// too) then scores below 1 even when covered, so a message that also covers a telling word of
/// another intent ("I need an invoice for my order") goes to that one.
pub const FULL_WEIGHT: f32 = 1.0;

/// How much of `phrasing` `query` covers, 0 to 1: the weight of the phrasing's features the
/// query has over the phrasing's whole weight, each feature's weight multiplied by
/// `telling(feature)` (how telling it is, 0 to 1). The whole weight counts at least
/// [`FULL_WEIGHT`], so a phrasing made only of words every intent uses cannot score high. Words
/// the query has beyond the phrasing do not lower the score: a long message covers a short
/// example as well as a short one does.
pub fn coverage(query: &Features, phrasing: &Features, telling: impl Fn(&str) -> f32) -> f32 {
    let (mut covered, mut total) = (0.0f32, 0.0f32);
    for (f, w) in phrasing {
        let weight = w * telling(f);
        total += weight;
        if query.contains_key(f) {
            covered += weight;
        }
    }
    if covered <= 0.0 {
        return 0.0;
    }
    (covered / total.max(FULL_WEIGHT)).min(1.0)
}

/// Whether the customer asks for a person: "人工" or "转人工" anywhere, or the word "human",
/// "agent", "person" or "representative" in English.
pub fn asks_for_human(text: &str) -> bool {
    if text.contains("人工") || text.contains("真人") {
        return true;
    }
    text.split(|c: char| !c.is_alphanumeric()).any(|w| {
        ["human", "agent", "person", "representative"]
            .iter()
            .any(|h| w.eq_ignore_ascii_case(h))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_are_content_words_and_bigrams() {
        assert_eq!(features("运费多少"), ["运费", "多少", "费多"]);
        let f = features("运费是多少钱");
        for w in ["运费", "多少", "钱", "费多", "少钱"] {
            assert!(f.contains(&w.to_owned()), "{w} in {f:?}");
        }
        assert!(!f.contains(&"是".to_owned()), "{f:?}");
        assert_eq!(features("How do I return an item?"), ["return", "item"]);
    }

    #[test]
    fn paraphrases_score_higher_than_other_questions() {
        let q = weighted_features("运费多少");
        let same = similarity(&q, &weighted_features("运费是多少钱"));
        let other = similarity(&q, &weighted_features("退货流程是什么"));
        // 运费 and 多少 shared, and the bigram 费多; 钱 and 少钱 not.
        assert!((same - 0.786).abs() < 0.01, "{same}");
        assert_eq!(other, 0.0);
        assert_eq!(
            similarity(
                &weighted_features("退货流程"),
                &weighted_features("退货流程")
            ),
            1.0
        );
    }

    #[test]
    fn words_count_more_than_bigrams_and_synonyms_meet() {
        let f = weighted_features("运费怎么算");
        assert_eq!(f.get("运费"), Some(&1.0));
        assert_eq!(f.get("费怎"), Some(&BIGRAM_WEIGHT));
        assert!(
            !f.contains_key("怎么"),
            "a stop word is no bigram either: {f:?}"
        );
        for (a, b) in [
            ("付款方式", "支付方式"),
            ("账户注销", "账号注销"),
            ("parcel tracking", "package tracking"),
            ("wechat", "微信"),
        ] {
            // Only the bigrams that straddle words ("款方" / "付方") differ.
            let s = similarity(&weighted_features(a), &weighted_features(b));
            assert!(s >= 0.9, "{a} / {b}: {s}");
        }
        assert_eq!(features("Refunds for items"), ["退款", "item"]);
        assert_eq!(features("countries"), ["country"]);
        assert_eq!(features("address"), ["address"]);
        assert_eq!(features("How long does this take?"), ["long", "take"]);
    }

    #[test]
    fn requests_for_a_person() {
        for t in [
            "转人工",
            "我要人工服务",
            "Can I talk to a human?",
            "AGENT please",
        ] {
            assert!(asks_for_human(t), "{t}");
        }
        for t in ["运费多少", "my agenda", "humane treatment"] {
            assert!(!asks_for_human(t), "{t}");
        }
    }
}
