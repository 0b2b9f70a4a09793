//! How a question becomes the features it is matched on: the words of Kefu's search analyzer
//! (jieba for Chinese, lowercased words for English), without function words, plus the
//! character bigrams of every run of Chinese characters, so a product name jieba does not
//! know ("小米手环") still matches by its pairs of characters.

use std::collections::BTreeSet;

use kefu_normalizer::search::terms;

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
    let mut out: Vec<String> = terms(text)
        .into_iter()
        .filter(|t| !STOP_WORDS.contains(&t.as_str()))
        .collect();
    let mut run: Vec<char> = Vec::new();
    let flush = |run: &mut Vec<char>, out: &mut Vec<String>| {
        for pair in run.windows(2) {
            let gram: String = pair.iter().collect();
            if !out.contains(&gram) {
                out.push(gram);
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

/// The features of `text` as a set.
pub fn feature_set(text: &str) -> BTreeSet<String> {
    features(text).into_iter().collect()
}

/// How closely a customer's words (`query`) match one phrasing, from 0 to 1: the F-measure
/// of the shared features, weighing recall (how much of what the customer said the phrasing
/// covers) twice as much as precision, so a short question still matches a longer phrasing.
pub fn similarity(query: &BTreeSet<String>, phrasing: &BTreeSet<String>) -> f32 {
    if query.is_empty() || phrasing.is_empty() {
        return 0.0;
    }
    let shared = query.intersection(phrasing).count() as f32;
    if shared == 0.0 {
        return 0.0;
    }
    let recall = shared / query.len() as f32;
    let precision = shared / phrasing.len() as f32;
    5.0 * precision * recall / (4.0 * precision + recall)
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
        let q = feature_set("运费多少");
        let same = similarity(&q, &feature_set("运费是多少钱"));
        let other = similarity(&q, &feature_set("退货流程是什么"));
        assert!((same - 0.882).abs() < 0.01, "{same}");
        assert_eq!(other, 0.0);
        assert_eq!(
            similarity(&feature_set("退货流程"), &feature_set("退货流程")),
            1.0
        );
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
