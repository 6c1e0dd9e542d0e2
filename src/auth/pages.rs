//! Identity pages for browsers. Forms post to the same origin only (checked by
//! `http::origin`); links carrying a token are served with `Referrer-Policy: no-referrer`.

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::audit::Actor;
use crate::http::{PageError, RequestContext, origin::SameOrigin};
use crate::startup::AppState;
use crate::web::Nav;

use super::signup::{self, VerifyError};

pub fn router() -> Router<AppState> {
    Router::new().route("/verify-email", get(verify_email_form).post(verify_email_submit))
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
        .map_err(|e| PageError::Internal(anyhow::anyhow!("template failed: {e}")))?;
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
