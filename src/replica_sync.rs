//! State shared by replicas through Redis, when `redis_url` is set.
//!
//! - Throttle counters live in Redis: one hash per key, updated by a Lua script so a failure
//!   counts once however many replicas record failures at the same instant.
//! - Invalidations are published on one channel: a session or account change on any replica
//!   clears every replica's one-second token cache at once, and a block made or lifted reloads
//!   every replica's block list.
//!
//! The database stays the source of truth for sessions, accounts and blocks. If Redis goes
//! away, the token cache falls back to its one-second lifetime and block lists to their
//! one-second reload; sign-in throttling fails closed (the caller answers 503 with
//! Retry-After), never open. The connection manager reconnects by itself, and the subscriber
//! loop resubscribes, so recovery needs no one.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;

/// Counts one failure and answers the block's end (ms since the epoch, 0 when not blocked).
/// KEYS[1] the counter; ARGV: now ms, quiet ms, threshold, "1" for an address rule, address
/// block ms, longest penalty s.
const RECORD_FAILURE: &str = r"
local f = tonumber(redis.call('HGET', KEYS[1], 'f') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'l') or '0')
local p = tonumber(redis.call('HGET', KEYS[1], 'p') or '0')
local now = tonumber(ARGV[1])
if now - last > tonumber(ARGV[2]) then f = 0; p = 0 end
f = f + 1
local blocked = 0
if ARGV[4] == '1' then
  if f > tonumber(ARGV[3]) then blocked = now + tonumber(ARGV[5]) end
elseif f >= tonumber(ARGV[3]) then
  if p == 0 then p = 1 else p = math.min(p * 2, tonumber(ARGV[6])) end
  blocked = now + p * 1000
end
redis.call('HSET', KEYS[1], 'f', f, 'l', now, 'p', p, 'u', blocked)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[5]) + tonumber(ARGV[6]) * 1000)
return blocked
";

/// Charges one request to a budget by GCRA (S-DE-3), on Redis's clock so replicas with skewed
/// clocks agree. KEYS[1] the budget's key; ARGV: the interval between requests (µs), the burst.
/// Answers {allowed, remaining after this one, µs until the next is allowed (refused) or the
/// burst is whole again (allowed)}.
const CHARGE_BUDGET: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = interval * (tonumber(ARGV[2]) - 1)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if now < tat - tolerance then
  return {0, 0, tat - tolerance - now}
end
local next_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', math.ceil((next_tat - now) / 1000) + 1000)
return {1, math.floor((now + tolerance - tat) / interval), next_tat - now}
";

/// What an invalidation is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topic {
    /// Sessions or accounts changed: clear the token caches.
    Auth,
    /// Address blocks changed: reload the block lists.
    Blocks,
}

impl Topic {
    fn as_str(self) -> &'static str {
        match self {
            Topic::Auth => "auth",
            Topic::Blocks => "blocks",
        }
    }
}

pub struct Shared {
    client: redis::Client,
    /// Every key and the channel start with it (`redis_prefix`), so environments can share a
    /// Redis without seeing each other's counters.
    prefix: String,
    manager: Mutex<Option<ConnectionManager>>,
    script: redis::Script,
    budget_script: redis::Script,
}

/// How long a Redis call may take before the caller treats Redis as down.
const TIMEOUT: Duration = Duration::from_millis(800);

impl Shared {
    pub fn new(url: &SecretString, prefix: &str) -> anyhow::Result<Arc<Self>> {
        let client = redis::Client::open(url.expose_secret())
            .map_err(|_| anyhow::anyhow!("redis_url is not a Redis URL"))?;
        Ok(Arc::new(Self {
            client,
            prefix: prefix.to_owned(),
            manager: Mutex::new(None),
            script: redis::Script::new(RECORD_FAILURE),
            budget_script: redis::Script::new(CHARGE_BUDGET),
        }))
    }

