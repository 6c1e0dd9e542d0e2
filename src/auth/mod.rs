//! Identity: accounts, passwords. Sessions, tokens, MFA and throttling grow here.

pub mod model;
pub mod password;
pub mod service;
mod store;

pub use model::{EmailAddress, PersonName};
pub use password::{Password, PasswordHasher, PasswordProblem};
pub use service::{AccountError, NewAccount, create_account};
