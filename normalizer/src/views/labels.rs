//! Labels and the events of their changes on conversations and contacts.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A label: a named colour that conversations and contacts can carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LabelView {
    /// Label id.
    pub id: i64,
    /// Unique name, what conversations are tagged and filtered with.
    pub name: String,
    /// `#rrggbb`.
    pub color: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// `conversation.labels_changed`: a conversation's labels after a change, and the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConversationLabelsView {
    /// The conversation.
    pub conversation_id: i64,
    /// Every label it carries now, by name, sorted.
    pub labels: Vec<String>,
    /// Labels it gained.
    pub added: Vec<String>,
    /// Labels it lost.
    pub removed: Vec<String>,
}

/// `contact.labels_changed`: a contact's labels after a change, and the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContactLabelsView {
    /// The contact.
    pub contact_id: i64,
    /// Every label it carries now, by name, sorted.
    pub labels: Vec<String>,
    /// Labels it gained.
    pub added: Vec<String>,
    /// Labels it lost.
    pub removed: Vec<String>,
}
