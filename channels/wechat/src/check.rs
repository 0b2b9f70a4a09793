//! "Test credentials" for Official Accounts and WeCom: fetch an access token with the stored
//! credentials, bypassing the cache, and report WeChat's answer (`errcode` and `errmsg` on
//! failure, e.g. `40125: invalid appsecret` or `40164` for a server IP missing from the
//! account's whitelist).

use kefu_channel::{CHECK_TIMEOUT, Check, SendError};

use crate::api::Api;

/// The `access_token` check.
pub(crate) async fn access_token(api: &Api, provider: &str) -> Check {
    const NAME: &str = "access_token";
    let api = api.uncached();
    Check::bounded(NAME, CHECK_TIMEOUT, async {
        match api.access_token().await {
            Ok(_) => Check::ok(
                NAME,
                format!("{provider} issued an access token: the credentials are right."),
            ),
            Err(
                SendError::Permanent { reason, .. }
                | SendError::Retryable { reason, .. }
                | SendError::Paced { reason, .. },
            ) => Check::failed(NAME, reason),
            Err(SendError::RateLimited { .. }) => Check::failed(
                NAME,
                format!("{provider} refused the request for now: too many requests."),
            ),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Credentials;
    use crate::mock::{APP_ID, CORP_ID, MockWeChat, SECRET};

    fn api(base: &str, secret: &str, wecom: bool) -> Api {
        let credentials = if wecom {
            Credentials::WeCom {
                corp_id: CORP_ID.into(),
                secret: secret.to_owned().into(),
            }
        } else {
            Credentials::OfficialAccount {
                app_id: APP_ID.into(),
                secret: secret.to_owned().into(),
            }
        };
        Api::new(reqwest::Client::new(), base, credentials)
    }

    #[tokio::test]
    async fn right_credentials_get_a_token_and_wrong_ones_show_wechats_answer() {
        let mock = MockWeChat::start().await;
        for wecom in [false, true] {
            let good = access_token(&api(&mock.base, SECRET, wecom), "WeChat").await;
            assert!(good.ok, "{good:?}");
            assert_eq!(good.name, "access_token");

            let bad = access_token(&api(&mock.base, "wrong-secret", wecom), "WeChat").await;
            assert!(!bad.ok, "{bad:?}");
            assert!(
                bad.detail.contains("40125") && bad.detail.contains("invalid appsecret"),
                "the provider's own words: {bad:?}"
            );
            assert!(!bad.detail.contains("wrong-secret"), "no secret: {bad:?}");
        }
    }

    #[tokio::test]
    async fn a_cached_token_does_not_hide_a_changed_secret() {
        let mock = MockWeChat::start().await;
        let api = api(&mock.base, SECRET, false);
        api.access_token().await.expect("token");
        let fetched = mock.token_fetches();
        assert!(access_token(&api, "WeChat").await.ok);
        assert_eq!(
            mock.token_fetches(),
            fetched + 1,
            "the test asks WeChat again"
        );
    }

    #[tokio::test]
    async fn an_unreachable_api_fails_without_the_secret_in_the_detail() {
        let api = api("http://127.0.0.1:9", SECRET, false);
        let c = access_token(&api, "WeChat").await;
        assert!(!c.ok);
        assert!(!c.detail.contains(SECRET), "{c:?}");
    }
}
