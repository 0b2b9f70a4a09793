//! `app_push` inbox settings, with validation that names the offending field.

use jsonwebtoken::EncodingKey;
use kefu_channel::ChannelError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where FCM HTTP v1 lives.
pub(crate) const FCM_API_BASE: &str = "https://fcm.googleapis.com";
/// Google's OAuth2 token endpoint, when a service account names none.
pub(crate) const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// APNs production; the sandbox is `https://api.sandbox.push.apple.com`.
pub(crate) const APNS_API_BASE: &str = "https://api.push.apple.com";

/// `{app_secret, show_preview?, fcm?, apns?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "Mobile app",
    description = "Your iOS or Android app: the app backend signs users in with the app secret, and replies reach users who are not connected by push notification (FCM, APNs).",
    extend("x-i18n" = {"zh-CN": {"title": "移动应用", "description": "你的 iOS 或 Android 应用：应用后端用应用密钥标识用户；用户不在线时，回复通过推送通知（FCM、APNs）送达。"}})
)]
pub(crate) struct PushSettings {
    /// # App secret
    /// A random string of at least 16 characters shared with the app backend, which signs user
    /// ids with it (`user_hash`). Write-only: send it again to replace it.
    #[schemars(extend("writeOnly" = true, "x-i18n" = {"zh-CN": {"title": "应用密钥", "description": "与应用后端共享的随机字符串，至少 16 个字符，后端用它为用户 ID 签名（user_hash）。只写：重新填写即替换。"}}))]
    pub(crate) app_secret: String,
    /// # Show message text
    /// Whether notifications show the reply's text. Turning it off keeps message text out of
    /// Google's and Apple's hands and off lock screens.
    #[serde(default = "yes")]
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "显示消息内容", "description": "通知中是否显示回复的文字。关闭后消息内容不经过 Google 和 Apple，也不会出现在锁屏上。"}}))]
    pub(crate) show_preview: bool,
    /// # Firebase Cloud Messaging (Android)
    /// Push through FCM HTTP v1; leave it out if the app has no Android users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "Firebase 云消息（Android）", "description": "通过 FCM HTTP v1 推送；应用没有 Android 用户时不填。"}}))]
    pub(crate) fcm: Option<FcmSettings>,
    /// # Apple Push Notification service (iOS)
    /// Push through APNs with a token-signing key; leave it out if the app has no iOS users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "Apple 推送通知服务（iOS）", "description": "使用令牌签名密钥通过 APNs 推送；应用没有 iOS 用户时不填。"}}))]
    pub(crate) apns: Option<ApnsSettings>,
    /// The channel type, when the gateway passes the whole `channel` object.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub(crate) kind: Option<String>,
}

fn yes() -> bool {
    true
}

/// `{project_id, service_account_json, api_base?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FcmSettings {
    /// # Project ID
    /// The Firebase project id (Project settings → General).
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "项目 ID", "description": "Firebase 项目 ID（项目设置 → 常规）。"}}))]
    pub(crate) project_id: String,
    /// # Service account key
    /// The service account key file as downloaded from the Firebase console (Project settings
    /// → Service accounts → Generate new private key): its JSON text, or the object itself.
    /// Write-only: send it again to replace it.
    #[schemars(extend("type" = ["string", "object"], "writeOnly" = true, "x-i18n" = {"zh-CN": {"title": "服务账号密钥", "description": "从 Firebase 控制台下载的服务账号密钥文件（项目设置 → 服务账号 → 生成新的私钥）：JSON 文本或对象本身。只写：重新填写即替换。"}}))]
    pub(crate) service_account_json: serde_json::Value,
    /// # API base URL
    /// Replaces https://fcm.googleapis.com, for a proxy or a test server. Usually empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "API 地址", "description": "替代 https://fcm.googleapis.com，用于代理或测试服务器。通常留空。"}}))]
    pub(crate) api_base: Option<String>,
}

/// `{team_id, key_id, private_key_pem, topic, api_base?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApnsSettings {
    /// # Team ID
    /// The 10-character Team ID of the Apple developer account (Membership details).
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "团队 ID (Team ID)", "description": "Apple 开发者账号的 10 位团队 ID（会员资格详细信息）。"}}))]
    pub(crate) team_id: String,
    /// # Key ID
    /// The 10-character id of the APNs authentication key (Certificates, Identifiers &
    /// Profiles → Keys).
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "密钥 ID (Key ID)", "description": "APNs 认证密钥的 10 位 ID（证书、标识符和描述文件 → 密钥）。"}}))]
    pub(crate) key_id: String,
    /// # Private key (.p8)
    /// The contents of the `.p8` token-signing key (PKCS#8 PEM, P-256). Write-only: send it
    /// again to replace it.
    #[schemars(extend("writeOnly" = true, "x-i18n" = {"zh-CN": {"title": "私钥 (.p8)", "description": ".p8 令牌签名密钥的内容（PKCS#8 PEM，P-256）。只写：重新填写即替换。"}}))]
    pub(crate) private_key_pem: String,
    /// # Bundle ID
    /// The app's bundle id, e.g. com.example.app (the APNs topic).
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "Bundle ID", "description": "应用的 Bundle ID，例如 com.example.app（APNs topic）。"}}))]
    pub(crate) topic: String,
    /// # API base URL
    /// Replaces https://api.push.apple.com; https://api.sandbox.push.apple.com for development
    /// builds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "API 地址", "description": "替代 https://api.push.apple.com；开发版应用用 https://api.sandbox.push.apple.com。"}}))]
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
