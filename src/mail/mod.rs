//! Outgoing mail through an outbox. A message is a row written in the transaction of the change
//! that causes it, so it is sent only if that change commits; a background worker delivers
//! it afterwards with retries, so a slow relay never holds up a request.
//!
//! Transports: `file` (development and tests: one `.eml` per message in `<data_dir>/mail/`)
//! and `smtp` (lettre over TLS) for production.

mod outbox;

pub(crate) use outbox::entity as outbox_entity;
mod transport;

use std::sync::Arc;

use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::Notify;

use crate::auth::EmailAddress;
use crate::config::Settings;

pub use transport::Transport;

/// A message ready to queue. Bodies are plain text rendered from templates.
pub struct OutgoingMail {
    pub to: EmailAddress,
    pub subject: String,
    pub body: String,
}

/// Queues `mail` in the caller's transaction. Call `Mailer::wake` after the commit.
pub async fn enqueue<C: crate::db::Conn>(conn: &C, mail: OutgoingMail) -> Result<(), DbErr> {
    outbox::insert(conn, mail).await
}

/// Queues a notice to an address read back from the database (it was validated when stored).
pub async fn enqueue_to_stored<C: crate::db::Conn>(
    conn: &C,
    address: &str,
    subject: impl Into<String>,
    body: String,
) -> anyhow::Result<()> {
    let to = EmailAddress::parse(address).map_err(|e| anyhow::anyhow!("stored email address: {e}"))?;
    outbox::insert(
        conn,
        OutgoingMail {
            to,
            subject: subject.into(),
            body,
        },
    )
    .await?;
    Ok(())
}

/// Handle on the delivery worker.
#[derive(Clone)]
pub struct Mailer {
    wake: Arc<Notify>,
}

impl Mailer {
    /// Starts the delivery worker for this process under `supervisor`.
    pub fn start(
        db: DatabaseConnection,
        settings: &Settings,
        supervisor: &crate::supervisor::Supervisor,
    ) -> anyhow::Result<Self> {
        let transport = Arc::new(Transport::from_settings(settings)?);
        let wake = Arc::new(Notify::new());
        let retry_base = settings.workers().mail_retry_base;
        let schedule = crate::supervisor::Schedule {
            // Retries fall due while nobody wakes the worker: look at least this often.
            every: retry_base.clamp(
                std::time::Duration::from_secs(1),
                std::time::Duration::from_secs(5),
            ),
            wake: Some(wake.clone()),
        };
        supervisor.periodic("mail", schedule, move || {
            outbox::deliver_pass(db.clone(), transport.clone(), retry_base)
        });
        Ok(Self { wake })
    }

    /// Tells the worker that committed mail is waiting.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}
