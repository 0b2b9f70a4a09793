//! Extractive conversation summaries: a header of facts and the few sentences that say most
//! about a conversation, chosen by TextRank. Pure: the caller reads the messages
//! ([`kefu_normalizer::summaries::input`]) and stores what [`summarize`] returns.
//!
//! 1. Customers' and agents' messages (not the bot's, not private notes or Kefu's automatic
//!    messages, which the input leaves out) are split into sentences at Chinese and English
//!    sentence ends (`。！？；!?…`, a `.` before a space) and line breaks; quoted lines of an
//!    email reply (`> ...`) are skipped. Each message is read up to [`MAX_MESSAGE_CHARS`] and
//!    only the newest [`MAX_CANDIDATES`] sentences are ranked.
//! 2. Two sentences are as similar as the features they share ([`crate::text::features`]:
//!    jieba words without function words, plus Chinese character bigrams), over
//!    `ln(1 + |a|) + ln(1 + |b|)`.
//! 3. PageRank on that graph (damping 0.85, until no score moves by more than 1e-6, at most
//!    100 iterations): a sentence ranks high when sentences like it do.
//! 4. The best [`SENTENCES`] (earlier first on a tie) are kept in the order they were said,
//!    each cut to [`MAX_SENTENCE_CHARS`].
//!
//! The facts: the channel, the duration (first message to the resolve or transfer), the
//! labels, the last open question (the customer's last question no agent message followed)
//! and the intent detected for the conversation (`null` when none matched).

use std::collections::BTreeSet;

use kefu_normalizer::summaries::{
    Speaker, Summarizer, SummaryBody, SummaryFacts, SummaryInput, SummaryMessage, SummarySentence,
};

use crate::text::features;

/// The distinct features (jieba words and Chinese bigrams) of a sentence, for comparing two.
fn feature_set(text: &str) -> BTreeSet<String> {
    features(text).into_iter().collect()
}

/// How many sentences a summary keeps.
pub const SENTENCES: usize = 3;
/// The longest sentence a summary shows, in characters (longer ones end with `…`).
pub const MAX_SENTENCE_CHARS: usize = 200;
/// How much of one message is read, in characters (a pasted log or a long email is cut).
pub const MAX_MESSAGE_CHARS: usize = 4_000;
/// How many sentences are ranked at most (the newest), bounding TextRank's n² similarities.
pub const MAX_CANDIDATES: usize = 300;
/// The source name of summaries written here.
pub const SOURCE: &str = "extractive";

const DAMPING: f64 = 0.85;
const MAX_ITERATIONS: usize = 100;
const TOLERANCE: f64 = 1e-6;

/// The offline summarizer the gateway plugs into resolves and transfers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extractive;

impl Summarizer for Extractive {
    fn summarize(&self, input: &SummaryInput) -> SummaryBody {
        summarize(input)
    }
}

/// The summary of `input`: the facts and the top [`SENTENCES`] sentences.
pub fn summarize(input: &SummaryInput) -> SummaryBody {
    let facts = SummaryFacts {
        channel: input.channel.clone(),
        duration_secs: input
            .started_at
            .map(|s| (input.ended_at - s).num_seconds().max(0)),
        intent: input.intent.clone(),
        labels: input.labels.clone(),
        open_question: open_question(&input.messages),
    };
    SummaryBody {
        source: SOURCE.to_owned(),
        facts,
        sentences: top_sentences(&input.messages, SENTENCES),
        llm_error: None,
    }
}

/// The `n` sentences of customers' and agents' messages TextRank ranks highest, in the order
/// they were said.
pub fn top_sentences(messages: &[SummaryMessage], n: usize) -> Vec<SummarySentence> {
    let mut candidates: Vec<(Speaker, String, BTreeSet<String>)> = messages
        .iter()
        .filter(|m| m.speaker != Speaker::Bot)
        .flat_map(|m| sentences(&m.text).into_iter().map(|s| (m.speaker, s)))
        .filter_map(|(speaker, s)| {
            let features = feature_set(&s);
            (!features.is_empty()).then_some((speaker, s, features))
        })
        .collect();
    if candidates.len() > MAX_CANDIDATES {
        candidates.drain(..candidates.len() - MAX_CANDIDATES);
    }
    let features: Vec<BTreeSet<String>> = candidates.iter().map(|c| c.2.clone()).collect();
    let scores = textrank(&features);
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let mut keep: Vec<usize> = order.into_iter().take(n).collect();
    keep.sort_unstable();
    keep.into_iter()
        .map(|i| SummarySentence {
            speaker: candidates[i].0,
            text: clip(&candidates[i].1, MAX_SENTENCE_CHARS),
        })
        .collect()
}

