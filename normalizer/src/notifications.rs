//! [`Notifications`]: the console's bell. A row tells one agent that another agent mentioned
//! them (or a team of theirs) in a private note, or that a conversation was assigned or
//! transferred to them. Assignments are written by [`crate::activities::record`] in the
//! transaction that makes the change; mentions right after their note is stored, idempotently,
//! so a note posted again with its `client_id` completes what a failure left undone and adds
//! nothing twice.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::activities::NewActivity;
use crate::db::Db;
use crate::entity::conversation_activity::ActivityKind;
use crate::entity::notification::{self, NotificationKind};
use crate::entity::{agent, contact, conversation, message, team, team_member};
use crate::error::StoreError;
use crate::views::AgentRef;

/// Most agents and teams one note may mention.
pub const MAX_MENTIONS: usize = 20;
/// Longest preview of a note, in characters.
const PREVIEW_CHARS: usize = 140;

/// Whom a private note mentions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mentions {
    /// Agents, by id.
    pub agents: Vec<i64>,
    /// Teams, by id: each member is told.
    pub teams: Vec<i64>,
}

impl Mentions {
    /// Whether it names nobody.
    pub fn is_empty(&self) -> bool {
        self.agents.is_empty() && self.teams.is_empty()
    }
}

/// One notification as the bell shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct NotificationView {
    /// Notification id; newer ones have larger ids.
    pub id: i64,
    /// What happened.
    pub kind: NotificationKind,
    /// The conversation it happened in.
    pub conversation_id: i64,
    /// The customer of that conversation, by name.
    pub contact_name: Option<String>,
    /// The note that mentioned the agent.
    pub message_id: Option<i64>,
    /// The start of that note.
    pub preview: Option<String>,
    /// Who did it; absent when Kefu's routing did.
    pub actor: Option<AgentRef>,
    /// When it happened.
    pub created_at: DateTime<Utc>,
    /// When the agent read it; absent while unread.
    pub read_at: Option<DateTime<Utc>>,
}

/// One page of an agent's notifications.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct NotificationPage {
    /// Newest first.
    pub items: Vec<NotificationView>,
    /// How many of the agent's notifications are unread (all of them, not only this page).
    pub unread_count: u64,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_before: Option<i64>,
}

/// Writes and reads agents' notifications.
#[derive(Clone)]
pub struct Notifications {
    db: Db,
}

