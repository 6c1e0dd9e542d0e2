//! Web Push (RFC 8030), encrypted for the device (RFC 8291) and signed with our VAPID key
//! (RFC 8292): a new offer to each member of the crew, each step of a job to its customer.
//!
//! A subscription's endpoint is input from a device, so it is treated like any other URL we
//! are asked to call (S-SF-1): https only, and every address it resolves to must be public —
//! checked when the device subscribes and again by the outbound guard at every send. It is
//! sealed at rest with the device's auth secret (either lets anyone push to the device).
//! Subscriptions belong to a session: they end with it (sign-out, revocation, expiry), and a
//! push service answering 404 or 410 drops them. Messages are queued in the transaction of the
//! event, claimed by one replica, retried with backoff, and carry only what a lock screen may
//! show: the step, the town, the day.

pub mod api;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use web_push_native::p256;

use crate::crypto::seal::{self, Field};
use crate::ids::{SessionId, UserId};
use crate::outbound::{OutboundClient, OutboundError, Request};

/// Sends to one device before a message is given up.
const MAX_ATTEMPTS: i32 = 5;
/// How long a push service keeps a message for a device that is off (seconds).
const TTL_SECS: u64 = 6 * 60 * 60;

pub(crate) mod store {
    pub(crate) mod subscription {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "push_subscriptions")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub user_id: Uuid,
            pub session_id: Uuid,
            /// Sealed: the endpoint is a capability.
            pub endpoint: String,
            /// SHA-256 of the endpoint: one subscription per device endpoint.
            pub endpoint_hash: String,
            /// The device's P-256 public key, base64url.
            pub p256dh: String,
            /// Sealed: the device's auth secret.
            pub auth: String,
            pub device: String,
            pub created_at: ChronoDateTimeUtc,
            pub last_sent_at: Option<ChronoDateTimeUtc>,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub(crate) mod message {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "push_messages")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub subscription_id: Uuid,
            pub payload: String,
            /// `pending`, `sent`, `gone` (the device unsubscribed), `refused` or `failed`.
            pub status: String,
            pub attempts: i32,
            pub next_attempt_at: ChronoDateTimeUtc,
            pub claimed_until: Option<ChronoDateTimeUtc>,
            pub last_status: Option<i32>,
            pub created_at: ChronoDateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }
}

use store::{message, subscription};

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("not found")]
    NotFound,
    /// The endpoint is not an https URL, or one of its addresses is not public.
    #[error("the endpoint is refused: {0}")]
    EndpointRefused(String),
    /// The device's keys are not a P-256 public key and a 16-byte secret.
    #[error("the subscription's keys are not valid")]
    InvalidKeys,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for PushError {
    fn from(e: DbErr) -> Self {
        PushError::Internal(e.into())
    }
}

/// Our VAPID key pair (P-256), derived from the secret key so every replica signs alike.
#[derive(Clone)]
pub struct Vapid {
    key: p256::ecdsa::SigningKey,
    /// The public key, uncompressed, base64url.
    public: String,
    /// Who runs the application server (`sub` of the VAPID token): the public URL.
    contact: String,
}

impl Vapid {
    pub fn from_secret(secret_key: &SecretString, public_url: &url::Url) -> anyhow::Result<Vapid> {
        let seed = SecretString::from(crate::crypto::derive_hex(secret_key, "web-push-vapid-v1"));
        let bytes = hex::decode(seed.expose_secret())?;
        let secret = p256::SecretKey::from_slice(&bytes).map_err(|e| anyhow::anyhow!("VAPID key: {e}"))?;
        let public = {
            use p256::elliptic_curve::sec1::ToEncodedPoint;
            URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes())
        };
        Ok(Vapid {
            key: p256::ecdsa::SigningKey::from(secret),
            public,
            contact: public_url.origin().ascii_serialization(),
        })
    }

    /// The application server key a device subscribes with (uncompressed point, base64url).
    pub fn public_key(&self) -> String {
        self.public.clone()
    }

    /// The `Authorization` header for a push to `endpoint` (RFC 8292): `vapid t=<JWT>,
    /// k=<key>`, the token ES256-signed for the push service's origin, valid for `valid`.
    fn authorization(&self, endpoint: &url::Url, valid: Duration) -> anyhow::Result<String> {
        use jwt_compact::{AlgorithmExt as _, Claims, Header, TimeOptions, alg::Es256};
        #[derive(Serialize)]
        struct Vapid<'a> {
            aud: String,
            sub: &'a str,
        }
        let claims = Claims::new(Vapid {
            aud: endpoint.origin().ascii_serialization(),
            sub: &self.contact,
        })
        .set_duration(&TimeOptions::default(), chrono::Duration::from_std(valid)?);
        let token = Es256
            .token(&Header::empty().with_token_type("JWT"), &claims, &self.key)
            .map_err(|e| anyhow::anyhow!("signing the VAPID token: {e}"))?;
        Ok(format!("vapid t={token}, k={}", self.public))
    }
}

