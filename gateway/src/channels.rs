//! Channel wiring in the gateway: the registry of channel types, whose ingress routes the HTTP
//! server mounts, and the reading of channels' validation messages.
//!
//! The channel runtime itself (the [`Runner`] keeping one running channel per inbox, and
//! [`Inboxes`], inbox rows as channel configs) is a service of `kefu-dispatcher`, whose send
//! worker sends through it; it is re-exported here for the handlers that start and stop
//! channels.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use kefu_channel::{ChannelFactory, ChannelKind, IngressContext};

pub use kefu_dispatcher::runtime::{
    Factories, INBOX_TTL, Inboxes, Runner, pointer_to_path, put_secrets, take_secrets,
};

/// The channel types this Kefu knows, by `channel.type`.
pub struct ChannelRegistry {
    factories: BTreeMap<String, Arc<dyn ChannelFactory>>,
    /// Types with ingress routes, and the path segment they are mounted at.
    with_ingress: HashMap<String, String>,
}

impl ChannelRegistry {
    /// A registry of `factories`.
    pub fn new(factories: Vec<Arc<dyn ChannelFactory>>) -> Self {
        Self {
            factories: factories.into_iter().map(|f| (f.kind().0, f)).collect(),
            with_ingress: HashMap::new(),
        }
    }

    /// Collects every factory's ingress routes under `/channels/<type>`.
    pub fn mount_ingress<S: Clone + Send + Sync + 'static>(
        &mut self,
        cx: impl Fn(ChannelKind) -> IngressContext,
    ) -> axum::Router<S> {
        let mut router = axum::Router::new();
        for (kind, f) in &self.factories {
            if let Some(r) = f.ingress(cx(ChannelKind::new(kind.clone()))) {
                let route = f.route_name();
                router = router.nest_service(&format!("/channels/{route}"), r);
                self.with_ingress.insert(kind.clone(), route);
            }
        }
        router
    }

    /// Where a type's push-style ingress is mounted (`/channels/<route>`), if it has one.
    pub fn ingress_route(&self, kind: &str) -> Option<&str> {
        self.with_ingress.get(kind).map(String::as_str)
    }

    /// The factory for a type.
    pub fn get(&self, kind: &str) -> Option<&Arc<dyn ChannelFactory>> {
        self.factories.get(kind)
    }

    /// Every factory, by type name in order.
    pub fn factories(&self) -> impl Iterator<Item = (&str, &Arc<dyn ChannelFactory>)> {
        self.factories.iter().map(|(k, f)| (k.as_str(), f))
    }

    /// Every factory by type, for the channel [`Runner`].
    pub fn factory_map(&self) -> Factories {
        self.factories.clone()
    }

    /// The known type names, for error messages.
    pub fn kinds(&self) -> String {
        self.factories
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The settings field a channel's validation message names, as a dotted path: the message
/// starts with the path (`imap.port: must be ...`, the convention of
/// [`ChannelFactory::validate`]), or is serde's `missing field `x`` / `unknown field `x``,
/// possibly after a path or the type name (`imap: missing field `password``).
pub fn settings_field(kind: &str, message: &str) -> Option<String> {
    let is_path = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']' | '-'))
    };
    let (mut path, rest) = match message.split_once(": ") {
        Some((p, rest)) if is_path(p) => (Some(p.to_owned()), rest),
        _ => (None, message),
    };
    // Email's parser says `settings` for the root; web chat prefixes its type name.
    if path
        .as_deref()
        .is_some_and(|p| p == kind || p == "settings")
    {
        path = None;
    }
    let named = ["missing field `", "unknown field `"].iter().find_map(|m| {
        let (_, after) = rest.split_once(m)?;
        let (name, _) = after.split_once('`')?;
        is_path(name).then(|| name.to_owned())
    });
    match (path, named) {
        (Some(p), Some(n)) => Some(format!("{p}.{n}")),
        (p, n) => p.or(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_errors_name_their_field() {
        for (kind, message, want) in [
            (
                "email",
                "imap.port: must be between 1 and 65535",
                Some("imap.port"),
            ),
            (
                "email",
                "imap: missing field `password`",
                Some("imap.password"),
            ),
            ("wechat", "missing field `app_id`", Some("app_id")),
            (
                "wechat",
                "unknown field `appid`, expected one of `app_id`",
                Some("appid"),
            ),
            (
                "web_chat",
                "web_chat: unknown field `colour`, expected ...",
                Some("colour"),
            ),
            (
                "web_chat",
                "hmac_secret: must be at least 16 characters",
                Some("hmac_secret"),
            ),
            (
                "email",
                "settings: missing field `address`",
                Some("address"),
            ),
            ("email", "settings are broken somehow", None),
        ] {
            assert_eq!(settings_field(kind, message).as_deref(), want, "{message}");
        }
    }
}
