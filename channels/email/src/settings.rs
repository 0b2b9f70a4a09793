//! The settings of one email inbox, as an admin enters them (`channel: {type: "email", ...}`).
//!
//! ```json
//! {
//!   "address": "support@example.com",
//!   "imap": {"host": "imap.example.com", "port": 993, "tls": "tls",
//!            "username": "support@example.com", "password": "...", "mailbox": "INBOX"},
//!   "smtp": {"host": "smtp.example.com", "port": 465, "tls": "tls",
//!            "username": "support@example.com", "password": "..."},
//!   "plus_addressing": true,
//!   "max_attachment_bytes": 26214400
//! }
//! ```

use schemars::JsonSchema;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

use kefu_channel::ChannelError;

use crate::parse::DEFAULT_MAX_ATTACHMENT_BYTES;

/// How to secure a connection to the mail server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Implicit TLS from the first byte (IMAP 993, SMTP 465).
    #[schemars(extend("x-i18n" = {"zh-CN": {"description": "从第一个字节起使用 TLS（IMAP 993、SMTP 465）。"}}))]
    Tls,
    /// Plain connection upgraded with STARTTLS (IMAP 143, SMTP 587).
    #[schemars(extend("x-i18n" = {"zh-CN": {"description": "先明文连接再用 STARTTLS 升级（IMAP 143、SMTP 587）。"}}))]
    Starttls,
    /// No encryption: loopback or trusted networks only.
    #[schemars(extend("x-i18n" = {"zh-CN": {"description": "不加密：仅限本机或可信网络。"}}))]
    None,
}

/// One mail server account.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapSettings {
    /// # Host
    /// The IMAP server's host name, e.g. imap.example.com.
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "服务器", "description": "IMAP 服务器的主机名，例如 imap.example.com。"}}))]
    pub host: String,
    /// # Port
    /// 993 for `tls`, 143 otherwise, when left out.
    #[serde(default)]
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "端口", "description": "留空时 tls 用 993，其他用 143。"}}))]
    pub port: Option<u16>,
    /// # Security
    /// How the connection is secured.
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "加密方式", "description": "连接的加密方式。"}}))]
    pub tls: TlsMode,
    /// # User name
    /// The login name, often the full address.
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "用户名", "description": "登录名，通常是完整的邮箱地址。"}}))]
    pub username: String,
    /// # Password
    /// The login password or app password. Write-only: send it again to replace it.
    #[schemars(with = "String", extend("writeOnly" = true, "x-i18n" = {"zh-CN": {"title": "密码", "description": "登录密码或应用专用密码。只写：重新填写即替换。"}}))]
    pub password: SecretString,
    /// # Mailbox
    /// The folder to read, `INBOX` when left out.
    #[serde(default = "default_mailbox")]
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "邮件夹", "description": "要读取的文件夹，留空为 INBOX。"}}))]
    pub mailbox: String,
}

/// The SMTP submission account replies leave through.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// # Host
    /// The SMTP server's host name, e.g. smtp.example.com.
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "服务器", "description": "SMTP 服务器的主机名，例如 smtp.example.com。"}}))]
    pub host: String,
    /// # Port
    /// 465 for `tls`, 587 for `starttls`, 25 for `none`, when left out.
    #[serde(default)]
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "端口", "description": "留空时 tls 用 465，starttls 用 587，none 用 25。"}}))]
    pub port: Option<u16>,
    /// # Security
    /// How the connection is secured.
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "加密方式", "description": "连接的加密方式。"}}))]
    pub tls: TlsMode,
    /// # User name
    /// The login name; leave it and the password empty for a relay that needs no login.
    #[serde(default)]
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "用户名", "description": "登录名；中继服务器无需登录时，用户名和密码都留空。"}}))]
    pub username: Option<String>,
    /// # Password
    /// The login password or app password. Write-only: send it again to replace it.
    #[serde(default)]
    #[schemars(with = "Option<String>", extend("writeOnly" = true, "x-i18n" = {"zh-CN": {"title": "密码", "description": "登录密码或应用专用密码。只写：重新填写即替换。"}}))]
    pub password: Option<SecretString>,
}

