//! [`Contacts`]: an agent's edits to a contact — name, email, phone and custom attributes —
//! written in one transaction that emits `contact.updated` when anything changed.
//!
//! Attributes are a partial map: a key with a value sets it (checked against its definition,
//! [`crate::attributes::check_value`]), a key with `null` removes it, keys not named stay. A
//! key without a definition is refused, so what agents type is always of a known kind; the
//! attributes channels report (`ingest`) are not subject to this.
//!
//! [`Contacts::find`] lists the contacts a viewer sees, newest first, optionally matching a
//! text against name, email, phone and channel identities.

use std::collections::BTreeMap;

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use utoipa::ToSchema;

use crate::access::Visibility;
use crate::attributes::{AttributeError, CustomAttributes};
use crate::db::Db;
use crate::entity::{contact, contact_identity, conversation};
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

impl Contacts {
    /// The contacts `visibility` sees (through their conversations; admins all), newest first,
    /// `limit` at a time after contact id `before`. With `q`, only those whose name, email,
    /// phone or a channel identity (external id or display name) contains it, ignoring ASCII
    /// case, or whose id it is. Contacts merged into another are left out. Returns the page
    /// and the id to continue before, when there may be more.
    pub async fn find(
        &self,
        visibility: &Visibility,
        q: Option<&str>,
        before: Option<i64>,
        limit: u64,
    ) -> Result<(Vec<ContactView>, Option<i64>), StoreError> {
        use contact::Column as C;
        let mut query = contact::Entity::find().filter(C::MergedIntoId.is_null());
        if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
            query = query.filter(matching(q));
        }
        if let Some(cond) = visibility.condition() {
            query = query.filter(
                C::Id.in_subquery(
                    Query::select()
                        .column(conversation::Column::ContactId)
                        .from(conversation::Entity)
                        .cond_where(cond)
                        .to_owned(),
                ),
            );
        }
        if let Some(before) = before {
            query = query.filter(C::Id.lt(before));
        }
        let rows = query
            .order_by_desc(C::Id)
            .limit(limit)
            .all(self.db.conn())
            .await?;
        let ids: Vec<i64> = rows.iter().map(|c| c.id).collect();
        let identities = contact_identity::Entity::find()
            .filter(contact_identity::Column::ContactId.is_in(ids))
            .order_by_asc(contact_identity::Column::Id)
            .all(self.db.conn())
            .await?;
        let next = (rows.len() as u64 == limit)
            .then(|| rows.last().map(|c| c.id))
            .flatten();
        let views = rows
            .iter()
            .map(|c| {
                let own: Vec<_> = identities
                    .iter()
                    .filter(|i| i.contact_id == c.id)
                    .cloned()
                    .collect();
                ContactView::new(c, &own)
            })
            .collect();
        Ok((views, next))
    }
}

/// The condition "contact matches `q`": a case-insensitive substring of a contact field or an
/// identity, or the contact id.
fn matching(q: &str) -> Condition {
    use contact::Column as C;
    // `%` and `_` in what was typed are literal.
    let escaped: String = q
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let pattern = || LikeExpr::new(format!("%{escaped}%")).escape('\\');
    let like = |col: Expr| Expr::expr(Func::lower(col)).like(pattern());
    let identities = Query::select()
        .column(contact_identity::Column::ContactId)
        .from(contact_identity::Entity)
        .cond_where(
            Condition::any()
                .add(like(Expr::col(contact_identity::Column::ExternalId)))
                .add(like(Expr::col(contact_identity::Column::DisplayName))),
        )
        .to_owned();
    let mut any = Condition::any()
        .add(like(Expr::col(C::Name)))
        .add(like(Expr::col(C::Email)))
        .add(like(Expr::col(C::Phone)))
        .add(C::Id.in_subquery(identities));
    if let Ok(id) = q.parse::<i64>() {
        any = any.add(C::Id.eq(id));
    }
    any
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
