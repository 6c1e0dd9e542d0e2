//! Sign-up, sign-in (with the second factor), sign-out and the account page for browsers.
//! Forms before sign-in are checked for same-origin; forms after it also carry the session's
//! CSRF token (`SignedInForm`). Passwords fields allow pasting and carry `autocomplete` hints
//! so password managers work.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::access::SignedInForm;
use crate::access::{PUBLIC, PageUser, Permission::OwnAccount, Routes, perm};
use crate::audit::Actor;
use crate::http::origin::SameOrigin;
use crate::http::{PageError, RequestContext};
use crate::ids::SessionId;
use crate::state::AppState;
use crate::web::{Nav, sentence};

use super::api::{login_context, signup_context};
use super::browser::{
    self, CsrfOnly, CsrfProtected, DEVICE_COOKIE, MaybePageCaller, PageCaller, clear_session_cookie,
    device_cookie, session_cookie,
};
use super::credentials::{self, CredentialError, Proof};
use super::extract::Authenticated;
use super::login::{self, Client, LoginError, LoginForm, LoginOutcome, LoginSuccess, SessionGrant};
use super::mfa::{self, MfaError};
use super::session::{self, SessionSummary};
use super::sign_out;
use super::signup::{self, SignupError, SignupForm};

pub fn router() -> Routes {
    Routes::new()
        .get("/signup", PUBLIC, signup_form)
        .post("/signup", PUBLIC, signup_submit)
        .get("/login", PUBLIC, login_form)
        .post("/login", PUBLIC, login_submit)
        .post("/login/second-factor", PUBLIC, second_factor_submit)
        .post("/logout", OwnAccount, logout)
        .get("/account", OwnAccount, account)
        .post("/account/password", OwnAccount, change_password)
        .post("/account/sessions/end", OwnAccount, end_session)
        .post("/account/mfa", OwnAccount, mfa_start)
        .post("/account/mfa/confirm", OwnAccount, mfa_confirm)
        .post("/account/verification", OwnAccount, resend_verification)
}

fn render(status: StatusCode, page: &impl Template) -> Result<Response, PageError> {
    let body = page
        .render()
        .map_err(|e| anyhow::Error::from(e).context("template failed"))?;
    Ok((status, Html(body)).into_response())
}

// ---- sign-up -------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "auth/signup.html")]
struct SignupPage {
    nav: Nav,
    errors: Vec<String>,
    email: String,
    name: String,
    done: bool,
}

async fn signup_form(MaybePageCaller(caller): MaybePageCaller) -> Result<Response, PageError> {
    if caller.is_some() {
        return Ok(Redirect::to("/account").into_response());
    }
    let page = SignupPage {
        nav: Nav::at("signup"),
        errors: vec![],
        email: String::new(),
        name: String::new(),
        done: false,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct SignupFields {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: SecretString,
}

async fn signup_submit(
    State(state): State<AppState>,
    _same_origin: SameOrigin,
    ctx: RequestContext,
    Form(fields): Form<SignupFields>,
) -> Result<Response, PageError> {
    let mut page = SignupPage {
        nav: Nav::at("signup"),
        errors: vec![],
        email: fields.email.clone(),
        name: fields.name.clone(),
        done: false,
    };
    let form = SignupForm {
        email: fields.email,
        name: fields.name,
        password: fields.password,
    };
    match signup::sign_up(&signup_context(&state), form, &Actor::anonymous(&ctx)).await {
        Ok(()) => page.done = true,
        Err(SignupError::Invalid(fields)) => {
            page.errors = fields.into_iter().map(|(_, _, m)| sentence(&m)).collect()
        }
        Err(SignupError::WeakPassword(problem)) => page.errors.push(sentence(&problem.to_string())),
        Err(SignupError::Internal(e)) => return Err(PageError::Internal(e)),
    }
    let status = if page.done {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(status, &page)
}

// ---- sign-in -------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    nav: Nav,
    error: Option<String>,
    email: String,
    /// The page to return to after signing in (empty: the account page).
    next: String,
}

#[derive(Template)]
#[template(path = "auth/second_factor.html")]
struct SecondFactorPage {
    nav: Nav,
    error: Option<String>,
    mfa_token: String,
    next: String,
}

#[derive(Deserialize)]
struct Next {
    #[serde(default)]
    next: String,
}

/// Where a sign-in goes: the page the user was sent from, when it is one of ours.
fn destination(next: &str) -> String {
    super::browser::return_to(next).unwrap_or_else(|| "/account".to_owned())
}

async fn login_form(
    MaybePageCaller(caller): MaybePageCaller,
    Query(Next { next }): Query<Next>,
) -> Result<Response, PageError> {
    if caller.is_some() {
        return Ok(Redirect::to(&destination(&next)).into_response());
    }
    render(
        StatusCode::OK,
        &LoginPage {
            nav: Nav::at("login"),
            error: None,
            email: String::new(),
            next: super::browser::return_to(&next).unwrap_or_default(),
        },
    )
}

#[derive(Deserialize)]
struct LoginFields {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: SecretString,
    #[serde(default)]
    next: String,
}

fn login_error_message(err: &LoginError) -> (StatusCode, String) {
    match err {
        LoginError::RateLimited { retry_after_secs } => (
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many attempts. Wait {retry_after_secs} seconds, then try again."),
        ),
        LoginError::Unavailable { retry_after_secs } => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("Signing in is unavailable for a moment. Try again in {retry_after_secs} seconds."),
        ),
        LoginError::InvalidCode => (
            StatusCode::UNAUTHORIZED,
            "That code is not right. Try the current one.".into(),
        ),
        _ => (StatusCode::UNAUTHORIZED, "Wrong email or password.".into()),
    }
}

/// Sets the session and known-device cookies and goes back to the page the user came for (the
/// account page otherwise).
fn signed_in(success: LoginSuccess, next: &str) -> Result<Response, PageError> {
    let SessionGrant::Browser { cookie_token, .. } = success.session else {
        return Err(PageError::Internal(anyhow::anyhow!(
            "API tokens for a browser sign-in"
        )));
    };
    let mut response = Redirect::to(&destination(next)).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, session_cookie(&cookie_token));
    response
        .headers_mut()
        .append(header::SET_COOKIE, device_cookie(&success.device_token));
    Ok(response)
}

