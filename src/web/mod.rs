//! The public web shell: layout, landing and FAQ pages, static assets, problem-code pages.

pub mod assets;
pub mod chart;
mod pages;

use crate::access::{PUBLIC, Routes};

/// What the layout needs on every page.
pub struct Nav {
    pub css_url: &'static str,
    pub current: &'static str,
    /// The signed-in user's CSRF token, for the sign-out form; `None` when signed out.
    pub signed_in_csrf: Option<String>,
    /// Show the link to the back office (staff whose role holds a back-office permission).
    pub back_office: bool,
    /// Show the link to the caller's homes (customers).
    pub sites: bool,
    /// Show the link to the caller's orders (customers).
    pub orders: bool,
    /// Show the link to the installer portal (installers).
    pub installer: bool,
}

impl Default for Nav {
    fn default() -> Self {
        Self {
            css_url: assets::css_url(),
            current: "",
            signed_in_csrf: None,
            back_office: false,
            sites: false,
            orders: false,
            installer: false,
        }
    }
}

impl Nav {
    pub fn at(current: &'static str) -> Self {
        Self {
            current,
            ..Self::default()
        }
    }

    /// Navigation for a page seen by `caller` (or by a visitor when `None`).
    pub fn for_caller(current: &'static str, caller: Option<&crate::auth::browser::PageCaller>) -> Self {
        use crate::access::{Permission, policy::allows};
        let holds = |p: Permission| caller.is_some_and(|c| allows(c.role, p) && !c.must_enrol());
        Self {
            current,
            signed_in_csrf: caller.map(|c| c.csrf.clone()),
            back_office: caller
                .is_some_and(|c| crate::access::policy::has_back_office(c.role) && !c.must_enrol()),
            sites: holds(Permission::OwnSites),
            orders: holds(Permission::OwnOrders),
            installer: holds(Permission::WorkJobs),
            ..Self::default()
        }
    }
}

/// Renders a page with its status.
pub fn render(
    status: axum::http::StatusCode,
    page: &impl askama::Template,
) -> Result<axum::response::Response, crate::http::PageError> {
    use axum::response::IntoResponse;
    let body = page
        .render()
        .map_err(|e| crate::http::PageError::Internal(anyhow::anyhow!("template failed: {e}")))?;
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
        .get("/problems/{code}", PUBLIC, pages::problem)
        .get("/static/{file}", PUBLIC, assets::serve)
}
