//! The conversation timeline over HTTP on every backend: routing by a rule, a priority change,
//! an automatic and a manual assignment, a transfer, resolving and reopening (by an agent and
//! by the customer writing again) each leave one line saying who did what; the timeline is
//! read under the same rules as the conversation.

mod routing_support;

use kefu_tests::{TestApp, backends, msg};
use reqwest::{Method, StatusCode};
use routing_support::*;
use serde_json::{Value, json};

/// Creates an agent named `name` with `skills`; returns `(id, token)`.
async fn named_agent(app: &TestApp, email: &str, name: &str, skills: Value) -> (i64, String) {
    let (s, b) = app
        .admin(
            Method::POST,
            "/api/v1/agents",
            Some(
                json!({"email": email, "name": name, "password": "agent-password",
                        "role": "agent", "skills": skills, "max_concurrent": 5}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, login) = app.login(email, "agent-password").await;
    assert_eq!(s, StatusCode::OK, "{login}");
    (
        b["id"].as_i64().expect("id"),
        login["token"].as_str().expect("token").to_owned(),
    )
}

/// The timeline as `token` reads it.
async fn timeline(app: &TestApp, token: &str, conv: i64) -> (StatusCode, Value) {
    app.call(
        Method::GET,
        &format!("/api/v1/conversations/{conv}/activities"),
        Some(token),
        None,
    )
    .await
}

/// The admin's view of the timeline's lines.
async fn lines(app: &TestApp, conv: i64) -> Vec<Value> {
    let (s, b) = app
        .admin(
            Method::GET,
            &format!("/api/v1/conversations/{conv}/activities"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["items"].as_array().cloned().unwrap_or_default()
}

/// Waits until the timeline has at least `n` lines; returns them.
async fn at_least(app: &TestApp, conv: i64, n: usize) -> Vec<Value> {
    app.until_event(&format!("{n} timeline lines"), || async {
        let l = lines(app, conv).await;
        (l.len() >= n).then_some(l)
    })
    .await
}

/// The bootstrap admin's display name.
async fn admin_name(app: &TestApp) -> String {
    let (s, b) = app.login("admin@example.com", "admin-password").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["agent"]["name"].as_str().expect("name").to_owned()
}

fn kinds(lines: &[Value]) -> Vec<&str> {
    lines.iter().filter_map(|l| l["kind"].as_str()).collect()
}

/// `(kind, actor name, agent name, team name)` of a line.
fn said(l: &Value) -> (&str, Option<&str>, Option<&str>, Option<&str>) {
    (
        l["kind"].as_str().unwrap_or_default(),
        l["actor"]["name"].as_str(),
        l["agent"]["name"].as_str(),
        l["team"]["name"].as_str(),
    )
}

#[tokio::test]
async fn each_handover_and_status_change_leaves_one_line() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app
            .loopback_inbox(json!({"skills": {"sales": 1}, "priority": 1}))
            .await;
        put_routing(
            &app,
            inbox,
            json!({
                "skills": {"sales": 1},
                "priority": 1,
                "rules": [{"name": "VIP", "when": {"keywords": ["vip"]},
                           "then": {"priority": {"raise": 5}}}]
            }),
        )
        .await;
        let (li, _) = named_agent(&app, "li@x.io", "Li Lei", json!({"sales": 3})).await;
        let (wang, _) = named_agent(&app, "wang@x.io", "Wang Fang", json!({"sales": 3})).await;
        set_status(&app, li, "online").await;
        let admin = admin_name(&app).await;
        let admin = Some(admin.as_str());

        // The rule matches, raises the priority, and the only online agent gets it.
        let mut first = msg("<m1@mail>", "u1", "I am a VIP customer");
        first.thread.message_ref = Some("<m1@mail>".into());
        let (s, a) = app.inbound(inbox, &first).await;
        assert_eq!(s, StatusCode::OK, "{a}");
        let conv = a["conversation_id"].as_i64().expect("conversation id");
        assigned_to(&app, conv, li).await;
        let l = at_least(&app, conv, 3).await;
        assert_eq!(
            kinds(&l),
            ["routed", "priority_changed", "assigned"],
            "{l:?}"
        );
        assert_eq!(l[0]["details"]["rules"], json!(["VIP"]), "{}", l[0]);
        assert_eq!(l[0]["actor"], Value::Null, "Kefu routed it: {}", l[0]);
        assert_eq!(
            (&l[1]["details"]["from"], &l[1]["details"]["to"]),
            (&json!(1), &json!(6)),
            "{}",
            l[1]
        );
        assert_eq!(said(&l[2]), ("assigned", None, Some("Li Lei"), None));
        assert_eq!(l[2]["details"]["reason"], "auto", "{}", l[2]);

        // The admin transfers it to Wang, resolves it and reopens it.
        let path = |what: &str| format!("/api/v1/conversations/{conv}/{what}");
        let (s, b) = app
            .admin(
                Method::POST,
                &path("transfer"),
                Some(json!({"agent_id": wang})),
            )
            .await;
        assert_eq!(
            (s, b["assignee_id"].as_i64()),
            (StatusCode::OK, Some(wang)),
            "{b}"
        );
        let (s, b) = app.admin(Method::POST, &path("resolve"), None).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (s, b) = app.admin(Method::POST, &path("reopen"), None).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let l = lines(&app, conv).await;
        assert_eq!(
            l[3..6].iter().map(said).collect::<Vec<_>>(),
            [
                ("transferred", admin, Some("Wang Fang"), None),
                ("resolved", admin, None, None),
                ("reopened", admin, None, None),
            ],
            "{l:?}"
        );
        assert_eq!(l[5]["details"]["by"], "agent");
        let ids: Vec<i64> = l.iter().filter_map(|x| x["id"].as_i64()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first: {ids:?}");

        // Reopened, it is routed again for the new wait and goes back to Li; the admin
        // resolves it once more and the customer writing again reopens it.
        assigned_to(&app, conv, li).await;
        let (s, b) = app.admin(Method::POST, &path("resolve"), None).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let before = lines(&app, conv).await.len();
        set_status(&app, li, "offline").await;
        let mut again = msg("<m2@mail>", "u1", "It broke again");
        again.thread.references = vec!["<m1@mail>".into()];
        let (s, a) = app.inbound(inbox, &again).await;
        assert_eq!(
            (s, a["conversation_id"].as_i64()),
            (StatusCode::OK, Some(conv)),
            "{a}"
        );
        let l = at_least(&app, conv, before + 1).await;
        let last = &l[before];
        assert_eq!(said(last), ("reopened", None, None, None), "{l:?}");
        assert_eq!(last["details"]["by"], "contact");

        // A supervisor assigns a queued conversation by hand (Li is offline: nobody takes it).
        let other = write_in(&app, inbox, "m3", "u2", "hello").await;
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{other}/assign"),
                Some(json!({"agent_id": wang})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let l = lines(&app, other).await;
        let assigned: Vec<_> = l.iter().filter(|x| x["kind"] == "assigned").collect();
        assert_eq!(assigned.len(), 1, "{l:?}");
        assert_eq!(
            said(assigned[0]),
            ("assigned", admin, Some("Wang Fang"), None)
        );
        assert_eq!(assigned[0]["details"]["reason"], "manual");
        app.stop().await;
    }
}

#[tokio::test]
async fn transfers_to_a_team_name_the_team() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({"skills": {"sales": 1}})).await;
        let (li, _) = named_agent(&app, "li@x.io", "Li Lei", json!({"sales": 3})).await;
        let (s, team) = app
            .admin(
                Method::POST,
                "/api/v1/teams",
                Some(json!({"name": "Tier 2", "agent_ids": [li]})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{team}");
        let admin = admin_name(&app).await;
        let admin = Some(admin.as_str());
        let conv = write_in(&app, inbox, "m1", "u1", "hello").await;
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/assign"),
                Some(json!({"agent_id": li})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/transfer"),
                Some(json!({"team_id": team["id"]})),
            )
            .await;
        assert_eq!(
            (s, b["status"].as_str()),
            (StatusCode::OK, Some("queued")),
            "{b}"
        );
        let l = lines(&app, conv).await;
        let last = l.last().expect("a line");
        assert_eq!(
            said(last),
            ("transferred", admin, None, Some("Tier 2")),
            "{l:?}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn the_timeline_is_read_like_the_conversation() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = app.loopback_inbox(json!({"skills": {}})).await;
        let (member, member_token) = named_agent(&app, "m@x.io", "Member", json!({})).await;
        let (_, outsider_token) = named_agent(&app, "o@x.io", "Outsider", json!({})).await;
        app.join(inbox, member).await;
        let conv = write_in(&app, inbox, "m1", "u1", "hello").await;
        let (s, b) = app
            .admin(
                Method::POST,
                &format!("/api/v1/conversations/{conv}/resolve"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");

        for (who, token, want) in [
            (
                "a member of the inbox",
                member_token.as_str(),
                StatusCode::OK,
            ),
            (
                "an agent outside it",
                outsider_token.as_str(),
                StatusCode::NOT_FOUND,
            ),
        ] {
            let (seen, _) = app
                .call(
                    Method::GET,
                    &format!("/api/v1/conversations/{conv}"),
                    Some(token),
                    None,
                )
                .await;
            let (s, b) = timeline(&app, token, conv).await;
            assert_eq!((seen, s), (want, want), "{who}: {b}");
            if want == StatusCode::OK {
                assert_eq!(
                    kinds(b["items"].as_array().expect("items")),
                    ["resolved"],
                    "{b}"
                );
            } else {
                assert_eq!(b["code"], "not_found", "{who}: {b}");
            }
        }
        let (s, _) = app
            .call(
                Method::GET,
                &format!("/api/v1/conversations/{conv}/activities"),
                None,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (s, b) = timeline(&app, &member_token, conv + 1000).await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found"))
        );

        let (s, doc) = app
            .call(Method::GET, "/api/v1/openapi.json", None, None)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            doc["paths"]["/api/v1/conversations/{id}/activities"]["get"].is_object(),
            "the endpoint is documented"
        );
        app.stop().await;
    }
}
