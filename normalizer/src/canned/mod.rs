//! [`CannedResponses`]: saved replies agents insert from the composer by typing `/shortcut`.
//!
//! Each response has one scope, which decides who sees it in their picker and who manages it:
//!
//! | scope      | sees it                                   | manages it                              |
//! |------------|-------------------------------------------|-----------------------------------------|
//! | `global`   | everyone                                  | admins                                  |
//! | `team`     | the team's members, and admins            | the team's supervisors, and admins      |
//! | `personal` | its owner                                 | its owner                               |
//!
//! A response someone may not see answers `NotFound`, as if it did not exist; one they see but
//! may not manage answers `Forbidden`. The content's placeholders ([`template`]) are checked
//! when it is saved and filled for one conversation by [`CannedResponses::render`].

pub mod files;
mod input;
pub mod template;

use std::collections::BTreeSet;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::access::Role;
use crate::db::Db;
use crate::entity::canned_response::{self, CannedScope};
use crate::entity::{team, team_member};
use crate::error::StoreError;
use crate::views::CannedResponseView;

pub use files::{CannedFile, MAX_FILES};
pub use input::{CannedPatch, NewCanned, check_content, check_shortcut};
pub use template::{TemplateError, VARIABLES, Values};

/// The longest shortcut, in characters.
pub const MAX_SHORTCUT_CHARS: usize = 50;

/// The longest content, in characters.
pub const MAX_CONTENT_CHARS: usize = 10_000;

/// Why a canned response operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CannedError {
    /// A value is unacceptable; `field` is the request field it is about (422).
    #[error("{detail}")]
    Invalid {
        /// The request field.
        field: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// The content uses a variable there is no value for (422, about `content`).
    #[error("{0}")]
    Template(#[from] TemplateError),
    /// The caller sees the response (or the scope) but may not change it (403).
    #[error("{0}")]
    Forbidden(String),
    /// Another response of the same scope has this shortcut (409, about `shortcut`).
    #[error("a canned response with the shortcut /{0} exists in this scope")]
    ShortcutTaken(String),
    /// Not found, or not the caller's to see; or the database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for CannedError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Store(e.into())
    }
}

/// Who is asking: what they see and manage follows from their role and teams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    /// The agent.
    pub agent_id: i64,
    /// Their role.
    pub role: Role,
    /// The teams they belong to.
    pub team_ids: BTreeSet<i64>,
}

impl Viewer {
    fn sees(&self, r: &canned_response::Model) -> bool {
        match r.scope {
            CannedScope::Global => true,
            CannedScope::Team => {
                self.role == Role::Admin || r.team_id.is_some_and(|t| self.team_ids.contains(&t))
            }
            CannedScope::Personal => r.owner_id == Some(self.agent_id),
        }
    }

    /// `Ok` when the viewer may create, change or delete responses of `scope`.
    fn may_manage(&self, scope: &Scope) -> Result<(), CannedError> {
        let ok = match scope {
            Scope::Global => self.role == Role::Admin,
            Scope::Team(t) => {
                self.role == Role::Admin
                    || (self.role == Role::Supervisor && self.team_ids.contains(t))
            }
            Scope::Personal(owner) => *owner == self.agent_id,
        };
        if ok {
            return Ok(());
        }
        Err(CannedError::Forbidden(match scope {
            Scope::Global => "only admins manage global canned responses".into(),
            Scope::Team(t) => {
                format!("only admins and the supervisors of team {t} manage its canned responses")
            }
            Scope::Personal(_) => "personal canned responses are managed by their owner".into(),
        }))
    }
}

/// A scope with its team or owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Global,
    Team(i64),
    Personal(i64),
}

impl Scope {
    fn of(r: &canned_response::Model) -> Self {
        match r.scope {
            CannedScope::Global => Self::Global,
            CannedScope::Team => Self::Team(r.team_id.unwrap_or_default()),
            CannedScope::Personal => Self::Personal(r.owner_id.unwrap_or_default()),
        }
    }

    fn kind(self) -> CannedScope {
        match self {
            Self::Global => CannedScope::Global,
            Self::Team(_) => CannedScope::Team,
            Self::Personal(_) => CannedScope::Personal,
        }
    }

    fn key(self) -> String {
        match self {
            Self::Global => "global".into(),
            Self::Team(t) => format!("team:{t}"),
            Self::Personal(a) => format!("agent:{a}"),
        }
    }

    fn team_id(self) -> Option<i64> {
        match self {
            Self::Team(t) => Some(t),
            _ => None,
        }
    }

    fn owner_id(self) -> Option<i64> {
        match self {
            Self::Personal(a) => Some(a),
            _ => None,
        }
    }
}

/// The canned response store.
#[derive(Debug, Clone)]
pub struct CannedResponses {
    db: Db,
}

