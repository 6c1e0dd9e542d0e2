//! Admins manage installer companies and crews: service areas, skills, capacity, calendars and
//! members. Every change is audited in its transaction. Matching reads crews from here.

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::{
    Crew, CrewPatch, CrewProblem, CrewWindows, DAILY_CAPACITY, NewCrew, RADIUS_KM, RATING, WorkingDays,
    check_name, check_range, parse_skills,
};
use super::store::{company, crew, day_off, member};
use crate::access::Role;
use crate::audit::{self, Action, Actor, Details, Target};
use crate::ids::{CompanyId, CrewId, UserId};

#[derive(Debug, thiserror::Error)]
pub enum CrewError {
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Invalid(#[from] CrewProblem),
    #[error("only installer accounts join crews")]
    NotAnInstaller,
    #[error("this installer is in another crew")]
    InAnotherCrew,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for CrewError {
    fn from(e: DbErr) -> Self {
        CrewError::Internal(e.into())
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Company {
    #[schema(value_type = String)]
    pub id: CompanyId,
    pub name: String,
    pub active: bool,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCompany {
    pub name: String,
}

fn company_target(id: CompanyId) -> Target {
    Target {
        kind: "installer_company",
        id: id.to_string(),
    }
}

fn crew_target(id: CrewId) -> Target {
    Target {
        kind: "crew",
        id: id.to_string(),
    }
}

impl From<crew::Model> for Crew {
    fn from(m: crew::Model) -> Self {
        let days = WorkingDays::decode(&m.working_days);
        let windows = CrewWindows::decode(&m.arrival_windows);
        Self {
            id: CrewId(m.id),
            company_id: CompanyId(m.company_id),
            name: m.name,
            base_latitude: m.base_latitude,
            base_longitude: m.base_longitude,
            service_radius_km: m.service_radius_km,
            skills: serde_json::from_str(&m.skills).unwrap_or_default(),
            daily_capacity: m.daily_capacity,
            working_days: days.names(),
            arrival_windows: windows.all().to_vec(),
            rating: m.rating,
            active: m.active,
            reviews: m.rating_count,
            reviews_average: (m.rating_count > 0)
                .then(|| f64::from(m.rating_sum) / f64::from(m.rating_count)),
            days,
            windows,
        }
    }
}

pub async fn companies<C: crate::db::Conn>(conn: &C) -> Result<Vec<Company>, DbErr> {
    Ok(company::Entity::find()
        .order_by_asc(company::Column::Name)
        .all(conn)
        .await?
        .into_iter()
        .map(|c| Company {
            id: CompanyId(c.id),
            name: c.name,
            active: c.active,
        })
        .collect())
}

pub async fn add_company(
    db: &DatabaseConnection,
    actor: &Actor,
    new: NewCompany,
) -> Result<Company, CrewError> {
    let name = check_name("name", &new.name)?;
    let id = CompanyId::new();
    let tx = crate::db::begin(db).await?;
    company::Entity::insert(company::ActiveModel {
        id: Set(id.0),
        name: Set(name.clone()),
        active: Set(true),
        created_at: Set(Utc::now()),
    })
    .exec_without_returning(&tx)
    .await?;
    audit::record(
        &tx,
        actor,
        Action::CrewChanged,
        Some(company_target(id)),
        Details::new().with("change", "company_added"),
    )
    .await?;
    tx.commit().await?;
    Ok(Company {
        id,
        name,
        active: true,
    })
}

/// Every crew (admins), or only active ones (matching).
pub async fn crews<C: crate::db::Conn>(conn: &C, only_active: bool) -> Result<Vec<Crew>, DbErr> {
    let mut query = crew::Entity::find();
    if only_active {
        query = query.filter(crew::Column::Active.eq(true));
    }
    Ok(query
        .order_by_asc(crew::Column::Name)
        .order_by_asc(crew::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(Crew::from)
        .collect())
}

pub async fn crew<C: crate::db::Conn>(conn: &C, id: CrewId) -> Result<Option<Crew>, DbErr> {
    Ok(crew::Entity::find_by_id(id.0).one(conn).await?.map(Crew::from))
}

/// "Piedmont Crew 1 of Bright Roofs LLC": how a customer is told who is coming.
pub async fn crew_with_company<C: crate::db::Conn>(conn: &C, id: CrewId) -> Result<Option<String>, DbErr> {
    let Some(crew) = crew::Entity::find_by_id(id.0).one(conn).await? else {
        return Ok(None);
    };
    let company = company::Entity::find_by_id(crew.company_id).one(conn).await?;
    Ok(Some(match company {
        Some(c) => format!("{} of {}", crew.name, c.name),
        None => crew.name,
    }))
}

fn checked_skills(raw: &[String]) -> Result<String, CrewError> {
    let skills = parse_skills(raw)?;
    serde_json::to_string(&skills).map_err(|e| CrewError::Internal(e.into()))
}

fn working_days(raw: &[String]) -> Result<WorkingDays, CrewProblem> {
    if raw.is_empty() {
        Ok(WorkingDays::WEEKDAYS)
    } else {
        WorkingDays::parse(raw)
    }
}

pub async fn add_crew(db: &DatabaseConnection, actor: &Actor, new: NewCrew) -> Result<Crew, CrewError> {
    let row = crew::ActiveModel {
        id: Set(CrewId::new().0),
        company_id: Set(new.company_id.0),
        name: Set(check_name("name", &new.name)?),
        base_latitude: Set(check_range("base_latitude", new.base_latitude, -90.0, 90.0)?),
        base_longitude: Set(check_range("base_longitude", new.base_longitude, -180.0, 180.0)?),
        service_radius_km: Set(check_range(
            "service_radius_km",
            new.service_radius_km,
            RADIUS_KM.0,
            RADIUS_KM.1,
        )?),
        skills: Set(checked_skills(&new.skills)?),
        daily_capacity: Set(check_range(
            "daily_capacity",
            new.daily_capacity,
            DAILY_CAPACITY.0,
            DAILY_CAPACITY.1,
        )?),
        working_days: Set(working_days(&new.working_days)?.encode()),
        arrival_windows: Set(match new.arrival_windows {
            Some(w) => CrewWindows::new(w)?.encode(),
            None => CrewWindows::standard().encode(),
        }),
        rating: Set(4.0),
        active: Set(true),
        created_at: Set(Utc::now()),
        rating_sum: Set(0),
        rating_count: Set(0),
    };
    let tx = crate::db::begin(db).await?;
    if company::Entity::find_by_id(new.company_id.0)
        .one(&tx)
        .await?
        .is_none()
    {
        return Err(CrewProblem("company_id").into());
    }
    let id = CrewId(match &row.id {
        Set(id) => *id,
        _ => uuid::Uuid::nil(),
    });
    crew::Entity::insert(row).exec_without_returning(&tx).await?;
    audit::record(
        &tx,
        actor,
        Action::CrewChanged,
        Some(crew_target(id)),
        Details::new().with("change", "crew_added"),
    )
    .await?;
    let stored = crew::Entity::find_by_id(id.0)
        .one(&tx)
        .await?
        .ok_or(CrewError::NotFound)?;
    tx.commit().await?;
    Ok(stored.into())
}

pub async fn update_crew(
    db: &DatabaseConnection,
    actor: &Actor,
    id: CrewId,
    patch: CrewPatch,
) -> Result<Crew, CrewError> {
    let tx = crate::db::begin(db).await?;
    let Some(current) = crew::Entity::find_by_id(id.0).one(&tx).await? else {
        return Err(CrewError::NotFound);
    };
    let mut row: crew::ActiveModel = current.into();
    if let Some(v) = patch.name {
        row.name = Set(check_name("name", &v)?);
    }
    if let Some(v) = patch.base_latitude {
        row.base_latitude = Set(check_range("base_latitude", v, -90.0, 90.0)?);
    }
    if let Some(v) = patch.base_longitude {
        row.base_longitude = Set(check_range("base_longitude", v, -180.0, 180.0)?);
    }
    if let Some(v) = patch.service_radius_km {
        row.service_radius_km = Set(check_range("service_radius_km", v, RADIUS_KM.0, RADIUS_KM.1)?);
    }
    if let Some(v) = patch.skills {
        row.skills = Set(checked_skills(&v)?);
    }
    if let Some(v) = patch.daily_capacity {
        row.daily_capacity = Set(check_range(
            "daily_capacity",
            v,
            DAILY_CAPACITY.0,
            DAILY_CAPACITY.1,
        )?);
    }
    if let Some(v) = patch.working_days {
        row.working_days = Set(WorkingDays::parse(&v)?.encode());
    }
    if let Some(v) = patch.arrival_windows {
        row.arrival_windows = Set(CrewWindows::new(v)?.encode());
    }
    if let Some(v) = patch.rating {
        row.rating = Set(check_range("rating", v, RATING.0, RATING.1)?);
    }
    if let Some(v) = patch.active {
        row.active = Set(v);
    }
    let updated = crew::Entity::update(row).exec(&tx).await?;
    audit::record(
        &tx,
        actor,
        Action::CrewChanged,
        Some(crew_target(id)),
        Details::new().with("change", "crew_updated"),
    )
    .await?;
    tx.commit().await?;
    Ok(updated.into())
}

/// A member as listed to admins.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Member {
    #[schema(value_type = String)]
    pub user_id: UserId,
    pub name: String,
}

pub async fn members<C: crate::db::Conn>(conn: &C, id: CrewId) -> Result<Vec<Member>, DbErr> {
    let ids: Vec<uuid::Uuid> = member::Entity::find()
        .filter(member::Column::CrewId.eq(id.0))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    let names = crate::auth::names_of(conn, &ids).await?;
    Ok(ids
        .into_iter()
        .map(|u| Member {
            user_id: UserId(u),
            name: names.get(&u).cloned().unwrap_or_default(),
        })
        .collect())
}

/// Puts an installer account in a crew. An installer belongs to one crew at a time.
pub async fn add_member(
    db: &DatabaseConnection,
    actor: &Actor,
    id: CrewId,
    user: UserId,
) -> Result<(), CrewError> {
    let tx = crate::db::begin(db).await?;
    if crew::Entity::find_by_id(id.0).one(&tx).await?.is_none() {
        return Err(CrewError::NotFound);
    }
    match crate::auth::role_of(&tx, user).await? {
        Some(Role::Installer) => {}
        Some(_) => return Err(CrewError::NotAnInstaller),
        None => return Err(CrewProblem("user_id").into()),
    }
    let row = member::ActiveModel {
        user_id: Set(user.0),
        crew_id: Set(id.0),
    };
    match member::Entity::insert(row).exec_without_returning(&tx).await {
        Err(e) if crate::db::constraint(&e) == Some(crate::db::Constraint::Unique) => {
            return Err(CrewError::InAnotherCrew);
        }
        other => {
            other?;
        }
    }
    audit::record(
        &tx,
        actor,
        Action::CrewChanged,
        Some(crew_target(id)),
        Details::new().with("change", "member_added").with("user", user),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn remove_member(
    db: &DatabaseConnection,
    actor: &Actor,
    id: CrewId,
    user: UserId,
) -> Result<(), CrewError> {
    let tx = crate::db::begin(db).await?;
    let removed = member::Entity::delete_many()
        .filter(member::Column::CrewId.eq(id.0))
        .filter(member::Column::UserId.eq(user.0))
        .exec(&tx)
        .await?;
    if removed.rows_affected == 0 {
        return Err(CrewError::NotFound);
    }
    audit::record(
        &tx,
        actor,
        Action::CrewChanged,
        Some(crew_target(id)),
        Details::new().with("change", "member_removed").with("user", user),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The crew an installer account works in, if any.
pub async fn crew_of<C: crate::db::Conn>(conn: &C, user: UserId) -> Result<Option<CrewId>, DbErr> {
    Ok(member::Entity::find_by_id(user.0)
        .one(conn)
        .await?
        .map(|m| CrewId(m.crew_id)))
}

/// The members of a crew (to notify them of offers).
pub async fn member_ids<C: crate::db::Conn>(conn: &C, id: CrewId) -> Result<Vec<UserId>, DbErr> {
    Ok(member::Entity::find()
        .filter(member::Column::CrewId.eq(id.0))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| UserId(m.user_id))
        .collect())
}

/// Marks `day` off (holiday, training) or back on. Days already booked stay booked: the crew
/// deals with those through their offers.
pub async fn set_day_off(
    db: &DatabaseConnection,
    actor: &Actor,
    id: CrewId,
    day: NaiveDate,
    off: bool,
) -> Result<(), CrewError> {
    let tx = crate::db::begin(db).await?;
    if crew::Entity::find_by_id(id.0).one(&tx).await?.is_none() {
        return Err(CrewError::NotFound);
    }
    let exists = day_off::Entity::find_by_id((id.0, day)).one(&tx).await?.is_some();
    if off && !exists {
        day_off::Entity::insert(day_off::ActiveModel {
            crew_id: Set(id.0),
            day: Set(day),
        })
        .exec_without_returning(&tx)
        .await?;
    } else if !off && exists {
        day_off::Entity::delete_by_id((id.0, day)).exec(&tx).await?;
    }
    audit::record(
        &tx,
        actor,
        Action::CrewChanged,
        Some(crew_target(id)),
        Details::new().with("change", if off { "day_off_added" } else { "day_off_removed" }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Days off of the given crews within `[from, to]`.
pub async fn days_off<C: crate::db::Conn>(
    conn: &C,
    crews: &[CrewId],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(CrewId, NaiveDate)>, DbErr> {
    if crews.is_empty() {
        return Ok(Vec::new());
    }
    Ok(day_off::Entity::find()
        .filter(day_off::Column::CrewId.is_in(crews.iter().map(|c| c.0)))
        .filter(day_off::Column::Day.gte(from))
        .filter(day_off::Column::Day.lte(to))
        .all(conn)
        .await?
        .into_iter()
        .map(|d| (CrewId(d.crew_id), d.day))
        .collect())
}

/// Disabling a company takes its crews out of matching too.
pub async fn set_company_active(
    db: &DatabaseConnection,
    actor: &Actor,
    id: CompanyId,
    active: bool,
) -> Result<(), CrewError> {
    let tx = crate::db::begin(db).await?;
    let changed = company::Entity::update_many()
        .col_expr(company::Column::Active, Expr::value(active))
        .filter(company::Column::Id.eq(id.0))
        .exec(&tx)
        .await?;
    if changed.rows_affected == 0 {
        return Err(CrewError::NotFound);
    }
    if !active {
        crew::Entity::update_many()
            .col_expr(crew::Column::Active, Expr::value(false))
            .filter(crew::Column::CompanyId.eq(id.0))
            .exec(&tx)
            .await?;
    }
    audit::record(
        &tx,
        actor,
        Action::CrewChanged,
        Some(company_target(id)),
        Details::new().with(
            "change",
            if active {
                "company_enabled"
            } else {
                "company_disabled"
            },
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
