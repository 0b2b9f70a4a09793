//! Sensitive words and personal data: pure matching, no I/O.
//!
//! A [`Screen`] is compiled from rules. Each rule has a pattern — a word list, or one of the
//! checksummed [`Detector`]s — and one [`Action`]:
//!
//! - `mask`: the match is replaced by `*` before the message is stored, so it is stored and
//!   shown masked (card, ID and mobile numbers keep their first 3 and last 4 digits);
//! - `block`: an agent's reply containing it is refused;
//! - `flag`: the match is recorded on the message;
//! - `route`: the conversation is handed to a team (e.g. risk control).
//!
//! Word lists match on folded text (see [`fold`]): full-width forms, case and separators
//! inside a word ("微 信", "微-信", "ｖ ｘ") do not hide a word. A word that begins or ends
//! with an ASCII letter or digit must not continue into another one ("vx" is not found in
//! "vxlan"). Matching is one Aho-Corasick pass for all words plus the detectors' pass.
//!
//! Built in: ID and card numbers are masked unless a rule names their detector (a disabled
//! rule turns that off).

mod detect;
pub mod fold;

pub use detect::{Detector, cn_id_valid, detect, luhn_valid};

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};
use serde::{Deserialize, Serialize};

use fold::{Folded, fold_word};

/// What a rule does with a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Action {
    /// Stored and shown masked.
    Mask,
    /// An agent's reply containing it is refused.
    Block,
    /// Recorded on the message.
    Flag,
    /// The conversation goes to this team.
    Route {
        /// The team.
        team_id: i64,
    },
}

impl Action {
    /// Its name in the API.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mask => "mask",
            Self::Block => "block",
            Self::Flag => "flag",
            Self::Route { .. } => "route",
        }
    }
}

/// What a rule looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// Any of these words.
    Words(Vec<String>),
    /// Personal data of this kind.
    Detector(Detector),
}

/// One rule, as the screen is compiled from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSpec {
    /// The stored rule's id (`None` for a built-in).
    pub id: Option<i64>,
    /// What to call it in findings and errors.
    pub name: String,
    /// What it looks for.
    pub pattern: Pattern,
    /// What it does.
    pub action: Action,
}

/// One match of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule's id (`None` for a built-in).
    pub rule_id: Option<i64>,
    /// The rule's name.
    pub rule: String,
    /// The word of the list that matched, or the detector's name (never the personal data).
    pub term: String,
    /// What the rule does.
    #[serde(flatten)]
    pub action: Action,
    /// Byte range in the text scanned.
    #[serde(skip)]
    pub span: (usize, usize),
}

/// Compiled rules; cheap to share, scanning takes no lock.
#[derive(Debug, Clone)]
pub struct Screen {
    rules: Vec<RuleSpec>,
    words: Option<AhoCorasick>,
    /// For each pattern of `words`: the folded word and the rules that list it.
    owners: Vec<(String, Vec<usize>)>,
    detectors: HashMap<Detector, Vec<usize>>,
}

