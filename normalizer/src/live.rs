//! [`Live`]: what the support floor looks like right now, for the supervisors' live dashboard
//! and the Prometheus gauges: the queue of each inbox and its oldest wait, the agents by
//! presence, and each agent's open conversations against their capacity.
//!
//! A snapshot is a handful of narrow queries (ids, statuses and times only, no message or
//! contact data), cheap enough to answer on every `/metrics` scrape and every dashboard
//! refresh. A supervisor's snapshot covers the inboxes they (or their teams) belong to and the
//! agents who belong to those inboxes; an admin's covers everything.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::Visibility;
use crate::entity::agent::AgentStatus;
use crate::entity::{agent, conversation, inbox, inbox_agent, inbox_team, team_member};
use crate::{Db, Status, StoreError};

/// One inbox's queue.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct InboxQueue {
    /// The inbox.
    pub inbox_id: i64,
    /// Its name.
    pub name: String,
    /// Its channel type (`web_chat`, `email`...).
    pub channel: String,
    /// Conversations waiting for an agent (status `queued`).
    pub queued: u64,
    /// Since when the longest-waiting of them waits (it was queued, or opened when it never
    /// was); `null` with an empty queue.
    pub oldest_since: Option<DateTime<Utc>>,
    /// How long it has waited at the snapshot's time, in seconds; `null` with an empty queue.
    pub oldest_wait_secs: Option<f64>,
}

/// Where an agent stands: their stored status, with `busy` for an online agent whose open
/// conversations fill their capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// Online with room for another conversation.
    Online,
    /// Online, at or over capacity: routing gives them nothing new.
    Busy,
    /// Signed in, taking no new conversations.
    Away,
    /// Signed out.
    Offline,
}

impl Presence {
    /// Every presence, in the order the dashboard and `/metrics` list them.
    pub const ALL: [Self; 4] = [Self::Online, Self::Busy, Self::Away, Self::Offline];

    /// The API's (and the metric label's) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Busy => "busy",
            Self::Away => "away",
            Self::Offline => "offline",
        }
    }

    fn of(status: AgentStatus, open: u64, capacity: i32) -> Self {
        match status {
            AgentStatus::Online if open >= u64::try_from(capacity.max(0)).unwrap_or(0) => {
                Self::Busy
            }
            AgentStatus::Online => Self::Online,
            AgentStatus::Away => Self::Away,
            AgentStatus::Offline => Self::Offline,
        }
    }
}

/// One agent's load.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AgentLoad {
    /// The agent.
    pub agent_id: i64,
    /// Their name.
    pub name: String,
    /// Their presence.
    pub presence: Presence,
    /// Conversations they hold (assigned, pending or being transferred), in every inbox:
    /// capacity counts them all.
    pub open_conversations: u64,
    /// How many conversations they handle at once.
    pub capacity: i32,
}

/// Agents per presence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct PresenceCounts {
    /// Online with room.
    pub online: u64,
    /// Online at capacity.
    pub busy: u64,
    /// Away.
    pub away: u64,
    /// Offline.
    pub offline: u64,
}

impl PresenceCounts {
    /// The count of `presence`.
    pub fn get(&self, presence: Presence) -> u64 {
        match presence {
            Presence::Online => self.online,
            Presence::Busy => self.busy,
            Presence::Away => self.away,
            Presence::Offline => self.offline,
        }
    }

    fn add(&mut self, presence: Presence) {
        match presence {
            Presence::Online => self.online += 1,
            Presence::Busy => self.busy += 1,
            Presence::Away => self.away += 1,
            Presence::Offline => self.offline += 1,
        }
    }
}

/// The floor at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LiveSnapshot {
    /// When it was taken.
    pub at: DateTime<Utc>,
    /// Every inbox in view, by id, empty queues included.
    pub queues: Vec<InboxQueue>,
    /// Agents in view per presence.
    pub presence: PresenceCounts,
    /// Every active agent in view, by id.
    pub agents: Vec<AgentLoad>,
}

/// Takes live snapshots.
#[derive(Clone)]
pub struct Live {
    db: Db,
}

impl Live {
    /// Snapshots of `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The floor as `visibility` sees it at `now`: admins everything; supervisors (and
    /// agents) the inboxes they belong to and those inboxes' agents.
    pub async fn snapshot(
        &self,
        visibility: &Visibility,
        now: DateTime<Utc>,
    ) -> Result<LiveSnapshot, StoreError> {
        let scope: Option<&BTreeSet<i64>> = match visibility {
            Visibility::All => None,
            Visibility::Member { inboxes, .. } => Some(inboxes),
        };
        let queues = self.queues(scope, now).await?;
        let agents = self.agents(scope).await?;
        let mut presence = PresenceCounts::default();
        for a in &agents {
            presence.add(a.presence);
        }
        Ok(LiveSnapshot {
            at: now,
            queues,
            presence,
            agents,
        })
    }

