//! The app API (`/channels/app/{inbox_id}/devices|messages`), end to end through the router
//! the gateway mounts ([`PushFactory`]'s ingress), with request bodies as an app could send
//! them: well-formed ones with fuzzed fields, and raw bytes.
//!
//! Properties: never a 5xx; every refusal is `{code, detail}`; nothing succeeds without the
//! right `user_hash` for the `external_id`; a stored message is exactly the text that was
//! posted, from that user, with the documented dedupe key, and a 201 stores one.

#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use axum::http::Method;
use kefu_channel::ChannelFactory;
use kefu_channel_push::{PushFactory, message_dedupe_key, user_hash};
use kefu_fuzz::{Inboxes, assert_api_error, call, ingress_cx, query, runtime};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

const INBOX: i64 = 31;
const SECRET: &str = "fuzz-app-secret-0123456789";
const SERVICE_ACCOUNT: &str =
    include_str!("../../channels/push/fixtures/TEST-ONLY-service-account.json");

#[derive(Arbitrary, Debug)]
enum Hash {
    Valid,
    ValidUppercase,
    Given(String),
}

#[derive(Arbitrary, Debug)]
struct Caller {
    external_id: String,
    hash: Hash,
}

impl Caller {
    fn user_hash(&self) -> String {
        match &self.hash {
            Hash::Valid => user_hash(SECRET, &self.external_id),
            Hash::ValidUppercase => user_hash(SECRET, &self.external_id).to_ascii_uppercase(),
            Hash::Given(s) => s.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Platform {
    Fcm,
    Apns,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Call {
    PostMessage {
        caller: Caller,
        client_id: String,
        text: String,
        name: Option<String>,
    },
    RegisterDevice {
        caller: Caller,
        platform: Platform,
        token: String,
    },
    RemoveDevice {
        caller: Caller,
        platform: Platform,
        token: String,
    },
    Sync {
        caller: Caller,
        after_seq: Option<String>,
        limit: Option<String>,
    },
    /// Any bytes to one of the POST routes.
    Raw { messages: bool, body: Vec<u8> },
    /// Any inbox id.
    OtherInbox { inbox: String, body: Vec<u8> },
}

fn factory() -> &'static PushFactory {
    static F: OnceLock<PushFactory> = OnceLock::new();
    F.get_or_init(PushFactory::new)
}

fn device_body(caller: &Caller, platform: &Platform, token: &str) -> Vec<u8> {
    let platform = match platform {
        Platform::Fcm => "fcm",
        Platform::Apns => "apns",
        Platform::Other(s) => s,
    };
    json!({
        "external_id": caller.external_id,
        "user_hash": caller.user_hash(),
        "platform": platform,
        "token": token,
    })
    .to_string()
    .into_bytes()
}

fuzz_target!(|request: Call| {
    let settings = json!({
        "app_secret": SECRET,
        "fcm": {"project_id": "kefu-fuzz", "service_account_json": SERVICE_ACCOUNT},
    });
    let (cx, sink) = ingress_cx(Inboxes::default().with(INBOX, "app_push", settings));
    let router = factory()
        .ingress(cx)
        .expect("the app channel has an ingress route");
    let base = format!("/{INBOX}");
    let (method, uri, body) = match &request {
        Call::PostMessage {
            caller,
            client_id,
            text,
            name,
        } => {
            let mut body = json!({
                "external_id": caller.external_id,
                "user_hash": caller.user_hash(),
                "client_id": client_id,
                "text": text,
            });
            if let Some(name) = name {
                body["name"] = Value::from(name.as_str());
            }
            (
                Method::POST,
                format!("{base}/messages"),
                body.to_string().into_bytes(),
            )
        }
        Call::RegisterDevice {
            caller,
            platform,
            token,
        } => (
            Method::POST,
            format!("{base}/devices"),
            device_body(caller, platform, token),
        ),
        Call::RemoveDevice {
            caller,
            platform,
            token,
        } => (
            Method::DELETE,
            format!("{base}/devices"),
            device_body(caller, platform, token),
        ),
        Call::Sync {
            caller,
            after_seq,
            limit,
        } => {
            let hash = caller.user_hash();
            let mut pairs = vec![
                ("external_id", caller.external_id.as_str()),
                ("user_hash", hash.as_str()),
            ];
            if let Some(a) = after_seq {
                pairs.push(("after_seq", a.as_str()));
            }
            if let Some(l) = limit {
                pairs.push(("limit", l.as_str()));
            }
            (
                Method::GET,
                format!("{base}/messages?{}", query(&pairs)),
                Vec::new(),
            )
        }
        Call::Raw { messages, body } => {
            let route = if *messages { "messages" } else { "devices" };
            (Method::POST, format!("{base}/{route}"), body.clone())
        }
        Call::OtherInbox { inbox, body } => {
            let inbox = url::form_urlencoded::byte_serialize(inbox.as_bytes()).collect::<String>();
            (Method::POST, format!("/{inbox}/messages"), body.clone())
        }
    };
    let (status, response) = runtime().block_on(call(&router, method, &uri, body));
    if status == 0 {
        return;
    }
    assert!(
        status < 500,
        "{status}: {}",
        String::from_utf8_lossy(&response)
    );
    let stored = sink.envelopes();
    if status >= 300 {
        // 404 for a path no route has and 405 come from axum; the gateway renders those.
        if !matches!(request, Call::OtherInbox { .. }) || status != 404 {
            assert_api_error(status, &response);
        }
        assert!(stored.is_empty());
        return;
    }
    let caller = match &request {
        Call::PostMessage { caller, .. }
        | Call::RegisterDevice { caller, .. }
        | Call::RemoveDevice { caller, .. }
        | Call::Sync { caller, .. } => caller,
        Call::Raw { .. } | Call::OtherInbox { .. } => {
            // A raw body can be well-formed and signed only if the fuzzer computed an HMAC.
            return;
        }
    };
    assert!(
        caller
            .user_hash()
            .eq_ignore_ascii_case(&user_hash(SECRET, &caller.external_id)),
        "{status} without the right user_hash"
    );
    if let Call::PostMessage {
        client_id, text, ..
    } = &request
    {
        assert_eq!(status, 201, "a first post is stored");
        assert_eq!(stored.len(), 1);
        let env = &stored[0];
        assert_eq!(env.inbox_id, INBOX);
        assert_eq!(env.sender.external_id, caller.external_id);
        assert_eq!(&env.content.text, text);
        assert_eq!(
            env.dedupe_key.as_deref(),
            Some(message_dedupe_key(&caller.external_id, client_id).as_str())
        );
    } else {
        assert!(stored.is_empty());
    }
});