impl CannedResponses {
    /// A store over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The viewer for agent `agent_id` with `role`: their teams, in one query.
    pub async fn viewer(&self, agent_id: i64, role: Role) -> Result<Viewer, CannedError> {
        let team_ids = team_member::Entity::find()
            .filter(team_member::Column::AgentId.eq(agent_id))
            .all(self.db.conn())
            .await?
            .into_iter()
            .map(|m| m.team_id)
            .collect();
        Ok(Viewer {
            agent_id,
            role,
            team_ids,
        })
    }

    /// The responses `viewer` sees, by shortcut (then global, team, personal), narrowed to those
    /// whose shortcut or content contains `q` (ignoring case) when given.
    pub async fn list(
        &self,
        viewer: &Viewer,
        q: Option<&str>,
    ) -> Result<Vec<CannedResponseView>, CannedError> {
        let mut cond = sea_orm::Condition::any()
            .add(canned_response::Column::Scope.eq(CannedScope::Global))
            .add(canned_response::Column::OwnerId.eq(viewer.agent_id));
        cond = if viewer.role == Role::Admin {
            cond.add(canned_response::Column::Scope.eq(CannedScope::Team))
        } else {
            cond.add(canned_response::Column::TeamId.is_in(viewer.team_ids.iter().copied()))
        };
        let rows = canned_response::Entity::find()
            .filter(cond)
            .order_by_asc(canned_response::Column::Shortcut)
            .order_by_asc(canned_response::Column::Id)
            .all(self.db.conn())
            .await?;
        let q = q
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(|q| q.strip_prefix('/').unwrap_or(q).to_lowercase());
        let shown: Vec<_> = rows
            .iter()
            .filter(|r| viewer.sees(r))
            .filter(|r| {
                q.as_ref().is_none_or(|q| {
                    r.shortcut.contains(q.as_str()) || r.content.to_lowercase().contains(q.as_str())
                })
            })
            .collect();
        let ids: Vec<i64> = shown.iter().map(|r| r.id).collect();
        let mut files = self.files_of(&ids).await?;
        Ok(shown
            .into_iter()
            .map(|r| view(viewer, r, files.remove(&r.id).unwrap_or_default()))
            .collect())
    }

    /// One response `viewer` sees.
    pub async fn get(&self, viewer: &Viewer, id: i64) -> Result<CannedResponseView, CannedError> {
        let row = self.row(viewer, id).await?;
        self.view_one(viewer, &row).await
    }

    async fn view_one(
        &self,
        viewer: &Viewer,
        row: &canned_response::Model,
    ) -> Result<CannedResponseView, CannedError> {
        let files = self.files_of(&[row.id]).await?.remove(&row.id);
        Ok(view(viewer, row, files.unwrap_or_default()))
    }

    async fn row(&self, viewer: &Viewer, id: i64) -> Result<canned_response::Model, CannedError> {
        canned_response::Entity::find_by_id(id)
            .one(self.db.conn())
            .await?
            .filter(|r| viewer.sees(r))
            .ok_or(CannedError::Store(StoreError::NotFound("canned response")))
    }

    /// The scope `kind` (with `team_id`) stands for when `viewer` saves a response in it;
    /// `Invalid` when `team_id` is missing for a team or given for another scope, or names no
    /// team.
    async fn scope(
        &self,
        viewer: &Viewer,
        kind: CannedScope,
        team_id: Option<i64>,
    ) -> Result<Scope, CannedError> {
        let team_field = |detail: &str| CannedError::Invalid {
            field: "team_id",
            detail: detail.into(),
        };
        match (kind, team_id) {
            (CannedScope::Team, None) => Err(team_field("a team canned response needs a team_id")),
            (CannedScope::Team, Some(t)) => {
                if team::Entity::find_by_id(t)
                    .one(self.db.conn())
                    .await?
                    .is_none()
                {
                    return Err(CannedError::Invalid {
                        field: "team_id",
                        detail: format!("there is no team {t}"),
                    });
                }
                Ok(Scope::Team(t))
            }
            (_, Some(_)) => Err(team_field(
                "team_id is only for canned responses of the team scope",
            )),
            (CannedScope::Global, None) => Ok(Scope::Global),
            (CannedScope::Personal, None) => Ok(Scope::Personal(viewer.agent_id)),
        }
    }

    async fn shortcut_taken(
        &self,
        scope: Scope,
        shortcut: &str,
        except: Option<i64>,
    ) -> Result<bool, CannedError> {
        let mut q = canned_response::Entity::find()
            .filter(canned_response::Column::ScopeKey.eq(scope.key()))
            .filter(canned_response::Column::Shortcut.eq(shortcut));
        if let Some(id) = except {
            q = q.filter(canned_response::Column::Id.ne(id));
        }
        Ok(q.one(self.db.conn()).await?.is_some())
    }

