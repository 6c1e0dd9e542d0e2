//! Sites and their usage: owner-only (S-AC-3). Someone else's site answers "not found",
//! exactly like a site that does not exist, and the attempt is audited.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::model::{NewSite, SiteForm, SiteProblem};
use super::store::{site, usage};
use super::usage::{self as year, YearOfUsage};
use crate::access::{Permission, object};
use crate::audit::{self, Action, Actor, Details, Target};
use crate::crypto::seal::{self, Field};
use crate::geo::ZipCode;
use crate::ids::{SiteId, UserId};
use crate::sizing::greenbutton::{self, ImportError, Limits};

#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Invalid(#[from] SiteProblem),
    /// The ZIP code is well formed but not one we can place.
    #[error("unknown ZIP code")]
    UnknownZip,
    /// No region serves the ZIP code yet.
    #[error("this ZIP code is not served yet")]
    NotServed,
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for SiteError {
    fn from(e: DbErr) -> Self {
        SiteError::Internal(e.into())
    }
}

/// A site as its owner sees it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Site {
    #[schema(value_type = String)]
    pub id: SiteId,
    pub label: String,
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
    pub region_id: String,
    pub roof_tilt_deg: f64,
    pub roof_azimuth_deg: f64,
    pub max_panels: i32,
    /// `max_panels` is our estimate; the survey measures the roof.
    pub max_panels_estimated: bool,
    /// How the crew gets in: gate code, dog, where to park (shown to the assigned crew).
    pub access_notes: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Site {
    /// The stored row with its address decrypted (S-CR-3).
    async fn open<C: sea_orm::ConnectionTrait>(conn: &C, m: site::Model) -> Result<Self, SiteError> {
        let address = seal::open(conn, Field::SiteAddress, &m.address).await?;
        let access_notes = seal::open_opt(conn, Field::SiteAccessNotes, m.access_notes.as_deref()).await?;
        Ok(Self {
            id: SiteId(m.id),
            label: m.label,
            address,
            latitude: m.latitude,
            longitude: m.longitude,
            region_id: m.region_id,
            roof_tilt_deg: m.roof_tilt_deg,
            roof_azimuth_deg: m.roof_azimuth_deg,
            max_panels: m.max_panels,
            max_panels_estimated: m.max_panels_estimated,
            access_notes,
            created_at: m.created_at,
        })
    }
}

fn site_target(id: SiteId) -> Target {
    Target {
        kind: "site",
        id: id.to_string(),
    }
}

/// Fills in what the ZIP code tells: where the home is, when the coordinates are left out,
/// and the region that serves it, when the region is left out. Coordinates and a region sent
/// with the form (a phone's GPS, an app that already chose) are kept as they are.
async fn place(
    db: &DatabaseConnection,
    mut form: SiteForm,
) -> Result<(SiteForm, Option<ZipCode>), SiteError> {
    let zip = match form
        .postal_code
        .as_deref()
        .map(str::trim)
        .filter(|z| !z.is_empty())
    {
        Some(raw) => Some(ZipCode::parse(raw).ok_or(SiteProblem {
            field: "postal_code",
            problem: "not a ZIP code",
        })?),
        None => None,
    };
    let required = || SiteProblem {
        field: "postal_code",
        problem: "required",
    };
    let needs_place = form.latitude.is_none() || form.longitude.is_none();
    let needs_region = form.region_id.as_deref().is_none_or(|r| r.trim().is_empty());
    if needs_place || needs_region {
        // One lookup serves both: a ZIP code we cannot place is refused either way.
        let zip = zip.ok_or_else(required)?;
        let at = crate::geo::locate(zip).ok_or(SiteError::UnknownZip)?;
        if needs_place {
            form.latitude = Some(at.latitude);
            form.longitude = Some(at.longitude);
        }
        if needs_region {
            let region = crate::catalog::region_for_zip(db, zip)
                .await?
                .ok_or(SiteError::NotServed)?;
            form.region_id = Some(region.id);
        }
    }
    Ok((form, zip))
}

/// The region that serves a place, as a ZIP code lookup names it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ServingRegion {
    pub id: String,
    pub name: String,
    pub utility: String,
}

/// What a ZIP code tells before a home is added: where it is and who would serve it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ZipPlace {
    /// The five-digit ZIP code.
    pub postal_code: String,
    pub latitude: f64,
    pub longitude: f64,
    /// Whether we serve homes there yet.
    pub served: bool,
    /// The region that serves it; absent when none does yet.
    pub region: Option<ServingRegion>,
}

