use super::*;

/// `(url, refused?, what the refusal must mention)`; every refused URL is accepted with
/// `allow_private`.
const URLS: &[(&str, bool, &str)] = &[
    ("https://hooks.example.com/kefu", false, ""),
    ("http://93.184.216.34:8080/hook", false, ""),
    ("https://[2606:4700:4700::1111]/hook", false, ""),
    ("http://8.8.8.8/", false, ""),
    ("http://172.32.0.1/", false, ""),
    ("http://100.128.0.1/", false, ""),
    ("http://127.0.0.1/", true, "loopback"),
    ("http://127.255.255.254:9000/", true, "loopback"),
    ("http://127.1/", true, "127.0.0.1"),
    ("http://0x7f000001/", true, "127.0.0.1"),
    ("http://2130706433/", true, "127.0.0.1"),
    ("http://0177.0.0.1/", true, "127.0.0.1"),
    ("http://0.0.0.0/", true, "unspecified"),
    ("http://10.1.2.3/", true, "private"),
    ("http://172.16.0.1/", true, "private"),
    ("http://172.31.255.255/", true, "private"),
    ("http://192.168.1.1/", true, "private"),
    ("http://169.254.169.254/latest/meta-data/", true, "metadata"),
    ("http://100.64.0.1/", true, "carrier-grade NAT"),
    ("http://100.127.255.255/", true, "carrier-grade NAT"),
    ("http://192.0.0.8/", true, "IETF"),
    ("http://192.0.2.1/", true, "documentation"),
    ("http://198.51.100.7/", true, "documentation"),
    ("http://203.0.113.9/", true, "documentation"),
    ("http://198.18.0.1/", true, "benchmarking"),
    ("http://224.0.0.1/", true, "multicast"),
    ("http://239.255.255.250/", true, "multicast"),
    ("http://240.0.0.1/", true, "reserved"),
    ("http://255.255.255.255/", true, "broadcast"),
    ("http://[::1]/", true, "loopback"),
    ("http://[::]/", true, "unspecified"),
    ("http://[fc00::1]/", true, "unique local"),
    ("http://[fd12:3456:789a::1]/", true, "unique local"),
    ("http://[fe80::1]/", true, "link-local"),
    ("http://[fec0::1]/", true, "site-local"),
    ("http://[ff02::1]/", true, "multicast"),
    ("http://[2001:db8::1]/", true, "documentation"),
    ("http://[3fff::1]/", true, "documentation"),
    ("http://[100::1]/", true, "discard"),
    ("http://[2001:0:4136:e378::1]/", true, "Teredo"),
    (
        "http://[::ffff:127.0.0.1]/",
        true,
        "IPv4-mapped form of 127.0.0.1, loopback",
    ),
    (
        "http://[::ffff:7f00:1]/",
        true,
        "IPv4-mapped form of 127.0.0.1",
    ),
    (
        "http://[::ffff:169.254.169.254]/",
        true,
        "IPv4-mapped form of 169.254.169.254",
    ),
    ("http://[::ffff:10.0.0.1]/", true, "private"),
    ("http://[::127.0.0.1]/", true, "IPv4-compatible"),
    (
        "http://[64:ff9b::10.0.0.1]/",
        true,
        "NAT64 form of 10.0.0.1",
    ),
    ("http://[64:ff9b:1::1]/", true, "local-use NAT64"),
    ("http://[2002:7f00:1::1]/", true, "6to4 form of 127.0.0.1"),
    (
        "http://[2002:c0a8:101::1]/",
        true,
        "6to4 form of 192.168.1.1",
    ),
    ("http://localhost/", true, "localhost"),
    ("http://LOCALHOST.:8080/", true, "localhost"),
    ("http://api.localhost/", true, "localhost"),
];

#[test]
fn url_table() {
    for (url, refused, mention) in URLS {
        let result = check_url(url, false);
        match (refused, &result) {
            (false, Ok(_)) => {}
            (
                true,
                Err(err @ (TargetError::RefusedAddress { .. } | TargetError::RefusedHost { .. })),
            ) => {
                let text = err.to_string();
                assert!(text.contains(mention), "{url}: {text:?} lacks {mention:?}");
                assert_eq!(err.code(), "webhook_target_refused");
            }
            _ => panic!("{url}: expected refused={refused}, got {result:?}"),
        }
        assert!(check_url(url, true).is_ok(), "{url} with allow_private");
    }
}

#[test]
fn ipv4_mapped_and_nat64_forms_of_public_addresses_are_allowed() {
    for ip in [
        "::ffff:8.8.8.8",
        "64:ff9b::8.8.8.8",
        "2002:808:808::1",
        "2606:4700::1",
    ] {
        let ip: IpAddr = ip.parse().expect("test address");
        assert_eq!(refusal_reason(ip), None, "{ip}");
    }
}

