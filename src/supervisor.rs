//! Background work under one supervisor: mail delivery, offer dispatch, webhooks, audit
//! checkpoints, housekeeping, gauges, the Redis subscription and the metrics listener.
//!
//! Every worker has a name its log lines and metrics carry. A worker is a *pass* run on a
//! schedule: a pass that fails or panics is logged with the worker's name and run again after a
//! backoff (1 s, doubling, at most the worker's period or a minute), so one bad row or a
//! database hiccup never ends the work for the life of the process. On shutdown the supervisor
//! stops starting passes and waits for the ones in flight, up to the grace period: a mail being
//! sent is recorded as sent, an offer being moved is moved, rather than cut off half-way.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

/// What a pass found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Done for now: the next pass comes on schedule.
    Wait,
    /// More is waiting (a full batch): the next pass comes at once.
    Again,
}

/// When a worker's passes run.
#[derive(Clone)]
pub struct Schedule {
    /// Between two passes that found nothing more to do.
    pub every: Duration,
    /// Notified when work arrives, to run a pass before `every` has passed.
    pub wake: Option<Arc<Notify>>,
}

impl Schedule {
    pub fn every(every: Duration) -> Self {
        Self { every, wake: None }
    }
}

/// The longest wait after failed passes, unless the worker's own period is longer.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The wait before the pass after `failures` failed ones in a row.
fn backoff(every: Duration, failures: u32) -> Duration {
    let doubled = Duration::from_secs(1).saturating_mul(1u32 << failures.saturating_sub(1).min(16));
    doubled.min(every.max(MAX_BACKOFF))
}

/// Runs and stops the background workers of one process. Cloning shares it.
#[derive(Clone)]
pub struct Supervisor {
    stop: CancellationToken,
    tasks: TaskTracker,
    /// When `stop` was called: the grace period counts from there.
    stopped_at: Arc<Mutex<Option<Instant>>>,
}

impl Default for Supervisor {
    fn default() -> Self {
        Self::new()
    }
}

impl Supervisor {
    pub fn new() -> Self {
        Self {
            stop: CancellationToken::new(),
            tasks: TaskTracker::new(),
            stopped_at: Arc::default(),
        }
    }

