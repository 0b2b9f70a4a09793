//! The `agents` table.

use sea_orm::entity::prelude::*;

/// One row of `agents`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "agents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: String,
    pub max_concurrent: i32,
    pub status: AgentStatus,
    pub status_changed_at: DateTimeUtc,
    pub last_assigned_at: Option<DateTimeUtc>,
    pub deleted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// `false` once deactivated: no sign-in, sessions and API tokens refused.
    pub active: bool,
    /// Console language, `en` or `zh-CN`.
    pub language: String,
    /// Notification preferences (`null` until first changed: the defaults apply).
    pub notifications: Option<Json>,
    /// Minutes the console may sit idle before it sets the agent `away`; 0: never.
    pub away_after_minutes: i32,
    /// Where the agent's picture is downloaded (`/files/<id>/<token>`); `None`: their initial.
    pub avatar_url: Option<String>,
}

/// An agent's presence, stored as `online`, `away` or `offline` in the `status` column.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum AgentStatus {
    /// Takes conversations.
    #[sea_orm(string_value = "online")]
    Online,
    /// Signed in, but takes no new conversations.
    #[sea_orm(string_value = "away")]
    Away,
    /// Signed out or gone: open conversations may go back to the queue.
    #[sea_orm(string_value = "offline")]
    Offline,
}

impl AgentStatus {
    /// Every status, in their documented order.
    pub const ALL: [AgentStatus; 3] = [Self::Online, Self::Away, Self::Offline];

    /// The stored (and API) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Away => "away",
            Self::Offline => "offline",
        }
    }

    /// Parses a stored or submitted name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl std::fmt::Display for AgentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// No declared relations: joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
