//! The public catalog page.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{Panel, Region};
use crate::access::{PUBLIC, Routes};
use crate::auth::browser::MaybePageCaller;
use crate::http::PageError;
use crate::state::AppState;
use crate::web::{Nav, render};

pub fn router() -> Routes {
    Routes::new().get("/catalog", PUBLIC, catalog)
}

#[derive(Template)]
#[template(path = "catalog/catalog.html")]
struct CatalogPage {
    nav: Nav,
    panels: Vec<Panel>,
    regions: Vec<Region>,
}

async fn catalog(
    State(state): State<AppState>,
    MaybePageCaller(caller): MaybePageCaller,
) -> Result<Response, PageError> {
    let page = CatalogPage {
        nav: Nav::for_caller("catalog", caller.as_ref()),
        panels: super::panels(&state.db).await.map_err(anyhow::Error::from)?,
        regions: super::regions(&state.db).await.map_err(anyhow::Error::from)?,
    };
    render(StatusCode::OK, &page)
}
