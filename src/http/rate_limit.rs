//! Request budgets (S-DE-3): a GCRA per key and class of route, from `governor` in this
//! process, or from one Lua script in Redis when replicas share it (so three replicas enforce
//! one budget). Which key a request is charged to, and what happens when it is over, is the
//! caller's business (`defence::rate`); this is only the arithmetic and its headers.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

/// What a route costs, and so which budget it draws on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// Reads: pages, lists, details.
    Read,
    /// Changes.
    Write,
    /// Work that costs real CPU, storage or money: quotes, usage imports, uploads, weather
    /// files, the security report, a full verification of the audit chain.
    Expensive,
}

impl Class {
    pub const ALL: [Class; 3] = [Class::Read, Class::Write, Class::Expensive];

    pub fn as_str(self) -> &'static str {
        match self {
            Class::Read => "read",
            Class::Write => "write",
            Class::Expensive => "expensive",
        }
    }

    fn index(self) -> usize {
        match self {
            Class::Read => 0,
            Class::Write => 1,
            Class::Expensive => 2,
        }
    }
}

/// Whom a budget is kept for: the first 16 bytes of a credential's SHA-256, or a client
/// address group (an IPv4 address as its mapped IPv6 form, an IPv6 client's /64). A plain
/// copyable value, so charging a request allocates nothing, and never a raw token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key([u8; 16]);

impl Key {
    /// A key from a digest of the credential (only its first 16 bytes are kept).
    pub fn from_digest(digest: &[u8; 32]) -> Self {
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest[..16]);
        Self(key)
    }

    /// The key of a client address's group (`client_ip::group`).
    pub fn address(ip: IpAddr) -> Self {
        Self(match super::client_ip::group(ip) {
            IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
            IpAddr::V6(v6) => v6.octets(),
        })
    }

    /// The key's name in a shared store.
    fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// One budget: `burst` requests at once, refilled at `per_minute`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub per_minute: u32,
    pub burst: u32,
}

impl Budget {
    /// Time for one request's worth to come back.
    pub fn interval(self) -> Duration {
        Duration::from_secs_f64(60.0 / f64::from(self.per_minute.max(1)))
    }

    /// The window of `RateLimit-Policy`: the time a spent burst takes to refill.
    pub fn window_secs(self) -> u64 {
        (self.interval().as_secs_f64() * f64::from(self.burst)).ceil() as u64
    }

    fn times(self, factor: u32) -> Self {
        Self {
            per_minute: self.per_minute.saturating_mul(factor.max(1)),
            burst: self.burst.saturating_mul(factor.max(1)),
        }
    }
}

/// The budgets of each class for one caller (an account's token or session); a client address
/// without a credential it has proved gets `address_factor` times as much, since a company
/// network or a carrier's NAT puts many people behind one address.
#[derive(Clone, Copy, Debug)]
pub struct Budgets {
    pub read: Budget,
    pub write: Budget,
    pub expensive: Budget,
    pub address_factor: u32,
}

impl Budgets {
    pub fn caller(&self, class: Class) -> Budget {
        match class {
            Class::Read => self.read,
            Class::Write => self.write,
            Class::Expensive => self.expensive,
        }
    }

    pub fn address(&self, class: Class) -> Budget {
        self.caller(class).times(self.address_factor)
    }
}

/// The answer for one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub budget: Budget,
    /// Requests left in the burst after this one.
    pub remaining: u32,
    /// Until the next request would be allowed (when refused), or until the burst is whole
    /// again (when allowed).
    pub reset: Duration,
}

impl Decision {
    /// Whole seconds to wait, at least one (a 429's `Retry-After`).
    pub fn retry_after_secs(&self) -> u64 {
        self.reset.as_secs_f64().ceil().max(1.0) as u64
    }

    /// `RateLimit` (draft-ietf-httpapi-ratelimit-headers): what is left and when it is whole.
    fn state_header(&self, class: Class) -> Option<HeaderValue> {
        let reset = if self.allowed {
            self.reset.as_secs_f64().ceil() as u64
        } else {
            self.retry_after_secs()
        };
        let mut remaining = itoa::Buffer::new();
        let mut reset_secs = itoa::Buffer::new();
        let name = class.as_str();
        let mut state = String::with_capacity(name.len() + 32);
        for part in [
            "\"",
            name,
            "\";r=",
            remaining.format(self.remaining),
            ";t=",
            reset_secs.format(reset),
        ] {
            state.push_str(part);
        }
        // The string's buffer becomes the header's bytes: one allocation, no copy.
        HeaderValue::from_maybe_shared(axum::body::Bytes::from(state)).ok()
    }
}

