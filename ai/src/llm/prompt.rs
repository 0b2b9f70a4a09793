//! What is asked of the model and how its answers are checked: drafts grounded in knowledge
//! base entries, and conversation summaries, each answered as a JSON object of a fixed shape.
//! An answer that does not fit the shape is an [`LlmError::BadAnswer`]; the caller falls back
//! (no draft, the extractive summary).

use std::collections::BTreeSet;

use kefu_normalizer::summaries::{
    Speaker, SummaryBody, SummaryFacts, SummaryInput, SummaryMessage, SummarySentence,
};
use serde::Deserialize;

use super::LlmError;
use super::client::{ChatMessage, Role};

/// The source name of summaries a language model wrote.
pub const SOURCE: &str = "llm";
/// How many of the newest messages a draft request carries.
pub const DRAFT_MESSAGES: usize = 20;
/// How much of one message is sent, in characters.
pub const MAX_MESSAGE_CHARS: usize = 2_000;
/// How much of the conversation a summary request carries at most, in characters (the newest).
pub const MAX_SUMMARY_INPUT_CHARS: usize = 24_000;
/// Sentences a model-written summary has at most.
pub const MAX_SENTENCES: usize = 5;
/// The longest sentence (and open question) accepted from the model, in characters.
pub const MAX_SENTENCE_CHARS: usize = 400;

/// A knowledge base entry a draft may use.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// The entry's id, which the draft cites.
    pub knowledge_id: i64,
    /// Its question.
    pub question: String,
    /// Its answer.
    pub answer: String,
}

/// A draft reply and the entries it rests on.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// The reply text.
    pub text: String,
    /// The ids of the entries it cites, each one of those given.
    pub citations: Vec<i64>,
}

const DRAFT_INSTRUCTIONS: &str = "You draft replies for a customer-support agent, who reviews them before sending. \
Answer the customer's latest message using ONLY the knowledge base entries given, never other knowledge. \
Write in the customer's language, briefly and politely. \
If the entries do not answer the question, say in the reply that you will check and come back, and cite nothing. \
Placeholders such as [PHONE] or [EMAIL] stand for personal data that was removed; never invent it. \
Reply with a JSON object only: {\"answer\": \"the reply text\", \"citations\": [ids of the entries the answer uses]}.";

const SUMMARY_INSTRUCTIONS: &str = "You summarize a customer-support conversation for the next agent or a record. \
Reply with a JSON object only, exactly of this shape: \
{\"sentences\": [{\"speaker\": \"customer\" | \"agent\" | \"bot\", \"text\": \"one short sentence\"}], \"open_question\": \"the customer's question still unanswered\" or null}. \
Give 1 to 5 sentences in the conversation's language, in the order things happened, each under 300 characters, \
saying what the customer wanted and what was done. \
Placeholders such as [PHONE] or [EMAIL] stand for personal data that was removed; keep them as they are.";

fn speaker_name(s: Speaker) -> &'static str {
    match s {
        Speaker::Customer => "Customer",
        Speaker::Agent => "Agent",
        Speaker::Bot => "Bot",
    }
}

pub(super) fn cut(text: &str, max: usize) -> String {
    let mut out: String = text.trim().chars().take(max).collect();
    if out.len() < text.trim().len() {
        out.push('…');
    }
    out
}

