//! Building and running the whole server: `App::build(config)` then `run_until_stopped`.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kefu_channel::{BuildContext, ChannelFactory, ConversationHistory, IngressContext};
use kefu_normalizer::{Conversations, Db, DbChannelState, Limits, Normalizer, OutboxRelay};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use kefu_dispatcher::outbound::fanout::Fanout;
use kefu_dispatcher::outbound::jobs::JobStore;
use kefu_dispatcher::outbound::send::{RunningChannels, Sender};
use kefu_dispatcher::outbound::webhook::{WebhookDeliverer, WebhookStore};
use kefu_normalizer::Deliveries;
use kefu_normalizer::leases::Leases;
use kefu_normalizer::summaries::SharedSummarizer;

use crate::channels::{ChannelRegistry, Inboxes, Runner};
use crate::config::Config;
use crate::crypto::Keys;
use crate::error::ApiError;
use crate::llm::summaries::Consumers;
use crate::state::AppState;

/// Kefu could not start; the message says why.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartError(pub String);

/// A built server, bound to its port, ready to run.
pub struct App {
    state: AppState,
    router: Router,
    listener: TcpListener,
    relay: OutboxRelay,
    indexer: kefu_normalizer::search::Indexer,
    outbound: Outbound,
    /// On SQLite: this process's hold on the database, released when the server stops.
    lock: Option<crate::data_lock::DataLock>,
    /// The lease keeper and what stops it.
    keeper: (tokio::task::JoinHandle<()>, CancellationToken),
}

/// The outbound side: the job workers (the outbox fan-out into jobs runs in the relay).
struct Outbound {
    sender: Arc<Sender>,
    deliverer: Arc<WebhookDeliverer>,
}

/// The first admin created on an empty database when no bootstrap admin was configured.
pub use kefu_normalizer::accounts::GeneratedAdmin;

fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .install_recorder()
                .unwrap_or_else(|_| {
                    // Another recorder is installed (an embedding program's): render an empty one.
                    PrometheusBuilder::new().build_recorder().handle()
                })
        })
        .clone()
}

impl App {
    /// Connects the database, applies migrations, creates the bootstrap admin, wires channels
    /// (the built-in ones plus `extra`) and binds the listener.
    pub async fn build(
        config: Config,
        extra: Vec<Arc<dyn ChannelFactory>>,
    ) -> Result<(Self, Option<GeneratedAdmin>), StartError> {
        let lock = crate::data_lock::acquire(&config.database_url).map_err(StartError)?;
        // Migrations run on a connection of their own, closed before the pool opens: a pooled
        // SQLite connection that had read the schema before a migration's ALTER TABLE could go
        // on seeing the old columns ("no such column: agents.active" at the first insert).
        let migrator = Db::connect(&config.database_url, 1)
            .await
            .map_err(|e| StartError(e.to_string()))?;
        migrator
            .migrate()
            .await
            .map_err(|e| StartError(e.to_string()))?;
        // The first start after the reports' rollups were added sums them from the metric
        // events already recorded. Two nodes starting at once both try; one fails on the
        // rows the other wrote, which is why a failure is logged and the start goes on.
        match kefu_normalizer::reports::rollup::rebuild_if_missing(&migrator).await {
            Ok(Some(rows)) => tracing::info!(rows, "Report rollups rebuilt."),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "Rebuilding the report rollups failed."),
        }
        migrator.close().await;
        let db = Db::connect(&config.database_url, config.database_max_connections)
            .await
            .map_err(|e| StartError(e.to_string()))?;
        for advice in db.advice().await {
            tracing::warn!("{advice}");
        }
        let keys =
            Keys::load_or_generate(config.secret_key.as_ref(), &config.data_dir).map_err(|e| {
                StartError(format!(
                    "cannot read or create the secret key in {}: {e}",
                    config.data_dir.display()
                ))
            })?;
        let accounts = crate::auth::Accounts::new(&db, &config);
        let generated = crate::first_start::bootstrap_admin(&accounts.agents, &config)
            .await
            .map_err(|e| StartError(format!("bootstrap admin: {}", ApiError::from(e).detail)))?;

