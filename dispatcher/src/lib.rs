//! # kefu-dispatcher — who handles a conversation, and how replies and events leave Kefu
//!
//! - `routing`: the skill-based routing policy (rules, queue order, agent choice, overflow).
//! - `webhook`: Standard Webhooks signing, target checks and the retry schedule.

pub mod routing;
pub mod webhook;
