//! Intents (issue 23): [`IntentStore`] keeps named intents with example phrases; matching lives
//! in `kefu-ai` (`kefu_ai::IntentDetector`), which indexes every example phrase and finds the
//! intent nearest to a customer's first message.
//!
//! An intent's `name` is a slug (`refund`, `order-status`) that routing rules name in
//! `when.intent` and the conversation API shows; it is fixed once created, like a custom
//! attribute's key, so a rename cannot silently disable a rule. The label, the examples and
//! `enabled` may change. The intent detected for a conversation is stored on the conversation
//! (`conversations.intent`, with the [`IntentMatch`] behind it in `intent_match`) by the
//! dispatcher, in the transaction that routes it.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::db::Db;
use crate::entity::intent;
use crate::error::StoreError;

/// The longest name, in characters.
pub const MAX_NAME_CHARS: usize = 50;
/// The longest label, in characters.
pub const MAX_LABEL_CHARS: usize = 100;
/// The most example phrases of one intent.
pub const MAX_EXAMPLES: usize = 200;
/// The longest example phrase, in characters.
pub const MAX_EXAMPLE_CHARS: usize = 300;

/// An intent as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IntentView {
    /// The intent's id.
    pub id: i64,
    /// A unique slug (`refund`): lower-case letters, digits, `_` and `-`, starting with a
    /// letter or digit. Fixed once created.
    pub name: String,
    /// What the console shows, e.g. "Refund request".
    pub label: String,
    /// Phrases customers use for it, in any language; each is matched on its own.
    pub examples: Vec<String>,
    /// Disabled intents are not detected (routing rules naming them do not match).
    pub enabled: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<&intent::Model> for IntentView {
    fn from(m: &intent::Model) -> Self {
        Self {
            id: m.id,
            name: m.name.clone(),
            label: m.label.clone(),
            examples: serde_json::from_value(m.examples.clone()).unwrap_or_default(),
            enabled: m.enabled,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A new intent, or every field of one (`POST`, `PUT`; `PUT` must keep the name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntentInput {
    /// A slug of 1 to 50 characters: `a`–`z`, `0`–`9`, `_`, `-`.
    pub name: String,
    /// 1 to 100 characters; the name when left out.
    #[serde(default)]
    pub label: Option<String>,
    /// 1 to 200 phrases, each at most 300 characters (blank ones and repeats are dropped).
    pub examples: Vec<String>,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
}

impl IntentInput {
    /// Trimmed and checked; `Invalid` starts with the field's name.
    pub fn checked(mut self) -> Result<Self, StoreError> {
        let bad = |m: &str| Err(StoreError::Invalid(m.to_owned()));
        self.name = self.name.trim().to_owned();
        if !is_slug(&self.name) {
            return bad(
                "name must be 1 to 50 characters of a-z, 0-9, _ and -, starting with a letter or digit",
            );
        }
        let label = self.label.as_deref().map(str::trim).unwrap_or_default();
        let label = if label.is_empty() { &self.name } else { label };
        if label.chars().count() > MAX_LABEL_CHARS {
            return bad("label must be at most 100 characters");
        }
        self.label = Some(label.to_owned());
        let mut examples: Vec<String> = Vec::new();
        for e in &self.examples {
            let e = e.split_whitespace().collect::<Vec<_>>().join(" ");
            if !e.is_empty() && !examples.contains(&e) {
                examples.push(e);
            }
        }
        if examples.is_empty() {
            return bad("examples must list at least one phrase");
        }
        if examples.len() > MAX_EXAMPLES {
            return bad("examples may list at most 200 phrases");
        }
        if examples
            .iter()
            .any(|e| e.chars().count() > MAX_EXAMPLE_CHARS)
        {
            return bad("each of examples must be at most 300 characters");
        }
        self.examples = examples;
        Ok(self)
    }
}

/// Whether `s` is an intent name: 1 to [`MAX_NAME_CHARS`] of `a-z0-9_-`, not starting with
/// `_` or `-`.
pub fn is_slug(s: &str) -> bool {
    let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    s.len() <= MAX_NAME_CHARS
        && s.chars().next().is_some_and(ok)
        && s.chars().all(|c| ok(c) || c == '_' || c == '-')
}

/// The intent detected in a conversation's first customer message, and why: stored with the
/// conversation (`intent_match`) and shown by the conversation API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IntentMatch {
    /// The winning intent's name; `None` when no intent was close enough or clear enough.
    pub intent: Option<String>,
    /// The best candidate's score, 0 to 1 (its nearest example's similarity).
    pub score: f32,
    /// How far the best candidate is ahead of the next intent.
    pub margin: f32,
    /// The closest intents, best first, with their scores.
    pub candidates: Vec<IntentCandidate>,
    /// The customer message it was detected in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<i64>,
    /// When it was detected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detected_at: Option<DateTime<Utc>>,
    /// `llm` when the language model named the intent because the local score was unsure;
    /// absent when the local index decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// One intent the detector weighed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IntentCandidate {
    /// The intent's name.
    pub intent: String,
    /// Its score, 0 to 1.
    pub score: f32,
}

/// What changes when an intent changes: whether a detector's index is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    /// How many intents exist.
    pub count: u64,
    /// The latest change.
    pub updated_at: Option<DateTime<Utc>>,
}

/// Reads and writes intents.
#[derive(Debug, Clone)]
pub struct IntentStore {
    db: Db,
}

impl IntentStore {
    /// The store over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Every intent, by name.
    pub async fn list(&self) -> Result<Vec<IntentView>, StoreError> {
        let rows = intent::Entity::find()
            .order_by_asc(intent::Column::Name)
            .all(self.db.conn())
            .await?;
        Ok(rows.iter().map(IntentView::from).collect())
    }

    /// Every intent's name (enabled or not).
    pub async fn names(&self) -> Result<Vec<String>, StoreError> {
        Ok(intent::Entity::find()
            .select_only()
            .column(intent::Column::Name)
            .order_by_asc(intent::Column::Name)
            .into_tuple()
            .all(self.db.conn())
            .await?)
    }

    /// How many intents exist and when the latest changed: a deletion lowers the count, any
    /// other change moves the time.
    pub async fn fingerprint(&self) -> Result<Fingerprint, StoreError> {
        let count = intent::Entity::find().count(self.db.conn()).await?;
        let latest = intent::Entity::find()
            .order_by_desc(intent::Column::UpdatedAt)
            .one(self.db.conn())
            .await?;
        Ok(Fingerprint {
            count,
            updated_at: latest.map(|m| m.updated_at),
        })
    }

    /// Intent `id`.
    pub async fn get(&self, id: i64) -> Result<IntentView, StoreError> {
        Ok(IntentView::from(&self.row(id).await?))
    }

    /// Adds an intent; `Conflict` when the name is taken.
    pub async fn create(&self, input: IntentInput) -> Result<IntentView, StoreError> {
        let input = input.checked()?;
        let taken = intent::Entity::find()
            .filter(intent::Column::Name.eq(&input.name))
            .count(self.db.conn())
            .await?;
        if taken > 0 {
            return Err(Self::taken(&input.name));
        }
        let now = Utc::now();
        let name = input.name.clone();
        let row = intent::ActiveModel {
            name: Set(input.name.clone()),
            created_at: Set(now),
            ..Self::fields(input, now)
        }
        .insert(self.db.conn())
        .await
        .map_err(|e| match StoreError::from(e) {
            e if e.is_unique_violation() => Self::taken(&name),
            e => e,
        })?;
        Ok(IntentView::from(&row))
    }

    /// Replaces the label, examples and `enabled` of intent `id`; its name must stay.
    pub async fn update(&self, id: i64, input: IntentInput) -> Result<IntentView, StoreError> {
        let input = input.checked()?;
        let row = self.row(id).await?;
        if input.name != row.name {
            return Err(StoreError::Invalid(format!(
                "name cannot change (routing rules refer to {:?}); create a new intent instead",
                row.name
            )));
        }
        // Strictly later than the last change, so the fingerprint moves even within a clock
        // tick.
        let now = Utc::now().max(row.updated_at + chrono::Duration::milliseconds(1));
        let am = intent::ActiveModel {
            id: Set(row.id),
            name: Set(row.name),
            created_at: Set(row.created_at),
            ..Self::fields(input, now)
        };
        Ok(IntentView::from(&am.update(self.db.conn()).await?))
    }

    /// Deletes intent `id`. Conversations keep the name they were given; rules naming it no
    /// longer match.
    pub async fn delete(&self, id: i64) -> Result<(), StoreError> {
        let res = intent::Entity::delete_by_id(id)
            .exec(self.db.conn())
            .await?;
        if res.rows_affected == 0 {
            return Err(StoreError::NotFound("intent"));
        }
        Ok(())
    }

    async fn row(&self, id: i64) -> Result<intent::Model, StoreError> {
        intent::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
            .ok_or(StoreError::NotFound("intent"))
    }

    fn taken(name: &str) -> StoreError {
        StoreError::Conflict(format!("name: an intent named {name:?} exists"))
    }

    fn fields(input: IntentInput, now: DateTime<Utc>) -> intent::ActiveModel {
        intent::ActiveModel {
            label: Set(input.label.unwrap_or_default()),
            examples: Set(json!(input.examples)),
            enabled: Set(input.enabled.unwrap_or(true)),
            updated_at: Set(now),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, examples: &[&str]) -> IntentInput {
        IntentInput {
            name: name.into(),
            label: None,
            examples: examples.iter().map(|s| (*s).to_owned()).collect(),
            enabled: None,
        }
    }

    #[test]
    fn checks_names_and_examples() {
        let ok = input(
            " refund ",
            &["  我要 退款 ", "我要 退款", "", "refund please"],
        )
        .checked()
        .expect("valid");
        assert_eq!(ok.name, "refund");
        assert_eq!(ok.label.as_deref(), Some("refund"));
        assert_eq!(ok.examples, ["我要 退款", "refund please"]);
        for bad in ["", "Refund", "-refund", "退款", "a b", &"x".repeat(51)] {
            assert!(input(bad, &["x"]).checked().is_err(), "{bad:?}");
        }
        for good in ["refund", "order-status", "order_status", "2fa"] {
            assert!(input(good, &["x"]).checked().is_ok(), "{good:?}");
        }
        let e = input("refund", &[" ", ""])
            .checked()
            .expect_err("no examples");
        assert!(e.to_string().starts_with("examples"), "{e}");
        let long = "很".repeat(301);
        let e = input("refund", &[&long]).checked().expect_err("too long");
        assert!(e.to_string().starts_with("each of examples"), "{e}");
    }
}