        let shutdown = CancellationToken::new();
        let (bus, counters) = crate::bus::event_bus(&config, &shutdown).await?;
        // Started now: channels wait for their leases from the moment they are built. It stops
        // (and releases the leases) only after everything holding one has stopped.
        let leases = Leases::new(&db, &node_name());
        let keeper_stop = CancellationToken::new();
        let keeper = tokio::spawn(leases.clone().run(keeper_stop.clone()));
        let limits = Limits {
            max_text_bytes: config.max_text_bytes,
        };
        // Summaries on resolve and transfer: offline TextRank (kefu-ai).
        let summarizer: SharedSummarizer = Arc::new(kefu_ai::summary::Extractive);
        // Intents: detected in first messages when the dispatcher routes them.
        let intents = kefu_ai::IntentDetector::new(db.clone())
            .map_err(|e| StartError(format!("cannot create the intent index: {e}")))?;
        let dispatcher =
            kefu_dispatcher::assign::Dispatcher::new(db.clone(), config.routing.clone())
                .with_summarizer(summarizer.clone())
                .with_intents(intents.clone());
        let screen = crate::screen::MessageScreen::new(db.clone(), dispatcher.clone());
        let normalizer = Normalizer::new(db.clone(), limits).with_screen(Arc::new(screen.clone()));
        let conversations = Conversations::new(db.clone(), limits).with_summarizer(summarizer);
        let channel_state = Arc::new(DbChannelState::new(db.clone()));
        let inboxes = Inboxes::new(
            db.clone(),
            Arc::new(crate::delivery::KeySealer(keys.clone())),
            config.public_url(),
        );

        // Created before the channels: the app channel asks it whether a user is connected.
        let hub = crate::ws::Hub::new(
            bus.clone(),
            kefu_normalizer::accounts::Agents::new(db.clone()),
        );
        let factories = crate::builtin_channels(&config, hub.clone())?
            .into_iter()
            .chain(extra)
            .collect();
        let mut registry = ChannelRegistry::new(factories);
        let history: Arc<dyn ConversationHistory> =
            Arc::new(kefu_normalizer::DbHistory::new(db.clone()));
        let ingress = registry.mount_ingress(|kind| IngressContext {
            inbound: Arc::new(normalizer.clone()),
            inboxes: inboxes.lookup_for(kind),
            state: channel_state.clone(),
            history: Some(history.clone()),
            shutdown: shutdown.clone(),
        });
        let registry = Arc::new(registry);
        let runner = Arc::new(Runner::new(
            registry.factory_map(),
            leases.clone(),
            Arc::new(normalizer.clone()),
            BuildContext::new(channel_state).with_history(history.clone()),
            shutdown.clone(),
        ));
        for inbox in inboxes
            .all()
            .await
            .map_err(|e| StartError(format!("cannot load inboxes: {e}")))?
        {
            runner.start(&inbox);
        }

        let keys_for_sessions = keys.derive("kefu/v1/webchat-sessions");
        let inbox_store = kefu_normalizer::Inboxes::new(db.clone());
        crate::first_start::default_web_chat_inbox(&inbox_store, &inboxes, &runner).await?;

