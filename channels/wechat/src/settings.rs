//! Inbox settings for both channel types, with validation that names the offending field.

use kefu_channel::ChannelError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::crypto::decode_aes_key;

/// Default API base of Official Accounts.
pub(crate) const OFFICIAL_API_BASE: &str = "https://api.weixin.qq.com";
/// Default API base of WeCom.
pub(crate) const WECOM_API_BASE: &str = "https://qyapi.weixin.qq.com";

/// `wechat` settings: `{app_id, app_secret, token, encoding_aes_key?, api_base?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "WeChat Official Account",
    description = "Connect a WeChat Official Account (公众号): enter its developer credentials, then paste the callback URL and token into 设置与开发 → 基本配置 → 服务器配置.",
    extend("x-i18n" = {"zh-CN": {"title": "微信公众号", "description": "接入微信公众号：填写开发者凭据，再把回调地址和令牌填到公众平台「设置与开发 → 基本配置 → 服务器配置」。"}})
)]
pub(crate) struct OfficialSettings {
    /// # AppID
    /// The account's developer ID (开发者ID), shown in 设置与开发 → 基本配置.
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "开发者ID (AppID)", "description": "公众号的开发者ID，见「设置与开发 → 基本配置」。"}}))]
    pub(crate) app_id: String,
    /// # AppSecret
    /// The developer password (开发者密码) Kefu fetches access tokens with. Write-only: send it
    /// again to replace it.
    #[schemars(extend("writeOnly" = true, "x-i18n" = {"zh-CN": {"title": "开发者密码 (AppSecret)", "description": "Kefu 用它获取 access_token。只写：重新填写即替换。"}}))]
    pub(crate) app_secret: String,
    /// # Token
    /// The token entered next to the callback URL (服务器配置 → 令牌); WeChat signs every
    /// callback with it. 3 to 32 letters or digits.
    #[schemars(extend("writeOnly" = true, "x-i18n" = {"zh-CN": {"title": "令牌 (Token)", "description": "与服务器地址一起填写的令牌，微信用它为每次回调签名。3 到 32 位字母或数字。"}}))]
    pub(crate) token: String,
    /// # EncodingAESKey
    /// The 43-character message encryption key (消息加解密密钥), required in safe mode
    /// (安全模式), the recommended mode: it signs each callback's body. Leave it empty only in
    /// plain-text mode, where the signature does not cover the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("writeOnly" = true, "x-i18n" = {"zh-CN": {"title": "消息加解密密钥 (EncodingAESKey)", "description": "43 位消息加解密密钥，安全模式（推荐，回调内容也被签名）下必填；仅在明文模式下留空，明文模式的签名不覆盖消息内容。"}}))]
    pub(crate) encoding_aes_key: Option<String>,
    /// # API base URL
    /// Replaces https://api.weixin.qq.com, for a proxy or a test server. Usually empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "API 地址", "description": "替代 https://api.weixin.qq.com，用于代理或测试服务器。通常留空。"}}))]
    pub(crate) api_base: Option<String>,
    /// # Template message
    /// Sent instead when a notification from Kefu finds the customer's 48-hour window closed.
    /// Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) template: Option<crate::template::TemplateSettings>,
    /// The channel type, when the gateway passes the whole `channel` object.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub(crate) kind: Option<String>,
}