    /// Runs `pass` on `schedule` until shutdown. A pass in flight is never interrupted.
    pub fn periodic<F, Fut>(&self, name: &'static str, schedule: Schedule, mut pass: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<Next>> + Send + 'static,
    {
        let stop = self.stop.clone();
        let span = tracing::info_span!("worker", worker = name);
        self.tasks.spawn(
            async move {
                let mut failures = 0u32;
                while !stop.is_cancelled() {
                    let wait = match AssertUnwindSafe(pass()).catch_unwind().await {
                        Ok(Ok(next)) => {
                            failures = 0;
                            metrics::counter!("sunbridge_worker_passes_total", "worker" => name, "outcome" => "ok")
                                .increment(1);
                            match next {
                                Next::Again => Duration::ZERO,
                                Next::Wait => schedule.every,
                            }
                        }
                        Ok(Err(e)) => {
                            failures += 1;
                            metrics::counter!("sunbridge_worker_passes_total", "worker" => name, "outcome" => "failed")
                                .increment(1);
                            tracing::error!(error = %format!("{e:#}"), failures, "worker pass failed");
                            backoff(schedule.every, failures)
                        }
                        Err(_) => {
                            failures += 1;
                            metrics::counter!("sunbridge_worker_passes_total", "worker" => name, "outcome" => "panicked")
                                .increment(1);
                            tracing::error!(failures, "worker pass panicked; running it again after a pause");
                            backoff(schedule.every, failures)
                        }
                    };
                    if wait.is_zero() {
                        continue;
                    }
                    let woken = async {
                        match &schedule.wake {
                            Some(wake) => wake.notified().await,
                            None => std::future::pending().await,
                        }
                    };
                    tokio::select! {
                        () = stop.cancelled() => {}
                        () = tokio::time::sleep(wait) => {}
                        // A wake-up does not cut a backoff short: failing work is not retried
                        // faster because more of it arrived.
                        () = woken, if failures == 0 => {}
                    }
                }
                tracing::debug!("worker stopped");
            }
            .instrument(span),
        );
    }

    /// Runs a long-lived service (a listener, a subscription) until it ends or shutdown; it is
    /// handed the token that says when to stop, and is not restarted (each keeps its own
    /// connection alive).
    pub fn service<F, Fut>(&self, name: &'static str, run: F)
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let work = run(self.stop.clone());
        let span = tracing::info_span!("worker", worker = name);
        self.tasks.spawn(
            async move {
                match AssertUnwindSafe(work).catch_unwind().await {
                    Ok(Ok(())) => tracing::debug!("worker stopped"),
                    Ok(Err(e)) => tracing::error!(error = %format!("{e:#}"), "worker ended with an error"),
                    Err(_) => tracing::error!("worker panicked"),
                }
            }
            .instrument(span),
        );
    }

    /// Tells every worker to stop after its current pass.
    pub fn stop(&self) {
        if let Ok(mut at) = self.stopped_at.lock() {
            at.get_or_insert_with(Instant::now);
        }
        self.stop.cancel();
    }

    /// Stops the workers and waits for their passes in flight, at most `grace` from when
    /// `stop` was first called. `false` when some were still running at the deadline.
    pub async fn shutdown(&self, grace: Duration) -> bool {
        self.stop();
        self.tasks.close();
        let since = self
            .stopped_at
            .lock()
            .ok()
            .and_then(|at| *at)
            .map_or(Duration::ZERO, |at| at.elapsed());
        let left = grace.saturating_sub(since);
        let finished = tokio::time::timeout(left, self.tasks.wait()).await.is_ok();
        if !finished {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "background work still running after the grace period; stopping anyway"
            );
        }
        finished
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[test]
    fn backoff_doubles_from_a_second_up_to_a_minute_or_the_period() {
        let second = Duration::from_secs(1);
        assert_eq!(backoff(second, 1), second);
        assert_eq!(backoff(second, 3), Duration::from_secs(4));
        assert_eq!(backoff(second, 30), MAX_BACKOFF);
        let hour = Duration::from_secs(3600);
        assert_eq!(backoff(hour, 30), hour);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_or_panicking_pass_runs_again_and_shutdown_waits_for_the_pass_in_flight() {
        let supervisor = Supervisor::new();
        let passes = Arc::new(AtomicU32::new(0));
        let finished = Arc::new(AtomicU32::new(0));
        let (p, f) = (passes.clone(), finished.clone());
        supervisor.periodic("test", Schedule::every(Duration::from_secs(1)), move || {
            let n = p.fetch_add(1, Ordering::SeqCst) + 1;
            let f = f.clone();
            async move {
                match n {
                    1 => anyhow::bail!("a database hiccup"),
                    2 => panic!("a bug in one row"),
                    _ => {
                        // A slow pass: shutdown must let it finish.
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        f.fetch_add(1, Ordering::SeqCst);
                        Ok(Next::Wait)
                    }
                }
            }
        });
        // Failure, panic, then the third pass starts after the backoffs (1 s, 2 s).
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert_eq!(
            passes.load(Ordering::SeqCst),
            3,
            "the worker outlived a failure and a panic"
        );
        assert_eq!(finished.load(Ordering::SeqCst), 0, "the third pass is in flight");
        assert!(supervisor.shutdown(Duration::from_secs(30)).await);
        assert_eq!(finished.load(Ordering::SeqCst), 1, "the pass in flight finished");
        assert_eq!(passes.load(Ordering::SeqCst), 3, "no pass started after the stop");
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_gives_up_at_the_end_of_the_grace_period() {
        let supervisor = Supervisor::new();
        supervisor.periodic("stuck", Schedule::every(Duration::from_secs(1)), || async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(Next::Wait)
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!supervisor.shutdown(Duration::from_secs(5)).await);
    }

    #[tokio::test(start_paused = true)]
    async fn a_wake_up_runs_a_pass_before_its_time() {
        let supervisor = Supervisor::new();
        let wake = Arc::new(Notify::new());
        let passes = Arc::new(AtomicU32::new(0));
        let p = passes.clone();
        supervisor.periodic(
            "woken",
            Schedule {
                every: Duration::from_secs(600),
                wake: Some(wake.clone()),
            },
            move || {
                p.fetch_add(1, Ordering::SeqCst);
                async { Ok(Next::Wait) }
            },
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(passes.load(Ordering::SeqCst), 1);
        wake.notify_one();
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(passes.load(Ordering::SeqCst), 2);
        assert!(supervisor.shutdown(Duration::from_secs(1)).await);
    }
}
