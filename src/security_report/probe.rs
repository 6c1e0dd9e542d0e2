//! Checks against a running server (`--url`): what a client actually receives. Harmless
//! requests only: no sign-in attempt (it would count against the throttle and the automatic
//! defence), nothing that writes.

use reqwest::header::HeaderMap;
use url::Url;

use super::{Control, Status};
use crate::http::headers::{CONTENT_SECURITY_POLICY, STRICT_TRANSPORT_SECURITY};

/// What the probes found, by requirement.
pub struct Probed {
    pub transport: Control,
    pub headers: Control,
    pub errors: Control,
    pub escaping: Control,
    pub body_limit: Control,
    pub metrics: Control,
}

pub fn not_checked() -> Probed {
    let missing = |id, title| Control {
        id,
        title,
        status: Status::NotChecked,
        evidence: "No URL given: run `sunbridge audit --url https://…` against the running server.".into(),
    };
    Probed {
        transport: missing(TRANSPORT, TRANSPORT_TITLE),
        headers: missing("S-MC-1", HEADERS_TITLE),
        errors: missing("S-MC-2", ERRORS_TITLE),
        escaping: missing("S-IN-2", ESCAPING_TITLE),
        body_limit: missing("S-IN-3", BODY_TITLE),
        metrics: missing("S-LG-3", METRICS_TITLE),
    }
}

const TRANSPORT: &str = "S-CR-2";
const TRANSPORT_TITLE: &str = "Served over HTTPS with a valid certificate and HSTS (live)";
const HEADERS_TITLE: &str = "Security headers on every response (live)";
const ERRORS_TITLE: &str = "Errors are generic problem+json with a request id (live)";
const ESCAPING_TITLE: &str = "Input is not reflected unescaped (live)";
const BODY_TITLE: &str = "Oversized bodies refused before the handler (live)";
const METRICS_TITLE: &str = "Metrics are not on the public port (live)";

