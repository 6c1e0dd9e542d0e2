use askama::Template;
use axum::extract::Path;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

use crate::auth::browser::MaybePageCaller;
use crate::http::PageError;
use crate::http::error::problem_kind;

use super::Nav;

fn render(t: &impl Template) -> Result<Html<String>, PageError> {
    t.render()
        .map(Html)
        .map_err(|e| PageError::Internal(anyhow::Error::from(e).context("template failed")))
}

#[derive(Template)]
#[template(path = "landing.html")]
struct Landing {
    nav: Nav,
}

pub async fn landing(MaybePageCaller(caller): MaybePageCaller) -> Result<Html<String>, PageError> {
    render(&Landing {
        nav: Nav::for_caller("home", caller.as_ref()),
    })
}

#[derive(Template)]
#[template(path = "faq.html")]
struct Faq {
    nav: Nav,
}

pub async fn faq(MaybePageCaller(caller): MaybePageCaller) -> Result<Html<String>, PageError> {
    render(&Faq {
        nav: Nav::for_caller("faq", caller.as_ref()),
    })
}

#[derive(Template)]
#[template(path = "problem.html")]
struct ProblemPage {
    nav: Nav,
    code: &'static str,
    title: &'static str,
    explanation: &'static str,
}

/// What an API problem `type` points at: the code's meaning, for client developers.
pub async fn problem(Path(code): Path<String>) -> Result<Html<String>, PageError> {
    let kind = problem_kind(&code).ok_or(PageError::NotFound)?;
    render(&ProblemPage {
        nav: Nav::default(),
        code: kind.code,
        title: kind.title,
        explanation: kind.explanation,
    })
}

/// A static asset by its hashed name, cacheable for a year (a new build has new names).
pub async fn asset(Path(file): Path<String>) -> Result<Response, PageError> {
    let (content_type, bytes) = super::assets::find(&file).ok_or(PageError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        bytes,
    )
        .into_response())
}
