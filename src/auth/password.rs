//! Passwords: the S-AU-1 policy and argon2id hashing (S-CR-1).

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = 128;
const PRODUCT_NAMES: &[&str] = &["sunbridge"];

/// A password that passed the policy. It is never printed: no `Debug` beyond a placeholder.
pub struct Password(SecretString);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Why a password was refused, worded for the person choosing it.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error(
        "use at least {MIN_CHARS} characters; a few unrelated words make a long password that is easy to remember"
    )]
    TooShort,
    #[error("use at most {MAX_CHARS} characters")]
    TooLong,
    #[error("the password contains the name of this service; choose something unrelated")]
    ContainsProductName,
    #[error("the password contains your name or email address; choose something unrelated")]
    ContainsPersonalInfo,
    #[error("this password is too easy to guess{0}")]
    TooGuessable(String),
}

impl PasswordProblem {
    /// Stable code for the API's `errors[].code`.
    pub fn code(&self) -> &'static str {
        match self {
            PasswordProblem::TooShort => "too_short",
            PasswordProblem::TooLong => "too_long",
            PasswordProblem::ContainsProductName => "contains_product_name",
            PasswordProblem::ContainsPersonalInfo => "contains_personal_info",
            PasswordProblem::TooGuessable(_) => "too_guessable",
        }
    }
}

impl Password {
    /// Checks S-AU-1. `personal` holds the user's email and name: parts of them may not
    /// appear in the password. The password is compared exactly as typed (no trimming or
    /// normalisation), and any Unicode is allowed.
    pub fn parse(raw: SecretString, personal: &[&str]) -> Result<Self, PasswordProblem> {
        let text = raw.expose_secret();
        // Length first and cheaply: zxcvbn's cost grows with the input.
        let chars = text.chars().count();
        if chars > MAX_CHARS {
            return Err(PasswordProblem::TooLong);
        }
        if chars < MIN_CHARS {
            return Err(PasswordProblem::TooShort);
        }
        let lower = text.to_lowercase();
        if PRODUCT_NAMES.iter().any(|p| lower.contains(p)) {
            return Err(PasswordProblem::ContainsProductName);
        }
        let personal_parts: Vec<String> = personal
            .iter()
            .flat_map(|s| s.split(|c: char| !c.is_alphanumeric()))
            .filter(|part| part.chars().count() >= 4)
            .map(str::to_lowercase)
            .collect();
        if personal_parts.iter().any(|part| lower.contains(part.as_str())) {
            return Err(PasswordProblem::ContainsPersonalInfo);
        }
        let mut inputs: Vec<&str> = personal_parts.iter().map(String::as_str).collect();
        inputs.extend(PRODUCT_NAMES);
        let estimate = zxcvbn::zxcvbn(text, &inputs);
        if u8::from(estimate.score()) < 3 {
            let hint = estimate
                .feedback()
                .and_then(|f| f.warning())
                .map(|w| format!(": {w}"))
                .unwrap_or_default();
            return Err(PasswordProblem::TooGuessable(hint));
        }
        Ok(Self(raw))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// argon2id hashing on a bounded number of blocking threads: a flood of logins queues here
/// instead of exhausting memory (19 MiB per hash) or starving the async workers.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    pool: Arc<HashPool>,
    /// Verified against when the account does not exist, so that an unknown email costs
    /// the same hash as a known one (S-AU-2).
    dummy_hash: Arc<str>,
}

impl PasswordHasher {
    /// OWASP's argon2id minimum (m=19 MiB, t=2, p=1); S-CR-1 forbids anything weaker.
    pub fn new(parallel_hashes: usize) -> anyhow::Result<Self> {
        let params = Params::new(19 * 1024, 2, 1, None)
            .map_err(|e| anyhow::anyhow!("invalid argon2 parameters: {e}"))?;
        let threads = parallel_hashes.max(1);
        let mut hasher = Self {
            params,
            permits: Arc::new(Semaphore::new(threads)),
            pool: Arc::new(HashPool::new(threads)?),
            dummy_hash: Arc::from(""),
        };
        let dummy = SecretString::from(crate::crypto::random_token());
        hasher.dummy_hash = Arc::from(hasher.hash_secret(&dummy)?);
        Ok(hasher)
    }

    /// Waits for one of the bounded hashing slots. Hold it across the throttle check and the
    /// verification, so that concurrent guesses cannot all pass the check at once.
    pub async fn permit(&self) -> anyhow::Result<tokio::sync::OwnedSemaphorePermit> {
        Ok(self.permits.clone().acquire_owned().await?)
    }

    /// Verifies on the blocking pool; the caller holds a `permit`.
    pub async fn verify(&self, candidate: SecretString, stored: Option<String>) -> anyhow::Result<bool> {
        let hasher = self.clone();
        let stored_or_dummy = stored.unwrap_or_else(|| self.dummy_hash.to_string());
        hasher
            .pool
            .clone()
            .run(move || hasher.verify_blocking(&candidate, &stored_or_dummy))
            .await
    }