impl Screen {
    /// Compiles `rules`, adding the built-in masks for ID and card numbers where no rule
    /// names those detectors. Empty words are ignored.
    pub fn new(mut rules: Vec<RuleSpec>, named_detectors: &[Detector]) -> Self {
        for d in [Detector::CnId, Detector::BankCard] {
            if !named_detectors.contains(&d) {
                rules.push(RuleSpec {
                    id: None,
                    name: d.name().into(),
                    pattern: Pattern::Detector(d),
                    action: Action::Mask,
                });
            }
        }
        let mut owners: Vec<(String, Vec<usize>)> = Vec::new();
        let mut detectors: HashMap<Detector, Vec<usize>> = HashMap::new();
        for (i, rule) in rules.iter().enumerate() {
            match &rule.pattern {
                Pattern::Words(words) => {
                    for w in words {
                        let folded = fold_word(w);
                        if folded.is_empty() {
                            continue;
                        }
                        match owners.iter_mut().find(|(f, _)| *f == folded) {
                            Some((_, o)) => o.push(i),
                            None => owners.push((folded, vec![i])),
                        }
                    }
                }
                Pattern::Detector(d) => detectors.entry(*d).or_default().push(i),
            }
        }
        let words = (!owners.is_empty())
            .then(|| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(owners.iter().map(|(f, _)| f.as_str()))
                    .ok()
            })
            .flatten();
        Self {
            rules,
            words,
            owners,
            detectors,
        }
    }

    /// Whether it has nothing to look for.
    pub fn is_empty(&self) -> bool {
        self.owners.is_empty() && self.detectors.is_empty()
    }

    /// Every match in `text`, in order of position.
    pub fn scan(&self, text: &str) -> Vec<Finding> {
        let mut out = Vec::new();
        let finding = |rule: usize, term: String, span: (usize, usize)| {
            let r = &self.rules[rule];
            Finding {
                rule_id: r.id,
                rule: r.name.clone(),
                term,
                action: r.action,
                span,
            }
        };
        if let Some(ac) = &self.words {
            let folded = Folded::new(text, true);
            for m in ac.find_iter(&folded.text) {
                let (word, rules) = &self.owners[m.pattern().as_usize()];
                let (s, e) = folded.original_span(m.start(), m.end());
                if !bounded(text, s, e, word) {
                    continue;
                }
                out.extend(rules.iter().map(|&r| finding(r, word.clone(), (s, e))));
            }
        }
        if !self.detectors.is_empty() {
            let folded = Folded::new(text, false);
            for (d, s, e) in detect::detect(&folded.text) {
                let span = folded.original_span(s, e);
                if let Some(rules) = self.detectors.get(&d) {
                    out.extend(rules.iter().map(|&r| finding(r, d.name().into(), span)));
                }
            }
        }
        out.sort_by_key(|f| f.span);
        out
    }

    /// `text` with the spans of `mask` findings replaced by `*`.
    pub fn mask(text: &str, findings: &[Finding]) -> String {
        let mut spans: Vec<(usize, usize, bool)> = findings
            .iter()
            .filter(|f| f.action == Action::Mask)
            .map(|f| (f.span.0, f.span.1, f.term == "email" || is_number(&f.term)))
            .collect();
        spans.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (s, e, partial) in spans {
            if s < at || e > text.len() || !text.is_char_boundary(s) || !text.is_char_boundary(e) {
                continue; // overlaps a span already masked
            }
            out.push_str(&text[at..s]);
            out.push_str(&masked(&text[s..e], partial));
            at = e;
        }
        out.push_str(&text[at..]);
        out
    }
}

fn is_number(term: &str) -> bool {
    matches!(term, "cn_id" | "bank_card" | "mobile")
}

/// A masked form: a number keeps its first 3 and last 4 digits, an email its first character
/// and domain, anything else becomes all `*` (separators kept).
fn masked(s: &str, partial: bool) -> String {
    if let (true, Some(at)) = (partial, s.find('@')) {
        let first: String = s.chars().take(1).collect();
        return format!("{first}***{}", &s[at..]);
    }
    let digits = s.chars().filter(|c| c.is_alphanumeric()).count();
    let mut seen = 0;
    s.chars()
        .map(|c| {
            if fold::is_separator(c) && !c.is_alphanumeric() {
                return c;
            }
            seen += 1;
            if partial && (seen <= 3 || seen > digits.saturating_sub(4)) {
                c
            } else {
                '*'
            }
        })
        .collect()
}

/// `text` with every piece of personal data any [`Detector`] finds replaced by the detector's
/// name in brackets (`[mobile]`, `[email]`, `[cn_id]`, `[bank_card]`), whole: for text that
/// leaves the conversation it was written in, such as a proposed knowledge-base entry.
pub fn redact(text: &str) -> String {
    redact_with(text, |d| match d {
        Detector::CnId => "[cn_id]",
        Detector::BankCard => "[bank_card]",
        Detector::Mobile => "[mobile]",
        Detector::Email => "[email]",
    })
}

/// `text` with every piece of personal data any [`Detector`] finds (on width-folded text, so
/// full-width digits count) replaced whole by `placeholder(detector)`: nothing of the
/// original is kept, unlike masking.
pub fn redact_with(text: &str, placeholder: impl Fn(Detector) -> &'static str) -> String {
    let folded = Folded::new(text, false);
    let mut spans: Vec<(usize, usize, Detector)> = detect::detect(&folded.text)
        .into_iter()
        .map(|(d, s, e)| {
            let (s, e) = folded.original_span(s, e);
            (s, e, d)
        })
        .collect();
    spans.sort_unstable_by_key(|&(s, e, _)| (s, e));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e, d) in spans {
        if s < at || e > text.len() || !text.is_char_boundary(s) || !text.is_char_boundary(e) {
            continue; // inside a span already redacted
        }
        out.push_str(&text[at..s]);
        out.push_str(placeholder(d));
        at = e;
    }
    out.push_str(&text[at..]);
    out
}

/// A word that begins (ends) with an ASCII letter or digit must not be preceded (followed) by
/// one in the original text.
fn bounded(text: &str, s: usize, e: usize, word: &str) -> bool {
    let alnum = |c: Option<char>| c.is_some_and(|c| fold::to_half_width(c).is_ascii_alphanumeric());
    let starts = alnum(word.chars().next());
    let ends = alnum(word.chars().last());
    !(starts && alnum(text[..s].chars().next_back()) || ends && alnum(text[e..].chars().next()))
}

#[cfg(test)]
mod tests;
