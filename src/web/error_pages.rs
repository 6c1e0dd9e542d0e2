//! Error pages that know who is looking. The error page is drawn where the error happens,
//! often in a layer that knows nothing of sessions (a 404 for an unknown path, a 413 from the
//! body limit); this layer draws it again for a signed-in user with their own navigation, a
//! way back to the page they came from and, for a 413, the limit they passed.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::auth::browser::{self, PageCaller, SESSION_COOKIE};
use crate::http::error::{BodyLimit, ErrorPageView, PlainErrorPage, html_error_with};
use crate::state::AppState;

use super::Nav;

pub async fn with_navigation(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // Kept only when there is something to draw with, and only the headers an error page
    // reads (every `Cookie` line: HTTP/2 may split them): most requests carry no error.
    let headers = (browser::cookie(req.headers(), SESSION_COOKIE).is_some()
        || req.headers().contains_key(header::REFERER))
    .then(|| {
        let mut kept = HeaderMap::new();
        for name in [header::COOKIE, header::REFERER, header::HOST] {
            for value in req.headers().get_all(&name) {
                kept.append(name.clone(), value.clone());
            }
        }
        kept
    });
    let response = next.run(req).await;
    let Some(PlainErrorPage(status)) = response.extensions().get::<PlainErrorPage>().copied() else {
        return response;
    };
    // The route's limit when the route table refused it; otherwise the outer cap, the largest
    // any route takes, was passed before a route was matched.
    let limit = response.extensions().get::<BodyLimit>().copied().or_else(|| {
        (status == axum::http::StatusCode::PAYLOAD_TOO_LARGE)
            .then(|| BodyLimit(state.settings.largest_body_bytes()))
    });
    let Some(headers) = headers else {
        if limit.is_none() {
            return response;
        }
        return redraw(
            response,
            status,
            ErrorPageView {
                limit,
                ..ErrorPageView::default()
            },
        );
    };
    let caller = signed_in(&state, &headers).await;
    let view = ErrorPageView {
        nav: Nav::for_caller("", caller.as_ref()),
        back: came_from(&headers),
        start: if caller.is_some() {
            super::start::START
        } else {
            "/"
        },
        limit,
    };
    redraw(response, status, view)
}

/// The page drawn again, keeping the first one's headers (`Allow`, `Retry-After`, the
/// session cookie's removal) and extensions (the error detail for the log).
fn redraw(response: Response, status: axum::http::StatusCode, view: ErrorPageView) -> Response {
    let (mut parts, _first_body) = response.into_parts();
    let mut drawn = html_error_with(status, view);
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in drawn.headers() {
        parts.headers.insert(name.clone(), value.clone());
    }
    let (_, body) = std::mem::take(&mut drawn).into_parts();
    Response::from_parts(parts, body)
}

/// The signed-in user of the request, if any; an error page never fails for want of one.
async fn signed_in(state: &AppState, headers: &HeaderMap) -> Option<PageCaller> {
    let mut request = axum::http::Request::new(());
    *request.headers_mut() = headers.clone();
    let (parts, ()) = request.into_parts();
    match browser::page_caller(&parts, state).await {
        Ok(caller) => caller,
        Err(e) => {
            tracing::warn!(error = %e, "error page drawn without the navigation");
            None
        }
    }
}

/// The page of ours the request came from: the `Referer`'s path when it names this host,
/// and only as a local path (the sign-in return rules: no other site, no sign-in page).
fn came_from(headers: &HeaderMap) -> Option<String> {
    let referer = url::Url::parse(headers.get(header::REFERER)?.to_str().ok()?).ok()?;
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let authority = match referer.port() {
        Some(port) => format!("{}:{port}", referer.host_str()?),
        None => referer.host_str()?.to_owned(),
    };
    if !authority.eq_ignore_ascii_case(host) {
        return None;
    }
    let mut local = referer.path().to_owned();
    if let Some(query) = referer.query() {
        local.push('?');
        local.push_str(query);
    }
    browser::return_to(&local)
}