    async fn queues(
        &self,
        scope: Option<&BTreeSet<i64>>,
        now: DateTime<Utc>,
    ) -> Result<Vec<InboxQueue>, StoreError> {
        let mut inboxes = inbox::Entity::find()
            .select_only()
            .column(inbox::Column::Id)
            .column(inbox::Column::Name)
            .column(inbox::Column::ChannelType)
            .filter(inbox::Column::DeletedAt.is_null());
        let mut queued = conversation::Entity::find()
            .select_only()
            .column(conversation::Column::InboxId)
            .column(conversation::Column::QueuedAt)
            .column(conversation::Column::CreatedAt)
            .filter(conversation::Column::Status.eq(Status::Queued));
        if let Some(ids) = scope {
            inboxes = inboxes.filter(inbox::Column::Id.is_in(ids.iter().copied()));
            queued = queued.filter(conversation::Column::InboxId.is_in(ids.iter().copied()));
        }
        let inboxes: Vec<(i64, String, String)> = inboxes.into_tuple().all(self.db.conn()).await?;
        // Only three narrow columns of the queued conversations: the oldest wait needs the
        // fallback to `created_at`, which an SQL aggregate would get differently per backend.
        let rows: Vec<(i64, Option<DateTime<Utc>>, DateTime<Utc>)> =
            queued.into_tuple().all(self.db.conn()).await?;
        let mut waits: BTreeMap<i64, (u64, DateTime<Utc>)> = BTreeMap::new();
        for (inbox_id, queued_at, created_at) in rows {
            let since = queued_at.unwrap_or(created_at);
            let e = waits.entry(inbox_id).or_insert((0, since));
            e.0 += 1;
            e.1 = e.1.min(since);
        }
        let mut out: Vec<InboxQueue> = inboxes
            .into_iter()
            .map(|(id, name, channel)| {
                let wait = waits.get(&id);
                InboxQueue {
                    inbox_id: id,
                    name,
                    channel,
                    queued: wait.map_or(0, |w| w.0),
                    oldest_since: wait.map(|w| w.1),
                    oldest_wait_secs: wait
                        .map(|w| (now - w.1).num_milliseconds().max(0) as f64 / 1000.0),
                }
            })
            .collect();
        out.sort_by_key(|q| q.inbox_id);
        Ok(out)
    }

    /// The agents in view with their load.
    async fn agents(&self, scope: Option<&BTreeSet<i64>>) -> Result<Vec<AgentLoad>, StoreError> {
        let mut agents = agent::Entity::find()
            .select_only()
            .column(agent::Column::Id)
            .column(agent::Column::Name)
            .column(agent::Column::Status)
            .column(agent::Column::MaxConcurrent)
            .filter(agent::Column::DeletedAt.is_null())
            .filter(agent::Column::Active.eq(true));
        if let Some(inboxes) = scope {
            let members = self.members(inboxes).await?;
            agents = agents.filter(agent::Column::Id.is_in(members));
        }
        let agents: Vec<(i64, String, AgentStatus, i32)> =
            agents.into_tuple().all(self.db.conn()).await?;
        let ids: Vec<i64> = agents.iter().map(|a| a.0).collect();
        let held: Vec<(Option<i64>, i64)> = if ids.is_empty() {
            Vec::new()
        } else {
            conversation::Entity::find()
                .select_only()
                .column(conversation::Column::AssigneeId)
                .column_as(conversation::Column::Id.count(), "n")
                .filter(conversation::Column::Status.is_in(Status::HELD))
                .filter(conversation::Column::AssigneeId.is_in(ids))
                .group_by(conversation::Column::AssigneeId)
                .into_tuple()
                .all(self.db.conn())
                .await?
        };
        let held: BTreeMap<i64, u64> = held
            .into_iter()
            .filter_map(|(a, n)| Some((a?, u64::try_from(n).unwrap_or(0))))
            .collect();
        let mut out: Vec<AgentLoad> = agents
            .into_iter()
            .map(|(id, name, status, capacity)| {
                let open = held.get(&id).copied().unwrap_or(0);
                AgentLoad {
                    agent_id: id,
                    name,
                    presence: Presence::of(status, open, capacity),
                    open_conversations: open,
                    capacity,
                }
            })
            .collect();
        out.sort_by_key(|a| a.agent_id);
        Ok(out)
    }

    /// The agents who belong to any of `inboxes`, directly or through a team.
    async fn members(&self, inboxes: &BTreeSet<i64>) -> Result<Vec<i64>, StoreError> {
        if inboxes.is_empty() {
            return Ok(Vec::new());
        }
        let ids = || inboxes.iter().copied();
        let direct: Vec<i64> = inbox_agent::Entity::find()
            .select_only()
            .column(inbox_agent::Column::AgentId)
            .filter(inbox_agent::Column::InboxId.is_in(ids()))
            .into_tuple()
            .all(self.db.conn())
            .await?;
        let teams: Vec<i64> = inbox_team::Entity::find()
            .select_only()
            .column(inbox_team::Column::TeamId)
            .filter(inbox_team::Column::InboxId.is_in(ids()))
            .into_tuple()
            .all(self.db.conn())
            .await?;
        let via_teams: Vec<i64> = if teams.is_empty() {
            Vec::new()
        } else {
            team_member::Entity::find()
                .select_only()
                .column(team_member::Column::AgentId)
                .filter(team_member::Column::TeamId.is_in(teams))
                .into_tuple()
                .all(self.db.conn())
                .await?
        };
        let all: BTreeSet<i64> = direct.into_iter().chain(via_teams).collect();
        Ok(all.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_online_agent_at_capacity_is_busy() {
        let cases = [
            (AgentStatus::Online, 0, 2, Presence::Online),
            (AgentStatus::Online, 1, 2, Presence::Online),
            (AgentStatus::Online, 2, 2, Presence::Busy),
            (AgentStatus::Online, 3, 2, Presence::Busy),
            (AgentStatus::Online, 0, 0, Presence::Busy),
            (AgentStatus::Away, 5, 2, Presence::Away),
            (AgentStatus::Offline, 0, 2, Presence::Offline),
        ];
        for (status, open, capacity, want) in cases {
            assert_eq!(
                Presence::of(status, open, capacity),
                want,
                "{status} {open}/{capacity}"
            );
        }
    }
}
