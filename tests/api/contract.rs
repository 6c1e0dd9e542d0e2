//! The OpenAPI document is the contract: schemathesis (a pinned version, installed by
//! `.ci/run`'s `contract` stage) generates requests from it, as a customer and as an admin, and
//! fails on any server error, an answer whose status or body the document does not describe,
//! a response of the wrong type, or a request the document calls invalid that the server
//! accepts (the document is never looser than it says). The converse check (every request the
//! document allows is accepted) is not run: business rules a schema cannot say, such as a
//! token that expired, a signature or a password's strength, refuse requests of the right
//! shape. Bounded in examples and time. Ignored unless
//! `SCHEMATHESIS` names the program.

use sunbridge::access::Role;

use crate::helpers::spawn_app_with;

#[tokio::test]
#[ignore = "needs schemathesis (SCHEMATHESIS=path; the CI contract stage)"]
async fn generated_requests_meet_the_openapi_contract() {
    let program = std::env::var("SCHEMATHESIS").expect("SCHEMATHESIS names the schemathesis program");
    let max_examples = std::env::var("SCHEMATHESIS_MAX_EXAMPLES").unwrap_or_else(|_| "25".into());
    let app = spawn_app_with(|s| {
        // Budgets wide enough that generated traffic is judged, not refused.
        s.rate_read_burst = 1_000_000;
        s.rate_write_burst = 1_000_000;
        s.rate_expensive_burst = 1_000_000;
    })
    .await;
    let customer = app.member("ann@example.com", Role::Customer).await;
    let admin = app.member("ada@example.com", Role::Admin).await;
    let mut failures = Vec::new();
    for (who, token) in [("customer", &customer.token), ("admin", &admin.token)] {
        let out = tokio::process::Command::new(&program)
            .args([
                "run",
                &app.url("/api/v1/openapi.json"),
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,negative_data_rejection",
                "--phases",
                "examples,coverage,fuzzing",
                "--max-examples",
                &max_examples,
                "--max-time",
                "150",
                "--workers",
                "2",
                // Signing out, or ending one's own session by its id (listed by GET
                // /me/sessions), would end the session the rest of the run uses; both are
                // attacked in login.rs.
                "--exclude-path",
                "/api/v1/auth/logout",
                "--exclude-path",
                "/api/v1/me/sessions/{id}",
                "--header",
                &format!("Authorization: Bearer {token}"),
                "--no-color",
            ])
            .output()
            .await
            .expect("schemathesis runs");
        let report =
            String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        println!("==== schemathesis as {who}\n{report}");
        if !out.status.success() {
            failures.push(who);
        }
    }
    assert!(
        failures.is_empty(),
        "the contract is broken for: {failures:?} (reports above)"
    );
}
