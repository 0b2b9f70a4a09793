//! Intent classification by the model, asked only when the local index is unsure (it named no
//! intent for a first message): the model picks one of the enabled intents, by name, or none.
//! An answer naming an intent that was not offered is refused, so a model cannot invent one a
//! routing rule might match.

use kefu_normalizer::intents::IntentView;
use serde::Deserialize;

use super::LlmError;
use super::client::{ChatMessage, Role};
use super::prompt::{cut, json_of};

/// Example phrases of each intent sent to the model at most.
pub const EXAMPLES_PER_INTENT: usize = 5;
/// How much of the customer's message is sent, in characters.
pub const MAX_TEXT_CHARS: usize = 1_000;

const INSTRUCTIONS: &str = "You classify a customer-support message by its intent. \
Pick the ONE intent from the list that the message expresses, by its name, or null when none fits. \
Never answer a name that is not in the list. \
Placeholders such as [PHONE] or [EMAIL] stand for personal data that was removed. \
Reply with a JSON object only: {\"intent\": \"name\" or null}.";

/// The chat request classifying `text` among the enabled `intents`.
pub fn intent_request(text: &str, intents: &[IntentView]) -> Vec<ChatMessage> {
    let list = intents
        .iter()
        .filter(|i| i.enabled)
        .map(|i| {
            let examples = i
                .examples
                .iter()
                .take(EXAMPLES_PER_INTENT)
                .map(|e| format!("\"{}\"", cut(e, 200)))
                .collect::<Vec<_>>()
                .join(", ");
            format!("- {} ({}): e.g. {examples}", i.name, cut(&i.label, 100))
        })
        .collect::<Vec<_>>()
        .join("\n");
    vec![
        ChatMessage {
            role: Role::System,
            content: INSTRUCTIONS.to_owned(),
        },
        ChatMessage {
            role: Role::User,
            content: format!(
                "Intents:\n{list}\n\nMessage:\n{}",
                cut(text, MAX_TEXT_CHARS)
            ),
        },
    ]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IntentAnswer {
    intent: Option<String>,
}

/// The intent the model named: one of the enabled `intents`, or `None` for none.
pub fn parse_intent(content: &str, intents: &[IntentView]) -> Result<Option<String>, LlmError> {
    let a: IntentAnswer = json_of(content)?;
    let Some(name) = a
        .intent
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
    else {
        return Ok(None);
    };
    if intents.iter().any(|i| i.enabled && i.name == name) {
        Ok(Some(name))
    } else {
        Err(LlmError::BadAnswer(format!(
            "the model named the intent {name:?}, which is not one of those offered"
        )))
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn intent(name: &str, enabled: bool) -> IntentView {
        IntentView {
            id: 1,
            name: name.into(),
            label: name.to_uppercase(),
            examples: vec!["开发票".into(), "I need an invoice".into()],
            enabled,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn the_request_lists_enabled_intents_with_examples() {
        let req = intent_request(
            "公司报销要票",
            &[intent("invoice", true), intent("refund", false)],
        );
        let user = &req[1].content;
        assert!(
            user.contains("- invoice (INVOICE): e.g. \"开发票\", \"I need an invoice\""),
            "{user}"
        );
        assert!(!user.contains("refund"), "{user}");
        assert!(user.ends_with("Message:\n公司报销要票"), "{user}");
    }

    #[test]
    fn only_an_offered_name_or_null_is_accepted() {
        let intents = [intent("invoice", true), intent("refund", false)];
        assert_eq!(
            parse_intent(r#"{"intent": "invoice"}"#, &intents),
            Ok(Some("invoice".into()))
        );
        assert_eq!(parse_intent(r#"{"intent": null}"#, &intents), Ok(None));
        assert_eq!(
            parse_intent("```json\n{\"intent\": \"\"}\n```", &intents),
            Ok(None)
        );
        for bad in [
            r#"{"intent": "refund"}"#,
            r#"{"intent": "shipping"}"#,
            "invoice",
            r#"{"label": "x"}"#,
        ] {
            assert!(
                matches!(parse_intent(bad, &intents), Err(LlmError::BadAnswer(_))),
                "{bad}"
            );
        }
    }
}
