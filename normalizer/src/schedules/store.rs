//! [`Schedules`]: the stored schedules. A definition is checked by [`Hours::parse`] and
//! stored in the spelling it gives back (times `HH:MM`, intervals and dates sorted), so what
//! `GET` shows is what the calculator reads.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::hours::{Hours, HoursError, Weekly};
use crate::db::Db;
use crate::entity::{inbox, schedule};
use crate::error::StoreError;

/// The longest schedule name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// A schedule's definition, as `POST` and `PUT /api/v1/schedules` take it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    /// Unique name, 1–100 characters.
    pub name: String,
    /// IANA time zone the hours and dates are in, e.g. `Asia/Shanghai`.
    pub time_zone: String,
    /// Opening intervals per weekday; a day left out is closed.
    #[serde(default)]
    pub weekly: Weekly,
    /// Closed dates, `YYYY-MM-DD`.
    #[serde(default)]
    pub holidays: Vec<String>,
    /// Dates worked although their weekday is closed (China's 调休), `YYYY-MM-DD`. They are
    /// worked with Monday's hours, or the first weekday after Monday that has hours.
    #[serde(default)]
    pub extra_workdays: Vec<String>,
}

/// A stored schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScheduleView {
    /// Schedule id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// IANA time zone.
    pub time_zone: String,
    /// Opening intervals per weekday, `HH:MM`, sorted.
    pub weekly: Weekly,
    /// Closed dates, sorted.
    pub holidays: Vec<String>,
    /// Make-up working dates, sorted.
    pub extra_workdays: Vec<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// An inbox's schedule is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed {
    /// When it opens next; `None` when it does not open within a year or so.
    pub next_open: Option<DateTime<Utc>>,
}

/// Why a schedule operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// The name is blank or too long (422, about `name`).
    #[error("name must be 1 to {MAX_NAME_CHARS} characters")]
    Name,
    /// The hours, zone or dates are wrong (422); [`HoursError::field`] names the field.
    #[error(transparent)]
    Hours(#[from] HoursError),
    /// Another schedule has this name (409, about `name`).
    #[error("a schedule named {0:?} exists")]
    NameTaken(String),
    /// Inboxes keep this schedule (409 `schedule_in_use`): `(id, name)` of each.
    #[error("the schedule is used by {}; choose another schedule for them first", inbox_list(.0))]
    InUse(Vec<(i64, String)>),
    /// Not found, or the database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for ScheduleError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Store(e.into())
    }
}

fn inbox_list(inboxes: &[(i64, String)]) -> String {
    let names: Vec<String> = inboxes
        .iter()
        .map(|(id, name)| format!("inbox {id} ({name:?})"))
        .collect();
    names.join(", ")
}

/// The schedule store.
#[derive(Debug, Clone)]
pub struct Schedules {
    db: Db,
}

