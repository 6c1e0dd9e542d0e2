//! Browser sessions (S-AU-5, S-AC-8): a `__Host-` cookie that is `Secure`, `HttpOnly`,
//! `SameSite=Lax` and `Path=/`, carrying a 256-bit token of which the database keeps the
//! SHA-256; idle timeouts by role and an absolute timeout; and a CSRF token bound to the
//! session for every form a signed-in user posts (checked with the same-origin headers).

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use hmac::{Hmac, KeyInit, Mac};
use sea_orm::EntityTrait;
use secrecy::ExposeSecret;
use sha2::Sha256;

use crate::access::Role;
use crate::http::PageError;
use crate::http::error::SIGN_IN_PAGE;
use crate::ids::{SessionId, UserId};
use crate::state::AppState;

use super::session;
use super::store::user;

pub use super::cookies::{
    DEVICE_COOKIE, SESSION_COOKIE, clear_session_cookie, cookie, device_cookie, session_cookie,
};

/// The CSRF token of a session: an HMAC of its id under the server key, so it needs no
/// storage and is worthless for any other session.
pub fn csrf_token(state: &AppState, session: SessionId) -> String {
    match Hmac::<Sha256>::new_from_slice(state.secret_key.expose_secret().as_bytes()) {
        Ok(mut mac) => {
            mac.update(b"sunbridge-csrf-v1|");
            mac.update(session.0.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

pub(crate) fn csrf_matches(state: &AppState, session: SessionId, presented: &str) -> bool {
    let Ok(presented) = hex::decode(presented) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(state.secret_key.expose_secret().as_bytes()) else {
        return false;
    };
    mac.update(b"sunbridge-csrf-v1|");
    mac.update(session.0.as_bytes());
    // verify_slice compares in constant time.
    mac.verify_slice(&presented).is_ok()
}

/// A file form read after its CSRF check: the text fields and the file, if one was chosen.
pub(crate) struct FileForm {
    pub fields: std::collections::HashMap<String, String>,
    pub file: Option<Vec<u8>>,
}

/// Longest text field a file form may carry.
const MAX_FORM_TEXT: usize = 4096;

/// Reads a file form (multipart) whose first field is the session's CSRF token: nothing else
/// is read until the token checked out (S-AC-8). A missing or wrong token is 403. The file is
/// the field named `file`; other fields are short texts.
pub(crate) async fn form_after_csrf(
    state: &AppState,
    session: SessionId,
    mut multipart: axum::extract::Multipart,
) -> Result<FileForm, PageError> {
    let mut csrf_ok = false;
    let mut form = FileForm {
        fields: std::collections::HashMap::new(),
        file: None,
    };
    while let Some(field) = multipart.next_field().await.map_err(|_| PageError::BadRequest)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "csrf" {
            let token = field.text().await.map_err(|_| PageError::BadRequest)?;
            csrf_ok = csrf_matches(state, session, token.trim());
            continue;
        }
        // The token comes first in the form.
        if !csrf_ok {
            break;
        }
        if name == "file" {
            form.file = Some(field.bytes().await.map_err(|_| PageError::BadRequest)?.to_vec());
        } else {
            let text = field.text().await.map_err(|_| PageError::BadRequest)?;
            if text.len() > MAX_FORM_TEXT {
                return Err(PageError::BadRequest);
            }
            form.fields.insert(name, text);
        }
    }
    if !csrf_ok {
        tracing::warn!("upload refused: CSRF token missing or wrong");
        return Err(PageError::Forbidden);
    }
    form.file = form.file.filter(|b| !b.is_empty());
    Ok(form)
}

/// Reads a file form with only a file after its CSRF token; `None` when no file was chosen.
pub(crate) async fn file_after_csrf(
    state: &AppState,
    session: SessionId,
    multipart: axum::extract::Multipart,
) -> Result<Option<Vec<u8>>, PageError> {
    Ok(form_after_csrf(state, session, multipart).await?.file)
}

/// The signed-in user of a page.
#[derive(Clone, Debug)]
pub struct PageCaller {
    pub user: UserId,
    pub role: Role,
    pub session: SessionId,
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    pub phone: Option<String>,
    pub mfa_enabled: bool,
    pub authenticated_at: chrono::DateTime<Utc>,
    pub csrf: String,
    /// The session ends after this without a request…
    pub idle_deadline: chrono::DateTime<Utc>,
    /// …and at this whatever happens (the app's own clock signs the phone out at either).
    pub absolute_deadline: chrono::DateTime<Utc>,
}

impl PageCaller {
    /// The same caller as the API sees it (the services take `Authenticated`).
    pub fn as_authenticated(&self) -> super::extract::Authenticated {
        super::extract::Authenticated {
            user: self.user,
            role: self.role,
            session: self.session,
            authenticated_at: self.authenticated_at,
            mfa_enabled: self.mfa_enabled,
            email: self.email.clone(),
            name: self.name.clone(),
            email_verified: self.email_verified,
            phone: self.phone.clone(),
            credential_expires_at: self.idle_deadline.min(self.absolute_deadline),
        }
    }

    /// Staff without a second factor may only set one up (S-AU-4).
    pub fn must_enrol(&self) -> bool {
        self.role.is_staff() && !self.mfa_enabled
    }
}

/// Not signed in (or the session ended): send the browser to the sign-in page, which returns
/// it to the page it asked for (a GET; a form cannot be replayed).
pub struct SignInRequired {
    pub then: Option<String>,
}

impl SignInRequired {
    pub fn from(parts: &Parts) -> Self {
        let then = (parts.method == axum::http::Method::GET)
            .then(|| parts.uri.path_and_query().map(|p| p.as_str()))
            .flatten()
            .and_then(return_to)
            // The start page is where a sign-in goes anyway.
            .filter(|then| then != crate::http::error::START_PAGE);
        Self { then }
    }
}

/// `raw` as a page of this site to return to after signing in, or `None` when it could lead
/// anywhere else (`//evil.example`, `https://…`, `/\evil.example`, control characters). Only a
/// path and query of our own origin come back, as the URL parser reads them.
pub fn return_to(raw: &str) -> Option<String> {
    if raw.len() > 1024 || !raw.starts_with('/') || raw.chars().any(|c| c.is_control() || c == '\\') {
        return None;
    }
    let base = url::Url::parse("https://sunbridge.invalid/").ok()?;
    let joined = base.join(raw).ok()?;
    if joined.origin() != base.origin() {
        return None;
    }
    // A path read as `//host` leaves the site. Checked decoded, so the encoded forms
    // (`/%2F%2Fevil.example`, `/%5Cevil.example`) are refused too: harmless to a browser that
    // follows the path as written, but a proxy or a later step that decodes it would see
    // another host.
    let decoded = percent_encoding::percent_decode_str(joined.path())
        .decode_utf8()
        .ok()?;
    if decoded.starts_with("//") || decoded.chars().any(|c| c.is_control() || c == '\\') {
        return None;
    }
    // The sign-in pages themselves are no destination.
    if matches!(joined.path(), "/login" | "/login/second-factor" | "/logout") {
        return None;
    }
    let mut local = joined.path().to_owned();
    if let Some(query) = joined.query() {
        local.push('?');
        local.push_str(query);
    }
    Some(local)
}

/// The sign-in page, with where to go afterwards.
pub fn sign_in_link(then: Option<&str>) -> String {
    match then {
        Some(then) => format!(
            "{SIGN_IN_PAGE}?next={}",
            url::form_urlencoded::byte_serialize(then.as_bytes()).collect::<String>()
        ),
        None => SIGN_IN_PAGE.to_owned(),
    }
}

impl IntoResponse for SignInRequired {
    fn into_response(self) -> Response {
        let mut response = Redirect::to(&sign_in_link(self.then.as_deref())).into_response();
        response
            .headers_mut()
            .append(header::SET_COOKIE, clear_session_cookie());
        response
    }
}

/// Sent by the app on requests it makes by itself (`static/app.js`): they do not count as
/// activity for the idle timeout.
pub const BACKGROUND_HEADER: &str = "x-background";

pub(crate) async fn page_caller(parts: &Parts, state: &AppState) -> Result<Option<PageCaller>, PageError> {
    let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let now = Utc::now();
    let Some((live, last_seen)) = session::find_by_cookie_token(&state.db, token, now)
        .await
        .map_err(anyhow::Error::from)?
    else {
        return Ok(None);
    };
    let Some(account) = user::Entity::find_by_id(live.user.0)
        .one(&state.db)
        .await
        .map_err(anyhow::Error::from)?
        .filter(|a| a.disabled_at.is_none())
    else {
        return Ok(None);
    };
    let role: Role = account
        .role
        .parse()
        .map_err(|e| anyhow::anyhow!("stored role: {e}"))?;
    // ASVS 7.3.1: idle timeout, 15 minutes for staff and 30 for customers by default.
    let periods = state.settings.sessions();
    let idle = if role.is_staff() {
        periods.staff_idle
    } else {
        periods.idle
    };
    if now - last_seen > idle {
        return Ok(None);
    }
    // The app's own refreshes (a live list reloading) and event streams (which reconnect when
    // the signal returns) are not the person's activity: they must not keep an unattended
    // phone signed in.
    let streaming = parts
        .headers
        .get(header::ACCEPT)
        .is_some_and(|a| a.as_bytes().starts_with(b"text/event-stream"));
    let seen = if parts.headers.contains_key(BACKGROUND_HEADER) || streaming {
        last_seen
    } else {
        session::touch(&state.db, live.id, last_seen, idle / 10, now)
            .await
            .map_err(anyhow::Error::from)?
    };
    let span = tracing::Span::current();
    span.record("user_id", tracing::field::display(live.user));
    span.record("role", role.as_str());
    Ok(Some(PageCaller {
        user: live.user,
        role,
        session: live.id,
        name: account.name,
        email: account.email,
        email_verified: account.email_verified_at.is_some(),
        phone: crate::crypto::seal::open_opt(
            &state.db,
            crate::crypto::seal::Field::UserPhone,
            account.phone.as_deref(),
        )
        .await?,
        mfa_enabled: account.mfa_enabled_at.is_some(),
        authenticated_at: live.authenticated_at,
        csrf: csrf_token(state, live.id),
        idle_deadline: seen + idle,
        absolute_deadline: live.expires_at,
    }))
}

/// The signed-in user, if any (public pages adapt their navigation).
pub struct MaybePageCaller(pub Option<PageCaller>);

impl FromRequestParts<AppState> for MaybePageCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        page_caller(parts, state)
            .await
            .map(MaybePageCaller)
            .map_err(IntoResponse::into_response)
    }
}

/// A form with a CSRF field.
pub trait CsrfProtected {
    fn csrf(&self) -> &str;
}

/// A form that carries nothing but its CSRF token (a button: sign out, lift a block, …).
#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

impl CsrfProtected for CsrfOnly {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// What the navigation shows depends on who is looking; decided here, with the caller, so the
/// navigation itself stays plain data the error pages can draw.
impl crate::web::Nav {
    /// Navigation for a page seen by `caller` (or by a visitor when `None`).
    pub fn for_caller(current: &'static str, caller: Option<&PageCaller>) -> Self {
        use crate::access::{Permission, policy::allows};
        let holds = |p: Permission| caller.is_some_and(|c| allows(c.role, p) && !c.must_enrol());
        Self {
            current,
            signed_in_csrf: caller.map(|c| c.csrf.clone()),
            back_office: caller
                .is_some_and(|c| crate::access::policy::has_back_office(c.role) && !c.must_enrol()),
            sites: holds(Permission::OwnSites),
            orders: holds(Permission::OwnOrders),
            installer: holds(Permission::WorkJobs),
            session_deadlines: caller
                .map(|c| (c.idle_deadline.to_rfc3339(), c.absolute_deadline.to_rfc3339())),
            ..Self::default()
        }
    }
}
