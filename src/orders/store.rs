//! Database access for orders and their payments.

pub(crate) mod order {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "orders")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub quote_id: Uuid,
        pub site_id: Uuid,
        pub owner_id: Uuid,
        pub price_cents: i64,
        pub deposit_cents: i64,
        pub currency: String,
        pub system_kw: f64,
        pub panels: i32,
        pub needs_battery: bool,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
