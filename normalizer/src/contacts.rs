//! [`Contacts`]: an agent's edits to a contact — name, email, phone and custom attributes —
//! written in one transaction that emits `contact.updated` when anything changed.
//!
//! Attributes are a partial map: a key with a value sets it (checked against its definition,
//! [`crate::attributes::check_value`]), a key with `null` removes it, keys not named stay. A
//! key without a definition is refused, so what agents type is always of a known kind; the
//! attributes channels report (`ingest`) are not subject to this.

use std::collections::BTreeMap;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use utoipa::ToSchema;

use crate::attributes::{AttributeError, CustomAttributes};
use crate::db::Db;
use crate::entity::contact;
use crate::error::StoreError;
use crate::events::EventData;
use crate::views::ContactView;

/// The longest name, in characters.
pub const MAX_NAME_CHARS: usize = 255;

/// Changes to a contact. An absent field stays; `null` (or an empty string) clears it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    /// The name (at most 255 characters).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    /// An email address.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// A phone number: digits with an optional leading `+` and spaces, dashes, dots or
    /// brackets between them; 5 to 15 digits.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    /// Custom attributes to set (each must be defined) or, with `null`, to remove.
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<BTreeMap<String, Value>>,
}

/// `Some(None)` for an explicit `null`, so "absent" and "clear" differ.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::<String>::deserialize(d)?))
}

/// Trimmed; `None` when blank.
fn cleared(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn check_name(v: &Option<String>) -> Result<Option<String>, AttributeError> {
    let name = cleared(v);
    if name
        .as_deref()
        .is_some_and(|n| n.chars().count() > MAX_NAME_CHARS || n.contains(char::is_control))
    {
        return Err(AttributeError::Invalid {
            field: "name",
            detail: format!("name must be at most {MAX_NAME_CHARS} characters"),
        });
    }
    Ok(name)
}

/// The address in lower case, when it looks like one (`local@domain.tld`).
pub fn check_email(v: &Option<String>) -> Result<Option<String>, AttributeError> {
    let Some(e) = cleared(v) else {
        return Ok(None);
    };
    let lower = e.to_lowercase();
    let valid = lower.len() <= 254
        && !lower.contains(|c: char| c.is_whitespace() || c.is_control())
        && lower.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty()
                && !d.contains('@')
                && d.contains('.')
                && !d.starts_with('.')
                && !d.ends_with('.')
        });
    if valid {
        Ok(Some(lower))
    } else {
        Err(AttributeError::Invalid {
            field: "email",
            detail: format!("email {e:?} is not a valid address"),
        })
    }
}

/// The number as given, trimmed, when it is one: an optional `+`, then 5 to 15 digits with
/// spaces, dashes, dots or brackets between them.
pub fn check_phone(v: &Option<String>) -> Result<Option<String>, AttributeError> {
    let Some(p) = cleared(v) else {
        return Ok(None);
    };
    let body = p.strip_prefix('+').unwrap_or(&p);
    let digits = body.chars().filter(char::is_ascii_digit).count();
    let valid = (5..=15).contains(&digits)
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'));
    if valid {
        Ok(Some(p))
    } else {
        Err(AttributeError::Invalid {
            field: "phone",
            detail: format!(
                "phone {p:?} is not a phone number: use digits (5 to 15), an optional leading +, \
                 and spaces or dashes"
            ),
        })
    }
}

/// The contact store.
#[derive(Debug, Clone)]
pub struct Contacts {
    db: Db,
    definitions: CustomAttributes,
}

impl Contacts {
    /// A store over `db`.
    pub fn new(db: Db) -> Self {
        Self {
            definitions: CustomAttributes::new(db.clone()),
            db,
        }
    }

    /// Applies `patch` to contact `id` and emits `contact.updated` when that changed anything.
    /// Every field is checked before anything is written.
    pub async fn update(
        &self,
        id: i64,
        patch: &ContactPatch,
    ) -> Result<ContactView, AttributeError> {
        let name = patch.name.as_ref().map(check_name).transpose()?;
        let email = patch.email.as_ref().map(check_email).transpose()?;
        let phone = patch.phone.as_ref().map(check_phone).transpose()?;
        let mut changes = BTreeMap::new();
        if let Some(attrs) = &patch.attributes {
            let defs = self.definitions.list().await?;
            for (key, value) in attrs {
                let def = defs
                    .iter()
                    .find(|d| &d.key == key)
                    .ok_or_else(|| AttributeError::Unknown(key.clone()))?;
                let value = match value {
                    Value::Null => None,
                    v => Some(crate::attributes::check_value(def, v)?),
                };
                changes.insert(key.clone(), value);
            }
        }

        let tx = self.db.begin_write().await?;
        let row = contact::Entity::find_by_id(id)
            .one(&*tx)
            .await?
            .ok_or(StoreError::NotFound("contact"))?;
        if row.merged_into_id.is_some() {
            return Err(StoreError::Conflict(
                "this contact was merged into another; edit that one".into(),
            )
            .into());
        }
        let mut attrs = row.attributes.as_object().cloned().unwrap_or_default();
        for (key, value) in changes {
            match value {
                Some(v) => attrs.insert(key, v),
                None => attrs.remove(&key),
            };
        }
        let attrs = Value::Object(attrs);
        let name = name.unwrap_or_else(|| row.name.clone());
        let email = email.unwrap_or_else(|| row.email.clone());
        let phone = phone.unwrap_or_else(|| row.phone.clone());
        let changed =
            name != row.name || email != row.email || phone != row.phone || attrs != row.attributes;
        if changed {
            let mut am: contact::ActiveModel = row.into();
            am.name = Set(name);
            am.email = Set(email);
            am.phone = Set(phone);
            am.attributes = Set(attrs);
            am.updated_at = Set(Utc::now());
            am.update(&*tx).await.map_err(StoreError::from)?;
        }
        let view = crate::conversations::contact_view(&*tx, id).await?;
        if changed {
            tx.emit(EventData::ContactUpdated(view.clone())).await?;
        }
        tx.commit().await?;
        Ok(view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Option<String> {
        Some(v.to_owned())
    }

    #[test]
    fn emails_and_phones_are_checked() {
        assert_eq!(
            check_email(&s(" Li@Example.COM ")).ok(),
            Some(s("li@example.com"))
        );
        assert_eq!(check_email(&s("")).ok(), Some(None));
        for bad in ["li", "li@", "@x.cn", "li@x", "l i@x.cn", "a@b@c.cn"] {
            assert!(check_email(&s(bad)).is_err(), "{bad}");
        }
        assert_eq!(
            check_phone(&s("+86 138-0013-8000")).ok(),
            Some(s("+86 138-0013-8000"))
        );
        assert_eq!(
            check_phone(&s("(020) 5555 1234")).ok(),
            Some(s("(020) 5555 1234"))
        );
        for bad in ["1234", "call me", "+86 138 0013 8000 1234 5", "12345+6"] {
            assert!(check_phone(&s(bad)).is_err(), "{bad}");
        }
    }
}
