//! `app_push` inbox settings, with validation that names the offending field.

use jsonwebtoken::EncodingKey;
use kefu_channel::ChannelError;
use serde::{Deserialize, Serialize};

/// Where FCM HTTP v1 lives.
pub(crate) const FCM_API_BASE: &str = "https://fcm.googleapis.com";
/// Google's OAuth2 token endpoint, when a service account names none.
pub(crate) const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// APNs production; the sandbox is `https://api.sandbox.push.apple.com`.
pub(crate) const APNS_API_BASE: &str = "https://api.push.apple.com";

/// `{app_secret, show_preview?, fcm?, apns?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PushSettings {
    pub(crate) app_secret: String,
    /// Whether notifications show the reply's text. `false` keeps message text out of
    /// Google's and Apple's hands and off lock screens.
    #[serde(default = "yes")]
    pub(crate) show_preview: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) fcm: Option<FcmSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) apns: Option<ApnsSettings>,
    /// The channel type, when the gateway passes the whole `channel` object.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<String>,
}

fn yes() -> bool {
    true
}

/// `{project_id, service_account_json, api_base?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FcmSettings {
    pub(crate) project_id: String,
    /// The service account key file as downloaded from the Firebase console: a JSON string,
    /// or the object itself (normalized to a string).
    pub(crate) service_account_json: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) api_base: Option<String>,
}

/// `{team_id, key_id, private_key_pem, topic, api_base?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApnsSettings {
    pub(crate) team_id: String,
    pub(crate) key_id: String,
    /// The `.p8` token-signing key (PKCS#8 PEM, P-256).
    pub(crate) private_key_pem: String,
    /// The app's bundle id.
    pub(crate) topic: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) api_base: Option<String>,
}

/// The fields of a service account key file that Kefu uses.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ServiceAccountFile {
    pub(crate) client_email: String,
    pub(crate) private_key: String,
    #[serde(default)]
    pub(crate) private_key_id: Option<String>,
    #[serde(default)]
    pub(crate) token_uri: Option<String>,
}

fn invalid(field: &str, why: impl std::fmt::Display) -> ChannelError {
    ChannelError::InvalidSettings(format!("{field}: {why}"))
}

fn required(field: &str, value: &mut String) -> Result<(), ChannelError> {
    *value = value.trim().to_owned();
    if value.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    Ok(())
}

/// Apple team and key ids are ten uppercase letters or digits.
fn apple_id(field: &str, value: &mut String) -> Result<(), ChannelError> {
    *value = value.trim().to_ascii_uppercase();
    if value.len() != 10 || !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(invalid(field, "must be the 10-character id Apple shows"));
    }
    Ok(())
}

pub(crate) fn http_url(field: &str, value: &str) -> Result<String, ChannelError> {
    let base = value.trim().trim_end_matches('/').to_owned();
    let url = url::Url::parse(&base).map_err(|e| invalid(field, e))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(field, "must be an http or https URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(field, "must not have a query or fragment"));
    }
    Ok(base)
}

fn api_base(field: &str, value: &mut Option<String>) -> Result<(), ChannelError> {
    *value = match value.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(v) => Some(http_url(field, v)?),
    };
    Ok(())
}

impl PushSettings {
    /// Parses and normalizes settings; the error names the field.
    pub(crate) fn from_value(v: &serde_json::Value) -> Result<Self, ChannelError> {
        let mut s: Self = serde_json::from_value(v.clone())
            .map_err(|e| ChannelError::InvalidSettings(e.to_string()))?;
        if s.app_secret.trim().len() < 16 {
            return Err(invalid(
                "app_secret",
                "must be at least 16 characters (a random string shared with the app backend)",
            ));
        }
        if let Some(fcm) = s.fcm.as_mut() {
            required("fcm.project_id", &mut fcm.project_id)?;
            if !fcm
                .project_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                return Err(invalid(
                    "fcm.project_id",
                    "must be letters, digits and '-' (the Firebase project id)",
                ));
            }
            let file = fcm.service_account()?;
            fcm.service_account_json = serde_json::Value::String(match &fcm.service_account_json {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            file.signing_key()?;
            file.token_uri()?;
            api_base("fcm.api_base", &mut fcm.api_base)?;
        }
        if let Some(apns) = s.apns.as_mut() {
            apple_id("apns.team_id", &mut apns.team_id)?;
            apple_id("apns.key_id", &mut apns.key_id)?;
            required("apns.topic", &mut apns.topic)?;
            if apns.topic.len() > 255 || apns.topic.contains(char::is_whitespace) {
                return Err(invalid("apns.topic", "must be the app's bundle id"));
            }
            apns.signing_key()?;
            api_base("apns.api_base", &mut apns.api_base)?;
        }
        Ok(s)
    }

    /// The settings as they are stored.
    pub(crate) fn to_value(&self) -> Result<serde_json::Value, ChannelError> {
        serde_json::to_value(self).map_err(|e| ChannelError::Fatal(e.to_string()))
    }
}

impl FcmSettings {
    pub(crate) fn service_account(&self) -> Result<ServiceAccountFile, ChannelError> {
        let parsed = match &self.service_account_json {
            serde_json::Value::String(s) => serde_json::from_str(s),
            other => serde_json::from_value(other.clone()),
        };
        let mut file: ServiceAccountFile = parsed.map_err(|e| {
            invalid(
                "fcm.service_account_json",
                format!("not a service account key file: {e}"),
            )
        })?;
        required(
            "fcm.service_account_json.client_email",
            &mut file.client_email,
        )?;
        Ok(file)
    }

