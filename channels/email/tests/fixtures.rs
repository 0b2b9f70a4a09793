//! Table-driven parsing tests over the real-world mail in `fixtures/` (see `fixtures/MANIFEST.md`
//! for sources and licenses): decoded text, sender, thread hints, attachments and the
//! auto-reply/bounce class, as an agent would see them.

use kefu_channel::InboundEnvelope;
use kefu_channel_email::parse::{ParseOptions, parse_message};

fn parse(name: &str) -> InboundEnvelope {
    parse_with(name, &ParseOptions::new(7))
}

fn parse_with(name: &str, opts: &ParseOptions) -> InboundEnvelope {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    parse_message(&raw, opts)
}

fn auto(env: &InboundEnvelope) -> Option<&str> {
    env.content.extra["email"]["auto"].as_str()
}

/// What one fixture must look like. `None` fields are not checked.
#[derive(Default)]
struct Case {
    file: &'static str,
    sender: &'static str,
    name: Option<&'static str>,
    subject: Option<&'static str>,
    /// Substrings the visible text must contain.
    text: &'static [&'static str],
    /// Substrings the visible text must not contain (trimmed history, undecoded bytes).
    not_text: &'static [&'static str],
    /// The exact visible text.
    exact: Option<&'static str>,
    auto: Option<&'static str>,
    key: Option<&'static str>,
    /// (name, mime) of every kept attachment, in order.
    attachments: Option<&'static [(&'static str, &'static str)]>,
    html: Option<bool>,
}