pub async fn probe(base: &Url, production: bool, body_limit: usize) -> Probed {
    let client = match reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        // A fresh connection per probe: the server closes the one it refused an oversized body
        // on, and a pooled reuse of it would fail the next probe for no fault of the server.
        .pool_max_idle_per_host(0)
        .build()
    {
        Ok(c) => c,
        Err(err) => return failed_all(&format!("no HTTP client: {err}")),
    };
    let url = |path: &str| base.join(path).unwrap_or_else(|_| base.clone());
    let page = match client.get(url("/")).send().await {
        Ok(r) => r,
        // The certificate or the connection failed: nothing else can be checked.
        Err(err) => return failed_all(&format!("GET {base} failed: {}", error_chain(&err))),
    };
    let page_headers = page.headers().clone();
    let https = base.scheme() == "https";
    let hsts = header(&page_headers, "strict-transport-security");
    let transport = if https {
        let ok = hsts.as_deref() == Some(STRICT_TRANSPORT_SECURITY);
        control(
            TRANSPORT,
            TRANSPORT_TITLE,
            ok,
            Status::Fail,
            format!(
                "{base} answered over TLS with a certificate the system trusts; Strict-Transport-Security: {}",
                hsts.as_deref().unwrap_or("(missing)")
            ),
        )
    } else {
        control(
            TRANSPORT,
            TRANSPORT_TITLE,
            false,
            if production { Status::Fail } else { Status::Warn },
            format!("{base} is plain HTTP: acceptable on a developer machine only"),
        )
    };

    // An API error, to see the headers there too and the error body.
    let missing = url("/api/v1/audit-probe-does-not-exist");
    let (errors, api_headers) = match client.get(missing).send().await {
        Ok(r) => {
            let status = r.status();
            let headers = r.headers().clone();
            let content_type = header(&headers, "content-type").unwrap_or_default();
            let body = r.text().await.unwrap_or_default();
            let leaks = ["panicked", "backtrace", "sea_orm", "sqlx", "src/", "SELECT "]
                .iter()
                .find(|l| body.contains(**l));
            let has_id = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("request_id").and_then(|i| i.as_str().map(str::to_owned)))
                .is_some();
            let ok = status == 404
                && content_type.starts_with("application/problem+json")
                && has_id
                && leaks.is_none();
            (
                control(
                    "S-MC-2",
                    ERRORS_TITLE,
                    ok,
                    Status::Fail,
                    format!(
                        "An unknown API path answered {status}, {content_type}, {}{}",
                        if has_id {
                            "with a request id"
                        } else {
                            "without a request id"
                        },
                        leaks
                            .map(|l| format!(", and its body mentions `{l}`"))
                            .unwrap_or_default()
                    ),
                ),
                Some(headers),
            )
        }
        Err(err) => (
            control("S-MC-2", ERRORS_TITLE, false, Status::Fail, error_chain(&err)),
            None,
        ),
    };

    let mut header_problems = Vec::new();
    for (what, headers) in [("page", Some(&page_headers)), ("API error", api_headers.as_ref())] {
        let Some(h) = headers else { continue };
        let csp = header(h, "content-security-policy").unwrap_or_default();
        // The payment provider's checkout may be added to form-action; the rest is fixed.
        if !csp.starts_with(CONTENT_SECURITY_POLICY)
            || csp.contains("unsafe-inline")
            || csp.contains("unsafe-eval")
        {
            header_problems.push(format!("{what}: Content-Security-Policy is `{csp}`"));
        }
        for (name, want) in [
            ("x-content-type-options", "nosniff"),
            ("cross-origin-opener-policy", "same-origin"),
        ] {
            if header(h, name).as_deref() != Some(want) {
                header_problems.push(format!("{what}: {name} is not `{want}`"));
            }
        }
        if header(h, "permissions-policy").is_none_or(|p| !p.contains("camera=()")) {
            header_problems.push(format!("{what}: Permissions-Policy does not deny the camera"));
        }
        for revealing in ["server", "x-powered-by"] {
            if let Some(v) = header(h, revealing) {
                header_problems.push(format!("{what}: `{revealing}: {v}` reveals the software"));
            }
        }
        let referrer = header(h, "referrer-policy").unwrap_or_default();
        if !matches!(
            referrer.as_str(),
            "strict-origin-when-cross-origin" | "no-referrer"
        ) {
            header_problems.push(format!("{what}: Referrer-Policy is `{referrer}`"));
        }
    }
    let headers = control(
        "S-MC-1",
        HEADERS_TITLE,
        header_problems.is_empty(),
        Status::Fail,
        if header_problems.is_empty() {
            "The home page and an API error both carry the required Content-Security-Policy (no unsafe-inline), X-Content-Type-Options: nosniff, Referrer-Policy, Cross-Origin-Opener-Policy: same-origin and Permissions-Policy, and no header names the software.".into()
        } else {
            header_problems.join("; ")
        },
    );

    let marker = "<script>sunbridgeAuditProbe()</script>";
    let mut reflect = url("/audit-probe");
    reflect.query_pairs_mut().append_pair("q", marker);
    let escaping = match client.get(reflect).send().await {
        Ok(r) => {
            let status = r.status();
            let body = r.text().await.unwrap_or_default();
            control(
                "S-IN-2",
                ESCAPING_TITLE,
                !body.contains(marker),
                Status::Fail,
                format!(
                    "A request carrying a script tag in its query answered {status}; the tag {} in the page.",
                    if body.contains(marker) {
                        "appears unescaped"
                    } else {
                        "does not appear unescaped"
                    }
                ),
            )
        }
        Err(err) => control("S-IN-2", ESCAPING_TITLE, false, Status::Fail, error_chain(&err)),
    };

    // One byte over the limit, to an endpoint that reads JSON. The body is refused by length
    // before any handler runs, so this is not a sign-in attempt.
    let oversized = vec![b' '; body_limit + 1];
    let body_limit = match client
        .post(url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(oversized)
        .send()
        .await
    {
        Ok(r) => control(
            "S-IN-3",
            BODY_TITLE,
            r.status() == 413,
            Status::Fail,
            format!(
                "A body one byte over the {} limit answered {}",
                bytes(body_limit),
                r.status()
            ),
        ),
        Err(err) => control("S-IN-3", BODY_TITLE, false, Status::Fail, error_chain(&err)),
    };

    let metrics = match client.get(url("/metrics")).send().await {
        Ok(r) => {
            let status = r.status();
            let body = r.text().await.unwrap_or_default();
            let exposed = status.is_success() && body.contains("# TYPE");
            control(
                "S-LG-3",
                METRICS_TITLE,
                !exposed,
                Status::Fail,
                format!(
                    "GET /metrics on the public address answered {status}{}",
                    if exposed { " with metrics" } else { "" }
                ),
            )
        }
        Err(err) => control("S-LG-3", METRICS_TITLE, false, Status::Fail, error_chain(&err)),
    };

    Probed {
        transport,
        headers,
        errors,
        escaping,
        body_limit,
        metrics,
    }
}

fn control(id: &'static str, title: &'static str, ok: bool, otherwise: Status, evidence: String) -> Control {
    Control {
        id,
        title,
        status: if ok { Status::Pass } else { otherwise },
        evidence,
    }
}

fn failed_all(why: &str) -> Probed {
    let failed = |id, title| Control {
        id,
        title,
        status: Status::Fail,
        evidence: why.to_owned(),
    };
    Probed {
        transport: failed(TRANSPORT, TRANSPORT_TITLE),
        headers: failed("S-MC-1", HEADERS_TITLE),
        errors: failed("S-MC-2", ERRORS_TITLE),
        escaping: failed("S-IN-2", ESCAPING_TITLE),
        body_limit: failed("S-IN-3", BODY_TITLE),
        metrics: failed("S-LG-3", METRICS_TITLE),
    }
}

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// The error and its causes (reqwest's top-level message hides a certificate problem).
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.join(": ")
}

pub(super) fn bytes(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}
