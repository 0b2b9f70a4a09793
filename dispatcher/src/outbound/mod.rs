//! Outbound: everything that leaves Kefu after a commit, as durable jobs.
//!
//! - [`decision`]: the one pure decision both workers make after an attempt (record, retry
//!   at, give up, disable the receiver).
//! - [`lease`]: claim-with-lease and the lost-job sweep, shared by both workers.
//! - [`fanout`]: committed outbox events → first send jobs and webhook deliveries.
//! - [`jobs`]: the apalis queues (SQLite embedded, PostgreSQL in production).
//! - [`send`]: the reply send worker — governor limits, `Channel::send`, retries, delivery
//!   status on the message.
//! - [`webhook`]: Standard Webhooks signing, target checks, the retry schedule, endpoints and
//!   their delivery log, and the webhook delivery worker.
//! - [`workers`]: the apalis workers of one process, supervised (restarted with backoff when
//!   their backend fails), and their housekeeping; [`health`] is how they are doing.
//!
//! The channels replies are sent through run in the [channel runtime](crate::runtime).

pub(crate) mod batch;
pub mod decision;
pub mod fanout;
pub mod health;
pub mod jobs;
pub mod lease;
pub mod send;
mod slots;
pub mod webhook;
pub mod workers;
