//! Outbound: everything that leaves Kefu after a commit, as durable jobs.
//!
//! - [`fanout`]: committed outbox events → first send jobs and webhook deliveries.
//! - [`jobs`]: the apalis queues (SQLite embedded, PostgreSQL in production).
//! - [`send`]: the reply send worker — governor limits, `Channel::send`, retries, delivery
//!   status on the message.
//! - [`webhook`]: Standard Webhooks signing, target checks, the retry schedule, endpoints and
//!   their delivery log, and the webhook delivery worker.
//! - [`workers`]: the apalis workers of one process and their housekeeping.

pub(crate) mod batch;
pub mod fanout;
pub mod jobs;
pub mod send;
pub mod webhook;
pub mod workers;
