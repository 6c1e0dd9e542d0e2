//! The public web shell: layout, landing and FAQ pages, static assets, problem-code pages.

pub mod assets;
pub mod chart;
pub mod confirm;
pub mod error_pages;
mod nav;
mod pages;
pub mod start;

pub use nav::Nav;

use crate::access::{PUBLIC, Routes};

/// Renders a page with its status.
pub fn render(
    status: axum::http::StatusCode,
    page: &impl askama::Template,
) -> Result<axum::response::Response, crate::http::PageError> {
    use axum::response::IntoResponse;
    let body = page
        .render()
        .map_err(|e| anyhow::Error::from(e).context("template failed"))?;
    Ok((status, axum::response::Html(body)).into_response())
}

/// A message from the services ("use at least 12 characters") as a sentence for a page.
pub fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>() + ".",
        None => String::new(),
    }
}

pub fn router() -> Routes {
    Routes::new()
        .get("/", PUBLIC, pages::landing)
        .get("/faq", PUBLIC, pages::faq)
        .get(start::START, crate::access::Permission::OwnAccount, start::start)
        .get("/problems/{code}", PUBLIC, pages::problem)
        .get("/static/{file}", PUBLIC, pages::asset)
}
