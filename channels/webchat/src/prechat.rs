//! The optional pre-chat form of a web chat inbox: before a visitor's first message the
//! widget asks for their name, email and the inbox's own text fields. The `welcome` of a
//! visitor without a conversation carries the form (`pre_chat`); the widget answers with a
//! `pre_chat {name?, email?, fields: {key: value}}` frame, which the socket checks here. The
//! answers travel with the visitor's messages ([`ExternalIdentity`](kefu_channel::ExternalIdentity)):
//! the name and email land on the contact, the other fields in its `attributes` under their keys.

use std::collections::BTreeMap;

use kefu_channel::ExternalIdentity;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Longest answer kept, in characters.
pub const MAX_ANSWER_CHARS: usize = 500;
/// The most custom fields a form may have.
pub const MAX_FIELDS: usize = 10;

/// Whether the form asks for a standard field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ask {
    /// Not asked.
    #[schemars(extend("x-i18n" = {"zh-CN": {"description": "不询问"}}))]
    #[default]
    Off,
    /// Asked; may be left empty.
    #[schemars(extend("x-i18n" = {"zh-CN": {"description": "询问，可不填"}}))]
    Optional,
    /// Asked and required.
    #[schemars(extend("x-i18n" = {"zh-CN": {"description": "询问，必须填写"}}))]
    Required,
}

/// A text field of the inbox's own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PreChatField {
    /// The contact attribute the answer is stored under (`order_number`): lower-case letters,
    /// digits and `_`, starting with a letter.
    pub key: String,
    /// What the visitor reads (`Order number`).
    pub label: String,
    /// Whether the visitor must answer.
    #[serde(default)]
    pub required: bool,
}

/// A web chat inbox's pre-chat form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
#[schemars(extend("x-i18n" = {"zh-CN": {"title": "聊天前表单", "description": "访客发送第一条消息前填写的信息：姓名、邮箱和自定义文本字段（保存到联系人的属性中）。"}}))]
pub struct PreChatForm {
    /// # Ask before the first message
    /// Shows the form to visitors who have not written yet.
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "在第一条消息前询问", "description": "向尚未发送消息的访客显示此表单。"}}))]
    pub enabled: bool,
    /// # Name
    /// Whether the form asks for the visitor's name.
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "姓名", "description": "表单是否询问访客的姓名。"}}))]
    pub name: Ask,
    /// # Email
    /// Whether the form asks for the visitor's email address.
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "邮箱", "description": "表单是否询问访客的邮箱地址。"}}))]
    pub email: Ask,
    /// # Other fields
    /// Text fields of your own, as `[{"key": "order_number", "label": "Order number",
    /// "required": true}]`; answers are stored in the contact's attributes under `key`.
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "其他字段", "description": "自定义文本字段，例如 [{\"key\": \"order_number\", \"label\": \"订单号\", \"required\": true}]；回答保存在联系人属性的 key 下。"}}))]
    pub fields: Vec<PreChatField>,
}

/// What a visitor answered, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answers {
    /// The name, when asked and given.
    pub name: Option<String>,
    /// The email, when asked and given.
    pub email: Option<String>,
    /// The custom fields' answers by key.
    pub attributes: Map<String, Value>,
}

impl Answers {
    /// The sender of a visitor's message: the pre-chat answers, when given, land on the contact
    /// (name, email, the rest as attributes); else the name the website gave, if any.
    pub fn sender(
        answers: Option<&Self>,
        external_id: &str,
        name: Option<&String>,
    ) -> ExternalIdentity {
        let mut who = ExternalIdentity::new(external_id);
        who.display_name = answers
            .and_then(|a| a.name.clone())
            .or_else(|| name.cloned());
        if let Some(a) = answers {
            who.email = a.email.clone();
            who.attributes = a.attributes.clone();
        }
        who
    }
}

/// A refused answer: the field (`name`, `email` or a custom key) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The field.
    pub field: String,
    /// Why, in a sentence.
    pub detail: String,
}

