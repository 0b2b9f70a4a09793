//! The optional language model on every backend, against a local stand-in for an
//! OpenAI-compatible API (`kefu_tests::llm_mock`) that records what it receives:
//!
//! - a draft comes from the model, cites only the knowledge base entries it was given, and
//!   what left Kefu had its personal data replaced by placeholders;
//! - the API's error, an unusable answer, a timeout and the inbox's daily budget each answer
//!   with their own code;
//! - resolve summaries are rewritten by the model after the commit, or keep their extractive
//!   sentences and say why;
//! - without a model, drafts are refused with `llm_not_configured` and nothing changes.

mod routing_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use kefu_normalizer::entity::outbox_event;
use kefu_normalizer::llm_usage::LlmUsage;
use kefu_tests::llm_mock::{LlmMock, LlmRequest, Reply};
use kefu_tests::{TestApp, backends, eventually};
use reqwest::{Method, StatusCode};
use routing_support::write_in;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);
const KEY: &str = "sk-test-key";

/// Personal data in the thread, and what must not leave Kefu of it.
const CUSTOMER: &str = "How much is shipping? Call me on 13812345678 or write to li.lei@example.com. \
     Card 4111 1111 1111 1111, ID 11010519491231002X.";
const LEAKS: [&str; 6] = [
    "13812345678",
    "li.lei@example.com",
    "4111",
    "11010519491231002X",
    "13900001111",
    "wang@example.org",
];

fn with_model(mock: &LlmMock) -> impl FnOnce(&mut kefu_gateway::Config) {
    let base_url = mock.base_url.clone();
    move |c| {
        c.ai.llm.base_url = Some(base_url);
        c.ai.llm.model = Some("mock-model".into());
        c.ai.llm.api_key = Some(KEY.to_owned().into());
        c.ai.llm.timeout_secs = 1.0;
    }
}

/// The first `[<id>] Q:` entry id in a draft request.
fn first_entry(req: &LlmRequest) -> Option<i64> {
    let text = req.text();
    let at = text.find("] Q:")?;
    let open = text[..at].rfind('[')?;
    text[open + 1..at].parse().ok()
}

