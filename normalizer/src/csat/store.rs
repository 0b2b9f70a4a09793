//! [`Surveys`]: asks for ratings and takes them.
//!
//! Each decision is taken in one write transaction under the conversation's lock (asking) or
//! the survey's row (answering), so nodes and a batch relayed twice agree: the unique index on
//! `conversation_id` keeps one survey per conversation, and a token is spent once.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use super::{
    CsatSettings, CsatView, MAX_COMMENT_CHARS, SurveyStatus, TOKEN_TTL, has_menu, question,
    rating_menu,
};
use crate::activities::{NewActivity, record};
use crate::conversations::{NewMessage, append_message, lock};
use crate::db::Db;
use crate::entity::conversation_activity::{self, ActivityKind};
use crate::entity::csat_survey;
use crate::entity::message::{DeliveryStatus, Direction, SenderType};
use crate::entity::{contact, inbox};
use crate::error::StoreError;
use crate::events::EventData;
use crate::status::Status;

/// A conversation just resolved, as [`Surveys::request`] needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    /// The conversation.
    pub conversation_id: i64,
    /// Its inbox, as the resolve event told.
    pub inbox_id: i64,
    /// How long after the customer's last message its channel still lets Kefu write (WeChat:
    /// 48 h); `None` when there is no limit.
    pub reply_window: Option<Duration>,
}

/// Why an answer was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CsatRefusal {
    /// No survey has this token.
    #[error("this rating link is not valid")]
    Unknown,
    /// The token expired.
    #[error("this rating link has expired")]
    Expired,
    /// The survey was answered already.
    #[error("this conversation has been rated already")]
    AlreadySubmitted,
}

impl CsatRefusal {
    /// The machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Unknown => "csat_unknown",
            Self::Expired => "csat_expired",
            Self::AlreadySubmitted => "csat_already_submitted",
        }
    }
}

/// What [`Surveys::submit`] and [`Surveys::comment`] answer.
pub type Submitted = Result<CsatView, CsatRefusal>;

/// The survey store.
#[derive(Debug, Clone)]
pub struct Surveys {
    db: Db,
    public_url: String,
}

impl Surveys {
    /// Surveys over `db`; rating links point at `public_url`.
    pub fn new(db: Db, public_url: impl Into<String>) -> Self {
        Self {
            db,
            public_url: public_url.into(),
        }
    }

    /// Asks the customers of `resolved` conversations to rate them, where the inbox has CSAT
    /// on and the conversation has no survey yet. A conversation reopened meanwhile is not
    /// asked. Where the channel's reply window has closed, the survey is recorded as skipped
    /// with the reason. Returns how many questions were stored; each is an outbound system
    /// message with delivery `pending`, sent by the delivery pipeline like any reply.
    pub async fn request(
        &self,
        resolved: &[Resolved],
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        if resolved.is_empty() {
            return Ok(0);
        }
        // Most installations have CSAT off: one query, and nothing else, tells.
        let asking: Vec<(i64, String, CsatSettings)> = inbox::Entity::find()
            .filter(inbox::Column::DeletedAt.is_null())
            .filter(inbox::Column::Csat.is_not_null())
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(|r| (r.id, r.channel_type.clone(), CsatSettings::of(&r)))
            .filter(|(_, _, s)| s.enabled)
            .collect();
        if asking.is_empty() {
            return Ok(0);
        }
        let mut asked = 0;
        // Only conversations of asking inboxes cost a transaction.
        for r in resolved
            .iter()
            .filter(|r| asking.iter().any(|(id, _, _)| *id == r.inbox_id))
        {
            match self.request_one(r, &asking, now).await {
                Ok(true) => asked += 1,
                Ok(false) | Err(StoreError::NotFound(_)) => {}
                Err(e) if e.is_unique_violation() => {} // another node asked first
                Err(e) => return Err(e),
            }
        }
        Ok(asked)
    }

