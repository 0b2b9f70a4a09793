//! [`Metrics`]: derives `metric_events` rows from committed outbox events. The outbox's
//! consumer (the dispatcher's fan-out) calls [`Metrics::record`] with each batch, beside the
//! webhooks, before the batch is marked.
//!
//! A conversation's response cycle (when it began, whether it has had its first response,
//! whether it waits in the queue) is folded from its earlier rows, then advanced event by
//! event. Only rows derived from events older than the batch are folded, so consuming a batch
//! again, or a longer batch that starts with it, derives the same rows, which the unique
//! `(kind, source_event_id)` then drops.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QueryTrait, Set,
};

use crate::entity::metric_event::{self, Actor, MetricKind};
use crate::entity::{conversation, conversation_label, inbox, schedule};
use crate::schedules::Hours;
use crate::views::ConversationView;
use crate::{Db, Direction, Event, EventData, SenderType, Status, StoreError};

/// Writes the measured facts of committed events.
#[derive(Clone)]
pub struct Metrics {
    db: Db,
}

/// Where a conversation's current response cycle stands.
#[derive(Debug, Clone)]
struct Cycle {
    inbox_id: i64,
    team_id: Option<i64>,
    /// When the cycle began: the conversation was opened or reopened.
    started: DateTime<Utc>,
    /// Whether an agent has answered in this cycle.
    responded: bool,
    /// Since when it waits for an agent, if it does.
    waiting_since: Option<DateTime<Utc>>,
}

impl Cycle {
    fn opened(c: &ConversationView, at: DateTime<Utc>) -> Self {
        Self {
            inbox_id: c.inbox_id,
            team_id: c.team_id,
            started: at,
            responded: false,
            waiting_since: waiting(c, at),
        }
    }

    /// Advances the cycle by one of its earlier rows.
    fn fold(&mut self, r: &metric_event::Model) {
        self.inbox_id = r.inbox_id;
        self.team_id = r.team_id.or(self.team_id);
        match r.kind {
            MetricKind::Opened | MetricKind::Reopen => {
                self.started = r.at;
                self.responded = false;
                self.waiting_since = Some(r.at);
            }
            MetricKind::FirstResponse => self.responded = true,
            MetricKind::Transfer => self.waiting_since = Some(r.at),
            MetricKind::QueueWait => self.waiting_since = None,
            MetricKind::Reply | MetricKind::Resolution | MetricKind::Csat => {}
        }
    }
}

/// When a conversation in state `c` starts waiting for an agent at `at`: not when it has one.
fn waiting(c: &ConversationView, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (c.assignee_id.is_none() || c.status != Status::Assigned).then_some(at)
}

/// What the event is about, when it is measured at all.
fn measured(e: &Event) -> Option<i64> {
    match &e.data {
        EventData::ConversationCreated(n) => Some(n.conversation.id),
        EventData::ConversationReopened(c)
        | EventData::ConversationAssigned(c)
        | EventData::ConversationTransferred(c)
        | EventData::ConversationResolved(c) => Some(c.id),
        EventData::MessageCreated(m) if is_response(m) => Some(m.conversation_id),
        EventData::CsatSubmitted(s) => Some(s.conversation_id),
        _ => None,
    }
}

/// An agent's message the customer sees. Private notes, bot and system messages are not
/// responses, nor is the copy of a reply sent through another channel (channel fallback): the
/// agent answered once, in the first conversation.
fn is_response(m: &crate::views::MessageView) -> bool {
    m.direction == Direction::Outbound
        && !m.private
        && m.sender.kind == SenderType::Agent
        && m.delivery
            .as_ref()
            .is_none_or(|d| d.fallback_from.is_none())
}

/// A row before it is written.
struct Fact {
    kind: MetricKind,
    source: i64,
    conversation_id: i64,
    inbox_id: i64,
    team_id: Option<i64>,
    agent_id: Option<i64>,
    actor: Actor,
    at: DateTime<Utc>,
    since: Option<DateTime<Utc>>,
    rating: Option<i16>,
}

