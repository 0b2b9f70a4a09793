//! Sentiment: a score from −1 (angry) to 1 (happy) for one customer message, with the terms
//! that drove it. Pure, lexicon-based, Chinese and English.
//!
//! # Method
//!
//! 1. The text is folded (full-width to half-width, lower case; see
//!    [`fold`](crate::sensitive::fold)) and scanned once with an Aho-Corasick automaton
//!    (leftmost-longest) over the [`lexicon`]: polar words with weights, negators,
//!    intensifiers and complaint signals. Longest match wins, so "不错" is positive and "不好意思"
//!    neutral rather than "不" + "好". A lexicon word starting or ending with an ASCII letter
//!    or digit must stand alone ("like" is not found in "likely").
//! 2. Negators and intensifiers apply to the next polar word within [`REACH`] characters in
//!    the same clause (no `，。,.!?；` in between): a negator flips the weight and weakens it
//!    (×−0.6: "not good" is mildly bad, "不差" mildly good), an intensifier multiplies it
//!    ("很", "very" ×1.5; "有点" ×0.7).
//! 3. Complaint signals (投诉, 差评, 12315, "refund now"...) count negative whatever
//!    surrounds them. Runs of three or more `!`/`?` (either width) add −1 once when the message
//!    is not otherwise positive.
//! 4. The sum `s` becomes `s / (|s| + 1.5)`, rounded to hundredths: one strong complaint is
//!    about −0.6, a plain "谢谢" 0.4.

mod lexicon;

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};
use serde::{Deserialize, Serialize};

use crate::sensitive::fold::Folded;
use lexicon::Kind;

/// How many characters a negator or intensifier reaches forward.
pub const REACH: usize = 4;
/// At or below this, a message is strongly negative (the FAQ bot hands off).
pub const STRONGLY_NEGATIVE: f32 = -0.6;

/// The score of a message and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sentiment {
    /// From −1 to 1; 0 when nothing polar was found.
    pub score: f32,
    /// The terms that counted, in order, with the weight each added.
    pub terms: Vec<Term>,
}

/// One term that moved the score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Term {
    /// As written, with its negator or intensifier ("不太好", "very slow").
    pub text: String,
    /// What it added to the sum.
    pub weight: f32,
}

struct Lexicon {
    automaton: AhoCorasick,
    kinds: Vec<(String, Kind)>,
}

static LEXICON: LazyLock<Option<Lexicon>> = LazyLock::new(|| {
    let kinds: Vec<(String, Kind)> = lexicon::entries()
        .into_iter()
        .map(|(w, k)| (w.to_owned(), k))
        .collect();
    let automaton = AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .build(kinds.iter().map(|(w, _)| w.as_str()))
        .ok()?;
    Some(Lexicon { automaton, kinds })
});

/// A modifier waiting for its polar word.
struct Pending {
    start: usize,
    end: usize,
    factor: f32,
}

/// The sentiment of `text`.
pub fn analyze(text: &str) -> Sentiment {
    let Some(lex) = LEXICON.as_ref() else {
        return Sentiment {
            score: 0.0,
            terms: Vec::new(),
        };
    };
    let folded = Folded::new(text, false);
    let f = folded.text.as_str();
    let mut terms = Vec::new();
    let mut pending: Option<Pending> = None;
    for m in lex.automaton.find_iter(f) {
        let (word, kind) = &lex.kinds[m.pattern().as_usize()];
        if !stands_alone(f, m.start(), m.end(), word) {
            continue;
        }
        // A modifier too far back, or in an earlier clause, no longer applies.
        if pending
            .as_ref()
            .is_some_and(|p| !reaches(&f[p.end..m.start()]))
        {
            pending = None;
        }
        let original = |s: usize, e: usize| folded_original(&folded, text, s, e);
        match *kind {
            Kind::Negator | Kind::Intensifier(_) => {
                let factor = match *kind {
                    Kind::Intensifier(x) => x,
                    _ => -0.6,
                };
                pending = Some(match pending.take() {
                    Some(p) => Pending {
                        start: p.start,
                        end: m.end(),
                        factor: p.factor * factor,
                    },
                    None => Pending {
                        start: m.start(),
                        end: m.end(),
                        factor,
                    },
                });
            }
            Kind::Polar(w) => {
                let (start, factor) = pending
                    .take()
                    .map_or((m.start(), 1.0), |p| (p.start, p.factor));
                if w != 0.0 {
                    terms.push(Term {
                        text: original(start, m.end()),
                        weight: round(w * factor),
                    });
                }
            }
            Kind::Complaint(w) => {
                pending = None;
                terms.push(Term {
                    text: original(m.start(), m.end()),
                    weight: w,
                });
            }
        }
    }
    let sum: f32 = terms.iter().map(|t| t.weight).sum();
    if sum <= 0.0
        && let Some((s, e)) = repeated_marks(f)
    {
        terms.push(Term {
            text: folded_original(&folded, text, s, e),
            weight: -1.0,
        });
    }
    let sum: f32 = terms.iter().map(|t| t.weight).sum();
    Sentiment {
        score: round(sum / (sum.abs() + 1.5)),
        terms,
    }
}

fn folded_original(folded: &Folded, text: &str, s: usize, e: usize) -> String {
    let (s, e) = folded.original_span(s, e);
    text[s..e].to_owned()
}

/// To hundredths; never −0 (a sum of nothing is −0.0 in Rust).
fn round(x: f32) -> f32 {
    let r = (x * 100.0).round() / 100.0;
    if r == 0.0 { 0.0 } else { r }
}

/// Whether a modifier reaches over `between` (short, and within the clause).
fn reaches(between: &str) -> bool {
    between.chars().count() <= REACH
        && !between
            .chars()
            .any(|c| matches!(c, ',' | '.' | '!' | '?' | ';' | '，' | '。' | '；' | '\n'))
}

/// The first run of three or more `!`/`?` (folded, so full-width ones count).
fn repeated_marks(f: &str) -> Option<(usize, usize)> {
    let mut run: Option<(usize, usize)> = None;
    for (i, c) in f.char_indices() {
        if matches!(c, '!' | '?') {
            let (s, n) = run.map_or((i, 0), |r| r);
            run = Some((s, n + 1));
            if n + 1 >= 3 {
                let end = f[i..]
                    .char_indices()
                    .find(|&(_, c)| !matches!(c, '!' | '?'))
                    .map_or(f.len(), |(j, _)| i + j);
                return Some((s, end));
            }
        } else {
            run = None;
        }
    }
    None
}

/// A word beginning (ending) with an ASCII letter or digit must not continue another one.
fn stands_alone(f: &str, s: usize, e: usize, word: &str) -> bool {
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let starts = alnum(word.chars().next());
    let ends = alnum(word.chars().last());
    !(starts && alnum(f[..s].chars().next_back()) || ends && alnum(f[e..].chars().next()))
}

#[cfg(test)]
mod tests;