/// The settings of one email inbox.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "Email",
    description = "A support mailbox: Kefu reads mail over IMAP and sends replies over SMTP.",
    extend("x-i18n" = {"zh-CN": {"title": "电子邮件", "description": "客服邮箱：Kefu 通过 IMAP 收信，通过 SMTP 发送回复。"}})
)]
pub struct EmailSettings {
    /// # Address
    /// The inbox's address: replies come from it, and mail from it is never taken in.
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "邮箱地址", "description": "收件箱的地址：回复从这里发出，来自它的邮件不会收取。"}}))]
    pub address: String,
    /// # IMAP (incoming mail)
    /// Where mail is read.
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "IMAP（收信）", "description": "从哪里读取邮件。"}}))]
    pub imap: ImapSettings,
    /// # SMTP (outgoing mail)
    /// Where replies are sent.
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "SMTP（发信）", "description": "回复从哪里发出。"}}))]
    pub smtp: SmtpSettings,
    /// # Plus addressing
    /// Put `Reply-To: local+<conversation token>@domain` on replies, so answers find their
    /// conversation even when a client drops the threading headers. The mail server must
    /// deliver plus-addresses to the mailbox (most do).
    #[serde(default)]
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "加号地址", "description": "在回复中加上 Reply-To: 本地部分+会话标记@域名，即使客户端丢掉了会话头，回信也能归入原会话。邮件服务器须把加号地址投递到本邮箱（大多数都支持）。"}}))]
    pub plus_addressing: bool,
    /// # Largest attachment (bytes)
    /// Attachments larger than this are not kept (default 25 MiB).
    #[serde(default)]
    #[schemars(extend("x-i18n" = {"zh-CN": {"title": "附件大小上限（字节）", "description": "超过此大小的附件不保存（默认 25 MiB）。"}}))]
    pub max_attachment_bytes: Option<u64>,
}

fn default_mailbox() -> String {
    "INBOX".into()
}

/// The secret settings, as JSON pointers.
pub const SECRET_FIELDS: &[&str] = &["/imap/password", "/smtp/password"];

fn invalid(field: &str, why: &str) -> ChannelError {
    ChannelError::InvalidSettings(format!("{field}: {why}"))
}

impl ImapSettings {
    /// The port, defaulted from the TLS mode.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            TlsMode::Tls => 993,
            TlsMode::Starttls | TlsMode::None => 143,
        })
    }
}

impl SmtpSettings {
    /// The port, defaulted from the TLS mode.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            TlsMode::Tls => 465,
            TlsMode::Starttls => 587,
            TlsMode::None => 25,
        })
    }
}

impl EmailSettings {
    /// Parses and checks settings; the error names the field, e.g. `imap.port: ...`.
    pub fn from_json(value: &Value) -> Result<Self, ChannelError> {
        let s: Self = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." { "settings" } else { &path };
            invalid(field, &e.into_inner().to_string())
        })?;
        s.check()?;
        Ok(s)
    }

    /// The attachment size limit in force.
    pub fn max_attachment_bytes(&self) -> u64 {
        self.max_attachment_bytes
            .unwrap_or(DEFAULT_MAX_ATTACHMENT_BYTES)
    }

    /// The domain of [`address`](Self::address).
    pub fn domain(&self) -> &str {
        self.address.rsplit_once('@').map_or("", |(_, d)| d)
    }

    fn check(&self) -> Result<(), ChannelError> {
        check_address(&self.address)?;
        if self.plus_addressing && self.address.split('@').next().unwrap_or("").contains('+') {
            return Err(invalid(
                "address",
                "must not contain '+' when plus_addressing is on",
            ));
        }
        for (prefix, host, port) in [
            ("imap", &self.imap.host, self.imap.port),
            ("smtp", &self.smtp.host, self.smtp.port),
        ] {
            let host = host.trim();
            if host.is_empty() || host.contains(char::is_whitespace) || host.contains('/') {
                return Err(invalid(
                    &format!("{prefix}.host"),
                    "must be a host name or IP address",
                ));
            }
            if port == Some(0) {
                return Err(invalid(
                    &format!("{prefix}.port"),
                    "must be between 1 and 65535",
                ));
            }
        }
        if self.imap.username.trim().is_empty() {
            return Err(invalid("imap.username", "must not be empty"));
        }
        if self.imap.password.expose_secret().is_empty() {
            return Err(invalid("imap.password", "must not be empty"));
        }
        if self.imap.mailbox.trim().is_empty() {
            return Err(invalid("imap.mailbox", "must not be empty"));
        }
        let user = self.smtp.username.as_deref().map(str::trim).unwrap_or("");
        let pass = self
            .smtp
            .password
            .as_ref()
            .map_or("", |p| p.expose_secret());
        if user.is_empty() != pass.is_empty() {
            return Err(invalid(
                "smtp.password",
                "smtp.username and smtp.password go together: give both or neither",
            ));
        }
        if self.max_attachment_bytes == Some(0) {
            return Err(invalid("max_attachment_bytes", "must be positive"));
        }
        Ok(())
    }
}

