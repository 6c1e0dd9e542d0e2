//! A crew's capacity per day: one `crew_load` row per crew and day, and a unit taken with a
//! conditional update (see `booking` for why that cannot double-book). Shared by booking a
//! day and by moving an offer on to the next crew.

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use crate::crews::Crew;
use crate::crews::store::load;
use crate::ids::CrewId;

/// Makes sure each crew has a load row for `day`, so that taking a unit is one conditional
/// update. Runs outside the booking's transaction: a concurrent insert of the same row is a
/// harmless duplicate, and PostgreSQL would abort a transaction on it.
pub async fn ensure_load_rows(db: &DatabaseConnection, crews: &[Crew], day: NaiveDate) -> Result<(), DbErr> {
    for crew in crews {
        let row = load::ActiveModel {
            crew_id: Set(crew.id.0),
            day: Set(day),
            booked: Set(0),
        };
        match load::Entity::insert(row).exec_without_returning(db).await {
            Err(e) if crate::db::constraint(&e) == Some(crate::db::Constraint::Unique) => {}
            other => {
                other?;
            }
        }
    }
    Ok(())
}

/// Takes one unit of `crew`'s capacity on `day`, if it has one left.
pub async fn reserve<C: crate::db::Conn>(tx: &C, crew: &Crew, day: NaiveDate) -> Result<bool, DbErr> {
    let taken = load::Entity::update_many()
        .col_expr(load::Column::Booked, Expr::col(load::Column::Booked).add(1))
        .filter(load::Column::CrewId.eq(crew.id.0))
        .filter(load::Column::Day.eq(day))
        .filter(load::Column::Booked.lt(crew.daily_capacity))
        .exec(tx)
        .await?;
    Ok(taken.rows_affected == 1)
}

/// Gives a unit back.
pub async fn release<C: crate::db::Conn>(tx: &C, crew: CrewId, day: NaiveDate) -> Result<(), DbErr> {
    load::Entity::update_many()
        .col_expr(load::Column::Booked, Expr::col(load::Column::Booked).sub(1))
        .filter(load::Column::CrewId.eq(crew.0))
        .filter(load::Column::Day.eq(day))
        .filter(load::Column::Booked.gt(0))
        .exec(tx)
        .await?;
    Ok(())
}
