//! Who may see and act on which conversations — the one place that decides it.
//!
//! - Agents belong to inboxes directly or through a team ([`Access::set_members`]).
//! - An agent sees, in the inboxes they belong to, the unassigned conversations (the queue)
//!   and their own; others' conversations only as far as the inbox's [`OthersAccess`] allows.
//!   A conversation assigned to an agent is always theirs to see and answer, whatever inbox it
//!   is in: assignment (by a rule, a supervisor or a transfer) grants it.
//! - Supervisors see and act on every conversation of the inboxes they or their teams belong
//!   to; admins on everything.
//! - Contacts are seen through conversations: whoever sees one of a contact's conversations
//!   sees the contact.
//!
//! A [`Visibility`] is computed once per request (one query) and answers both questions the
//! API asks: "may I read / act on this conversation" ([`Visibility::grant`]) and "which
//! conversations may I list" (the condition [`ListFilter::visible`](crate::ListFilter) adds,
//! which search shares).

use std::collections::BTreeSet;
use std::str::FromStr;

use sea_orm::sea_query::{Expr, ExprTrait, Query, StringLen};
use sea_orm::{
    ColumnTrait, Condition, DeriveActiveEnum, EntityTrait, EnumIter, PaginatorTrait, QueryFilter,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

use crate::accounts::{Agents, Teams};
use crate::db::Db;
use crate::entity::{agent, contact, conversation, inbox, inbox_agent, inbox_team, team_member};
use crate::error::StoreError;

/// An agent's role, stored in `agents.role`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Answers conversations of their inboxes.
    Agent,
    /// Also assigns, transfers and sees every conversation of their teams' inboxes.
    Supervisor,
    /// Also manages agents, inboxes and settings, and sees everything.
    Admin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 3] = [Role::Agent, Role::Supervisor, Role::Admin];

    /// Parses a stored or submitted role name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Supervisor => "supervisor",
            Self::Admin => "admin",
        }
    }
}

/// How far an inbox's agents reach into conversations assigned to another agent. Supervisors
/// and admins are not limited by it.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    EnumIter,
    DeriveActiveEnum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum OthersAccess {
    /// Not at all: agents see the queue and their own conversations (the default).
    #[default]
    #[sea_orm(string_value = "none")]
    None,
    /// Read-only: agents see others' conversations but cannot answer or change them.
    #[sea_orm(string_value = "read")]
    Read,
    /// Fully: agents may also answer, resolve and label others' conversations.
    #[sea_orm(string_value = "reply")]
    Reply,
}

impl FromStr for OthersAccess {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Self::None),
            "read" => Ok(Self::Read),
            "reply" => Ok(Self::Reply),
            _ => Err(format!(
                "others_access must be none, read or reply, not {s:?}"
            )),
        }
    }
}

/// What a viewer may do with one conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Grant {
    /// See it and its messages, mark it read.
    Read,
    /// Also answer, resolve, reopen, label, transfer.
    Act,
}

/// What one agent may see, computed for a request or a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// Admins: every conversation and contact.
    All,
    /// Agents and supervisors: their own conversations anywhere, the rest by inbox.
    Member {
        /// The agent.
        agent_id: i64,
        /// Inboxes they belong to: their queue (unassigned conversations) is theirs to act on.
        inboxes: BTreeSet<i64>,
        /// Inboxes where they may read others' conversations.
        read_others: BTreeSet<i64>,
        /// Inboxes where they may also act on others' conversations.
        act_others: BTreeSet<i64>,
    },
}

impl Visibility {
    /// What the viewer may do with a conversation in `inbox_id` assigned to `assignee_id`;
    /// `None` when they may not see it at all.
    pub fn grant(&self, inbox_id: i64, assignee_id: Option<i64>) -> Option<Grant> {
        let Self::Member {
            agent_id,
            inboxes,
            read_others,
            act_others,
        } = self
        else {
            return Some(Grant::Act);
        };
        match assignee_id {
            Some(a) if a == *agent_id => Some(Grant::Act),
            None if inboxes.contains(&inbox_id) => Some(Grant::Act),
            Some(_) if act_others.contains(&inbox_id) => Some(Grant::Act),
            Some(_) if read_others.contains(&inbox_id) => Some(Grant::Read),
            _ => None,
        }
    }

    /// Whether the viewer belongs to inbox `inbox_id` (admins belong everywhere).
    pub fn belongs_to(&self, inbox_id: i64) -> bool {
        match self {
            Self::All => true,
            Self::Member { inboxes, .. } => inboxes.contains(&inbox_id),
        }
    }

    /// The conversations the viewer may see, as a condition on `conversations`; `None` for
    /// everything.
    pub(crate) fn condition(&self) -> Option<Condition> {
        use conversation::Column as C;
        let Self::Member {
            agent_id,
            inboxes,
            read_others,
            act_others,
        } = self
        else {
            return None;
        };
        let others: BTreeSet<i64> = read_others.union(act_others).copied().collect();
        let mut any = Condition::any().add(C::AssigneeId.eq(*agent_id));
        if !inboxes.is_empty() {
            any = any.add(
                Condition::all()
                    .add(C::AssigneeId.is_null())
                    .add(C::InboxId.is_in(inboxes.iter().copied())),
            );
        }
        if !others.is_empty() {
            any = any.add(C::InboxId.is_in(others));
        }
        Some(any)
    }
}

