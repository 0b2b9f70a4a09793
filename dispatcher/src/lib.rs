//! # kefu-dispatcher — who handles a conversation, and how replies and events leave Kefu
//!
//! - `routing`: the skill-based routing policy (rules, queue order, agent choice, overflow).
//! - `assign`: the policy wired to the database — the assigner tasks, routing of new
//!   conversations, race-safe commits, transfers, claims, explanations and queue position.
//! - `jobs`: durable apalis jobs (SQLite embedded, Postgres in production).
//! - `fanout`: committed outbox events → send jobs and webhook deliveries.
//! - `delivery`: the send worker: governor limits, `Channel::send`, retries, delivery status.
//! - `webhook`: Standard Webhooks signing, target checks, the retry schedule, endpoints and
//!   their delivery log, and the delivery worker.
//! - `workers`: the apalis workers of one process.

pub mod assign;
mod batch;
pub mod delivery;
pub mod fanout;
pub mod jobs;
pub mod routing;
pub mod webhook;
pub mod workers;
