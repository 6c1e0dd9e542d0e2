//! The navigation every page's layout shows. Plain data, so the error pages of the HTTP layer
//! can draw it too; what a signed-in caller sees is decided with the caller
//! (`auth::browser`, `Nav::for_caller`).

use super::assets;

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
    /// When the signed-in session ends (idle, absolute), for the app's clock (RFC 3339).
    pub session_deadlines: Option<(String, String)>,
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
            session_deadlines: None,
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
}