/// Inbox membership and the visibility it gives.
#[derive(Debug, Clone)]
pub struct Access {
    db: Db,
}

/// An inbox's members: agents directly and teams.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Members {
    /// Agents who belong directly.
    pub agent_ids: Vec<i64>,
    /// Teams whose members belong.
    pub team_ids: Vec<i64>,
}

impl Access {
    /// Membership stored in `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// What agent `agent_id` with `role` may see.
    pub async fn visibility(&self, agent_id: i64, role: Role) -> Result<Visibility, StoreError> {
        if role == Role::Admin {
            return Ok(Visibility::All);
        }
        let direct = Query::select()
            .column(inbox_agent::Column::InboxId)
            .from(inbox_agent::Entity)
            .and_where(Expr::col(inbox_agent::Column::AgentId).eq(agent_id))
            .take();
        let via_team = Query::select()
            .column(inbox_team::Column::InboxId)
            .from(inbox_team::Entity)
            .and_where(
                Expr::col(inbox_team::Column::TeamId).in_subquery(
                    Query::select()
                        .column(team_member::Column::TeamId)
                        .from(team_member::Entity)
                        .and_where(Expr::col(team_member::Column::AgentId).eq(agent_id))
                        .take(),
                ),
            )
            .take();
        let rows: Vec<(i64, OthersAccess)> = inbox::Entity::find()
            .select_only()
            .column(inbox::Column::Id)
            .column(inbox::Column::OthersAccess)
            .filter(
                Condition::any()
                    .add(inbox::Column::Id.in_subquery(direct))
                    .add(inbox::Column::Id.in_subquery(via_team)),
            )
            .into_tuple()
            .all(self.db.conn())
            .await?;
        let mut inboxes = BTreeSet::new();
        let mut read_others = BTreeSet::new();
        let mut act_others = BTreeSet::new();
        for (id, others) in rows {
            inboxes.insert(id);
            match (role, others) {
                (Role::Supervisor | Role::Admin, _) | (_, OthersAccess::Reply) => {
                    act_others.insert(id);
                }
                (_, OthersAccess::Read) => {
                    read_others.insert(id);
                }
                (_, OthersAccess::None) => {}
            }
        }
        Ok(Visibility::Member {
            agent_id,
            inboxes,
            read_others,
            act_others,
        })
    }

    /// Whether `visibility` reaches contact `contact_id` through one of its conversations (for
    /// admins: whether it exists).
    pub async fn sees_contact(
        &self,
        visibility: &Visibility,
        contact_id: i64,
    ) -> Result<bool, StoreError> {
        let Some(cond) = visibility.condition() else {
            let n = contact::Entity::find_by_id(contact_id)
                .count(self.db.conn())
                .await?;
            return Ok(n > 0);
        };
        let n = conversation::Entity::find()
            .filter(conversation::Column::ContactId.eq(contact_id))
            .filter(cond)
            .limit(1)
            .count(self.db.conn())
            .await?;
        Ok(n > 0)
    }

    /// Inbox `inbox_id`'s members.
    pub async fn members(&self, inbox_id: i64) -> Result<Members, StoreError> {
        let agent_ids = inbox_agent::Entity::find()
            .select_only()
            .column(inbox_agent::Column::AgentId)
            .filter(inbox_agent::Column::InboxId.eq(inbox_id))
            .into_tuple()
            .all(self.db.conn())
            .await?;
        let team_ids = inbox_team::Entity::find()
            .select_only()
            .column(inbox_team::Column::TeamId)
            .filter(inbox_team::Column::InboxId.eq(inbox_id))
            .into_tuple()
            .all(self.db.conn())
            .await?;
        Ok(Members {
            agent_ids,
            team_ids,
        })
    }

    /// Replaces inbox `inbox_id`'s members. The caller checks that the ids exist. Returns the
    /// members before the change, so the caller can tell whose access changed.
    pub async fn set_members(&self, inbox_id: i64, new: &Members) -> Result<Members, StoreError> {
        self.check_exist(new).await?;
        let old = self.members(inbox_id).await?;
        let txn = self.db.begin_write().await?;
        inbox_agent::Entity::delete_many()
            .filter(inbox_agent::Column::InboxId.eq(inbox_id))
            .exec(&*txn)
            .await?;
        inbox_team::Entity::delete_many()
            .filter(inbox_team::Column::InboxId.eq(inbox_id))
            .exec(&*txn)
            .await?;
        let agents: BTreeSet<i64> = new.agent_ids.iter().copied().collect();
        if !agents.is_empty() {
            inbox_agent::Entity::insert_many(agents.into_iter().map(|agent_id| {
                inbox_agent::ActiveModel {
                    inbox_id: Set(inbox_id),
                    agent_id: Set(agent_id),
                }
            }))
            .exec(&*txn)
            .await?;
        }
        let teams: BTreeSet<i64> = new.team_ids.iter().copied().collect();
        if !teams.is_empty() {
            inbox_team::Entity::insert_many(teams.into_iter().map(|team_id| {
                inbox_team::ActiveModel {
                    inbox_id: Set(inbox_id),
                    team_id: Set(team_id),
                }
            }))
            .exec(&*txn)
            .await?;
        }
        txn.commit().await?;
        Ok(old)
    }