/// A device's subscription as its owner sees it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Subscription {
    pub id: uuid::Uuid,
    /// The session the device is signed in with: the subscription ends with it.
    pub session_id: uuid::Uuid,
    pub device: String,
    /// The push service's host (the endpoint itself is a secret).
    pub service: String,
    pub created_at: DateTime<Utc>,
    pub last_sent_at: Option<DateTime<Utc>>,
}

/// What a device sends when it subscribes (the browser's `PushSubscription`).
pub struct NewSubscription {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub device: String,
}

fn endpoint_hash(endpoint: &str) -> String {
    hex::encode(Sha256::digest(endpoint.as_bytes()))
}

/// Records a device's subscription for `user` in `session`, after checking the endpoint like
/// any URL we will call. The same endpoint again replaces the earlier subscription.
pub async fn subscribe(
    db: &DatabaseConnection,
    client: &OutboundClient,
    user: UserId,
    session: SessionId,
    new: NewSubscription,
) -> Result<Subscription, PushError> {
    let endpoint = new.endpoint.trim();
    if endpoint.len() > 2000 {
        return Err(PushError::EndpointRefused("longer than 2,000 characters".into()));
    }
    let url = url::Url::parse(endpoint).map_err(|_| PushError::EndpointRefused("not a URL".into()))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(PushError::EndpointRefused("credentials in the URL".into()));
    }
    client
        .checked_addresses(&url)
        .await
        .map_err(|e| PushError::EndpointRefused(e.to_string()))?;
    let public = URL_SAFE_NO_PAD
        .decode(new.p256dh.trim().trim_end_matches('='))
        .ok()
        .and_then(|b| p256::PublicKey::from_sec1_bytes(&b).ok())
        .ok_or(PushError::InvalidKeys)?;
    let auth = URL_SAFE_NO_PAD
        .decode(new.auth.trim().trim_end_matches('='))
        .ok()
        .filter(|a| a.len() == 16)
        .ok_or(PushError::InvalidKeys)?;
    let device: String = new.device.chars().filter(|c| !c.is_control()).take(100).collect();
    let device = if device.trim().is_empty() {
        "A device".to_owned()
    } else {
        device
    };
    let hash = endpoint_hash(url.as_str());
    let now = Utc::now();
    // One device, one row: the endpoint's earlier row is replaced. Two registrations of one
    // endpoint at once (a page and its worker both registering after a sign-in) race between
    // the delete and the insert: the loser meets the winner's row (a unique violation) or a
    // deadlock on MariaDB's gap locks, and runs again, replacing the winner's row in turn.
    let endpoint_sealed = seal::seal(db, Field::PushEndpoint, url.as_str()).await?;
    let auth_sealed = seal::seal(db, Field::PushAuth, &URL_SAFE_NO_PAD.encode(auth)).await?;
    let unique = |e: &DbErr| crate::db::constraint(e) == Some(crate::db::Constraint::Unique);
    let id = crate::db::run_again_on_races(unique, || async {
        let id = uuid::Uuid::now_v7();
        let tx = crate::db::begin(db).await?;
        subscription::Entity::delete_many()
            .filter(subscription::Column::EndpointHash.eq(&hash))
            .exec(&tx)
            .await?;
        subscription::Entity::insert(subscription::ActiveModel {
            id: Set(id),
            user_id: Set(user.0),
            session_id: Set(session.0),
            endpoint: Set(endpoint_sealed.clone()),
            endpoint_hash: Set(hash.clone()),
            p256dh: Set(URL_SAFE_NO_PAD.encode(public.to_sec1_bytes())),
            auth: Set(auth_sealed.clone()),
            device: Set(device.clone()),
            created_at: Set(now),
            last_sent_at: Set(None),
        })
        .exec_without_returning(&tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    })
    .await?;
    Ok(Subscription {
        id,
        session_id: session.0,
        device,
        service: url.host_str().unwrap_or_default().to_owned(),
        created_at: now,
        last_sent_at: None,
    })
}

