//! Customers' ratings of the crew that installed their system: 1 to 5 stars and an optional
//! comment, one per job, which its customer may change for 14 days. A crew sees its average
//! and how many rated it, never who gave what; dispatch ranks by the average once a crew has
//! `MIN_REVIEWS` (see `Crew::ranking_rating`). The job's rules (whose it is, whether it is
//! installed) are the jobs room's; this room keeps the ratings and each crew's running sum.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::Serialize;
use utoipa::ToSchema;

use super::store::{crew, rating};
use crate::ids::{CrewId, JobId, UserId};

/// How long a customer may change their rating after giving it.
pub const EDIT_DAYS: i64 = 14;
/// The longest comment, in characters.
pub const COMMENT_MAX: usize = 1000;

/// A number of stars, 1 to 5.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stars(u8);

impl Stars {
    pub fn new(n: i64) -> Result<Stars, RatingError> {
        u8::try_from(n)
            .ok()
            .filter(|n| (1..=5).contains(n))
            .map(Stars)
            .ok_or(RatingError::Invalid("stars"))
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// A comment: plain text of at most `COMMENT_MAX` characters, line breaks allowed, no other
/// control characters. Pages escape it like any text; it is never read as markup.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Comment(String);

impl Comment {
    pub fn parse(raw: &str) -> Result<Comment, RatingError> {
        let text = raw.trim().replace("\r\n", "\n");
        if text.chars().count() > COMMENT_MAX || text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(RatingError::Invalid("comment"));
        }
        Ok(Comment(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RatingError {
    #[error("{0} is out of range")]
    Invalid(&'static str),
    /// The rating was given more than `EDIT_DAYS` ago.
    #[error("a rating can be changed for {EDIT_DAYS} days after it was given")]
    Closed,
    /// Another change to the same rating came first; reading it again and retrying is safe.
    #[error("the rating changed meanwhile")]
    Conflict,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for RatingError {
    fn from(e: DbErr) -> Self {
        RatingError::Internal(e.into())
    }
}

/// A customer's rating of a job's crew, as its customer sees it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Rating {
    pub stars: u8,
    pub comment: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Until when it can be changed.
    pub editable_until: DateTime<Utc>,
}

impl From<rating::Model> for Rating {
    fn from(m: rating::Model) -> Self {
        Rating {
            stars: u8::try_from(m.stars).unwrap_or(0),
            comment: m.comment,
            editable_until: editable_until(m.created_at),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// The end of a rating's edit window.
pub fn editable_until(given: DateTime<Utc>) -> DateTime<Utc> {
    given + TimeDelta::days(EDIT_DAYS)
}

/// What a crew sees of its ratings: how many and their average, never whose.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CrewRating {
    pub count: i32,
    /// 1–5, one decimal; none before the first rating.
    pub average: Option<f64>,
    /// Whether dispatch ranks the crew by this average yet (it needs `MIN_REVIEWS`).
    pub ranks_dispatch: bool,
}

impl From<&super::model::Crew> for CrewRating {
    fn from(c: &super::model::Crew) -> Self {
        CrewRating {
            count: c.reviews,
            average: c.reviews_average.map(|a| (a * 10.0).round() / 10.0),
            ranks_dispatch: c.reviews >= super::model::MIN_REVIEWS,
        }
    }
}

/// A rating as admins read it, to see what customers say of a crew: the stars, the comment and
/// the job it is about; never the customer's name.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Review {
    #[schema(value_type = String)]
    pub job_id: JobId,
    pub stars: u8,
    pub comment: String,
    pub updated_at: DateTime<Utc>,
}

/// How many of a crew's latest reviews its page and detail show.
pub const REVIEWS_SHOWN: u64 = 20;

/// The crew's latest reviews, newest first.
pub async fn latest_of_crew<C: crate::db::Conn>(
    conn: &C,
    crew: CrewId,
    limit: u64,
) -> Result<Vec<Review>, DbErr> {
    Ok(rating::Entity::find()
        .filter(rating::Column::CrewId.eq(crew.0))
        .order_by_desc(rating::Column::UpdatedAt)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(|m| Review {
            job_id: JobId(m.job_id),
            stars: u8::try_from(m.stars).unwrap_or(0),
            comment: m.comment,
            updated_at: m.updated_at,
        })
        .collect())
}

/// The rating of `job`, if its customer gave one.
pub async fn of_job<C: crate::db::Conn>(conn: &C, job: JobId) -> Result<Option<Rating>, DbErr> {
    Ok(rating::Entity::find_by_id(job.0)
        .one(conn)
        .await?
        .map(Rating::from))
}

/// What a change did to a crew's running figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Given,
    Changed { from: u8 },
}

/// Records the rating of `job`, done by `crew`, by `customer` (whose job the caller checked),
/// or changes it within its window; the crew's sum and count move in the same transaction
/// (`conn` is the caller's), by conditional updates, so two changes at once cannot both count.
pub async fn record<C: crate::db::Conn>(
    conn: &C,
    job: JobId,
    crew_id: CrewId,
    customer: UserId,
    stars: Stars,
    comment: &Comment,
    now: DateTime<Utc>,
) -> Result<(Rating, Change), RatingError> {
    let stars_now = i32::from(stars.get());
    let change = match rating::Entity::find_by_id(job.0).one(conn).await? {
        None => {
            let inserted = rating::Entity::insert(rating::ActiveModel {
                job_id: Set(job.0),
                crew_id: Set(crew_id.0),
                customer_id: Set(customer.0),
                stars: Set(stars_now),
                comment: Set(comment.as_str().to_owned()),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .exec_without_returning(conn)
            .await;
            match inserted {
                Err(e) if crate::db::constraint(&e) == Some(crate::db::Constraint::Unique) => {
                    return Err(RatingError::Conflict);
                }
                other => other?,
            };
            crew::Entity::update_many()
                .col_expr(
                    crew::Column::RatingSum,
                    Expr::col(crew::Column::RatingSum).add(stars_now),
                )
                .col_expr(
                    crew::Column::RatingCount,
                    Expr::col(crew::Column::RatingCount).add(1),
                )
                .filter(crew::Column::Id.eq(crew_id.0))
                .exec(conn)
                .await?;
            Change::Given
        }
        Some(old) => {
            if now > editable_until(old.created_at) {
                return Err(RatingError::Closed);
            }
            // Only the rating as read is changed: a change in between makes this one a conflict.
            let changed = rating::Entity::update_many()
                .col_expr(rating::Column::Stars, Expr::value(stars_now))
                .col_expr(rating::Column::Comment, Expr::value(comment.as_str().to_owned()))
                .col_expr(rating::Column::UpdatedAt, Expr::value(now))
                .filter(rating::Column::JobId.eq(job.0))
                .filter(rating::Column::Stars.eq(old.stars))
                .filter(rating::Column::UpdatedAt.eq(old.updated_at))
                .exec(conn)
                .await?;
            if changed.rows_affected != 1 {
                return Err(RatingError::Conflict);
            }
            crew::Entity::update_many()
                .col_expr(
                    crew::Column::RatingSum,
                    Expr::col(crew::Column::RatingSum).add(stars_now - old.stars),
                )
                .filter(crew::Column::Id.eq(old.crew_id))
                .exec(conn)
                .await?;
            Change::Changed {
                from: u8::try_from(old.stars).unwrap_or(0),
            }
        }
    };
    let stored = rating::Entity::find_by_id(job.0)
        .one(conn)
        .await?
        .ok_or_else(|| RatingError::Internal(anyhow::anyhow!("the rating just written is gone")))?;
    Ok((stored.into(), change))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_are_one_to_five() {
        for n in 1..=5 {
            assert_eq!(Stars::new(n).unwrap().get(), n as u8);
        }
        for n in [0, 6, -1, 256, i64::MAX] {
            assert!(Stars::new(n).is_err(), "{n}");
        }
    }

    #[test]
    fn comments_are_plain_text_and_capped() {
        assert_eq!(
            Comment::parse("  Tidy work.\r\nOn time. ").unwrap().as_str(),
            "Tidy work.\nOn time."
        );
        assert!(Comment::parse(&"a".repeat(COMMENT_MAX)).is_ok());
        assert!(Comment::parse(&"a".repeat(COMMENT_MAX + 1)).is_err());
        assert!(Comment::parse("bell\u{7}").is_err());
        // Markup is text: it is kept as typed and escaped where it is shown.
        assert_eq!(Comment::parse("<b>great</b>").unwrap().as_str(), "<b>great</b>");
    }

    #[test]
    fn a_rating_can_be_changed_for_fourteen_days() {
        let given = Utc::now();
        assert_eq!(editable_until(given) - given, TimeDelta::days(14));
    }
}
