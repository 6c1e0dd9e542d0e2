//! What changed in the marketplace, for the screens that stay open: a new or answered offer for
//! a crew, a new step on a job. The channel and the event streams; the watcher that feeds the
//! channel from the database is `watch` (it reads the domains, which this module must not, so
//! that the application state can hold the channel).

use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use sea_orm::DatabaseConnection;
use tokio::sync::broadcast;

use crate::ids::{CrewId, JobId, SessionId};

/// A change a stream may care about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
        Live { tx }
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
        // Sending fails only when no stream is open, which is no fault.
        let _ = self.tx.send(change);
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
}

/// How often a stream checks that its session was not ended (signed out elsewhere).
const SESSION_CHECK: Duration = Duration::from_secs(15);

/// An event stream: `first` at once, then `next` whenever `wanted` says a change is this
/// stream's (or the stream fell behind), until `until` or the session ends. Each event's data
/// is what `next` answers, as JSON.
pub fn stream<T, F, Fut, W>(
    db: DatabaseConnection,
    live: &Live,
    until: Until,
    name: &'static str,
    wanted: W,
    next: F,
) -> Sse<impl Stream<Item = Result<Event, Infallible>> + use<T, F, Fut, W>>
where
    T: serde::Serialize,
    W: Fn(Change) -> bool + Send + 'static,
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<T>> + Send,
{
    struct State<F, W> {
        rx: broadcast::Receiver<Change>,
        first: bool,
        ended: bool,
        next: F,
        wanted: W,
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
        wanted,
        check,
    };
    let session = until.session;
    let events = futures_util::stream::unfold(state, move |mut s| {
        let db = db.clone();
        async move {
            if s.ended {
                return None;
            }
            fn ending<F, W>(s: &mut State<F, W>, why: &str) -> Event {
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
                            if !crate::auth::session::is_live(&db, session, Utc::now()).await.unwrap_or(false) {
                                let e = ending(&mut s, "signed_out");
                                return Some((Ok(e), s));
                            }
                        }
                        got = s.rx.recv() => match got {
                            Ok(change) if (s.wanted)(change) => break,
                            Ok(_) => {}
                            Err(broadcast::error::RecvError::Lagged(_)) => break,
                            Err(broadcast::error::RecvError::Closed) => return None,
                        }
                    }
                }
            }
            s.first = false;
            let event = match (s.next)().await {
                Ok(data) => Event::default()
                    .event(name)
                    .json_data(data)
                    .unwrap_or_else(|_| ending(&mut s, "error")),
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
