//! A step before what cannot be undone (cancelling an order, booking a day, declining an offer,
//! disabling an account, lifting a block, signing out everywhere): the button posts its form as
//! before; without `confirmed=yes` the handler answers with this page, which says what will
//! happen and posts the same fields again with it. No script, so the strict CSP stays and the
//! step works alike with a keyboard, a screen reader or a phone.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use super::Nav;
use crate::http::PageError;

/// The field a confirmation page adds to the form it posts again.
pub const FIELD: &str = "confirmed";

/// Whether a form came from the confirmation page (`confirmed=yes`).
pub fn given(value: &str) -> bool {
    value == "yes"
}

/// A form that is a button and nothing else (sign out everywhere, lift a block): its CSRF
/// token, and the confirmation's yes once the step has been shown.
#[derive(serde::Deserialize)]
pub struct ConfirmOnly {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirmed: String,
}

impl ConfirmOnly {
    pub fn confirmed(&self) -> bool {
        given(&self.confirmed)
    }
}

impl crate::auth::browser::CsrfProtected for ConfirmOnly {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Template)]
#[template(path = "confirm.html")]
pub struct Confirmation {
    pub nav: Nav,
    /// The question, as the page's heading: "Cancel this order?".
    pub title: String,
    /// What will happen, one consequence a line.
    pub will_happen: Vec<String>,
    /// Where the form posts (the action's own route).
    pub action: String,
    /// The form's fields to post again, the CSRF token among them.
    pub fields: Vec<(&'static str, String)>,
    /// The button that does it: "Yes, cancel the order".
    pub confirm: &'static str,
    /// Whether doing it loses something (the button is drawn as a warning).
    pub destructive: bool,
    /// The way back without doing anything.
    pub back: String,
    pub back_label: &'static str,
}

impl Confirmation {
    pub fn page(&self) -> Result<Response, PageError> {
        super::render(StatusCode::OK, self)
    }
}