fn cases() -> Vec<Case> {
    vec![
        // --- replies from common clients: the quoted history is trimmed ---
        Case {
            file: "reply-gmail-quoted-01.eml",
            sender: "xxx@gmail.com",
            name: Some("Megan One"),
            subject: Some("Re: Test"),
            exact: Some("Hello"),
            key: Some("CAKsfaBW4hj0Gek6TwbR3erng4P1y0CZzJ0d=pXtCNnYnbe7PLg@mail.gmail.com"),
            html: Some(true),
            ..Case::default()
        },
        Case {
            file: "reply-outlook-quoted-01.eml",
            sender: "me@example.com",
            exact: Some("Hello"),
            html: Some(true),
            ..Case::default()
        },
        Case {
            file: "reply-applemail-quoted-01.eml",
            sender: "xxx@gmail.com",
            exact: Some("Hello"),
            ..Case::default()
        },
        Case {
            file: "reply-iphone-quoted-01.eml",
            sender: "xxx@gmail.com",
            exact: Some("Hello\n\nSent from my iPhone"),
            ..Case::default()
        },
        Case {
            file: "reply-aol-quoted-01.eml",
            sender: "xxx@aol.com",
            exact: Some("Hello"),
            ..Case::default()
        },
        Case {
            file: "reply-yahoo-quoted-01.eml",
            sender: "xxx@yahoo.com",
            exact: Some("Hello"),
            ..Case::default()
        },
        Case {
            file: "reply-thunderbird-quoted-01.eml",
            sender: "bob@xxx.mailgun.org",
            exact: Some("Hello"),
            ..Case::default()
        },
        Case {
            file: "reply-sparrow-quoted-01.eml",
            sender: "xxx@gmail.com",
            text: &["Hello", "Sent with Sparrow"],
            not_text: &["wrote:"],
            ..Case::default()
        },
        Case {
            file: "qq-reply-gb18030-kefu-01.eml",
            sender: "10001@qq.com",
            name: Some("张三"),
            subject: Some("回复：Re: 退款问题"),
            exact: Some("好的，我明天再试一下。订单号 2024031512。"),
            key: Some("tencent_5A1B2C3D4E5F@qq.com"),
            html: Some(true),
            ..Case::default()
        },
        Case {
            file: "netease-reply-gbk-kefu-01.eml",
            sender: "lisi@163.com",
            name: Some("李四"),
            subject: Some("Re:Re: 发票"),
            text: &["收到，谢谢！发票抬头是：北京某某科技有限公司。"],
            not_text: &["写道", "请提供发票抬头"],
            html: Some(true),
            ..Case::default()
        },
        // --- charsets ---
        Case {
            file: "charset-gbk-01.eml",
            sender: "sender@example.com",
            subject: Some("Hello from China"),
            exact: Some("你好，中国"),
            ..Case::default()
        },
        Case {
            file: "charset-x-gbk-01.eml",
            sender: "from@there.com",
            subject: Some("Nuu"),
            exact: Some("Hi"),
            html: Some(false),
            ..Case::default()
        },
        Case {
            file: "charset-big5-01.eml",
            sender: "sender@example.com",
            exact: Some("圖形碼"),
            ..Case::default()
        },
        Case {
            file: "charset-utf8-chinese-thunderbird-01.eml",
            sender: "test@test.com",
            subject: Some("示例邮件"),
            text: &["这是一个示例邮件", "包括中文"],
            ..Case::default()
        },
        Case {
            file: "charset-iso2022jp-01.eml",
            sender: "raasdnil@gmail.com",
            subject: Some("まみむめも"),
            exact: Some("すみません。"),
            ..Case::default()
        },
        Case {
            file: "charset-shift-jis-01.eml",
            sender: "xxxxxxx@docomo.ne.jp",
            text: &["あいうえお", "このメールはテスト用のメールです。"],
            ..Case::default()
        },
        Case {
            file: "charset-euc-kr-01.eml",
            sender: "jamis@37signals.com",
            subject: Some("NOTE: 한국말로 하는 것"),
            text: &["제 이름은 Jamis입니다."],
            ..Case::default()
        },
        Case {
            file: "charset-ks-c-5601-01.eml",
            sender: "from@example.com",
            exact: Some("스티해"),
            ..Case::default()
        },
        Case {
            file: "charset-windows1251-01.eml",
            sender: "support@part-kom.ru",
            name: Some("Прайсы || ПартКом"),
            subject: Some("Свежий прайс-лист"),
            attachments: Some(&[("Price4VladDaKar.xlsx", "application/octet-stream")]),
            ..Case::default()
        },
        Case {
            // Labelled x-mac-cyrillic, really UTF-8: decoded as UTF-8, no Mac Cyrillic mojibake.
            file: "charset-x-mac-cyrillic-01.eml",
            sender: "science@news-s.info",
            text: &["Bulgarian Academy of Sciences", "Dear Colleague,"],
            not_text: &["вАУ"],
            ..Case::default()
        },
        Case {
            file: "charset-unknown-01.eml",
            sender: "james@makita.skynet",
            exact: Some("A text section"),
            attachments: Some(&[("foo_9E5D72.zip", "application/x-zip-compressed")]),
            ..Case::default()
        },
        Case {
            file: "header-encoded-word-long-subject-01.eml",
            sender: "test@terst.com",
            name: Some("test, Sté"),
            subject: Some("Those characters : üàéüö will mess with the parsing automation"),
            ..Case::default()
        },
        Case {
            file: "header-encoded-word-utf8-qp-01.eml",
            sender: "jamehi03@jamehi03lx.noa.com",
            subject: Some("MIME UTF8 Test ¢ More Text"),
            text: &["Lorem ipsum dolor sit amet"],
            ..Case::default()
        },
        // --- structure: HTML only, alternatives, attachments, inline images ---
        Case {
            file: "html-only-applemail-01.eml",
            sender: "james@makita.skynet",
            exact: Some("Test of HTML section"),
            html: Some(true),
            attachments: Some(&[("favicon.png", "image/png")]),
            ..Case::default()
        },
        Case {
            file: "html-only-long-lines-01.eml",
            sender: "postmaster@example.com",
            text: &["http://www.longurlmaker.com/view/?id="],
            not_text: &["<a", "href="],
            html: Some(true),
            // A real person may write from postmaster@, but the checklist treats it as a daemon.
            auto: Some("bounce"),
            ..Case::default()
        },
        Case {
            file: "multipart-alternative-thunderbird-01.eml",
            sender: "jamehi03@jamehi03lx.noa.com",
            exact: Some("Section one\n\nSection two"),
            ..Case::default()
        },
        Case {
            file: "multipart-alternative-outlook2007-01.eml",
            sender: "mimekit@example.com",
            exact: Some("This is the message body."),
            ..Case::default()
        },
        Case {
            file: "attachment-pdf-01.eml",
            sender: "xxxx@xxxx.com",
            subject: Some("Another PDF with 🎉 Unicode chars in it 🍿"),
            text: &["Just attaching another PDF"],
            attachments: Some(&[("broken.pdf", "application/pdf")]),
            ..Case::default()
        },
        Case {
            file: "long-multiple-text-blocks-iphone-01.eml",
            sender: "example@example.com",
            text: &["First we have a text block", "Then we have more text"],
            attachments: Some(&[("image1.jpeg", "image/jpeg")]),
            ..Case::default()
        },
        Case {
            file: "forwarded-message-rfc822-01.eml",
            sender: "foo@example.com",
            exact: Some("This is the first part."),
            attachments: Some(&[("ForwardedMessage.eml", "message/rfc822")]),
            ..Case::default()
        },
        Case {
            file: "inline-image-related-01.eml",
            sender: "jamehi03@jamehi03lx.noa.com",
            text: &["html1", "html2"],
            ..Case::default()
        },
        // --- automatic mail: stored, but classified so Kefu never answers it ---
        Case {
            file: "autoreply-outlook-01.eml",
            sender: "nekonyaan@example.org",
            subject: Some("Automatic reply: Nyaan"),
            text: &["out of the office"],
            auto: Some("auto_reply"),
            ..Case::default()
        },
        Case {
            file: "autoreply-outlook-02.eml",
            sender: "kijitora@example.org",
            auto: Some("auto_reply"),
            ..Case::default()
        },
        Case {
            file: "autoreply-rfc3834-01.eml",
            sender: "kijitora@example.net",
            text: &["I am currently away"],
            auto: Some("auto_reply"),
            ..Case::default()
        },
        Case {
            file: "autoreply-precedence-bulk-01.eml",
            sender: "noreply@example.com",
            text: &["is no longer in use"],
            auto: Some("auto_reply"),
            ..Case::default()
        },
        Case {
            file: "mailinglist-github-notification-01.eml",
            sender: "notifications@github.com",
            text: &["Any updates?"],
            auto: Some("bulk"),
            ..Case::default()
        },
        Case {
            file: "mdn-read-receipt-02.eml",
            sender: "joe_recipient@example.com",
            text: &["has been displayed"],
            auto: Some("receipt"),
            ..Case::default()
        },
        Case {
            file: "bounce-exim-01.eml",
            sender: "mailer-daemon@e1.example.org",
            text: &["could not be delivered"],
            auto: Some("bounce"),
            ..Case::default()
        },
        Case {
            file: "bounce-exim-phpmailer-01.eml",
            sender: "mailer-daemon@sslproxy01.your-server.de",
            auto: Some("bounce"),
            ..Case::default()
        },
        Case {
            file: "bounce-gmail-dsn-01.eml",
            sender: "mailer-daemon@googlemail.com",
            text: &["Delivery to the following recipient failed permanently"],
            auto: Some("bounce"),
            ..Case::default()
        },
        Case {
            file: "bounce-gmail-plain-01.eml",
            sender: "mailer-daemon@googlemail.com",
            auto: Some("bounce"),
            ..Case::default()
        },
        Case {
            file: "bounce-office365-01.eml",
            sender: "postmaster@example.com",
            subject: Some("Undeliverable: Nyaan"),
            text: &["Delivery has failed to these recipients or groups"],
            auto: Some("bounce"),
            ..Case::default()
        },
        Case {
            file: "bounce-postfix-dsn-01.eml",
            sender: "mailer-daemon@p351355.pool.example.ne.jp",
            auto: Some("bounce"),
            ..Case::default()
        },
        Case {
            file: "bounce-postfix-mailbox-full-01.eml",
            sender: "mailer-daemon@aol.com",
            auto: Some("bounce"),
            ..Case::default()
        },
        Case {
            file: "bounce-postfix-qqmail-01.eml",
            sender: "mailer-daemon@mail.example.net",
            auto: Some("bounce"),
            ..Case::default()
        },
        Case {
            // Quoted-printable the MIME parser rejects, in GB2312: decoded leniently.
            file: "bounce-exchange-gb2312-01.eml",
            sender: "foo@bar.de",
            exact: Some("次の受信者またはグループへの配信に失敗しました:"),
            auto: Some("bounce"),
            ..Case::default()
        },
        // --- malformed: still an envelope with what could be read ---
        Case {
            file: "malformed-bad-boundary-01.eml",
            sender: "test@mail.com",
            text: &["This message may contain an attachment"],
            attachments: Some(&[("file.pdf", "application/pdf")]),
            ..Case::default()
        },
        Case {
            file: "malformed-headers-01.eml",
            sender: "headers@gmail.com",
            text: &["Hello"],
            ..Case::default()
        },
        Case {
            file: "malformed-illegal-boundary-01.eml",
            sender: "email_test@me.nowhere",
            text: &["This is an outlook test"],
            ..Case::default()
        },
        Case {
            file: "malformed-missing-final-boundary-01.eml",
            sender: "me@example.com",
            exact: Some("Some body"),
            ..Case::default()
        },
        Case {
            file: "malformed-multipart-no-boundary-01.eml",
            sender: "mailer-daemon@example.com",
            text: &["multipart message without boundary"],
            auto: Some("bounce"),
            ..Case::default()
        },
        Case {
            file: "malformed-no-content-type-01.eml",
            sender: "bob@marley.com",
            name: Some("Bob Marley"),
            text: &["I'm just testing message parsing"],
            ..Case::default()
        },
        Case {
            file: "attachment-many-emclient-01.eml",
            sender: "test@test.com",
            exact: Some("This is the plain text content of the email"),
            ..Case::default()
        },
    ]
}

