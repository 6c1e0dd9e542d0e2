//! Routes that fail on purpose, so the black-box tests can prove how failures look from
//! outside. Mounted only when `debug_routes` is on, which production refuses.

use std::time::Duration;

use crate::access::{PUBLIC, Routes};
use axum::body::Bytes;
use axum::extract::Query;
use serde::Deserialize;

use crate::http::{ApiError, PageError};

pub fn router() -> Routes {
    Routes::new()
        .get("/__test/panic", PUBLIC, panic_now)
        .get("/__test/fail", PUBLIC, fail_page)
        .get("/api/v1/__test/fail", PUBLIC, fail_api)
        .get("/__test/slow", PUBLIC, slow)
        .post("/api/v1/__test/echo", PUBLIC, echo)
}

#[allow(clippy::panic)] // the point of this route
async fn panic_now() -> &'static str {
    panic!("deliberate panic with internal detail /srv/secret/path")
}

async fn fail_page() -> Result<&'static str, PageError> {
    Err(anyhow::anyhow!("SELECT * FROM users WHERE internal_detail = 1").into())
}

async fn fail_api() -> Result<&'static str, ApiError> {
    Err(anyhow::anyhow!("SELECT * FROM users WHERE internal_detail = 1").into())
}

#[derive(Deserialize)]
struct SlowQuery {
    ms: u64,
}

async fn slow(Query(q): Query<SlowQuery>) -> String {
    tokio::time::sleep(Duration::from_millis(q.ms.min(60_000))).await;
    format!("slept {} ms", q.ms)
}

async fn echo(body: Bytes) -> String {
    format!("{} bytes", body.len())
}