async fn login_submit(
    State(state): State<AppState>,
    _same_origin: SameOrigin,
    ctx: RequestContext,
    headers: HeaderMap,
    Form(fields): Form<LoginFields>,
) -> Result<Response, PageError> {
    let email = fields.email.clone();
    let next = super::browser::return_to(&fields.next).unwrap_or_default();
    let form = LoginForm {
        email: fields.email,
        password: fields.password,
        device_name: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(browser_name),
        device_token: browser::cookie(&headers, DEVICE_COOKIE).map(str::to_owned),
    };
    match login::login(&login_context(&state), form, Client::Browser, &ctx).await {
        Ok(LoginOutcome::SignedIn(success)) => signed_in(success, &next),
        Ok(LoginOutcome::MfaRequired { mfa_token }) => render(
            StatusCode::OK,
            &SecondFactorPage {
                nav: Nav::at("login"),
                error: None,
                mfa_token,
                next,
            },
        ),
        Err(LoginError::Internal(e)) => Err(PageError::Internal(e)),
        Err(LoginError::AddressBlocked) => Err(PageError::Forbidden),
        Err(err) => {
            let (status, message) = login_error_message(&err);
            render(
                status,
                &LoginPage {
                    nav: Nav::at("login"),
                    error: Some(message),
                    email,
                    next,
                },
            )
        }
    }
}

/// "Firefox on Linux"-style label from a User-Agent, for the session list (never stored raw).
fn browser_name(agent: &str) -> String {
    let browser = ["Edg/", "Firefox/", "Chrome/", "Safari/"]
        .iter()
        .find(|b| agent.contains(*b))
        .map(|b| match *b {
            "Edg/" => "Edge",
            "Firefox/" => "Firefox",
            "Chrome/" => "Chrome",
            _ => "Safari",
        })
        .unwrap_or("Browser");
    let system = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS", "macOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| agent.contains(needle))
    .map(|(_, name)| *name);
    match system {
        Some(system) => format!("{browser} on {system}"),
        None => browser.to_owned(),
    }
}

#[derive(Deserialize)]
struct SecondFactorFields {
    #[serde(default)]
    mfa_token: String,
    #[serde(default)]
    code: SecretString,
    #[serde(default)]
    next: String,
}

async fn second_factor_submit(
    State(state): State<AppState>,
    _same_origin: SameOrigin,
    ctx: RequestContext,
    Form(fields): Form<SecondFactorFields>,
) -> Result<Response, PageError> {
    let cx = login_context(&state);
    match login::login_with_second_factor(
        &cx,
        &fields.mfa_token,
        fields.code.expose_secret(),
        Client::Browser,
        &ctx,
    )
    .await
    {
        Ok(success) => signed_in(success, &fields.next),
        Err(LoginError::InvalidToken) => Ok(Redirect::to("/login").into_response()),
        Err(LoginError::Internal(e)) => Err(PageError::Internal(e)),
        Err(LoginError::AddressBlocked) => Err(PageError::Forbidden),
        Err(err) => {
            let (status, message) = login_error_message(&err);
            let page = SecondFactorPage {
                nav: Nav::at("login"),
                error: Some(message),
                mfa_token: fields.mfa_token,
                next: super::browser::return_to(&fields.next).unwrap_or_default(),
            };
            render(status, &page)
        }
    }
}