    /// A connection: the managed one (which reconnects by itself), made on first use.
    async fn conn(&self) -> redis::RedisResult<ConnectionManager> {
        let mut slot = self.manager.lock().await;
        if let Some(m) = slot.as_ref() {
            return Ok(m.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(2));
        let manager = self.client.get_connection_manager_with_config(config).await?;
        *slot = Some(manager.clone());
        Ok(manager)
    }

    async fn with_timeout<T>(
        &self,
        call: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, Unavailable> {
        match tokio::time::timeout(TIMEOUT * 2, call).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "Redis call failed");
                Err(Unavailable)
            }
            Err(_) => {
                tracing::warn!("Redis call timed out");
                Err(Unavailable)
            }
        }
    }

    fn throttle_key(&self, key: &str) -> String {
        format!("{}:throttle:{key}", self.prefix)
    }

    fn channel(&self) -> String {
        format!("{}:invalidate", self.prefix)
    }

    /// Is Redis answering? (readiness and the audit report).
    pub async fn ping(&self) -> bool {
        self.with_timeout(async {
            let mut c = self.conn().await?;
            redis::cmd("PING").query_async::<String>(&mut c).await
        })
        .await
        .is_ok()
    }

    /// When the block on `key` ends, if it is blocked.
    pub async fn throttle_blocked_until(&self, key: &str) -> Result<Option<DateTime<Utc>>, Unavailable> {
        let until: Option<i64> = self
            .with_timeout(async {
                let mut c = self.conn().await?;
                c.hget(self.throttle_key(key), "u").await
            })
            .await?;
        Ok(until.filter(|u| *u > 0).and_then(DateTime::from_timestamp_millis))
    }

    pub async fn throttle_record_failure(
        &self,
        key: &str,
        now: DateTime<Utc>,
        rule: FailureRule,
    ) -> Result<(), Unavailable> {
        self.with_timeout(async {
            let mut c = self.conn().await?;
            self.script
                .key(self.throttle_key(key))
                .arg(now.timestamp_millis())
                .arg(rule.quiet.num_milliseconds())
                .arg(rule.threshold)
                .arg(if rule.per_address { "1" } else { "0" })
                .arg(rule.address_block.num_milliseconds())
                .arg(rule.max_penalty_secs)
                .invoke_async::<i64>(&mut c)
                .await
        })
        .await
        .map(|_| ())
    }

    pub async fn throttle_clear(&self, key: &str) -> Result<(), Unavailable> {
        self.with_timeout(async {
            let mut c = self.conn().await?;
            c.del::<_, ()>(self.throttle_key(key)).await
        })
        .await
    }

    /// Tells every replica (this one included) that `topic` changed. Best effort: without
    /// Redis the one-second lifetimes still bound how late other replicas see it.
    pub async fn publish(&self, topic: Topic) {
        let _ = self
            .with_timeout(async {
                let mut c = self.conn().await?;
                c.publish::<_, _, ()>(self.channel(), topic.as_str()).await
            })
            .await;
    }

    /// Listens for invalidations under `supervisor` until shutdown, resubscribing after an
    /// outage.
    pub fn start_subscriber(
        self: &Arc<Self>,
        supervisor: &crate::supervisor::Supervisor,
        on: impl Fn(Topic) + Send + Sync + 'static,
    ) {
        let client = self.client.clone();
        let channel = self.channel();
        supervisor.service("redis-subscriber", move |stop| async move {
            let mut delay = Duration::from_millis(200);
            loop {
                let listen = async {
                    match client.get_async_pubsub().await {
                        Ok(mut pubsub) => {
                            if pubsub.subscribe(&channel).await.is_ok() {
                                delay = Duration::from_millis(200);
                                // Whatever was missed while away: clear everything once.
                                on(Topic::Auth);
                                on(Topic::Blocks);
                                let mut messages = pubsub.on_message();
                                while let Some(msg) = messages.next().await {
                                    match msg.get_payload::<String>().as_deref() {
                                        Ok("auth") => on(Topic::Auth),
                                        Ok("blocks") => on(Topic::Blocks),
                                        _ => {}
                                    }
                                }
                            }
                            tracing::warn!("Redis subscription ended; resubscribing");
                        }
                        Err(e) => tracing::warn!(error = %e, "Redis subscription failed; retrying"),
                    }
                };
                tokio::select! {
                    () = stop.cancelled() => return Ok(()),
                    () = listen => {}
                }
                tokio::select! {
                    () = stop.cancelled() => return Ok(()),
                    () = tokio::time::sleep(delay) => {}
                }
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        });
    }
}

#[async_trait::async_trait]
impl crate::http::rate_limit::SharedBudgets for Shared {
    async fn charge(
        &self,
        key: &str,
        budget: crate::http::rate_limit::Budget,
    ) -> Result<crate::http::rate_limit::Decision, ()> {
        let (allowed, remaining, micros): (i64, i64, i64) = self
            .with_timeout(async {
                let mut c = self.conn().await?;
                self.budget_script
                    .key(format!("{}:rate:{key}", self.prefix))
                    .arg(budget.interval().as_micros() as u64)
                    .arg(budget.burst.max(1))
                    .invoke_async(&mut c)
                    .await
            })
            .await
            .map_err(|_| ())?;
        Ok(crate::http::rate_limit::Decision {
            allowed: allowed == 1,
            budget,
            remaining: u32::try_from(remaining.max(0)).unwrap_or(u32::MAX),
            reset: Duration::from_micros(u64::try_from(micros.max(0)).unwrap_or(0)),
        })
    }
}

/// Redis did not answer in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the shared state (Redis) is unavailable")]
pub struct Unavailable;

/// The rule a failure is counted under (the numbers of `throttle::Rules`).
#[derive(Clone, Copy, Debug)]
pub struct FailureRule {
    pub quiet: chrono::TimeDelta,
    pub threshold: i32,
    pub per_address: bool,
    pub address_block: chrono::TimeDelta,
    pub max_penalty_secs: i32,
}
