//! The Official Account callback route, end to end through the router the gateway mounts
//! ([`OfficialAccountFactory`]'s ingress): the same callback XML is posted in plain mode to one
//! inbox and encrypted (safe mode) to another.
//!
//! Input: one flags byte (bit 0: sign with the wrong token), one byte of clock skew (times
//! four seconds, signed), then the callback XML, so that seeds are callback files with two
//! bytes in front.
//!
//! Properties: never a 5xx; every refusal is `{code, detail}`; a forged signature is 401 and
//! stores nothing; a correctly signed, fresh callback is 200 or 400, never anything else; and
//! encryption is transparent — both inboxes answer the same status and store the same
//! envelope, which has a sender and a dedupe key.

#![no_main]

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::http::Method;
use kefu_channel::ChannelFactory;
use kefu_channel_wechat::OfficialAccountFactory;
use kefu_channel_wechat::crypto::{MsgCrypt, signature};
use kefu_fuzz::{Inboxes, assert_api_error, call, ingress_cx, query, runtime};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

const NOW: i64 = 1_700_000_000;
const TOKEN: &str = "fuzztoken";
const APP_ID: &str = "wx49f0ab532d5d035a";
const KEY: &str = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";
const PLAIN_INBOX: i64 = 1;
const SAFE_INBOX: i64 = 2;
/// The route's body limit; the encrypted form of a larger plaintext may exceed it.
const BODY_LIMIT: usize = 64 * 1024;

fn factory() -> &'static OfficialAccountFactory {
    static F: OnceLock<OfficialAccountFactory> = OnceLock::new();
    F.get_or_init(|| OfficialAccountFactory::new().with_clock(Arc::new(|| NOW)))
}

fn router() -> (Router, Arc<kefu_channel::testkit::RecordingSink>) {
    let settings = json!({"app_id": APP_ID, "app_secret": "fuzz-secret", "token": TOKEN});
    let mut safe = settings.clone();
    safe["encoding_aes_key"] = json!(KEY);
    let (cx, sink) = ingress_cx(
        Inboxes::default()
            .with(PLAIN_INBOX, "wechat", settings)
            .with(SAFE_INBOX, "wechat", safe),
    );
    let router = factory()
        .ingress(cx)
        .expect("the Official Account channel has an ingress route");
    (router, sink)
}

fuzz_target!(|data: &[u8]| {
    let [flags, skew, rest @ ..] = data else {
        return;
    };
    // The route refuses non-UTF-8 bodies before anything else.
    let Ok(xml) = std::str::from_utf8(rest) else {
        return;
    };
    let forge = flags & 1 == 1;
    let skew = i64::from(*skew as i8) * 4;
    let ts = (NOW + skew).to_string();
    let nonce = format!("{flags}{skew}");
    let token = if forge { "notthetoken" } else { TOKEN };
    let plain_sig = signature(&[token, &ts, &nonce]);

    let crypt = MsgCrypt::new(token, KEY, APP_ID).expect("the sample key is valid");
    let encrypted = crypt.encrypt_with_random(&[*flags; 16], xml);
    let outer = crypt.encrypted_xml(&encrypted, &ts, &nonce);
    let msg_sig = crypt.msg_signature(&ts, &nonce, &encrypted);

    let (router, sink) = router();
    let plain_uri = format!(
        "/{PLAIN_INBOX}?{}",
        query(&[
            ("signature", plain_sig.as_str()),
            ("timestamp", ts.as_str()),
            ("nonce", nonce.as_str()),
        ])
    );
    let safe_uri = format!(
        "/{SAFE_INBOX}?{}",
        query(&[
            ("signature", plain_sig.as_str()),
            ("timestamp", ts.as_str()),
            ("nonce", nonce.as_str()),
            ("encrypt_type", "aes"),
            ("msg_signature", msg_sig.as_str()),
        ])
    );
    let ((plain, plain_body), (safe, safe_body)) = runtime().block_on(async {
        (
            call(&router, Method::POST, &plain_uri, xml.as_bytes().to_vec()).await,
            call(&router, Method::POST, &safe_uri, outer.clone().into_bytes()).await,
        )
    });
    let envelopes = sink.envelopes();

    for (status, body) in [(plain, &plain_body), (safe, &safe_body)] {
        assert!(
            (200..500).contains(&status),
            "{status}: {}",
            String::from_utf8_lossy(body)
        );
        // 413 comes from axum's body limit; the gateway renders it as `{code, detail}`.
        if status != 200 && status != 413 {
            assert_api_error(status, body);
        }
    }
    if xml.len() >= BODY_LIMIT || outer.len() >= BODY_LIMIT {
        return;
    }
    if forge {
        assert_eq!((plain, safe), (401, 401));
        assert!(envelopes.is_empty());
        return;
    }
    if skew.unsigned_abs() > 300 {
        assert_eq!((plain, safe), (401, 401), "a stale timestamp is refused");
        return;
    }
    assert!(plain == 200 || plain == 400, "plain callback: {plain}");
    assert_eq!(plain, safe, "encryption changed the answer for {xml:?}");
    // Each stored envelope is one of the two identical callbacks.
    let (from_plain, from_safe): (Vec<_>, Vec<_>) = envelopes
        .into_iter()
        .partition(|e| e.inbox_id == PLAIN_INBOX);
    assert!(from_plain.len() <= 1 && from_plain.len() == from_safe.len());
    for (mut p, s) in from_plain.into_iter().zip(from_safe) {
        assert!(!p.sender.external_id.is_empty());
        assert!(p.dedupe_key.as_deref().is_some_and(|k| !k.is_empty()));
        p.inbox_id = s.inbox_id;
        assert_eq!(p, s);
    }
});
