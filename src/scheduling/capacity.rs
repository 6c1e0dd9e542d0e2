//! A crew's capacity per day and per arrival window: one `crew_load` row per crew and day and
//! one `crew_window_load` row per crew, day and window, each unit taken with a conditional
//! update (see `booking` for why that cannot double-book). A booking takes a unit of both: the
//! day bounds the crew's work, the window how many homes expect it at once. Shared by booking,
//! moving a booking and moving an offer on to the next crew.

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use crate::crews::Crew;
use crate::crews::model::ArrivalWindow;
use crate::crews::store::{load, window_load};
use crate::ids::CrewId;

/// Makes sure each crew has load rows for `day` (and `window`), so that taking a unit is one
/// conditional update. Runs outside the booking's transaction: a concurrent insert of the same
/// row is a harmless duplicate, and PostgreSQL would abort a transaction on it.
pub async fn ensure_load_rows(
    db: &DatabaseConnection,
    crews: &[Crew],
    day: NaiveDate,
    window: Option<ArrivalWindow>,
) -> Result<(), DbErr> {
    for crew in crews {
        let row = load::ActiveModel {
            crew_id: Set(crew.id.0),
            day: Set(day),
            booked: Set(0),
        };
        ignore_duplicate(load::Entity::insert(row).exec_without_returning(db).await)?;
        if let Some(window) = window {
            let row = window_load::ActiveModel {
                crew_id: Set(crew.id.0),
                day: Set(day),
                starts: Set(window.minutes().0),
                booked: Set(0),
            };
            ignore_duplicate(window_load::Entity::insert(row).exec_without_returning(db).await)?;
        }
    }
    Ok(())
}

fn ignore_duplicate(result: Result<u64, DbErr>) -> Result<(), DbErr> {
    match result {
        Err(e) if crate::db::constraint(&e) == Some(crate::db::Constraint::Unique) => Ok(()),
        other => other.map(drop),
    }
}

/// Takes one unit of `crew`'s capacity on `day` and in `window` (which must be one of the
/// crew's), if both have one left. Bookings from before windows (`None`) take the day alone.
pub async fn reserve<C: crate::db::Conn>(
    tx: &C,
    crew: &Crew,
    day: NaiveDate,
    window: Option<ArrivalWindow>,
) -> Result<bool, DbErr> {
    let limit = match window {
        Some(w) => match crew.windows.find(w) {
            Some(own) => Some(own.holds(crew.daily_capacity)),
            None => return Ok(false),
        },
        None => None,
    };
    let taken = load::Entity::update_many()
        .col_expr(load::Column::Booked, Expr::col(load::Column::Booked).add(1))
        .filter(load::Column::CrewId.eq(crew.id.0))
        .filter(load::Column::Day.eq(day))
        .filter(load::Column::Booked.lt(crew.daily_capacity))
        .exec(tx)
        .await?;
    if taken.rows_affected != 1 {
        return Ok(false);
    }
    let (Some(window), Some(limit)) = (window, limit) else {
        return Ok(true);
    };
    let in_window = window_load::Entity::update_many()
        .col_expr(
            window_load::Column::Booked,
            Expr::col(window_load::Column::Booked).add(1),
        )
        .filter(window_load::Column::CrewId.eq(crew.id.0))
        .filter(window_load::Column::Day.eq(day))
        .filter(window_load::Column::Starts.eq(window.minutes().0))
        .filter(window_load::Column::Booked.lt(limit))
        .exec(tx)
        .await?;
    if in_window.rows_affected == 1 {
        return Ok(true);
    }
    // The window is full: the day's unit goes back, in the same transaction.
    release(tx, crew.id, day, None).await?;
    Ok(false)
}

/// Gives a unit of the day (and of the window) back.
pub async fn release<C: crate::db::Conn>(
    tx: &C,
    crew: CrewId,
    day: NaiveDate,
    window: Option<ArrivalWindow>,
) -> Result<(), DbErr> {
    load::Entity::update_many()
        .col_expr(load::Column::Booked, Expr::col(load::Column::Booked).sub(1))
        .filter(load::Column::CrewId.eq(crew.0))
        .filter(load::Column::Day.eq(day))
        .filter(load::Column::Booked.gt(0))
        .exec(tx)
        .await?;
    if let Some(window) = window {
        window_load::Entity::update_many()
            .col_expr(
                window_load::Column::Booked,
                Expr::col(window_load::Column::Booked).sub(1),
            )
            .filter(window_load::Column::CrewId.eq(crew.0))
            .filter(window_load::Column::Day.eq(day))
            .filter(window_load::Column::Starts.eq(window.minutes().0))
            .filter(window_load::Column::Booked.gt(0))
            .exec(tx)
            .await?;
    }
    Ok(())
}
