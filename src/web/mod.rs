//! The public web shell: layout, landing and FAQ pages, static assets, problem-code pages.

pub mod app;
pub mod assets;
pub mod chart;
pub mod confirm;
pub mod error_pages;
pub mod form;
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

/// Marks a page the phone's app may keep for working without signal (a crew's Today and its
/// jobs); the service worker keeps nothing else.
pub fn keep_offline(mut response: axum::response::Response) -> axum::response::Response {
    response.headers_mut().insert(
        axum::http::HeaderName::from_static("x-keep-offline"),
        axum::http::HeaderValue::from_static("1"),
    );
    response
}

/// A message from the services ("use at least 12 characters") as a sentence for a page.
pub fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>() + ".",
        None => String::new(),
    }
}

/// Text written in Markdown (the security report's evidence: `code`, *emphasis*) as inline
/// HTML, escaped by the Markdown renderer. Raw HTML in the text is shown as text, never as
/// markup, and block structure is flattened to its inline content.
pub fn inline_markdown(text: &str) -> String {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd, html};
    let events = Parser::new(text).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Paragraph) | Event::End(TagEnd::Paragraph) => None,
        other => Some(other),
    });
    let mut out = String::with_capacity(text.len() + 16);
    html::push_html(&mut out, events);
    out.trim_end().to_owned()
}

pub fn router() -> Routes {
    Routes::new()
        .get("/", PUBLIC, pages::landing)
        .get("/faq", PUBLIC, pages::faq)
        .get(start::START, crate::access::Permission::OwnAccount, start::start)
        .get("/problems/{code}", PUBLIC, pages::problem)
        .get("/static/{file}", PUBLIC, pages::asset)
        .get("/manifest.webmanifest", PUBLIC, app::manifest)
        .get("/sw.js", PUBLIC, app::service_worker)
        .get(app::OFFLINE, PUBLIC, app::offline)
        .get("/session", crate::access::Permission::OwnAccount, app::session)
}

#[cfg(test)]
mod tests {
    use super::inline_markdown;

    #[test]
    fn markdown_code_becomes_code_and_html_stays_text() {
        assert_eq!(
            inline_markdown("set `hsts = true` in *production*"),
            "set <code>hsts = true</code> in <em>production</em>"
        );
        assert_eq!(
            inline_markdown("<script>alert(1)</script> & <b>x</b>"),
            "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;x&lt;/b&gt;"
        );
    }
}