/// `RateLimit-Policy` (the same draft): the budget's size and window; one value per budget,
/// made once.
fn policy_header(class: Class, budget: Budget) -> HeaderValue {
    let policy = format!(
        "\"{}\";q={};w={}",
        class.as_str(),
        budget.burst,
        budget.window_secs()
    );
    HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static("\"default\""))
}

/// A budget kept elsewhere (Redis), shared by every replica.
#[async_trait::async_trait]
pub trait SharedBudgets: Send + Sync {
    /// Charges one request to `key` under `budget`; `Err` when the store did not answer.
    async fn charge(&self, key: &str, budget: Budget) -> Result<Decision, ()>;
}

type Keyed = RateLimiter<Key, DefaultKeyedStateStore<Key>, DefaultClock, StateInformationMiddleware>;

/// The limiters of this process, one per class and kind of key, built lazily per budget.
pub struct Limiter {
    /// [class][0 = caller, 1 = address]
    local: [[Keyed; 2]; 3],
    /// `RateLimit-Policy` of each budget, [class][kind] as `local`.
    policies: [[HeaderValue; 2]; 3],
    budgets: Budgets,
    shared: Option<Arc<dyn SharedBudgets>>,
    clock: DefaultClock,
    checks: AtomicU64,
    /// While Redis is away, requests are not held up asking it: after a failed call it is
    /// left alone until this many ms after `started`.
    shared_retry_at_ms: AtomicU64,
    started: std::time::Instant,
}

/// How long budgets stay per replica after Redis failed to answer.
const SHARED_RETRY: Duration = Duration::from_secs(5);

/// Every this many checks, keys idle long enough to be whole again are dropped.
const SWEEP_EVERY: u64 = 16_384;

fn keyed(budget: Budget) -> Keyed {
    let burst = NonZeroU32::new(budget.burst.max(1)).unwrap_or(NonZeroU32::MIN);
    let quota = Quota::with_period(budget.interval())
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst);
    RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>()
}

/// Who is charged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Caller,
    Address,
}

impl Kind {
    /// The name in metrics and shared-store keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Caller => "caller",
            Kind::Address => "address",
        }
    }

    fn index(self) -> usize {
        match self {
            Kind::Caller => 0,
            Kind::Address => 1,
        }
    }
}

impl Limiter {
    pub fn new(budgets: Budgets, shared: Option<Arc<dyn SharedBudgets>>) -> Self {
        let local = Class::ALL.map(|c| [keyed(budgets.caller(c)), keyed(budgets.address(c))]);
        let policies = Class::ALL.map(|c| {
            [
                policy_header(c, budgets.caller(c)),
                policy_header(c, budgets.address(c)),
            ]
        });
        Self {
            local,
            policies,
            budgets,
            shared,
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
            shared_retry_at_ms: AtomicU64::new(0),
            started: std::time::Instant::now(),
        }
    }

    pub fn budget(&self, class: Class, kind: Kind) -> Budget {
        match kind {
            Kind::Caller => self.budgets.caller(class),
            Kind::Address => self.budgets.address(class),
        }
    }

    /// Charges one request of `class` to `key`: in Redis when configured and answering,
    /// otherwise in this process (an outage degrades to per-replica budgets, never to none).
    pub async fn charge(&self, class: Class, kind: Kind, key: Key) -> Decision {
        let budget = self.budget(class, kind);
        if let Some(shared) = &self.shared
            && self.started.elapsed().as_millis() as u64 >= self.shared_retry_at_ms.load(Ordering::Relaxed)
        {
            let shared_key = format!("{}:{}:{}", class.as_str(), kind.as_str(), key.hex());
            match shared.charge(&shared_key, budget).await {
                Ok(decision) => return decision,
                Err(()) => {
                    tracing::warn!("request budgets fall back to this replica while Redis is away");
                    let now_ms = self.started.elapsed().as_millis() as u64;
                    self.shared_retry_at_ms
                        .store(now_ms + SHARED_RETRY.as_millis() as u64, Ordering::Relaxed);
                }
            }
        }
        self.charge_locally(class, kind, key)
    }

