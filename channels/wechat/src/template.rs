//! Official Account template messages (模板消息): how Kefu reaches a customer whose 48-hour
//! reply window has closed, for messages Kefu itself sends (a notification to the contact), never
//! for an agent's chat reply.
//!
//! `POST /cgi-bin/message/template/send?access_token=` with `{touser, template_id, url?,
//! data: {field: {value}}}`; WeChat answers `{errcode: 0, errmsg: "ok", msgid}`. The template is
//! chosen in the Official Account's console (模板消息 → 我的模板); the inbox setting names it
//! and says what goes into each of its fields.

use std::collections::BTreeMap;

use chrono::{FixedOffset, Utc};
use kefu_channel::{ChannelError, OutboundMessage, SendError, SendReceipt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::api::Api;

/// The longest template id WeChat issues, with room to spare.
const MAX_ID_CHARS: usize = 128;
/// The most fields one template may fill.
const MAX_FIELDS: usize = 20;
/// The longest field value as configured, placeholders included.
const MAX_VALUE_CHARS: usize = 500;

/// The placeholders a field value may use.
pub(crate) const PLACEHOLDERS: &[&str] = &["{{text}}", "{{name}}", "{{time}}"];

/// `template` of a `wechat` inbox: the template message sent instead of a customer-service
/// message when the customer's 48-hour window has closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("x-i18n" = {"zh-CN": {"title": "模板消息", "description": "客户超过 48 小时未发消息时，Kefu 发出的通知改用此模板消息（坐席的聊天回复不会）。"}}))]
pub(crate) struct TemplateSettings {
    /// # Template ID
    /// The template's ID (模板ID) from 模板消息 → 我的模板.
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "模板ID", "description": "「模板消息 → 我的模板」中的模板ID。"}}))]
    pub(crate) template_id: String,
    /// # Fields
    /// What goes into each field of the template, e.g. {"first": "{{text}}", "keyword1":
    /// "{{time}}"}. {{text}} is the notification, {{name}} the customer's name, {{time}} the
    /// time it is sent (China time).
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "字段", "description": "模板各字段的内容，例如 {\"first\": \"{{text}}\", \"keyword1\": \"{{time}}\"}。{{text}} 为通知内容，{{name}} 为客户名称，{{time}} 为发送时间（北京时间）。"}}))]
    pub(crate) fields: BTreeMap<String, String>,
    /// # Link
    /// Where tapping the message leads. Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "跳转链接", "description": "点击消息后打开的网址，可不填。"}}))]
    pub(crate) url: Option<String>,
}

/// The first `{{...}}` in `value` that is not one of [`PLACEHOLDERS`].
fn unknown_placeholder(value: &str) -> Option<&str> {
    let mut rest = value;
    while let Some(start) = rest.find("{{") {
        let tail = &rest[start..];
        let end = tail.find("}}").map_or(tail.len(), |e| e + 2);
        let candidate = &tail[..end];
        if !PLACEHOLDERS.contains(&candidate) {
            return Some(candidate);
        }
        rest = &tail[end..];
    }
    None
}

fn invalid(field: &str, why: &str) -> ChannelError {
    ChannelError::InvalidSettings(format!("template.{field} {why}"))
}

