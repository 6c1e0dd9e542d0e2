//! What a sign-in needs from the application: the database, the hasher, mail, keys, the
//! throttle and the token lifetimes. Its own module, so the password and second-factor steps
//! can share it without importing each other.

use sea_orm::DatabaseConnection;
use secrecy::SecretString;

use crate::mail::Mailer;

use super::password::PasswordHasher;
use super::session::{BrowserLifetimes, TokenLifetimes};
use super::throttle::{self, Rules};

pub struct LoginContext<'a> {
    pub db: &'a DatabaseConnection,
    pub hasher: &'a PasswordHasher,
    pub mailer: &'a Mailer,
    pub secret_key: &'a SecretString,
    pub rules: &'a Rules,
    /// Where throttle counters are kept (the database, or Redis when configured).
    pub counters: throttle::Counters<'a>,
    pub lifetimes: TokenLifetimes,
    pub browser: BrowserLifetimes,
    pub public_url: &'a url::Url,
    /// Cleared after every committed change to sessions or accounts.
    pub auth_cache: &'a super::cache::AuthCache,
}
