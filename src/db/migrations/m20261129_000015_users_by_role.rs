//! An index on the role of accounts: the staff list and the access review find a dozen staff
//! among many customers without reading every account (measured by `bench/large_data.sh`).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000015_users_by_role"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Role,
    Name,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("ix_users_role")
                    .table(Users::Table)
                    .col(Users::Role)
                    .col(Users::Name)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("ix_users_role").table(Users::Table).to_owned())
            .await
    }
}
