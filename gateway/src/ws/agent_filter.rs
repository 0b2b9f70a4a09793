//! What one `/ws/agent` socket may receive: the same rules as the HTTP API
//! ([`kefu_normalizer::access`]), applied to each relayed event.
//!
//! - A conversation event passes when the agent may see the conversation before or after the
//!   change, so an agent learns that a conversation left them (transferred away) as well as
//!   that one arrived.
//! - Message and label events are decided by their conversation, remembered from earlier
//!   conversation events or looked up once.
//! - Contact events pass for contacts seen through a passing conversation; agent status
//!   changes pass for everyone.

use std::collections::{HashMap, HashSet};

use kefu_normalizer::EventData;
use kefu_normalizer::access::{Grant, Visibility};
use kefu_normalizer::views::ConversationView;

use crate::auth::Authed;
use crate::state::AppState;

/// Conversations remembered per socket before the memory starts over.
const REMEMBERED: usize = 4096;

/// Where a conversation is and whose it is.
#[derive(Debug, Clone, Copy)]
struct Place {
    inbox_id: i64,
    assignee_id: Option<i64>,
    contact_id: i64,
}

impl From<&ConversationView> for Place {
    fn from(c: &ConversationView) -> Self {
        Self {
            inbox_id: c.inbox_id,
            assignee_id: c.assignee_id,
            contact_id: c.contact.id,
        }
    }
}

/// One socket's filter.
#[derive(Debug)]
pub(super) struct AgentFilter {
    visibility: Visibility,
    places: HashMap<i64, Place>,
    contacts: HashSet<i64>,
}

impl AgentFilter {
    /// A filter for `me`, loading what they may see.
    pub(super) async fn load(st: &AppState, me: &Authed) -> Option<Self> {
        let visibility = me.visibility(st).await.ok()?;
        Some(Self {
            visibility,
            places: HashMap::new(),
            contacts: HashSet::new(),
        })
    }

    /// Reloads what the agent may see (their inboxes or teams changed).
    pub(super) async fn reload(&mut self, st: &AppState, me: &Authed) {
        if let Ok(v) = me.visibility(st).await {
            self.visibility = v;
            self.contacts.clear();
        }
    }

    fn grant(&self, place: &Place) -> Option<Grant> {
        self.visibility.grant(place.inbox_id, place.assignee_id)
    }

    /// What the agent may do with conversation `id`, looking it up when it is not remembered.
    pub(super) async fn conversation(&mut self, st: &AppState, id: i64) -> Option<Grant> {
        let place = match self.places.get(&id) {
            Some(p) => *p,
            None => {
                let c = st.conversations.get(id).await.ok()?;
                self.remember(id, Place::from(&c))
            }
        };
        let grant = self.grant(&place);
        if grant.is_some() {
            self.contacts.insert(place.contact_id);
        }
        grant
    }

    fn remember(&mut self, id: i64, place: Place) -> Place {
        if self.places.len() >= REMEMBERED {
            self.places.clear();
        }
        self.places.insert(id, place);
        place
    }

    /// Whether the socket receives `event`.
    pub(super) async fn passes(&mut self, st: &AppState, event: &EventData) -> bool {
        if matches!(self.visibility, Visibility::All) {
            return true;
        }
        let changed = match event {
            EventData::ConversationCreated(n) => Some(&n.conversation),
            EventData::ConversationQueued(c)
            | EventData::ConversationAssigned(c)
            | EventData::ConversationTransferred(c)
            | EventData::ConversationResolved(c)
            | EventData::ConversationReopened(c)
            | EventData::ConversationUpdated(c)
            | EventData::ConversationClosed(c) => Some(c),
            _ => None,
        };
        if let Some(c) = changed {
            let before = self.places.get(&c.id).and_then(|p| self.grant(p));
            let place = self.remember(c.id, Place::from(c));
            let after = self.grant(&place);
            if after.is_some() {
                self.contacts.insert(place.contact_id);
            }
            return before.is_some() || after.is_some();
        }
        match event {
            EventData::MessageCreated(m)
            | EventData::MessageUpdated(m)
            | EventData::MessageFailed(m) => {
                self.conversation(st, m.conversation_id).await.is_some()
            }
            EventData::ConversationLabelsChanged(l) => {
                self.conversation(st, l.conversation_id).await.is_some()
            }
            EventData::ConversationBotHandoff(h) => {
                self.conversation(st, h.conversation_id).await.is_some()
            }
            EventData::ContactCreated(c) | EventData::ContactUpdated(c) => {
                self.contacts.contains(&c.id)
            }
            EventData::ContactMerged(m) => {
                self.contacts.contains(&m.contact.id) || self.contacts.contains(&m.merged_id)
            }
            EventData::ContactLabelsChanged(l) => self.contacts.contains(&l.contact_id),
            EventData::AgentStatusChanged(_) => true,
            // Conversation events were decided above.
            _ => false,
        }
    }
}
