//! The rating question as each channel's customer reads it.
//!
//! - Web chat and the app show a rating card of their own, so the message is the question.
//! - Email gets one link per rating: a click rates, and the page it opens takes a comment.
//! - WeChat and WeCom customer service get a reply menu (`msgmenu`) under the question: a tap
//!   comes back as the customer's message naming the menu item ([`rating_menu`]).
//! - Any other channel that carries text gets the question and one link to the rating page.

use serde_json::{Value, json};

/// The rating page of a survey, with `rating` chosen when given.
pub fn rating_url(public_url: &str, token: &str, rating: Option<u8>) -> String {
    let base = public_url.trim_end_matches('/');
    match rating {
        Some(r) => format!("{base}/csat/{token}?rating={r}"),
        None => format!("{base}/csat/{token}"),
    }
}

/// The words for each rating, 1 to 5.
const LABELS_EN: [&str; 5] = [
    "Very dissatisfied",
    "Dissatisfied",
    "Neutral",
    "Satisfied",
    "Very satisfied",
];
const LABELS_ZH: [&str; 5] = ["非常不满意", "不满意", "一般", "满意", "非常满意"];

/// The question `channel`'s customer reads: `message` (the inbox's own words, or the default in
/// English or Chinese), plus rating links where the channel has no card of its own.
pub fn question(
    channel: &str,
    message: &str,
    chinese: bool,
    public_url: &str,
    token: &str,
) -> String {
    let message = if !message.is_empty() {
        message.to_owned()
    } else if chinese {
        "您对本次服务满意吗？请为我们打分。".to_owned()
    } else {
        "How would you rate the help you received?".to_owned()
    };
    match channel {
        _ if has_menu(channel) => message,
        "web_chat" | "app_push" => message,
        "email" => {
            let labels = if chinese { LABELS_ZH } else { LABELS_EN };
            let mut text = message;
            text.push_str("\n\n");
            for r in (1..=5u8).rev() {
                let stars = "★".repeat(usize::from(r));
                let label = labels[usize::from(r) - 1];
                let url = rating_url(public_url, token, Some(r));
                text.push_str(&format!("{stars} {label}: {url}\n"));
            }
            text
        }
        _ => format!("{message}\n{}", rating_url(public_url, token, None)),
    }
}

/// Whether `channel` shows the ratings as a reply menu (WeChat's `msgmenu`).
pub fn has_menu(channel: &str) -> bool {
    matches!(channel, "wechat" | "wecom_kf")
}

/// The reply menu of survey `survey_id`, best rating first: `{items: [{id, text}]}`, where an
/// item's id is the survey id followed by the rating digit (numeric, as WeChat's menus expect).
pub fn rating_menu(survey_id: i64, chinese: bool) -> Value {
    let labels = if chinese { LABELS_ZH } else { LABELS_EN };
    let items: Vec<Value> = (1..=5usize)
        .rev()
        .map(|r| json!({"id": format!("{survey_id}{r}"), "text": labels[r - 1]}))
        .collect();
    json!({ "items": items })
}

/// The survey and rating a tapped menu item names, if `menu_id` is a rating menu's id.
pub fn parse_menu_id(menu_id: &str) -> Option<(i64, i64)> {
    if menu_id.len() < 2 || !menu_id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (survey, rating) = menu_id.split_at(menu_id.len() - 1);
    let rating: i64 = rating.parse().ok().filter(|r| (1..=5).contains(r))?;
    Some((survey.parse().ok()?, rating))
}