    /// Fails with `Invalid` (its detail starting with the field) unless every agent (not
    /// deleted) and team exists; the same checks as team members and an agent's teams.
    async fn check_exist(&self, m: &Members) -> Result<(), StoreError> {
        Teams::new(self.db.clone())
            .check_agents(&m.agent_ids)
            .await?;
        Agents::new(self.db.clone())
            .check_teams(&m.team_ids)
            .await
            .map_err(|e| match e {
                StoreError::Invalid(d) => StoreError::Invalid(format!("team_ids: {d}")),
                e => e,
            })?;
        Ok(())
    }

    /// Every active agent who may read a conversation of `inbox_id` assigned to `assignee_id`:
    /// admins, the assignee, and the inbox's members (directly or through a team) — of an
    /// unassigned conversation all of them, of someone else's the supervisors and, where the
    /// inbox lets agents read others' conversations, the agents too. The same rule as
    /// [`Visibility::grant`], for everyone at once (who may be mentioned in a note).
    pub async fn readers(
        &self,
        inbox_id: i64,
        assignee_id: Option<i64>,
    ) -> Result<BTreeSet<i64>, StoreError> {
        let members = self.members(inbox_id).await?;
        let mut belong: BTreeSet<i64> = members.agent_ids.iter().copied().collect();
        belong.extend(self.team_agents(&members.team_ids).await?);
        let others: Option<OthersAccess> = inbox::Entity::find_by_id(inbox_id)
            .select_only()
            .column(inbox::Column::OthersAccess)
            .into_tuple()
            .one(self.db.conn())
            .await?;
        let agents: Vec<(i64, String)> = agent::Entity::find()
            .select_only()
            .column(agent::Column::Id)
            .column(agent::Column::Role)
            .filter(agent::Column::DeletedAt.is_null())
            .filter(agent::Column::Active.eq(true))
            .into_tuple()
            .all(self.db.conn())
            .await?;
        Ok(agents
            .into_iter()
            .filter(|(id, role)| {
                let role = Role::parse(role).unwrap_or(Role::Agent);
                let member = belong.contains(id);
                role == Role::Admin
                    || assignee_id == Some(*id)
                    || (member && assignee_id.is_none())
                    || (member && role == Role::Supervisor)
                    || (member && others.is_some_and(|o| o != OthersAccess::None))
            })
            .map(|(id, _)| id)
            .collect())
    }

    /// The agents of `team_ids` (to tell them their access changed).
    pub async fn team_agents(&self, team_ids: &[i64]) -> Result<Vec<i64>, StoreError> {
        if team_ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(team_member::Entity::find()
            .select_only()
            .column(team_member::Column::AgentId)
            .filter(team_member::Column::TeamId.is_in(team_ids.iter().copied()))
            .into_tuple()
            .all(self.db.conn())
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(agent_id: i64, inboxes: &[i64], read: &[i64], act: &[i64]) -> Visibility {
        Visibility::Member {
            agent_id,
            inboxes: inboxes.iter().copied().collect(),
            read_others: read.iter().copied().collect(),
            act_others: act.iter().copied().collect(),
        }
    }

    #[test]
    fn grants_follow_membership_assignment_and_the_inbox_switch() {
        // Agent 7 belongs to inboxes 1 (others hidden), 2 (others read-only), 3 (others open).
        let v = member(7, &[1, 2, 3], &[2], &[3]);
        let cases = [
            (1, None, Some(Grant::Act)),
            (1, Some(7), Some(Grant::Act)),
            (1, Some(8), None),
            (2, Some(8), Some(Grant::Read)),
            (3, Some(8), Some(Grant::Act)),
            // Not a member of inbox 4: only what is assigned to them.
            (4, None, None),
            (4, Some(8), None),
            (4, Some(7), Some(Grant::Act)),
        ];
        for (inbox, assignee, want) in cases {
            assert_eq!(
                v.grant(inbox, assignee),
                want,
                "inbox {inbox}, assignee {assignee:?}"
            );
        }
        assert_eq!(Visibility::All.grant(4, Some(8)), Some(Grant::Act));
    }

    #[test]
    fn roles_and_switches_parse_their_stored_names_only() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!("read".parse::<OthersAccess>(), Ok(OthersAccess::Read));
        assert!("all".parse::<OthersAccess>().is_err());
    }
}
