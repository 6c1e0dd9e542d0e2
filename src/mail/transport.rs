use std::sync::Arc;

use anyhow::Context;
use lettre::message::{Mailbox, Message, header::ContentType};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::config::{MailTransport, Settings};

#[derive(Clone)]
pub struct Transport {
    from: Mailbox,
    kind: Arc<Kind>,
}

enum Kind {
    File(AsyncFileTransport<Tokio1Executor>),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl Transport {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let from: Mailbox = settings
            .mail_from
            .parse()
            .context("mail_from is not a valid mailbox")?;
        let kind = match settings.mail_transport {
            MailTransport::File => {
                let dir = settings.data_dir.join("mail");
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("Failed to create the mail directory {}", dir.display()))?;
                Kind::File(AsyncFileTransport::new(dir))
            }
            MailTransport::Smtp => {
                let url = settings
                    .smtp_url
                    .as_ref()
                    .context("smtp_url is required for the smtp transport")?;
                // `smtps://` is implicit TLS, `smtp://…?tls=required` STARTTLS; the URL may
                // hold credentials, so the error does not repeat it.
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .map_err(|_| anyhow::anyhow!("smtp_url is not a valid SMTP URL"))?
                    .build();
                Kind::Smtp(transport)
            }
        };
        Ok(Self {
            from,
            kind: Arc::new(kind),
        })
    }

    pub async fn send(&self, to: &str, subject: &str, body: &str) -> anyhow::Result<()> {
        let to: Mailbox = to.parse().context("recipient is not a valid mailbox")?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .context("Failed to build the message")?;
        match self.kind.as_ref() {
            Kind::File(t) => t
                .send(message)
                .await
                .map(|_| ())
                .context("Failed to write the message file"),
            Kind::Smtp(t) => t
                .send(message)
                .await
                .map(|_| ())
                .context("The SMTP relay refused the message"),
        }
    }
}
