//! What admins send to create and change agents, and its validation: each error names its
//! `field`.

use std::collections::BTreeMap;

use serde::Deserialize;
use utoipa::ToSchema;

use super::AccountError;

/// The roles an agent may have, least to most privileged.
pub const ROLES: [&str; 3] = ["agent", "supervisor", "admin"];

/// A new agent. Without `password` the agent is invited: the response carries a one-time link
/// where they set their own.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgent {
    /// Login email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Password, at least 8 characters; leave it out to send an invite link instead.
    pub password: Option<String>,
    /// `admin`, `supervisor` or `agent` (default).
    pub role: Option<String>,
    /// Concurrent conversations (default 5, 1–100).
    pub max_concurrent: Option<i32>,
    /// Skills and levels (1–10).
    pub skills: Option<BTreeMap<String, u8>>,
    /// Teams the agent joins.
    pub team_ids: Option<Vec<i64>>,
}

/// Changes to an agent; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentPatch {
    /// Login email.
    pub email: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// New password, set by an admin for another agent; ends all the agent's sessions.
    pub password: Option<String>,
    /// Role (admins only).
    pub role: Option<String>,
    /// Concurrent conversations (supervisors and admins).
    pub max_concurrent: Option<i32>,
    /// Replaces all skills (supervisors and admins).
    pub skills: Option<BTreeMap<String, u8>>,
    /// Replaces the agent's teams (admins).
    pub team_ids: Option<Vec<i64>>,
    /// `false` deactivates (admins): sessions and tokens stop working, the agent cannot sign
    /// in, their open conversations go back to the queue. `true` reactivates.
    pub active: Option<bool>,
}

/// The email in lower case, or `Invalid` about `email`.
pub fn check_email(email: &str) -> Result<String, AccountError> {
    let e = email.trim().to_lowercase();
    let valid = e.len() <= 254
        && e.split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && (d.contains('.') || d == "localhost"));
    if valid {
        Ok(e)
    } else {
        Err(AccountError::invalid(
            "email",
            format!("email {email:?} is not a valid address"),
        ))
    }
}

/// The trimmed name, or `Invalid` about `name` unless it has 1 to 100 characters.
pub fn check_name(name: &str) -> Result<String, AccountError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 100 {
        return Err(AccountError::invalid(
            "name",
            "name must be 1 to 100 characters",
        ));
    }
    Ok(n.to_owned())
}

/// The role name, or `Invalid` about `role` unless it is one of [`ROLES`].
pub fn check_role(r: &str) -> Result<&'static str, AccountError> {
    ROLES.into_iter().find(|known| *known == r).ok_or_else(|| {
        AccountError::invalid(
            "role",
            format!("role {r:?} is unknown; use admin, supervisor or agent"),
        )
    })
}

/// The capacity, or `Invalid` about `max_concurrent` outside 1–100.
pub fn check_max(m: i32) -> Result<i32, AccountError> {
    if (1..=100).contains(&m) {
        Ok(m)
    } else {
        Err(AccountError::invalid(
            "max_concurrent",
            "max_concurrent must be between 1 and 100",
        ))
    }
}

/// Validates a skill map: names `[a-z0-9_-]{1,64}`, levels 1–10.
pub fn check_skills(skills: &BTreeMap<String, u8>) -> Result<(), AccountError> {
    for (name, level) in skills {
        let ok_name = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !ok_name {
            return Err(AccountError::invalid(
                "skills",
                format!("skill {name:?} must be 1 to 64 characters of a-z, 0-9, _ and -"),
            ));
        }
        if !(1..=10).contains(level) {
            return Err(AccountError::invalid(
                format!("skills.{name}"),
                format!("skill {name:?} has level {level}; levels are 1 to 10"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(e: AccountError) -> Option<String> {
        match e {
            AccountError::Invalid { field, .. } => field,
            _ => None,
        }
    }

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(
            check_email(" Ann@Example.COM ").ok(),
            Some("ann@example.com".into())
        );
        assert_eq!(
            check_email("admin@localhost").ok(),
            Some("admin@localhost".into())
        );
        for bad in ["", "ann", "@example.com", "ann@example"] {
            assert_eq!(
                field(check_email(bad).expect_err("refused")).as_deref(),
                Some("email"),
                "{bad}"
            );
        }
    }

    #[test]
    fn skills_errors_name_the_skill() {
        let ok = BTreeMap::from([("billing".to_owned(), 3u8), ("zh-cn_2".to_owned(), 10)]);
        assert!(check_skills(&ok).is_ok());
        let bad_name = BTreeMap::from([("Billing".to_owned(), 3u8)]);
        assert_eq!(
            field(check_skills(&bad_name).expect_err("refused")).as_deref(),
            Some("skills")
        );
        let bad_level = BTreeMap::from([("billing".to_owned(), 11u8)]);
        assert_eq!(
            field(check_skills(&bad_level).expect_err("refused")).as_deref(),
            Some("skills.billing")
        );
    }

    #[test]
    fn roles_and_capacity_are_bounded() {
        assert_eq!(check_role("supervisor").ok(), Some("supervisor"));
        assert!(check_role("owner").is_err());
        assert!(check_max(0).is_err());
        assert_eq!(check_max(100).ok(), Some(100));
    }
}
