//! Sensitive-word and personal-data rules (issue 23): [`SensitiveRules`] stores them, checked on
//! the way in. Matching lives in `kefu-ai` (`kefu_ai::sensitive`); ingest applies the rules
//! through [`InboundScreen`](crate::screen::InboundScreen).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::db::Db;
use crate::entity::{sensitive_rule, team};
use crate::error::StoreError;

/// Longest rule name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Most words in one rule.
pub const MAX_WORDS: usize = 1000;
/// Longest word, in characters.
pub const MAX_WORD_CHARS: usize = 50;

/// Personal data a rule can look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DetectorKind {
    /// Chinese resident ID numbers (GB 11643 checksum).
    CnId,
    /// Bank card numbers (Luhn checksum); `card` is accepted too.
    #[serde(alias = "card")]
    BankCard,
    /// Mainland China mobile numbers; `phone` is accepted too.
    #[serde(alias = "phone")]
    Mobile,
    /// Email addresses.
    Email,
}

impl DetectorKind {
    /// Its name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CnId => "cn_id",
            Self::BankCard => "bank_card",
            Self::Mobile => "mobile",
            Self::Email => "email",
        }
    }
}

/// What a rule does with a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleAction {
    /// Customer messages are stored and shown masked.
    Mask,
    /// Agents' replies containing it are refused.
    Block,
    /// Recorded on the customer's message.
    Flag,
    /// The conversation is handed to `team_id`.
    Route,
}