impl Schedules {
    /// A store over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Stores a new schedule.
    pub async fn create(&self, spec: &ScheduleSpec) -> Result<ScheduleView, ScheduleError> {
        let (name, hours) = check(spec)?;
        self.name_free(&name, None).await?;
        let now = Utc::now();
        let row = schedule::ActiveModel {
            name: Set(name.clone()),
            time_zone: Set(hours.zone().name().to_owned()),
            weekly: Set(serde_json::to_value(hours.weekly()).unwrap_or_default()),
            holidays: Set(hours.holidays().into()),
            extra_workdays: Set(hours.extra_workdays().into()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(self.db.conn())
        .await
        .map_err(|e| taken_or(e, &name))?;
        Ok(view(&row))
    }

    /// Every schedule, by name.
    pub async fn list(&self) -> Result<Vec<ScheduleView>, ScheduleError> {
        Ok(schedule::Entity::find()
            .order_by_asc(schedule::Column::Name)
            .all(self.db.conn())
            .await?
            .iter()
            .map(view)
            .collect())
    }

    /// One schedule.
    pub async fn get(&self, id: i64) -> Result<ScheduleView, ScheduleError> {
        Ok(view(&self.row(id).await?))
    }

    /// Replaces schedule `id`'s definition.
    pub async fn update(
        &self,
        id: i64,
        spec: &ScheduleSpec,
    ) -> Result<ScheduleView, ScheduleError> {
        let row = self.row(id).await?;
        let (name, hours) = check(spec)?;
        self.name_free(&name, Some(id)).await?;
        let mut am: schedule::ActiveModel = row.into();
        am.name = Set(name.clone());
        am.time_zone = Set(hours.zone().name().to_owned());
        am.weekly = Set(serde_json::to_value(hours.weekly()).unwrap_or_default());
        am.holidays = Set(hours.holidays().into());
        am.extra_workdays = Set(hours.extra_workdays().into());
        am.updated_at = Set(Utc::now());
        let row = am
            .update(self.db.conn())
            .await
            .map_err(|e| taken_or(e, &name))?;
        Ok(view(&row))
    }

    /// Deletes schedule `id`, or answers [`ScheduleError::InUse`] naming the live inboxes that
    /// keep it (as their hours, or as their bot's). Deleted inboxes that named it let go of it.
    pub async fn delete(&self, id: i64) -> Result<(), ScheduleError> {
        self.row(id).await?;
        let tx = self.db.begin_write().await?;
        let users = inbox::Entity::find()
            .filter(inbox::Column::ScheduleId.eq(id))
            .order_by_asc(inbox::Column::Id)
            .all(&*tx)
            .await?;
        let mut live: Vec<(i64, String)> = users
            .iter()
            .filter(|i| i.deleted_at.is_none())
            .map(|i| (i.id, i.name.clone()))
            .collect();
        // An inbox's FAQ bot may keep it as its hours, too.
        let bots = inbox::Entity::find()
            .filter(inbox::Column::DeletedAt.is_null())
            .filter(inbox::Column::Bot.is_not_null())
            .order_by_asc(inbox::Column::Id)
            .all(&*tx)
            .await?;
        for i in bots {
            if crate::knowledge::BotSettings::of(&i).schedule_id == Some(id)
                && !live.iter().any(|(l, _)| *l == i.id)
            {
                live.push((i.id, i.name.clone()));
            }
        }
        if !live.is_empty() {
            tx.rollback().await?;
            return Err(ScheduleError::InUse(live));
        }
        if !users.is_empty() {
            inbox::Entity::update_many()
                .col_expr(
                    inbox::Column::ScheduleId,
                    sea_orm::sea_query::Expr::value(Option::<i64>::None),
                )
                .filter(inbox::Column::ScheduleId.eq(id))
                .exec(&*tx)
                .await?;
        }
        schedule::Entity::delete_by_id(id).exec(&*tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// `Some` with the next opening when inbox `inbox_id` keeps a schedule that is closed at
    /// `now`; `None` when it keeps none or the schedule is open.
    pub async fn closed_for_inbox(
        &self,
        inbox_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<Closed>, ScheduleError> {
        let Some(hours) = self.hours_for_inbox(inbox_id).await? else {
            return Ok(None);
        };
        Ok((!hours.is_open(now)).then(|| Closed {
            next_open: hours.next_open(now),
        }))
    }

    /// The hours inbox `inbox_id` keeps; `None` when it keeps no schedule (always open).
    pub async fn hours_for_inbox(&self, inbox_id: i64) -> Result<Option<Hours>, ScheduleError> {
        let Some(schedule_id) = inbox::Entity::find_by_id(inbox_id)
            .one(self.db.conn())
            .await?
            .and_then(|i| i.schedule_id)
        else {
            return Ok(None);
        };
        let Some(row) = schedule::Entity::find_by_id(schedule_id)
            .one(self.db.conn())
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(hours_of(&row)?))
    }

    /// Every schedule's hours by schedule id, in one query, for callers that look at many
    /// inboxes at once. A stored definition that no longer parses is left out (logged), so its
    /// inboxes count as always open rather than stopping the caller.
    pub async fn all_hours(&self) -> Result<HashMap<i64, Hours>, StoreError> {
        let rows = schedule::Entity::find()
            .all(self.db.conn())
            .await
            .map_err(StoreError::from)?;
        Ok(rows
            .iter()
            .filter_map(|r| match hours_of(r) {
                Ok(h) => Some((r.id, h)),
                Err(e) => {
                    tracing::warn!(schedule = r.id, error = %e, "Stored schedule does not parse; ignoring it.");
                    None
                }
            })
            .collect())
    }

    /// Schedule `id`'s hours; `None` when it does not exist or its stored definition no
    /// longer parses (logged), which callers treat as always open.
    pub async fn hours(&self, id: i64) -> Result<Option<Hours>, StoreError> {
        let Some(row) = schedule::Entity::find_by_id(id)
            .one(self.db.conn())
            .await
            .map_err(StoreError::from)?
        else {
            return Ok(None);
        };
        Ok(match hours_of(&row) {
            Ok(h) => Some(h),
            Err(e) => {
                tracing::warn!(schedule = id, error = %e, "Stored schedule does not parse; ignoring it.");
                None
            }
        })
    }

    /// Whether schedule `id` exists.
    pub async fn exists(&self, id: i64) -> Result<bool, ScheduleError> {
        Ok(schedule::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
            .is_some())
    }

    async fn row(&self, id: i64) -> Result<schedule::Model, ScheduleError> {
        schedule::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
            .ok_or(ScheduleError::Store(StoreError::NotFound("schedule")))
    }

    async fn name_free(&self, name: &str, except: Option<i64>) -> Result<(), ScheduleError> {
        let mut q = schedule::Entity::find().filter(schedule::Column::Name.eq(name));
        if let Some(id) = except {
            q = q.filter(schedule::Column::Id.ne(id));
        }
        match q.one(self.db.conn()).await? {
            Some(_) => Err(ScheduleError::NameTaken(name.to_owned())),
            None => Ok(()),
        }
    }
}

/// The trimmed name and the calculator of a definition.
fn check(spec: &ScheduleSpec) -> Result<(String, Hours), ScheduleError> {
    let name = spec.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ScheduleError::Name);
    }
    let hours = Hours::parse(
        &spec.time_zone,
        &spec.weekly,
        &spec.holidays,
        &spec.extra_workdays,
    )?;
    Ok((name.to_owned(), hours))
}

/// The calculator of a stored row.
pub(crate) fn hours_of(row: &schedule::Model) -> Result<Hours, HoursError> {
    let weekly: Weekly = serde_json::from_value(row.weekly.clone()).unwrap_or_default();
    let dates = |v: &serde_json::Value| -> Vec<String> {
        serde_json::from_value(v.clone()).unwrap_or_default()
    };
    Hours::parse(
        &row.time_zone,
        &weekly,
        &dates(&row.holidays),
        &dates(&row.extra_workdays),
    )
}

fn view(row: &schedule::Model) -> ScheduleView {
    let strings = |v: &serde_json::Value| -> Vec<String> {
        serde_json::from_value(v.clone()).unwrap_or_default()
    };
    ScheduleView {
        id: row.id,
        name: row.name.clone(),
        time_zone: row.time_zone.clone(),
        weekly: serde_json::from_value(row.weekly.clone()).unwrap_or_default(),
        holidays: strings(&row.holidays),
        extra_workdays: strings(&row.extra_workdays),
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

/// A unique-index refusal (a concurrent create won the name) as [`ScheduleError::NameTaken`].
fn taken_or(e: sea_orm::DbErr, name: &str) -> ScheduleError {
    if crate::error::is_unique_violation(&e) {
        ScheduleError::NameTaken(name.to_owned())
    } else {
        e.into()
    }
}
