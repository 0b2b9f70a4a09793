//! Replies with images and files, and inbound media downloads, against the local API server.

use std::sync::Arc;

use bytes::Bytes;
use kefu_channel::{
    Attachment, Channel, ChannelFactory, Content, OutboundMessage, Recipient, SendError,
};
use serde_json::{Value, json};

use crate::mock::{self, Inboxes, MockWeChat, Scripted};
use crate::{OfficialAccountFactory, WecomKfFactory};

const KFID: &str = "wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n-not-really-a-png-but-bytes";
const JPEG: &[u8] = b"\xff\xd8\xff\xe0-jpeg-bytes";

fn official(api: &MockWeChat) -> Arc<dyn Channel> {
    let settings = json!({"app_id": mock::APP_ID, "app_secret": mock::SECRET, "token": "abc",
        "api_base": api.base});
    let inbox = Inboxes::default()
        .with(1, crate::WECHAT_KIND, settings)
        .0
        .remove(&1);
    OfficialAccountFactory::new()
        .build(
            &inbox.expect("inbox"),
            &kefu_channel::testkit::build_context(),
        )
        .expect("builds")
}

fn wecom(api: &MockWeChat) -> Arc<dyn Channel> {
    let settings = json!({"corp_id": mock::CORP_ID, "secret": mock::SECRET,
        "token": "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo",
        "encoding_aes_key": "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
        "open_kfid": KFID, "api_base": api.base});
    let inbox = Inboxes::default()
        .with(2, crate::WECOM_KF_KIND, settings)
        .0
        .remove(&2);
    WecomKfFactory::new()
        .build(
            &inbox.expect("inbox"),
            &kefu_channel::testkit::build_context(),
        )
        .expect("builds")
}

fn file(name: &str, mime: &str, data: &[u8]) -> Attachment {
    Attachment {
        id: Some(1),
        name: name.into(),
        mime: mime.into(),
        size: Some(data.len() as u64),
        data: Some(Bytes::copy_from_slice(data)),
        ..Attachment::default()
    }
}

fn reply(text: &str, attachments: Vec<Attachment>) -> OutboundMessage {
    OutboundMessage {
        message_id: 9,
        conversation_id: 3,
        inbox_id: 1,
        recipient: Recipient {
            external_id: "oOpenId".into(),
            display_name: None,
        },
        content: Content {
            text: text.into(),
            attachments,
            ..Content::default()
        },
        agent_name: None,
        references: Vec::new(),
        subject: None,
        conversation_token: None,
        last_inbound_at: Some(chrono::Utc::now()),
        system: false,
    }
}

fn permanent_code(r: Result<impl std::fmt::Debug, SendError>) -> (String, String) {
    match r {
        Err(SendError::Permanent { code, reason }) => (code, reason),
        other => panic!("expected a permanent failure, got {other:?}"),
    }
}

// --- outbound ----------------------------------------------------------------------------

#[tokio::test]
async fn official_account_sends_the_text_then_each_image() {
    let api = MockWeChat::start().await;
    let ch = official(&api);
    ch.send(&reply(
        "Here are the photos",
        vec![
            file("screenshot", "image/png", PNG),
            file("receipt.jpeg", "image/jpeg", JPEG),
        ],
    ))
    .await
    .expect("sent");

    let uploads = api.uploads();
    assert_eq!(uploads.len(), 2);
    assert_eq!(
        (
            uploads[0].media_type.as_str(),
            uploads[0].file_name.as_str(),
            uploads[0].content_type.as_deref()
        ),
        ("image", "screenshot.png", Some("image/png")),
        "WeChat checks the extension, so one is added"
    );
    assert_eq!(uploads[0].data, PNG, "the bytes arrive unchanged");
    assert_eq!(uploads[1].file_name, "receipt.jpeg");
    assert_eq!(uploads[1].data, JPEG);
    assert_eq!(
        api.sends(),
        vec![
            json!({"touser": "oOpenId", "msgtype": "text", "text": {"content": "Here are the photos"}}),
            json!({"touser": "oOpenId", "msgtype": "image", "image": {"media_id": uploads[0].media_id}}),
            json!({"touser": "oOpenId", "msgtype": "image", "image": {"media_id": uploads[1].media_id}}),
        ]
    );
    assert_eq!(api.token_fetches(), 1);

    // An image without text is just the image.
    ch.send(&reply("", vec![file("a.png", "image/png", PNG)]))
        .await
        .expect("sent");
    assert_eq!(api.sends().len(), 4);
    assert_eq!(api.sends()[3]["msgtype"], "image");
}

