//! # kefu-gateway — the `kefu` binary
//!
//! Wires everything together: [`config`] (defaults → `kefu.toml` → `KEFU_*`), the database and
//! migrations, the channel registry and ingress routes ([`channels`]), the HTTP API with its
//! OpenAPI document ([`api`]), authentication ([`auth`]), the browser assets, the outbox relay
//! and graceful shutdown ([`app`]).
//!
//! Tests and embedding programs use [`App::build`] with a [`Config`] (port 0, a fresh
//! database) and extra channel factories, then [`App::run_until_stopped`].
#![warn(missing_docs)]

pub mod access;
pub mod api;
pub mod app;
mod assets;
pub mod auth;
mod bus;
pub mod channels;
pub mod cluster;
pub mod config;
pub mod crypto;
mod csat_page;
mod data_lock;
pub mod delivery;
pub mod error;
pub mod extract;
mod first_start;
pub mod inbox_sync;
pub mod knowledge_sync;
pub mod llm;
mod middleware;
pub mod provider_targets;
pub mod screen;
pub mod state;
pub mod ws;

use std::sync::Arc;

pub use app::{App, GeneratedAdmin, StartError};
pub use config::Config;
use kefu_channel::{ChannelFactory, LivePresence};

/// The channel types every Kefu binary has, configured from `config` (extra trusted roots);
/// `presence` tells the app channel which users are connected live.
pub fn builtin_channels(
    config: &Config,
    presence: Arc<dyn LivePresence>,
) -> Result<Vec<Arc<dyn ChannelFactory>>, StartError> {
    let extra_roots = extra_root_certs(config)?;
    let mut email = kefu_channel_email::EmailFactory::new();
    if let Some(pem) = &extra_roots {
        email = email
            .with_extra_root_certs_pem(pem)
            .map_err(|e| StartError(format!("tls.extra_root_certs: {e}")))?;
    }
    let http = http_client(
        reqwest::Client::builder().timeout(std::time::Duration::from_secs(15)),
        extra_roots.as_deref(),
    )?;
    Ok(vec![
        Arc::new(kefu_channel_webchat::WebChatFactory),
        Arc::new(email),
        Arc::new(kefu_channel_wechat::OfficialAccountFactory::new().with_http_client(http.clone())),
        Arc::new(kefu_channel_wechat::WecomKfFactory::new().with_http_client(http.clone())),
        Arc::new(
            kefu_channel_push::PushFactory::new()
                .with_http_client(http)
                .with_presence(presence),
        ),
    ])
}

/// The PEM bundle of `tls.extra_root_certs`, if configured.
fn extra_root_certs(config: &Config) -> Result<Option<Vec<u8>>, StartError> {
    match &config.tls.extra_root_certs {
        Some(path) => Ok(Some(std::fs::read(path).map_err(|e| {
            StartError(format!(
                "tls.extra_root_certs: cannot read {}: {e}",
                path.display()
            ))
        })?)),
        None => Ok(None),
    }
}

/// `builder` trusting the extra roots too.
fn http_client(
    mut builder: reqwest::ClientBuilder,
    extra_roots: Option<&[u8]>,
) -> Result<reqwest::Client, StartError> {
    if let Some(pem) = extra_roots {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| StartError(format!("tls.extra_root_certs: not a PEM bundle: {e}")))?;
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .map_err(|e| StartError(format!("HTTP client: {e}")))
}

/// An HTTP client for services Kefu calls on its own behalf (the language model), trusting
/// `tls.extra_root_certs`; callers set their own time limits.
pub fn outbound_http_client(config: &Config) -> Result<reqwest::Client, StartError> {
    http_client(
        reqwest::Client::builder(),
        extra_root_certs(config)?.as_deref(),
    )
}
