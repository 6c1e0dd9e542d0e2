//! Ending sessions on the owner's request, for the API and the pages alike: the session
//! ends, the audit row is written in the same transaction, and this replica's token cache
//! forgets it at once.

use chrono::Utc;
use sea_orm::DatabaseConnection;

use crate::audit::{self, Action, Actor, Details, Target};
use crate::ids::{SessionId, UserId};

use super::cache::AuthCache;
use super::session::{self, EndReason};

/// Signs out of `current` (the session making the request).
pub async fn sign_out(
    db: &DatabaseConnection,
    cache: &AuthCache,
    actor: &Actor,
    user: UserId,
    current: SessionId,
) -> anyhow::Result<()> {
    let tx = crate::db::begin(db).await?;
    session::end(&tx, current, EndReason::Logout, Utc::now()).await?;
    let details = Details::new().with("session", current.0);
    audit::record(&tx, actor, Action::Logout, Some(Target::user(user)), details).await?;
    tx.commit().await?;
    cache.clear();
    Ok(())
}

/// Ends one of `user`'s sessions; false when `session` is not theirs (the caller answers
/// "not found", S-AC-3).
pub async fn end_one(
    db: &DatabaseConnection,
    cache: &AuthCache,
    actor: &Actor,
    user: UserId,
    session: SessionId,
) -> anyhow::Result<bool> {
    let tx = crate::db::begin(db).await?;
    if !session::end_own(&tx, user, session, Utc::now()).await? {
        drop(tx);
        let target = Target {
            kind: "session",
            id: session.to_string(),
        };
        crate::access::object::refused(db, actor, target, crate::access::Permission::OwnAccount).await;
        return Ok(false);
    }
    let details = Details::new().with("session", session.0);
    audit::record(
        &tx,
        actor,
        Action::SessionEnded,
        Some(Target::user(user)),
        details,
    )
    .await?;
    tx.commit().await?;
    cache.clear();
    Ok(true)
}

/// Ends every session of `user` but `current`.
pub async fn end_others(
    db: &DatabaseConnection,
    cache: &AuthCache,
    actor: &Actor,
    user: UserId,
    current: SessionId,
) -> anyhow::Result<()> {
    let tx = crate::db::begin(db).await?;
    let ended = session::end_all_except(&tx, user, Some(current), EndReason::EndedByUser, Utc::now()).await?;
    let details = Details::new().with("sessions", ended as i64);
    audit::record(
        &tx,
        actor,
        Action::SessionEnded,
        Some(Target::user(user)),
        details,
    )
    .await?;
    tx.commit().await?;
    cache.clear();
    Ok(())
}
