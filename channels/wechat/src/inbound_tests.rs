//! Normalization of the fixture callbacks (see `fixtures/MANIFEST.md` for their sources).

use super::*;

fn envelope(xml: &str) -> Option<InboundEnvelope> {
    let doc = XmlDoc::parse(xml).expect("fixture parses");
    Message::from_doc(&doc)
        .expect("fixture is a message")
        .into_envelope(42)
}

fn must(xml: &str) -> InboundEnvelope {
    envelope(xml).expect("fixture yields an envelope")
}

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../fixtures/", $name))
    };
}

#[test]
fn text() {
    let e = must(fixture!("wechat-text.xml"));
    assert_eq!(e.inbox_id, 42);
    assert_eq!(e.sender.external_id, "fromUser");
    assert_eq!(e.content.text, "this is a test");
    assert_eq!(e.dedupe_key.as_deref(), Some("1234567890123456"));
    assert_eq!(e.sent_at.map(|t| t.timestamp()), Some(1348831860));
    assert!(e.content.attachments.is_empty());
}

#[test]
fn wecom_text_with_agent_id() {
    let e = must(fixture!("wecom-text.xml"));
    assert_eq!(e.content.text, "this is a test");
    assert_eq!(e.dedupe_key.as_deref(), Some("1234567890123456"));
}

#[test]
fn image() {
    let e = must(fixture!("wechat-image.xml"));
    let a = &e.content.attachments[..];
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].provider_ref.as_deref(), Some("media_id"));
    assert_eq!(a[0].url.as_deref(), Some("this is a url"));
    assert_eq!(a[0].mime, "image/jpeg");
    assert_eq!(e.content.extra["type"], "image");
}

#[test]
fn voice_with_recognition() {
    let e = must(fixture!("wechat-voice-recognition.xml"));
    assert_eq!(e.content.text, "傻逼！");
    assert_eq!(e.dedupe_key.as_deref(), Some("6260957780828487680"));
    let a = &e.content.attachments[0];
    assert_eq!(a.mime, "audio/amr");
    assert_eq!(a.name, "voice.amr");
    assert_eq!(
        a.provider_ref.as_deref(),
        Some("NUjTR19l2n7kxNmmol1K3unuUrk-b2LRMri_SkEoFADjnVYeV8tFjx8EQB7trHJk")
    );
}

#[test]
fn video_and_shortvideo() {
    let e = must(fixture!("wechat-video.xml"));
    assert_eq!(
        e.content.attachments[0].provider_ref.as_deref(),
        Some("media_id")
    );
    assert_eq!(e.content.extra["type"], "video");
    assert_eq!(e.content.extra["thumb_media_id"], "thumb_media_id");

    let e = must(fixture!("wechat-shortvideo.xml"));
    assert_eq!(e.content.extra["type"], "shortvideo");
    assert_eq!(e.dedupe_key.as_deref(), Some("6260957892899965999"));
    assert_eq!(e.sender.external_id, "os-IKuHd9pJ6xsn4mS7GyL4HxqI4");
}

#[test]
fn locations() {
    let e = must(fixture!("wechat-location.xml"));
    assert_eq!(e.content.extra["type"], "location");
    assert_eq!(e.content.extra["latitude"], 23.134521);
    assert_eq!(e.content.extra["longitude"], 113.358803);
    assert_eq!(e.content.extra["scale"], 20.0);
    assert_eq!(e.content.extra["label"], "位置信息");
    assert_eq!(e.content.text, "[location] 位置信息");

    let e = must(fixture!("wechat-location-02.xml"));
    assert_eq!(e.content.extra["latitude"], 30.19536);
    assert_eq!(e.content.extra["label"], "湖北省恩施土家族苗族自治州恩施市");
}

