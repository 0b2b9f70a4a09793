//! Schedules (business hours) over HTTP on every backend: create, list, read, replace and
//! delete, the `{code, detail, field}` refusals, who may write, and an inbox keeping a
//! schedule and an out-of-office reply. What a web chat visitor sees of them is in
//! `schedules_web_chat.rs`.

use kefu_tests::{TestApp, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn shanghai() -> Value {
    json!({
        "name": "China support",
        "time_zone": "Asia/Shanghai",
        "weekly": {
            "mon": [["13:00", "18:00"], ["9:00", "12:00"]],
            "fri": [["09:00", "18:00"]],
        },
        "holidays": ["2026-10-02", "2026-10-01"],
        "extra_workdays": ["2026-10-10"],
    })
}

async fn web_chat_inbox(app: &TestApp) -> i64 {
    let (s, list) = app.admin(Method::GET, "/api/v1/inboxes", None).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["channel"]["type"] == "web_chat")
        .and_then(|i| i["id"].as_i64())
        .expect("the default web chat inbox")
}

#[tokio::test]
async fn schedules_are_created_read_replaced_and_deleted() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let (s, created) = app
            .admin(Method::POST, "/api/v1/schedules", Some(shanghai()))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{created}");
        let id = created["id"].as_i64().expect("id");
        // Stored in one spelling: HH:MM, intervals and dates sorted, days left out empty.
        assert_eq!(
            created["weekly"]["mon"],
            json!([["09:00", "12:00"], ["13:00", "18:00"]])
        );
        assert_eq!(created["weekly"]["sun"], json!([]));
        assert_eq!(created["holidays"], json!(["2026-10-01", "2026-10-02"]));
        assert_eq!(created["extra_workdays"], json!(["2026-10-10"]));
        assert_eq!(created["time_zone"], "Asia/Shanghai");

        let (s, list) = app.admin(Method::GET, "/api/v1/schedules", None).await;
        assert_eq!(s, StatusCode::OK, "{list}");
        assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
        assert_eq!(list["next_cursor"], Value::Null);
        let path = format!("/api/v1/schedules/{id}");
        let (s, one) = app.admin(Method::GET, &path, None).await;
        assert_eq!((s, &one["name"]), (StatusCode::OK, &json!("China support")));

        let mut berlin = shanghai();
        berlin["name"] = json!("Berlin");
        berlin["time_zone"] = json!("Europe/Berlin");
        berlin["extra_workdays"] = json!([]);
        let (s, replaced) = app.admin(Method::PUT, &path, Some(berlin)).await;
        assert_eq!(s, StatusCode::OK, "{replaced}");
        assert_eq!(
            (
                &replaced["name"],
                &replaced["time_zone"],
                &replaced["extra_workdays"]
            ),
            (&json!("Berlin"), &json!("Europe/Berlin"), &json!([]))
        );

        let (s, _) = app.admin(Method::DELETE, &path, None).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, gone) = app.admin(Method::GET, &path, None).await;
        assert_eq!(
            (s, &gone["code"]),
            (StatusCode::NOT_FOUND, &json!("not_found"))
        );
        let (s, _) = app.admin(Method::PUT, &path, Some(shanghai())).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        app.stop().await;
    }
}

#[tokio::test]
async fn bad_schedules_are_refused_with_the_field_they_are_about() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let cases = [
            (json!({"time_zone": "Mars/Olympus"}), "time_zone"),
            (
                json!({"weekly": {"tue": [["25:00", "26:00"]]}}),
                "weekly.tue",
            ),
            (
                json!({"weekly": {"wed": [["18:00", "09:00"]]}}),
                "weekly.wed",
            ),
            (
                json!({"weekly": {"thu": [["09:00", "13:00"], ["12:00", "18:00"]]}}),
                "weekly.thu",
            ),
            (json!({"holidays": ["2026-02-30"]}), "holidays"),
            (json!({"extra_workdays": ["2026-10-01"]}), "extra_workdays"),
            (json!({"name": "  "}), "name"),
        ];
        for (change, field) in cases {
            let mut body = shanghai();
            for (k, v) in change.as_object().expect("an object") {
                body[k] = v.clone();
            }
            let (s, err) = app
                .admin(Method::POST, "/api/v1/schedules", Some(body))
                .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {err}");
            assert_eq!(
                (&err["code"], &err["field"]),
                (&json!("invalid_request"), &json!(field)),
                "{err}"
            );
            assert!(!err["detail"].as_str().unwrap_or_default().is_empty());
        }
        // An unknown weekday is a malformed body.
        let mut body = shanghai();
        body["weekly"] = json!({"monday": [["09:00", "18:00"]]});
        let (s, err) = app
            .admin(Method::POST, "/api/v1/schedules", Some(body))
            .await;
        assert!(s.is_client_error(), "{s} {err}");
        assert!(
            err["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("monday"),
            "{err}"
        );

        let (s, _) = app
            .admin(Method::POST, "/api/v1/schedules", Some(shanghai()))
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, err) = app
            .admin(Method::POST, "/api/v1/schedules", Some(shanghai()))
            .await;
        assert_eq!(
            (s, &err["code"], &err["field"]),
            (StatusCode::CONFLICT, &json!("conflict"), &json!("name")),
            "{err}"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn agents_read_schedules_and_only_admins_write_them() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let (s, created) = app
            .admin(Method::POST, "/api/v1/schedules", Some(shanghai()))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{created}");
        let path = format!("/api/v1/schedules/{}", created["id"]);
        for role in ["agent", "supervisor"] {
            let (_, token) = app
                .agent(&format!("{role}@example.com"), role, json!({}))
                .await;
            let t = Some(token.as_str());
            let (s, list) = app.call(Method::GET, "/api/v1/schedules", t, None).await;
            assert_eq!(s, StatusCode::OK, "{role}: {list}");
            let (s, _) = app.call(Method::GET, &path, t, None).await;
            assert_eq!(s, StatusCode::OK, "{role}");
            let mut other = shanghai();
            other["name"] = json!(role);
            let writes = [
                (Method::POST, "/api/v1/schedules", Some(other.clone())),
                (Method::PUT, path.as_str(), Some(other)),
                (Method::DELETE, path.as_str(), None),
            ];
            for (method, p, body) in writes {
                let (s, err) = app.call(method.clone(), p, t, body).await;
                assert_eq!(
                    (s, &err["code"]),
                    (StatusCode::FORBIDDEN, &json!("forbidden")),
                    "{role} {method} {p}"
                );
            }
        }
        let (s, _) = app.call(Method::GET, "/api/v1/schedules", None, None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        app.stop().await;
    }
}

