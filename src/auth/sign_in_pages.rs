//! Sign-up, sign-in (with the second factor) and sign-out for browsers. These forms are posted
//! before there is a session, so they are checked for same-origin (and sign-out carries the
//! session's CSRF token). Password fields allow pasting and carry `autocomplete` hints so
//! password managers work.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::access::SignedInForm;
use crate::access::{PUBLIC, Permission::OwnAccount, Routes, perm};
use crate::audit::Actor;
use crate::http::origin::SameOrigin;
use crate::http::{PageError, RequestContext};
use crate::state::AppState;
use crate::web::{Nav, sentence};

use super::browser::{
    self, CsrfOnly, DEVICE_COOKIE, MaybePageCaller, clear_session_cookie, device_cookie, session_cookie,
};
use super::login::{self, Client, LoginError, LoginForm, LoginOutcome, LoginSuccess, SessionGrant};
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
        return Ok(Redirect::to(crate::http::error::START_PAGE).into_response());
    }
    let page = SignupPage {
        nav: Nav::at("signup"),
        errors: vec![],
        email: String::new(),
        name: String::new(),
        done: false,
    };
    crate::web::render(StatusCode::OK, &page)
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
    match signup::sign_up(&state.signup_context(), form, &Actor::anonymous(&ctx)).await {
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
    crate::web::render(status, &page)
}

// ---- sign-in -------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    nav: Nav,
    error: Option<String>,
    email: String,
    /// The page to return to after signing in (empty: the start page).
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

/// Where a sign-in goes: the page the user was sent from, when it is one of ours; otherwise
/// the start page, which knows the user's next step.
fn destination(next: &str) -> String {
    super::browser::return_to(next).unwrap_or_else(|| crate::http::error::START_PAGE.to_owned())
}

async fn login_form(
    MaybePageCaller(caller): MaybePageCaller,
    Query(Next { next }): Query<Next>,
) -> Result<Response, PageError> {
    if caller.is_some() {
        return Ok(Redirect::to(&destination(&next)).into_response());
    }
    crate::web::render(
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
/// start page otherwise).
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
    match login::login(&state.login_context(), form, Client::Browser, &ctx).await {
        Ok(LoginOutcome::SignedIn(success)) => signed_in(success, &next),
        Ok(LoginOutcome::MfaRequired { mfa_token }) => crate::web::render(
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
            crate::web::render(
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
    let cx = state.login_context();
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
            crate::web::render(status, &page)
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
