//! # kefu-dispatcher — who handles a conversation, and how replies and events leave Kefu
//!
//! Two halves that do not import each other:
//!
//! - **Routing** decides who handles a conversation:
//!   - [`routing`]: the skill-based routing policy (rules, queue order, agent choice,
//!     overflow), pure.
//!   - [`assign`]: the policy wired to the database — the assigner tasks, routing of new
//!     conversations, race-safe commits, transfers, claims, explanations and queue position.
//! - **Outbound** ([`outbound`]) takes what was committed out of Kefu: agent replies through
//!   their inbox's channel and events to webhook endpoints, as durable jobs with leases,
//!   retries and a sweep for lost jobs. See its module docs for the map.
//! - **The channel runtime** ([`runtime`]) keeps one running channel per inbox: the send
//!   worker sends through it, and polling channels feed the normalizer from it.
//!
//! The outbound modules are also re-exported at the crate root under their historical names
//! ([`delivery`] for [`outbound::send`], [`webhook`], [`jobs`], [`fanout`], [`workers`]).
#![warn(missing_docs)]

pub mod assign;
pub mod outbound;
pub mod routing;
pub mod runtime;

use outbound::batch;
pub use outbound::send as delivery;
pub use outbound::{fanout, jobs, webhook, workers};
