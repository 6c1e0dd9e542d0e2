//! A short-lived cache of API access-token lookups. A bearer request otherwise costs two
//! database reads (session, account); with the cache, a token seen within the last second
//! costs none.
//!
//! Correctness rests on two rules: every change to sessions or accounts on this replica
//! clears the cache after its commit (`clear`), and entries live at most `ttl` (1 s), so a
//! revocation made on another replica is honoured within that time (S-AC-7).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::model::Authenticated;

#[derive(Clone)]
pub struct CachedAuth {
    pub caller: Authenticated,
    pub token_expires_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone)]
pub struct AuthCache {
    entries: Option<moka::sync::Cache<String, Arc<CachedAuth>>>,
    /// The other replicas, told to forget theirs when this one forgets.
    shared: Option<Arc<crate::replica_sync::Shared>>,
}

impl AuthCache {
    /// A `ttl` of zero turns caching off.
    pub fn new(ttl: Duration, shared: Option<Arc<crate::replica_sync::Shared>>) -> Self {
        let entries = (!ttl.is_zero()).then(|| {
            moka::sync::Cache::builder()
                .time_to_live(ttl)
                .max_capacity(100_000)
                .build()
        });
        Self { entries, shared }
    }

    /// The cached lookup of a token hash, if it is fresh and the token is still within its
    /// lifetimes.
    pub fn get(&self, token_hash: &str, now: DateTime<Utc>) -> Option<Authenticated> {
        let hit = self.entries.as_ref()?.get(token_hash)?;
        (hit.token_expires_at > now && hit.expires_at > now).then(|| hit.caller.clone())
    }

    pub fn put(&self, token_hash: String, entry: CachedAuth) {
        if let Some(entries) = &self.entries {
            entries.insert(token_hash, Arc::new(entry));
        }
    }

    /// Forgets every entry: call after any committed change to sessions or accounts. With
    /// Redis, every other replica forgets too, at once.
    pub fn clear(&self) {
        self.clear_local();
        if let Some(shared) = self.shared.clone()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move { shared.publish(crate::replica_sync::Topic::Auth).await });
        }
    }

    /// Forgets this replica's entries (an invalidation from another replica).
    pub fn clear_local(&self) {
        if let Some(entries) = &self.entries {
            entries.invalidate_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;
    use crate::ids::{SessionId, UserId};

    fn entry(token_expires_at: DateTime<Utc>) -> CachedAuth {
        CachedAuth {
            caller: Authenticated {
                user: UserId::new(),
                role: Role::Customer,
                session: SessionId::new(),
                authenticated_at: Utc::now(),
                mfa_enabled: false,
                email: "a@example.com".into(),
                name: "A".into(),
                email_verified: true,
                phone: None,
                credential_expires_at: token_expires_at,
            },
            token_expires_at,
            expires_at: token_expires_at,
        }
    }

    #[test]
    fn entries_expire_are_cleared_and_never_outlive_their_token() {
        let now = Utc::now();
        let cache = AuthCache::new(Duration::from_millis(100), None);
        cache.put("a".into(), entry(now + chrono::TimeDelta::minutes(5)));
        assert!(cache.get("a", now).is_some());
        assert!(
            cache.get("a", now + chrono::TimeDelta::minutes(6)).is_none(),
            "token expired"
        );
        cache.clear();
        assert!(cache.get("a", now).is_none(), "cleared");
        cache.put("b".into(), entry(now + chrono::TimeDelta::minutes(5)));
        std::thread::sleep(Duration::from_millis(150));
        assert!(cache.get("b", now).is_none(), "time to live");
        let off = AuthCache::new(Duration::ZERO, None);
        off.put("c".into(), entry(now + chrono::TimeDelta::minutes(5)));
        assert!(off.get("c", now).is_none(), "ttl 0 turns caching off");
    }
}