        let jobs = JobStore::setup(&db)
            .await
            .map_err(|e| StartError(e.to_string()))?;
        let deliveries = Deliveries::new(db.clone());
        let webhooks = WebhookStore::new(
            db.clone(),
            Arc::new(crate::delivery::KeySealer(keys.clone())),
            jobs.clone(),
            config.webhooks.allow_private_targets,
        );
        let surveys = kefu_normalizer::csat::Surveys::new(db.clone(), config.public_url());
        let knowledge_index =
            kefu_ai::KnowledgeIndex::load(&kefu_normalizer::knowledge::Knowledge::new(db.clone()))
                .await
                .map_err(|e| StartError(format!("cannot build the knowledge index: {e}")))?;
        let bot = kefu_ai::FaqBot::new(db.clone(), knowledge_index);
        let mut fanout = Fanout::new(db.clone(), jobs.clone());
        // On one node every endpoint change goes through this node's store, so the fan-out
        // keeps the subscriptions between batches. Several nodes read them for every batch: an
        // endpoint made on another node must get the very next event.
        if config.redis_url.is_none() {
            fanout = fanout.with_webhooks(webhooks.clone());
        }
        let fanout = Arc::new(
            fanout
                .with_csat(surveys.clone(), runner.clone())
                .with_bot(bot.clone()),
        );
        let outbound = Outbound {
            sender: Arc::new(Sender::new(
                deliveries.clone(),
                RunningChannels::new(db.clone(), runner.clone()),
                jobs.clone(),
                crate::delivery::send_policy(&config),
            )),
            deliverer: Arc::new(
                WebhookDeliverer::new(
                    db.clone(),
                    webhooks.clone(),
                    jobs.clone(),
                    crate::delivery::webhook_settings(&config),
                )
                .map_err(StartError)?,
            ),
        };
        let (search, indexer) =
            kefu_normalizer::search::Search::open(db.clone(), &config.search_location())
                .map_err(|e| StartError(format!("cannot open the search index: {e}")))?;
        let llm = crate::llm::Assist::from_config(&config, &db)?;
        if let Some(model) = llm.as_ref().filter(|_| config.ai.llm.intents) {
            intents.set_model(Arc::new(model.clone()));
        }
        let state = AppState {
            search,
            llm,
            accounts,
            config: Arc::new(config),
            db: db.clone(),
            keys,
            normalizer,
            conversations,
            bus: bus.clone(),
            inbox_store,
            inboxes,
            history,
            workers: kefu_dispatcher::outbound::health::WorkerHealth::new(),
            registry,
            runner,
            metrics: prometheus(),
            hub,
            widget_abuse: Arc::new(match counters {
                Some(counters) => kefu_channel_webchat::AbuseGuard::with_shared(counters),
                None => kefu_channel_webchat::AbuseGuard::default(),
            }),
            session_key: kefu_channel_webchat::session::SessionKey::new(keys_for_sessions),
            deliveries,
            files: kefu_normalizer::Files::new(db.clone()),
            activities: kefu_normalizer::Activities::new(db.clone()),
            notifications: kefu_normalizer::Notifications::new(db.clone()),
            labels: kefu_normalizer::Labels::new(db.clone()),
            canned: kefu_normalizer::CannedResponses::new(db.clone()),
            schedules: kefu_normalizer::schedules::Schedules::new(db.clone()),
            csat: surveys,
            reports: kefu_normalizer::reports::Reports::new(db.clone()),
            live: kefu_normalizer::live::Live::new(db.clone()),
            bot,
            intents,
            contacts: kefu_normalizer::Contacts::new(db.clone()),
            attributes: kefu_normalizer::CustomAttributes::new(db.clone()),
            jobs,
            webhooks,
            shutdown,
            dispatcher,
            screen,
            leases,
            contact_notify: kefu_normalizer::ContactNotifier::new(db.clone(), limits),
        };
        let router = router(state.clone(), ingress);
        let listener = TcpListener::bind(state.config.listen)
            .await
            .map_err(|e| StartError(format!("cannot listen on {}: {e}", state.config.listen)))?;
        let relay = OutboxRelay::new(db, bus)
            .consumer(Consumers::new(fanout, &state))
            .prune_under(state.leases.hold("outbox.prune"));
        Ok((
            Self {
                state,
                router,
                listener,
                relay,
                indexer,
                outbound,
                lock,
                keeper: (keeper, keeper_stop),
            },
            generated,
        ))
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.state.config.listen)
    }

    /// The shared state (tests use it to reach the bus and the database).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// A token that stops the server when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.state.shutdown.clone()
    }

    /// Serves until the shutdown token fires, then drains connections, relays committed events
    /// and stops channels, each within a bound.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Self {
            state,
            router,
            listener,
            relay,
            indexer,
            outbound,
            lock,
            keeper,
        } = self;
        let shutdown = state.shutdown.clone();
        // Subscribed before the relay starts, so the indexer sees every event it publishes.
        let indexer_task = tokio::spawn(indexer.run(state.bus.subscribe(), shutdown.clone()));
        let relay_task = tokio::spawn(relay.run(shutdown.clone()));
        let workers_task = state.config.jobs.run_workers.then(|| {
            tokio::spawn(kefu_dispatcher::workers::run(
                state.jobs.clone(),
                outbound.sender,
                outbound.deliverer,
                crate::delivery::worker_settings(&state.config),
                state.workers.clone(),
                kefu_dispatcher::workers::Housekeeping {
                    leases: state.leases.clone(),
                    fallbacks: kefu_normalizer::fallback::Fallbacks::new(state.db.clone()),
                },
                shutdown.clone(),
            ))
        });
        tokio::spawn(state.hub.clone().run(shutdown.clone()));
        tokio::spawn(crate::inbox_sync::run(state.clone(), shutdown.clone()));
        tokio::spawn(crate::knowledge_sync::run(state.clone(), shutdown.clone()));
        tokio::spawn(kefu_normalizer::planner::run(
            state.db.clone(),
            shutdown.clone(),
        ));
        tokio::spawn(kefu_normalizer::wal::run(
            state.db.clone(),
            shutdown.clone(),
        ));
        let assigner = state
            .dispatcher
            .spawn(state.bus.clone(), &state.leases, shutdown.clone());
        tracing::info!(addr = %listener.local_addr()?, public_url = %state.config.public_url(), "Kefu is listening.");
        let serve = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown.clone().cancelled_owned());
        let result = serve.await;
        shutdown.cancel();
        let keeper_stop = keeper.1.clone();
        let drain = async {
            let _ = relay_task.await;
            if let Some(w) = workers_task {
                let _ = w.await;
            }
            let _ = assigner.await;
            state.runner.wait().await;
            let _ = indexer_task.await;
            keeper.1.cancel();
            let _ = keeper.0.await;
        };
        if tokio::time::timeout(Duration::from_secs(10), drain)
            .await
            .is_err()
        {
            tracing::warn!("Background tasks did not stop within 10 s; exiting anyway.");
            // The keeper would otherwise go on renewing this node's leases as long as the
            // process lives, and no other node could take over its mailboxes and timers.
            keeper_stop.cancel();
        }
        drop(lock);
        tracing::info!("Kefu stopped.");
        result
    }
}

/// How this process appears in the lease table: the host's name and the process id.
fn node_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "kefu".to_owned());
    format!("{host}-{}", std::process::id())
}

/// The full router: API, channel ingress, assets, middleware.
pub fn router(state: AppState, ingress: Router<AppState>) -> Router {
    let max_body = state.config.max_body_bytes;
    crate::api::router(state.config.max_upload_bytes, max_body)
        .route_service(
            kefu_channel_webchat::socket::PATH,
            crate::ws::visitor::router(&state),
        )
        .route("/ws/agent", axum::routing::get(crate::ws::agent::handler))
        .route(
            "/csat/{token}",
            axum::routing::get(crate::csat_page::show).post(crate::csat_page::answer),
        )
        .merge(crate::ws::visitor_files::router(&state))
        .merge(ingress)
        .merge(crate::assets::router())
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
        })
        .layer(axum::middleware::from_fn(crate::middleware::json_errors))
        .layer(axum::middleware::from_fn(track_metrics))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("A request handler panicked.");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "an internal error occurred; see the server log",
            )
            .into_response()
        }))
        .layer(axum::middleware::from_fn(
            crate::middleware::security_headers,
        ))
        .with_state(state)
}

async fn track_metrics(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("kefu_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("kefu_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    resp
}
