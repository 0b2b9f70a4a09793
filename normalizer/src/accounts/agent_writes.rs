//! Creating and changing agents, presence, deactivation and removal: each in one transaction,
//! with the `agent.status_changed` event appended in the same transaction as the change and
//! the relay woken on commit.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, Set};

use super::AccountError;
use super::agent_input::{
    AgentPatch, NewAgent, check_email, check_max, check_name, check_role, check_skills,
};
use super::agents::{Agents, write_skills};
use super::password::{check_password, hash_password};
use crate::entity::agent::{self, AgentStatus};
use crate::error::StoreError;

/// The email and generated password of an admin created on a database without agents.
#[derive(Debug, Clone)]
pub struct GeneratedAdmin {
    /// `admin@localhost`.
    pub email: String,
    /// Random, shown once in the log.
    pub password: String,
}

impl Agents {
    /// Creates an agent with its skills and teams (the API, the CLI and the bootstrap admin).
    /// Without a password the agent cannot sign in until they accept an invite.
    pub async fn create(&self, req: NewAgent) -> Result<agent::Model, AccountError> {
        // Checked first, so a refused team creates nothing.
        if let Some(teams) = &req.team_ids {
            self.check_teams(teams).await.map_err(team_error)?;
        }
        let email = check_email(&req.email)?;
        let name = check_name(&req.name)?;
        if let Some(p) = &req.password {
            check_password(p, "password")?;
        }
        let role = check_role(req.role.as_deref().unwrap_or("agent"))?;
        let max = check_max(req.max_concurrent.unwrap_or(5))?;
        let skills = req.skills.unwrap_or_default();
        check_skills(&skills)?;
        if self.email_taken(&email).await? {
            return Err(AccountError::EmailTaken(email));
        }
        let hash = match req.password {
            Some(p) => hash_password(p).await?,
            None => String::new(),
        };
        let now = Utc::now();
        let tx = self.db.begin_write().await?;
        let row = agent::ActiveModel {
            email: Set(email),
            name: Set(name),
            password_hash: Set(hash),
            role: Set(role.to_owned()),
            max_concurrent: Set(max),
            status: Set(AgentStatus::Offline),
            status_changed_at: Set(now),
            last_assigned_at: Set(None),
            deleted_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            // Set, not left to the column defaults: the inserted row is read back from what was
            // sent, and a column left unset can come back missing ("Missing value for column").
            active: Set(true),
            language: Set("en".into()),
            notifications: Set(None),
            away_after_minutes: Set(0),
            ..Default::default()
        }
        .insert(&*tx)
        .await?;
        write_skills(&*tx, row.id, &skills).await?;
        tx.commit().await?;
        if let Some(teams) = &req.team_ids {
            self.set_teams(row.id, teams).await.map_err(team_error)?;
        }
        Ok(row)
    }

    /// Creates the admin `email` with `password` unless an agent has that email already;
    /// `true` when it was created.
    pub async fn ensure_admin(&self, email: &str, password: String) -> Result<bool, AccountError> {
        if self.email_taken(&email.trim().to_lowercase()).await? {
            return Ok(false);
        }
        self.create(admin(email.to_owned(), password)).await?;
        Ok(true)
    }

    /// On a database without any agent, creates `admin@localhost` with a random password.
    pub async fn create_first_admin(&self) -> Result<Option<GeneratedAdmin>, AccountError> {
        if self.any().await? {
            return Ok(None);
        }
        let password = crate::token::random(16);
        let email = "admin@localhost".to_owned();
        self.create(admin(email.clone(), password.clone())).await?;
        Ok(Some(GeneratedAdmin { email, password }))
    }