/// One line per message, `Customer: ...`, newest last.
fn transcript(messages: &[SummaryMessage]) -> String {
    messages
        .iter()
        .filter(|m| !m.text.trim().is_empty())
        .map(|m| {
            format!(
                "{}: {}",
                speaker_name(m.speaker),
                cut(&m.text, MAX_MESSAGE_CHARS)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The chat request for a draft answering the end of `thread` from `sources`.
pub fn draft_request(sources: &[Source], thread: &[SummaryMessage]) -> Vec<ChatMessage> {
    let recent = &thread[thread.len().saturating_sub(DRAFT_MESSAGES)..];
    let entries = sources
        .iter()
        .map(|s| {
            format!(
                "[{}] Q: {}\nA: {}",
                s.knowledge_id,
                cut(&s.question, MAX_MESSAGE_CHARS),
                cut(&s.answer, MAX_MESSAGE_CHARS)
            )
        })
        .collect::<Vec<_>>()
        .join("\n\n");
    vec![
        ChatMessage {
            role: Role::System,
            content: DRAFT_INSTRUCTIONS.to_owned(),
        },
        ChatMessage {
            role: Role::User,
            content: format!(
                "Knowledge base entries:\n{entries}\n\nConversation:\n{}",
                transcript(recent)
            ),
        },
    ]
}

/// The model's answer as a JSON value: the whole text, or inside a Markdown code fence.
pub(super) fn json_of<T: for<'de> Deserialize<'de>>(content: &str) -> Result<T, LlmError> {
    let mut text = content.trim();
    if let Some(rest) = text.strip_prefix("```") {
        let rest = rest.trim_start_matches("json");
        text = rest.trim_end().trim_end_matches("```").trim();
    }
    serde_json::from_str(text)
        .map_err(|e| LlmError::BadAnswer(format!("the answer is not the JSON asked for: {e}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DraftAnswer {
    answer: String,
    #[serde(default)]
    citations: Vec<i64>,
}

/// The draft in the model's answer. Citations of entries that were not given are dropped
/// (a model inventing a source must not make it look grounded); an empty answer is refused.
pub fn parse_draft(content: &str, sources: &[Source]) -> Result<Draft, LlmError> {
    let a: DraftAnswer = json_of(content)?;
    let text = a.answer.trim().to_owned();
    if text.is_empty() {
        return Err(LlmError::BadAnswer("the draft is empty".into()));
    }
    let given: BTreeSet<i64> = sources.iter().map(|s| s.knowledge_id).collect();
    let mut citations = Vec::new();
    for id in a.citations {
        if given.contains(&id) && !citations.contains(&id) {
            citations.push(id);
        }
    }
    Ok(Draft { text, citations })
}

/// The chat request for a summary of `input`: the newest messages up to
/// [`MAX_SUMMARY_INPUT_CHARS`].
pub fn summary_request(input: &SummaryInput) -> Vec<ChatMessage> {
    let mut take = 0;
    let mut size = 0;
    for m in input.messages.iter().rev() {
        size += m.text.chars().count().min(MAX_MESSAGE_CHARS) + 12;
        if size > MAX_SUMMARY_INPUT_CHARS && take > 0 {
            break;
        }
        take += 1;
    }
    let newest = &input.messages[input.messages.len() - take..];
    vec![
        ChatMessage {
            role: Role::System,
            content: SUMMARY_INSTRUCTIONS.to_owned(),
        },
        ChatMessage {
            role: Role::User,
            content: format!("Conversation:\n{}", transcript(newest)),
        },
    ]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SummaryAnswer {
    sentences: Vec<SentenceAnswer>,
    open_question: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SentenceAnswer {
    speaker: Speaker,
    text: String,
}

/// The summary in the model's answer, checked against the schema: 1 to [`MAX_SENTENCES`]
/// sentences, each with a known speaker and a non-empty text of at most
/// [`MAX_SENTENCE_CHARS`]. The facts are `facts` (computed here, not by the model), with the
/// model's open question.
pub fn parse_summary(content: &str, facts: SummaryFacts) -> Result<SummaryBody, LlmError> {
    let a: SummaryAnswer = json_of(content)?;
    if a.sentences.is_empty() || a.sentences.len() > MAX_SENTENCES {
        return Err(LlmError::BadAnswer(format!(
            "a summary has 1 to {MAX_SENTENCES} sentences, not {}",
            a.sentences.len()
        )));
    }
    let fits = |t: &str| !t.trim().is_empty() && t.trim().chars().count() <= MAX_SENTENCE_CHARS;
    let mut sentences = Vec::new();
    for s in a.sentences {
        if !fits(&s.text) {
            return Err(LlmError::BadAnswer(format!(
                "a summary sentence must have 1 to {MAX_SENTENCE_CHARS} characters"
            )));
        }
        sentences.push(SummarySentence {
            speaker: s.speaker,
            text: s.text.trim().to_owned(),
        });
    }
    let open_question = match a.open_question {
        Some(q) if q.trim().is_empty() => None,
        Some(q) if !fits(&q) => {
            return Err(LlmError::BadAnswer(format!(
                "the open question must have at most {MAX_SENTENCE_CHARS} characters"
            )));
        }
        q => q.map(|q| q.trim().to_owned()),
    };
    Ok(SummaryBody {
        source: SOURCE.to_owned(),
        facts: SummaryFacts {
            open_question,
            ..facts
        },
        sentences,
        llm_error: None,
    })
}

#[cfg(test)]
#[path = "prompt_tests.rs"]
mod tests;
