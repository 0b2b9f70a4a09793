use super::*;

#[test]
fn email_gets_one_link_per_rating_and_other_text_channels_one_page_link() {
    let email = question("email", "", false, "https://kefu.example.com/", "tok");
    assert!(email.starts_with("How would you rate the help you received?"));
    for r in 1..=5 {
        assert!(
            email.contains(&format!("https://kefu.example.com/csat/tok?rating={r}")),
            "{email}"
        );
    }
    assert!(email.contains("★★★★★ Very satisfied:"), "{email}");
    let zh = question("email", "", true, "https://k.example", "tok");
    assert!(zh.starts_with("您对本次服务满意吗"), "{zh}");
    assert!(
        zh.contains("★ 非常不满意: https://k.example/csat/tok?rating=1"),
        "{zh}"
    );

    // WeChat shows the ratings as a reply menu under the question.
    assert_eq!(
        question("wechat", "Rate us please", false, "https://k.example", "t2"),
        "Rate us please"
    );
    let other = question(
        "loopback",
        "Rate us please",
        false,
        "https://k.example",
        "t2",
    );
    assert_eq!(other, "Rate us please\nhttps://k.example/csat/t2");
    // The widget and the app draw their own card: no link to leak or to click twice.
    assert_eq!(
        question("web_chat", "", false, "https://k.example", "t3"),
        "How would you rate the help you received?"
    );
    assert!(!question("app_push", "Rate", false, "x", "t4").contains("t4"));
}

#[test]
fn settings_trim_the_question_and_refuse_a_long_one_naming_the_field() {
    let s = CsatSettings {
        enabled: true,
        message: "  How did we do?  ".into(),
    }
    .checked()
    .expect("valid");
    assert_eq!(s.message, "How did we do?");
    let long = CsatSettings {
        enabled: true,
        message: "x".repeat(MAX_MESSAGE_CHARS + 1),
    }
    .checked()
    .expect_err("too long");
    assert!(long.to_string().starts_with("csat.message"), "{long}");
    let unknown = serde_json::from_str::<CsatSettings>(r#"{"enabled":true,"stars":5}"#);
    assert!(unknown.is_err(), "unknown fields are refused");
}

#[test]
fn a_rating_menu_names_its_survey_and_rating_and_only_those_parse_back() {
    let menu = rating_menu(1023, true);
    let items = menu["items"].as_array().expect("items");
    assert_eq!(items.len(), 5);
    assert_eq!(
        items[0],
        serde_json::json!({"id": "10235", "text": "非常满意"})
    );
    assert_eq!(
        items[4],
        serde_json::json!({"id": "10231", "text": "非常不满意"})
    );
    for item in items {
        let id = item["id"].as_str().expect("id");
        assert_eq!(parse_menu_id(id).map(|(s, _)| s), Some(1023), "{id}");
    }
    assert_eq!(parse_menu_id("10234"), Some((1023, 4)));
    for bad in ["", "5", "10236", "10230", "12a4", "-1234", "1 4"] {
        assert_eq!(parse_menu_id(bad), None, "{bad}");
    }
}
