//! Demo data for a first look on a laptop: one account per role, then the marketplace (crews
//! with calendars, and a sample order at every step of the job). Refused in production.
//! Passwords are random, printed once to the terminal, and never stored in plain text.

mod market;

use secrecy::SecretString;

use crate::access::Role;
use crate::audit::{self, Action, Actor, Details};
use crate::auth::{self, AccountError, EmailAddress, NewAccount, Password, PersonName};
use crate::state::AppState;

pub(crate) const CUSTOMER: &str = "customer@demo.sunbridge.test";
pub(crate) const INSTALLER: &str = "installer@demo.sunbridge.test";
pub(crate) const ADMIN: &str = "admin@demo.sunbridge.test";

const DEMO_ACCOUNTS: &[(Role, &str, &str)] = &[
    (Role::Customer, "customer@demo.sunbridge.test", "Dana Customer"),
    (Role::Installer, "installer@demo.sunbridge.test", "Ivan Installer"),
    (Role::Support, "support@demo.sunbridge.test", "Sam Support"),
    (Role::Sales, "sales@demo.sunbridge.test", "Sasha Sales"),
    (Role::Engineer, "engineer@demo.sunbridge.test", "Eli Engineer"),
    (Role::Admin, "admin@demo.sunbridge.test", "Ada Admin"),
];

pub async fn seed(state: &AppState) -> anyhow::Result<()> {
    anyhow::ensure!(
        !state.settings.is_production(),
        "demo data is never seeded in production"
    );
    let mut created = Vec::new();
    for (role, email, name) in DEMO_ACCOUNTS {
        let email = EmailAddress::parse(email)?;
        let name = PersonName::parse(name)?;
        let password = Password::parse(SecretString::from(demo_password()), &[])
            .map_err(|e| anyhow::Error::from(e).context("generated demo password refused"))?;
        let shown = password.expose().to_owned();
        let hash = state.hasher.hash(password).await?;
        let account = NewAccount {
            email: email.clone(),
            name,
            role: *role,
            password_hash: Some(hash),
            email_verified: true,
        };
        match auth::create_account(&state.db, account, &Actor::system()).await {
            Ok(_) => created.push((*role, email, shown)),
            Err(AccountError::EmailTaken) => {}
            Err(err) => return Err(err.into()),
        }
    }
    market::seed(state).await?;
    if created.is_empty() {
        eprintln!("Demo accounts already exist; no account created.");
        return Ok(());
    }
    audit::record(
        &state.db,
        &Actor::system(),
        Action::DemoDataSeeded,
        None,
        Details::new().with("accounts", created.len() as i64),
    )
    .await?;
    eprintln!("Demo accounts (passwords are shown this once):");
    for (role, email, password) in &created {
        eprintln!("  {:<9} {:<32} {}", role.as_str(), email.as_str(), password);
    }
    Ok(())
}

/// Four random words from a fixed list joined by dashes, plus two digits: easy to type.
fn demo_password() -> String {
    use rand::Rng;
    use rand::seq::SliceRandom;
    const WORDS: &[&str] = &[
        "amber", "basalt", "cedar", "delta", "ember", "fjord", "granite", "harbor", "indigo", "juniper",
        "kestrel", "lagoon", "meadow", "nimbus", "orchid", "pebble", "quartz", "raven", "sierra", "tundra",
        "umber", "violet", "willow", "yarrow", "zephyr", "copper", "falcon", "glacier", "heron", "lantern",
    ];
    let mut rng = rand::rngs::OsRng;
    let words: Vec<&str> = WORDS.choose_multiple(&mut rng, 4).copied().collect();
    format!("{}-{:02}", words.join("-"), rng.gen_range(10..100))
}