async fn logout(
    State(state): State<AppState>,
    SignedInForm(caller, _): SignedInForm<perm::OwnAccount, CsrfOnly>,
) -> Result<Response, PageError> {
    let actor = caller.actor();
    sign_out::sign_out(&state.db, &state.auth_cache, &actor, caller.user, caller.session).await?;
    let mut response = Redirect::to("/").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear_session_cookie());
    Ok(response)
}

// ---- account -------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "account/account.html")]
struct AccountPage {
    nav: Nav,
    caller: PageUser<perm::OwnAccount>,
    sessions: Vec<SessionSummary>,
    /// Staff accesses to the customer's personal data (S-AC-6); `None` for staff accounts.
    data_access: Option<Vec<crate::access::grants::DataAccess>>,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct AccountQuery {
    notice: Option<String>,
}

async fn account_page(
    state: &AppState,
    caller: PageUser<perm::OwnAccount>,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let sessions = session::list_live(&state.db, caller.user, None, 100, Utc::now())
        .await
        .map_err(anyhow::Error::from)?;
    let data_access = if crate::access::policy::allows(caller.role, crate::access::Permission::OwnDataAccess)
    {
        Some(
            crate::access::grants::for_customer(&state.db, caller.user)
                .await
                .map_err(anyhow::Error::from)?,
        )
    } else {
        None
    };
    let page = AccountPage {
        nav: Nav::for_caller("account", Some(&caller)),
        caller,
        sessions,
        data_access,
        notice,
        error,
    };
    render(status, &page)
}

async fn account(
    State(state): State<AppState>,
    caller: PageUser<perm::OwnAccount>,
    Query(q): Query<AccountQuery>,
) -> Result<Response, PageError> {
    // Only fixed messages: the query string cannot put text of its own on the page.
    let notice = match q.notice.as_deref() {
        Some("password") => {
            Some("Your password was changed and your other devices were signed out.".to_owned())
        }
        Some("session") => Some("That device was signed out.".to_owned()),
        Some("verification") => Some("We sent a new confirmation link. It works for 30 minutes.".to_owned()),
        _ => None,
    };
    account_page(&state, caller, StatusCode::OK, notice, None).await
}

fn as_authenticated(caller: &PageCaller) -> Authenticated {
    caller.as_authenticated()
}

fn credential_message(err: &CredentialError) -> String {
    match err {
        CredentialError::WrongPassword => "Your current password is not right.".into(),
        CredentialError::RateLimited { retry_after_secs } => {
            format!("Too many attempts. Wait {retry_after_secs} seconds, then try again.")
        }
        CredentialError::WeakPassword(problem) => sentence(&problem.to_string()),
        CredentialError::MfaRequired | CredentialError::InvalidCode => {
            "The code from your authenticator app is not right.".into()
        }
        CredentialError::InvalidToken | CredentialError::Internal(_) => {
            "That did not work. Try again.".into()
        }
    }
}

#[derive(Deserialize)]
struct ChangePasswordFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: SecretString,
    code: Option<SecretString>,
    #[serde(default)]
    new_password: SecretString,
}

