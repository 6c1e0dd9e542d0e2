//! Identity: accounts, passwords. Sessions, tokens, MFA and throttling grow here.

pub mod api;
pub mod email_token;
pub mod model;
pub mod pages;
pub mod password;
pub mod service;
pub mod signup;
pub(crate) mod store;

pub use model::{EmailAddress, PersonName};
pub use password::{Password, PasswordHasher, PasswordProblem};
pub use service::{AccountError, NewAccount, create_account};