#[test]
fn fixtures_parse_to_what_an_agent_should_see() {
    let mut failures = Vec::new();
    for c in cases() {
        let env = parse(c.file);
        let mut fail = |what: String| failures.push(format!("{}: {what}", c.file));
        if env.sender.external_id != c.sender {
            fail(format!(
                "sender {:?} != {:?}",
                env.sender.external_id, c.sender
            ));
        }
        if c.name.is_some() && env.sender.display_name.as_deref() != c.name {
            fail(format!(
                "name {:?} != {:?}",
                env.sender.display_name, c.name
            ));
        }
        if c.subject.is_some() && env.thread.subject.as_deref() != c.subject {
            fail(format!(
                "subject {:?} != {:?}",
                env.thread.subject, c.subject
            ));
        }
        let text = &env.content.text;
        for want in c.text {
            if !text.contains(want) {
                fail(format!("text lacks {want:?}: {text:?}"));
            }
        }
        for bad in c.not_text {
            if text.contains(bad) {
                fail(format!("text contains {bad:?}: {text:?}"));
            }
        }
        if let Some(exact) = c.exact
            && text != exact
        {
            fail(format!("text {text:?} != {exact:?}"));
        }
        if auto(&env) != c.auto {
            fail(format!("auto {:?} != {:?}", auto(&env), c.auto));
        }
        if let Some(key) = c.key
            && env.dedupe_key.as_deref() != Some(key)
        {
            fail(format!("dedupe key {:?} != {key:?}", env.dedupe_key));
        }
        if env.dedupe_key.as_deref().is_none_or(str::is_empty) {
            fail("no dedupe key".into());
        }
        if let Some(want) = c.attachments {
            let got: Vec<(&str, &str)> = env
                .content
                .attachments
                .iter()
                .map(|a| (a.name.as_str(), a.mime.as_str()))
                .collect();
            if got != want {
                fail(format!("attachments {got:?} != {want:?}"));
            }
        }
        if let Some(html) = c.html
            && env.content.html.is_some() != html
        {
            fail(format!("html present = {}", env.content.html.is_some()));
        }
        if env.inbox_id != 7 {
            fail("inbox id not carried".into());
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn every_fixture_yields_an_envelope_with_a_stable_key() {
    let dir = format!("{}/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("fixtures dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .into_string()
            .expect("utf-8");
        if !name.ends_with(".eml") {
            continue;
        }
        let a = parse(&name);
        let b = parse(&name);
        assert_eq!(a, b, "{name}: parsing is deterministic");
        assert!(!a.sender.external_id.is_empty(), "{name}: sender");
        assert!(a.dedupe_key.is_some(), "{name}: dedupe key");
        n += 1;
    }
    assert!(n >= 50, "expected the whole fixture set, found {n}");
}

#[test]
fn thread_hints_come_from_message_id_in_reply_to_and_references() {
    let env = parse("qq-reply-gb18030-kefu-01.eml");
    assert_eq!(
        env.thread.message_ref.as_deref(),
        Some("tencent_5A1B2C3D4E5F@qq.com")
    );
    // In-Reply-To first, then References from last to first, without repeats.
    assert_eq!(
        env.thread.references,
        vec![
            "kefu.3.41.17.9f2c4d1a@shop.example".to_owned(),
            "CAF=original@mail.gmail.com".to_owned()
        ]
    );
    assert_eq!(env.thread.conversation_token.as_deref(), Some("c7f3a1b2"));
    assert!(!env.thread.new_conversation);
    // The untrimmed body is kept for the full view.
    let full = env.content.extra["email"]["full_text"]
        .as_str()
        .expect("full text kept");
    assert!(full.contains("原始邮件") && full.contains("请重新提交一次退款申请"));

    let env = parse("reply-yahoo-quoted-01.eml");
    assert_eq!(env.thread.references, vec!["1333374262.7063.15.camel@mg5"]);
    assert!(!env.thread.new_conversation);

    let env = parse("mailinglist-github-notification-01.eml");
    assert_eq!(
        env.thread.references,
        vec!["Webklex/php-imap/issues/349@github.com"]
    );

    // A first message starts a new conversation.
    let env = parse("charset-gbk-01.eml");
    assert!(env.thread.references.is_empty() && env.thread.new_conversation);
}

#[test]
fn tokens_are_read_only_from_our_own_plus_address_when_we_know_it() {
    let mut opts = ParseOptions::new(7);
    opts.address = Some("Support@Shop.example".into());
    let env = parse_with("qq-reply-gb18030-kefu-01.eml", &opts);
    assert_eq!(env.thread.conversation_token.as_deref(), Some("c7f3a1b2"));

    opts.address = Some("help@other.example".into());
    let env = parse_with("qq-reply-gb18030-kefu-01.eml", &opts);
    assert_eq!(env.thread.conversation_token, None);
}

#[test]
fn oversized_attachments_are_dropped_with_a_note_and_the_message_kept() {
    let mut opts = ParseOptions::new(7);
    opts.max_attachment_bytes = 10 * 1024;
    let env = parse_with("long-multiple-text-blocks-iphone-01.eml", &opts);
    assert!(
        env.content.attachments.is_empty(),
        "the 36 KB image is over the limit"
    );
    assert!(env.content.text.contains("First we have a text block"));
    assert!(
        env.content.text.contains("\"image1.jpeg\"") && env.content.text.contains("not kept"),
        "the agent is told: {}",
        env.content.text
    );
    let dropped = &env.content.extra["email"]["dropped_attachments"];
    assert_eq!(dropped[0]["name"], "image1.jpeg");
    assert_eq!(dropped[0]["size"], 37211);
    // The image's bytes go nowhere: not in the envelope, not in what is stored of it.
    let stored = serde_json::to_string(&env).expect("serializes");
    assert!(stored.len() < 8 * 1024, "{} bytes", stored.len());

    // With a limit between the sizes, the small files stay (with their bytes) and the large
    // one goes.
    opts.max_attachment_bytes = 1024;
    let env = parse_with("charset-windows1251-01.eml", &opts);
    assert_eq!(
        env.content.attachments.len(),
        1,
        "the small spreadsheet stays"
    );
    assert!(env.content.attachments[0].data.is_some());
    let env = parse_with("long-multiple-text-blocks-iphone-01.eml", &opts);
    assert!(
        env.content
            .attachments
            .iter()
            .all(|a| a.name != "image1.jpeg")
    );
}

#[test]
fn garbage_and_headerless_input_still_yield_envelopes() {
    let opts = ParseOptions::new(7);
    for raw in [
        &b""[..],
        b"\xff\xfe\x00garbage",
        b"no headers at all, just text",
        b"Subject: only a subject\r\n\r\n",
        b"From: <>\r\nMessage-ID: <>\r\n\r\nbody",
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain; charset=nonsense-42\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!notbase64\r\n",
    ] {
        let env = parse_message(raw, &opts);
        assert_eq!(env.inbox_id, 7);
        assert!(!env.sender.external_id.is_empty());
        assert!(env.dedupe_key.as_deref().is_some_and(|k| !k.is_empty()));
    }
}

#[test]
fn a_message_id_cannot_pass_for_one_of_kefus_own_keys() {
    let opts = ParseOptions::new(7);
    let key = |id: &str| {
        let raw = format!("From: a@example.com\r\nMessage-ID: {id}\r\n\r\nhello\r\n");
        parse_message(raw.as_bytes(), &opts)
            .dedupe_key
            .unwrap_or_default()
    };
    // Conforming ids stay verbatim, as stored so far, so re-synced mail still dedupes.
    for (id, want) in [
        (
            "<CAK7Lz=abc+12@mail.gmail.com>",
            "CAK7Lz=abc+12@mail.gmail.com",
        ),
        ("<x@[IPv6:2001:db8::1]>", "x@[IPv6:2001:db8::1]"),
        ("<2f8d.1@example.com>", "2f8d.1@example.com"),
    ] {
        assert_eq!(key(id), want, "{id}");
    }
    // Ids shaped like Kefu's namespaced keys (an agent reply's `reply:<conversation>:<client_id>`,
    // the digest of a message without Message-ID) get a namespace of their own.
    for id in [
        "<reply:7:x>",
        "<reply:7:x@y>",
        "<sha256:00ff>",
        "<max_wait:1:2>",
        "<no-at-sign>",
    ] {
        let k = key(id);
        let bare = id.trim_matches(['<', '>']);
        assert_ne!(k, bare, "{id} kept verbatim");
        assert!(k.starts_with("mid:") && k.len() == 4 + 64, "{id} -> {k}");
        assert_eq!(k, key(id), "{id}: stable");
    }
    assert_ne!(key("<reply:7:x>"), key("<reply:7:y>"));
}

#[test]
fn kept_attachments_carry_their_decoded_bytes() {
    // (fixture, attachment name, how the decoded file starts, its decoded size when known)
    let cases: &[(&str, &str, &[u8], Option<usize>)] = &[
        ("attachment-pdf-01.eml", "broken.pdf", b"%PDF", None),
        (
            "html-only-applemail-01.eml",
            "favicon.png",
            b"\x89PNG\r\n\x1a\n",
            None,
        ),
        (
            "long-multiple-text-blocks-iphone-01.eml",
            "image1.jpeg",
            b"\xff\xd8\xff",
            Some(37211),
        ),
        (
            "charset-windows1251-01.eml",
            "Price4VladDaKar.xlsx",
            b"PK\x03\x04",
            None,
        ),
        ("malformed-bad-boundary-01.eml", "file.pdf", b"%PDF", None),
        (
            "forwarded-message-rfc822-01.eml",
            "ForwardedMessage.eml",
            b"",
            None,
        ),
    ];
    for &(file, name, magic, size) in cases {
        let env = parse(file);
        let a = env
            .content
            .attachments
            .iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("{file}: no attachment {name:?}"));
        let data = a
            .data
            .as_ref()
            .unwrap_or_else(|| panic!("{file}: {name:?} has no bytes"));
        assert!(data.starts_with(magic), "{file}: {name:?} is not decoded");
        assert_eq!(a.size, Some(data.len() as u64), "{file}: {name:?} size");
        if let Some(size) = size {
            assert_eq!(data.len(), size, "{file}: {name:?} decoded size");
        }
    }

    // QQ Mail: GB18030 encoded-word names inside quoted parameters; an inline image.
    let env = parse("qq-attachment-gb18030-kefu-01.eml");
    let got: Vec<(&str, &str, usize)> = env
        .content
        .attachments
        .iter()
        .map(|a| {
            (
                a.name.as_str(),
                a.mime.as_str(),
                a.data.as_ref().map_or(0, |d| d.len()),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("订单截图.png", "image/png", 69),
            ("退款凭证.pdf", "application/octet-stream", 75)
        ]
    );
    assert!(
        env.content.attachments[0]
            .data
            .as_ref()
            .is_some_and(|d| d.starts_with(b"\x89PNG"))
    );
    assert!(
        env.content.attachments[1]
            .data
            .as_ref()
            .is_some_and(|d| d.starts_with(b"%PDF"))
    );
    assert_eq!(
        env.content.extra["email"]["inline"][0]["content_id"],
        "A1B2C3D4@qq.com"
    );
    assert_eq!(
        env.content.extra["email"]["inline"][0]["name"],
        "订单截图.png"
    );
    assert!(
        env.content
            .text
            .starts_with("您好，退款凭证和订单截图都在附件里"),
        "{}",
        env.content.text
    );

    // A forwarded message is kept whole, parseable on its own.
    let env = parse("forwarded-message-rfc822-01.eml");
    let fwd = env.content.attachments[0].data.as_ref().expect("bytes");
    let inner = mail_parser::MessageParser::default()
        .parse(&fwd[..])
        .expect("the forwarded message parses");
    assert!(inner.from().is_some() || inner.subject().is_some());

    // The inline image is listed with its Content-ID, so the HTML's cid: link can be resolved.
    let env = parse("html-only-applemail-01.eml");
    assert_eq!(
        env.content.extra["email"]["inline"][0]["content_id"],
        "8B8481A2-25CA-4886-9B5A-8EB9115DD064@skynet"
    );

    // eM Client's ten attachments: every one kept with its bytes.
    let env = parse("attachment-many-emclient-01.eml");
    assert_eq!(
        env.content.attachments.len(),
        10,
        "{:?}",
        env.content.attachments
    );
    for a in &env.content.attachments {
        let data = a
            .data
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no bytes", a.name));
        assert_eq!(a.size, Some(data.len() as u64));
        assert!(a.name.ends_with(".txt"), "{}", a.name);
    }
}

#[test]
fn every_kept_attachment_in_every_fixture_has_its_bytes() {
    let dir = format!("{}/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).expect("fixtures dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .into_string()
            .expect("utf-8");
        if !name.ends_with(".eml") {
            continue;
        }
        for a in parse(&name).content.attachments {
            let len = a.data.as_ref().map(|d| d.len() as u64);
            assert_eq!(len, a.size, "{name}: {:?} bytes vs size", a.name);
            files += 1;
        }
    }
    assert!(
        files >= 20,
        "expected the fixtures' attachments, found {files}"
    );
}
