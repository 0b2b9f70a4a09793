//! The conversation list: filters ([`ListFilter`]), sort orders ([`Sort`]) and keyset paging
//! ([`Cursor`]). Every order ends with the conversation id, so a cursor names one exact place
//! in it and paging neither skips nor repeats rows while conversations change; each order has
//! an index ending in `id` (migration `m0009_labels`).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect};

use crate::conversations::Conversations;
use crate::entity::{conversation, conversation_label, inbox};
use crate::error::StoreError;
use crate::status::Status;
use crate::views::ConversationView;

/// How many of the newest conversations a "newest first" list with a priority filter reads
/// on SQLite before it falls back to the priority index (see `Conversations::in_order`).
pub(crate) const NEWEST_WINDOW: u64 = 2000;

/// Filters for listing conversations.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only these statuses.
    pub statuses: Vec<Status>,
    /// Only this inbox.
    pub inbox_id: Option<i64>,
    /// Only this assignee.
    pub assignee_id: Option<i64>,
    /// Only conversations nobody is assigned to.
    pub unassigned: bool,
    /// Only this contact.
    pub contact_id: Option<i64>,
    /// Only conversations routed to this team.
    pub team_id: Option<i64>,
    /// Only conversations carrying the label with this id.
    pub label_id: Option<i64>,
    /// Only conversations with at least this priority.
    pub priority_min: Option<i32>,
    /// Only conversations of inboxes of this channel type (`web_chat`, `email`...).
    pub channel: Option<String>,
    /// Only conversations opened at or after this time.
    pub created_after: Option<DateTime<Utc>>,
    /// Only conversations opened before this time.
    pub created_before: Option<DateTime<Utc>>,
    /// Only conversations this viewer may see (`None`: no restriction, for internal callers).
    pub visible: Option<crate::access::Visibility>,
}

/// The order of the conversation list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Newest conversation first (the default).
    #[default]
    Newest,
    /// Most recent message first.
    LastActivity,
    /// Longest waiting first: the customer's last message oldest first; conversations without
    /// a customer message come last.
    Waiting,
    /// Highest priority first; within a priority, oldest conversation first (like the queue).
    Priority,
}

impl std::str::FromStr for Sort {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "newest" => Ok(Self::Newest),
            "last_activity" => Ok(Self::LastActivity),
            "waiting" => Ok(Self::Waiting),
            "priority" => Ok(Self::Priority),
            other => Err(format!(
                "sort {other:?} is not one of newest, last_activity, waiting, priority"
            )),
        }
    }
}

/// Where the next page starts: the sort key and id of the last row of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    key: Key,
    id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    None,
    Time(Option<DateTime<Utc>>),
    Int(i64),
}

impl Cursor {
    /// The cursor after `row` in `sort` order.
    fn after(sort: Sort, row: &conversation::Model) -> Self {
        let key = match sort {
            Sort::Newest => Key::None,
            Sort::LastActivity => Key::Time(Some(row.last_message_at)),
            Sort::Waiting => Key::Time(row.last_inbound_at),
            Sort::Priority => Key::Int(i64::from(row.priority)),
        };
        Self { key, id: row.id }
    }

    /// Parses a cursor this API returned for `sort`; the message says why not otherwise.
    pub fn parse(s: &str, sort: Sort) -> Result<Self, String> {
        let bad = || format!("cursor {s:?} is not one this API returned for this sort");
        if sort == Sort::Newest {
            let id = s.parse().map_err(|_| bad())?;
            return Ok(Self { key: Key::None, id });
        }
        let (head, id) = s.split_once('_').ok_or_else(bad)?;
        let id: i64 = id.parse().map_err(|_| bad())?;
        let (tag, value) = head.split_at_checked(1).ok_or_else(bad)?;
        let key = match (sort, tag) {
            (Sort::Priority, "p") => Key::Int(value.parse().map_err(|_| bad())?),
            (Sort::LastActivity, "a") | (Sort::Waiting, "w") if value == "n" => Key::Time(None),
            (Sort::LastActivity, "a") | (Sort::Waiting, "w") => {
                let nanos: i64 = value.parse().map_err(|_| bad())?;
                Key::Time(Some(DateTime::from_timestamp_nanos(nanos)))
            }
            _ => return Err(bad()),
        };
        Ok(Self { key, id })
    }

