//! [`CustomAttributes`]: the definitions of contacts' custom attributes, and the check that a
//! value matches its definition ([`check_value`]).
//!
//! A definition names a key of `contacts.attributes` (snake_case, unique), the label the
//! console shows, and the kind of value it takes: `text` (at most 1,000 characters), `number`
//! (a JSON number), `date` (`YYYY-MM-DD`), `list` (one of `options`), `checkbox` (a bool) or
//! `link` (an http or https URL). The values stay in `contacts.attributes`, where routing rules
//! read them. A key and its kind are fixed once created; the label and the options may change.
//! Deleting a definition leaves the values contacts carry (routing may still use them); they
//! can no longer be edited through the API.

use std::collections::BTreeSet;

use chrono::{NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::db::Db;
use crate::entity::custom_attribute::{self, AttributeKind};
use crate::error::StoreError;

/// The longest key, in characters.
pub const MAX_KEY_CHARS: usize = 50;
/// The longest label, in characters.
pub const MAX_LABEL_CHARS: usize = 100;
/// The longest `text` value, in characters.
pub const MAX_TEXT_CHARS: usize = 1_000;
/// The most options a `list` may have.
pub const MAX_OPTIONS: usize = 100;
/// The longest option, in characters.
pub const MAX_OPTION_CHARS: usize = 100;

/// A custom attribute definition as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CustomAttributeView {
    /// Definition id.
    pub id: i64,
    /// The key in a contact's `attributes` (snake_case, unique).
    pub key: String,
    /// What the console shows.
    pub label: String,
    /// What kind of value it takes (`type` in the API).
    #[serde(rename = "type")]
    pub kind: AttributeKind,
    /// For `list`: the values allowed, in order; empty otherwise.
    pub options: Vec<String>,
    /// When it was defined.
    pub created_at: chrono::DateTime<Utc>,
}

impl From<&custom_attribute::Model> for CustomAttributeView {
    fn from(m: &custom_attribute::Model) -> Self {
        Self {
            id: m.id,
            key: m.key.clone(),
            label: m.label.clone(),
            kind: m.kind,
            options: serde_json::from_value(m.options.clone()).unwrap_or_default(),
            created_at: m.created_at,
        }
    }
}

/// Why a definition or an attribute value was refused.
#[derive(Debug, thiserror::Error)]
pub enum AttributeError {
    /// A field of a definition (or of a contact) is unacceptable (422, about `field`).
    #[error("{detail}")]
    Invalid {
        /// The request field.
        field: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// A contact's attribute has no definition (422, about `attributes.<key>`).
    #[error(
        "attribute {0:?} is not defined; an admin defines it under Settings → Custom attributes"
    )]
    Unknown(String),
    /// A value does not match its definition (422, about `attributes.<key>`).
    #[error("attribute {key:?} ({kind}): {reason}")]
    BadValue {
        /// The attribute.
        key: String,
        /// Its kind's name.
        kind: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// Another definition has this key (409, about `key`).
    #[error("an attribute with the key {0:?} exists")]
    KeyTaken(String),
    /// Not found, or the database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for AttributeError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Store(e.into())
    }
}

impl AttributeError {
    fn invalid(field: &'static str, detail: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            detail: detail.into(),
        }
    }
}

/// The name of `kind` as the API spells it.
pub fn kind_name(kind: AttributeKind) -> &'static str {
    match kind {
        AttributeKind::Text => "text",
        AttributeKind::Number => "number",
        AttributeKind::Date => "date",
        AttributeKind::List => "list",
        AttributeKind::Checkbox => "checkbox",
        AttributeKind::Link => "link",
    }
}

/// A key as stored: snake_case (`[a-z][a-z0-9_]*`), 1–50 characters.
pub fn check_key(key: &str) -> Result<String, AttributeError> {
    let ok = key.len() <= MAX_KEY_CHARS
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(key.to_owned())
    } else {
        Err(AttributeError::invalid(
            "key",
            format!(
                "key {key:?} must be snake_case: a lower-case letter, then letters, digits or _, \
                 at most {MAX_KEY_CHARS} characters"
            ),
        ))
    }
}

fn check_label(label: &str) -> Result<String, AttributeError> {
    let label = label.trim();
    if label.is_empty()
        || label.chars().count() > MAX_LABEL_CHARS
        || label.contains(char::is_control)
    {
        return Err(AttributeError::invalid(
            "label",
            format!("label must be 1 to {MAX_LABEL_CHARS} characters"),
        ));
    }
    Ok(label.to_owned())
}

