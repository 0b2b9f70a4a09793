//! WebSocket helpers for tests of the widget (`/ws/web_chat`) and console (`/ws/agent`) sockets.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

/// A client socket.
pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects to `path` (with its query) on the server at `base` (`http://host:port`).
pub async fn connect(base: &str, path: &str) -> Ws {
    let url = format!("{}{path}", base.replacen("http://", "ws://", 1));
    tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket connects")
        .0
}

/// Connects to `path` on the server at `base` as client address `ip`, as a trusted proxy on
/// loopback reports it (`X-Forwarded-For`).
pub async fn connect_from(base: &str, path: &str, ip: &str) -> Ws {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = format!("{}{path}", base.replacen("http://", "ws://", 1));
    let mut req = url.into_client_request().expect("request");
    req.headers_mut()
        .insert("x-forwarded-for", ip.parse().expect("header value"));
    tokio_tungstenite::connect_async(req)
        .await
        .expect("websocket connects")
        .0
}

/// Sends one JSON frame.
pub async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into()))
        .await
        .expect("send");
}

/// The next JSON frame for which `pick` holds, skipping others; panics after 10 s or when the
/// socket closes first.
pub async fn next_where(ws: &mut Ws, what: &str, pick: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no {what} within 10 s"))
            .unwrap_or_else(|| panic!("the socket closed before {what}"))
            .expect("frame");
        if let Message::Text(t) = frame {
            let v: Value = serde_json::from_str(t.as_str()).expect("server frames are JSON");
            if pick(&v) {
                return v;
            }
        }
    }
}

/// Waits until the server side of `ws` is gone (closed, reset); panics after 10 s.
pub async fn closed(ws: &mut Ws) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => panic!("the socket stayed open for 10 s"),
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return,
            Ok(Some(Ok(_))) => {}
        }
    }
}
