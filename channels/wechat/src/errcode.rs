//! WeChat and WeCom errcodes and what they mean for a send: retry, wait, or give up with a
//! machine-readable code an agent's console can explain.

use kefu_channel::SendError;

/// Errcodes that mean "fetch a new access token and try again".
pub(crate) const TOKEN_ERRORS: &[i64] = &[40001, 40014, 42001];

/// Classifies an API errcode (global return codes, customer-service and WeCom kf codes).
pub(crate) fn classify(code: i64, message: &str) -> SendError {
    let permanent = |c: &str, what: &str| {
        SendError::permanent(c, format!("{what} (WeChat errcode {code}: {message})"))
    };
    match code {
        -1 => SendError::retryable(format!("WeChat system busy (errcode -1: {message})")),
        // Daily quota, per-minute frequency, concurrency limit.
        45009 | 45011 | 45033 => SendError::RateLimited { after: None },
        40001 | 40014 | 42001 => SendError::retryable(format!(
            "WeChat rejected a freshly fetched access token (errcode {code}: {message})"
        )),
        45015 => permanent(
            "reply_window_closed",
            "The customer has not written for 48 hours or has unfollowed; WeChat allows no reply",
        ),
        45047 => permanent(
            "reply_quota_exhausted",
            "The reply quota for this customer is used up until they write again",
        ),
        40003 | 40096 | 95000 | 95004 => permanent(
            "invalid_recipient",
            "The recipient or customer-service account id is not valid for this account",
        ),
        43004 => permanent(
            "recipient_not_subscribed",
            "The customer no longer follows the account",
        ),
        48002 => permanent(
            "recipient_refuses_messages",
            "The customer refuses messages from the account",
        ),
        44004 => permanent("empty_content", "The message is empty"),
        45002 => permanent("content_too_long", "The message is too long for WeChat"),
        40007 => permanent(
            "invalid_media_id",
            "WeChat does not know this media id, or it expired (temporary media are kept three days)",
        ),
        40004 | 40005 => permanent(
            "attachment_type_unsupported",
            "WeChat does not accept this kind of file",
        ),
        40006 | 40009 | 40010 | 40011 | 45001 => permanent(
            "attachment_too_large",
            "The file is larger than WeChat accepts for its type",
        ),
        41005 => permanent("attachment_empty", "WeChat received no file data"),
        48001 | 95017 => permanent(
            "api_not_authorized",
            "The account is not authorized for this API",
        ),
        _ => permanent(&format!("wechat_{code}"), "WeChat refused the message"),
    }
}

/// Classifies an error from the token endpoint, where most codes mean misconfiguration.
pub(crate) fn classify_token_error(code: i64, message: &str) -> SendError {
    match code {
        // On the token endpoint 40001 means a wrong AppSecret, not a stale token.
        40001 | 40013 | 40125 | 40091 | 40002 | 41002 | 41004 => SendError::permanent(
            "invalid_credentials",
            format!("WeChat refused the account credentials (errcode {code}: {message})"),
        ),
        40164 | 60020 => SendError::permanent(
            "ip_not_whitelisted",
            format!(
                "This server's IP is not in the account's IP whitelist (errcode {code}: {message})"
            ),
        ),
        _ => classify(code, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_table() {
        let code = |e: SendError| match e {
            SendError::Permanent { code, .. } => code,
            SendError::RateLimited { .. } => "rate_limited".into(),
            SendError::Retryable { .. } => "retryable".into(),
            SendError::Paced { .. } => "paced".into(),
        };
        for (errcode, want) in [
            (-1, "retryable"),
            (45009, "rate_limited"),
            (45015, "reply_window_closed"),
            (45047, "reply_quota_exhausted"),
            (40003, "invalid_recipient"),
            (43004, "recipient_not_subscribed"),
            (48002, "recipient_refuses_messages"),
            (44004, "empty_content"),
            (45002, "content_too_long"),
            (42001, "retryable"),
            (95004, "invalid_recipient"),
            (40007, "invalid_media_id"),
            (40005, "attachment_type_unsupported"),
            (40009, "attachment_too_large"),
            (45001, "attachment_too_large"),
            (12345, "wechat_12345"),
        ] {
            assert_eq!(code(classify(errcode, "m")), want, "errcode {errcode}");
        }
        assert_eq!(
            code(classify_token_error(40125, "invalid appsecret")),
            "invalid_credentials"
        );
        assert_eq!(
            code(classify_token_error(40164, "ip")),
            "ip_not_whitelisted"
        );
        assert_eq!(code(classify_token_error(-1, "busy")), "retryable");
    }
}
