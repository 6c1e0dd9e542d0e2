//! Webhooks to installer companies: their endpoints and the log of deliveries.

use sea_orm_migration::prelude::*;

use super::columns::utc_timestamp;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000014_webhooks"
    }
}

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    CompanyId,
    Url,
    Secret,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    CompanyId,
    Event,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    LastStatus,
    LastError,
    CreatedAt,
    DeliveredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoints::Table)
                    .col(
                        ColumnDef::new(WebhookEndpoints::CompanyId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(WebhookEndpoints::Url).string_len(2000).not_null())
                    .col(
                        ColumnDef::new(WebhookEndpoints::Secret)
                            .string_len(400)
                            .not_null(),
                    )
                    .col(utc_timestamp(backend, WebhookEndpoints::CreatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(
                        ColumnDef::new(WebhookDeliveries::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(WebhookDeliveries::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(WebhookDeliveries::Event).string_len(40).not_null())
                    .col(ColumnDef::new(WebhookDeliveries::Payload).text().not_null())
                    .col(
                        ColumnDef::new(WebhookDeliveries::Status)
                            .string_len(12)
                            .not_null(),
                    )
                    .col(ColumnDef::new(WebhookDeliveries::Attempts).integer().not_null())
                    .col(utc_timestamp(backend, WebhookDeliveries::NextAttemptAt).not_null())
                    .col(utc_timestamp(backend, WebhookDeliveries::ClaimedUntil).null())
                    .col(ColumnDef::new(WebhookDeliveries::LastStatus).integer().null())
                    .col(
                        ColumnDef::new(WebhookDeliveries::LastError)
                            .string_len(300)
                            .null(),
                    )
                    .col(utc_timestamp(backend, WebhookDeliveries::CreatedAt).not_null())
                    .col(utc_timestamp(backend, WebhookDeliveries::DeliveredAt).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_due")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::Status)
                    .col(WebhookDeliveries::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_company")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::CompanyId)
                    .col(WebhookDeliveries::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(WebhookEndpoints::Table).to_owned())
            .await
    }
}
