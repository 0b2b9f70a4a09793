//! The conversation state machine.
//!
//! ```text
//! queued → assigned ⇄ pending → resolved → (new inbound / reopen) → queued | assigned
//! assigned → transferring → assigned | queued
//! resolved → closed
//! ```
//!
//! Every move is a typed function that returns the next status or an [`IllegalTransition`]
//! naming the status and the move, so the API can answer 409 with a sentence.

use std::fmt;
use std::str::FromStr;

use sea_orm::sea_query::StringLen;
use sea_orm::{DeriveActiveEnum, EnumIter};
use serde::{Deserialize, Serialize};

/// Where a conversation stands, stored in `conversations.status` under its snake_case name.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    EnumIter,
    DeriveActiveEnum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for an agent.
    #[sea_orm(string_value = "queued")]
    Queued,
    /// An agent owns it.
    #[sea_orm(string_value = "assigned")]
    Assigned,
    /// The agent answered and waits for the customer.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Being handed from one agent, team or skill set to another.
    #[sea_orm(string_value = "transferring")]
    Transferring,
    /// Done; a new customer message reopens it.
    #[sea_orm(string_value = "resolved")]
    Resolved,
    /// Archived after the retention window; a new customer message opens a new conversation.
    #[sea_orm(string_value = "closed")]
    Closed,
}

/// A move on the state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Give the conversation to an agent (from the queue, or from another agent).
    Assign,
    /// The agent waits for the customer.
    AwaitCustomer,
    /// The customer wrote again.
    CustomerReplied,
    /// Start a transfer.
    StartTransfer,
    /// Put the conversation back in the queue (agent went offline, transfer to skills/team).
    Requeue,
    /// Mark it done.
    Resolve,
    /// Open it again (new inbound message or an agent's action), going back to the queue.
    Reopen,
    /// Archive it.
    Close,
}

/// A move the state machine does not allow from the current status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from} conversation cannot be {}", .transition.past_tense())]
pub struct IllegalTransition {
    /// The status the conversation was in.
    pub from: Status,
    /// The refused move.
    pub transition: Transition,
}

impl Transition {
    fn past_tense(self) -> &'static str {
        match self {
            Self::Assign => "assigned",
            Self::AwaitCustomer => "set to pending",
            Self::CustomerReplied => "answered by the customer",
            Self::StartTransfer => "transferred",
            Self::Requeue => "queued again",
            Self::Resolve => "resolved",
            Self::Reopen => "reopened",
            Self::Close => "closed",
        }
    }
}

impl Status {
    /// Every status, for filters and docs.
    pub const ALL: [Status; 6] = [
        Self::Queued,
        Self::Assigned,
        Self::Pending,
        Self::Transferring,
        Self::Resolved,
        Self::Closed,
    ];

    /// The status after `t`, or why `t` is not allowed.
    pub fn apply(self, t: Transition) -> Result<Status, IllegalTransition> {
        use Status::*;
        use Transition as T;
        let next = match (self, t) {
            (Queued | Assigned | Pending | Transferring, T::Assign) => Assigned,
            (Assigned, T::AwaitCustomer) => Pending,
            (Pending, T::CustomerReplied) => Assigned,
            (Queued | Assigned | Transferring, T::CustomerReplied) => self,
            (Assigned | Pending, T::StartTransfer) => Transferring,
            (Assigned | Pending | Transferring, T::Requeue) => Queued,
            (Queued | Assigned | Pending | Transferring, T::Resolve) => Resolved,
            (Resolved, T::Reopen) => Queued,
            (Resolved, T::Close) => Closed,
            _ => {
                return Err(IllegalTransition {
                    from: self,
                    transition: t,
                });
            }
        };
        Ok(next)
    }

    /// The statuses in which an agent holds the conversation (it counts against their load).
    pub const HELD: [Status; 3] = [Self::Assigned, Self::Pending, Self::Transferring];

    /// `true` while the conversation is open (not resolved or closed).
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Resolved | Self::Closed)
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Assigned => "assigned",
            Self::Pending => "pending",
            Self::Transferring => "transferring",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown status {s:?}; expected one of queued, assigned, pending, transferring, resolved, closed"))
    }
}

#[cfg(test)]
mod tests {
    use super::Status::*;
    use super::Transition as T;
    use super::*;

    #[test]
    fn allowed_moves() {
        let cases = [
            (Queued, T::Assign, Assigned),
            (Assigned, T::Assign, Assigned),
            (Assigned, T::AwaitCustomer, Pending),
            (Pending, T::CustomerReplied, Assigned),
            (Queued, T::CustomerReplied, Queued),
            (Assigned, T::StartTransfer, Transferring),
            (Transferring, T::Assign, Assigned),
            (Transferring, T::Requeue, Queued),
            (Assigned, T::Requeue, Queued),
            (Pending, T::Resolve, Resolved),
            (Queued, T::Resolve, Resolved),
            (Resolved, T::Reopen, Queued),
            (Resolved, T::Close, Closed),
        ];
        for (from, t, to) in cases {
            assert_eq!(from.apply(t), Ok(to), "{from} --{t:?}-->");
        }
    }

    #[test]
    fn illegal_moves_say_what_was_refused() {
        let cases = [
            (Resolved, T::Resolve),
            (Resolved, T::Assign),
            (Closed, T::Reopen),
            (Queued, T::Reopen),
            (Assigned, T::Close),
            (Queued, T::AwaitCustomer),
            (Queued, T::StartTransfer),
            (Closed, T::CustomerReplied),
        ];
        for (from, t) in cases {
            let err = from.apply(t).expect_err("must be refused");
            assert_eq!(
                err,
                IllegalTransition {
                    from,
                    transition: t
                }
            );
        }
        assert_eq!(
            Resolved.apply(T::Resolve).expect_err("refused").to_string(),
            "a resolved conversation cannot be resolved"
        );
    }

    #[test]
    fn names_round_trip() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
        assert!(
            "open"
                .parse::<Status>()
                .expect_err("refused")
                .contains("unknown status")
        );
    }
}
