//! SSRF protection for webhook targets.
//!
//! A webhook URL is chosen by whoever may create subscriptions, and Kefu then makes requests to
//! it from inside the operator's network. Without checks, a subscription to
//! `http://169.254.169.254/latest/meta-data/` reads cloud credentials, and one to
//! `http://10.0.0.5:6379/` talks to internal services
//! ([OWASP SSRF cheat sheet](https://cheatsheetseries.owasp.org/cheatsheets/Server_Side_Request_Forgery_Prevention_Cheat_Sheet.html)).
//!
//! Two checks, both skipped for addresses when `webhooks.allow_private_targets` is set:
//!
//! - [`check_url`], when a subscription is created or changed: http(s) only, no credentials in
//!   the URL, a host, and — when the host is an IP literal or a `localhost` name — an address
//!   that is publicly routable. The WHATWG URL parser has already normalized tricks like
//!   `http://0x7f000001/`, `http://2130706433/` and `http://127.1/` to `127.0.0.1`.
//! - [`resolve_checked`], before every attempt: resolves the host and refuses if *any* address is
//!   not public. A name that resolved to a public address at subscription time may resolve to
//!   `127.0.0.1` later (DNS rebinding), so the caller must connect only to the addresses
//!   returned here rather than resolving again.
//!
//! Ranges follow the IANA special-purpose registries for
//! [IPv4](https://www.iana.org/assignments/iana-ipv4-special-registry/) and
//! [IPv6](https://www.iana.org/assignments/iana-ipv6-special-registry/). IPv6 forms that embed
//! an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by the embedded address.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::{Host, Url};

/// Why a webhook target is refused.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The text is not a URL.
    #[error("the webhook URL is not valid: {0}")]
    InvalidUrl(#[from] url::ParseError),
    /// Only `http` and `https` are delivered to.
    #[error("the webhook URL scheme must be http or https, not {0:?}")]
    UnsupportedScheme(String),
    /// `user:password@` in the URL would be sent to the receiver and shown in logs.
    #[error("the webhook URL must not contain a user name or password")]
    Credentials,
    /// The URL has no host (or no port for the scheme).
    #[error("the webhook URL has no host")]
    MissingHost,
    /// The host is a name that always means this machine.
    #[error("the webhook host {host} is refused: {reason}")]
    RefusedHost {
        /// The host as written in the URL.
        host: String,
        /// Why, in a few words.
        reason: &'static str,
    },
    /// The host is, or resolved to, an address that is not publicly routable.
    #[error("the webhook target address {addr} is refused: {reason}")]
    RefusedAddress {
        /// The refused address.
        addr: IpAddr,
        /// Which special range it is in.
        reason: Cow<'static, str>,
    },
    /// Resolving the host failed.
    #[error("the webhook host {host} could not be resolved: {source}")]
    Resolve {
        /// The host name.
        host: String,
        /// The resolver's error.
        source: std::io::Error,
    },
    /// The host resolved to no address at all.
    #[error("the webhook host {0} resolved to no address")]
    NoAddresses(String),
}

impl TargetError {
    /// The snake_case code for API errors.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidUrl(_) | Self::UnsupportedScheme(_) | Self::Credentials => "invalid_url",
            Self::MissingHost => "invalid_url",
            Self::RefusedHost { .. } | Self::RefusedAddress { .. } => "webhook_target_refused",
            Self::Resolve { .. } | Self::NoAddresses(_) => "webhook_target_unresolvable",
        }
    }

    /// Whether the target was refused only for being private, loopback or otherwise not
    /// public: the kind of refusal a setting can lift.
    pub fn is_private_refusal(&self) -> bool {
        matches!(self, Self::RefusedHost { .. } | Self::RefusedAddress { .. })
    }
}

/// Checks a webhook URL when a subscription is created or edited; returns it parsed.
pub fn check_url(url: &str, allow_private: bool) -> Result<Url, TargetError> {
    let url = Url::parse(url.trim())?;
    check_parsed(&url, allow_private)?;
    Ok(url)
}