impl Notifications {
    /// On `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Tells `recipients` (from [`Notifications::recipients`]) that `actor_id` mentioned them
    /// in the note `message_id` of `conversation_id`; the author is never told of their own
    /// note, and nobody twice of one note. Returns the agents told, in id order.
    pub async fn mention(
        &self,
        conversation_id: i64,
        message_id: i64,
        actor_id: i64,
        recipients: &BTreeSet<i64>,
    ) -> Result<Vec<i64>, StoreError> {
        let now = Utc::now();
        let told: Vec<i64> = recipients
            .iter()
            .copied()
            .filter(|a| *a != actor_id)
            .collect();
        let rows: Vec<_> = told
            .iter()
            .map(|&agent_id| notification::ActiveModel {
                agent_id: Set(agent_id),
                kind: Set(NotificationKind::Mention),
                conversation_id: Set(conversation_id),
                message_id: Set(Some(message_id)),
                actor_id: Set(Some(actor_id)),
                created_at: Set(now),
                read_at: Set(None),
                ..Default::default()
            })
            .collect();
        if !rows.is_empty() {
            notification::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([
                        notification::Column::AgentId,
                        notification::Column::Kind,
                        notification::Column::MessageId,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(self.db.conn())
                .await?;
        }
        Ok(told)
    }

    /// The active agents `mentions` reaches: the agents it names and the members of the teams
    /// it names. An agent or team that does not exist is refused with
    /// [`StoreError::Invalid`] naming it. Check before storing the note.
    pub async fn recipients(&self, mentions: &Mentions) -> Result<BTreeSet<i64>, StoreError> {
        if mentions.agents.len() + mentions.teams.len() > MAX_MENTIONS {
            return Err(StoreError::Invalid(format!(
                "a note may mention at most {MAX_MENTIONS} agents and teams"
            )));
        }
        let conn = self.db.conn();
        let named: BTreeSet<i64> = mentions.agents.iter().copied().collect();
        let found: BTreeSet<i64> = if named.is_empty() {
            BTreeSet::new()
        } else {
            agent::Entity::find()
                .select_only()
                .column(agent::Column::Id)
                .filter(agent::Column::Id.is_in(named.clone()))
                .filter(agent::Column::DeletedAt.is_null())
                .into_tuple::<i64>()
                .all(conn)
                .await?
                .into_iter()
                .collect()
        };
        if let Some(missing) = named.difference(&found).next() {
            return Err(StoreError::Invalid(format!(
                "mentions: agent {missing} does not exist"
            )));
        }
        let teams: BTreeSet<i64> = mentions.teams.iter().copied().collect();
        let mut out = found;
        if !teams.is_empty() {
            let known: BTreeSet<i64> = team::Entity::find()
                .select_only()
                .column(team::Column::Id)
                .filter(team::Column::Id.is_in(teams.clone()))
                .into_tuple::<i64>()
                .all(conn)
                .await?
                .into_iter()
                .collect();
            if let Some(missing) = teams.difference(&known).next() {
                return Err(StoreError::Invalid(format!(
                    "mentions: team {missing} does not exist"
                )));
            }
            let members: BTreeSet<i64> = team_member::Entity::find()
                .select_only()
                .column(team_member::Column::AgentId)
                .filter(team_member::Column::TeamId.is_in(teams))
                .into_tuple::<i64>()
                .all(conn)
                .await?
                .into_iter()
                .collect();
            if !members.is_empty() {
                let active: Vec<i64> = agent::Entity::find()
                    .select_only()
                    .column(agent::Column::Id)
                    .filter(agent::Column::Id.is_in(members))
                    .filter(agent::Column::DeletedAt.is_null())
                    .into_tuple::<i64>()
                    .all(conn)
                    .await?;
                out.extend(active);
            }
        }
        Ok(out)
    }

    /// The agent's notifications, newest first, older than `before` when given; `unread`
    /// keeps only unread ones.
    pub async fn list(
        &self,
        agent_id: i64,
        unread: bool,
        before: Option<i64>,
        limit: u64,
    ) -> Result<NotificationPage, StoreError> {
        let conn = self.db.conn();
        let mut q = notification::Entity::find()
            .filter(notification::Column::AgentId.eq(agent_id))
            .order_by_desc(notification::Column::Id)
            .limit(limit + 1);
        if unread {
            q = q.filter(notification::Column::ReadAt.is_null());
        }
        if let Some(b) = before {
            q = q.filter(notification::Column::Id.lt(b));
        }
        let mut rows = q.all(conn).await?;
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let unread_count = self.unread_count(agent_id).await?;
        let next_before = if more {
            rows.last().map(|r| r.id)
        } else {
            None
        };
        let items = self.views(rows).await?;
        Ok(NotificationPage {
            items,
            unread_count,
            next_before,
        })
    }

    /// Rows with the names and previews the bell shows.
    async fn views(
        &self,
        rows: Vec<notification::Model>,
    ) -> Result<Vec<NotificationView>, StoreError> {
        let conn = self.db.conn();
        let actors: BTreeSet<i64> = rows.iter().filter_map(|r| r.actor_id).collect();
        let actors: HashMap<i64, String> = if actors.is_empty() {
            HashMap::new()
        } else {
            agent::Entity::find()
                .filter(agent::Column::Id.is_in(actors))
                .all(conn)
                .await?
                .into_iter()
                .map(|a| (a.id, a.name))
                .collect()
        };
        let notes: BTreeSet<i64> = rows.iter().filter_map(|r| r.message_id).collect();
        let previews: HashMap<i64, String> = if notes.is_empty() {
            HashMap::new()
        } else {
            message::Entity::find()
                .select_only()
                .column(message::Column::Id)
                .column(message::Column::Text)
                .filter(message::Column::Id.is_in(notes))
                .into_tuple::<(i64, String)>()
                .all(conn)
                .await?
                .into_iter()
                .map(|(id, text)| (id, text.chars().take(PREVIEW_CHARS).collect()))
                .collect()
        };
        let convs: BTreeSet<i64> = rows.iter().map(|r| r.conversation_id).collect();
        let contact_of: HashMap<i64, i64> = if convs.is_empty() {
            HashMap::new()
        } else {
            conversation::Entity::find()
                .select_only()
                .column(conversation::Column::Id)
                .column(conversation::Column::ContactId)
                .filter(conversation::Column::Id.is_in(convs))
                .into_tuple::<(i64, i64)>()
                .all(conn)
                .await?
                .into_iter()
                .collect()
        };
        let names: HashMap<i64, Option<String>> = if contact_of.is_empty() {
            HashMap::new()
        } else {
            contact::Entity::find()
                .select_only()
                .column(contact::Column::Id)
                .column(contact::Column::Name)
                .filter(contact::Column::Id.is_in(contact_of.values().copied()))
                .into_tuple::<(i64, Option<String>)>()
                .all(conn)
                .await?
                .into_iter()
                .collect()
        };
        Ok(rows
            .into_iter()
            .map(|r| NotificationView {
                id: r.id,
                kind: r.kind,
                conversation_id: r.conversation_id,
                contact_name: contact_of
                    .get(&r.conversation_id)
                    .and_then(|c| names.get(c).cloned().flatten()),
                message_id: r.message_id,
                preview: r.message_id.and_then(|m| previews.get(&m).cloned()),
                actor: r.actor_id.map(|id| AgentRef {
                    id,
                    name: actors.get(&id).cloned().unwrap_or_default(),
                }),
                created_at: r.created_at,
                read_at: r.read_at,
            })
            .collect())
    }

    /// Marks the agent's notifications read: those in `ids`, or all when `ids` is `None`.
    /// Another agent's ids are left alone. Returns how many changed.
    pub async fn mark_read(&self, agent_id: i64, ids: Option<&[i64]>) -> Result<u64, StoreError> {
        self.mark(
            agent_id,
            ids.map(|ids| notification::Column::Id.is_in(ids.iter().copied())),
        )
        .await
    }

    /// Marks read the agent's notifications about `conversation_id` (they opened it).
    pub async fn read_conversation(
        &self,
        agent_id: i64,
        conversation_id: i64,
    ) -> Result<u64, StoreError> {
        self.mark(
            agent_id,
            Some(notification::Column::ConversationId.eq(conversation_id)),
        )
        .await
    }

    /// How many of the agent's notifications are unread.
    pub async fn unread_count(&self, agent_id: i64) -> Result<u64, StoreError> {
        Ok(notification::Entity::find()
            .filter(notification::Column::AgentId.eq(agent_id))
            .filter(notification::Column::ReadAt.is_null())
            .count(self.db.conn())
            .await?)
    }

    /// Marks the agent's unread notifications that pass `which` (all when `None`) read.
    async fn mark(
        &self,
        agent_id: i64,
        which: Option<sea_orm::sea_query::SimpleExpr>,
    ) -> Result<u64, StoreError> {
        let mut q = notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, Expr::value(Utc::now()))
            .filter(notification::Column::AgentId.eq(agent_id))
            .filter(notification::Column::ReadAt.is_null());
        if let Some(w) = which {
            q = q.filter(w);
        }
        Ok(q.exec(self.db.conn()).await?.rows_affected)
    }
}

/// Writes, inside the caller's transaction, an assignment notification for each timeline line
/// that hands a conversation to an agent other than the one who did it.
pub(crate) async fn assignments<C: ConnectionTrait>(
    tx: &C,
    lines: &[NewActivity],
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let rows: Vec<_> = lines
        .iter()
        .filter(|l| matches!(l.kind, ActivityKind::Assigned | ActivityKind::Transferred))
        .filter_map(|l| {
            let to = l.agent_id.filter(|to| l.actor_id != Some(*to))?;
            Some(notification::ActiveModel {
                agent_id: Set(to),
                kind: Set(NotificationKind::Assignment),
                conversation_id: Set(l.conversation_id),
                message_id: Set(None),
                actor_id: Set(l.actor_id),
                created_at: Set(at),
                read_at: Set(None),
                ..Default::default()
            })
        })
        .collect();
    if !rows.is_empty() {
        notification::Entity::insert_many(rows).exec(tx).await?;
    }
    Ok(())
}