    async fn request_one(
        &self,
        r: &Resolved,
        asking: &[(i64, String, CsatSettings)],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let tx = self.db.begin_write().await?;
        let conv = lock(&self.db, &tx, r.conversation_id).await?;
        let settings = asking.iter().find(|(id, _, _)| *id == conv.inbox_id);
        let asked_before = csat_survey::Entity::find()
            .filter(csat_survey::Column::ConversationId.eq(conv.id))
            .one(&*tx)
            .await?
            .is_some();
        let Some((_, channel, settings)) =
            settings.filter(|_| conv.status == Status::Resolved && !asked_before)
        else {
            tx.rollback().await?;
            return Ok(false);
        };
        let window_closed = r
            .reply_window
            .is_some_and(|w| conv.last_inbound_at.is_none_or(|t| now - t > w));
        let token = crate::token::random(32);
        let survey = csat_survey::ActiveModel {
            conversation_id: Set(conv.id),
            inbox_id: Set(conv.inbox_id),
            contact_id: Set(conv.contact_id),
            agent_id: Set(conv.assignee_id),
            team_id: Set(conv.team_id),
            channel: Set(channel.clone()),
            status: Set(if window_closed {
                SurveyStatus::Skipped
            } else {
                SurveyStatus::Requested
            }),
            skip_reason: Set(window_closed.then(|| "reply_window_closed".to_owned())),
            token: Set(token.clone()),
            message_id: Set(None),
            rating: Set(None),
            comment: Set(None),
            requested_at: Set(now),
            expires_at: Set(now + TOKEN_TTL),
            submitted_at: Set(None),
            ..Default::default()
        }
        .insert(&*tx)
        .await?;
        if window_closed {
            let line = NewActivity::new(conv.id, ActivityKind::CsatSkipped, None)
                .details(json!({"reason": "reply_window_closed", "channel": channel}));
            record(&*tx, [line], now).await?;
            tx.commit().await?;
            metrics::counter!("kefu_csat_skipped_total").increment(1);
            return Ok(false);
        }
        // The customer's language when the channel told it; WeChat's customers read Chinese.
        let chinese = contact::Entity::find_by_id(conv.contact_id)
            .one(&*tx)
            .await?
            .and_then(|c| {
                let a = &c.attributes;
                a.get("locale")
                    .or_else(|| a.get("language"))
                    .and_then(|l| l.as_str())
                    .map(|l| l.starts_with("zh"))
            })
            .unwrap_or(has_menu(channel));
        let text = question(
            channel,
            &settings.message,
            chinese,
            &self.public_url,
            &token,
        );
        let mut extra = json!({"csat": {"survey_id": survey.id, "token": token}});
        // The app draws the menu's items as buttons; a tap comes back like WeChat's.
        if has_menu(channel) || channel == "app_push" {
            extra["menu"] = rating_menu(survey.id, chinese);
        }
        let msg = append_message(
            &tx,
            &conv,
            NewMessage {
                direction: Direction::Outbound,
                private: false,
                sender_type: SenderType::System,
                sender_id: None,
                sender_name: None,
                text,
                content: json!({"text": "", "extra": extra}),
                dedupe_key: Some(format!("csat:{}", conv.id)),
                message_ref: None,
                delivery_status: DeliveryStatus::Pending,
                fallback: None,
                sentiment: None,
            },
            now,
        )
        .await?;
        let mut am: csat_survey::ActiveModel = survey.into();
        am.message_id = Set(Some(msg.id));
        let survey = am.update(&*tx).await?;
        let line = NewActivity::new(conv.id, ActivityKind::CsatRequested, None)
            .details(json!({"channel": channel}));
        record(&*tx, [line], now).await?;
        tx.emit(EventData::CsatRequested(CsatView::from(&survey)))
            .await?;
        tx.commit().await?;
        metrics::counter!("kefu_csat_requested_total").increment(1);
        Ok(true)
    }

