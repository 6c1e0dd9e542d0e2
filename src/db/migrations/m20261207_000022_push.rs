//! Web Push: each device's subscription (its endpoint and auth secret sealed, its session, so
//! it ends with it) and the messages queued for it in the transaction of the event.

use sea_orm_migration::prelude::*;

use super::columns::utc_timestamp;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000022_push"
    }
}

#[derive(DeriveIden)]
enum PushSubscriptions {
    Table,
    Id,
    UserId,
    SessionId,
    Endpoint,
    EndpointHash,
    P256dh,
    Auth,
    Device,
    CreatedAt,
    LastSentAt,
}

#[derive(DeriveIden)]
enum PushMessages {
    Table,
    Id,
    SubscriptionId,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    LastStatus,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(PushSubscriptions::Table)
                    .col(
                        ColumnDef::new(PushSubscriptions::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(PushSubscriptions::UserId).uuid().not_null())
                    .col(ColumnDef::new(PushSubscriptions::SessionId).uuid().not_null())
                    .col(ColumnDef::new(PushSubscriptions::Endpoint).text().not_null())
                    .col(
                        ColumnDef::new(PushSubscriptions::EndpointHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PushSubscriptions::P256dh)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(ColumnDef::new(PushSubscriptions::Auth).text().not_null())
                    .col(
                        ColumnDef::new(PushSubscriptions::Device)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(utc_timestamp(backend, PushSubscriptions::CreatedAt).not_null())
                    .col(utc_timestamp(backend, PushSubscriptions::LastSentAt).null())
                    .to_owned(),
            )
            .await?;
        for (name, column, unique) in [
            (
                "ux_push_subscriptions_endpoint",
                PushSubscriptions::EndpointHash,
                true,
            ),
            ("ix_push_subscriptions_user", PushSubscriptions::UserId, false),
            (
                "ix_push_subscriptions_session",
                PushSubscriptions::SessionId,
                false,
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(PushSubscriptions::Table).col(column);
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(PushMessages::Table)
                    .col(ColumnDef::new(PushMessages::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(PushMessages::SubscriptionId).uuid().not_null())
                    .col(ColumnDef::new(PushMessages::Payload).text().not_null())
                    .col(ColumnDef::new(PushMessages::Status).string_len(16).not_null())
                    .col(ColumnDef::new(PushMessages::Attempts).integer().not_null())
                    .col(utc_timestamp(backend, PushMessages::NextAttemptAt).not_null())
                    .col(utc_timestamp(backend, PushMessages::ClaimedUntil).null())
                    .col(ColumnDef::new(PushMessages::LastStatus).integer().null())
                    .col(utc_timestamp(backend, PushMessages::CreatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_push_messages_due")
                    .table(PushMessages::Table)
                    .col(PushMessages::Status)
                    .col(PushMessages::NextAttemptAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PushMessages::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PushSubscriptions::Table).to_owned())
            .await
    }
}