    /// The opaque text form (URL-safe).
    pub fn encode(&self, sort: Sort) -> String {
        let tag = match sort {
            Sort::Newest => return self.id.to_string(),
            Sort::LastActivity => "a",
            Sort::Waiting => "w",
            Sort::Priority => "p",
        };
        let value = match &self.key {
            Key::None | Key::Time(None) => "n".to_owned(),
            Key::Time(Some(t)) => t.timestamp_nanos_opt().unwrap_or(i64::MAX).to_string(),
            Key::Int(i) => i.to_string(),
        };
        format!("{tag}{value}_{}", self.id)
    }
}

/// The condition "after the cursor" in `sort` order ([`Sort::Waiting`] pages its two parts
/// itself).
fn after(sort: Sort, c: &Cursor) -> Condition {
    use conversation::Column as C;
    let id = c.id;
    match (sort, &c.key) {
        (Sort::LastActivity, Key::Time(Some(t))) => Condition::any()
            .add(C::LastMessageAt.lt(*t))
            .add(C::LastMessageAt.eq(*t).and(C::Id.lt(id))),
        (Sort::Priority, Key::Int(p)) => Condition::any()
            .add(C::Priority.lt(*p))
            .add(C::Priority.eq(*p).and(C::Id.gt(id))),
        _ => Condition::all().add(C::Id.lt(id)),
    }
}

impl Conversations {
    /// Conversations matching `f` in `sort` order, `limit` at a time; pass the returned cursor
    /// (from [`Cursor::parse`]) to continue.
    pub async fn list(
        &self,
        f: &ListFilter,
        sort: Sort,
        cursor: Option<&Cursor>,
        limit: u64,
    ) -> Result<(Vec<ConversationView>, Option<String>), StoreError> {
        let mut rows = if sort == Sort::Waiting {
            self.waiting(f, cursor, limit + 1).await?
        } else {
            self.in_order(f, sort, cursor, limit + 1).await?
        };
        let next = if rows.len() as u64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|r| Cursor::after(sort, r).encode(sort))
        } else {
            None
        };
        Ok((self.with_contacts(&rows).await?, next))
    }

    /// Up to `n` rows in `sort` order (not [`Sort::Waiting`]): one query whose order an index
    /// ending in `id` gives.
    async fn in_order(
        &self,
        f: &ListFilter,
        sort: Sort,
        cursor: Option<&Cursor>,
        n: u64,
    ) -> Result<Vec<conversation::Model>, StoreError> {
        use conversation::Column as C;
        let mut q = conversation::Entity::find().limit(n);
        q = match sort {
            Sort::Newest | Sort::Waiting => q.order_by(C::Id, Order::Desc),
            Sort::LastActivity => q
                .order_by(C::LastMessageAt, Order::Desc)
                .order_by(C::Id, Order::Desc),
            Sort::Priority => q
                .order_by(C::Priority, Order::Desc)
                .order_by(C::Id, Order::Asc),
        };
        q = q.filter(conditions(f));
        if let Some(c) = cursor {
            q = q.filter(after(sort, c));
        }
        let conn = self.db().conn();
        if sort == Sort::Newest && f.priority_min.is_some() && !self.db().is_postgres() {
            // SQLite plans `priority >= ?` for the bound value and, from about a fifth of the
            // rows matching, reads the priority index's range and sorts it by id, ignoring
            // that a page is found a few rows into a backwards scan. So the newest rows are
            // tried first: a page found among them is the page; fewer matches than a page
            // there mean they are rare, and the range read is then small and right.
            let mut window = Query::select()
                .column(C::Id)
                .from(conversation::Entity)
                .order_by(C::Id, Order::Desc)
                .limit(NEWEST_WINDOW)
                .to_owned();
            if let Some(c) = cursor {
                window.cond_where(after(sort, c));
            }
            let rows = q
                .clone()
                .filter(C::Id.in_subquery(window))
                .all(conn)
                .await?;
            if rows.len() as u64 >= n {
                return Ok(rows);
            }
        }
        Ok(q.all(conn).await?)
    }

    /// Up to `n` rows in [`Sort::Waiting`] order, in two parts that each follow an index:
    /// conversations with a customer message by its time (`ix_conv_last_inbound`), then those
    /// without one by id. One query with `NULLS LAST` made SQLite sort every active
    /// conversation (SQLite's indexes keep NULLs first).
    async fn waiting(
        &self,
        f: &ListFilter,
        cursor: Option<&Cursor>,
        n: u64,
    ) -> Result<Vec<conversation::Model>, StoreError> {
        use conversation::Column as C;
        let conn = self.db().conn();
        let (mut rows, after_id) = match cursor {
            Some(Cursor {
                key: Key::Time(None),
                id,
            }) => (Vec::new(), Some(*id)),
            _ => {
                let mut q = conversation::Entity::find()
                    .filter(conditions(f))
                    .filter(C::LastInboundAt.is_not_null())
                    .order_by(C::LastInboundAt, Order::Asc)
                    .order_by(C::Id, Order::Asc)
                    .limit(n);
                if let Some(Cursor {
                    key: Key::Time(Some(t)),
                    id,
                }) = cursor
                {
                    q = q.filter(
                        Condition::any()
                            .add(C::LastInboundAt.gt(*t))
                            .add(C::LastInboundAt.eq(*t).and(C::Id.gt(*id))),
                    );
                }
                (q.all(conn).await?, None)
            }
        };
        let missing = n.saturating_sub(rows.len() as u64);
        if missing > 0 {
            let mut q = conversation::Entity::find()
                .filter(conditions(f))
                .filter(C::LastInboundAt.is_null())
                .order_by(C::Id, Order::Asc)
                .limit(missing);
            if let Some(id) = after_id {
                q = q.filter(C::Id.gt(id));
            }
            rows.extend(q.all(conn).await?);
        }
        Ok(rows)
    }
}

