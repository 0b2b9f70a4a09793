//! Out-of-office replies against a database, with the clock passed in: once per period, not
//! while an agent is answering, not during open hours, and `{{next_open}}` filled in.

use chrono::{DateTime, Duration, Utc};
use kefu_channel::{Content, ExternalIdentity, InboundEnvelope, InboundSink, ThreadHints};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::away::OutOfOffice;
use super::hours::{Hours, Weekly};
use super::replies::{Arrival, OutOfOfficeReplies, fill};
use super::store::{ScheduleSpec, Schedules};
use crate::entity::message;
use crate::{Author, Conversations, Db, InboxChange, Inboxes, Limits, NewInbox, Normalizer};
use crate::{SenderType, access::OthersAccess};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("a test instant")
}

/// Monday to Friday, 09:00–18:00 in Shanghai.
fn weekdays() -> Weekly {
    let day = vec![["09:00".to_owned(), "18:00".to_owned()]];
    Weekly {
        mon: day.clone(),
        tue: day.clone(),
        wed: day.clone(),
        thu: day.clone(),
        fri: day,
        ..Default::default()
    }
}

struct Fixture {
    db: Db,
    normalizer: Normalizer,
    conversations: Conversations,
    inbox_id: i64,
}

impl Fixture {
    async fn new() -> anyhow::Result<Self> {
        let db = Db::connect("sqlite::memory:", 1).await?;
        db.migrate().await?;
        let schedule = Schedules::new(db.clone())
            .create(&ScheduleSpec {
                name: "Shanghai".into(),
                time_zone: "Asia/Shanghai".into(),
                weekly: weekdays(),
                holidays: vec![],
                extra_workdays: vec![],
            })
            .await?;
        let inboxes = Inboxes::new(db.clone());
        let row = inboxes
            .create(NewInbox {
                name: "Website".into(),
                channel_type: "web_chat".into(),
                settings: serde_json::json!({}),
                secrets_ciphertext: None,
                routing: serde_json::json!({"skills": {}, "priority": 0}),
                others_access: OthersAccess::None,
            })
            .await?;
        let change = InboxChange {
            schedule_id: Some(Some(schedule.id)),
            out_of_office: Some(OutOfOffice {
                enabled: true,
                message: "Closed until {{next_open}}.".into(),
                repeat_after_hours: 24,
            }),
            ..Default::default()
        };
        let inbox_id = inboxes.update(row, change).await?.id;
        let limits = Limits {
            max_text_bytes: 10_000,
        };
        Ok(Self {
            normalizer: Normalizer::new(db.clone(), limits),
            conversations: Conversations::new(db.clone(), limits),
            db,
            inbox_id,
        })
    }

    /// A customer message from `who`, as if it arrived at `when`.
    async fn customer(&self, who: &str, key: &str, when: &str) -> anyhow::Result<Arrival> {
        let accepted = self
            .normalizer
            .accept(InboundEnvelope {
                inbox_id: self.inbox_id,
                sender: ExternalIdentity::new(who),
                dedupe_key: Some(key.into()),
                thread: ThreadHints::default(),
                content: Content::text("hello?"),
                sent_at: None,
            })
            .await?;
        Ok(Arrival {
            conversation_id: accepted.conversation_id,
            message_id: accepted.message_id,
            at: at(when),
        })
    }

    /// The system messages of a conversation, oldest first.
    async fn replies(&self, conversation_id: i64) -> anyhow::Result<Vec<String>> {
        Ok(message::Entity::find()
            .filter(message::Column::ConversationId.eq(conversation_id))
            .filter(message::Column::SenderType.eq(SenderType::System))
            .order_by_asc(message::Column::Id)
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(|m| m.text)
            .collect())
    }
}

#[tokio::test]
async fn a_closed_inbox_answers_once_per_period() -> anyhow::Result<()> {
    let f = Fixture::new().await?;
    let away = OutOfOfficeReplies::new(f.db.clone());
    let now = Utc::now();
    // Saturday 3 October 2026, 10:00 in Shanghai: closed.
    let first = f.customer("u1", "k1", "2026-10-03T02:00:00Z").await?;
    assert_eq!(away.answer(&[first], now).await?, 1);
    let replies = f.replies(first.conversation_id).await?;
    assert_eq!(replies.len(), 1);
    assert!(
        replies[0].starts_with("Closed until ") && replies[0].ends_with(" Asia/Shanghai."),
        "{replies:?}"
    );
    // The same batch relayed again adds nothing.
    assert_eq!(away.answer(&[first], now).await?, 0);
    // A second message an hour later is within the 24 hours.
    let second = f.customer("u1", "k2", "2026-10-03T03:00:00Z").await?;
    assert_eq!(second.conversation_id, first.conversation_id);
    assert_eq!(away.answer(&[second], now + Duration::hours(1)).await?, 0);
    // A day later it is answered again, once.
    let later = now + Duration::hours(25);
    assert_eq!(away.answer(&[second], later).await?, 1);
    assert_eq!(away.answer(&[second], later).await?, 0);
    assert_eq!(f.replies(first.conversation_id).await?.len(), 2);
    Ok(())
}

#[tokio::test]
async fn no_reply_during_open_hours_or_while_an_agent_answers() -> anyhow::Result<()> {
    let f = Fixture::new().await?;
    let away = OutOfOfficeReplies::new(f.db.clone());
    let now = Utc::now();
    // Monday 28 September 2026, 10:00 in Shanghai: open.
    let open = f.customer("u2", "k1", "2026-09-28T02:00:00Z").await?;
    assert_eq!(away.answer(&[open], now).await?, 0);
    assert!(f.replies(open.conversation_id).await?.is_empty());

    // An agent just replied in this conversation: the customer is being answered.
    let author = Author {
        id: 1,
        name: "Alice".into(),
    };
    f.conversations
        .reply(open.conversation_id, &author, "I am here", &[], None, false)
        .await?;
    let closed = f.customer("u2", "k2", "2026-09-28T12:00:00Z").await?;
    assert_eq!(away.answer(&[closed], now).await?, 0);
    // Once the agent has been quiet for a while, the reply goes out.
    let quiet = Utc::now() + Duration::minutes(6);
    assert_eq!(away.answer(&[closed], quiet).await?, 1);
    Ok(())
}

#[test]
fn next_open_is_written_in_the_schedules_zone() {
    let hours = Hours::parse("Asia/Shanghai", &weekdays(), &[], &[]).expect("valid");
    // Friday 2 October 2026, 20:00 in Shanghai: next open Monday 09:00.
    assert_eq!(
        fill("We open {{next_open}}.", &hours, at("2026-10-02T12:00:00Z")),
        "We open 2026-10-05 09:00 Asia/Shanghai."
    );
    assert_eq!(
        fill("No placeholder", &hours, at("2026-10-02T12:00:00Z")),
        "No placeholder"
    );
    let never = Hours::parse("UTC", &Weekly::default(), &[], &[]).expect("valid");
    assert_eq!(fill("Open {{next_open}}", &never, Utc::now()), "Open ");
}