    /// Stores the customer's answer to the survey whose token is `token`: `rating` 1–5 and an
    /// optional comment. `Invalid` for a bad rating or comment; a refusal for an unknown,
    /// expired or already answered token.
    pub async fn submit(
        &self,
        token: &str,
        rating: i64,
        comment: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Submitted, StoreError> {
        if !(1..=5).contains(&rating) {
            return Err(StoreError::Invalid("rating must be between 1 and 5".into()));
        }
        let comment = checked_comment(comment)?;
        let tx = self.db.begin_write().await?;
        let survey = match self.find_open(&tx, token, now).await? {
            Ok(s) => s,
            Err(refusal) => {
                tx.rollback().await?;
                return Ok(Err(refusal));
            }
        };
        let mut am: csat_survey::ActiveModel = survey.into();
        am.status = Set(SurveyStatus::Submitted);
        am.rating = Set(Some(rating as i16));
        am.comment = Set(comment.clone());
        am.submitted_at = Set(Some(now));
        let survey = am.update(&*tx).await?;
        let mut line = NewActivity::new(survey.conversation_id, ActivityKind::CsatSubmitted, None)
            .details(json!({"rating": rating, "comment": comment}));
        if let Some(agent) = survey.agent_id {
            line = line.to_agent(agent);
        }
        record(&*tx, [line], now).await?;
        let view = CsatView::from(&survey);
        tx.emit(EventData::CsatSubmitted(view.clone())).await?;
        tx.commit().await?;
        metrics::counter!("kefu_csat_submitted_total").increment(1);
        Ok(Ok(view))
    }

    /// Adds a comment to a rating given without one (the email page asks after the click).
    /// Refused unless the survey was rated, has no comment yet and has not expired.
    pub async fn comment(
        &self,
        token: &str,
        comment: &str,
        now: DateTime<Utc>,
    ) -> Result<Submitted, StoreError> {
        let Some(comment) = checked_comment(Some(comment))? else {
            return Err(StoreError::Invalid("comment must not be empty".into()));
        };
        let tx = self.db.begin_write().await?;
        let survey = self.locked(&tx, token).await?;
        let refusal = match &survey {
            None => Some(CsatRefusal::Unknown),
            Some(s) if s.expires_at <= now => Some(CsatRefusal::Expired),
            Some(s) if s.status != SurveyStatus::Submitted => Some(CsatRefusal::Unknown),
            Some(s) if s.comment.is_some() => Some(CsatRefusal::AlreadySubmitted),
            Some(_) => None,
        };
        let (Some(survey), None) = (survey, refusal) else {
            tx.rollback().await?;
            return Ok(Err(refusal.unwrap_or(CsatRefusal::Unknown)));
        };
        let mut am: csat_survey::ActiveModel = survey.into();
        am.comment = Set(Some(comment.clone()));
        let survey = am.update(&*tx).await?;
        // The thread's rating line shows the comment too.
        if let Some(line) = conversation_activity::Entity::find()
            .filter(conversation_activity::Column::ConversationId.eq(survey.conversation_id))
            .filter(conversation_activity::Column::Kind.eq(ActivityKind::CsatSubmitted))
            .order_by_desc(conversation_activity::Column::Id)
            .one(&*tx)
            .await?
        {
            let mut details = line.details.clone();
            details["comment"] = json!(comment);
            let mut am: conversation_activity::ActiveModel = line.into();
            am.details = Set(details);
            am.update(&*tx).await?;
        }
        tx.commit().await?;
        Ok(Ok(CsatView::from(&survey)))
    }

    /// The survey of `token` as it stands, if there is one.
    pub async fn by_token(&self, token: &str) -> Result<Option<CsatView>, StoreError> {
        Ok(csat_survey::Entity::find()
            .filter(csat_survey::Column::Token.eq(token))
            .one(self.db.conn())
            .await?
            .as_ref()
            .map(CsatView::from))
    }

    /// The token of `conversation`'s survey while it waits for an answer (for the widget,
    /// which shows its rating card again after a reload).
    pub async fn pending_token(
        &self,
        conversation: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        Ok(csat_survey::Entity::find()
            .filter(csat_survey::Column::ConversationId.eq(conversation))
            .filter(csat_survey::Column::Status.eq(SurveyStatus::Requested))
            .filter(csat_survey::Column::ExpiresAt.gt(now))
            .one(self.db.conn())
            .await?
            .map(|s| s.token))
    }

    /// Whether `token` belongs to `conversation` (a widget may only rate its own).
    pub async fn belongs_to(&self, token: &str, conversation: i64) -> Result<bool, StoreError> {
        Ok(csat_survey::Entity::find()
            .filter(csat_survey::Column::Token.eq(token))
            .filter(csat_survey::Column::ConversationId.eq(conversation))
            .one(self.db.conn())
            .await?
            .is_some())
    }

    /// Surveys of a conversation or a contact (or all), newest first, at most `limit`.
    pub async fn list(
        &self,
        conversation: Option<i64>,
        contact: Option<i64>,
        limit: u64,
    ) -> Result<Vec<CsatView>, StoreError> {
        let mut q = csat_survey::Entity::find();
        if let Some(c) = conversation {
            q = q.filter(csat_survey::Column::ConversationId.eq(c));
        }
        if let Some(c) = contact {
            q = q.filter(csat_survey::Column::ContactId.eq(c));
        }
        Ok(q.order_by_desc(csat_survey::Column::Id)
            .limit(limit)
            .all(self.db.conn())
            .await?
            .iter()
            .map(CsatView::from)
            .collect())
    }

    async fn locked(
        &self,
        tx: &crate::db::WriteTx,
        token: &str,
    ) -> Result<Option<csat_survey::Model>, StoreError> {
        let mut q = csat_survey::Entity::find().filter(csat_survey::Column::Token.eq(token));
        if self.db.is_postgres() {
            q = q.lock_exclusive();
        }
        Ok(q.one(&**tx).await?)
    }

    /// The survey of `token` under its row lock, unless it cannot take an answer.
    async fn find_open(
        &self,
        tx: &crate::db::WriteTx,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<csat_survey::Model, CsatRefusal>, StoreError> {
        Ok(match self.locked(tx, token).await? {
            None => Err(CsatRefusal::Unknown),
            Some(s) if s.status == SurveyStatus::Submitted => Err(CsatRefusal::AlreadySubmitted),
            Some(s) if s.status == SurveyStatus::Skipped => Err(CsatRefusal::Unknown),
            Some(s) if s.expires_at <= now => Err(CsatRefusal::Expired),
            Some(s) => Ok(s),
        })
    }
}

/// The comment trimmed (`None` when empty), or `Invalid` when too long.
fn checked_comment(comment: Option<&str>) -> Result<Option<String>, StoreError> {
    let c = comment.map(str::trim).filter(|c| !c.is_empty());
    if c.is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS) {
        return Err(StoreError::Invalid(format!(
            "comment must be at most {MAX_COMMENT_CHARS} characters"
        )));
    }
    Ok(c.map(str::to_owned))
}