    pub(crate) fn api_base(&self) -> &str {
        self.api_base.as_deref().unwrap_or(FCM_API_BASE)
    }
}

impl ServiceAccountFile {
    pub(crate) fn signing_key(&self) -> Result<EncodingKey, ChannelError> {
        EncodingKey::from_rsa_pem(self.private_key.as_bytes()).map_err(|e| {
            invalid(
                "fcm.service_account_json.private_key",
                format!("not an RSA private key in PEM: {e}"),
            )
        })
    }

    pub(crate) fn token_uri(&self) -> Result<String, ChannelError> {
        match self.token_uri.as_deref() {
            Some(uri) => http_url("fcm.service_account_json.token_uri", uri),
            None => Ok(GOOGLE_TOKEN_URI.to_owned()),
        }
    }
}

impl ApnsSettings {
    pub(crate) fn signing_key(&self) -> Result<EncodingKey, ChannelError> {
        EncodingKey::from_ec_pem(self.private_key_pem.trim().as_bytes()).map_err(|e| {
            invalid(
                "apns.private_key_pem",
                format!("not the .p8 key (a P-256 private key in PEM): {e}"),
            )
        })
    }

    pub(crate) fn api_base(&self) -> &str {
        self.api_base.as_deref().unwrap_or(APNS_API_BASE)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SA: &str = include_str!("../fixtures/TEST-ONLY-service-account.json");

    fn err(v: serde_json::Value) -> String {
        PushSettings::from_value(&v)
            .expect_err("settings must be refused")
            .to_string()
    }

    #[test]
    fn names_the_field_that_is_wrong() {
        let cases = [
            (json!({}), "app_secret"),
            (json!({"app_secret": "short"}), "app_secret"),
            (
                json!({"app_secret": "0123456789abcdef", "fcm": {"project_id": "p", "service_account_json": "{}"}}),
                "service_account_json",
            ),
            (
                json!({"app_secret": "0123456789abcdef", "fcm": {"project_id": "a b", "service_account_json": SA}}),
                "fcm.project_id",
            ),
            (
                json!({"app_secret": "0123456789abcdef", "apns": {"team_id": "T", "key_id": "ABCDEFGHIJ", "private_key_pem": "x", "topic": "a.b"}}),
                "apns.team_id",
            ),
            (
                json!({"app_secret": "0123456789abcdef", "apns": {"team_id": "ABCDEFGHIJ", "key_id": "ABCDEFGHIJ", "private_key_pem": "x", "topic": "a.b"}}),
                "apns.private_key_pem",
            ),
            (
                json!({"app_secret": "0123456789abcdef", "unknown": 1}),
                "unknown field",
            ),
        ];
        for (v, field) in cases {
            let e = err(v.clone());
            assert!(e.contains(field), "{v}: {e:?} should name {field}");
        }
    }

    #[test]
    fn a_service_account_object_is_stored_as_a_string() {
        let sa: serde_json::Value = serde_json::from_str(SA).expect("fixture is JSON");
        let s = PushSettings::from_value(&json!({
            "app_secret": "0123456789abcdef",
            "fcm": {"project_id": "kefu-test", "service_account_json": sa, "api_base": "http://127.0.0.1:9/"},
        }))
        .expect("valid");
        let fcm = s.fcm.expect("fcm");
        assert!(fcm.service_account_json.is_string());
        assert_eq!(fcm.api_base.as_deref(), Some("http://127.0.0.1:9"));
        assert!(s.show_preview, "previews are shown unless turned off");
    }
}
