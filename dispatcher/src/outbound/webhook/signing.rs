//! Standard Webhooks v1 signatures: `whsec_` secrets, signing, the three headers, verification.
//!
//! The protocol ([Standard Webhooks 1.0.0](https://www.standardwebhooks.com/),
//! [spec](https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md)):
//!
//! - The secret is 24–64 random bytes, shown to the subscriber as `whsec_<base64>`.
//! - Every attempt carries `webhook-id` (the message id, the same on every retry — receivers
//!   deduplicate on it), `webhook-timestamp` (unix seconds of *this attempt*) and
//!   `webhook-signature`.
//! - The signed content is `"{id}.{timestamp}."` followed by the exact body bytes; the signature
//!   is `v1,` + base64(HMAC-SHA256(secret bytes, content)). Bodies are never re-serialized
//!   between signing and sending.
//! - `webhook-signature` is a space-separated list of `version,signature` entries. While a
//!   secret is being rotated we sign with both the new and the previous secret, so receivers
//!   holding either one keep verifying. Verifiers ignore versions they do not know (`v1a`
//!   is the asymmetric ed25519 scheme, which Kefu does not send).
//! - Verifiers compare in constant time and refuse timestamps more than five minutes away from
//!   their clock in either direction (replay protection), as every reference library does.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Header carrying the message id.
pub const HEADER_ID: &str = "webhook-id";
/// Header carrying the attempt's unix timestamp in seconds.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// Header carrying the space-separated signatures.
pub const HEADER_SIGNATURE: &str = "webhook-signature";
/// The tolerance every reference verifier uses between the sender's and receiver's clocks.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

const PREFIX: &str = "whsec_";
const VERSION: &str = "v1";
const MIN_SECRET_BYTES: usize = 24;
const MAX_SECRET_BYTES: usize = 64;
/// Length of newly generated secrets (Svix uses 24; more costs nothing).
const GENERATED_SECRET_BYTES: usize = 32;

/// Standard base64 that also accepts secrets pasted without their `=` padding.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

type HmacSha256 = Hmac<Sha256>;

/// A symmetric signing secret. `Display` gives the `whsec_...` form to show the subscriber
/// once; `Debug` never reveals it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    bytes: Vec<u8>,
}

/// Why a string is not a usable `whsec_` secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Nothing (or only the prefix) was given.
    #[error("the webhook secret is empty")]
    Empty,
    /// The part after `whsec_` is not standard base64.
    #[error("the webhook secret is not valid base64 after the \"whsec_\" prefix")]
    NotBase64,
    /// The decoded secret is too short or too long.
    #[error("the webhook secret must decode to 24 to 64 bytes, not {0}")]
    Length(usize),
}

impl Secret {
    /// A fresh random secret from the operating system's generator.
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; GENERATED_SECRET_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self { bytes }
    }

    /// Parses `whsec_<base64>`; like the reference libraries, the prefix and the base64
    /// padding may be left out.
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let encoded = text.trim();
        let encoded = encoded.strip_prefix(PREFIX).unwrap_or(encoded);
        if encoded.is_empty() {
            return Err(SecretError::Empty);
        }
        let bytes = LENIENT_BASE64
            .decode(encoded)
            .map_err(|_| SecretError::NotBase64)?;
        Self::from_bytes(bytes)
    }

    /// Wraps raw key bytes (24–64 of them).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, SecretError> {
        if (MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&bytes.len()) {
            Ok(Self { bytes })
        } else {
            Err(SecretError::Length(bytes.len()))
        }
    }

    /// The raw key bytes, e.g. for encrypting them at rest.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn mac(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> [u8; 32] {
        // HMAC accepts keys of any length, so this cannot fail for our 24–64-byte keys.
        let Ok(mut mac) = HmacSha256::new_from_slice(&self.bytes) else {
            unreachable!("HMAC-SHA256 takes keys of any length")
        };
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{}", STANDARD.encode(&self.bytes))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(whsec_***)")
    }
}

impl std::str::FromStr for Secret {
    type Err = SecretError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Signs one attempt: `v1,<base64 HMAC-SHA256(secret, "{msg_id}.{timestamp}.{body}")>`.
///
/// `msg_id` must not contain `.` (see [`crate::webhook::MessageId`], which guarantees it).
pub fn sign(secret: &Secret, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "{VERSION},{}",
        STANDARD.encode(secret.mac(msg_id, timestamp, body))
    )
}

/// The three headers of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookHeaders {
    /// `webhook-id`: the message id, the same on every attempt.
    pub id: String,
    /// `webhook-timestamp`: unix seconds of this attempt.
    pub timestamp: String,
    /// `webhook-signature`: one `v1,` signature per secret, space-separated.
    pub signature: String,
}

