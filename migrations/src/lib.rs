//! # kefu-migrations — Kefu's database schema
//!
//! One [`Migrator`] that runs unchanged on SQLite (the embedded default) and PostgreSQL. The
//! gateway applies it at start (`kefu serve`) or on demand (`kefu migrate`). Migrations are
//! append-only: a released migration is never edited; a change is a new migration.
#![warn(missing_docs)]

use sea_orm_migration::prelude::*;

mod m0001_initial;
mod m0002_outbox_unrelayed_index;
mod m0003_routing;
mod m0004_delivery;
mod m0005_attachments;
mod m0006_delivery_claims;
mod m0007_outbox_one_mark;
mod m0008_sessions_invites;
mod m0009_labels;
mod m0010_inbox_members;
mod m0011_leases;
mod m0012_canned_responses;
mod m0013_conversation_activities;
mod m0014_custom_attributes;
mod m0016_notifications;
mod m0017_agent_away;
mod m0018_schedules;
mod m0019_login_failures;
mod m0020_canned_attachments;
mod m0021_agent_avatar;
mod m0022_csat;
mod m0023_fallback;
mod m0024_metric_events;
mod m0025_knowledge;
mod m0026_screening;
mod m0027_metric_rollups;
mod m0028_list_indexes;
mod m0029_conversation_summaries;
mod m0030_intents;
mod m0031_rollup_grains;
mod m0032_knowledge_proposals;
mod m0033_llm_usage;
mod m0034_knowledge_attachments;
mod m0035_message_ref_partial;

pub use sea_orm_migration::MigratorTrait;

/// Every Kefu migration, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_initial::Migration),
            Box::new(m0002_outbox_unrelayed_index::Migration),
            Box::new(m0003_routing::Migration),
            Box::new(m0004_delivery::Migration),
            Box::new(m0005_attachments::Migration),
            Box::new(m0006_delivery_claims::Migration),
            Box::new(m0007_outbox_one_mark::Migration),
            Box::new(m0008_sessions_invites::Migration),
            Box::new(m0009_labels::Migration),
            Box::new(m0010_inbox_members::Migration),
            Box::new(m0011_leases::Migration),
            Box::new(m0012_canned_responses::Migration),
            Box::new(m0013_conversation_activities::Migration),
            Box::new(m0014_custom_attributes::Migration),
            Box::new(m0016_notifications::Migration),
            Box::new(m0017_agent_away::Migration),
            Box::new(m0018_schedules::Migration),
            Box::new(m0019_login_failures::Migration),
            Box::new(m0020_canned_attachments::Migration),
            Box::new(m0021_agent_avatar::Migration),
            Box::new(m0022_csat::Migration),
            Box::new(m0023_fallback::Migration),
            Box::new(m0024_metric_events::Migration),
            Box::new(m0025_knowledge::Migration),
            Box::new(m0026_screening::Migration),
            Box::new(m0027_metric_rollups::Migration),
            Box::new(m0028_list_indexes::Migration),
            Box::new(m0029_conversation_summaries::Migration),
            Box::new(m0030_intents::Migration),
            Box::new(m0031_rollup_grains::Migration),
            Box::new(m0032_knowledge_proposals::Migration),
            Box::new(m0033_llm_usage::Migration),
            Box::new(m0034_knowledge_attachments::Migration),
            Box::new(m0035_message_ref_partial::Migration),
        ]
    }
}