#[tokio::test]
async fn an_inbox_keeps_a_schedule_which_cannot_be_deleted_under_it() {
    for backend in backends() {
        let app = TestApp::spawn(&backend).await;
        let inbox = web_chat_inbox(&app).await;
        let inbox_path = format!("/api/v1/inboxes/{inbox}");
        let (_, before) = app.admin(Method::GET, &inbox_path, None).await;
        assert_eq!(before["schedule_id"], Value::Null);
        assert_eq!(
            before["out_of_office"],
            json!({"enabled": false, "message": "", "repeat_after_hours": 24})
        );

        let (_, schedule) = app
            .admin(Method::POST, "/api/v1/schedules", Some(shanghai()))
            .await;
        let id = schedule["id"].as_i64().expect("id");
        let away = json!({"enabled": true, "message": "  We open {{next_open}}.  ", "repeat_after_hours": 12});
        let (s, changed) = app
            .admin(
                Method::PATCH,
                &inbox_path,
                Some(json!({"schedule_id": id, "out_of_office": away})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{changed}");
        assert_eq!(changed["schedule_id"], id);
        assert_eq!(
            changed["out_of_office"],
            json!({"enabled": true, "message": "We open {{next_open}}.", "repeat_after_hours": 12})
        );
        let (_, again) = app.admin(Method::GET, &inbox_path, None).await;
        assert_eq!(again["out_of_office"], changed["out_of_office"]);

        // Refusals name their field.
        let bad = [
            (json!({"schedule_id": 9999}), "schedule_id"),
            (
                json!({"out_of_office": {"enabled": true, "message": " "}}),
                "out_of_office.message",
            ),
            (
                json!({"out_of_office": {"enabled": false, "message": "x", "repeat_after_hours": 721}}),
                "out_of_office.repeat_after_hours",
            ),
        ];
        for (body, field) in bad {
            let (s, err) = app.admin(Method::PATCH, &inbox_path, Some(body)).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
            assert_eq!(err["field"], field, "{err}");
        }

        // The schedule in use cannot be deleted; the answer names the inbox.
        let schedule_path = format!("/api/v1/schedules/{id}");
        let (s, err) = app.admin(Method::DELETE, &schedule_path, None).await;
        assert_eq!(
            (s, &err["code"]),
            (StatusCode::CONFLICT, &json!("schedule_in_use")),
            "{err}"
        );
        let detail = err["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains(&format!("inbox {inbox}")) && detail.contains("Website"),
            "{detail}"
        );

        // Letting go of it (null) frees it.
        let (s, changed) = app
            .admin(
                Method::PATCH,
                &inbox_path,
                Some(json!({"schedule_id": null})),
            )
            .await;
        assert_eq!((s, &changed["schedule_id"]), (StatusCode::OK, &Value::Null));
        assert_eq!(changed["out_of_office"]["enabled"], true, "the reply stays");
        let (s, _) = app.admin(Method::DELETE, &schedule_path, None).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        app.stop().await;
    }
}

#[tokio::test]
async fn schedule_paths_are_in_the_openapi_document() {
    let app = TestApp::spawn(&kefu_tests::Backend::Sqlite).await;
    let (s, doc) = app
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let paths = &doc["paths"];
    for (path, methods) in [
        ("/api/v1/schedules", &["get", "post"][..]),
        ("/api/v1/schedules/{id}", &["get", "put", "delete"][..]),
    ] {
        for m in methods {
            assert!(paths[path][m].is_object(), "{m} {path} is documented");
        }
    }
    assert!(doc["components"]["schemas"]["ScheduleSpec"].is_object());
    assert!(doc["components"]["schemas"]["OutOfOffice"].is_object());
    app.stop().await;
}
