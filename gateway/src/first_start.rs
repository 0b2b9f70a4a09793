//! What a first start sets up: the bootstrap admin, and the web chat inbox the demo page uses.

use secrecy::ExposeSecret;

use crate::app::{GeneratedAdmin, StartError};
use crate::channels::{Inboxes, Runner};
use crate::config::Config;
use kefu_normalizer::accounts::{AccountError, Agents};

/// Creates the configured bootstrap admin, or `admin@localhost` with a random password when the
/// database has no agent at all.
pub(crate) async fn bootstrap_admin(
    agents: &Agents,
    config: &Config,
) -> Result<Option<GeneratedAdmin>, AccountError> {
    if let (Some(email), Some(password)) = (
        &config.bootstrap_admin_email,
        &config.bootstrap_admin_password,
    ) {
        if agents
            .ensure_admin(email, password.expose_secret().to_owned())
            .await?
        {
            tracing::info!(%email, "Created the bootstrap admin.");
        }
        return Ok(None);
    }
    agents.create_first_admin().await
}

/// On a database without inboxes, creates the "Website" web chat inbox the demo page uses, so a
/// first `cargo run` leads to a working chat.
pub(crate) async fn default_web_chat_inbox(
    store: &kefu_normalizer::Inboxes,
    inboxes: &Inboxes,
    runner: &Runner,
) -> Result<(), StartError> {
    let created = store
        .create_default_web_chat(kefu_channel_webchat::KIND)
        .await
        .map_err(|e| StartError(format!("default web chat inbox: {e}")))?;
    if let Some(row) = created {
        runner.start(&inboxes.config(&row));
        tracing::info!(inbox = row.id, "Created the default web chat inbox.");
    }
    Ok(())
}
