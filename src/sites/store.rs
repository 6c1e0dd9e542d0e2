//! Database access for sites and their usage.

pub(crate) mod site {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "sites")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub owner_id: Uuid,
        pub label: String,
        pub address: String,
        pub latitude: f64,
        pub longitude: f64,
        pub region_id: String,
        pub roof_tilt_deg: f64,
        pub roof_azimuth_deg: f64,
        pub max_panels: i32,
        /// The panel count is our estimate, not yet measured at the survey.
        pub max_panels_estimated: bool,
        /// How the crew gets in (gate code, dog, where to park), sealed.
        pub access_notes: Option<String>,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub(crate) mod usage {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "site_usage")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub site_id: Uuid,
        pub source: String,
        pub period_start: Option<ChronoDateTimeUtc>,
        pub period_end: Option<ChronoDateTimeUtc>,
        pub interval_secs: Option<i32>,
        pub readings: i32,
        pub delivered_kwh: f64,
        pub exported_kwh: f64,
        pub annual_kwh: f64,
        pub monthly_kwh: String,
        pub notes: String,
        pub created_at: ChronoDateTimeUtc,
        pub hourly_kwh: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
