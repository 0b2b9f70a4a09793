//! Property tests: hostile input to the XML parser, the decrypt path and the callback route
//! never panics, and what is encrypted decrypts to itself.

use std::sync::Arc;

use base64::Engine as _;
use kefu_channel::ChannelFactory;
use kefu_channel::testkit::{MemoryState, RecordingSink};
use proptest::prelude::*;
use serde_json::json;

use crate::crypto::{MsgCrypt, signature};
use crate::inbound::Message;
use crate::mock::{self, Inboxes};
use crate::official::OfficialAccountFactory;
use crate::xml::XmlDoc;

/// No regression files: a failure prints its minimal input, which becomes a unit test.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

const KEY: &str = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";

fn crypt() -> MsgCrypt {
    MsgCrypt::new("123456", KEY, "wx49f0ab532d5d035a").expect("key")
}

/// XML-ish text: tags, CDATA, entities and WeChat field names mixed with noise.
fn xmlish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("<xml>".to_owned()),
        Just("</xml>".to_owned()),
        Just("<MsgType>".to_owned()),
        Just("</MsgType>".to_owned()),
        Just("<![CDATA[".to_owned()),
        Just("]]>".to_owned()),
        Just("&amp;".to_owned()),
        Just("&#x0;".to_owned()),
        Just("&#99999999;".to_owned()),
        Just("<!--".to_owned()),
        Just("<?xml version=\"1.0\"?>".to_owned()),
        Just("<a/>".to_owned()),
        Just("text".to_owned()),
        Just("event".to_owned()),
        Just("location".to_owned()),
        "[^\u{0}]{0,8}",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

/// Well-formed callbacks with arbitrary field values.
fn callback() -> impl Strategy<Value = String> {
    let names = prop::sample::select(vec![
        "ToUserName",
        "FromUserName",
        "CreateTime",
        "MsgType",
        "Content",
        "MsgId",
        "MediaId",
        "Location_X",
        "Location_Y",
        "Scale",
        "Label",
        "Event",
        "EventKey",
        "Title",
        "Url",
        "Recognition",
        "Format",
        "PicUrl",
    ]);
    let value = prop_oneof![
        Just("text".to_owned()),
        Just("image".to_owned()),
        Just("voice".to_owned()),
        Just("location".to_owned()),
        Just("link".to_owned()),
        Just("event".to_owned()),
        Just("subscribe".to_owned()),
        "-?[0-9]{1,20}(\\.[0-9]{0,6})?",
        "[^\\]]{0,12}",
    ];
    prop::collection::vec((names, value), 0..14).prop_map(|fields| {
        let mut s = String::from("<xml>");
        for (n, v) in fields {
            s.push_str(&format!("<{n}><![CDATA[{v}]]></{n}>"));
        }
        s.push_str("</xml>");
        s
    })
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn the_parser_never_panics(body in prop_oneof![xmlish(), any::<String>()]) {
        if let Ok(doc) = XmlDoc::parse(&body) {
            let _ = Message::from_doc(&doc).map(|m| m.into_envelope(1));
        }
    }

    #[test]
    fn any_wellformed_callback_normalizes_or_errors(body in callback()) {
        let doc = XmlDoc::parse(&body).expect("generated XML is well-formed");
        if let Ok(m) = Message::from_doc(&doc)
            && let Some(e) = m.into_envelope(1)
        {
            prop_assert!(!e.sender.external_id.is_empty());
            prop_assert!(e.dedupe_key.is_some_and(|k| !k.is_empty()));
        }
    }

    #[test]
    fn decrypting_garbage_never_panics(text in any::<String>(), bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let c = crypt();
        let _ = c.decrypt(&text);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
        prop_assert!(c.decrypt(&b64).is_err(), "random ciphertext must not decrypt");
        // Block-aligned garbage reaches the padding and length checks.
        let mut aligned = bytes.clone();
        aligned.resize(bytes.len().div_ceil(16).max(1) * 16, 7);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&aligned);
        prop_assert!(c.decrypt(&b64).is_err());
    }

    #[test]
    fn encryption_round_trips(msg in any::<String>()) {
        let c = crypt();
        prop_assert_eq!(c.decrypt(&c.encrypt(&msg)), Ok(msg));
    }
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn signed_callbacks_with_any_body_get_200_or_400(body in prop_oneof![
        callback(),
        xmlish(),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let status = rt.block_on(async {
            let router = OfficialAccountFactory::new()
                .with_clock(Arc::new(|| 1_700_000_000))
                .ingress(mock::ingress_cx(
                    Arc::new(RecordingSink::new()),
                    Inboxes::default().with(1, "wechat",
                        json!({"app_id": "wx1", "app_secret": "s", "token": "tok"})),
                    Arc::new(MemoryState::default()),
                ))
                .expect("ingress");
            let sig = signature(&["tok", "1700000000", "9"]);
            let uri = format!("/1?signature={sig}&timestamp=1700000000&nonce=9");
            mock::call(&router, "POST", &uri, body).await.0
        });
        prop_assert!(status == 200 || status == 400, "status {}", status);
    }
}