#[test]
fn link() {
    let xml = "<xml><ToUserName><![CDATA[toUser]]></ToUserName>\
        <FromUserName><![CDATA[fromUser]]></FromUserName><CreateTime>1351776360</CreateTime>\
        <MsgType><![CDATA[link]]></MsgType><Title><![CDATA[公众平台官网链接]]></Title>\
        <Description><![CDATA[公众平台官网链接]]></Description><Url><![CDATA[url]]></Url>\
        <MsgId>1234567890123456</MsgId></xml>";
    let e = must(xml);
    assert_eq!(e.content.extra["type"], "link");
    assert_eq!(e.content.extra["title"], "公众平台官网链接");
    assert_eq!(e.content.extra["url"], "url");
    assert!(e.content.text.contains("公众平台官网链接"));
}

#[test]
fn subscribe_and_unsubscribe_events() {
    let e = must(fixture!("wechat-event-subscribe.xml"));
    assert_eq!(e.content.text, "[subscribed]");
    assert_eq!(e.sender.external_id, "FromUser");
    assert_eq!(
        e.dedupe_key.as_deref(),
        Some("wx:8:FromUser:123456789:subscribe")
    );
    assert_eq!(e.content.extra["event"], "subscribe");
    assert!(e.content.extra.get("event_key").is_none());

    let e = must(fixture!("wechat-event-unsubscribe.xml"));
    assert_eq!(e.content.text, "[unsubscribed]");
    assert_eq!(
        e.dedupe_key.as_deref(),
        Some("wx:8:FromUser:123456789:unsubscribe")
    );
}

#[test]
fn menu_scan_and_location_events() {
    let e = must(fixture!("wechat-event-click.xml"));
    assert_eq!(e.content.extra["event"], "click");
    assert_eq!(e.content.extra["event_key"], "EVENTKEY");
    assert_eq!(e.content.text, "[menu click] EVENTKEY");
    assert_eq!(
        e.dedupe_key.as_deref(),
        Some("wx:8:FromUser:123456789:CLICK")
    );

    let e = must(fixture!("wechat-event-scan.xml"));
    assert_eq!(e.content.extra["event"], "scan");
    assert_eq!(e.content.extra["event_key"], "123123");
    assert_eq!(e.content.extra["ticket"], "TICKET");

    let e = must(fixture!("wechat-event-location.xml"));
    assert_eq!(e.content.extra["event"], "location");
    assert_eq!(e.content.extra["latitude"], "23.137466");
    assert_eq!(e.content.extra["longitude"], "113.352425");

    let e = must(fixture!("wechat-event-location-select.xml"));
    assert_eq!(e.content.extra["event"], "location_select");
    assert_eq!(e.content.extra["latitude"], "23");
    assert_eq!(e.content.extra["scale"], "15");
    assert!(e.content.extra.get("poiname").is_none(), "empty Poiname");
    assert_eq!(e.content.text, "[location] 广州市海珠区客村艺苑路 106号");

    let e = must(fixture!("wechat-event-pic-photo-or-album.xml"));
    assert_eq!(e.content.extra["picture_count"], "1");
    assert_eq!(e.content.text, "[photo menu]");
}

#[test]
fn view_event() {
    let xml = "<xml><ToUserName>t</ToUserName><FromUserName>u</FromUserName>\
        <CreateTime>5</CreateTime><MsgType>event</MsgType><Event>VIEW</Event>\
        <EventKey>https://example.com/x</EventKey></xml>";
    let e = must(xml);
    assert_eq!(e.content.text, "[menu link] https://example.com/x");
    assert_eq!(e.dedupe_key.as_deref(), Some("wx:1:u:5:VIEW"));
}

#[test]
fn provider_notifications_yield_no_envelope() {
    for xml in [
        fixture!("wechat-event-templatesendjobfinish.xml"),
        fixture!("wechat-event-kf-create-session.xml"),
        fixture!("wechat-event-kf-switch-session.xml"),
    ] {
        assert_eq!(envelope(xml), None);
    }
}