    /// Writes `RateLimit-Policy` and `RateLimit` for `decision`, charged as `class` to `kind`.
    pub fn write_headers(&self, class: Class, kind: Kind, decision: &Decision, headers: &mut HeaderMap) {
        headers.insert(
            "ratelimit-policy",
            self.policies[class.index()][kind.index()].clone(),
        );
        if let Some(state) = decision.state_header(class) {
            headers.insert("ratelimit", state);
        }
    }

    fn charge_locally(&self, class: Class, kind: Kind, key: Key) -> Decision {
        let budget = self.budget(class, kind);
        let limiter = &self.local[class.index()][kind.index()];
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            for pair in &self.local {
                for l in pair {
                    l.retain_recent();
                    l.shrink_to_fit();
                }
            }
        }
        match limiter.check_key(&key) {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity();
                let used = budget.burst.saturating_sub(remaining);
                Decision {
                    allowed: true,
                    budget,
                    remaining,
                    reset: budget.interval() * used,
                }
            }
            Err(not_until) => Decision {
                allowed: false,
                budget,
                remaining: 0,
                reset: not_until.wait_time_from(self.clock.now()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budgets() -> Budgets {
        Budgets {
            read: Budget {
                per_minute: 60,
                burst: 3,
            },
            write: Budget {
                per_minute: 60,
                burst: 2,
            },
            expensive: Budget {
                per_minute: 6,
                burst: 1,
            },
            address_factor: 2,
        }
    }

    fn key(name: u8) -> Key {
        Key::from_digest(&[name; 32])
    }

    #[tokio::test]
    async fn a_burst_then_refusal_with_the_wait_and_keys_apart() {
        let limiter = Limiter::new(budgets(), None);
        let (a, b) = (key(1), key(2));
        let remaining: Vec<u32> = [
            limiter.charge(Class::Read, Kind::Caller, a).await,
            limiter.charge(Class::Read, Kind::Caller, a).await,
            limiter.charge(Class::Read, Kind::Caller, a).await,
        ]
        .iter()
        .map(|d| {
            assert!(d.allowed);
            d.remaining
        })
        .collect();
        assert_eq!(remaining, [2, 1, 0]);
        let refused = limiter.charge(Class::Read, Kind::Caller, a).await;
        assert!(!refused.allowed);
        assert!(refused.reset <= Duration::from_secs(1) && refused.retry_after_secs() == 1);
        // Another key, another class, and the address budget are their own.
        assert!(limiter.charge(Class::Read, Kind::Caller, b).await.allowed);
        assert!(limiter.charge(Class::Write, Kind::Caller, a).await.allowed);
        for _ in 0..6 {
            assert!(limiter.charge(Class::Read, Kind::Address, a).await.allowed);
        }
        assert!(!limiter.charge(Class::Read, Kind::Address, a).await.allowed);
        // The expensive class waits ten seconds for its next one.
        assert!(limiter.charge(Class::Expensive, Kind::Caller, a).await.allowed);
        let slow = limiter.charge(Class::Expensive, Kind::Caller, a).await;
        assert!(!slow.allowed && slow.retry_after_secs() >= 9);
    }

    #[test]
    fn addresses_group_by_network() {
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(Key::address(v4), Key::address(mapped));
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let next_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(Key::address(one), Key::address(same_64));
        assert_ne!(Key::address(one), Key::address(next_64));
        assert_ne!(Key::address(v4), Key::address(one));
    }

    #[test]
    fn headers_follow_the_draft() {
        let limiter = Limiter::new(
            Budgets {
                read: Budget {
                    per_minute: 60,
                    burst: 30,
                },
                ..budgets()
            },
            None,
        );
        let d = Decision {
            allowed: true,
            budget: Budget {
                per_minute: 60,
                burst: 30,
            },
            remaining: 29,
            reset: Duration::from_millis(1000),
        };
        let mut h = HeaderMap::new();
        limiter.write_headers(Class::Read, Kind::Caller, &d, &mut h);
        assert_eq!(h["ratelimit-policy"], "\"read\";q=30;w=30");
        assert_eq!(h["ratelimit"], "\"read\";r=29;t=1");
        // The address's budget is the caller's times the factor; a refusal says when to retry.
        let refused = Decision {
            allowed: false,
            remaining: 0,
            reset: Duration::from_millis(1500),
            ..d
        };
        limiter.write_headers(Class::Read, Kind::Address, &refused, &mut h);
        assert_eq!(h["ratelimit-policy"], "\"read\";q=60;w=30");
        assert_eq!(h["ratelimit"], "\"read\";r=0;t=2");
    }
}
