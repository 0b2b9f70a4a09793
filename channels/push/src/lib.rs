//! # kefu-channel-push — the app channel (type `app_push`)
//!
//! Connects a business's own mobile app to Kefu: the app talks to Kefu over a small HTTP API,
//! and agent replies reach users who are not looking at the app as FCM or APNs notifications.
//!
//! ## Identity
//!
//! The app backend vouches for its users like Intercom does: `user_hash =
//! hex(HMAC-SHA256(app_secret, external_id))`, computed on the backend (never in the app) and
//! handed to the app with the user's id. Every API call carries both; Kefu recomputes the
//! digest and compares in constant time ([`user_hash`]). Either hex case is accepted.
//!
//! ## The app API (`ingress.rs`), mounted at `/channels/app/{inbox_id}`
//!
//! | call | body / query | answer |
//! |---|---|---|
//! | `POST /devices` | `{external_id, user_hash, platform: fcm\|apns, token}` | 201 `{registered, devices}` (200 when known) |
//! | `DELETE /devices` | `{external_id, user_hash, platform, token}` | 200 `{removed}` |
//! | `POST /messages` | `{external_id, user_hash, client_id, text, menu_id?}` | 201 `{id, conversation_id, seq, duplicate}` (200 for a resent `client_id`, or a tap on a message's `menu`, such as a satisfaction rating: `menu_id` is the tapped item's `id`) |
//! | `GET /messages` | `?external_id&user_hash&after_seq=0&limit=50` | 200 `{conversation_id, messages, has_more}` |
//! | `GET /unread` | `?external_id&user_hash[&after_seq]` | 200 `{conversation_id, unread, synced_seq, last_seq}`: messages to the user above the highest `seq` a `GET /messages` returned them (or `after_seq`), for the app's badge |
//!
//! Errors are `{"code", "detail"}`: 404 `not_found`, 400 `malformed_json`/`invalid_query`,
//! 401 `invalid_user_hash`, 413 `payload_too_large`, 422 for a field that is wrong
//! (`invalid_token`, `platform_not_configured`, ...), 503 `unavailable` when storage is down
//! (the app retries with the same `client_id`; nothing is stored twice). Devices live in the
//! inbox's durable channel state; a token registered by another user moves to the new one (a
//! shared phone must not get the previous user's replies), at most 10 devices per user.
//!
//! ## Pushing replies ([`Channel::send`](kefu_channel::Channel::send))
//!
//! Kefu calls `send` for every agent reply. When the user's app follows the conversation
//! over Kefu's WebSocket (`/ws/web_chat` with the inbox's public token and the same
//! `{user_id: external_id, user_hash}`; see [`PushFactory::with_presence`]), the reply reaches
//! it live and is recorded `sent` with details `{"via": "live"}` (`delivered` once the app
//! sends a read receipt). Otherwise the channel pushes to every registered device at once, with a per-device rate limit in Kefu (a burst of
//! 5, then 10 a minute, see [`PushFactory::with_device_limit`]; a device over it is reported
//! `paced`, and when no device could be reached for that reason alone the reply is
//! [`SendError::Paced`](kefu_channel::SendError), so Kefu pushes it later without counting a
//! failed attempt or blaming the provider). The
//! notification carries the agent's name, a preview of the reply (unless the inbox sets
//! `show_preview: false`) and data `{conversation_id, message_id, seq, preview}` so the app can
//! sync by `after_seq`. Bursts collapse per conversation (`apns-collapse-id` / FCM
//! `collapse_key` `kefu-conv-<id>`). The receipt's `details` lists one result per device.
//! Devices the provider calls dead are removed. Every device failing for good is
//! [`SendError::Permanent`](kefu_channel::SendError); a retryable failure with no device
//! reached is `Retryable` (or `RateLimited`) with the longest `Retry-After` a provider gave.
//!
//! - **FCM HTTP v1** (`fcm.rs`, `oauth.rs`): `POST {api_base}/v1/projects/{project_id}/messages:send`
//!   with an OAuth2 access token from the service account (an RS256 JWT assertion posted to the
//!   account's `token_uri`), cached until five minutes before it expires. `UNREGISTERED`,
//!   `SENDER_ID_MISMATCH` and `INVALID_ARGUMENT` about the token remove the device; other
//!   `INVALID_ARGUMENT`s and `THIRD_PARTY_AUTH_ERROR` are permanent; `QUOTA_EXCEEDED` is a rate
//!   limit; `UNAVAILABLE`, `INTERNAL` and 5xx are retryable, honouring `Retry-After`; a 401 gets
//!   a fresh access token once.
//!   Docs: <https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages/send>,
//!   <https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode>.
//! - **APNs** (`apns.rs`): `POST {api_base}/3/device/<token>` over HTTP/2 with token
//!   auth: an ES256 JWT (`kid` = key id, `iss` = team id) signed with the `.p8` key, reused for
//!   40 minutes (Apple allows refreshing every 20 to 60), re-signed once on a 403
//!   `ExpiredProviderToken`/`InvalidProviderToken`. Headers `apns-topic`, `apns-push-type:
//!   alert`, `apns-priority: 10`, `apns-expiration` (now + 1 day, epoch seconds),
//!   `apns-collapse-id`. 410 and `BadDeviceToken` remove the device; 429 is a rate limit; 500
//!   and 503 are retryable.
//!   Docs: <https://developer.apple.com/documentation/usernotifications/sending-notification-requests-to-apns>,
//!   <https://developer.apple.com/documentation/usernotifications/handling-notification-responses-from-apns>.
//!
//! Payloads are at most 4096 bytes (APNs: the JSON; FCM: the notification and data strings);
//! a long preview is shortened to fit.
//!
//! ## Settings
//!
//! `{app_secret, show_preview?, fcm?: {project_id, service_account_json, api_base?},
//! apns?: {team_id, key_id, private_key_pem, topic, api_base?}}`; `app_secret`,
//! `fcm.service_account_json` and `apns.private_key_pem` are secrets. `api_base` overrides the
//! provider's address (the APNs sandbox `https://api.sandbox.push.apple.com`, proxies, tests);
//! the OAuth token endpoint is the service account's `token_uri`.
//!
//! ## Registering
//!
//! ```
//! use kefu_channel::ChannelFactory;
//! let http = reqwest::Client::new(); // the gateway's client, trusting `tls.extra_root_certs`
//! let factory = kefu_channel_push::PushFactory::new().with_http_client(http);
//! assert_eq!(factory.kind().as_str(), "app_push");
//! assert_eq!(factory.route_name(), "app");
//! ```
#![warn(missing_docs)]

mod api_error;
mod apns;
mod channel;
mod check;
mod devices;
mod factory;
mod fcm;
mod identity;
mod ingress;
mod notification;
mod oauth;
mod outcome;
mod retry_after;
mod settings;
mod wiring;

pub use devices::Platform;
pub use factory::{KIND, PushFactory, ROUTE};
pub use identity::{UserRefused, authenticate_user, message_dedupe_key, user_hash};