/// The checks of [`check_url`] on an already-parsed URL.
pub fn check_parsed(url: &Url, allow_private: bool) -> Result<(), TargetError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(TargetError::UnsupportedScheme(url.scheme().to_owned()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TargetError::Credentials);
    }
    let host = url.host().ok_or(TargetError::MissingHost)?;
    if allow_private {
        return Ok(());
    }
    match host {
        Host::Ipv4(ip) => check_ip(IpAddr::V4(ip), false),
        Host::Ipv6(ip) => check_ip(IpAddr::V6(ip), false),
        Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if name == "localhost" || name.ends_with(".localhost") {
                // RFC 6761 §6.3: these names always mean the loopback interface.
                return Err(TargetError::RefusedHost {
                    host: name,
                    reason: "localhost names resolve to this machine",
                });
            }
            Ok(())
        }
    }
}

/// Resolves the URL's host for one delivery attempt and returns the addresses to connect to,
/// refusing if any of them is not public (unless `allow_private`).
pub async fn resolve_checked(
    url: &Url,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, TargetError> {
    check_parsed(url, allow_private)?;
    let port = url
        .port_or_known_default()
        .ok_or(TargetError::MissingHost)?;
    let host = url.host().ok_or(TargetError::MissingHost)?;
    let addrs: Vec<SocketAddr> = match host {
        Host::Ipv4(ip) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Host::Ipv6(ip) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Host::Domain(name) => tokio::net::lookup_host((name, port))
            .await
            .map_err(|source| TargetError::Resolve {
                host: name.to_owned(),
                source,
            })?
            .collect(),
    };
    check_resolved(&host.to_string(), addrs, allow_private)
}

/// The delivery-time rule on already-resolved addresses: refuses if any is not public (unless
/// `allow_private`) or if there are none; returns them sorted and deduplicated. For a custom
/// HTTP-client resolver that must apply the same policy as [`resolve_checked`].
pub fn check_resolved(
    host: &str,
    addrs: impl IntoIterator<Item = SocketAddr>,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, TargetError> {
    let mut addrs: Vec<SocketAddr> = addrs.into_iter().collect();
    addrs.sort_unstable();
    addrs.dedup();
    if addrs.is_empty() {
        return Err(TargetError::NoAddresses(host.to_owned()));
    }
    for addr in &addrs {
        check_ip(addr.ip(), allow_private)?;
    }
    Ok(addrs)
}

/// Refuses `ip` unless it is publicly routable or `allow_private` is set. For a custom
/// HTTP-client resolver that must apply the same policy.
pub fn check_ip(ip: IpAddr, allow_private: bool) -> Result<(), TargetError> {
    if allow_private {
        return Ok(());
    }
    match refusal_reason(ip) {
        Some(reason) => Err(TargetError::RefusedAddress { addr: ip, reason }),
        None => Ok(()),
    }
}

/// Why `ip` is not a publicly routable unicast address, or `None` when it is.
pub fn refusal_reason(ip: IpAddr) -> Option<Cow<'static, str>> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4).map(Cow::Borrowed),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn in_v6(ip: Ipv6Addr, net: [u16; 8], prefix: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
    let [a, b, c, d, e, f, g, h] = net;
    u128::from(ip) & mask == u128::from(Ipv6Addr::new(a, b, c, d, e, f, g, h)) & mask
}

/// IPv4 special-purpose ranges that must not be reached, most specific first.
const V4_REFUSED: &[([u8; 4], u32, &str)] = &[
    ([255, 255, 255, 255], 32, "broadcast"),
    ([0, 0, 0, 0], 8, "unspecified (\"this network\", 0.0.0.0/8)"),
    ([10, 0, 0, 0], 8, "private network (10.0.0.0/8)"),
    ([100, 64, 0, 0], 10, "carrier-grade NAT (100.64.0.0/10)"),
    ([127, 0, 0, 0], 8, "loopback (127.0.0.0/8)"),
    (
        [169, 254, 0, 0],
        16,
        "link-local, including cloud metadata (169.254.0.0/16)",
    ),
    ([172, 16, 0, 0], 12, "private network (172.16.0.0/12)"),
    (
        [192, 0, 0, 0],
        24,
        "IETF protocol assignments (192.0.0.0/24)",
    ),
    ([192, 0, 2, 0], 24, "documentation (192.0.2.0/24)"),
    ([192, 88, 99, 0], 24, "6to4 relay anycast (192.88.99.0/24)"),
    ([192, 168, 0, 0], 16, "private network (192.168.0.0/16)"),
    ([198, 18, 0, 0], 15, "benchmarking (198.18.0.0/15)"),
    ([198, 51, 100, 0], 24, "documentation (198.51.100.0/24)"),
    ([203, 0, 113, 0], 24, "documentation (203.0.113.0/24)"),
    ([224, 0, 0, 0], 4, "multicast (224.0.0.0/4)"),
    ([240, 0, 0, 0], 4, "reserved (240.0.0.0/4)"),
];

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    V4_REFUSED
        .iter()
        .find(|(net, prefix, _)| in_v4(ip, *net, *prefix))
        .map(|(_, _, reason)| *reason)
}