    /// Creates a response in a scope `viewer` manages.
    pub async fn create(
        &self,
        viewer: &Viewer,
        new: NewCanned,
    ) -> Result<CannedResponseView, CannedError> {
        let shortcut = check_shortcut(&new.shortcut)?;
        let content = check_content(&new.content)?;
        let scope = self.scope(viewer, new.scope, new.team_id).await?;
        viewer.may_manage(&scope)?;
        if self.shortcut_taken(scope, &shortcut, None).await? {
            return Err(CannedError::ShortcutTaken(shortcut));
        }
        let files = self.check_files(viewer, &new.attachment_ids, None).await?;
        let now = Utc::now();
        let tx = self.db.begin_write().await.map_err(StoreError::from)?;
        let row = canned_response::ActiveModel {
            scope: Set(scope.kind()),
            team_id: Set(scope.team_id()),
            owner_id: Set(scope.owner_id()),
            scope_key: Set(scope.key()),
            shortcut: Set(shortcut.clone()),
            content: Set(content),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&*tx)
        .await
        .map_err(|e| taken_or(e, &shortcut))?;
        Self::set_files(&*tx, row.id, &files).await?;
        tx.commit().await.map_err(StoreError::from)?;
        self.view_one(viewer, &row).await
    }

    /// Changes a response `viewer` manages; moving it to another scope needs the right to
    /// manage that one too.
    pub async fn update(
        &self,
        viewer: &Viewer,
        id: i64,
        patch: CannedPatch,
    ) -> Result<CannedResponseView, CannedError> {
        let row = self.row(viewer, id).await?;
        let old = Scope::of(&row);
        viewer.may_manage(&old)?;
        let shortcut = patch
            .shortcut
            .as_deref()
            .map(check_shortcut)
            .transpose()?
            .unwrap_or_else(|| row.shortcut.clone());
        let content = patch.content.as_deref().map(check_content).transpose()?;
        let scope = match (patch.scope, patch.team_id) {
            (None, None) => old,
            (Some(kind), team_id) => self.scope(viewer, kind, team_id).await?,
            (None, Some(team_id)) => self.scope(viewer, row.scope, Some(team_id)).await?,
        };
        if scope != old {
            viewer.may_manage(&scope)?;
        }
        if self.shortcut_taken(scope, &shortcut, Some(id)).await? {
            return Err(CannedError::ShortcutTaken(shortcut));
        }
        let files = match &patch.attachment_ids {
            Some(ids) => Some(self.check_files(viewer, ids, Some(id)).await?),
            None => None,
        };
        let mut am: canned_response::ActiveModel = row.into();
        am.scope = Set(scope.kind());
        am.team_id = Set(scope.team_id());
        am.owner_id = Set(scope.owner_id());
        am.scope_key = Set(scope.key());
        am.shortcut = Set(shortcut.clone());
        if let Some(c) = content {
            am.content = Set(c);
        }
        am.updated_at = Set(Utc::now());
        let tx = self.db.begin_write().await.map_err(StoreError::from)?;
        let row = am.update(&*tx).await.map_err(|e| taken_or(e, &shortcut))?;
        if let Some(files) = files {
            Self::set_files(&*tx, id, &files).await?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        self.view_one(viewer, &row).await
    }

    /// Deletes a response `viewer` manages.
    pub async fn delete(&self, viewer: &Viewer, id: i64) -> Result<(), CannedError> {
        let row = self.row(viewer, id).await?;
        viewer.may_manage(&Scope::of(&row))?;
        canned_response::Entity::delete_by_id(id)
            .exec(self.db.conn())
            .await?;
        Ok(())
    }

    /// The text of response `id` (which `viewer` sees) with its placeholders filled from
    /// `values`.
    pub async fn render(
        &self,
        viewer: &Viewer,
        id: i64,
        values: &Values,
    ) -> Result<String, CannedError> {
        let row = self.row(viewer, id).await?;
        Ok(template::render(&row.content, values))
    }
}

fn view(viewer: &Viewer, r: &canned_response::Model, files: Vec<CannedFile>) -> CannedResponseView {
    CannedResponseView {
        attachments: files,
        id: r.id,
        shortcut: r.shortcut.clone(),
        content: r.content.clone(),
        scope: r.scope,
        team_id: r.team_id,
        owner_id: r.owner_id,
        editable: viewer.may_manage(&Scope::of(r)).is_ok(),
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// A unique-index refusal is a shortcut another writer took first.
fn taken_or(e: sea_orm::DbErr, shortcut: &str) -> CannedError {
    let e = StoreError::from(e);
    if e.is_unique_violation() {
        CannedError::ShortcutTaken(shortcut.to_owned())
    } else {
        e.into()
    }
}