#[test]
fn malformed_urls_are_refused_even_with_allow_private() {
    let cases: &[(&str, &str)] = &[
        ("not a url", "invalid_url"),
        ("ftp://example.com/", "invalid_url"),
        ("file:///etc/passwd", "invalid_url"),
        ("gopher://example.com/", "invalid_url"),
        ("https://user:pass@example.com/", "invalid_url"),
        ("https://user@example.com/", "invalid_url"),
        ("http://", "invalid_url"),
        ("http://:80/", "invalid_url"),
    ];
    for (url, code) in cases {
        for allow in [false, true] {
            match check_url(url, allow) {
                Err(err) => assert_eq!(err.code(), *code, "{url}: {err}"),
                Ok(parsed) => panic!("{url} accepted as {parsed}"),
            }
        }
    }
    let err = check_url("ftp://example.com/", false).expect_err("ftp refused");
    assert_eq!(
        err.to_string(),
        "the webhook URL scheme must be http or https, not \"ftp\""
    );
}

#[test]
fn refusal_names_the_address_and_the_reason() {
    let err = check_url("http://169.254.169.254/", false).expect_err("metadata refused");
    assert_eq!(
        err.to_string(),
        "the webhook target address 169.254.169.254 is refused: \
         link-local, including cloud metadata (169.254.0.0/16)"
    );
}

#[tokio::test]
async fn localhost_is_refused_by_name_and_by_its_resolved_addresses() {
    let url = Url::parse("http://localhost:8080/hook").expect("url");
    let err = resolve_checked(&url, false).await.expect_err("refused");
    assert!(matches!(err, TargetError::RefusedHost { .. }), "{err:?}");

    // What the system resolver says about `localhost` is refused by the address rule too, so a
    // public-looking name that resolves the same way (DNS rebinding) is refused as well.
    let resolved: Vec<SocketAddr> = tokio::net::lookup_host(("localhost", 8080))
        .await
        .expect("localhost resolves")
        .collect();
    let err = check_resolved("rebind.example.com", resolved.clone(), false).expect_err("refused");
    assert!(
        matches!(&err, TargetError::RefusedAddress { addr, reason } if addr.is_loopback() && reason.contains("loopback")),
        "{err:?}"
    );

    let addrs = resolve_checked(&url, true)
        .await
        .expect("allowed when private is allowed");
    assert!(!addrs.is_empty());
    assert!(
        addrs
            .iter()
            .all(|a| a.port() == 8080 && a.ip().is_loopback()),
        "{addrs:?}"
    );
}

#[test]
fn one_private_address_among_public_ones_refuses_the_host() {
    let public: SocketAddr = "93.184.216.34:443".parse().expect("addr");
    let private: SocketAddr = "10.0.0.7:443".parse().expect("addr");
    let err =
        check_resolved("mixed.example.com", [public, private, public], false).expect_err("refused");
    assert!(err.to_string().contains("10.0.0.7"), "{err}");
    assert_eq!(
        check_resolved("mixed.example.com", [public, private, public], true).expect("allowed"),
        vec![private, public]
    );
    assert_eq!(
        check_resolved("ok.example.com", [public, public], false).expect("public"),
        vec![public]
    );
    let err = check_resolved("empty.example.com", [], true).expect_err("no addresses");
    assert_eq!(err.code(), "webhook_target_unresolvable");
}

#[tokio::test]
async fn resolved_addresses_are_checked_one_by_one() {
    // A literal needs no DNS but goes through the same per-address check.
    let url = Url::parse("http://[::ffff:127.0.0.1]/").expect("url");
    let err = resolve_checked(&url, false).await.expect_err("refused");
    assert!(err.to_string().contains("::ffff:127.0.0.1"), "{err}");
    let addrs = resolve_checked(&url, true).await.expect("allowed");
    assert_eq!(
        addrs,
        vec!["[::ffff:127.0.0.1]:80".parse::<SocketAddr>().expect("addr")]
    );

    let url = Url::parse("https://93.184.216.34/").expect("url");
    let addrs = resolve_checked(&url, false).await.expect("public literal");
    assert_eq!(
        addrs,
        vec!["93.184.216.34:443".parse::<SocketAddr>().expect("addr")]
    );
}

#[tokio::test]
async fn unresolvable_names_fail_clearly() {
    let url = Url::parse("http://kefu-test.invalid/").expect("url");
    let err = resolve_checked(&url, false)
        .await
        .expect_err("cannot resolve");
    assert_eq!(err.code(), "webhook_target_unresolvable", "{err:?}");
    assert!(err.to_string().contains("kefu-test.invalid"), "{err}");
}
