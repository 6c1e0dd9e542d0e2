//! What an order is, as its owner and staff see it: the accepted quote's figures, frozen, and
//! where its job stands. Money is `Money` (integer cents), a system's size `Kw`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::ids::{JobId, OrderId, QuoteId, SiteId, UserId};
use crate::jobs::JobState;
use crate::values::{Kw, Money};

/// The currency every price is in.
pub const CURRENCY: &str = "USD";

/// An order as its owner (and staff) see it: the accepted quote's figures and where the job is.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Order {
    #[schema(value_type = String)]
    pub id: OrderId,
    #[schema(value_type = String)]
    pub quote_id: QuoteId,
    #[schema(value_type = String)]
    pub site_id: SiteId,
    #[schema(value_type = String)]
    pub job_id: JobId,
    pub state: JobState,
    #[schema(value_type = i64)]
    pub price_cents: Money,
    #[schema(value_type = i64)]
    pub deposit_cents: Money,
    pub currency: String,
    #[schema(value_type = f64)]
    pub system_kw: Kw,
    pub panels: i32,
    /// The order includes a battery: its installation needs a crew with that skill.
    pub needs_battery: bool,
    pub created_at: DateTime<Utc>,
    #[serde(skip)]
    pub owner_id: UserId,
}