fn check_address(address: &str) -> Result<(), ChannelError> {
    let ok = address.rsplit_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.') | (domain == "localhost")
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !address.contains(char::is_whitespace)
            && !address.contains(['<', '>', ',', ';'])
    });
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "address",
            "must be an email address like support@example.com",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({
            "address": "support@example.com",
            "imap": {"host": "imap.example.com", "port": 993, "tls": "tls",
                     "username": "support", "password": "secret", "mailbox": "INBOX"},
            "smtp": {"host": "smtp.example.com", "port": 465, "tls": "tls",
                     "username": "support", "password": "secret"}
        })
    }

    fn error_for(patch: impl FnOnce(&mut Value)) -> String {
        let mut v = valid();
        patch(&mut v);
        match EmailSettings::from_json(&v) {
            Ok(_) => "ok".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn accepts_valid_settings_with_defaults() {
        let mut v = valid();
        v["imap"].as_object_mut().expect("object").remove("mailbox");
        v["imap"].as_object_mut().expect("object").remove("port");
        let s = EmailSettings::from_json(&v).expect("valid");
        assert_eq!(s.imap.mailbox, "INBOX");
        assert_eq!(s.imap.port(), 993);
        assert_eq!(s.max_attachment_bytes(), DEFAULT_MAX_ATTACHMENT_BYTES);
        assert!(!s.plus_addressing);
    }

    #[test]
    fn errors_name_the_field() {
        type Patch = Box<dyn FnOnce(&mut Value)>;
        let cases: Vec<(Patch, &str)> = vec![
            (
                Box::new(|v| v["address"] = json!("not an address")),
                "address:",
            ),
            (Box::new(|v| v["imap"]["tls"] = json!("ssl")), "imap.tls:"),
            (Box::new(|v| v["smtp"]["port"] = json!(0)), "smtp.port:"),
            (Box::new(|v| v["smtp"]["port"] = json!(70000)), "smtp.port:"),
            (
                Box::new(|v| {
                    v["imap"]
                        .as_object_mut()
                        .expect("object")
                        .remove("password");
                }),
                "imap:",
            ),
            (
                Box::new(|v| v["imap"]["password"] = json!("")),
                "imap.password:",
            ),
            (Box::new(|v| v["imap"]["host"] = json!("")), "imap.host:"),
            (
                Box::new(|v| v["smtp"]["password"] = json!(null)),
                "smtp.password:",
            ),
            (
                Box::new(|v| v["max_attachment_bytes"] = json!(0)),
                "max_attachment_bytes:",
            ),
            (Box::new(|v| v["colour"] = json!("blue")), "colour"),
        ];
        for (patch, want) in cases {
            let got = error_for(patch);
            assert!(
                got.contains(want),
                "expected an error naming {want:?}, got {got:?}"
            );
        }
    }
}
