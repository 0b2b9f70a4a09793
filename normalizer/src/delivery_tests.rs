//! Where a reply's delivery starts: `sent` in a channel Kefu delivers itself, `pending` where a
//! provider must be called.

use kefu_channel::{Content, ExternalIdentity, InboundEnvelope, InboundSink, ThreadHints};
use sea_orm::{EntityTrait, Set};

use super::*;
use crate::{Author, Conversations, Limits, Normalizer};

async fn inbox(db: &Db, name: &str, channel_type: &str) -> anyhow::Result<i64> {
    let now = Utc::now();
    let row = crate::entity::inbox::ActiveModel {
        name: Set(name.into()),
        channel_type: Set(channel_type.into()),
        settings: Set(serde_json::json!({})),
        secrets_ciphertext: Set(None),
        public_token: Set(crate::token::random(24)),
        routing: Set(serde_json::json!({})),
        deleted_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    Ok(crate::entity::inbox::Entity::insert(row)
        .exec(db.conn())
        .await?
        .last_insert_id)
}

/// A reply in an inbox of `channel_type` to a new customer message; the stored row.
async fn reply_in(db: &Db, channel_type: &str, private: bool) -> anyhow::Result<message::Model> {
    let limits = Limits {
        max_text_bytes: 10_000,
    };
    let name = format!("{channel_type}-{private}");
    let inbox_id = inbox(db, &name, channel_type).await?;
    let accepted = Normalizer::new(db.clone(), limits)
        .accept(InboundEnvelope {
            inbox_id,
            sender: ExternalIdentity::new("customer"),
            dedupe_key: Some(name.clone()),
            thread: ThreadHints::default(),
            content: Content::text("hello"),
            sent_at: None,
        })
        .await?;
    let author = Author {
        id: 1,
        name: "Alice".into(),
    };
    let posted = Conversations::new(db.clone(), limits)
        .reply(accepted.conversation_id, &author, "hi", &[], None, private)
        .await?;
    message::Entity::find_by_id(posted.message.id)
        .one(db.conn())
        .await?
        .ok_or_else(|| anyhow::anyhow!("the reply is stored"))
}

#[tokio::test]
async fn a_web_chat_reply_is_stored_sent_and_a_provider_channels_pending() -> anyhow::Result<()> {
    let db = Db::connect("sqlite::memory:", 1).await?;
    db.migrate().await?;
    let deliveries = Deliveries::new(db.clone());

    let web = reply_in(&db, "web_chat", false).await?;
    assert_eq!(web.delivery_status, DeliveryStatus::Sent);
    assert!(web.sent_at.is_some(), "{web:?}");
    assert!(
        deliveries.pending(web.id).await?.is_none(),
        "nothing is left for the send worker"
    );

    let app = reply_in(&db, "app_push", false).await?;
    assert_eq!(app.delivery_status, DeliveryStatus::Pending);
    assert!(app.sent_at.is_none(), "{app:?}");
    assert!(deliveries.pending(app.id).await?.is_some());

    // A private note is never delivered, in any channel: stored sent, as before.
    let note = reply_in(&db, "app_push", true).await?;
    assert_eq!(note.delivery_status, DeliveryStatus::Sent);
    Ok(())
}
