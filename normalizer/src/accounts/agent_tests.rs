//! The agent store against a real (SQLite) database: validation names its field, presence is
//! stored as its documented strings and changes emit exactly one event.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use tokio::sync::Notify;

use super::{AccountError, AgentPatch, Agents, NewAgent};
use crate::db::Db;
use crate::entity::agent::AgentStatus;

async fn store() -> anyhow::Result<(Agents, Db, Arc<Notify>)> {
    let db = Db::connect("sqlite::memory:", 1).await?;
    db.migrate().await?;
    let wake = db.outbox_wake();
    Ok((Agents::new(db.clone()), db, wake))
}

fn new_agent(email: &str) -> NewAgent {
    NewAgent {
        email: email.into(),
        name: "Ann".into(),
        password: None,
        role: None,
        max_concurrent: None,
        skills: Some(BTreeMap::from([("billing".to_owned(), 4)])),
        team_ids: None,
    }
}

fn empty_patch() -> AgentPatch {
    AgentPatch {
        email: None,
        name: None,
        password: None,
        role: None,
        max_concurrent: None,
        skills: None,
        team_ids: None,
        active: None,
    }
}

/// `(event_type, payload)` of every outbox event, oldest first.
async fn events(db: &Db) -> anyhow::Result<Vec<(String, Value)>> {
    let rows = db
        .conn()
        .query_all_raw(Statement::from_string(
            db.conn().get_database_backend(),
            "SELECT event_type, payload FROM outbox_events ORDER BY id",
        ))
        .await?;
    let mut out = Vec::new();
    for r in rows {
        let kind: String = r.try_get("", "event_type")?;
        let payload: String = r.try_get("", "payload")?;
        out.push((kind, serde_json::from_str(&payload)?));
    }
    Ok(out)
}

async fn stored_status(db: &Db, id: i64) -> anyhow::Result<String> {
    let row = db
        .conn()
        .query_one_raw(Statement::from_string(
            db.conn().get_database_backend(),
            format!("SELECT status FROM agents WHERE id = {id}"),
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("agent {id} is gone"))?;
    Ok(row.try_get("", "status")?)
}

#[tokio::test]
async fn create_validates_each_field_and_refuses_a_taken_email() -> anyhow::Result<()> {
    let (agents, _db, _) = store().await?;
    let a = agents.create(new_agent(" Ann@Example.com ")).await?;
    assert_eq!(a.email, "ann@example.com");
    assert_eq!(a.role, "agent");
    assert_eq!(a.status, AgentStatus::Offline);
    assert!(
        a.password_hash.is_empty(),
        "invited agents have no password yet"
    );
    assert_eq!(agents.flags_of(a.id).await?.skills.get("billing"), Some(&4));

    let taken = agents.create(new_agent("ann@example.com")).await;
    assert!(matches!(taken, Err(AccountError::EmailTaken(ref e)) if e == "ann@example.com"));

    let mut weak = new_agent("bob@example.com");
    weak.password = Some("short".into());
    assert!(matches!(
        agents.create(weak).await,
        Err(AccountError::WeakPassword { ref field }) if field == "password"
    ));

    let mut unknown_team = new_agent("cy@example.com");
    unknown_team.team_ids = Some(vec![42]);
    assert!(matches!(
        agents.create(unknown_team).await,
        Err(AccountError::Invalid { field: Some(ref f), .. }) if f == "team_ids"
    ));
    assert!(
        agents.by_email("cy@example.com").await?.is_none(),
        "a refused team creates nothing"
    );
    Ok(())
}

#[tokio::test]
async fn presence_is_stored_as_its_name_and_each_change_emits_one_event() -> anyhow::Result<()> {
    let (agents, db, wake) = store().await?;
    let a = agents.create(new_agent("ann@example.com")).await?;
    assert_eq!(stored_status(&db, a.id).await?, "offline");

    let (a, changed) = agents.set_status(a.id, AgentStatus::Online).await?;
    assert!(changed);
    assert_eq!(a.status, AgentStatus::Online);
    assert_eq!(stored_status(&db, a.id).await?, "online");
    // The relay was woken on commit: the permit is already stored.
    tokio::time::timeout(Duration::from_secs(1), wake.notified()).await?;

    let (_, changed) = agents.set_status(a.id, AgentStatus::Online).await?;
    assert!(!changed, "setting the current status again changes nothing");

    let a = agents.deactivate(a.id).await?;
    assert!(!a.active);
    assert_eq!(stored_status(&db, a.id).await?, "offline");
    assert_eq!(
        events(&db).await?,
        vec![
            (
                "agent.status_changed".to_owned(),
                json!({"agent_id": a.id, "status": "online", "previous": "offline"})
            ),
            (
                "agent.status_changed".to_owned(),
                json!({"agent_id": a.id, "status": "offline", "previous": "online"})
            ),
        ]
    );
    let a = agents.reactivate(a.id).await?;
    assert!(a.active);
    assert_eq!(a.status, AgentStatus::Offline);
    Ok(())
}

#[tokio::test]
async fn update_hashes_a_new_password_and_replaces_skills() -> anyhow::Result<()> {
    let (agents, _db, _) = store().await?;
    let a = agents.create(new_agent("ann@example.com")).await?;
    let b = agents.create(new_agent("bob@example.com")).await?;

    let mut patch = empty_patch();
    patch.email = Some("bob@example.com".into());
    assert!(matches!(
        agents.update_fields(a.id, &patch).await,
        Err(AccountError::EmailTaken(_))
    ));

    let mut patch = empty_patch();
    patch.password = Some("a long enough password".into());
    patch.skills = Some(BTreeMap::from([("sales".to_owned(), 7)]));
    patch.role = Some("supervisor".into());
    let a = agents.update_fields(a.id, &patch).await?;
    assert!(super::verify_password("a long enough password".into(), a.password_hash.clone()).await);
    assert_eq!(a.role, "supervisor");
    assert_eq!(
        agents.flags_of(a.id).await?.skills,
        BTreeMap::from([("sales".to_owned(), 7)])
    );
    assert_eq!(
        agents.flags_of(b.id).await?.skills.len(),
        1,
        "others keep theirs"
    );

    agents.delete(b.id).await?;
    assert!(agents.get(b.id).await?.is_none());
    assert_eq!(
        agents
            .list()
            .await?
            .iter()
            .map(|(a, _)| a.id)
            .collect::<Vec<_>>(),
        vec![a.id]
    );
    Ok(())
}

#[tokio::test]
async fn the_first_admin_is_created_once() -> anyhow::Result<()> {
    let (agents, _db, _) = store().await?;
    let first = agents
        .create_first_admin()
        .await?
        .expect("an empty database");
    assert_eq!(first.email, "admin@localhost");
    let admin = agents.by_email("admin@localhost").await?.expect("created");
    assert_eq!(admin.role, "admin");
    assert!(super::verify_password(first.password, admin.password_hash).await);
    assert!(agents.create_first_admin().await?.is_none());
    assert!(
        !agents
            .ensure_admin("Admin@localhost", "whatever-long".into())
            .await?
    );
    assert!(
        agents
            .ensure_admin("boss@example.com", "whatever-long".into())
            .await?
    );
    Ok(())
}
