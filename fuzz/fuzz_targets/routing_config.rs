//! An inbox's routing configuration as `PUT /api/v1/inboxes/{id}/routing` receives it
//! ([`parse_checked`]), and the rules run against a first message ([`try_message`]).
//!
//! Input: the configuration's JSON, optionally followed by a NUL byte and a message text (the
//! seeds are plain JSON files). Properties: parsing and validation never panic; a refusal says
//! why; an accepted configuration survives its own serialization unchanged (what the API
//! stores and returns is what it accepted); evaluating it against a message never panics and
//! reports every rule once, in order.

#![no_main]

use kefu_dispatcher::routing::{FirstMessage, parse_checked, try_message};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

/// Messages tried when the input brings none.
const MESSAGES: &[&str] = &["I want a refund", "我要退款，谢谢", "Привет", ""];

fuzz_target!(|data: &[u8]| {
    let (config, text) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], Some(&data[at + 1..])),
        None => (data, None),
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(config) else {
        return;
    };
    let config = match parse_checked(value) {
        Ok(c) => c,
        Err(rejection) => {
            assert!(!rejection.detail.is_empty());
            assert!(rejection.field.as_deref().is_none_or(|f| !f.is_empty()));
            return;
        }
    };
    let stored = serde_json::to_value(&config).expect("a routing configuration serializes");
    let reread = parse_checked(stored.clone())
        .unwrap_or_else(|e| panic!("the stored form {stored} is refused: {e}"));
    assert_eq!(
        reread, config,
        "the stored form {stored} reads back differently"
    );

    let attributes = json!({"vip_level": 3, "country": "CN", "plan": "pro"});
    let text = text.map(String::from_utf8_lossy);
    let texts: Vec<&str> = match &text {
        Some(t) => vec![t.as_ref()],
        None => MESSAGES.to_vec(),
    };
    for text in texts {
        for channel in ["wechat", "email"] {
            let msg = FirstMessage {
                text,
                channel,
                contact_attributes: &attributes,
                intent: None,
            };
            let trial = try_message(&config, &msg);
            assert_eq!(trial.rules.len(), config.rules.len());
            for (i, rule) in trial.rules.iter().enumerate() {
                assert_eq!(rule.index, i);
                assert_eq!(rule.matched, !rule.why.is_empty());
            }
        }
    }
});
