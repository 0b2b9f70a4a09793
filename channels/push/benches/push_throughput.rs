//! Pushes per second through the real channel to the local FCM and APNs test servers.
//!
//! `cargo bench -p kefu-channel-push --bench push_throughput [-- SENDS CONCURRENCY]`
//!
//! Each send is one agent reply to a user with one device; the channel signs its provider
//! tokens, looks the device up in the channel state, builds the payload and waits for the
//! provider's answer. FCM runs over plain HTTP/1.1 on loopback, APNs over HTTP/2 + TLS (one
//! multiplexed connection), both servers in the same process and runtime as the client.

#[path = "../tests/push/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt as _;
use kefu_channel::{Content, OutboundMessage, Recipient};
use support::{MemoryKefu, Options, TestApp, apns_token, fcm_token};

fn reply(i: usize, who: String) -> OutboundMessage {
    OutboundMessage {
        message_id: i as i64,
        conversation_id: i as i64,
        inbox_id: support::INBOX,
        recipient: Recipient {
            external_id: who,
            display_name: None,
        },
        content: Content::text("Thanks for waiting — your refund was issued today."),
        agent_name: Some("Alice".into()),
        references: Vec::new(),
        subject: None,
        conversation_token: None,
        last_inbound_at: None,
        system: false,
    }
}

async fn run(app: &TestApp, platform: &str, users: usize, sends: usize, concurrency: usize) {
    for u in 0..users {
        let token = match platform {
            "fcm" => fcm_token(u as u32),
            _ => apns_token(u as u32),
        };
        app.register(&format!("{platform}-{u}"), platform, &token)
            .await;
    }
    // Warm up: access token, provider token, connections.
    for i in 0..concurrency.min(sends) {
        let _ = app
            .channel
            .send(&reply(i, format!("{platform}-{}", i % users)))
            .await;
    }
    let start = Instant::now();
    let failures = futures::stream::iter(0..sends)
        .map(|i| {
            let ch = app.channel.clone();
            let msg = reply(i, format!("{platform}-{}", i % users));
            async move { ch.send(&msg).await.is_err() }
        })
        .buffer_unordered(concurrency)
        .filter(|failed| std::future::ready(*failed))
        .count()
        .await;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{platform:>4}: {sends} pushes, concurrency {concurrency}: {:.2} s, {:.0} pushes/s, {failures} failed",
        secs,
        sends as f64 / secs
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sends = args.first().copied().unwrap_or(20_000);
    let concurrency = args.get(1).copied().unwrap_or(64);
    let users = 1000;
    let kefu = Arc::new(MemoryKefu::default());
    let app = TestApp::start(Options {
        history: None,
        device_limit: (1_000_000, 1_000_000),
        ..Options::with_kefu(kefu)
    })
    .await;
    run(&app, "fcm", users, sends, concurrency).await;
    run(&app, "apns", users, sends, concurrency).await;
}
