//! Database access for booked days and the offers that dispatch them.

pub(crate) mod booking {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "bookings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub job_id: Uuid,
        pub kind: String,
        pub day: Date,
        pub crew_id: Option<Uuid>,
        pub status: String,
        pub created_at: ChronoDateTimeUtc,
        /// The arrival window, minutes after midnight in the home's time zone (empty on
        /// bookings from before windows: the whole day).
        pub arrive_from: Option<i32>,
        pub arrive_until: Option<i32>,
        /// When the booking last moved: offers before it were about another day.
        pub moved_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub(crate) mod offer {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "offers")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub booking_id: Uuid,
        pub crew_id: Uuid,
        pub status: String,
        pub offered_at: ChronoDateTimeUtc,
        pub expires_at: ChronoDateTimeUtc,
        pub responded_at: Option<ChronoDateTimeUtc>,
        pub responded_by: Option<Uuid>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