fn valid_key(k: &str) -> bool {
    k.len() <= 40
        && k.starts_with(|c: char| c.is_ascii_lowercase())
        && k.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A plausible email address: one `@`, something before it, a dot in the domain, no spaces.
pub fn plausible_email(e: &str) -> bool {
    let Some((user, domain)) = e.split_once('@') else {
        return false;
    };
    !user.is_empty()
        && e.len() <= 254
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl PreChatForm {
    /// Checks the form's settings; the error names the field.
    pub fn check(&self) -> Result<(), String> {
        if self.fields.len() > MAX_FIELDS {
            return Err(format!("pre_chat.fields: at most {MAX_FIELDS} fields"));
        }
        for (i, f) in self.fields.iter().enumerate() {
            if !valid_key(&f.key) || f.key == "name" || f.key == "email" {
                return Err(format!(
                    "pre_chat.fields[{i}].key: {:?} must be lower-case letters, digits and _, start with a letter, at most 40 characters, and not name or email",
                    f.key
                ));
            }
            if self.fields[..i].iter().any(|g| g.key == f.key) {
                return Err(format!(
                    "pre_chat.fields[{i}].key: {:?} is used twice",
                    f.key
                ));
            }
            let n = f.label.trim().chars().count();
            if n == 0 || n > 80 {
                return Err(format!(
                    "pre_chat.fields[{i}].label: must have 1 to 80 characters"
                ));
            }
        }
        Ok(())
    }

    /// Whether the form has anything to ask.
    pub fn asks(&self) -> bool {
        self.enabled && (self.name != Ask::Off || self.email != Ask::Off || !self.fields.is_empty())
    }

    /// Checks a visitor's answers: required ones present, the email plausible, no unknown
    /// fields, each answer at most [`MAX_ANSWER_CHARS`] characters.
    pub fn accept(
        &self,
        name: Option<String>,
        email: Option<String>,
        fields: BTreeMap<String, String>,
    ) -> Result<Answers, Refused> {
        let refuse = |field: &str, detail: String| Refused {
            field: field.to_owned(),
            detail,
        };
        let take = |field: &str, ask: bool, required: bool, v: Option<String>| {
            let v = v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
            match v {
                None if ask && required => Err(refuse(field, format!("{field} is required"))),
                Some(s) if s.chars().count() > MAX_ANSWER_CHARS => Err(refuse(
                    field,
                    format!("{field} may have at most {MAX_ANSWER_CHARS} characters"),
                )),
                v if ask => Ok(v),
                _ => Ok(None),
            }
        };
        let name = take(
            "name",
            self.name != Ask::Off,
            self.name == Ask::Required,
            name,
        )?;
        let email = take(
            "email",
            self.email != Ask::Off,
            self.email == Ask::Required,
            email,
        )?;
        if let Some(e) = &email
            && !plausible_email(e)
        {
            return Err(refuse("email", format!("{e:?} is not an email address")));
        }
        if let Some(k) = fields
            .keys()
            .find(|k| !self.fields.iter().any(|f| &f.key == *k))
        {
            return Err(refuse(k, format!("the form has no field {k:?}")));
        }
        let mut attributes = Map::new();
        for f in &self.fields {
            if let Some(v) = take(&f.key, true, f.required, fields.get(&f.key).cloned())? {
                attributes.insert(f.key.clone(), Value::String(v));
            }
        }
        Ok(Answers {
            name,
            email,
            attributes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> PreChatForm {
        PreChatForm {
            enabled: true,
            name: Ask::Required,
            email: Ask::Optional,
            fields: vec![PreChatField {
                key: "order_number".into(),
                label: "Order number".into(),
                required: true,
            }],
        }
    }

    fn answers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn answers_are_checked_and_trimmed() {
        let f = form();
        assert!(f.check().is_ok() && f.asks());
        let ok = f
            .accept(
                Some(" Li Lei ".into()),
                None,
                answers(&[("order_number", "A-1")]),
            )
            .expect("valid");
        assert_eq!(ok.name.as_deref(), Some("Li Lei"));
        assert_eq!(ok.email, None);
        assert_eq!(ok.attributes["order_number"], "A-1");
        for (name, email, fields, field) in [
            (None, None, answers(&[("order_number", "1")]), "name"),
            (Some("Li"), None, answers(&[]), "order_number"),
            (
                Some("Li"),
                Some("li.example.com"),
                answers(&[("order_number", "1")]),
                "email",
            ),
            (
                Some("Li"),
                None,
                answers(&[("order_number", "1"), ("vip", "y")]),
                "vip",
            ),
        ] {
            let e = f
                .accept(name.map(Into::into), email.map(Into::into), fields)
                .expect_err(field);
            assert_eq!(e.field, field, "{}", e.detail);
        }
    }

    #[test]
    fn the_console_gets_choices_in_both_languages() {
        let schema = kefu_channel::settings_schema::<crate::WebChatSettings>().to_string();
        for needle in [
            "pre_chat",
            "Asked and required.",
            "询问，必须填写",
            "聊天前表单",
        ] {
            assert!(schema.contains(needle), "{needle}: {schema}");
        }
    }

    #[test]
    fn bad_forms_are_refused_with_the_field() {
        for (fields, needle) in [
            (vec![("Order", "Order")], "fields[0].key"),
            (vec![("email", "Email")], "fields[0].key"),
            (vec![("a", "A"), ("a", "B")], "fields[1].key"),
            (vec![("a", " ")], "fields[0].label"),
        ] {
            let f = PreChatForm {
                fields: fields
                    .into_iter()
                    .map(|(k, l)| PreChatField {
                        key: k.into(),
                        label: l.into(),
                        required: false,
                    })
                    .collect(),
                ..form()
            };
            let e = f.check().expect_err(needle);
            assert!(e.contains(needle), "{e}");
        }
        assert!(!PreChatForm::default().asks());
    }
}