async fn knowledge(app: &TestApp, question: &str, answer: &str) -> i64 {
    let (s, b) = app
        .admin(
            Method::POST,
            "/api/v1/knowledge",
            Some(json!({"question": question, "alternatives": [], "answer": answer})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b["id"].as_i64().expect("entry id")
}

async fn draft(app: &TestApp, conv: i64) -> (StatusCode, Value) {
    app.admin(
        Method::POST,
        &format!("/api/v1/conversations/{conv}/draft"),
        None,
    )
    .await
}

fn assert_redacted(text: &str) {
    for leak in LEAKS {
        assert!(!text.contains(leak), "{leak} left Kefu: {text}");
    }
}

#[tokio::test]
async fn a_draft_comes_from_the_model_citing_the_entries_with_personal_data_redacted() {
    for backend in backends() {
        let mock = LlmMock::start(|req| match first_entry(req) {
            Some(id) => Reply::Content(
                json!({"answer": "Shipping is free over 99 yuan (drafted by the mock).",
                       "citations": [id, 424242]})
                .to_string(),
                120,
            ),
            None => Reply::Error(400, json!({"error": {"message": "no entries"}})),
        })
        .await;
        let app = TestApp::spawn_with(&backend, |c| {
            with_model(&mock)(c);
            c.ai.llm.summaries = false;
        })
        .await;
        let (s, b) = app.admin(Method::GET, "/api/v1/ai", None).await;
        assert_eq!((s, &b), (StatusCode::OK, &json!({"llm": true})));
        let shipping = knowledge(
            &app,
            "How much is shipping?",
            "Shipping is free over 99 yuan.",
        )
        .await;
        knowledge(
            &app,
            "How do I reset my password?",
            "Use the Forgot password link.",
        )
        .await;
        let inbox = app.loopback_inbox(json!({})).await;
        let conv = write_in(&app, inbox, "m1", "u1", "Hello").await;
        app.reply(
            conv,
            "Hi! I can also call you from 13900001111 or mail wang@example.org.",
        )
        .await;
        write_in(&app, inbox, "m2", "u1", CUSTOMER).await;

        let (s, d) = draft(&app, conv).await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: {d}");
        assert_eq!(
            d["text"],
            "Shipping is free over 99 yuan (drafted by the mock)."
        );
        // The invented citation is dropped; the real one names its entry.
        assert_eq!(
            d["citations"],
            json!([{"knowledge_id": shipping, "question": "How much is shipping?"}])
        );

        let got = mock.requests();
        assert_eq!(got.len(), 1, "{got:?}");
        let req = &got[0];
        assert_eq!(req.path, "/v1/chat/completions");
        assert_eq!(req.authorization.as_deref(), Some("Bearer sk-test-key"));
        assert_eq!(req.body["model"], "mock-model");
        let sent = req.text();
        assert_redacted(&sent);
        for placeholder in ["[PHONE]", "[EMAIL]"] {
            assert!(sent.contains(placeholder), "{placeholder} missing: {sent}");
        }
        assert!(
            sent.contains(&format!("[{shipping}] Q: How much is shipping?")),
            "{sent}"
        );
        assert!(sent.contains("Customer: How much is shipping?"), "{sent}");
        app.stop().await;
    }
}

#[tokio::test]
async fn the_apis_error_a_bad_answer_a_timeout_and_the_budget_each_say_what_happened() {
    for backend in backends() {
        let next = Arc::new(Mutex::new(Reply::Hang));
        let script = next.clone();
        let mock = LlmMock::start(move |_| script.lock().expect("script").clone()).await;
        let app = TestApp::spawn_with(&backend, |c| {
            with_model(&mock)(c);
            c.ai.llm.summaries = false;
            c.ai.llm.timeout_secs = 0.5;
            c.ai.llm.daily_requests_per_inbox = 3;
        })
        .await;
        let inbox = app.loopback_inbox(json!({})).await;
        let conv = write_in(&app, inbox, "m1", "u1", "Where is my parcel?").await;
        let cases = [
            (
                Reply::Error(
                    401,
                    json!({"error": {"message": "Incorrect API key provided"}}),
                ),
                StatusCode::BAD_GATEWAY,
                "llm_failed",
                "HTTP 401: Incorrect API key provided",
            ),
            (
                Reply::Content("Sure! Your parcel is on its way.".into(), 10),
                StatusCode::BAD_GATEWAY,
                "llm_failed",
                "not the JSON asked for",
            ),
            (
                Reply::Hang,
                StatusCode::GATEWAY_TIMEOUT,
                "llm_timeout",
                "did not answer within 0.5 s",
            ),
            (
                Reply::Content(json!({"answer": "never asked"}).to_string(), 10),
                StatusCode::TOO_MANY_REQUESTS,
                "llm_budget_exhausted",
                "budget",
            ),
        ];
        for (reply, status, code, detail) in cases {
            *next.lock().expect("script") = reply;
            let (s, b) = draft(&app, conv).await;
            assert_eq!(
                (s, b["code"].as_str()),
                (status, Some(code)),
                "{backend:?}: {b}"
            );
            let said = b["detail"].as_str().unwrap_or_default();
            assert!(said.contains(detail), "{said} does not say {detail}");
        }
        assert_eq!(
            mock.requests().len(),
            3,
            "the budget stopped the fourth request"
        );
        app.stop().await;
    }
}

/// The summaries of `conv` once `done` holds for the newest.
async fn summary_when(app: &TestApp, conv: i64, done: impl Fn(&Value) -> bool) -> Value {
    let path = format!("/api/v1/conversations/{conv}/summaries");
    eventually(WAIT, || async {
        let (_, b) = app.admin(Method::GET, &path, None).await;
        b["items"].as_array()?.last().filter(|s| done(s)).cloned()
    })
    .await
    .unwrap_or_else(|| panic!("conversation {conv}: the summary never changed"))
}

#[tokio::test]
async fn resolve_summaries_are_rewritten_by_the_model_or_keep_their_sentences_and_say_why() {
    for backend in backends() {
        let mock = LlmMock::start(|req| {
            if !req.is_summary() {
                Reply::Error(400, json!({"error": {"message": "drafts are not used here"}}))
            } else if req.text().contains("hold on") {
                Reply::Hang
            } else {
                Reply::Content(
                    json!({"sentences": [
                        {"speaker": "customer", "text": "Order A1234 has not arrived; the customer left a phone number."},
                        {"speaker": "agent", "text": "The order ships on Friday."}],
                        "open_question": null})
                    .to_string(),
                    200,
                )
            }
        })
        .await;
        let app = TestApp::spawn_with(&backend, with_model(&mock)).await;
        let inbox = app.loopback_inbox(json!({})).await;
        let resolve = |conv: i64| {
            let app = &app;
            async move {
                let (s, b) = app
                    .admin(
                        Method::POST,
                        &format!("/api/v1/conversations/{conv}/resolve"),
                        None,
                    )
                    .await;
                assert_eq!(s, StatusCode::OK, "{b}");
                b["summary"].clone()
            }
        };

        let good = write_in(
            &app,
            inbox,
            "m1",
            "u1",
            "My order A1234 has not arrived. Call me on 13812345678.",
        )
        .await;
        app.reply(good, "Order A1234 ships on Friday.").await;
        let committed = resolve(good).await;
        assert_eq!(
            committed["source"], "extractive",
            "committed at once: {committed}"
        );
        let rewritten = summary_when(&app, good, |s| s["source"] == "llm").await;
        assert_eq!(rewritten["id"], committed["id"]);
        assert_eq!(
            rewritten["sentences"][1],
            json!({"speaker": "agent", "text": "The order ships on Friday."})
        );
        assert_eq!(rewritten["facts"]["channel"], committed["facts"]["channel"]);
        assert!(rewritten.get("llm_error").is_none(), "{rewritten}");
        // Committed with the new body: `conversation.updated` carrying it.
        let announced: Vec<Value> = outbox_event::Entity::find()
            .filter(outbox_event::Column::ConversationId.eq(good))
            .filter(outbox_event::Column::EventType.eq("conversation.updated"))
            .all(app.state.db.conn())
            .await
            .expect("outbox")
            .into_iter()
            .map(|e| e.payload)
            .filter(|p| !p["summary"].is_null())
            .collect();
        assert_eq!(announced.len(), 1, "{announced:?}");
        assert_eq!(announced[0]["summary"], rewritten, "{announced:?}");

        let slow = write_in(
            &app,
            inbox,
            "m2",
            "u2",
            "Please hold on, where is my parcel?",
        )
        .await;
        let committed = resolve(slow).await;
        let kept = summary_when(&app, slow, |s| s.get("llm_error").is_some()).await;
        assert_eq!(kept["source"], "extractive", "{kept}");
        assert_eq!(kept["sentences"], committed["sentences"]);
        let why = kept["llm_error"].as_str().unwrap_or_default();
        assert!(why.contains("did not answer within 1 s"), "{why}");

        let asked = mock.requests();
        assert_eq!(asked.len(), 2, "{asked:?}");
        assert!(asked.iter().all(LlmRequest::is_summary));
        let sent = asked[0].text();
        assert_redacted(&sent);
        assert!(sent.contains("Call me on [PHONE]."), "{sent}");
        app.stop().await;
    }
}

#[tokio::test]
async fn without_a_model_drafts_are_refused_and_summaries_stay_extractive() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let (s, b) = app.admin(Method::GET, "/api/v1/ai", None).await;
        assert_eq!((s, &b), (StatusCode::OK, &json!({"llm": false})));
        let inbox = app.loopback_inbox(json!({})).await;
        let conv = write_in(&app, inbox, "m1", "u1", "How much is shipping?").await;
        let (s, b) = draft(&app, conv).await;
        assert_eq!(s, StatusCode::NOT_IMPLEMENTED, "{b}");
        assert_eq!(b["code"], "llm_not_configured");
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/resolve"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["summary"]["source"], "extractive");
        assert!(b["summary"].get("llm_error").is_none(), "{b}");
        // A conversation that does not exist is a 404 before anything else.
        let (s, _) = draft(&app, 999_999).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        app.stop().await;
    }
}