/// The subscriptions of `user`, newest first.
pub async fn of_user(db: &DatabaseConnection, user: UserId) -> Result<Vec<Subscription>, PushError> {
    let rows = subscription::Entity::find()
        .filter(subscription::Column::UserId.eq(user.0))
        .order_by_desc(subscription::Column::CreatedAt)
        .limit(50)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let endpoint = seal::open(db, Field::PushEndpoint, &r.endpoint).await?;
        out.push(Subscription {
            id: r.id,
            session_id: r.session_id,
            device: r.device,
            service: url::Url::parse(&endpoint)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default(),
            created_at: r.created_at,
            last_sent_at: r.last_sent_at,
        });
    }
    Ok(out)
}

/// Removes one of `user`'s subscriptions.
pub async fn unsubscribe(db: &DatabaseConnection, user: UserId, id: uuid::Uuid) -> Result<(), PushError> {
    let removed = subscription::Entity::delete_many()
        .filter(subscription::Column::Id.eq(id))
        .filter(subscription::Column::UserId.eq(user.0))
        .exec(db)
        .await?;
    if removed.rows_affected == 0 {
        return Err(PushError::NotFound);
    }
    Ok(())
}

/// The subscriptions of sessions that ended (in the transaction that ends them).
pub async fn forget_sessions<C: sea_orm::ConnectionTrait>(
    conn: &C,
    sessions: &[SessionId],
) -> Result<(), DbErr> {
    if sessions.is_empty() {
        return Ok(());
    }
    subscription::Entity::delete_many()
        .filter(subscription::Column::SessionId.is_in(sessions.iter().map(|s| s.0)))
        .exec(conn)
        .await?;
    Ok(())
}

/// The subscriptions of every session of `user` but `keep` (all sessions ended at once).
pub async fn forget_user_sessions_except<C: crate::db::Conn>(
    conn: &C,
    user: UserId,
    keep: Option<SessionId>,
) -> Result<(), DbErr> {
    let mut delete = subscription::Entity::delete_many().filter(subscription::Column::UserId.eq(user.0));
    if let Some(keep) = keep {
        delete = delete.filter(subscription::Column::SessionId.ne(keep.0));
    }
    delete.exec(conn).await?;
    Ok(())
}

/// What a notification says: only what a lock screen may show.
#[derive(Clone, Debug, Serialize)]
pub struct Notice {
    pub title: String,
    pub body: String,
    /// The page the notification opens (a path on this site).
    pub url: String,
}