/// `wecom_kf` settings: `{corp_id, secret, token, encoding_aes_key, open_kfid, api_base?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "WeCom customer service",
    description = "Connect a WeCom customer-service account (微信客服): enter the company's credentials and the account's open_kfid, then paste the callback URL, token and key into the 微信客服 API settings.",
    extend("x-i18n" = {"zh-CN": {"title": "企业微信客服", "description": "接入微信客服账号：填写企业凭据和客服账号的 open_kfid，再把回调地址、Token 和 EncodingAESKey 填到微信客服的 API 配置中。"}})
)]
pub(crate) struct WecomSettings {
    /// # Corp ID
    /// The company's ID (企业ID), shown in 我的企业 → 企业信息 of the WeCom admin console.
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "企业ID (CorpID)", "description": "企业微信管理后台「我的企业 → 企业信息」中的企业ID。"}}))]
    pub(crate) corp_id: String,
    /// # Secret
    /// The Secret of the 微信客服 app (应用管理 → 微信客服 → API). Write-only: send it again to
    /// replace it.
    #[schemars(extend("writeOnly" = true, "x-i18n" = {"zh-CN": {"title": "Secret", "description": "微信客服应用的 Secret（应用管理 → 微信客服 → API）。只写：重新填写即替换。"}}))]
    pub(crate) secret: String,
    /// # Token
    /// The callback Token set with the callback URL; WeCom signs every callback with it. 3 to
    /// 32 letters or digits.
    #[schemars(extend("writeOnly" = true, "x-i18n" = {"zh-CN": {"title": "Token", "description": "与回调地址一起设置的 Token，企业微信用它为每次回调签名。3 到 32 位字母或数字。"}}))]
    pub(crate) token: String,
    /// # EncodingAESKey
    /// The 43-character callback encryption key set with the callback URL.
    #[schemars(extend("writeOnly" = true, "x-i18n" = {"zh-CN": {"title": "EncodingAESKey", "description": "与回调地址一起设置的 43 位回调加密密钥。"}}))]
    pub(crate) encoding_aes_key: String,
    /// # Customer service account
    /// The `open_kfid` of the customer-service account (客服账号) this inbox answers for.
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "客服账号ID (open_kfid)", "description": "本收件箱接待的客服账号的 open_kfid。"}}))]
    pub(crate) open_kfid: String,
    /// # API base URL
    /// Replaces https://qyapi.weixin.qq.com, for a proxy or a test server. Usually empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "API 地址", "description": "替代 https://qyapi.weixin.qq.com，用于代理或测试服务器。通常留空。"}}))]
    pub(crate) api_base: Option<String>,
    /// The channel type, when the gateway passes the whole `channel` object.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub(crate) kind: Option<String>,
}

fn invalid(field: &str, why: &str) -> ChannelError {
    ChannelError::InvalidSettings(format!("{field}: {why}"))
}

fn parse<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> Result<T, ChannelError> {
    // serde names the field: "missing field `app_id`", "unknown field `appid`".
    serde_json::from_value(v.clone()).map_err(|e| ChannelError::InvalidSettings(e.to_string()))
}

fn required(field: &str, value: &mut String) -> Result<(), ChannelError> {
    *value = value.trim().to_owned();
    if value.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    Ok(())
}

fn identifier(field: &str, value: &mut String) -> Result<(), ChannelError> {
    required(field, value)?;
    if value.len() > 64
        || !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(invalid(
            field,
            "must be at most 64 characters of letters, digits, '_' and '-'",
        ));
    }
    Ok(())
}

/// WeChat requires the callback token to be 3–32 letters or digits.
fn token(value: &mut String) -> Result<(), ChannelError> {
    required("token", value)?;
    if !(3..=32).contains(&value.len()) || !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(invalid("token", "must be 3 to 32 letters or digits"));
    }
    Ok(())
}

fn aes_key(value: &mut String) -> Result<(), ChannelError> {
    *value = value.trim().to_owned();
    decode_aes_key(value).map(|_| ()).map_err(|_| {
        invalid(
            "encoding_aes_key",
            "must be the 43-character EncodingAESKey",
        )
    })
}

