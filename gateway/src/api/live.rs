//! The live dashboard's snapshot (`GET /api/v1/reports/live`) and the same figures as
//! Prometheus gauges on `/metrics`.
//!
//! The console loads the snapshot once, then follows the agent socket's events (conversations
//! created, assigned, resolved..., agents' status changes) and asks again only when one of
//! them changes the floor, so nothing polls. The gauges are computed from the database when
//! `/metrics` is scraped, so they are exact on every node and an inbox that is gone leaves no
//! stale series behind.

use std::fmt::Write as _;

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use kefu_normalizer::access::Visibility;
use kefu_normalizer::live::{LiveSnapshot, Presence};

use crate::auth::{Authed, Role};
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;

/// The floor right now: each inbox's queue and oldest wait, agents per presence (`busy`: online
/// at capacity), and each agent's open conversations against their capacity. Supervisors and
/// admins; a supervisor sees the inboxes they or their teams belong to and those inboxes'
/// agents.
#[utoipa::path(get, path = "/api/v1/reports/live", tag = "reports",
    responses((status = 200, body = LiveSnapshot), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn live(State(st): State<AppState>, me: Authed) -> ApiResult<Json<LiveSnapshot>> {
    me.require(Role::Supervisor)?;
    let visibility = me.visibility(&st).await?;
    Ok(Json(st.live.snapshot(&visibility, Utc::now()).await?))
}

/// The live figures in Prometheus' text format, to follow the recorder's output on
/// `/metrics`; empty (and a warning logged) when the database does not answer.
pub(crate) async fn prometheus(st: &AppState) -> String {
    match st.live.snapshot(&Visibility::All, Utc::now()).await {
        Ok(s) => exposition(&s),
        Err(e) => {
            tracing::warn!(error = %e, "Live figures for /metrics failed.");
            String::new()
        }
    }
}

/// Renders a snapshot as gauges. Labels stay bounded: inbox ids, agent ids and the four
/// presences, never anything of a contact.
fn exposition(s: &LiveSnapshot) -> String {
    let mut out = String::new();
    let mut family = |name: &str, help: &str, lines: &mut dyn Iterator<Item = String>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for l in lines {
            let _ = writeln!(out, "{name}{l}");
        }
    };
    family(
        "kefu_queue_conversations",
        "Conversations waiting for an agent, per inbox.",
        &mut s
            .queues
            .iter()
            .map(|q| format!("{{inbox_id=\"{}\"}} {}", q.inbox_id, q.queued)),
    );
    family(
        "kefu_queue_oldest_wait_seconds",
        "How long the longest-waiting queued conversation has waited, per inbox (0 when none waits).",
        &mut s.queues.iter().map(|q| {
            format!(
                "{{inbox_id=\"{}\"}} {}",
                q.inbox_id,
                q.oldest_wait_secs.unwrap_or(0.0)
            )
        }),
    );
    family(
        "kefu_agents",
        "Active agents per presence (busy: online with a full capacity).",
        &mut Presence::ALL
            .iter()
            .map(|p| format!("{{presence=\"{}\"}} {}", p.as_str(), s.presence.get(*p))),
    );
    family(
        "kefu_agent_open_conversations",
        "Conversations each agent holds (assigned, pending or being transferred).",
        &mut s
            .agents
            .iter()
            .map(|a| format!("{{agent_id=\"{}\"}} {}", a.agent_id, a.open_conversations)),
    );
    family(
        "kefu_agent_capacity",
        "How many conversations each agent handles at once.",
        &mut s
            .agents
            .iter()
            .map(|a| format!("{{agent_id=\"{}\"}} {}", a.agent_id, a.capacity)),
    );
    out
}

#[cfg(test)]
mod tests {
    use kefu_normalizer::live::{AgentLoad, InboxQueue, PresenceCounts};

    use super::*;

    #[test]
    fn the_exposition_names_every_inbox_presence_and_agent() {
        let s = LiveSnapshot {
            at: Utc::now(),
            queues: vec![
                InboxQueue {
                    inbox_id: 3,
                    name: "Shop \"EU\"".into(),
                    channel: "web_chat".into(),
                    queued: 2,
                    oldest_since: Some(Utc::now()),
                    oldest_wait_secs: Some(12.5),
                },
                InboxQueue {
                    inbox_id: 4,
                    name: "Mail".into(),
                    channel: "email".into(),
                    queued: 0,
                    oldest_since: None,
                    oldest_wait_secs: None,
                },
            ],
            presence: PresenceCounts {
                online: 1,
                busy: 0,
                away: 2,
                offline: 0,
            },
            agents: vec![AgentLoad {
                agent_id: 7,
                name: "Alice".into(),
                presence: Presence::Online,
                open_conversations: 1,
                capacity: 3,
            }],
        };
        let text = exposition(&s);
        for line in [
            "# TYPE kefu_queue_conversations gauge",
            "kefu_queue_conversations{inbox_id=\"3\"} 2",
            "kefu_queue_conversations{inbox_id=\"4\"} 0",
            "kefu_queue_oldest_wait_seconds{inbox_id=\"3\"} 12.5",
            "kefu_queue_oldest_wait_seconds{inbox_id=\"4\"} 0",
            "kefu_agents{presence=\"online\"} 1",
            "kefu_agents{presence=\"busy\"} 0",
            "kefu_agents{presence=\"away\"} 2",
            "kefu_agent_open_conversations{agent_id=\"7\"} 1",
            "kefu_agent_capacity{agent_id=\"7\"} 3",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from\n{text}"
            );
        }
        // Names never become labels.
        assert!(!text.contains("Shop"));
    }
}