impl TemplateSettings {
    /// Normalizes the setting; the error names the field.
    pub(crate) fn check(&mut self) -> Result<(), ChannelError> {
        self.template_id = self.template_id.trim().to_owned();
        let id = &self.template_id;
        if id.is_empty()
            || id.chars().count() > MAX_ID_CHARS
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(invalid(
                "template_id",
                "must be the template's ID: letters, digits, '_' and '-'",
            ));
        }
        if self.fields.is_empty() || self.fields.len() > MAX_FIELDS {
            return Err(invalid(
                "fields",
                &format!("must fill 1 to {MAX_FIELDS} of the template's fields"),
            ));
        }
        for (name, value) in &self.fields {
            let ok_name = !name.is_empty()
                && name.len() <= 64
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
            if !ok_name {
                return Err(invalid(
                    "fields",
                    &format!("has {name:?}, which is not a template field name"),
                ));
            }
            if let Some(unknown) = unknown_placeholder(value) {
                return Err(invalid(
                    &format!("fields.{name}"),
                    &format!(
                        "uses {unknown}; the placeholders are {}",
                        PLACEHOLDERS.join(", ")
                    ),
                ));
            }
            if value.chars().count() > MAX_VALUE_CHARS {
                return Err(invalid(
                    &format!("fields.{name}"),
                    &format!("must be at most {MAX_VALUE_CHARS} characters"),
                ));
            }
        }
        if let Some(u) = self.url.as_mut() {
            *u = u.trim().to_owned();
            if u.is_empty() {
                self.url = None;
            } else {
                let parsed = url::Url::parse(u).map_err(|e| invalid("url", &e.to_string()))?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(invalid("url", "must be an http or https URL"));
                }
            }
        }
        Ok(())
    }

    /// The API body for `msg`, its placeholders filled.
    pub(crate) fn body(&self, msg: &OutboundMessage) -> Value {
        let china = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
        let time = Utc::now()
            .with_timezone(&china)
            .format("%Y-%m-%d %H:%M")
            .to_string();
        let name = msg.recipient.display_name.as_deref().unwrap_or_default();
        let data: serde_json::Map<String, Value> = self
            .fields
            .iter()
            .map(|(k, v)| {
                let value = v
                    .replace("{{text}}", &msg.content.text)
                    .replace("{{name}}", name)
                    .replace("{{time}}", &time);
                (k.clone(), json!({ "value": value }))
            })
            .collect();
        let mut body = json!({
            "touser": msg.recipient.external_id,
            "template_id": self.template_id,
            "data": data,
        });
        if let Some(u) = &self.url {
            body["url"] = json!(u);
        }
        body
    }

    /// Sends `msg` as this template message. The receipt's details say it went this way.
    pub(crate) async fn send(
        &self,
        api: &Api,
        msg: &OutboundMessage,
    ) -> Result<SendReceipt, SendError> {
        let answer = api
            .post("/cgi-bin/message/template/send", &self.body(msg))
            .await?;
        let msgid = answer.get("msgid").map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        tracing::debug!(message = msg.message_id, "Sent a template message.");
        Ok(SendReceipt {
            provider_ref: msgid,
            delivered: false,
            details: Some(json!({
                "via": "template",
                "template_id": self.template_id,
                "reason": "reply_window_closed",
            })),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(v: Value) -> Result<TemplateSettings, ChannelError> {
        let mut s: TemplateSettings =
            serde_json::from_value(v).map_err(|e| ChannelError::InvalidSettings(e.to_string()))?;
        s.check()?;
        Ok(s)
    }

    #[test]
    fn placeholders_fill_the_fields() {
        let s = settings(json!({
            "template_id": " ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY ",
            "fields": {"first": "{{name}}: {{text}}", "remark": "Thanks"},
            "url": "https://shop.example/orders",
        }))
        .expect("valid");
        let msg = OutboundMessage {
            message_id: 1,
            conversation_id: 2,
            inbox_id: 3,
            recipient: kefu_channel::Recipient {
                external_id: "oOPENID".into(),
                display_name: Some("Ada".into()),
            },
            content: kefu_channel::Content::text("Your order has shipped"),
            agent_name: None,
            references: vec![],
            subject: None,
            conversation_token: None,
            last_inbound_at: None,
            system: true,
        };
        let body = s.body(&msg);
        assert_eq!(body["touser"], "oOPENID");
        assert_eq!(
            body["template_id"],
            "ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY"
        );
        assert_eq!(
            body["data"]["first"]["value"],
            "Ada: Your order has shipped"
        );
        assert_eq!(body["data"]["remark"]["value"], "Thanks");
        assert_eq!(body["url"], "https://shop.example/orders");
    }

    #[test]
    fn errors_name_the_field() {
        for (v, field) in [
            (
                json!({"template_id": "", "fields": {"a": "b"}}),
                "template.template_id",
            ),
            (
                json!({"template_id": "x y", "fields": {"a": "b"}}),
                "template.template_id",
            ),
            (json!({"template_id": "t", "fields": {}}), "template.fields"),
            (
                json!({"template_id": "t", "fields": {"a b": "x"}}),
                "template.fields",
            ),
            (
                json!({"template_id": "t", "fields": {"a": "x"}, "url": "ftp://x"}),
                "template.url",
            ),
            (
                json!({"template_id": "t", "fields": {"a": "{{order}}"}}),
                "template.fields.a",
            ),
            (
                json!({"template_id": "t", "fields": {"a": "{{text"}}),
                "template.fields.a",
            ),
        ] {
            let e = settings(v).expect_err("invalid").to_string();
            assert!(e.contains(field), "{e:?} should name {field}");
        }
    }
}
