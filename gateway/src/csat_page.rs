//! The rating page email customers reach from the links in a satisfaction survey
//! (`/csat/{token}`), in English or Chinese by the browser's language.
//!
//! - `GET /csat/{token}?rating=N`: one click rates; the page thanks and offers a comment box.
//! - `GET /csat/{token}`: five rating buttons and a comment box.
//! - `POST /csat/{token}` (form `rating?`, `comment?`): rates, or adds the comment to a rating
//!   given by a click.
//!
//! A token works once and expires; a second rating is refused with a page saying so.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;
use kefu_normalizer::StoreError;
use kefu_normalizer::csat::{CsatRefusal, Submitted, SurveyStatus};
use serde::Deserialize;

use crate::error::ApiError;
use crate::state::AppState;

/// `?rating=` of a rating link.
#[derive(Debug, Deserialize)]
pub struct Click {
    rating: Option<String>,
}

/// The page's form.
#[derive(Debug, Deserialize)]
pub struct Answer {
    #[serde(default)]
    rating: Option<String>,
    #[serde(default)]
    comment: Option<String>,
}

/// The page's words in one language.
struct Words {
    lang: &'static str,
    title: &'static str,
    ask: &'static str,
    labels: [&'static str; 5],
    thanks: &'static str,
    comment: &'static str,
    send: &'static str,
    noted: &'static str,
    already: &'static str,
    expired: &'static str,
    unknown: &'static str,
    bad_rating: &'static str,
}

const EN: Words = Words {
    lang: "en",
    title: "Rate our support",
    ask: "How would you rate the help you received?",
    labels: [
        "Very dissatisfied",
        "Dissatisfied",
        "Neutral",
        "Satisfied",
        "Very satisfied",
    ],
    thanks: "Thank you for your rating",
    comment: "Anything you would like to add? (optional)",
    send: "Send",
    noted: "Thank you, your comment was received.",
    already: "This conversation has been rated already. Thank you!",
    expired: "This rating link has expired.",
    unknown: "This rating link is not valid.",
    bad_rating: "Please choose a rating from 1 to 5.",
};

const ZH: Words = Words {
    lang: "zh-CN",
    title: "服务评价",
    ask: "您对本次服务满意吗？",
    labels: ["非常不满意", "不满意", "一般", "满意", "非常满意"],
    thanks: "感谢您的评价",
    comment: "还有什么想告诉我们的吗？（选填）",
    send: "提交",
    noted: "谢谢，我们已收到您的意见。",
    already: "此会话已评价过，感谢您的反馈！",
    expired: "此评价链接已过期。",
    unknown: "此评价链接无效。",
    bad_rating: "请选择 1 到 5 的评分。",
};

fn words(headers: &HeaderMap) -> &'static Words {
    let zh = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|first| first.trim().to_ascii_lowercase().starts_with("zh"));
    if zh { &ZH } else { &EN }
}

