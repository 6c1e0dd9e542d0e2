//! Object-level refusals (S-AC-3). A caller who reaches for someone else's object is told
//! "not found", exactly as if it did not exist, and the attempt goes to the audit trail as
//! an authorization failure.

use sea_orm::DatabaseConnection;

use super::Permission;
use crate::audit::{self, Action, Actor, Details, Target};

/// Records the refusal (best effort: a failed write is logged, the caller still gets 404).
pub async fn refused(db: &DatabaseConnection, actor: &Actor, target: Target, permission: Permission) {
    tracing::warn!(
        target_kind = target.kind,
        permission = permission.name(),
        "authorization failure: object outside the caller's reach"
    );
    let details = Details::new().with("permission", permission.name());
    if let Err(e) = audit::record(db, actor, Action::ObjectAccessDenied, Some(target), details).await {
        tracing::error!(error = %e, "could not record an authorization failure");
    }
}
