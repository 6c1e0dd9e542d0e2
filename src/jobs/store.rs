//! Database access for jobs, their timeline, bookings, offers and photos.

pub(crate) mod job {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "jobs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub order_id: Uuid,
        pub owner_id: Uuid,
        pub site_id: Uuid,
        pub state: String,
        pub crew_id: Option<Uuid>,
        pub survey_booking_id: Option<Uuid>,
        pub install_booking_id: Option<Uuid>,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub(crate) mod event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "job_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub job_id: Uuid,
        pub from_state: Option<String>,
        pub to_state: String,
        pub actor_id: Option<Uuid>,
        pub actor_role: Option<String>,
        pub note: Option<String>,
        pub at: ChronoDateTimeUtc,
        /// The sender's key for a step sent from a phone: a replay finds it and records nothing.
        pub idempotency_key: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub(crate) mod photo {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "job_photos")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub job_id: Uuid,
        pub uploaded_by: Uuid,
        pub kind: String,
        pub content_type: String,
        pub bytes: i64,
        pub width: i32,
        pub height: i32,
        pub storage_key: String,
        /// The data key the file is encrypted under.
        pub key_id: Option<String>,
        pub created_at: ChronoDateTimeUtc,
        /// What the photo shows (`PhotoSubject`); none for photos from before subjects.
        pub subject: Option<String>,
        pub idempotency_key: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