fn api_base(value: &mut Option<String>) -> Result<(), ChannelError> {
    let Some(base) = value.as_mut() else {
        return Ok(());
    };
    *base = base.trim().trim_end_matches('/').to_owned();
    if base.is_empty() {
        *value = None;
        return Ok(());
    }
    let url = url::Url::parse(base).map_err(|e| invalid("api_base", &e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid("api_base", "must be an http or https URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("api_base", "must not have a query or fragment"));
    }
    Ok(())
}

impl OfficialSettings {
    /// Parses and normalizes settings; the error names the field.
    pub(crate) fn from_value(v: &serde_json::Value) -> Result<Self, ChannelError> {
        let mut s: Self = parse(v)?;
        identifier("app_id", &mut s.app_id)?;
        required("app_secret", &mut s.app_secret)?;
        token(&mut s.token)?;
        if let Some(key) = s.encoding_aes_key.as_mut() {
            if key.trim().is_empty() {
                s.encoding_aes_key = None;
            } else {
                aes_key(key)?;
            }
        }
        api_base(&mut s.api_base)?;
        if let Some(t) = s.template.as_mut() {
            t.check()?;
        }
        Ok(s)
    }

    pub(crate) fn api_base(&self) -> &str {
        self.api_base.as_deref().unwrap_or(OFFICIAL_API_BASE)
    }
}

impl WecomSettings {
    /// Parses and normalizes settings; the error names the field.
    pub(crate) fn from_value(v: &serde_json::Value) -> Result<Self, ChannelError> {
        let mut s: Self = parse(v)?;
        identifier("corp_id", &mut s.corp_id)?;
        required("secret", &mut s.secret)?;
        token(&mut s.token)?;
        aes_key(&mut s.encoding_aes_key)?;
        identifier("open_kfid", &mut s.open_kfid)?;
        api_base(&mut s.api_base)?;
        Ok(s)
    }

    pub(crate) fn api_base(&self) -> &str {
        self.api_base.as_deref().unwrap_or(WECOM_API_BASE)
    }
}

/// Serializes normalized settings back for storage.
pub(crate) fn to_value<T: Serialize>(s: &T) -> Result<serde_json::Value, ChannelError> {
    serde_json::to_value(s).map_err(|e| ChannelError::InvalidSettings(e.to_string()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

    fn err(v: serde_json::Value) -> String {
        OfficialSettings::from_value(&v)
            .expect_err("invalid settings")
            .to_string()
    }

    #[test]
    fn official_settings_are_normalized() {
        let s = OfficialSettings::from_value(&json!({
            "app_id": " wx5823bf96d3bd56c7 ", "app_secret": "s3cret", "token": "QDG6eK",
            "encoding_aes_key": "", "api_base": "http://127.0.0.1:9/",
        }))
        .expect("valid");
        assert_eq!(s.app_id, "wx5823bf96d3bd56c7");
        assert_eq!(s.encoding_aes_key, None);
        assert_eq!(s.api_base(), "http://127.0.0.1:9");
        let defaults = OfficialSettings::from_value(
            &json!({"type": "wechat", "app_id": "wx1", "app_secret": "s", "token": "abc", "encoding_aes_key": KEY}),
        )
        .expect("valid");
        assert_eq!(defaults.api_base(), "https://api.weixin.qq.com");
    }

    #[test]
    fn official_errors_name_the_field() {
        let ok = json!({"app_id": "wx1", "app_secret": "s", "token": "abc"});
        let with = |k: &str, v: serde_json::Value| {
            let mut o = ok.clone();
            o[k] = v;
            o
        };
        for (v, field) in [
            (json!({"app_secret": "s", "token": "abc"}), "app_id"),
            (with("app_id", json!("")), "app_id"),
            (with("app_id", json!("wx 1")), "app_id"),
            (with("app_secret", json!(" ")), "app_secret"),
            (with("token", json!("ab")), "token"),
            (with("token", json!("has space")), "token"),
            (with("encoding_aes_key", json!("short")), "encoding_aes_key"),
            (with("api_base", json!("ftp://x")), "api_base"),
            (with("api_base", json!("not a url")), "api_base"),
            (with("appsecret", json!("typo")), "appsecret"),
        ] {
            let e = err(v);
            assert!(e.contains(field), "{e:?} should name {field}");
        }
    }

    #[test]
    fn wecom_settings() {
        let ok = json!({"corp_id": "ww1436e0e65a779aee", "secret": "s", "token": "abc",
            "encoding_aes_key": KEY, "open_kfid": "wkAbC_1"});
        let s = WecomSettings::from_value(&ok).expect("valid");
        assert_eq!(s.api_base(), "https://qyapi.weixin.qq.com");
        let mut bad = ok.clone();
        bad.as_object_mut().map(|o| o.remove("encoding_aes_key"));
        let e = WecomSettings::from_value(&bad)
            .expect_err("key is required")
            .to_string();
        assert!(e.contains("encoding_aes_key"), "{e}");
        let mut bad = ok;
        bad["open_kfid"] = json!("");
        let e = WecomSettings::from_value(&bad)
            .expect_err("kfid")
            .to_string();
        assert!(e.contains("open_kfid"), "{e}");
    }
}
