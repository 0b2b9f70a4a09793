//! Webhooks for event consumers: the pure building blocks of delivery.
//!
//! Kefu publishes every state change (see [`EventType`]) to subscribed HTTP endpoints following
//! [Standard Webhooks](https://www.standardwebhooks.com/): a `POST` of
//! `{"type","timestamp","data"}` with the headers `webhook-id`, `webhook-timestamp` and
//! `webhook-signature: v1,<base64 HMAC-SHA256>`.
//!
//! - [`payload`]: event type names and subscription filters, the message id, the body bytes,
//!   and the response excerpt kept in the delivery log.
//! - [`signing`]: `whsec_` secrets, signing (with two secrets during a rotation), and a
//!   verifier for receivers and tests.
//! - [`target`]: SSRF protection, at subscription time and again, after resolving, before every
//!   attempt.
//! - [`schedule`]: the retry schedule, `Retry-After`, response classification and when to
//!   disable a failing endpoint.
//! - [`subscriptions`]: the fan-out's cached view of the enabled endpoints' filters.
//!
//! Nothing here does network I/O except [`target::resolve_checked`]'s DNS lookup; the delivery
//! worker (jobs, HTTP client, delivery log) composes these pieces.

mod deliver;
pub mod payload;
pub mod schedule;
pub mod signing;
pub mod store;
pub mod subscriptions;
pub mod target;

pub use deliver::{DeliverySettings, WebhookDeliverer, WebhookJobError};
pub use store::{
    AttemptView, DeliveryView, EndpointPatch, EndpointView, EndpointWithSecret, NewEndpoint,
    Sealer, WebhookStore,
};

pub use payload::{
    EventFilter, EventType, FilterError, MessageId, WebhookMessage, response_excerpt,
};
pub use schedule::{
    ResponseOutcome, RetrySchedule, classify_status, next_attempt, parse_retry_after,
    should_disable,
};
pub use signing::{Secret, SecretError, VerifyError, WebhookHeaders, sign, verify};
pub use target::{TargetError, check_url, resolve_checked};