/// A rule as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SensitiveRuleView {
    /// The rule's id.
    pub id: i64,
    /// A name shown in findings and errors.
    pub name: String,
    /// The words it looks for (empty for a detector rule).
    pub words: Vec<String>,
    /// The personal data it looks for, instead of words.
    pub detector: Option<DetectorKind>,
    /// What it does with a match.
    pub action: RuleAction,
    /// The team a `route` rule hands conversations to.
    pub team_id: Option<i64>,
    /// Disabled rules look for nothing (a disabled detector rule also turns off that
    /// detector's built-in mask).
    pub enabled: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<&sensitive_rule::Model> for SensitiveRuleView {
    fn from(m: &sensitive_rule::Model) -> Self {
        fn parse<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
            serde_json::from_value(json!(s)).ok()
        }
        Self {
            id: m.id,
            name: m.name.clone(),
            words: serde_json::from_value(m.words.clone()).unwrap_or_default(),
            detector: m.detector.as_deref().and_then(parse),
            action: parse(&m.action).unwrap_or(RuleAction::Flag),
            team_id: m.team_id,
            enabled: m.enabled,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A new rule, or every field of one (`POST`, `PUT`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SensitiveRuleInput {
    /// 1 to 100 characters; when left out, the rule is named after its pattern, first word or
    /// detector.
    #[serde(default)]
    pub name: Option<String>,
    /// Words to look for (up to 1000, each up to 50 characters); give these, `pattern` or
    /// `detector`.
    #[serde(default)]
    pub words: Vec<String>,
    /// One word to look for: the same as `words: [pattern]`, and may be given beside `words`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Personal data to look for; give this or `words`.
    #[serde(default)]
    pub detector: Option<DetectorKind>,
    /// What to do with a match.
    pub action: RuleAction,
    /// Required for `route`, refused otherwise.
    #[serde(default)]
    pub team_id: Option<i64>,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
}

impl SensitiveRuleInput {
    /// Trimmed and checked; `Invalid` names the field.
    pub fn checked(mut self) -> Result<Self, StoreError> {
        let bad = |m: &str| Err(StoreError::Invalid(m.to_owned()));
        if let Some(p) = self.pattern.take() {
            if p.trim().is_empty() {
                return bad("pattern must not be empty");
            }
            self.words.insert(0, p);
        }
        self.words = self
            .words
            .iter()
            .map(|w| w.trim().to_owned())
            .filter(|w| !w.is_empty())
            .collect();
        self.words.dedup();
        let name = match self.name.as_deref().map(str::trim) {
            Some(n) => n.to_owned(),
            None => match (self.words.first(), self.detector) {
                (Some(w), _) => w.chars().take(MAX_NAME_CHARS).collect(),
                (None, Some(d)) => d.as_str().to_owned(),
                // Refused below for want of words or a detector.
                (None, None) => "-".to_owned(),
            },
        };
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return bad("name must be 1 to 100 characters");
        }
        self.name = Some(name);
        if self.words.len() > MAX_WORDS {
            return bad("words may list at most 1000 words");
        }
        if self
            .words
            .iter()
            .any(|w| w.chars().count() > MAX_WORD_CHARS)
        {
            return bad("each of words must be at most 50 characters");
        }
        match (self.words.is_empty(), self.detector) {
            (true, None) => return bad("words, pattern or detector must be given"),
            (false, Some(_)) => return bad("detector cannot be given together with words"),
            _ => {}
        }
        match (self.action, self.team_id) {
            (RuleAction::Route, None) => return bad("team_id is required for a route rule"),
            (RuleAction::Route, Some(_)) | (_, None) => {}
            (_, Some(_)) => return bad("team_id is only for a route rule"),
        }
        Ok(self)
    }
}

/// Reads and writes the rules.
#[derive(Debug, Clone)]
pub struct SensitiveRules {
    db: Db,
}

impl SensitiveRules {
    /// The store over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Every rule, oldest first.
    pub async fn list(&self) -> Result<Vec<SensitiveRuleView>, StoreError> {
        let rows = sensitive_rule::Entity::find()
            .order_by_asc(sensitive_rule::Column::Id)
            .all(self.db.conn())
            .await?;
        Ok(rows.iter().map(SensitiveRuleView::from).collect())
    }

    /// Rule `id`.
    pub async fn get(&self, id: i64) -> Result<SensitiveRuleView, StoreError> {
        Ok(SensitiveRuleView::from(&self.row(id).await?))
    }

    /// Adds a rule.
    pub async fn create(&self, input: SensitiveRuleInput) -> Result<SensitiveRuleView, StoreError> {
        let input = self.checked(input).await?;
        let now = Utc::now();
        let row = sensitive_rule::ActiveModel {
            created_at: Set(now),
            ..Self::fields(input, now)
        }
        .insert(self.db.conn())
        .await?;
        Ok(SensitiveRuleView::from(&row))
    }

    /// Replaces every field of rule `id`.
    pub async fn update(
        &self,
        id: i64,
        input: SensitiveRuleInput,
    ) -> Result<SensitiveRuleView, StoreError> {
        let input = self.checked(input).await?;
        let row = self.row(id).await?;
        let am = sensitive_rule::ActiveModel {
            id: Set(row.id),
            created_at: Set(row.created_at),
            ..Self::fields(input, Utc::now())
        };
        Ok(SensitiveRuleView::from(&am.update(self.db.conn()).await?))
    }

    /// Deletes rule `id`.
    pub async fn delete(&self, id: i64) -> Result<(), StoreError> {
        let res = sensitive_rule::Entity::delete_by_id(id)
            .exec(self.db.conn())
            .await?;
        if res.rows_affected == 0 {
            return Err(StoreError::NotFound("sensitive rule"));
        }
        Ok(())
    }

    async fn row(&self, id: i64) -> Result<sensitive_rule::Model, StoreError> {
        sensitive_rule::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
            .ok_or(StoreError::NotFound("sensitive rule"))
    }

    async fn checked(&self, input: SensitiveRuleInput) -> Result<SensitiveRuleInput, StoreError> {
        let input = input.checked()?;
        if let Some(t) = input.team_id
            && team::Entity::find_by_id(t)
                .one(self.db.conn())
                .await?
                .is_none()
        {
            return Err(StoreError::Invalid(format!("team_id {t} is not a team")));
        }
        Ok(input)
    }

    fn fields(input: SensitiveRuleInput, now: DateTime<Utc>) -> sensitive_rule::ActiveModel {
        let name = |v: serde_json::Value| v.as_str().unwrap_or_default().to_owned();
        sensitive_rule::ActiveModel {
            name: Set(input.name.unwrap_or_default()),
            words: Set(json!(input.words)),
            detector: Set(input.detector.map(|d| name(json!(d)))),
            action: Set(name(json!(input.action))),
            team_id: Set(input.team_id),
            enabled: Set(input.enabled.unwrap_or(true)),
            updated_at: Set(now),
            ..Default::default()
        }
    }
}
