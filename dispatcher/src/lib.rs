//! # kefu-dispatcher — who handles a conversation, and how replies and events leave Kefu
//!
//! - `routing`: the skill-based routing policy (rules, queue order, agent choice, overflow).
//! - `assign`: the policy wired to the database — the assigner tasks, routing of new
//!   conversations, race-safe commits, transfers, claims, explanations and queue position.
//! - `webhook`: Standard Webhooks signing, target checks and the retry schedule.

pub mod assign;
pub mod routing;
pub mod webhook;
