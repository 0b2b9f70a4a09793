//! Security headers: the console and the demo page run no inline script and cannot be framed;
//! every response says `nosniff` and sends no referrer; customer files are sandboxed; the
//! widget stays loadable by other sites.

use kefu_tests::{TestApp, backends};
use reqwest::header::HeaderMap;

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn pages_api_files_and_widget_carry_their_security_headers() {
    let app = TestApp::spawn(&backends()[0]).await;
    let get = |path: &str| {
        let url = format!("{}{path}", app.base);
        let client = app.client.clone();
        async move {
            let resp = client.get(url).send().await.expect("request");
            let headers = resp.headers().clone();
            (
                resp.status(),
                headers,
                resp.text().await.unwrap_or_default(),
            )
        }
    };

    for page in ["/", "/console/"] {
        let (status, h, body) = get(page).await;
        assert!(status.is_success(), "{page}: {status}");
        let csp = header(&h, "content-security-policy");
        for directive in [
            "default-src 'self'",
            "script-src 'self';",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ] {
            assert!(csp.contains(directive), "{page}: {csp:?} lacks {directive}");
        }
        assert_eq!(header(&h, "x-frame-options"), "DENY", "{page}");
        assert_eq!(header(&h, "x-content-type-options"), "nosniff", "{page}");
        assert_eq!(header(&h, "referrer-policy"), "no-referrer", "{page}");
        // The policy allows scripts from files only, so the page must have no inline script.
        for tag in body.split("<script").skip(1) {
            let open = tag.split('>').next().unwrap_or_default();
            assert!(
                open.contains("src="),
                "{page} has an inline script: <script{open}>"
            );
        }
        for handler in [" onclick=", " onload=", " onerror=", " onsubmit="] {
            assert!(
                !body.contains(handler),
                "{page} has an inline handler {handler}"
            );
        }
    }

    let (status, h, _) = get("/widget.js").await;
    assert!(status.is_success());
    assert!(header(&h, "content-type").starts_with("text/javascript"));
    assert_eq!(header(&h, "x-content-type-options"), "nosniff");
    assert_eq!(header(&h, "cross-origin-resource-policy"), "cross-origin");
    assert!(h.get("x-frame-options").is_none() && h.get("content-security-policy").is_none());

    let (_, h, _) = get("/api/v1/openapi.json").await;
    assert_eq!(
        header(&h, "content-security-policy"),
        "default-src 'none'; frame-ancestors 'none'"
    );
    assert_eq!(header(&h, "x-content-type-options"), "nosniff");

    let (status, h, _) = get("/files/1/no-such-token").await;
    assert_eq!(status.as_u16(), 404);
    assert!(header(&h, "content-security-policy").contains("sandbox"));
    app.stop().await;
}