impl Fact {
    fn new(kind: MetricKind, e: &Event, cycle: &Cycle, conversation_id: i64) -> Self {
        Self {
            kind,
            source: e.id,
            conversation_id,
            inbox_id: cycle.inbox_id,
            team_id: cycle.team_id,
            agent_id: None,
            actor: Actor::System,
            at: e.timestamp,
            since: None,
            rating: None,
        }
    }
}

impl Metrics {
    /// Metrics stored in `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Writes the facts of one batch of committed events (in outbox order). Writing a batch
    /// again adds nothing.
    pub async fn record(&self, events: &[Arc<Event>]) -> Result<(), StoreError> {
        // The conversations measured before the batch, with their first event in it; a
        // conversation the batch opens has no earlier cycle to look up.
        let mut first_event: BTreeMap<i64, i64> = BTreeMap::new();
        let mut opened_here = BTreeSet::new();
        let mut any = false;
        for e in events {
            let Some(c) = measured(e) else { continue };
            any = true;
            if matches!(e.data, EventData::ConversationCreated(_)) && !first_event.contains_key(&c)
            {
                opened_here.insert(c);
            } else if !opened_here.contains(&c) {
                let first = first_event.entry(c).or_insert(e.id);
                *first = (*first).min(e.id);
            }
        }
        if !any {
            return Ok(());
        }
        let mut cycles = if first_event.is_empty() {
            HashMap::new()
        } else {
            self.cycles(&first_event).await?
        };
        let mut facts = Vec::new();
        for e in events {
            derive(e, &mut cycles, &mut facts);
        }
        self.write(facts).await
    }

    /// The cycles of the batch's conversations before the batch, from their earlier rows, or
    /// (for conversations opened before reports existed) from their rows: such a cycle counts
    /// as already answered, since what happened before is not known.
    async fn cycles(
        &self,
        first_event: &BTreeMap<i64, i64>,
    ) -> Result<HashMap<i64, Cycle>, StoreError> {
        let ids: Vec<i64> = first_event.keys().copied().collect();
        let rows = metric_event::Entity::find()
            .filter(metric_event::Column::ConversationId.is_in(ids.clone()))
            .filter(metric_event::Column::Kind.is_in([
                MetricKind::Opened,
                MetricKind::Reopen,
                MetricKind::FirstResponse,
                MetricKind::Transfer,
                MetricKind::QueueWait,
            ]))
            .order_by_asc(metric_event::Column::SourceEventId)
            .order_by_asc(metric_event::Column::Id)
            .all(self.db.conn())
            .await?;
        let mut cycles: HashMap<i64, Cycle> = HashMap::new();
        for r in rows {
            if first_event
                .get(&r.conversation_id)
                .is_none_or(|&first| r.source_event_id >= first)
            {
                continue;
            }
            cycles
                .entry(r.conversation_id)
                .or_insert_with(|| Cycle {
                    inbox_id: r.inbox_id,
                    team_id: r.team_id,
                    started: r.at,
                    responded: false,
                    waiting_since: None,
                })
                .fold(&r);
        }
        let unknown: Vec<i64> = ids
            .into_iter()
            .filter(|c| !cycles.contains_key(c))
            .collect();
        if !unknown.is_empty() {
            for c in conversation::Entity::find()
                .filter(conversation::Column::Id.is_in(unknown))
                .all(self.db.conn())
                .await?
            {
                cycles.insert(
                    c.id,
                    Cycle {
                        inbox_id: c.inbox_id,
                        team_id: c.team_id,
                        started: c.created_at,
                        responded: true,
                        waiting_since: None,
                    },
                );
            }
        }
        Ok(cycles)
    }