/// The filter as one condition.
pub(crate) fn conditions(f: &ListFilter) -> Condition {
    use conversation::Column as C;
    let mut all = Condition::all();
    if let Some(cond) = f.visible.as_ref().and_then(|v| v.condition()) {
        all = all.add(cond);
    }
    if !f.statuses.is_empty() {
        all = all.add(C::Status.is_in(f.statuses.iter().copied()));
    }
    if let Some(v) = f.inbox_id {
        all = all.add(C::InboxId.eq(v));
    }
    if let Some(v) = f.assignee_id {
        all = all.add(C::AssigneeId.eq(v));
    }
    if f.unassigned {
        all = all.add(C::AssigneeId.is_null());
    }
    if let Some(v) = f.contact_id {
        all = all.add(C::ContactId.eq(v));
    }
    if let Some(v) = f.team_id {
        all = all.add(C::TeamId.eq(v));
    }
    if let Some(v) = f.priority_min {
        all = all.add(C::Priority.gte(v));
    }
    if let Some(v) = f.created_after {
        all = all.add(C::CreatedAt.gte(v));
    }
    if let Some(v) = f.created_before {
        all = all.add(C::CreatedAt.lt(v));
    }
    if let Some(label_id) = f.label_id {
        all = all.add(
            C::Id.in_subquery(
                Query::select()
                    .column(conversation_label::Column::ConversationId)
                    .from(conversation_label::Entity)
                    .and_where(Expr::col(conversation_label::Column::LabelId).eq(label_id))
                    .take(),
            ),
        );
    }
    if let Some(channel) = &f.channel {
        all = all.add(
            C::InboxId.in_subquery(
                Query::select()
                    .column(inbox::Column::Id)
                    .from(inbox::Entity)
                    .and_where(Expr::col(inbox::Column::ChannelType).eq(channel.as_str()))
                    .take(),
            ),
        );
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_per_sort_and_refuse_other_sorts() {
        let t = DateTime::from_timestamp_nanos(1_714_036_600_123_456_789);
        let cases = [
            (Sort::Newest, Key::None),
            (Sort::LastActivity, Key::Time(Some(t))),
            (Sort::Waiting, Key::Time(Some(t))),
            (Sort::Waiting, Key::Time(None)),
            (Sort::Priority, Key::Int(-3)),
        ];
        for (sort, key) in cases {
            let c = Cursor { key, id: 42 };
            let text = c.encode(sort);
            assert_eq!(Cursor::parse(&text, sort), Ok(c.clone()), "{text}");
            assert!(
                text.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-'),
                "{text} is URL-safe"
            );
        }
        assert!(Cursor::parse("p3_42", Sort::LastActivity).is_err());
        assert!(Cursor::parse("a1_42", Sort::Newest).is_err());
        for junk in ["", "_", "p_1", "px_1", "a12", "w1_x", "€1_2"] {
            assert!(Cursor::parse(junk, Sort::Priority).is_err(), "{junk}");
            assert!(Cursor::parse(junk, Sort::Waiting).is_err(), "{junk}");
        }
    }
}