    /// Applies the profile, role, capacity, skill and team changes of `patch` (`active` is
    /// [`deactivate`](Self::deactivate) and [`reactivate`](Self::reactivate)). A new password
    /// is hashed here; ending the agent's sessions is the caller's part. Teams are checked
    /// first, so a refused team leaves the agent unchanged.
    pub async fn update_fields(
        &self,
        id: i64,
        patch: &AgentPatch,
    ) -> Result<agent::Model, AccountError> {
        let a = self.find(id).await?;
        let mut am: agent::ActiveModel = a.clone().into();
        if let Some(e) = &patch.email {
            let e = check_email(e)?;
            if e != a.email && self.email_taken(&e).await? {
                return Err(AccountError::EmailTaken(e));
            }
            am.email = Set(e);
        }
        if let Some(n) = &patch.name {
            am.name = Set(check_name(n)?);
        }
        if let Some(p) = &patch.password {
            check_password(p, "password")?;
            am.password_hash = Set(hash_password(p.clone()).await?);
        }
        if let Some(r) = &patch.role {
            am.role = Set(check_role(r)?.to_owned());
        }
        if let Some(m) = patch.max_concurrent {
            am.max_concurrent = Set(check_max(m)?);
        }
        if let Some(s) = &patch.skills {
            check_skills(s)?;
        }
        if let Some(teams) = &patch.team_ids {
            self.set_teams(id, teams).await.map_err(team_error)?;
        }
        am.updated_at = Set(Utc::now());
        let tx = self.db.begin_write().await?;
        let a = am.update(&*tx).await?;
        if let Some(s) = &patch.skills {
            write_skills(&*tx, id, s).await?;
        }
        tx.commit().await?;
        Ok(a)
    }

    /// Sets the presence of agent `id`, appending `agent.status_changed` in the same
    /// transaction. Returns the agent and whether the status changed (setting the current one
    /// again changes nothing and emits nothing).
    pub async fn set_status(
        &self,
        id: i64,
        status: AgentStatus,
    ) -> Result<(agent::Model, bool), StoreError> {
        let a = self.find(id).await?;
        if a.status == status {
            return Ok((a, false));
        }
        let previous = a.status;
        let now = Utc::now();
        let tx = self.db.begin_write().await?;
        let mut am: agent::ActiveModel = a.into();
        am.status = Set(status);
        am.status_changed_at = Set(now);
        am.updated_at = Set(now);
        let a = am.update(&*tx).await?;
        status_event(&tx, a.id, status, previous).await?;
        tx.commit().await?;
        Ok((a, true))
    }

    /// Deactivates agent `id`: no sign-in, and offline (with the usual event when they were
    /// not). Ending their sessions and re-queueing their conversations is the caller's part.
    pub async fn deactivate(&self, id: i64) -> Result<agent::Model, StoreError> {
        let a = self.find(id).await?;
        let previous = a.status;
        let now = Utc::now();
        let tx = self.db.begin_write().await?;
        let mut am: agent::ActiveModel = a.into();
        am.active = Set(false);
        am.status = Set(AgentStatus::Offline);
        am.status_changed_at = Set(now);
        am.updated_at = Set(now);
        let a = am.update(&*tx).await?;
        if previous != AgentStatus::Offline {
            status_event(&tx, a.id, AgentStatus::Offline, previous).await?;
        }
        tx.commit().await?;
        Ok(a)
    }

    /// Reactivates agent `id` (they come back offline).
    pub async fn reactivate(&self, id: i64) -> Result<agent::Model, StoreError> {
        self.update(id, |am| am.active = Set(true)).await
    }

    /// Marks agent `id` deleted and offline. Their messages stay; ending their sessions and
    /// re-queueing their conversations is the caller's part.
    pub async fn delete(&self, id: i64) -> Result<(), StoreError> {
        let now = Utc::now();
        self.update(id, |am| {
            am.deleted_at = Set(Some(now));
            am.status = Set(AgentStatus::Offline);
        })
        .await?;
        Ok(())
    }
}

/// Appends `agent.status_changed` inside the caller's transaction.
async fn status_event(
    tx: &crate::db::WriteTx,
    agent_id: i64,
    status: AgentStatus,
    previous: AgentStatus,
) -> Result<(), StoreError> {
    tx.emit(crate::events::EventData::AgentStatusChanged(
        crate::views::AgentStatusView {
            agent_id,
            status,
            previous,
        },
    ))
    .await
}

/// A team error, about the `team_ids` field.
fn team_error(e: StoreError) -> AccountError {
    match e {
        StoreError::Invalid(detail) => AccountError::invalid("team_ids", detail),
        e => e.into(),
    }
}

fn admin(email: String, password: String) -> NewAgent {
    NewAgent {
        email,
        name: "Admin".into(),
        password: Some(password),
        role: Some("admin".into()),
        max_concurrent: None,
        skills: None,
        team_ids: None,
    }
}
