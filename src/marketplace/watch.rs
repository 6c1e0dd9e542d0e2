//! The watcher behind the live screens: once a second it reads the offers made or answered and
//! the timeline events recorded since its last look and tells the open streams (`live`). Every
//! replica runs its own, so a change committed anywhere (a booking on another replica, the
//! dispatcher moving an offer on, a payment webhook) reaches every stream, and nothing that
//! writes has to remember to announce it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::DatabaseConnection;
use tokio::sync::Mutex;

use super::live::{Change, Live};

/// How far back each look reaches past the last one: a row committed a little after the time
/// it carries (its transaction was slow) is still seen, once.
const OVERLAP: TimeDelta = TimeDelta::seconds(10);

struct Watch {
    /// The newest change seen; each look reads from a little before it.
    since: DateTime<Utc>,
    /// Changes told already, by row id, with the time they were told at.
    told: HashMap<uuid::Uuid, DateTime<Utc>>,
}

/// Runs the watcher under `supervisor`: a look every `every`.
pub fn start(
    live: Live,
    supervisor: &crate::supervisor::Supervisor,
    db: DatabaseConnection,
    every: Duration,
) {
    let watch = Arc::new(Mutex::new(Watch {
        since: Utc::now(),
        told: HashMap::new(),
    }));
    supervisor.periodic("live", crate::supervisor::Schedule::every(every), move || {
        let (db, live, watch) = (db.clone(), live.clone(), watch.clone());
        async move {
            let mut watch = watch.lock().await;
            if !live.watched() {
                // Nobody is looking: nothing to read, and nothing old to tell later.
                watch.since = Utc::now();
                watch.told.clear();
                live.forget();
                return Ok(crate::supervisor::Next::Wait);
            }
            let from = watch.since - OVERLAP;
            let mut latest = watch.since;
            let mut changes = Vec::new();
            let offers = crate::scheduling::dispatch::changed_since(&db, from).await?;
            let steps = crate::jobs::service::events_since(&db, from).await?;
            let found = offers
                .into_iter()
                .map(|(id, crew, at)| (id, Change::Offers(crew), at))
                .chain(steps.into_iter().map(|(id, job, at)| (id, Change::Job(job), at)));
            for (id, change, at) in found {
                // A row seen again with a newer time changed again (an offer made, then
                // answered within the overlap).
                let new = watch.told.get(&id).is_none_or(|told| *told < at);
                if new {
                    watch.told.insert(id, at);
                    if !changes.contains(&change) {
                        changes.push(change);
                    }
                }
                latest = latest.max(at);
            }
            for change in changes {
                live.tell(change);
            }
            watch.since = latest;
            watch.told.retain(|_, at| *at > latest - OVERLAP);
            Ok(crate::supervisor::Next::Wait)
        }
    });
}
