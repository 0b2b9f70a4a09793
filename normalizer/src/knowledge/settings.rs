//! [`BotSettings`]: an inbox's FAQ bot, stored on the inbox as `bot`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::StoreError;

/// What the bot does in an inbox.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BotMode {
    /// Nothing: no answers, no suggestions.
    #[default]
    Off,
    /// Agents see suggested answers; the bot never writes to customers.
    Suggest,
    /// The bot answers confident matches itself and hands the rest to humans.
    Auto,
}

/// Default [`BotSettings::min_score`]. With the default margin, on Kefu's evaluation set
/// (`ai/eval/`), the bot answers about three in four in-scope questions, answers wrong fewer
/// than one in thirty, and hands off all but one of 55 off-topic ones (`AI.md`).
pub const DEFAULT_MIN_SCORE: f32 = 0.35;
/// Default [`BotSettings::min_margin`].
pub const DEFAULT_MIN_MARGIN: f32 = 0.05;
/// Default [`BotSettings::max_answers`].
pub const DEFAULT_MAX_ANSWERS: u32 = 3;

/// An inbox's bot as stored and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BotSettings {
    /// `off`, `suggest` or `auto`.
    pub mode: BotMode,
    /// The best candidate's score must reach this (0 to 1) for the bot to answer.
    pub min_score: f32,
    /// ...and beat the runner-up by at least this much.
    pub min_margin: f32,
    /// After this many answers in a row, the next message goes to a human.
    pub max_answers: u32,
    /// When `auto` was switched on: conversations waiting since before are left to humans.
    pub auto_since: Option<DateTime<Utc>>,
    /// The schedule whose open hours are the bot's hours: outside them the bot hands every
    /// conversation to humans (`outside_hours`). `null`: the bot works around the clock. A
    /// schedule that no longer exists counts as none.
    #[serde(default)]
    pub schedule_id: Option<i64>,
}

impl Default for BotSettings {
    fn default() -> Self {
        Self {
            mode: BotMode::Off,
            min_score: DEFAULT_MIN_SCORE,
            min_margin: DEFAULT_MIN_MARGIN,
            max_answers: DEFAULT_MAX_ANSWERS,
            auto_since: None,
            schedule_id: None,
        }
    }
}

impl BotSettings {
    /// The settings stored on an inbox row (off when none are).
    pub fn of(row: &crate::entity::inbox::Model) -> Self {
        row.bot
            .as_ref()
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }

    /// Whether the bot holds conversations queued at `enqueued_at` (auto mode, and the wait
    /// began once auto was on).
    pub fn holds(&self, enqueued_at: DateTime<Utc>) -> bool {
        self.mode == BotMode::Auto && self.auto_since.is_some_and(|s| enqueued_at >= s)
    }
}

/// `PUT /api/v1/inboxes/{id}/bot`: the mode, and thresholds that keep their current (or
/// default) values when left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BotSettingsInput {
    /// `off`, `suggest` or `auto`.
    pub mode: BotMode,
    /// 0 to 1.
    #[serde(default)]
    pub min_score: Option<f32>,
    /// 0 to 1.
    #[serde(default)]
    pub min_margin: Option<f32>,
    /// 1 to 20.
    #[serde(default)]
    pub max_answers: Option<u32>,
    /// The bot's hours: a stored schedule's id; `null` lets go of it (around the clock), left
    /// out keeps the current one. The caller checks that the schedule exists.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub schedule_id: Option<Option<i64>>,
}

/// `Some(None)` for an explicit `null`, so "absent" and "let go" differ.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Ok(Some(Option::<i64>::deserialize(d)?))
}

impl BotSettingsInput {
    /// `current` changed by this input at `now`; `Invalid` naming the field when a threshold
    /// is out of range.
    pub fn apply(
        self,
        current: &BotSettings,
        now: DateTime<Utc>,
    ) -> Result<BotSettings, StoreError> {
        let unit = |name: &str, v: Option<f32>, old: f32| match v {
            None => Ok(old),
            Some(v) if v.is_finite() && (0.0..=1.0).contains(&v) => Ok(v),
            Some(_) => Err(StoreError::Invalid(format!(
                "{name} must be a number from 0 to 1"
            ))),
        };
        let max_answers = match self.max_answers {
            None => current.max_answers,
            Some(n) if (1..=20).contains(&n) => n,
            Some(_) => {
                return Err(StoreError::Invalid(
                    "max_answers must be from 1 to 20".into(),
                ));
            }
        };
        let auto_since = match (self.mode, current.mode) {
            (BotMode::Auto, BotMode::Auto) => current.auto_since.or(Some(now)),
            (BotMode::Auto, _) => Some(now),
            _ => None,
        };
        Ok(BotSettings {
            mode: self.mode,
            min_score: unit("min_score", self.min_score, current.min_score)?,
            min_margin: unit("min_margin", self.min_margin, current.min_margin)?,
            max_answers,
            auto_since,
            schedule_id: self.schedule_id.unwrap_or(current.schedule_id),
        })
    }
}
