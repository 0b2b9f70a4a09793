//! Channel settings described for people: the JSON Schema a factory publishes so the console
//! can build the inbox form, and the connection checks it runs when an admin asks.
//!
//! A channel crate derives [`schemars::JsonSchema`] on its settings struct and returns
//! [`settings_schema`] of it from [`ChannelFactory::settings_schema`](crate::ChannelFactory::settings_schema):
//!
//! - the first doc-comment line written as `# Title` becomes the field's `title`, the rest its
//!   `description` (English);
//! - `#[schemars(extend("x-i18n" = {"zh-CN": {"title": "…", "description": "…"}}))]` adds
//!   translations, keyed by language tag;
//! - secrets carry `writeOnly: true` (and are listed in
//!   [`ChannelFactory::secret_fields`](crate::ChannelFactory::secret_fields)).

use serde::{Deserialize, Serialize};

pub use schemars;

/// The JSON Schema (draft 2020-12) of a settings type, with every subschema inlined so a form
/// builder needs no `$ref` resolution.
pub fn settings_schema<T: schemars::JsonSchema>() -> serde_json::Value {
    let mut settings = schemars::generate::SchemaSettings::draft2020_12();
    settings.inline_subschemas = true;
    settings
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

/// What an admin's "test connection" asks for beyond the stored settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    /// A device token to send a test push to (app channels).
    #[serde(default)]
    pub device_token: Option<String>,
    /// The device token's platform (`fcm` or `apns`).
    #[serde(default)]
    pub platform: Option<String>,
}

/// The outcome of one connection check, as an admin sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// What was checked: `access_token`, `imap`, `smtp`, `push`, or a channel's own name.
    pub name: String,
    /// Whether it worked.
    pub ok: bool,
    /// What the provider or server said, in its own words where it gave any. Never contains a
    /// secret.
    pub detail: String,
}

impl Check {
    /// A check that worked.
    pub fn ok(name: &str, detail: impl Into<String>) -> Self {
        Self {
            name: name.to_owned(),
            ok: true,
            detail: detail.into(),
        }
    }

    /// A check that failed.
    pub fn failed(name: &str, detail: impl Into<String>) -> Self {
        Self {
            name: name.to_owned(),
            ok: false,
            detail: detail.into(),
        }
    }

    /// Runs `check`, failing it when it takes longer than `limit`.
    pub async fn bounded(
        name: &str,
        limit: std::time::Duration,
        check: impl Future<Output = Check>,
    ) -> Check {
        match tokio::time::timeout(limit, check).await {
            Ok(c) => c,
            Err(_) => Self::failed(
                name,
                format!("no answer within {} seconds", limit.as_secs()),
            ),
        }
    }
}

/// How long one connection check may take before it counts as failed.
pub const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
