//! Identity: accounts, passwords. Sessions, tokens, MFA and throttling grow here.

pub mod account_pages;
pub mod api;
pub mod browser;
pub mod cache;
pub mod cookies;
pub mod credentials;
mod device;
pub mod email_token;
mod entity;
mod error;
pub mod extract;
pub mod housekeeping;
pub mod login;
mod login_context;
pub mod lookup;
pub mod me_api;
pub mod mfa;
pub mod mfa_api;
pub mod model;
pub mod pages;
pub mod password;
pub mod profile;
pub mod search;
pub mod service;
pub mod session;
pub mod sign_in_pages;
pub mod sign_out;
pub mod signup;
pub(crate) mod store;
pub mod throttle;

pub use lookup::{Contact, contact_of, id_by_email, names_of, role_of};
pub use model::{EmailAddress, PersonName};
pub use password::{Password, PasswordHasher, PasswordProblem};
pub use service::{AccountError, NewAccount, create_account};

use crate::access::Routes;

/// Sign-up, sign-in and the account, for the API and the browser.
pub fn router() -> Routes {
    api::router()
        .merge(me_api::router())
        .merge(mfa_api::router())
        .merge(pages::router())
        .merge(sign_in_pages::router())
        .merge(account_pages::router())
}
