//! [`menu_answer`]: a customer who taps a rating in WeChat's reply menu sends a message naming
//! the menu item (`Content.extra.menu_id`, from `bizmsgmenuid` or WeCom's `menu_id`). That
//! tap is the survey's answer, not a new message: it is stored as the rating and the
//! conversation stays resolved.

use chrono::{DateTime, Utc};
use kefu_channel::{Accepted, InboundEnvelope};
use sea_orm::EntityTrait;

use super::{CsatRefusal, SurveyStatus, Surveys, parse_menu_id};
use crate::db::Db;
use crate::entity::{contact_identity, conversation, csat_survey, message};
use crate::error::StoreError;

/// When `env` is a tap on a rating menu this customer was sent, stores the rating (once) and
/// returns the question's message as the accepted one (`duplicate`: nothing new was stored).
/// `None` for anything else — another menu, a survey of someone else, an expired one — which
/// is then stored as an ordinary message.
pub async fn menu_answer(
    db: &Db,
    env: &InboundEnvelope,
    now: DateTime<Utc>,
) -> Result<Option<Accepted>, StoreError> {
    let Some((survey_id, rating)) = env
        .content
        .extra
        .get("menu_id")
        .and_then(|v| v.as_str())
        .and_then(parse_menu_id)
    else {
        return Ok(None);
    };
    let Some(survey) = csat_survey::Entity::find_by_id(survey_id)
        .one(db.conn())
        .await?
        .filter(|s| s.inbox_id == env.inbox_id)
    else {
        return Ok(None);
    };
    // Only the customer the question went to can answer it.
    let identity = match conversation::Entity::find_by_id(survey.conversation_id)
        .one(db.conn())
        .await?
    {
        Some(c) => {
            contact_identity::Entity::find_by_id(c.identity_id)
                .one(db.conn())
                .await?
        }
        None => None,
    };
    if identity.is_none_or(|i| i.external_id != env.sender.external_id) {
        return Ok(None);
    }
    let Some(question) = survey.message_id else {
        return Ok(None);
    };
    let answered = match survey.status {
        SurveyStatus::Skipped => return Ok(None),
        // A second tap (or WeChat retrying the first) changes nothing.
        SurveyStatus::Submitted => true,
        SurveyStatus::Requested => {
            // The store is built without a public URL: it only takes the answer.
            let surveys = Surveys::new(db.clone(), "");
            match surveys.submit(&survey.token, rating, None, now).await? {
                Ok(_) | Err(CsatRefusal::AlreadySubmitted) => true,
                Err(CsatRefusal::Expired | CsatRefusal::Unknown) => false,
            }
        }
    };
    if !answered {
        return Ok(None);
    }
    let Some(m) = message::Entity::find_by_id(question).one(db.conn()).await? else {
        return Ok(None);
    };
    Ok(Some(Accepted {
        message_id: m.id,
        conversation_id: m.conversation_id,
        seq: m.seq,
        duplicate: true,
    }))
}