impl WebhookHeaders {
    /// Signs `body` for an attempt made at `timestamp` with the endpoint's current secret and,
    /// during a rotation, also with the previous one.
    pub fn new(
        msg_id: &str,
        timestamp: DateTime<Utc>,
        body: &[u8],
        current: &Secret,
        previous: Option<&Secret>,
    ) -> Self {
        let ts = timestamp.timestamp();
        let mut signature = sign(current, msg_id, ts, body);
        if let Some(previous) = previous.filter(|p| *p != current) {
            signature.push(' ');
            signature.push_str(&sign(previous, msg_id, ts, body));
        }
        Self {
            id: msg_id.to_owned(),
            timestamp: ts.to_string(),
            signature,
        }
    }

    /// `(name, value)` pairs, ready for an HTTP client or for [`verify`].
    pub fn pairs(&self) -> [(&'static str, &str); 3] {
        [
            (HEADER_ID, &self.id),
            (HEADER_TIMESTAMP, &self.timestamp),
            (HEADER_SIGNATURE, &self.signature),
        ]
    }
}

/// Why a received webhook did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A required header is absent.
    #[error("the {0} header is missing")]
    MissingHeader(&'static str),
    /// A header appears more than once.
    #[error("the {0} header appears more than once")]
    DuplicateHeader(&'static str),
    /// The id is empty or contains `.`, which would make the signed content ambiguous.
    #[error("the webhook-id header is malformed")]
    MalformedId,
    /// The timestamp is not an integer number of seconds.
    #[error("the webhook-timestamp header is not a unix timestamp")]
    MalformedTimestamp,
    /// The timestamp is older than the tolerance allows (possibly a replay).
    #[error("the webhook timestamp is too old")]
    TimestampTooOld,
    /// The timestamp is further in the future than the tolerance allows.
    #[error("the webhook timestamp is too far in the future")]
    TimestampTooNew,
    /// No `v1` signature matched any of the secrets.
    #[error("no webhook signature matches")]
    NoMatchingSignature,
}

/// Verifies a received webhook against any of `secrets` (several during a rotation).
///
/// `headers` are the request's `(name, value)` pairs; names compare case-insensitively and
/// other headers are ignored. With axum/http: `map.iter().filter_map(|(k, v)|
/// Some((k.as_str(), v.to_str().ok()?)))`. Pass [`DEFAULT_TOLERANCE`] unless you have reason not to.
pub fn verify<'a>(
    secrets: &[Secret],
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    body: &[u8],
    now: DateTime<Utc>,
    tolerance: Duration,
) -> Result<(), VerifyError> {
    let (mut id, mut ts, mut sigs) = (None, None, None);
    for (name, value) in headers {
        for (wanted, slot) in [
            (HEADER_ID, &mut id),
            (HEADER_TIMESTAMP, &mut ts),
            (HEADER_SIGNATURE, &mut sigs),
        ] {
            if name.eq_ignore_ascii_case(wanted) && slot.replace(value.trim()).is_some() {
                return Err(VerifyError::DuplicateHeader(wanted));
            }
        }
    }
    let id = id.ok_or(VerifyError::MissingHeader(HEADER_ID))?;
    let ts = ts.ok_or(VerifyError::MissingHeader(HEADER_TIMESTAMP))?;
    let sigs = sigs.ok_or(VerifyError::MissingHeader(HEADER_SIGNATURE))?;

    if id.is_empty() || id.contains('.') {
        return Err(VerifyError::MalformedId);
    }
    // Digits only: `i64::from_str` would also take a leading `+`, which the signer never sends.
    if ts.is_empty() || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VerifyError::MalformedTimestamp);
    }
    let ts: i64 = ts.parse().map_err(|_| VerifyError::MalformedTimestamp)?;
    let tolerance = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    let now = now.timestamp();
    if now.saturating_sub(ts) > tolerance {
        return Err(VerifyError::TimestampTooOld);
    }
    if ts.saturating_sub(now) > tolerance {
        return Err(VerifyError::TimestampTooNew);
    }

    let candidates: Vec<Vec<u8>> = sigs
        .split(' ')
        .filter_map(|entry| entry.split_once(','))
        .filter(|(version, _)| *version == VERSION)
        .filter_map(|(_, sig)| STANDARD.decode(sig).ok())
        .collect();
    let mut matched = subtle::Choice::from(0);
    for secret in secrets {
        let expected = secret.mac(id, ts, body);
        for candidate in &candidates {
            // `ct_eq` on slices of different lengths is false, so `v1,` alone never matches.
            matched |= expected.as_slice().ct_eq(candidate);
        }
    }
    if bool::from(matched) {
        Ok(())
    } else {
        Err(VerifyError::NoMatchingSignature)
    }
}

#[cfg(test)]
#[path = "signing_tests.rs"]
mod tests;