#[test]
fn unknown_type_does_not_crash() {
    let e = must(fixture!("wechat-unknown-msgtype.xml"));
    assert_eq!(e.content.text, "[unsupported message type: notsure]");
    assert_eq!(e.dedupe_key.as_deref(), Some("1234567890123456"));
}

#[test]
fn missing_or_invalid_fields_are_errors() {
    let cases = [
        (
            "<xml><ToUserName>t</ToUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>",
            XmlError::Missing("FromUserName"),
        ),
        (
            "<xml><ToUserName>t</ToUserName><FromUserName></FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>",
            XmlError::Missing("FromUserName"),
        ),
        (
            "<xml><ToUserName>t</ToUserName><FromUserName>u</FromUserName><CreateTime>soon</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>",
            XmlError::Invalid("CreateTime"),
        ),
        (
            "<xml><ToUserName>t</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>",
            XmlError::Missing("Content"),
        ),
        (
            "<xml><ToUserName>t</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>location</MsgType><Location_X>north</Location_X><Location_Y>1</Location_Y></xml>",
            XmlError::Invalid("Location_X"),
        ),
    ];
    for (xml, want) in cases {
        let doc = XmlDoc::parse(xml).expect("well-formed");
        assert_eq!(Message::from_doc(&doc), Err(want), "{xml}");
    }
}

#[test]
fn encrypted_envelope_fixture_decrypts_to_a_message() {
    let outer = XmlDoc::parse(fixture!("wechat-encrypted-message.xml")).expect("parses");
    let encrypt = outer.require("Encrypt").expect("has Encrypt");
    let crypt = crate::crypto::MsgCrypt::new(
        "123456",
        "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
        "wx49f0ab532d5d035a",
    )
    .expect("key");
    let plain = crypt
        .verify_and_decrypt(
            "74d92dfeb87ba7c714f89d98870ae5eb62dff26d",
            "1411525903",
            "461056294",
            encrypt,
        )
        .expect("decrypts");
    let e = must(&plain);
    assert_eq!(e.content.text, "test");
    assert_eq!(e.sender.external_id, "messense");
}

#[test]
fn dedupe_keys_split_one_way_only() {
    let event = |from: &str, time: &str, name: &str| {
        must(&format!(
            "<xml><ToUserName>t</ToUserName><FromUserName>{from}</FromUserName>\
             <CreateTime>{time}</CreateTime><MsgType>event</MsgType><Event>{name}</Event></xml>"
        ))
        .dedupe_key
        .unwrap_or_default()
    };
    // Bare joins met here: `a:1:2:CLICK` both times.
    assert_ne!(event("a:1", "2", "CLICK"), event("a", "1", "2:CLICK"));
    assert_eq!(event("a", "1", "2:CLICK"), "wx:1:a:1:2:CLICK");
    let text = |msg_id: &str| {
        must(&format!(
            "<xml><ToUserName>t</ToUserName><FromUserName>u</FromUserName><CreateTime>7</CreateTime>\
             <MsgType>text</MsgType><Content>x</Content><MsgId>{msg_id}</MsgId></xml>"
        ))
        .dedupe_key
        .unwrap_or_default()
    };
    // A forged MsgId cannot pass for an agent reply's key (`reply:<conversation>:<client_id>`).
    assert_eq!(text("reply:7:x"), "msgid:reply:7:x");
    assert_eq!(text("6260957780828487680"), "6260957780828487680");
    let no_msg_id = must(
        "<xml><ToUserName>t</ToUserName><FromUserName>u:7</FromUserName><CreateTime>7</CreateTime>\
         <MsgType>text</MsgType><Content>x</Content></xml>",
    );
    assert_eq!(no_msg_id.dedupe_key.as_deref(), Some("wx:3:u:7:7"));
    assert_ne!(
        no_msg_id.dedupe_key.unwrap_or_default(),
        event("u", "7", "7"),
        "events and messages without MsgId differ too"
    );
}