fn page(status: StatusCode, w: &Words, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title}</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1f2937}}\
         .stars{{display:flex;flex-wrap:wrap;gap:.5rem;margin:1rem 0}}\
         button{{font:inherit;padding:.5rem .8rem;border:1px solid #cbd5e1;border-radius:.4rem;background:#fff;cursor:pointer}}\
         button.send{{background:#2563eb;color:#fff;border-color:#2563eb}}\
         textarea{{width:100%;min-height:6rem;font:inherit;box-sizing:border-box}}\
         </style></head><body><main><h1>{title}</h1>{body}</main></body></html>",
        lang = w.lang,
        title = w.title,
    );
    (status, Html(html)).into_response()
}

fn rating_buttons(w: &Words) -> String {
    (1..=5)
        .rev()
        .map(|r| {
            format!(
                "<button type=\"submit\" name=\"rating\" value=\"{r}\" data-rating=\"{r}\">{} {}</button>",
                "★".repeat(r),
                w.labels[r - 1]
            )
        })
        .collect()
}

fn ask_page(w: &Words) -> Response {
    let body = format!(
        "<p>{ask}</p><form method=\"post\"><label for=\"comment\">{comment}</label>\
         <textarea id=\"comment\" name=\"comment\" maxlength=\"2000\"></textarea>\
         <div class=\"stars\">{buttons}</div></form>",
        ask = w.ask,
        comment = w.comment,
        buttons = rating_buttons(w),
    );
    page(StatusCode::OK, w, &body)
}

fn thanks_page(w: &Words, rating: i16, with_comment_box: bool) -> Response {
    let stars = "★".repeat(usize::try_from(rating).unwrap_or(0));
    let mut body = format!(
        "<p class=\"thanks\">{} <span class=\"rated\">{stars}</span></p>",
        w.thanks
    );
    if with_comment_box {
        body.push_str(&format!(
            "<form method=\"post\"><label for=\"comment\">{comment}</label>\
             <textarea id=\"comment\" name=\"comment\" maxlength=\"2000\"></textarea>\
             <p><button class=\"send\" type=\"submit\">{send}</button></p></form>",
            comment = w.comment,
            send = w.send,
        ));
    }
    page(StatusCode::OK, w, &body)
}

fn refused(w: &Words, r: CsatRefusal) -> Response {
    let (status, text) = match r {
        CsatRefusal::AlreadySubmitted => (StatusCode::CONFLICT, w.already),
        CsatRefusal::Expired => (StatusCode::GONE, w.expired),
        CsatRefusal::Unknown => (StatusCode::NOT_FOUND, w.unknown),
    };
    page(
        status,
        w,
        &format!("<p class=\"refused\" data-code=\"{}\">{text}</p>", r.code()),
    )
}

fn invalid(w: &Words, detail: &str) -> Response {
    let text = if detail.starts_with("rating") {
        w.bad_rating.to_owned()
    } else {
        detail
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    page(
        StatusCode::UNPROCESSABLE_ENTITY,
        w,
        &format!("<p class=\"refused\" data-code=\"invalid_input\">{text}</p>"),
    )
}

/// `1`..`5`, or `None` for anything else.
fn rating(s: &str) -> Option<i64> {
    s.trim().parse::<i64>().ok().filter(|r| (1..=5).contains(r))
}

fn answered(w: &Words, outcome: Result<Submitted, StoreError>, comment_box: bool) -> Response {
    match outcome {
        Ok(Ok(view)) => thanks_page(w, view.rating.unwrap_or(0), comment_box),
        Ok(Err(r)) => refused(w, r),
        Err(StoreError::Invalid(detail)) => invalid(w, &detail),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// `GET /csat/{token}`: rates on a link's `?rating=`, or asks.
pub async fn show(
    State(st): State<AppState>,
    Path(token): Path<String>,
    Query(click): Query<Click>,
    headers: HeaderMap,
) -> Response {
    let w = words(&headers);
    if let Some(given) = click.rating {
        let Some(r) = rating(&given) else {
            return invalid(w, "rating must be between 1 and 5");
        };
        let outcome = st.csat.submit(&token, r, None, Utc::now()).await;
        return answered(w, outcome, true);
    }
    match st.csat.by_token(&token).await {
        Ok(Some(s)) if s.status == SurveyStatus::Submitted => {
            refused(w, CsatRefusal::AlreadySubmitted)
        }
        Ok(Some(s)) if s.status == SurveyStatus::Requested => ask_page(w),
        Ok(_) => refused(w, CsatRefusal::Unknown),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// `POST /csat/{token}`: a rating (with an optional comment), or a comment on a rating given
/// by a click.
pub async fn answer(
    State(st): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Answer>,
) -> Response {
    let w = words(&headers);
    let now = Utc::now();
    match (
        form.rating.as_deref().filter(|r| !r.is_empty()),
        form.comment.as_deref(),
    ) {
        (Some(given), comment) => match rating(given) {
            Some(r) => answered(w, st.csat.submit(&token, r, comment, now).await, false),
            None => invalid(w, "rating must be between 1 and 5"),
        },
        (None, Some(comment)) => match st.csat.comment(&token, comment, now).await {
            Ok(Ok(_)) => page(
                StatusCode::OK,
                w,
                &format!("<p class=\"thanks\">{}</p>", w.noted),
            ),
            Ok(Err(r)) => refused(w, r),
            Err(StoreError::Invalid(detail)) => invalid(w, &detail),
            Err(e) => ApiError::from(e).into_response(),
        },
        (None, None) => invalid(w, "rating must be between 1 and 5"),
    }
}