/// Looks a ZIP code up: a malformed one and one that is no ZIP code are refused (422); one we
/// know but do not serve answers `served: false`.
pub async fn look_up_zip(db: &DatabaseConnection, raw: &str) -> Result<ZipPlace, SiteError> {
    let zip = ZipCode::parse(raw).ok_or(SiteProblem {
        field: "postal_code",
        problem: "not a ZIP code",
    })?;
    let at = crate::geo::locate(zip).ok_or(SiteError::UnknownZip)?;
    let region = crate::catalog::region_for_zip(db, zip)
        .await?
        .map(|r| ServingRegion {
            id: r.id,
            name: r.name,
            utility: r.utility,
        });
    Ok(ZipPlace {
        postal_code: zip.to_string(),
        latitude: at.latitude,
        longitude: at.longitude,
        served: region.is_some(),
        region,
    })
}

pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    owner: UserId,
    form: SiteForm,
) -> Result<Site, SiteError> {
    let (form, zip) = place(db, form).await?;
    let mut new: NewSite = form.parse()?;
    // The ZIP code belongs to the address the crew drives to; the street line was checked
    // as typed, so the stored value may be a few characters past the form's limit.
    if let Some(zip) = zip
        && !new.address.contains(zip.as_str())
    {
        new.address = format!("{}, {zip}", new.address.trim_end_matches(','));
    }
    if crate::catalog::region(db, &new.region_id).await?.is_none() {
        return Err(SiteProblem {
            field: "region_id",
            problem: "unknown region",
        }
        .into());
    }
    let id = SiteId::new();
    let now = Utc::now();
    let tx = crate::db::begin(db).await?;
    let row = site::ActiveModel {
        id: Set(id.0),
        owner_id: Set(owner.0),
        label: Set(new.label),
        address: Set(seal::seal(&tx, Field::SiteAddress, &new.address).await?),
        latitude: Set(new.latitude),
        longitude: Set(new.longitude),
        region_id: Set(new.region_id),
        roof_tilt_deg: Set(new.roof_tilt_deg),
        roof_azimuth_deg: Set(new.roof_azimuth_deg),
        max_panels: Set(new.max_panels),
        max_panels_estimated: Set(new.max_panels_estimated),
        access_notes: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    site::Entity::insert(row).exec_without_returning(&tx).await?;
    audit::record(
        &tx,
        actor,
        Action::SiteCreated,
        Some(site_target(id)),
        Details::new(),
    )
    .await?;
    let stored = site::Entity::find_by_id(id.0)
        .one(&tx)
        .await?
        .ok_or(SiteError::NotFound)?;
    let site = Site::open(&tx, stored).await?;
    tx.commit().await?;
    Ok(site)
}

/// The homes of `owner`, oldest first: at most `limit`, after the home `after` when given
/// (ids are UUID v7, so id order is creation order).
pub async fn list_own(
    db: &DatabaseConnection,
    owner: UserId,
    after: Option<SiteId>,
    limit: u64,
) -> Result<Vec<Site>, SiteError> {
    let mut query = site::Entity::find().filter(site::Column::OwnerId.eq(owner.0));
    if let Some(after) = after {
        query = query.filter(site::Column::Id.gt(after.0));
    }
    let rows = query.order_by_asc(site::Column::Id).limit(limit).all(db).await?;
    let mut sites = Vec::with_capacity(rows.len());
    for row in rows {
        sites.push(Site::open(db, row).await?);
    }
    Ok(sites)
}

/// The site `id` if `owner` owns it; otherwise 404 and an audited refusal.
pub async fn own(
    db: &DatabaseConnection,
    actor: &Actor,
    owner: UserId,
    id: SiteId,
) -> Result<Site, SiteError> {
    match site::Entity::find_by_id(id.0).one(db).await? {
        Some(s) if s.owner_id == owner.0 => Site::open(db, s).await,
        _ => {
            object::refused(db, actor, site_target(id), Permission::OwnSites).await;
            Err(SiteError::NotFound)
        }
    }
}

/// Longest access note a home may carry.
pub const MAX_ACCESS_NOTES_CHARS: usize = 500;

/// Sets (or, with an empty text, clears) the notes the crew reads before coming: the owner's
/// own home only.
pub async fn set_access_notes(
    db: &DatabaseConnection,
    actor: &Actor,
    owner: UserId,
    id: SiteId,
    notes: &str,
) -> Result<Site, SiteError> {
    own(db, actor, owner, id).await?;
    let notes = notes.trim();
    if notes.chars().count() > MAX_ACCESS_NOTES_CHARS
        || notes.chars().any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        return Err(SiteProblem {
            field: "access_notes",
            problem: "at most 500 characters of plain text",
        }
        .into());
    }
    let tx = crate::db::begin(db).await?;
    let sealed = seal::seal_opt(&tx, Field::SiteAccessNotes, Some(notes).filter(|n| !n.is_empty())).await?;
    site::Entity::update_many()
        .col_expr(site::Column::AccessNotes, sea_orm::sea_query::Expr::value(sealed))
        .col_expr(
            site::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(site::Column::Id.eq(id.0))
        .exec(&tx)
        .await?;
    let details = Details::new().with("changed", "access_notes");
    audit::record(&tx, actor, Action::SiteUpdated, Some(site_target(id)), details).await?;
    let stored = site::Entity::find_by_id(id.0)
        .one(&tx)
        .await?
        .ok_or(SiteError::NotFound)?;
    let site = Site::open(&tx, stored).await?;
    tx.commit().await?;
    Ok(site)
}

/// Any site, for the services that checked the caller's right to it through another object
/// (a job the caller may see, an offer made to their crew).
pub async fn by_id<C: crate::db::Conn>(conn: &C, id: SiteId) -> Result<Site, SiteError> {
    match site::Entity::find_by_id(id.0).one(conn).await? {
        Some(row) => Site::open(conn, row).await,
        None => Err(SiteError::NotFound),
    }
}

/// What the customer gave us.
pub enum UsageInput {
    GreenButton(Vec<u8>),
    Monthly([f64; 12]),
    Annual(f64),
}

/// The usage of a site as recorded, with what was understood and assumed.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct UsageSummary {
    /// `green_button`, `monthly` or `annual`.
    pub source: String,
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
    pub interval_secs: Option<i32>,
    pub readings: i32,
    /// Energy bought from the grid over the period of the file.
    pub delivered_kwh: f64,
    /// Energy sent to the grid by panels already there, over the same period.
    pub exported_kwh: f64,
    /// The year the quote is sized for.
    pub annual_kwh: f64,
    /// January first.
    pub monthly_kwh: Vec<f64>,
    pub notes: Vec<String>,
    pub created_at: DateTime<Utc>,
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

impl TryFrom<usage::Model> for UsageSummary {
    type Error = anyhow::Error;
    fn try_from(m: usage::Model) -> anyhow::Result<Self> {
        Ok(Self {
            source: m.source,
            period_start: m.period_start,
            period_end: m.period_end,
            interval_secs: m.interval_secs,
            readings: m.readings,
            delivered_kwh: round1(m.delivered_kwh),
            exported_kwh: round1(m.exported_kwh),
            annual_kwh: round1(m.annual_kwh),
            monthly_kwh: serde_json::from_str::<Vec<f64>>(&m.monthly_kwh)?
                .into_iter()
                .map(round1)
                .collect(),
            notes: serde_json::from_str(&m.notes)?,
            created_at: m.created_at,
        })
    }
}

const MAX_ANNUAL_KWH: f64 = 1_000_000.0;

fn check_figure(field: &'static str, kwh: f64) -> Result<f64, SiteError> {
    if kwh.is_finite() && (0.0..=MAX_ANNUAL_KWH).contains(&kwh) {
        Ok(kwh)
    } else {
        Err(SiteProblem {
            field,
            problem: "out of range",
        }
        .into())
    }
}

/// Records usage for `owner`'s site. Green Button files are parsed on a blocking thread,
/// within the import's size, depth and time bounds.
pub async fn import_usage(
    db: &DatabaseConnection,
    actor: &Actor,
    owner: UserId,
    id: SiteId,
    input: UsageInput,
) -> Result<UsageSummary, SiteError> {
    own(db, actor, owner, id).await?;
    struct Parsed {
        source: &'static str,
        period: Option<(DateTime<Utc>, DateTime<Utc>)>,
        interval: Option<i32>,
        readings: i32,
        delivered: f64,
        exported: f64,
        year: YearOfUsage,
        hourly: Option<Vec<f64>>,
    }
    let parsed = match input {
        UsageInput::GreenButton(bytes) => {
            let usage = tokio::task::spawn_blocking(move || greenbutton::import(&bytes, Limits::default()))
                .await
                .map_err(|e| anyhow::anyhow!("usage import task failed: {e}"))??;
            let mut year = year::from_import(&usage.monthly, usage.start, usage.end, usage.delivered_kwh);
            let hourly = year::hourly_profile(&usage.delivered, usage.utc_offset_secs);
            let mut notes = usage.notes.clone();
            notes.append(&mut year.notes);
            year.notes = notes;
            Parsed {
                source: "green_button",
                period: Some((usage.start, usage.end)),
                interval: i32::try_from(usage.interval_secs).ok(),
                readings: i32::try_from(usage.readings).unwrap_or(i32::MAX),
                delivered: usage.delivered_kwh,
                exported: usage.exported_kwh,
                year,
                hourly,
            }
        }
        UsageInput::Monthly(months) => {
            for m in months {
                check_figure("monthly_kwh", m)?;
            }
            let year = year::from_monthly(months);
            Parsed {
                source: "monthly",
                period: None,
                interval: None,
                readings: 12,
                delivered: year.annual_kwh,
                exported: 0.0,
                year,
                hourly: None,
            }
        }
        UsageInput::Annual(kwh) => {
            let year = year::from_annual(check_figure("annual_kwh", kwh)?);
            Parsed {
                source: "annual",
                period: None,
                interval: None,
                readings: 1,
                delivered: year.annual_kwh,
                exported: 0.0,
                year,
                hourly: None,
            }
        }
    };
    let now = Utc::now();
    let usage_id = uuid::Uuid::now_v7();
    let row = usage::ActiveModel {
        id: Set(usage_id),
        site_id: Set(id.0),
        source: Set(parsed.source.to_owned()),
        period_start: Set(parsed.period.map(|p| p.0)),
        period_end: Set(parsed.period.map(|p| p.1)),
        interval_secs: Set(parsed.interval),
        readings: Set(parsed.readings),
        delivered_kwh: Set(parsed.delivered),
        exported_kwh: Set(parsed.exported),
        annual_kwh: Set(parsed.year.annual_kwh),
        monthly_kwh: Set(
            serde_json::to_string(&parsed.year.monthly_kwh.to_vec()).map_err(anyhow::Error::from)?
        ),
        notes: Set(serde_json::to_string(&parsed.year.notes).map_err(anyhow::Error::from)?),
        created_at: Set(now),
        // A tenth of a watt-hour is finer than any meter reads; shorter JSON.
        hourly_kwh: Set(match &parsed.hourly {
            Some(h) => {
                let rounded: Vec<f64> = h.iter().map(|v| (v * 10_000.0).round() / 10_000.0).collect();
                Some(serde_json::to_string(&rounded).map_err(anyhow::Error::from)?)
            }
            None => None,
        }),
    };
    let tx = crate::db::begin(db).await?;
    usage::Entity::insert(row).exec_without_returning(&tx).await?;
    let details = Details::new()
        .with("source", parsed.source)
        .with("readings", i64::from(parsed.readings));
    audit::record(&tx, actor, Action::UsageImported, Some(site_target(id)), details).await?;
    let stored = usage::Entity::find_by_id(usage_id)
        .one(&tx)
        .await?
        .ok_or(SiteError::NotFound)?;
    tx.commit().await?;
    Ok(UsageSummary::try_from(stored)?)
}

/// The hourly year of the site's newest usage, if that import had one. The caller has
/// checked ownership.
pub async fn hourly_usage(db: &DatabaseConnection, id: SiteId) -> Result<Option<Vec<f64>>, SiteError> {
    let row = usage::Entity::find()
        .filter(usage::Column::SiteId.eq(id.0))
        .order_by_desc(usage::Column::CreatedAt)
        .one(db)
        .await?;
    Ok(match row.and_then(|r| r.hourly_kwh) {
        Some(json) => Some(serde_json::from_str(&json).map_err(anyhow::Error::from)?),
        None => None,
    })
}

/// The newest usage recorded for a site the caller owns.
pub async fn current_usage(
    db: &DatabaseConnection,
    actor: &Actor,
    owner: UserId,
    id: SiteId,
) -> Result<Option<UsageSummary>, SiteError> {
    own(db, actor, owner, id).await?;
    let row = usage::Entity::find()
        .filter(usage::Column::SiteId.eq(id.0))
        .order_by_desc(usage::Column::CreatedAt)
        .one(db)
        .await?;
    Ok(row.map(UsageSummary::try_from).transpose()?)
}
