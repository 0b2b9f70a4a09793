//! sea-orm entities for the dispatcher's own tables (schema in `kefu-migrations`, `m0003_routing`).

/// The `routing_state` table: per conversation, what the rules decided and for which wait.
pub mod routing_state {
    use sea_orm::entity::prelude::*;

    /// One row of `routing_state`.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "routing_state")]
    pub struct Model {
        /// The conversation.
        #[sea_orm(primary_key, auto_increment = false)]
        pub conversation_id: i64,
        /// The `queued_at` the conversation's requirements were decided for.
        pub routed_for: Option<DateTimeUtc>,
        /// The rule hits of that decision (`Vec<RuleHit>` as JSON).
        #[sea_orm(column_type = "Json")]
        pub rule_hits: Json,
        /// The `queued_at` for which the customer got the `max_wait` message.
        pub notified_for: Option<DateTimeUtc>,
        /// Last change.
        pub updated_at: DateTimeUtc,
    }

    /// No declared relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `assignments` table: every assignment with its reason and explanation.
pub mod assignment {
    use sea_orm::entity::prelude::*;

    /// One row of `assignments`.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "assignments")]
    pub struct Model {
        /// Row id; increases with time.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The conversation.
        pub conversation_id: i64,
        /// The agent it went to.
        pub agent_id: i64,
        /// `auto`, `sticky`, `manual`, `claim` or `transfer`.
        pub reason: String,
        /// The [`Explanation`](crate::routing::Explanation) as JSON (`null` for manual moves).
        #[sea_orm(column_type = "Json")]
        pub explanation: Json,
        /// When.
        pub created_at: DateTimeUtc,
    }

    /// No declared relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