/// IPv6 ranges refused outright (embedded-IPv4 forms are handled before these).
const V6_REFUSED: &[([u16; 8], u32, &str)] = &[
    ([0, 0, 0, 0, 0, 0, 0, 0], 128, "unspecified (::)"),
    ([0, 0, 0, 0, 0, 0, 0, 1], 128, "loopback (::1)"),
    (
        [0x64, 0xff9b, 1, 0, 0, 0, 0, 0],
        48,
        "local-use NAT64 (64:ff9b:1::/48)",
    ),
    ([0x100, 0, 0, 0, 0, 0, 0, 0], 64, "discard-only (100::/64)"),
    (
        [0x2001, 0, 0, 0, 0, 0, 0, 0],
        32,
        "Teredo tunnel (2001::/32)",
    ),
    (
        [0x2001, 2, 0, 0, 0, 0, 0, 0],
        48,
        "benchmarking (2001:2::/48)",
    ),
    (
        [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0],
        32,
        "documentation (2001:db8::/32)",
    ),
    (
        [0x3fff, 0, 0, 0, 0, 0, 0, 0],
        20,
        "documentation (3fff::/20)",
    ),
    (
        [0x5f00, 0, 0, 0, 0, 0, 0, 0],
        16,
        "segment routing SIDs (5f00::/16)",
    ),
    (
        [0xfc00, 0, 0, 0, 0, 0, 0, 0],
        7,
        "unique local address (fc00::/7)",
    ),
    ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, "link-local (fe80::/10)"),
    ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, "site-local (fec0::/10)"),
    ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, "multicast (ff00::/8)"),
];

fn v6_reason(ip: Ipv6Addr) -> Option<Cow<'static, str>> {
    if let Some((_, _, reason)) = V6_REFUSED
        .iter()
        .find(|(net, prefix, _)| in_v6(ip, *net, *prefix))
    {
        return Some(Cow::Borrowed(reason));
    }
    let bits = u128::from(ip);
    // The last 32 bits as IPv4; `as` keeps exactly those bits.
    let low_v4 = Ipv4Addr::from(bits as u32);
    let (form, v4) = if in_v6(ip, [0, 0, 0, 0, 0, 0xffff, 0, 0], 96) {
        ("IPv4-mapped", low_v4) // ::ffff:a.b.c.d
    } else if in_v6(ip, [0, 0, 0, 0, 0, 0, 0, 0], 96) {
        ("IPv4-compatible", low_v4) // ::a.b.c.d, deprecated
    } else if in_v6(ip, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        ("NAT64", low_v4) // 64:ff9b::a.b.c.d
    } else if in_v6(ip, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        ("6to4", Ipv4Addr::from((bits >> 80) as u32)) // 2002:aabb:ccdd::/48
    } else {
        return None;
    };
    let inner = v4_reason(v4)?;
    Some(Cow::Owned(format!("{form} form of {v4}, {inner}")))
}

#[cfg(test)]
#[path = "target_tests.rs"]
mod tests;
