//! Identity pages for browsers. Forms post to the same origin only (checked by
//! `http::origin`); links carrying a token are served with `Referrer-Policy: no-referrer`.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use crate::access::{PUBLIC, Routes};
use crate::audit::Actor;
use crate::http::{PageError, RequestContext, origin::SameOrigin};
use crate::state::AppState;
use crate::web::{Nav, sentence};

use super::credentials::{self, CredentialError};
use super::signup::{self, VerifyError};

pub fn router() -> Routes {
    Routes::new()
        .get("/verify-email", PUBLIC, verify_email_form)
        .post("/verify-email", PUBLIC, verify_email_submit)
        .get("/forgot-password", PUBLIC, forgot_form)
        .post("/forgot-password", PUBLIC, forgot_submit)
        .get("/reset-password", PUBLIC, reset_form)
        .post("/reset-password", PUBLIC, reset_submit)
        .get("/welcome", PUBLIC, welcome_form)
        .post("/welcome", PUBLIC, welcome_submit)
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Template)]
#[template(path = "auth/verify_email.html")]
struct VerifyEmailPage {
    nav: Nav,
    token: String,
    outcome: Option<bool>,
}

fn render_no_referrer(page: &impl Template) -> Result<Response, PageError> {
    let body = page
        .render()
        .map_err(|e| anyhow::Error::from(e).context("template failed"))?;
    let mut response = Html(body).into_response();
    // The URL holds a token: it must not leak to other sites through the Referer header.
    response
        .headers_mut()
        .insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    Ok(response)
}

/// GET shows a confirmation button: a GET never changes state (mail scanners follow links).
async fn verify_email_form(Query(q): Query<TokenQuery>) -> Result<Response, PageError> {
    let token: String = q.token.chars().take(128).collect();
    render_no_referrer(&VerifyEmailPage {
        nav: Nav::default(),
        token,
        outcome: None,
    })
}

async fn verify_email_submit(
    State(state): State<AppState>,
    _same_origin: SameOrigin,
    ctx: RequestContext,
    Form(form): Form<TokenQuery>,
) -> Result<Response, PageError> {
    let outcome = match signup::verify_email(&state.db, &form.token, &Actor::anonymous(&ctx)).await {
        Ok(_) => true,
        Err(VerifyError::InvalidToken) => false,
        Err(VerifyError::Internal(e)) => return Err(PageError::Internal(e)),
    };
    render_no_referrer(&VerifyEmailPage {
        nav: Nav::default(),
        token: String::new(),
        outcome: Some(outcome),
    })
}

#[derive(Template)]
#[template(path = "auth/forgot_password.html")]
struct ForgotPage {
    nav: Nav,
    sent: bool,
}

async fn forgot_form() -> Result<Response, PageError> {
    render_no_referrer(&ForgotPage {
        nav: Nav::default(),
        sent: false,
    })
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

async fn forgot_submit(
    State(state): State<AppState>,
    _same_origin: SameOrigin,
    ctx: RequestContext,
    Form(form): Form<EmailForm>,
) -> Result<Response, PageError> {
    let ttl = state.settings.links().email_token;
    credentials::request_reset(&state.login_context(), &form.email, ttl, &ctx).await?;
    // The same page whether or not the address has an account (S-AU-2).
    render_no_referrer(&ForgotPage {
        nav: Nav::default(),
        sent: true,
    })
}

#[derive(Template)]
#[template(path = "auth/reset_password.html")]
struct ResetPage {
    nav: Nav,
    token: String,
    problem: Option<String>,
    invalid_link: bool,
    done: bool,
}

impl ResetPage {
    fn new(token: String) -> Self {
        Self {
            nav: Nav::default(),
            token,
            problem: None,
            invalid_link: false,
            done: false,
        }
    }
}

async fn reset_form(Query(q): Query<TokenQuery>) -> Result<Response, PageError> {
    render_no_referrer(&ResetPage::new(q.token.chars().take(128).collect()))
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: secrecy::SecretString,
}

async fn reset_submit(
    State(state): State<AppState>,
    _same_origin: SameOrigin,
    ctx: RequestContext,
    Form(form): Form<ResetForm>,
) -> Result<Response, PageError> {
    let mut page = ResetPage::new(form.token.chars().take(128).collect());
    match credentials::reset_password(&state.login_context(), &form.token, form.password, &ctx).await {
        Ok(()) => page.done = true,
        Err(CredentialError::WeakPassword(problem)) => page.problem = Some(sentence(&problem.to_string())),
        Err(
            CredentialError::InvalidToken
            | CredentialError::WrongPassword
            | CredentialError::MfaRequired
            | CredentialError::InvalidCode,
        ) => page.invalid_link = true,
        Err(CredentialError::RateLimited { .. }) => {
            page.problem = Some("Too many attempts; wait a minute.".into())
        }
        Err(CredentialError::Internal(e)) => return Err(PageError::Internal(e)),
    }
    render_no_referrer(&page)
}

#[derive(Template)]
#[template(path = "auth/welcome.html")]
struct WelcomePage {
    nav: Nav,
    token: String,
    problem: Option<String>,
    invalid_link: bool,
    done: bool,
}

impl WelcomePage {
    fn new(token: String) -> Self {
        Self {
            nav: Nav::default(),
            token,
            problem: None,
            invalid_link: false,
            done: false,
        }
    }
}

/// A staff invitation: the new member chooses a password (then enrols MFA at sign-in).
async fn welcome_form(Query(q): Query<TokenQuery>) -> Result<Response, PageError> {
    render_no_referrer(&WelcomePage::new(q.token.chars().take(128).collect()))
}

async fn welcome_submit(
    State(state): State<AppState>,
    _same_origin: SameOrigin,
    ctx: RequestContext,
    Form(form): Form<ResetForm>,
) -> Result<Response, PageError> {
    let mut page = WelcomePage::new(form.token.chars().take(128).collect());
    match credentials::accept_invite(&state.login_context(), &form.token, form.password, &ctx).await {
        Ok(()) => page.done = true,
        Err(CredentialError::WeakPassword(problem)) => page.problem = Some(sentence(&problem.to_string())),
        Err(CredentialError::RateLimited { .. }) => {
            page.problem = Some("Too many attempts; wait a minute.".into())
        }
        Err(CredentialError::Internal(e)) => return Err(PageError::Internal(e)),
        Err(_) => page.invalid_link = true,
    }
    render_no_referrer(&page)
}
