//! The accounts table, on its own so the search index and the account store can both read
//! it without reaching into each other.

pub(crate) mod user {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub email: String,
        pub name: String,
        pub role: String,
        pub password_hash: Option<String>,
        pub email_verified_at: Option<ChronoDateTimeUtc>,
        pub disabled_at: Option<ChronoDateTimeUtc>,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
        /// Set while a confirmed second factor exists.
        pub mfa_enabled_at: Option<ChronoDateTimeUtc>,
        pub phone: Option<String>,
        pub last_login_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