#[tokio::test]
async fn a_reply_the_official_account_cannot_send_whole_sends_nothing() {
    let api = MockWeChat::start().await;
    let ch = official(&api);
    let big = vec![0u8; crate::media::MAX_IMAGE_BYTES + 1];
    let not_loaded = Attachment {
        data: None,
        ..file("photo.png", "image/png", PNG)
    };
    for (attachments, want) in [
        (
            vec![
                file("a.png", "image/png", PNG),
                file("invoice.pdf", "application/pdf", b"%PDF-1.7 ..."),
            ],
            "attachment_unsupported",
        ),
        (
            vec![file("huge.png", "image/png", &big)],
            "attachment_too_large",
        ),
        (vec![not_loaded], "attachment_unavailable"),
    ] {
        let name = attachments
            .last()
            .map(|a| a.name.clone())
            .unwrap_or_default();
        let (code, reason) = permanent_code(ch.send(&reply("see attached", attachments)).await);
        assert_eq!(code, want);
        assert!(
            reason.contains(&name),
            "the reason names the file: {reason}"
        );
    }
    assert!(api.uploads().is_empty() && api.sends().is_empty());
    assert_eq!(api.token_fetches(), 0, "refused before any API call");
    assert_eq!(
        permanent_code(ch.send(&reply(" ", Vec::new())).await).0,
        "empty_content"
    );
}

#[tokio::test]
async fn upload_errors_are_classified_like_sends() {
    let api = MockWeChat::start().await;
    let ch = official(&api);
    let msg = reply("", vec![file("a.png", "image/png", PNG)]);

    api.script(Scripted::ExpireToken);
    ch.send(&msg).await.expect("sent after a token refresh");
    assert_eq!(api.token_fetches(), 2);
    assert_eq!((api.uploads().len(), api.sends().len()), (1, 1));

    type Check = fn(&SendError) -> bool;
    let cases: Vec<(i64, Check)> = vec![
        (-1, |e| matches!(e, SendError::Retryable { .. })),
        (45009, |e| matches!(e, SendError::RateLimited { .. })),
        (
            40009,
            |e| matches!(e, SendError::Permanent { code, .. } if code == "attachment_too_large"),
        ),
        (
            40005,
            |e| matches!(e, SendError::Permanent { code, .. } if code == "attachment_type_unsupported"),
        ),
    ];
    for (errcode, ok) in cases {
        api.script(Scripted::Errcode(errcode));
        let e = ch.send(&msg).await.expect_err("upload refused");
        assert!(ok(&e), "errcode {errcode} gave {e:?}");
    }
    assert_eq!(api.sends().len(), 1, "no message without its upload");
}

#[tokio::test]
async fn a_retried_reply_continues_after_the_parts_already_sent() {
    let api = MockWeChat::start().await;
    let ch = official(&api);
    let msg = reply(
        "two photos",
        vec![
            file("1.png", "image/png", PNG),
            file("2.jpg", "image/jpeg", JPEG),
        ],
    );
    // Both uploads and the text go through; the first image meets a busy WeChat.
    for s in [
        Scripted::Ok,
        Scripted::Ok,
        Scripted::Ok,
        Scripted::Errcode(-1),
    ] {
        api.script(s);
    }
    let e = ch.send(&msg).await.expect_err("busy");
    assert!(e.is_retryable(), "{e:?}");
    assert_eq!(api.sends().len(), 1);

    ch.send(&msg).await.expect("the retry completes the reply");
    let kinds: Vec<Value> = api.sends().iter().map(|s| s["msgtype"].clone()).collect();
    assert_eq!(kinds, ["text", "image", "image"], "the text went out once");
    let last = api.uploads().last().map(|u| u.media_id.clone());
    assert_eq!(api.sends()[2]["image"]["media_id"], json!(last));

    // Once done, the same id is a new reply again (the pipeline does not resend a sent one).
    ch.send(&msg).await.expect("sent");
    assert_eq!(api.sends().len(), 6);
}

