//! A job as each party sees it. The owner sees everything of theirs. The assigned crew sees
//! what the work needs: the address, the customer's name and phone, the system, not the price.
//! Staff see the job with the customer's personal data masked, unless they hold a live grant
//! for that customer (S-AC-5), in which case each view is counted and audited.

use chrono::Utc;
use sea_orm::DatabaseConnection;

use super::lifecycle::{self, Party};
use super::model::{CustomerContact, JobDetail, Place, SystemSummary};
use super::photos;
use super::service::{self, Job, JobError};
use crate::access::{grants, mask};
use crate::audit::Actor;
use crate::ids::UserId;
use crate::scheduling::booking;

/// Does `staff` hold a live grant to `customer`'s personal data? Counts the view when so.
pub async fn staff_grant(
    db: &DatabaseConnection,
    actor: &Actor,
    staff: UserId,
    customer: UserId,
) -> Result<bool, JobError> {
    match grants::live(db, staff, customer, Utc::now()).await? {
        Some(grant) => {
            grants::record_view(db, actor, &grant).await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

pub async fn build(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: UserId,
    job: Job,
    party: Party,
) -> Result<JobDetail, JobError> {
    let order = crate::orders::service::get(db, job.order_id)
        .await
        .map_err(|e| JobError::Internal(e.into()))?
        .ok_or(JobError::NotFound)?;
    let site = crate::sites::service::by_id(db, job.site_id)
        .await
        .map_err(|e| JobError::Internal(e.into()))?;
    let contact = crate::auth::contact_of(db, job.owner_id).await?;
    let unmasked = match party {
        Party::Owner | Party::AssignedCrew => true,
        Party::Staff => staff_grant(db, actor, viewer, job.owner_id).await?,
        Party::System => false,
    };
    let address = if unmasked {
        site.address.clone()
    } else {
        mask::street(&site.address)
    };
    let customer = match party {
        Party::Owner | Party::System => None,
        _ => contact.map(|c| CustomerContact {
            name: if unmasked { c.name } else { mask::name(&c.name) },
            phone: c.phone.map(|p| if unmasked { p } else { mask::phone(&p) }),
        }),
    };
    let priced = party != Party::AssignedCrew;
    Ok(JobDetail {
        label: job.state.label(),
        system: SystemSummary {
            system_kw: order.system_kw,
            panels: order.panels,
            battery: order.needs_battery,
            price_cents: priced.then_some(order.price_cents),
            deposit_cents: priced.then_some(order.deposit_cents),
            currency: order.currency,
        },
        place: Place {
            label: site.label,
            address,
            latitude: unmasked.then_some(site.latitude),
            longitude: unmasked.then_some(site.longitude),
            access_notes: if matches!(party, Party::Owner | Party::AssignedCrew) {
                site.access_notes.clone()
            } else {
                None
            },
            region_id: site.region_id,
            roof_tilt_deg: site.roof_tilt_deg,
            roof_azimuth_deg: site.roof_azimuth_deg,
        },
        customer,
        bookings: booking::of_job(db, job.id).await?,
        timeline: service::timeline(db, job.id).await?,
        photos: photos::list(db, job.id).await?,
        next_steps: lifecycle::next_steps(job.state, party),
        personal_data: if unmasked { "full" } else { "masked" },
        readiness: None,
        job,
    })
}