    /// Stores the facts with their inbox's channel and business time.
    async fn write(&self, facts: Vec<Fact>) -> Result<(), StoreError> {
        if facts.is_empty() {
            return Ok(());
        }
        // The two reads are independent: on PostgreSQL they take two pooled connections at
        // once instead of two round trips one after the other.
        let (inboxes, labels) = tokio::try_join!(self.inboxes(&facts), self.labels(&facts))?;
        let rows: Vec<metric_event::ActiveModel> = facts
            .into_iter()
            .filter_map(|f| {
                // An inbox deleted since has no channel to report under.
                let (channel, hours) = inboxes.get(&f.inbox_id)?;
                let hours = hours.as_ref();
                let wall_ms = f.since.map(|s| (f.at - s).num_milliseconds().max(0));
                let business_ms = f.since.map(|s| match hours {
                    Some(h) => i64::try_from(h.open_between(s, f.at).as_millis()).unwrap_or(0),
                    None => (f.at - s).num_milliseconds().max(0),
                });
                Some(metric_event::ActiveModel {
                    kind: Set(f.kind),
                    source_event_id: Set(f.source),
                    conversation_id: Set(f.conversation_id),
                    inbox_id: Set(f.inbox_id),
                    channel: Set(channel.clone()),
                    team_id: Set(f.team_id),
                    agent_id: Set(f.agent_id),
                    actor: Set(f.actor),
                    at: Set(f.at),
                    wall_ms: Set(wall_ms),
                    business_ms: Set(business_ms),
                    rating: Set(f.rating),
                    labels: Set(labels
                        .get(&f.conversation_id)
                        .map(|ids| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(" "))),
                    ..Default::default()
                })
            })
            .collect();
        // The rows and what they add to the rollups commit together; only the rows actually
        // inserted (not those a previous consumption of the batch wrote) are added.
        let tx = self.db.begin_write().await?;
        let backend = tx.get_database_backend();
        let mut inserted = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(500) {
            let mut stmt = metric_event::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::columns([
                        metric_event::Column::Kind,
                        metric_event::Column::SourceEventId,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .into_query();
            stmt.returning_all();
            inserted.extend(
                metric_event::Entity::find()
                    .from_raw_sql(backend.build(&stmt))
                    .all(&*tx)
                    .await?,
            );
        }
        super::rollup::apply(&*tx, &inserted).await?;
        tx.commit().await?;
        crate::prometheus::observe(&inserted);
        Ok(())
    }

    /// The facts' inboxes' channel types and, when a fact measures a duration, their business
    /// hours. A batch that only opens conversations needs no hours, and an inbox's channel
    /// type never changes, so such a batch reads no inbox at all once the types are cached.
    async fn inboxes(
        &self,
        facts: &[Fact],
    ) -> Result<HashMap<i64, (String, Option<Hours>)>, StoreError> {
        let inbox_ids: BTreeSet<i64> = facts.iter().map(|f| f.inbox_id).collect();
        let mut out = HashMap::with_capacity(inbox_ids.len());
        if facts.iter().all(|f| f.since.is_none()) {
            for id in inbox_ids {
                if let Some(channel) = self.db.channel_type(id).await? {
                    out.insert(id, (channel, None));
                }
            }
            return Ok(out);
        }
        let inboxes = inbox::Entity::find()
            .filter(inbox::Column::Id.is_in(inbox_ids))
            .all(self.db.conn())
            .await?;
        let schedule_ids: BTreeSet<i64> = inboxes.iter().filter_map(|i| i.schedule_id).collect();
        let schedules: HashMap<i64, Hours> = if schedule_ids.is_empty() {
            HashMap::new()
        } else {
            schedule::Entity::find()
                .filter(schedule::Column::Id.is_in(schedule_ids))
                .all(self.db.conn())
                .await?
                .iter()
                .filter_map(|s| Some((s.id, crate::schedules::store::hours_of(s).ok()?)))
                .collect()
        };
        for i in inboxes {
            let hours = i.schedule_id.and_then(|s| schedules.get(&s).cloned());
            out.insert(i.id, (i.channel_type, hours));
        }
        Ok(out)
    }

    /// The facts' conversations' labels as the facts are recorded (the consumer runs just
    /// after the commit), for reports by label.
    async fn labels(&self, facts: &[Fact]) -> Result<HashMap<i64, BTreeSet<i64>>, StoreError> {
        let conversation_ids: BTreeSet<i64> = facts.iter().map(|f| f.conversation_id).collect();
        let mut labels: HashMap<i64, BTreeSet<i64>> = HashMap::new();
        for l in conversation_label::Entity::find()
            .filter(conversation_label::Column::ConversationId.is_in(conversation_ids))
            .all(self.db.conn())
            .await?
        {
            labels
                .entry(l.conversation_id)
                .or_default()
                .insert(l.label_id);
        }
        Ok(labels)
    }
}

/// The facts of one event, advancing its conversation's cycle.
fn derive(e: &Event, cycles: &mut HashMap<i64, Cycle>, out: &mut Vec<Fact>) {
    use MetricKind as K;
    match &e.data {
        EventData::ConversationCreated(n) => {
            let c = &n.conversation;
            let cycle = Cycle::opened(c, c.created_at);
            let mut f = Fact::new(K::Opened, e, &cycle, c.id);
            f.at = c.created_at;
            f.actor = Actor::Contact;
            out.push(f);
            cycles.insert(c.id, cycle);
        }
        EventData::ConversationReopened(c) => {
            let cycle = Cycle::opened(c, e.timestamp);
            let mut f = Fact::new(K::Reopen, e, &cycle, c.id);
            f.actor = Actor::Contact;
            out.push(f);
            cycles.insert(c.id, cycle);
        }
        EventData::ConversationAssigned(c) => {
            let Some(cycle) = cycles.get_mut(&c.id) else {
                return;
            };
            cycle.team_id = c.team_id;
            if let Some(since) = cycle.waiting_since.take() {
                let mut f = Fact::new(K::QueueWait, e, cycle, c.id);
                f.agent_id = c.assignee_id;
                f.since = Some(since);
                out.push(f);
            }
        }
        EventData::ConversationTransferred(c) => {
            let Some(cycle) = cycles.get_mut(&c.id) else {
                return;
            };
            cycle.team_id = c.team_id;
            cycle.waiting_since = waiting(c, e.timestamp);
            let mut f = Fact::new(K::Transfer, e, cycle, c.id);
            f.agent_id = c.assignee_id;
            out.push(f);
        }
        EventData::ConversationResolved(c) => {
            let Some(cycle) = cycles.get_mut(&c.id) else {
                return;
            };
            cycle.team_id = c.team_id.or(cycle.team_id);
            let mut f = Fact::new(K::Resolution, e, cycle, c.id);
            f.agent_id = c.assignee_id;
            f.actor = if c.assignee_id.is_some() {
                Actor::Human
            } else {
                Actor::System
            };
            f.since = Some(cycle.started);
            out.push(f);
        }
        EventData::MessageCreated(m) if is_response(m) => {
            let Some(cycle) = cycles.get_mut(&m.conversation_id) else {
                return;
            };
            let mut reply = Fact::new(K::Reply, e, cycle, m.conversation_id);
            reply.agent_id = m.sender.id;
            reply.actor = Actor::Human;
            reply.at = m.created_at;
            if !cycle.responded && m.created_at >= cycle.started {
                cycle.responded = true;
                let mut first = Fact::new(K::FirstResponse, e, cycle, m.conversation_id);
                first.agent_id = m.sender.id;
                first.actor = Actor::Human;
                first.at = m.created_at;
                first.since = Some(cycle.started);
                out.push(first);
            }
            out.push(reply);
        }
        EventData::CsatSubmitted(s) => {
            let cycle = Cycle {
                inbox_id: s.inbox_id,
                team_id: s.team_id,
                started: s.requested_at,
                responded: true,
                waiting_since: None,
            };
            let mut f = Fact::new(K::Csat, e, &cycle, s.conversation_id);
            f.agent_id = s.agent_id;
            f.actor = Actor::Contact;
            f.at = s.submitted_at.unwrap_or(e.timestamp);
            f.rating = s.rating;
            out.push(f);
        }
        _ => {}
    }
}
