//! [`MessageScreen`]: the sensitive-word and personal-data rules, and sentiment, at work.
//!
//! - Customer messages (through [`InboundScreen`], before ingest stores them): `mask` matches
//!   are replaced in the text and HTML; every match of any rule is recorded in the message's
//!   `content.extra.sensitive` as `[{rule_id, rule, term, action, team_id?}]` (the term is the
//!   listed word or the detector's name, never the personal data); a `route` match hands the
//!   conversation to the rule's team once the message is committed.
//! - Their sentiment ([`kefu_ai::sentiment`]) is kept on the message (`content.extra.sentiment`
//!   as `{score, terms}`, when a term counted) and, once stored, on the conversation.
//! - Agents' replies ([`MessageScreen::blocked`]): a `block` match refuses the reply.
//!
//! The compiled rules are cached: an edit through this node's API applies at once, other
//! nodes pick it up within [`REFRESH`].

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use kefu_ai::sensitive::{Action, Detector, Finding, Pattern, RuleSpec, Screen};
use kefu_channel::{Accepted, InboundEnvelope};
use kefu_dispatcher::assign::Dispatcher;
use kefu_normalizer::Db;
use kefu_normalizer::screen::{InboundScreen, Screened, TeamHandoff};
use kefu_normalizer::sensitive::{DetectorKind, RuleAction, SensitiveRuleView, SensitiveRules};
use serde_json::{Value, json};

/// How long compiled rules are used before they are read again.
pub const REFRESH: Duration = Duration::from_secs(30);

/// The compiled rules and when they were read.
type Cached = Option<(Instant, Arc<Screen>)>;

/// The rules, compiled and cached; cheap to clone.
#[derive(Clone)]
pub struct MessageScreen {
    rules: SensitiveRules,
    dispatcher: Dispatcher,
    cache: Arc<RwLock<Cached>>,
}

impl MessageScreen {
    /// The screen over the rules in `db`; `route` rules hand conversations on through
    /// `dispatcher`.
    pub fn new(db: Db, dispatcher: Dispatcher) -> Self {
        Self {
            rules: SensitiveRules::new(db),
            dispatcher,
            cache: Arc::new(RwLock::new(None)),
        }
    }

    /// The rules' store (the API edits through it, then calls [`Self::invalidate`]).
    pub fn rules(&self) -> &SensitiveRules {
        &self.rules
    }

    /// Forgets the compiled rules, so the next message uses the stored ones.
    pub fn invalidate(&self) {
        if let Ok(mut c) = self.cache.write() {
            *c = None;
        }
    }

    /// The compiled rules; read from the database when older than [`REFRESH`]. Should that
    /// fail, the previous rules (or only the built-in masks) apply, and the failure is logged.
    pub async fn screen(&self) -> Arc<Screen> {
        let cached = self.cache.read().ok().and_then(|c| c.clone());
        if let Some((at, screen)) = &cached
            && at.elapsed() < REFRESH
        {
            return screen.clone();
        }
        let screen = match self.rules.list().await {
            Ok(rules) => Arc::new(compile(&rules)),
            Err(e) => {
                tracing::warn!(error = %e, "Cannot read the sensitive-word rules; using the previous ones.");
                return cached
                    .map(|(_, s)| s)
                    .unwrap_or_else(|| Arc::new(compile(&[])));
            }
        };
        if let Ok(mut c) = self.cache.write() {
            *c = Some((Instant::now(), screen.clone()));
        }
        screen
    }

    /// The first `block` match in an agent's reply, if any.
    pub async fn blocked(&self, text: &str) -> Option<Finding> {
        self.screen()
            .await
            .scan(text)
            .into_iter()
            .find(|f| f.action == Action::Block)
    }
}

/// Compiles the stored rules (enabled ones) into a screen.
pub fn compile(rules: &[SensitiveRuleView]) -> Screen {
    let detector = |d: DetectorKind| match d {
        DetectorKind::CnId => Detector::CnId,
        DetectorKind::BankCard => Detector::BankCard,
        DetectorKind::Mobile => Detector::Mobile,
        DetectorKind::Email => Detector::Email,
    };
    let named: Vec<Detector> = rules
        .iter()
        .filter_map(|r| r.detector.map(detector))
        .collect();
    let specs = rules
        .iter()
        .filter(|r| r.enabled)
        .filter_map(|r| {
            let action = match (r.action, r.team_id) {
                (RuleAction::Mask, _) => Action::Mask,
                (RuleAction::Block, _) => Action::Block,
                (RuleAction::Flag, _) => Action::Flag,
                (RuleAction::Route, Some(team_id)) => Action::Route { team_id },
                (RuleAction::Route, None) => return None,
            };
            let pattern = match r.detector {
                Some(d) => Pattern::Detector(detector(d)),
                None => Pattern::Words(r.words.clone()),
            };
            Some(RuleSpec {
                id: Some(r.id),
                name: r.name.clone(),
                pattern,
                action,
            })
        })
        .collect();
    Screen::new(specs, &named)
}

#[async_trait]
impl InboundScreen for MessageScreen {
    async fn before_store(&self, envelope: &mut InboundEnvelope) -> Screened {
        let content = &mut envelope.content;
        let mut notes = serde_json::Map::new();
        let sentiment = (!content.text.trim().is_empty()).then(|| {
            let s = kefu_ai::sentiment::analyze(&content.text);
            if !s.terms.is_empty() {
                notes.insert("sentiment".into(), json!(s));
            }
            s.score
        });
        let screen = self.screen().await;
        let in_text = screen.scan(&content.text);
        let in_html = content.html.as_deref().map(|h| screen.scan(h));
        content.text = Screen::mask(&content.text, &in_text);
        if let (Some(html), Some(found)) = (content.html.as_mut(), &in_html) {
            *html = Screen::mask(html, found);
        }
        let mut found = in_text;
        for f in in_html.into_iter().flatten() {
            if !found
                .iter()
                .any(|g| g.rule_id == f.rule_id && g.term == f.term)
            {
                found.push(f);
            }
        }
        let handoff = found.iter().find_map(|f| match f.action {
            Action::Route { team_id } => Some(TeamHandoff {
                team_id,
                rule: f.rule.clone(),
                term: f.term.clone(),
            }),
            _ => None,
        });
        if !found.is_empty() {
            notes.insert("sensitive".into(), json!(found));
        }
        if !notes.is_empty() {
            match &mut content.extra {
                Value::Object(extra) => extra.extend(notes),
                other => *other = Value::Object(notes),
            }
        }
        Screened { handoff, sentiment }
    }

    async fn after_store(&self, accepted: &Accepted, screened: Screened) {
        if accepted.duplicate {
            return;
        }
        let conversation = accepted.conversation_id;
        let Some(TeamHandoff {
            team_id,
            rule,
            term,
        }) = screened.handoff
        else {
            return;
        };
        if let Err(e) = self
            .dispatcher
            .hand_to_team(conversation, team_id, &rule, &term)
            .await
        {
            tracing::warn!(conversation, team = team_id, error = %e, "Cannot hand the conversation to the team of a sensitive-word rule.");
        }
    }
}
