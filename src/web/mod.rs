//! The public web shell: layout, landing and FAQ pages, static assets, problem-code pages.

pub mod assets;
mod pages;

use crate::access::{PUBLIC, Routes};

/// What the layout needs on every page.
pub struct Nav {
    pub css_url: &'static str,
    pub current: &'static str,
    /// The signed-in user's CSRF token, for the sign-out form; `None` when signed out.
    pub signed_in_csrf: Option<String>,
}

impl Default for Nav {
    fn default() -> Self {
        Self {
            css_url: assets::css_url(),
            current: "",
            signed_in_csrf: None,
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
        Self {
            current,
            signed_in_csrf: caller.map(|c| c.csrf.clone()),
            ..Self::default()
        }
    }
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