/// TextRank scores of sentences given their features (see the module docs).
pub fn textrank(features: &[BTreeSet<String>]) -> Vec<f64> {
    let n = features.len();
    let mut weights = vec![vec![0.0_f64; n]; n];
    for i in 0..n {
        for j in (i + 1)..n {
            let shared = features[i].intersection(&features[j]).count();
            if shared == 0 {
                continue;
            }
            let norm =
                (1.0 + features[i].len() as f64).ln() + (1.0 + features[j].len() as f64).ln();
            let w = shared as f64 / norm;
            weights[i][j] = w;
            weights[j][i] = w;
        }
    }
    let out: Vec<f64> = weights.iter().map(|row| row.iter().sum()).collect();
    let mut scores = vec![1.0_f64; n];
    for _ in 0..MAX_ITERATIONS {
        let next: Vec<f64> = (0..n)
            .map(|i| {
                let inbound: f64 = (0..n)
                    .filter(|&j| weights[j][i] > 0.0 && out[j] > 0.0)
                    .map(|j| weights[j][i] / out[j] * scores[j])
                    .sum();
                (1.0 - DAMPING) + DAMPING * inbound
            })
            .collect();
        let moved = next
            .iter()
            .zip(&scores)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        scores = next;
        if moved < TOLERANCE {
            break;
        }
    }
    scores
}

/// Whether `c` ends a sentence (a line break does too).
fn ends_sentence(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | '；' | '!' | '?' | '…')
}

/// What may follow a sentence end and still belong to the sentence (closing quotes, brackets).
fn trails(c: char) -> bool {
    matches!(c, '"' | '\'' | ')' | '”' | '’' | '」' | '』' | '）' | '】')
}

/// The sentences of one message, trimmed, without quoted email lines and without pieces that
/// hold fewer than two letters or digits.
pub fn sentences(text: &str) -> Vec<String> {
    let text: String = text.chars().take(MAX_MESSAGE_CHARS).collect();
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with('>') {
            continue;
        }
        let chars: Vec<char> = line.chars().collect();
        let mut current = String::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            current.push(c);
            let period = c == '.'
                && chars[i + 1..]
                    .iter()
                    .find(|n| !trails(**n))
                    .is_none_or(|n| n.is_whitespace());
            if ends_sentence(c) || period {
                while let Some(&n) = chars.get(i + 1) {
                    if ends_sentence(n) || n == '.' || trails(n) {
                        current.push(n);
                        i += 1;
                    } else {
                        break;
                    }
                }
                push_sentence(&mut out, &mut current);
            }
            i += 1;
        }
        push_sentence(&mut out, &mut current);
    }
    out
}

fn push_sentence(out: &mut Vec<String>, current: &mut String) {
    let s = current.trim();
    if s.chars().filter(|c| c.is_alphanumeric()).count() >= 2 {
        out.push(s.to_owned());
    }
    current.clear();
}

/// `s` cut to `max` characters, ending with `…` when cut.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Chinese words and phrases that make a sentence a question wherever they stand.
const ZH_QUESTION_WORDS: &[&str] = &[
    "怎么",
    "如何",
    "为什么",
    "为何",
    "是否",
    "能否",
    "可否",
    "多少",
    "哪",
    "什么时候",
    "有没有",
    "能不能",
    "可不可以",
    "是不是",
    "会不会",
];

/// English words that make a sentence a question when it starts with one.
const EN_QUESTION_STARTS: &[&str] = &[
    "how", "what", "when", "where", "why", "who", "which", "whose", "can", "could", "would",
    "will", "is", "are", "do", "does", "did", "should", "may", "any",
];

/// Whether a customer's sentence asks something: it ends with `?`/`？` or a Chinese question
/// particle (吗, 呢, 么), holds a Chinese question word (怎么, 多少, 哪...), or starts with an
/// English question word or auxiliary (how, what, can, is...).
pub fn is_question(sentence: &str) -> bool {
    let s = sentence.trim_end_matches(|c: char| c.is_whitespace() || trails(c));
    if s.ends_with(['?', '？']) {
        return true;
    }
    let bare = s.trim_end_matches(|c: char| !c.is_alphanumeric());
    if bare.ends_with(['吗', '呢', '么']) {
        return true;
    }
    if ZH_QUESTION_WORDS.iter().any(|w| bare.contains(w)) {
        return true;
    }
    bare.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .find(|w| !w.is_empty())
        .is_some_and(|w| EN_QUESTION_STARTS.iter().any(|q| w.eq_ignore_ascii_case(q)))
}

/// The customer's last question that no agent message followed, cut to
/// [`MAX_SENTENCE_CHARS`].
pub fn open_question(messages: &[SummaryMessage]) -> Option<String> {
    let mut open = None;
    for m in messages {
        match m.speaker {
            Speaker::Customer => {
                if let Some(q) = sentences(&m.text)
                    .into_iter()
                    .rev()
                    .find(|s| is_question(s))
                {
                    open = Some(clip(&q, MAX_SENTENCE_CHARS));
                }
            }
            Speaker::Agent if !m.text.trim().is_empty() => open = None,
            Speaker::Agent | Speaker::Bot => {}
        }
    }
    open
}

#[cfg(test)]
#[path = "summary_tests.rs"]
mod tests;
