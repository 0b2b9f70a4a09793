//! sea-orm entities, one module per table. The schema itself lives in `kefu-migrations`.
//!
//! Fields mirror the migrations' columns: those whose meaning the name does not say carry a
//! doc comment, the rest (and the code the entity derives generate) are exempt from
//! `missing_docs`.
#![allow(missing_docs)]

pub mod agent;
pub mod agent_skill;
pub mod api_token;
pub mod attachment;
pub mod attachment_blob;
pub mod bot_decision;
pub mod bot_state;
pub mod canned_response;
pub mod canned_response_attachment;
pub mod channel_state;
pub mod contact;
pub mod contact_identity;
pub mod contact_label;
pub mod conversation;
pub mod conversation_activity;
pub mod conversation_label;
pub mod conversation_read;
pub mod conversation_summary;
pub mod csat_survey;
pub mod custom_attribute;
pub mod inbox;
pub mod inbox_agent;
pub mod inbox_team;
pub mod intent;
pub mod invite;
pub mod knowledge_entry;
pub mod knowledge_entry_attachment;
pub mod knowledge_proposal;
pub mod label;
pub mod llm_usage;
pub mod login_failure;
pub mod message;
pub mod metric_event;
pub mod metric_rollup;
pub mod notification;
pub mod out_of_office_reply;
pub mod outbox_event;
pub mod schedule;
pub mod sensitive_rule;
pub mod session;
pub mod team;
pub mod team_member;
pub mod webhook_attempt;
pub mod webhook_delivery;
pub mod webhook_endpoint;