/// Queues `notice` for every device of `users` (in the caller's transaction).
pub async fn enqueue<C: crate::db::Conn>(conn: &C, users: &[UserId], notice: &Notice) -> Result<(), DbErr> {
    if users.is_empty() {
        return Ok(());
    }
    let devices = subscription::Entity::find()
        .filter(subscription::Column::UserId.is_in(users.iter().map(|u| u.0)))
        .all(conn)
        .await?;
    let payload = serde_json::to_string(notice).map_err(|e| DbErr::Custom(e.to_string()))?;
    let now = Utc::now();
    for d in devices {
        message::Entity::insert(message::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            subscription_id: Set(d.id),
            payload: Set(payload.clone()),
            status: Set("pending".into()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            claimed_until: Set(None),
            last_status: Set(None),
            created_at: Set(now),
        })
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

/// Whether a session is still live; given by the composition root, since sessions are the
/// identity layer's, above this one.
pub type SessionCheck = std::sync::Arc<
    dyn Fn(
            DatabaseConnection,
            SessionId,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<bool, DbErr>> + Send>>
        + Send
        + Sync,
>;

/// How pushes are sent.
#[derive(Clone)]
pub struct Sender {
    pub client: OutboundClient,
    pub vapid: Vapid,
    pub session_live: SessionCheck,
}

enum Outcome {
    Sent(u16),
    /// The push service says the device is gone (404, 410): the subscription is dropped.
    Gone(u16),
    Refused(String),
    Failed(Option<u16>, String),
}

/// Sends what is due; answers how many were tried.
pub async fn send_due(db: &DatabaseConnection, sender: &Sender) -> Result<usize, DbErr> {
    let now = Utc::now();
    let free = || {
        sea_orm::Condition::any()
            .add(message::Column::ClaimedUntil.is_null())
            .add(message::Column::ClaimedUntil.lt(now))
    };
    let due = message::Entity::find()
        .filter(message::Column::Status.eq("pending"))
        .filter(message::Column::NextAttemptAt.lte(now))
        .filter(free())
        .order_by_asc(message::Column::NextAttemptAt)
        .limit(50)
        .all(db)
        .await?;
    let mut tried = 0;
    for m in due {
        // Claimed with a conditional update that also checks the message is still the one
        // read (pending, due, not attempted since): on several replicas, one sends it, once.
        let now = Utc::now();
        let claimed = message::Entity::update_many()
            .col_expr(
                message::Column::ClaimedUntil,
                Expr::value(now + TimeDelta::seconds(60)),
            )
            .filter(message::Column::Id.eq(m.id))
            .filter(message::Column::Status.eq("pending"))
            .filter(message::Column::Attempts.eq(m.attempts))
            .filter(message::Column::NextAttemptAt.lte(now))
            .filter(
                sea_orm::Condition::any()
                    .add(message::Column::ClaimedUntil.is_null())
                    .add(message::Column::ClaimedUntil.lt(now)),
            )
            .exec(db)
            .await?;
        if claimed.rows_affected == 0 {
            continue;
        }
        let outcome = attempt(db, sender, &m).await;
        let attempts = m.attempts + 1;
        let (status, last, retry) = match &outcome {
            Outcome::Sent(code) => ("sent", Some(i32::from(*code)), None),
            Outcome::Gone(code) => ("gone", Some(i32::from(*code)), None),
            Outcome::Refused(reason) => {
                tracing::warn!(reason = %reason, "push refused by the outbound guard");
                ("refused", None, None)
            }
            Outcome::Failed(code, reason) => {
                tracing::info!(reason = %reason, attempts, "push failed; retried later");
                let state = if attempts >= MAX_ATTEMPTS {
                    "failed"
                } else {
                    "pending"
                };
                let wait = TimeDelta::seconds(5 * (1 << attempts.clamp(0, 6)));
                (state, code.map(i32::from), Some(Utc::now() + wait))
            }
        };
        let mut update = message::Entity::update_many()
            .col_expr(message::Column::Attempts, Expr::value(attempts))
            .col_expr(message::Column::Status, Expr::value(status))
            .col_expr(message::Column::LastStatus, Expr::value(last))
            .col_expr(
                message::Column::ClaimedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(message::Column::Id.eq(m.id));
        if let Some(next) = retry {
            update = update.col_expr(message::Column::NextAttemptAt, Expr::value(next));
        }
        update.exec(db).await?;
        match outcome {
            Outcome::Sent(_) => {
                subscription::Entity::update_many()
                    .col_expr(subscription::Column::LastSentAt, Expr::value(Utc::now()))
                    .filter(subscription::Column::Id.eq(m.subscription_id))
                    .exec(db)
                    .await?;
            }
            Outcome::Gone(_) | Outcome::Refused(_) => {
                subscription::Entity::delete_by_id(m.subscription_id)
                    .exec(db)
                    .await?;
            }
            Outcome::Failed(..) => {}
        }
        tried += 1;
    }
    Ok(tried)
}

async fn attempt(db: &DatabaseConnection, sender: &Sender, m: &message::Model) -> Outcome {
    let device = match subscription::Entity::find_by_id(m.subscription_id).one(db).await {
        Ok(Some(d)) => d,
        Ok(None) => return Outcome::Gone(0),
        Err(e) => return Outcome::Failed(None, format!("database: {e}")),
    };
    // A subscription outlives its session only until here.
    match (sender.session_live)(db.clone(), SessionId(device.session_id)).await {
        Ok(true) => {}
        Ok(false) => return Outcome::Gone(0),
        Err(e) => return Outcome::Failed(None, format!("database: {e}")),
    }
    let opened = async {
        let endpoint = seal::open(db, Field::PushEndpoint, &device.endpoint).await?;
        let auth = seal::open(db, Field::PushAuth, &device.auth).await?;
        anyhow::Ok((endpoint, auth))
    };
    let (endpoint, auth) = match opened.await {
        Ok(v) => v,
        Err(e) => return Outcome::Failed(None, format!("sealed fields: {e:#}")),
    };
    let request = match build(&endpoint, &device.p256dh, &auth, m.payload.as_bytes()) {
        Ok(r) => r,
        Err(e) => return Outcome::Refused(format!("{e:#}")),
    };
    let Ok(url) = url::Url::parse(&endpoint) else {
        return Outcome::Refused("the endpoint does not parse".into());
    };
    let authorization = match sender.vapid.authorization(&url, Duration::from_secs(TTL_SECS)) {
        Ok(a) => a,
        Err(e) => return Outcome::Failed(None, format!("{e:#}")),
    };
    let mut headers = vec![("authorization", authorization), ("urgency", "high".to_owned())];
    for name in ["ttl", "content-encoding"] {
        if let Some(v) = request.headers().get(name).and_then(|v| v.to_str().ok()) {
            headers.push((name, v.to_owned()));
        }
    }
    let result = sender
        .client
        .post(Request {
            url: &url,
            headers,
            body: Some(("application/octet-stream", request.into_body())),
        })
        .await;
    match result {
        Ok(answer) if (200..300).contains(&answer.status) => Outcome::Sent(answer.status),
        Ok(answer) if matches!(answer.status, 404 | 410) => Outcome::Gone(answer.status),
        Ok(answer) => Outcome::Failed(Some(answer.status), format!("HTTP {}", answer.status)),
        Err(e @ (OutboundError::NotHttps | OutboundError::ForbiddenAddress | OutboundError::NoHost)) => {
            Outcome::Refused(e.to_string())
        }
        Err(e) => Outcome::Failed(None, e.to_string()),
    }
}

/// The encrypted request for one device (RFC 8291 `aes128gcm`); its VAPID header is added by
/// the caller.
fn build(
    endpoint: &str,
    p256dh: &str,
    auth: &str,
    payload: &[u8],
) -> anyhow::Result<axum::http::Request<Vec<u8>>> {
    let public = p256::PublicKey::from_sec1_bytes(&URL_SAFE_NO_PAD.decode(p256dh)?)
        .map_err(|_| anyhow::anyhow!("the device key is not a P-256 point"))?;
    let auth = URL_SAFE_NO_PAD.decode(auth)?;
    let auth = web_push_native::Auth::clone_from_slice(&auth);
    let uri: axum::http::Uri = endpoint.parse()?;
    web_push_native::WebPushBuilder::new(uri, public, auth)
        .with_valid_duration(Duration::from_secs(TTL_SECS))
        .build(payload.to_vec())
        .map_err(|e| anyhow::anyhow!("building the push: {e}"))
}

/// Sends due pushes every `every` under `supervisor`.
pub fn start(
    supervisor: &crate::supervisor::Supervisor,
    db: DatabaseConnection,
    sender: Sender,
    every: Duration,
) {
    supervisor.periodic("push", crate::supervisor::Schedule::every(every), move || {
        let (db, sender) = (db.clone(), sender.clone());
        async move {
            let tried = send_due(&db, &sender).await?;
            Ok(if tried > 0 {
                crate::supervisor::Next::Again
            } else {
                crate::supervisor::Next::Wait
            })
        }
    });
}