    /// True when `stored` uses weaker parameters than ours (re-hash at the next sign-in, S-CR-1).
    pub fn needs_rehash(&self, stored: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(stored) else {
            return true;
        };
        if parsed.algorithm.as_str() != "argon2id" {
            return true;
        }
        let Ok(params) = Params::try_from(&parsed) else {
            return true;
        };
        params.m_cost() < self.params.m_cost()
            || params.t_cost() < self.params.t_cost()
            || params.p_cost() < self.params.p_cost()
    }

    fn hash_secret(&self, secret: &SecretString) -> anyhow::Result<String> {
        let salt = SaltString::generate(&mut OsRng);
        self.argon2()
            .hash_password(secret.expose_secret().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
    }

    /// Hashes a password again with the current parameters (after it verified at sign-in).
    pub async fn rehash(&self, password: SecretString) -> anyhow::Result<String> {
        let hasher = self.clone();
        hasher
            .pool
            .clone()
            .run(move || hasher.hash_secret(&password))
            .await?
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// PHC string with algorithm, parameters and a random 16-byte salt.
    pub fn hash_blocking(&self, password: &Password) -> anyhow::Result<String> {
        self.hash_secret(&password.0)
    }

    pub async fn hash(&self, password: Password) -> anyhow::Result<String> {
        let _permit = self.permits.clone().acquire_owned().await?;
        let hasher = self.clone();
        hasher
            .pool
            .clone()
            .run(move || hasher.hash_blocking(&password))
            .await?
    }

    /// True when `candidate` matches the stored PHC string.
    pub fn verify_blocking(&self, candidate: &SecretString, stored: &str) -> bool {
        match PasswordHash::new(stored) {
            Ok(parsed) => self
                .argon2()
                .verify_password(candidate.expose_secret().as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of threads for argon2. Tokio's blocking pool would run hashes on whichever of
/// its (up to 512) threads is free, and each of them keeps its own 19 MiB allocator arena
/// afterwards; a few dedicated threads keep the memory of a login flood at a few hashes.
struct HashPool {
    jobs: std::sync::Mutex<std::sync::mpsc::Sender<Job>>,
}

impl HashPool {
    fn new(threads: usize) -> anyhow::Result<Self> {
        let (sender, receiver) = std::sync::mpsc::channel::<Job>();
        let receiver = Arc::new(std::sync::Mutex::new(receiver));
        for i in 0..threads {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while waiting for the next job.
                        let job = match receiver.lock() {
                            Ok(guard) => guard.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => {
                                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                            }
                            // Every sender is gone: the hasher was dropped.
                            Err(_) => return,
                        }
                    }
                })?;
        }
        Ok(Self {
            jobs: std::sync::Mutex::new(sender),
        })
    }

    async fn run<T: Send + 'static>(
        self: Arc<Self>,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        self.jobs
            .lock()
            .map_err(|_| anyhow::anyhow!("hash pool lock poisoned"))?
            .send(job)
            .map_err(|_| anyhow::anyhow!("hash pool stopped"))?;
        result
            .await
            .map_err(|_| anyhow::anyhow!("password hashing job failed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(p: &str, personal: &[&str]) -> Result<Password, PasswordProblem> {
        Password::parse(SecretString::from(p.to_owned()), personal)
    }

    #[test]
    fn a_long_unrelated_passphrase_is_accepted() {
        assert!(parse("correct horse battery staple", &[]).is_ok());
        assert!(
            parse("ποτάμι-φεγγάρι-κλειδί", &[]).is_ok(),
            "any Unicode is allowed"
        );
    }

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        assert_eq!(parse("short", &[]).unwrap_err(), PasswordProblem::TooShort);
        assert_eq!(
            parse(&"x".repeat(129), &[]).unwrap_err(),
            PasswordProblem::TooLong
        );
        assert_eq!(
            parse("Sunbridge-2026-solar", &[]).unwrap_err(),
            PasswordProblem::ContainsProductName
        );
        assert_eq!(
            parse("margaret-rocks-2026!", &["margaret@example.com", "Margaret Hale"]).unwrap_err(),
            PasswordProblem::ContainsPersonalInfo
        );
        assert!(matches!(
            parse("password1234", &[]).unwrap_err(),
            PasswordProblem::TooGuessable(_)
        ));
        assert!(matches!(
            parse("qwertyuiop123", &[]).unwrap_err(),
            PasswordProblem::TooGuessable(_)
        ));
    }

    #[test]
    fn hashes_are_argon2id_with_the_required_cost_and_verify() {
        let hasher = PasswordHasher::new(1).unwrap();
        let hash = hasher
            .hash_blocking(&parse("correct horse battery staple", &[]).unwrap())
            .unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(hasher.verify_blocking(
            &SecretString::from("correct horse battery staple".to_owned()),
            &hash
        ));
        assert!(!hasher.verify_blocking(
            &SecretString::from("correct horse battery stapl".to_owned()),
            &hash
        ));
        assert!(!hasher.needs_rehash(&hash));
        let weak = "$argon2id$v=19$m=4096,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$WBkm2Vtc9iGPhwmiq4fCfXxYA8BaoSAX1gHVP1sJKF0";
        assert!(hasher.needs_rehash(weak));
        assert!(hasher.needs_rehash("$2b$12$not-argon2"));
    }
}