#[tokio::test]
async fn wecom_sends_images_and_files_with_one_msgid_each() {
    let api = MockWeChat::start().await;
    let ch = wecom(&api);
    let receipt = ch
        .send(&reply(
            "the manual and a photo",
            vec![
                file("manual.pdf", "application/pdf", b"%PDF-1.7 manual"),
                file("photo.jpg", "image/jpeg", JPEG),
                file("anim.gif", "image/gif", b"GIF89a......"),
            ],
        ))
        .await
        .expect("sent");
    assert_eq!(receipt.provider_ref.as_deref(), Some("kefu-9"));
    let uploads = api.uploads();
    let types: Vec<&str> = uploads.iter().map(|u| u.media_type.as_str()).collect();
    assert_eq!(
        types,
        ["file", "image", "file"],
        "WeCom images are JPG or PNG"
    );
    assert_eq!(uploads[0].data, b"%PDF-1.7 manual");
    let text = json!({"touser": "oOpenId", "open_kfid": KFID, "msgid": "kefu-9",
        "msgtype": "text", "text": {"content": "the manual and a photo"}});
    let media = |n: usize, kind: &str| {
        json!({"touser": "oOpenId", "open_kfid": KFID, "msgid": format!("kefu-9-{n}"),
            "msgtype": kind, kind: {"media_id": uploads[n - 1].media_id}})
    };
    assert_eq!(
        api.sends(),
        vec![text, media(1, "file"), media(2, "image"), media(3, "file")]
    );
    assert_eq!(
        api.send_paths(),
        ["/cgi-bin/kf/send_msg"; 4].map(String::from)
    );
}

// --- inbound media -----------------------------------------------------------------------

fn inbound(media_id: Option<&str>) -> Attachment {
    Attachment {
        name: "image.jpg".into(),
        mime: "image/jpeg".into(),
        provider_ref: media_id.map(str::to_owned),
        ..Attachment::default()
    }
}

#[tokio::test]
async fn media_is_downloaded_by_its_media_id() {
    let api = MockWeChat::start().await;
    api.put_media("MID-photo", JPEG, "image/jpeg", false);
    api.put_media("MID-video", b"\x00\x00\x00\x18ftypmp42", "video/mp4", true);
    for ch in [official(&api), wecom(&api)] {
        let got = ch
            .fetch_attachment(&inbound(Some("MID-photo")))
            .await
            .expect("downloaded");
        assert_eq!(
            (got.data.as_ref(), got.mime.as_deref()),
            (JPEG, Some("image/jpeg"))
        );
    }
    // Official Account videos come from the address media/get answers.
    let got = official(&api)
        .fetch_attachment(&inbound(Some("MID-video")))
        .await
        .expect("downloaded");
    assert_eq!(got.data.as_ref(), b"\x00\x00\x00\x18ftypmp42");
    assert_eq!(got.mime.as_deref(), Some("video/mp4"));
}

#[tokio::test]
async fn unknown_or_expired_media_is_a_clear_permanent_error() {
    let api = MockWeChat::start().await;
    api.put_media("MID-photo", JPEG, "image/jpeg", false);
    let ch = official(&api);
    let (code, reason) = permanent_code(ch.fetch_attachment(&inbound(Some("MID-gone"))).await);
    assert_eq!(code, "invalid_media_id");
    assert!(reason.contains("expired"), "{reason}");
    let (code, _) = permanent_code(ch.fetch_attachment(&inbound(None)).await);
    assert_eq!(code, "not_downloadable");

    // An expired token is refreshed once, as for sends.
    api.script(Scripted::ExpireToken);
    let got = ch
        .fetch_attachment(&inbound(Some("MID-photo")))
        .await
        .expect("downloaded after a refresh");
    assert_eq!(got.data.as_ref(), JPEG);
    assert_eq!(api.token_fetches(), 2);
}

#[tokio::test]
async fn uploaded_media_can_be_downloaded_again() {
    // What Kefu sends is what WeChat stores: an upload round-trips through media/get.
    let api = MockWeChat::start().await;
    let ch = wecom(&api);
    ch.send(&reply(
        "",
        vec![file("r.pdf", "application/pdf", b"%PDF round trip")],
    ))
    .await
    .expect("sent");
    let id = api.uploads()[0].media_id.clone();
    let got = ch
        .fetch_attachment(&inbound(Some(&id)))
        .await
        .expect("downloaded");
    assert_eq!(got.data.as_ref(), b"%PDF round trip");
    assert_eq!(got.mime.as_deref(), Some("application/pdf"));
}
