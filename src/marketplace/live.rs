//! What changed in the marketplace, for the screens that stay open: a new or answered offer for
//! a crew, a new step on a job. The channel and the event streams; the watcher that feeds the
//! channel from the database is `watch` (it reads the domains, which this module must not, so
//! that the application state can hold the channel).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use sea_orm::DatabaseConnection;
use tokio::sync::broadcast;

use crate::ids::{CrewId, JobId, SessionId, UserId};

/// A change a stream may care about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Change {
    /// The crew's open offers changed (one made, answered, expired or withdrawn).
    Offers(CrewId),
    /// A step was recorded on the job.
    Job(JobId),
}

/// The watcher's channel: every open stream holds a receiver.
#[derive(Clone)]
pub struct Live {
    tx: broadcast::Sender<Change>,
    /// What the streams of one subject last read, by subject: after a change, the first stream
    /// to wake reads it and the others reuse that read (a thousand phones of one crew make one
    /// query, not a thousand).
    reads: Arc<Mutex<HashMap<Change, Arc<tokio::sync::Mutex<Read>>>>>,
    /// How many changes each subject has had.
    generations: Arc<Mutex<HashMap<Change, u64>>>,
}

/// One subject's last read: the generation it was made at and its JSON.
#[derive(Default)]
struct Read {
    generation: Option<u64>,
    json: Arc<String>,
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}

impl Live {
    pub fn new() -> Live {
        // A slow stream that falls this far behind is told "something changed" and reloads.
        let (tx, _) = broadcast::channel(1024);
        Live {
            tx,
            reads: Arc::default(),
            generations: Arc::default(),
        }
    }

    fn generation(&self, subject: Change) -> u64 {
        self.generations
            .lock()
            .map(|g| g.get(&subject).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    fn read_slot(&self, subject: Change) -> Arc<tokio::sync::Mutex<Read>> {
        match self.reads.lock() {
            Ok(mut reads) => reads.entry(subject).or_default().clone(),
            // A poisoned map only costs the sharing: this stream reads alone.
            Err(_) => Arc::default(),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.tx.subscribe()
    }

    /// Open streams, for the metrics and the benchmark.
    pub fn listeners(&self) -> usize {
        self.tx.receiver_count()
    }

    /// Tells every open stream about `change`.
    pub fn tell(&self, change: Change) {
        if let Ok(mut generations) = self.generations.lock() {
            *generations.entry(change).or_default() += 1;
        }
        // Sending fails only when no stream is open, which is no fault.
        let _ = self.tx.send(change);
    }

    /// Drops the shared reads and their generations (no stream is open; nothing told keeps
    /// them current, and they would only grow).
    pub fn forget(&self) {
        if let Ok(mut reads) = self.reads.lock() {
            reads.clear();
        }
        if let Ok(mut generations) = self.generations.lock() {
            generations.clear();
        }
    }

    /// Whether any stream is open (the watcher reads nothing when none is).
    pub fn watched(&self) -> bool {
        self.tx.receiver_count() > 0
    }
}

/// A stream's end: the session's idle or absolute deadline, or the access token's expiry. The
/// stream is not activity: it never extends the session, and the app reconnects only when the
/// person uses it again.
pub struct Until {
    pub deadline: DateTime<Utc>,
    pub session: SessionId,
    pub idle: crate::auth::session::IdleRule,
    /// For a crew's stream: the installer and the crew it speaks for. It ends when the
    /// installer leaves that crew (or joins one), checked with the session.
    pub member: Option<(UserId, Option<CrewId>)>,
}

/// How often a stream checks that its session was not ended (signed out elsewhere).
const SESSION_CHECK: Duration = Duration::from_secs(15);

/// The data of `subject` as JSON: the read shared by the streams of the subject when it is of
/// the current generation, else a new read (made by one stream while the others wait for it).
/// A stream's first event always reads afresh: changes made while no stream was open were told
/// to nobody.
async fn shared_read<T, F, Fut>(
    live: &Live,
    subject: Change,
    fresh: bool,
    next: &F,
) -> anyhow::Result<Arc<String>>
where
    T: serde::Serialize,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let slot = live.read_slot(subject);
    let mut read = slot.lock().await;
    let generation = live.generation(subject);
    if !fresh && read.generation == Some(generation) {
        return Ok(read.json.clone());
    }
    let json = Arc::new(serde_json::to_string(&next().await?)?);
    *read = Read {
        generation: Some(generation),
        json: json.clone(),
    };
    Ok(json)
}

/// An event stream about `subject`: its data at once, then again at each change of the subject
/// (or when the stream fell behind), until `until` or the session ends. Each event's data is
/// what `next` answers, as JSON, read once for all the subject's streams.
pub fn stream<T, F, Fut>(
    db: DatabaseConnection,
    live: &Live,
    until: Until,
    name: &'static str,
    subject: Change,
    next: F,
) -> Sse<impl Stream<Item = Result<Event, Infallible>> + use<T, F, Fut>>
where
    T: serde::Serialize,
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<T>> + Send,
{
    struct State<F> {
        rx: broadcast::Receiver<Change>,
        first: bool,
        ended: bool,
        next: F,
        live: Live,
        check: tokio::time::Interval,
    }
    let deadline = until.deadline;
    let wait = (deadline - Utc::now()).to_std().unwrap_or_default();
    let end_at = tokio::time::Instant::now() + wait;
    let mut check = tokio::time::interval(SESSION_CHECK);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let state = State {
        rx: live.subscribe(),
        first: true,
        ended: false,
        next,
        live: live.clone(),
        check,
    };
    let (session, idle, member) = (until.session, until.idle, until.member);
    let events = futures_util::stream::unfold(state, move |mut s| {
        let db = db.clone();
        async move {
            if s.ended {
                return None;
            }
            fn ending<F>(s: &mut State<F>, why: &str) -> Event {
                s.ended = true;
                Event::default().event("end").data(why)
            }
            if !s.first {
                loop {
                    tokio::select! {
                        () = tokio::time::sleep_until(end_at) => {
                            let e = ending(&mut s, "deadline");
                            return Some((Ok(e), s));
                        }
                        _ = s.check.tick() => {
                            if !crate::auth::session::is_live(&db, session, Utc::now(), idle).await.unwrap_or(false) {
                                let e = ending(&mut s, "signed_out");
                                return Some((Ok(e), s));
                            }
                            if let Some((user, crew)) = member {
                                let now_in = crate::crews::service::crew_of(&db, user).await;
                                if !now_in.is_ok_and(|c| c == crew) {
                                    let e = ending(&mut s, "crew_changed");
                                    return Some((Ok(e), s));
                                }
                            }
                        }
                        got = s.rx.recv() => match got {
                            Ok(change) if change == subject => break,
                            Ok(_) => {}
                            Err(broadcast::error::RecvError::Lagged(_)) => break,
                            Err(broadcast::error::RecvError::Closed) => return None,
                        }
                    }
                }
            }
            let fresh = std::mem::replace(&mut s.first, false);
            let event = match shared_read(&s.live, subject, fresh, &s.next).await {
                Ok(json) => Event::default().event(name).data(json.as_str()),
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "a live stream could not read its data");
                    ending(&mut s, "error")
                }
            };
            Some((Ok(event), s))
        }
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}