#[tokio::test]
async fn embeddings_bring_an_entry_bm25_misses_to_the_draft() {
    for backend in backends() {
        let mock = LlmMock::start(|req| {
            let citations: Vec<i64> = first_entry(req).into_iter().collect();
            Reply::Content(
                json!({"answer": "Drafted.", "citations": citations}).to_string(),
                50,
            )
        })
        .await;
        let question = "What do you ask for carriage to Beijing? Call 13812345678.";
        let mut cited = Vec::new();
        for embeddings in [false, true] {
            let app = TestApp::spawn_with(&backend, |c| {
                with_model(&mock)(c);
                c.ai.llm.summaries = false;
                if embeddings {
                    c.ai.embeddings.base_url = Some(mock.base_url.clone());
                    c.ai.embeddings.model = Some("mock-embedder".into());
                }
            })
            .await;
            let shipping = knowledge(
                &app,
                "How much is shipping?",
                "Shipping is free over 99 yuan.",
            )
            .await;
            knowledge(
                &app,
                "How do I reset my password?",
                "Use the Forgot password link.",
            )
            .await;
            let inbox = app.loopback_inbox(json!({})).await;
            let conv = write_in(&app, inbox, "m1", "u1", question).await;
            for _ in 0..2 {
                let (s, d) = draft(&app, conv).await;
                assert_eq!(s, StatusCode::OK, "{backend:?}: {d}");
                cited.push((embeddings, d["citations"].clone()));
            }
            let shipping_cited =
                json!([{"knowledge_id": shipping, "question": "How much is shipping?"}]);
            // Suggestions rank the same way.
            let (s, b) = app
                .admin(
                    Method::PUT,
                    &format!("/api/v1/inboxes/{inbox}/bot"),
                    Some(json!({"mode": "suggest"})),
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{b}");
            let (s, b) = app
                .admin(
                    Method::GET,
                    &format!("/api/v1/conversations/{conv}/suggestions"),
                    None,
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{b}");
            let first = b["items"][0]["knowledge_id"].as_i64();
            // Every request counts against the inbox's budget: the drafts' chats, and with
            // embeddings the entries' and each question's.
            let spent = LlmUsage::new(app.state.db.clone())
                .spent(inbox, chrono::Utc::now())
                .await
                .expect("usage");
            if embeddings {
                assert_eq!(
                    cited[2..],
                    [(true, shipping_cited.clone()), (true, shipping_cited)]
                );
                assert_eq!(first, Some(shipping), "{b}");
                assert!(b["items"][0]["score"].as_f64() > Some(0.0), "{b}");
                assert_eq!(b["items"][0]["answer"], "Shipping is free over 99 yuan.");
                assert_eq!(spent.requests, 2 + 4, "{spent:?}");
            } else {
                assert_ne!(first, Some(shipping), "{b}");
                assert_eq!(spent.requests, 2, "{spent:?}");
            }
            if !embeddings {
                assert_eq!(
                    cited,
                    [(false, json!([])), (false, json!([]))],
                    "BM25 alone misses it"
                );
            }
            app.stop().await;
        }
        let embedded: Vec<Vec<String>> = mock
            .requests()
            .iter()
            .filter(|r| r.path == "/v1/embeddings")
            .map(|r| {
                assert_eq!(r.body["model"], "mock-embedder");
                r.body["input"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|t| t.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .collect();
        // The entries once (both in one request), then the question per draft and for the
        // suggestions, redacted.
        assert_eq!(embedded.len(), 4, "{embedded:?}");
        assert_eq!(embedded[0].len(), 2, "{embedded:?}");
        let asked = "What do you ask for carriage to Beijing? Call [PHONE].";
        for question in &embedded[1..] {
            assert_eq!(question, &[asked]);
        }
    }
}
