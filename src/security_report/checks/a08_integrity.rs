//! The controls of A08 Software and Data Integrity Failures.

use super::*;

pub(super) async fn audit_chain(i: &Inputs<'_>, now: DateTime<Utc>) -> anyhow::Result<Control> {
    use crate::audit::chain::{self, checkpoint};
    let report = chain::verify(i.db, &i.checkpoint_key, None).await?;
    let latest = checkpoint::Entity::find()
        .order_by_desc(checkpoint::Column::Seq)
        .one(i.db)
        .await?;
    let every =
        chrono::TimeDelta::from_std(i.settings.workers().audit_checkpoint).unwrap_or(chrono::TimeDelta::MAX);
    // Rows written after the newest checkpoint are covered only by the chain itself until the
    // next one: a checkpoint more than two periods old means the checkpointer is not running.
    let behind = match &latest {
        Some(c) => c.seq < report.last_seq && now - c.created_at > every * 2,
        None => report.last_seq > 0,
    };
    let mut evidence = format!(
        "Checked {} rows and {} signed checkpoints; the chain ends at position {} ({}).",
        report.checked,
        report.checkpoints,
        report.last_seq,
        &report.last_hash[..16.min(report.last_hash.len())]
    );
    if let Some(c) = &latest {
        evidence.push_str(&format!(
            " Newest checkpoint at position {}, {}.",
            c.seq,
            c.created_at.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    let status = match &report.problem {
        Some(problem) => {
            evidence.push_str(&format!(" TAMPERED: {}", problem.message));
            Status::Fail
        }
        None if behind => {
            evidence.push_str(&format!(
                " Rows were written after the newest signed checkpoint and none was signed since, although a running server signs one every {} s: is one running?",
                every.num_seconds()
            ));
            Status::Warn
        }
        None => Status::Pass,
    };
    Ok(control(
        "S-IT-1",
        "Audit trail intact (hash chain and signed checkpoints)",
        status,
        evidence,
    ))
}

pub(super) fn webhooks_signed(s: &Settings) -> Control {
    let configured = s.payment_webhook_secret.is_some();
    control(
        "S-IT-2",
        "Webhooks accepted only when signed and fresh",
        pass_or(configured, shortfall(s)),
        format!(
            "Payment webhooks need an HMAC-SHA256 signature over a timestamp within 5 minutes, with the {} secret; outgoing installer webhooks are signed the same way with a per-company secret, sealed at rest.",
            if configured {
                "configured"
            } else {
                "development (derived)"
            }
        ),
    )
}
