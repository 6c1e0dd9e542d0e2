//! The sales pipeline page: counts by stage, a weekly chart, the newest leads.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::service::{self, Pipeline};
use crate::access::{PageUser, Permission, Routes, perm};
use crate::http::PageError;
use crate::state::AppState;
use crate::web::chart::{BarChart, Series};
use crate::web::{Nav, render};

pub fn router() -> Routes {
    Routes::new().get("/staff/pipeline", Permission::ReadPipeline, pipeline)
}

#[derive(Template)]
#[template(path = "staff/pipeline.html")]
struct PipelinePage {
    nav: Nav,
    pipeline: Pipeline,
    chart: BarChart,
}

#[derive(Deserialize)]
struct PageQuery {
    cursor: Option<String>,
}

async fn pipeline(
    State(state): State<AppState>,
    caller: PageUser<perm::ReadPipeline>,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    let before = q.cursor.and_then(|c| c.parse().ok());
    let pipeline = service::pipeline(&state.db, before, 50)
        .await
        .map_err(anyhow::Error::from)?;
    let labels: Vec<String> = pipeline
        .weeks
        .iter()
        .map(|w| w.week_start.format("%b %d").to_string())
        .collect();
    // People, like the stage counts above it: each customer counts once in the week they
    // reached a stage (quotes and orders made are in the API's weeks).
    let chart = BarChart::new(
        "Customers reaching each stage, per week",
        &labels,
        &[
            Series {
                name: "signed up",
                class: "series-a",
                values: pipeline.weeks.iter().map(|w| w.new_customers).collect(),
            },
            Series {
                name: "confirmed their email",
                class: "series-b",
                values: pipeline.weeks.iter().map(|w| w.confirmed).collect(),
            },
            Series {
                name: "got a first quote",
                class: "series-c",
                values: pipeline.weeks.iter().map(|w| w.first_quotes).collect(),
            },
            Series {
                name: "placed a first order",
                class: "series-d",
                values: pipeline.weeks.iter().map(|w| w.first_orders).collect(),
            },
        ],
    );
    let page = PipelinePage {
        nav: Nav::for_caller("staff", Some(&caller)),
        pipeline,
        chart,
    };
    render(StatusCode::OK, &page)
}
