//! One Kefu process per SQLite database: a second one on the same data folder refuses to start
//! with a message saying why, and the database is free again once the first has stopped.

use std::sync::Arc;

use kefu_channel::testkit::loopback::{LoopbackFactory, LoopbackProvider};
use kefu_gateway::App;
use kefu_tests::{Backend, TestApp};
use reqwest::Method;

/// Builds a second server on `app`'s configuration (same database and data folder).
async fn second(app: &TestApp) -> Result<App, String> {
    let mut config = (*app.state.config).clone();
    config.listen = "127.0.0.1:0".parse().expect("addr");
    App::build(
        config,
        vec![Arc::new(LoopbackFactory::new(LoopbackProvider::new()))],
    )
    .await
    .map(|(app, _)| app)
    .map_err(|e| e.to_string())
}

#[tokio::test]
async fn a_second_process_on_one_sqlite_folder_refuses_to_start() {
    let app = TestApp::spawn(&Backend::Sqlite).await;
    let err = second(&app)
        .await
        .err()
        .expect("the second server must refuse");
    assert!(
        err.contains("already using the SQLite database") && err.contains("PostgreSQL"),
        "{err}"
    );
    assert!(
        err.contains(&format!("pid {}", std::process::id())),
        "names the holder: {err}"
    );

    // The first one is unharmed; after it stops, the folder is free for the next start.
    let (status, _) = app.admin(Method::GET, "/api/v1/agents", None).await;
    assert!(status.is_success());
    let app = app.restart(|_| {}).await;
    let (status, _) = app.admin(Method::GET, "/api/v1/agents", None).await;
    assert!(status.is_success(), "restarted on the same folder");
    assert!(second(&app).await.is_err(), "still one at a time");
    app.stop().await;
}