/// The options of a definition of `kind`: for `list`, 1–100 distinct non-blank values; for any
/// other kind, none.
fn check_options(kind: AttributeKind, options: &[String]) -> Result<Vec<String>, AttributeError> {
    if kind != AttributeKind::List {
        return if options.is_empty() {
            Ok(Vec::new())
        } else {
            Err(AttributeError::invalid(
                "options",
                "only a list attribute takes options",
            ))
        };
    }
    if options.is_empty() || options.len() > MAX_OPTIONS {
        return Err(AttributeError::invalid(
            "options",
            format!("a list attribute needs 1 to {MAX_OPTIONS} options"),
        ));
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(options.len());
    for o in options {
        let o = o.trim();
        if o.is_empty() || o.chars().count() > MAX_OPTION_CHARS || o.contains(char::is_control) {
            return Err(AttributeError::invalid(
                "options",
                format!("each option must be 1 to {MAX_OPTION_CHARS} characters"),
            ));
        }
        if !seen.insert(o.to_owned()) {
            return Err(AttributeError::invalid(
                "options",
                format!("the option {o:?} is given twice"),
            ));
        }
        out.push(o.to_owned());
    }
    Ok(out)
}

/// `value` as stored for the attribute `def`, or why it does not fit. Text is trimmed.
pub fn check_value(def: &CustomAttributeView, value: &Value) -> Result<Value, AttributeError> {
    let bad = |reason: String| AttributeError::BadValue {
        key: def.key.clone(),
        kind: kind_name(def.kind),
        reason,
    };
    let text = || value.as_str().map(str::trim);
    match def.kind {
        AttributeKind::Text => match text() {
            Some(s) if s.chars().count() <= MAX_TEXT_CHARS => Ok(Value::String(s.to_owned())),
            Some(_) => Err(bad(format!("must be at most {MAX_TEXT_CHARS} characters"))),
            None => Err(bad(format!("must be a string, not {value}"))),
        },
        AttributeKind::Number => match value {
            Value::Number(_) => Ok(value.clone()),
            _ => Err(bad(format!("must be a JSON number, not {value}"))),
        },
        AttributeKind::Date => match text() {
            Some(s) if s.len() == 10 && NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() => {
                Ok(Value::String(s.to_owned()))
            }
            _ => Err(bad(format!("must be a date as YYYY-MM-DD, not {value}"))),
        },
        AttributeKind::List => match text() {
            Some(s) if def.options.iter().any(|o| o == s) => Ok(Value::String(s.to_owned())),
            _ => Err(bad(format!(
                "must be one of {}, not {value}",
                def.options
                    .iter()
                    .map(|o| format!("{o:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        },
        AttributeKind::Checkbox => match value {
            Value::Bool(_) => Ok(value.clone()),
            _ => Err(bad(format!("must be true or false, not {value}"))),
        },
        AttributeKind::Link => match text() {
            Some(s) if is_web_link(s) => Ok(Value::String(s.to_owned())),
            _ => Err(bad(format!("must be an http or https URL, not {value}"))),
        },
    }
}

/// An absolute `http(s)://host...` URL of at most 2,000 characters, without spaces.
fn is_web_link(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    s.len() <= 2_000
        && !s.contains(|c: char| c.is_whitespace() || c.is_control())
        && host.is_some_and(|h| !h.is_empty() && !h.starts_with(':'))
}

/// A new definition.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAttribute {
    /// snake_case, unique; the key in contacts' `attributes`.
    pub key: String,
    /// What the console shows (1–100 characters).
    pub label: String,
    /// What kind of value it takes (`type` in the API).
    #[serde(rename = "type")]
    pub kind: AttributeKind,
    /// For `list`: the values allowed (1–100, distinct).
    #[serde(default)]
    pub options: Vec<String>,
}

/// Changes to a definition: the key and the kind stay.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttributePatch {
    /// A new label.
    pub label: Option<String>,
    /// New options (list only). Contacts keep values that are no longer offered.
    pub options: Option<Vec<String>>,
}

/// The definition store.
#[derive(Debug, Clone)]
pub struct CustomAttributes {
    db: Db,
}

impl CustomAttributes {
    /// A store over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Defines an attribute; `KeyTaken` when the key exists.
    pub async fn create(&self, new: &NewAttribute) -> Result<CustomAttributeView, AttributeError> {
        let key = check_key(&new.key)?;
        let label = check_label(&new.label)?;
        let options = check_options(new.kind, &new.options)?;
        if self.by_key(&key).await?.is_some() {
            return Err(AttributeError::KeyTaken(key));
        }
        let now = Utc::now();
        let row = custom_attribute::ActiveModel {
            key: Set(key.clone()),
            label: Set(label),
            kind: Set(new.kind),
            options: Set(serde_json::json!(options)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(self.db.conn())
        .await
        .map_err(|e| match StoreError::from(e) {
            e if e.is_unique_violation() => AttributeError::KeyTaken(key),
            e => e.into(),
        })?;
        Ok(CustomAttributeView::from(&row))
    }

    /// Every definition, oldest first (the order the contact panel shows them in).
    pub async fn list(&self) -> Result<Vec<CustomAttributeView>, StoreError> {
        Ok(custom_attribute::Entity::find()
            .order_by_asc(custom_attribute::Column::Id)
            .all(self.db.conn())
            .await?
            .iter()
            .map(CustomAttributeView::from)
            .collect())
    }

    /// One definition.
    pub async fn get(&self, id: i64) -> Result<CustomAttributeView, StoreError> {
        Ok(CustomAttributeView::from(&self.row(id).await?))
    }

    async fn row(&self, id: i64) -> Result<custom_attribute::Model, StoreError> {
        custom_attribute::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
            .ok_or(StoreError::NotFound("custom attribute"))
    }

    /// Defines `key` as a `text` attribute labelled `label` unless a definition of `key`
    /// exists (of whatever kind): for answers a form collects (the web chat pre-chat form), so
    /// that the contact panel shows them. Returns whether it defined one.
    pub async fn define_text(&self, key: &str, label: &str) -> Result<bool, AttributeError> {
        if self.by_key(key).await?.is_some() {
            return Ok(false);
        }
        let new = NewAttribute {
            key: key.to_owned(),
            label: label.to_owned(),
            kind: AttributeKind::Text,
            options: Vec::new(),
        };
        match self.create(&new).await {
            Ok(_) => Ok(true),
            // Defined meanwhile by another request: what was wanted.
            Err(AttributeError::KeyTaken(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn by_key(&self, key: &str) -> Result<Option<custom_attribute::Model>, StoreError> {
        Ok(custom_attribute::Entity::find()
            .filter(custom_attribute::Column::Key.eq(key))
            .one(self.db.conn())
            .await?)
    }

    /// Changes a definition's label or options.
    pub async fn update(
        &self,
        id: i64,
        patch: &AttributePatch,
    ) -> Result<CustomAttributeView, AttributeError> {
        let row = self.row(id).await?;
        let label = patch.label.as_deref().map(check_label).transpose()?;
        let options = patch
            .options
            .as_deref()
            .map(|o| check_options(row.kind, o))
            .transpose()?;
        let mut am: custom_attribute::ActiveModel = row.into();
        if let Some(l) = label {
            am.label = Set(l);
        }
        if let Some(o) = options {
            am.options = Set(serde_json::json!(o));
        }
        am.updated_at = Set(Utc::now());
        let row = am.update(self.db.conn()).await.map_err(StoreError::from)?;
        Ok(CustomAttributeView::from(&row))
    }

    /// Deletes a definition. Contacts keep their values under the key.
    pub async fn delete(&self, id: i64) -> Result<(), StoreError> {
        self.row(id).await?;
        custom_attribute::Entity::delete_by_id(id)
            .exec(self.db.conn())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn def(kind: AttributeKind) -> CustomAttributeView {
        CustomAttributeView {
            id: 1,
            key: "k".into(),
            label: "K".into(),
            kind,
            options: vec!["gold".into(), "silver".into()],
            created_at: Utc::now(),
        }
    }

    #[test]
    fn values_must_match_their_kind() {
        use AttributeKind as K;
        let cases = [
            (K::Text, json!(" hi "), Some(json!("hi"))),
            (
                K::Text,
                json!("x".repeat(1_000)),
                Some(json!("x".repeat(1_000))),
            ),
            (K::Text, json!("x".repeat(1_001)), None),
            (K::Text, json!(3), None),
            (K::Number, json!(3), Some(json!(3))),
            (K::Number, json!(2.5), Some(json!(2.5))),
            (K::Number, json!("3"), None),
            (K::Date, json!("2026-02-28"), Some(json!("2026-02-28"))),
            (K::Date, json!("2026-02-30"), None),
            (K::Date, json!("2026-2-3"), None),
            (K::Date, json!(20260228), None),
            (K::List, json!("gold"), Some(json!("gold"))),
            (K::List, json!("bronze"), None),
            (K::Checkbox, json!(true), Some(json!(true))),
            (K::Checkbox, json!("true"), None),
            (
                K::Link,
                json!("https://example.com/a?b"),
                Some(json!("https://example.com/a?b")),
            ),
            (K::Link, json!("http://x"), Some(json!("http://x"))),
            (K::Link, json!("javascript:alert(1)"), None),
            (K::Link, json!("https://"), None),
            (K::Link, json!("https://a b"), None),
        ];
        for (kind, value, want) in cases {
            let got = check_value(&def(kind), &value).ok();
            assert_eq!(got, want, "{kind:?} {value}");
        }
    }

    #[test]
    fn a_refused_value_names_the_attribute_and_the_kind() {
        let e = check_value(&def(AttributeKind::Number), &json!("ten"))
            .expect_err("not a number")
            .to_string();
        assert!(e.contains("\"k\"") && e.contains("number"), "{e}");
    }

    #[test]
    fn keys_are_snake_case() {
        for ok in ["vip_level", "a", "plan2"] {
            assert!(check_key(ok).is_ok(), "{ok}");
        }
        for bad in ["", "VIP", "2fa", "vip-level", "vip level", &"a".repeat(51)] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_lists_take_options_and_they_are_distinct() {
        assert!(check_options(AttributeKind::Text, &["a".into()]).is_err());
        assert!(check_options(AttributeKind::List, &[]).is_err());
        assert!(check_options(AttributeKind::List, &["a".into(), " a ".into()]).is_err());
        assert_eq!(
            check_options(AttributeKind::List, &[" a ".into(), "b".into()]).ok(),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
    }
}