impl CsrfProtected for ChangePasswordFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn change_password(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedInForm(caller, fields): SignedInForm<perm::OwnAccount, ChangePasswordFields>,
) -> Result<Response, PageError> {
    if caller.must_enrol() {
        return Err(PageError::Forbidden);
    }
    let cx = login_context(&state);
    // The form is its own re-authentication (S-AU-7): password, and the code when enrolled.
    let proof = Proof {
        password: fields.current_password.clone(),
        code: fields.code,
    };
    let outcome = match credentials::reauthenticate(&cx, &as_authenticated(&caller), proof, &ctx).await {
        Ok(()) => {
            credentials::change_password(
                &cx,
                caller.user,
                caller.session,
                fields.current_password,
                fields.new_password,
                &ctx,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => {
            let token = session::rotate_cookie_token(&state.db, caller.session)
                .await
                .map_err(anyhow::Error::from)?;
            let mut response = Redirect::to("/account?notice=password").into_response();
            response
                .headers_mut()
                .append(header::SET_COOKIE, session_cookie(&token));
            Ok(response)
        }
        Err(CredentialError::Internal(e)) => Err(PageError::Internal(e)),
        Err(err) => {
            account_page(
                &state,
                caller,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(credential_message(&err)),
            )
            .await
        }
    }
}

#[derive(Deserialize)]
struct EndSessionFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    session: String,
}

impl CsrfProtected for EndSessionFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn end_session(
    State(state): State<AppState>,
    SignedInForm(caller, fields): SignedInForm<perm::OwnAccount, EndSessionFields>,
) -> Result<Response, PageError> {
    let id: SessionId = fields.session.parse().map_err(|_| PageError::NotFound)?;
    let actor = caller.actor();
    if !sign_out::end_one(&state.db, &state.auth_cache, &actor, caller.user, id).await? {
        return Err(PageError::NotFound);
    }
    Ok(Redirect::to("/account?notice=session").into_response())
}

#[derive(Template)]
#[template(path = "account/mfa_setup.html")]
struct MfaSetupPage {
    nav: Nav,
    csrf: String,
    secret: String,
    qr_svg: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct PasswordFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: SecretString,
}

impl CsrfProtected for PasswordFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The QR code as inline SVG: the renderer's XML declaration has no place inside HTML.
fn inline_svg(svg: &str) -> String {
    match svg.find("<svg") {
        Some(start) => svg[start..].to_owned(),
        None => String::new(),
    }
}

async fn mfa_start(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedInForm(caller, fields): SignedInForm<perm::OwnAccount, PasswordFields>,
) -> Result<Response, PageError> {
    let cx = login_context(&state);
    let proof = Proof {
        password: fields.password,
        code: None,
    };
    if let Err(err) = credentials::reauthenticate(&cx, &as_authenticated(&caller), proof, &ctx).await {
        if let CredentialError::Internal(e) = err {
            return Err(PageError::Internal(e));
        }
        return account_page(
            &state,
            caller,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(credential_message(&err)),
        )
        .await;
    }
    match mfa::start_enrolment(&state.db, caller.user).await {
        Ok(enrolment) => {
            let token = session::rotate_cookie_token(&state.db, caller.session)
                .await
                .map_err(anyhow::Error::from)?;
            let page = MfaSetupPage {
                nav: Nav::for_caller("account", Some(&caller)),
                csrf: caller.csrf.clone(),
                secret: enrolment.secret_base32,
                qr_svg: inline_svg(&enrolment.qr_svg),
                error: None,
            };
            let mut response = render(StatusCode::OK, &page)?;
            response
                .headers_mut()
                .append(header::SET_COOKIE, session_cookie(&token));
            Ok(response)
        }
        Err(MfaError::AlreadyEnabled) => Ok(Redirect::to("/account").into_response()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "account/recovery_codes.html")]
struct RecoveryCodesPage {
    nav: Nav,
    codes: Vec<String>,
}

#[derive(Deserialize)]
struct CodeFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: SecretString,
}

impl CsrfProtected for CodeFields {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn mfa_confirm(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedInForm(caller, fields): SignedInForm<perm::OwnAccount, CodeFields>,
) -> Result<Response, PageError> {
    let cx = login_context(&state);
    match mfa::confirm_enrolment(&cx, caller.user, fields.code.expose_secret(), &ctx).await {
        Ok(codes) => {
            let page = RecoveryCodesPage {
                nav: Nav::for_caller("account", Some(&caller)),
                codes,
            };
            render(StatusCode::OK, &page)
        }
        Err(MfaError::Internal(e)) => Err(PageError::Internal(e)),
        Err(MfaError::NotStarted | MfaError::AlreadyEnabled) => Ok(Redirect::to("/account").into_response()),
        Err(err) => {
            // Show the same secret again: the enrolment is still pending.
            let message = match err {
                MfaError::RateLimited { retry_after_secs } => {
                    format!("Too many wrong codes. Wait {retry_after_secs} seconds, then try again.")
                }
                _ => "That code is not right. Enter the current code from the app.".to_owned(),
            };
            let pending = mfa::pending_enrolment(&state.db, caller.user).await?;
            let Some(enrolment) = pending else {
                return Ok(Redirect::to("/account").into_response());
            };
            let page = MfaSetupPage {
                nav: Nav::for_caller("account", Some(&caller)),
                csrf: caller.csrf.clone(),
                secret: enrolment.secret_base32,
                qr_svg: inline_svg(&enrolment.qr_svg),
                error: Some(message),
            };
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

/// Sends a new confirmation link (at most 3 an hour, like every emailed link).
async fn resend_verification(
    State(state): State<AppState>,
    SignedInForm(caller, _): SignedInForm<perm::OwnAccount, CsrfOnly>,
) -> Result<Response, PageError> {
    signup::resend_verification(&signup_context(&state), &caller.email).await?;
    Ok(Redirect::to("/account?notice=verification").into_response())
}
