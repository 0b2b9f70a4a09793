//! Provider addresses an admin sets on an inbox — `api_base` of WeChat, WeCom, FCM and APNs,
//! the IMAP and SMTP `host` of a mailbox — follow the webhooks' private-address policy
//! (`kefu_dispatcher::webhook::target`): Kefu connects to them from inside the operator's
//! network, so without a check an inbox with `api_base = http://169.254.169.254` reads cloud
//! credentials, and one with an IMAP host on `127.0.0.1:6379` talks to internal services.
//!
//! Loopback, private, link-local and other non-public addresses, and `localhost` names, are
//! refused at inbox create and update with 422 `private_target_refused` naming the field,
//! unless `channels.allow_private_targets` is set (tests, whose provider stand-ins run on
//! loopback, and on-premise mail servers on a private network).
//!
//! Only what is written is checked, not what a name resolves to when Kefu connects. Unlike a
//! webhook URL, which any holder of the webhook permission may point anywhere, these are set
//! by admins, who already control the process's configuration; the check is there to stop
//! the obvious mistakes and the copy-pasted metadata URL, and resolving again at every
//! connection inside each channel crate (IMAP, SMTP and three HTTP clients) would add a
//! second policy point per protocol for little gain. Webhooks keep their connect-time check.

use axum::http::StatusCode;
use kefu_dispatcher::webhook::{TargetError, check_url};
use serde_json::Value;

use crate::error::ApiError;

/// Checks every `api_base` and `host` in an inbox's validated channel `settings` (at any depth:
/// `fcm.api_base`, `imap.host`), unless `allow_private` is set.
pub fn check(settings: &Value, allow_private: bool) -> Result<(), ApiError> {
    if allow_private {
        return Ok(());
    }
    walk(settings, "channel")
}

fn walk(value: &Value, path: &str) -> Result<(), ApiError> {
    let Value::Object(map) = value else {
        return Ok(());
    };
    for (key, item) in map {
        let field = format!("{path}.{key}");
        match (key.as_str(), item) {
            ("api_base", Value::String(url)) => check_one(&field, url, url)?,
            ("host", Value::String(host)) => {
                let host = host.trim();
                // An IPv6 literal goes in brackets to form a URL.
                let url = if host.contains(':') && !host.starts_with('[') {
                    format!("http://[{host}]/")
                } else {
                    format!("http://{host}/")
                };
                check_one(&field, host, &url)?
            }
            (_, Value::Object(_)) => walk(item, &field)?,
            _ => {}
        }
    }
    Ok(())
}

fn check_one(field: &str, written: &str, url: &str) -> Result<(), ApiError> {
    let refused = |what: String| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "private_target_refused",
            format!(
                "{field}: {what}; to reach providers on private or loopback addresses (tests, \
                 on-premise servers), set channels.allow_private_targets = true \
                 (KEFU_CHANNELS__ALLOW_PRIVATE_TARGETS=true)"
            ),
        )
    };
    match check_url(url, false) {
        Ok(_) => Ok(()),
        Err(TargetError::RefusedAddress { addr, reason }) => {
            Err(refused(format!("{written} is refused: {addr} is {reason}")))
        }
        Err(TargetError::RefusedHost { host, reason }) => {
            Err(refused(format!("the host {host} is refused: {reason}")))
        }
        Err(e) => Err(ApiError::invalid(format!(
            "{field}: {written:?} is not usable: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn private_provider_addresses_are_refused_by_field() {
        let cases = [
            (json!({"api_base": "https://api.weixin.qq.com"}), None),
            (
                json!({"imap": {"host": "imap.example.com", "port": 993}}),
                None,
            ),
            (
                json!({"api_base": "http://169.254.169.254/latest"}),
                Some("channel.api_base"),
            ),
            (
                json!({"fcm": {"project_id": "p", "api_base": "http://127.1:9/"}}),
                Some("channel.fcm.api_base"),
            ),
            (
                json!({"imap": {"host": "127.0.0.1"}}),
                Some("channel.imap.host"),
            ),
            (
                json!({"smtp": {"host": "localhost"}}),
                Some("channel.smtp.host"),
            ),
            (json!({"smtp": {"host": "::1"}}), Some("channel.smtp.host")),
            (
                json!({"smtp": {"host": "10.1.2.3"}}),
                Some("channel.smtp.host"),
            ),
        ];
        for (settings, want) in cases {
            match (check(&settings, false), want) {
                (Ok(()), None) => {}
                (Err(e), Some(field)) => {
                    assert_eq!(e.code, "private_target_refused", "{settings}: {e:?}");
                    assert!(e.detail.starts_with(field), "{settings}: {}", e.detail);
                    assert!(e.detail.contains("channels.allow_private_targets"));
                }
                (got, want) => panic!("{settings}: got {got:?}, want {want:?}"),
            }
            assert!(
                check(&settings, true).is_ok(),
                "the switch allows {settings}"
            );
        }
    }
}
