//! The marketplace: orders made from accepted quotes, their deposits, installer companies and
//! crews with their calendars, the day-by-day load that keeps a crew from being double-booked,
//! bookings and the offers that dispatch them, jobs with their timeline, and job photos.

use sea_orm_migration::prelude::*;

use super::columns::utc_timestamp;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000010_marketplace"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Quotes {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Sites {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum InstallerCompanies {
    Table,
    Id,
    Name,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Crews {
    Table,
    Id,
    CompanyId,
    Name,
    /// Where the crew starts its day; the service area is a circle around it.
    BaseLatitude,
    BaseLongitude,
    ServiceRadiusKm,
    /// JSON list of skill names (`battery`, `tile_roof`, …).
    Skills,
    /// Jobs (a survey or an installation day) the crew takes on one day.
    DailyCapacity,
    /// Seven characters, Monday first: `1` for a working day.
    WorkingDays,
    /// Customers' average rating, 0–5.
    Rating,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CrewMembers {
    Table,
    UserId,
    CrewId,
}

#[derive(DeriveIden)]
enum CrewDaysOff {
    Table,
    CrewId,
    Day,
}

#[derive(DeriveIden)]
enum CrewLoad {
    Table,
    CrewId,
    Day,
    /// Jobs held on that day; a conditional update keeps it at or below the capacity.
    Booked,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    QuoteId,
    SiteId,
    OwnerId,
    PriceCents,
    DepositCents,
    Currency,
    SystemKw,
    Panels,
    /// The battery option was chosen: the installation needs a crew with that skill.
    NeedsBattery,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    OrderId,
    OwnerId,
    SiteId,
    State,
    CrewId,
    SurveyBookingId,
    InstallBookingId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum JobEvents {
    Table,
    Id,
    JobId,
    FromState,
    ToState,
    ActorId,
    ActorRole,
    Note,
    At,
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    Id,
    OrderId,
    Provider,
    CheckoutId,
    CheckoutUrl,
    AmountCents,
    Currency,
    Status,
    CreatedAt,
    PaidAt,
}

#[derive(DeriveIden)]
enum PaymentEvents {
    Table,
    EventId,
    Provider,
    Outcome,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum Bookings {
    Table,
    Id,
    JobId,
    Kind,
    Day,
    CrewId,
    Status,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Offers {
    Table,
    Id,
    BookingId,
    CrewId,
    Status,
    OfferedAt,
    ExpiresAt,
    RespondedAt,
    RespondedBy,
}

#[derive(DeriveIden)]
enum JobPhotos {
    Table,
    Id,
    JobId,
    UploadedBy,
    Kind,
    ContentType,
    Bytes,
    Width,
    Height,
    StorageKey,
    CreatedAt,
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: Vec<DynIden>,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(col);
    }
    manager.create_index(index.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(InstallerCompanies::Table)
                    .col(
                        ColumnDef::new(InstallerCompanies::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(InstallerCompanies::Name)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(ColumnDef::new(InstallerCompanies::Active).boolean().not_null())
                    .col(utc_timestamp(backend, InstallerCompanies::CreatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Crews::Table)
                    .col(ColumnDef::new(Crews::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Crews::CompanyId).uuid().not_null())
                    .col(ColumnDef::new(Crews::Name).string_len(100).not_null())
                    .col(ColumnDef::new(Crews::BaseLatitude).double().not_null())
                    .col(ColumnDef::new(Crews::BaseLongitude).double().not_null())
                    .col(ColumnDef::new(Crews::ServiceRadiusKm).double().not_null())
                    .col(ColumnDef::new(Crews::Skills).string_len(500).not_null())
                    .col(ColumnDef::new(Crews::DailyCapacity).integer().not_null())
                    .col(ColumnDef::new(Crews::WorkingDays).string_len(7).not_null())
                    .col(ColumnDef::new(Crews::Rating).double().not_null())
                    .col(ColumnDef::new(Crews::Active).boolean().not_null())
                    .col(utc_timestamp(backend, Crews::CreatedAt).not_null())
                    .foreign_key(&mut fk(
                        "fk_crews_company",
                        (Crews::Table, Crews::CompanyId),
                        (InstallerCompanies::Table, InstallerCompanies::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CrewMembers::Table)
                    // One crew per installer account: the crew decides what the account sees.
                    .col(
                        ColumnDef::new(CrewMembers::UserId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(CrewMembers::CrewId).uuid().not_null())
                    .foreign_key(&mut fk(
                        "fk_crew_members_user",
                        (CrewMembers::Table, CrewMembers::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_crew_members_crew",
                        (CrewMembers::Table, CrewMembers::CrewId),
                        (Crews::Table, Crews::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_crew_members_crew",
            CrewMembers::Table,
            vec![CrewMembers::CrewId.into_iden()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(CrewDaysOff::Table)
                    .col(ColumnDef::new(CrewDaysOff::CrewId).uuid().not_null())
                    .col(ColumnDef::new(CrewDaysOff::Day).date().not_null())
                    .primary_key(Index::create().col(CrewDaysOff::CrewId).col(CrewDaysOff::Day))
                    .foreign_key(&mut fk(
                        "fk_crew_days_off_crew",
                        (CrewDaysOff::Table, CrewDaysOff::CrewId),
                        (Crews::Table, Crews::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CrewLoad::Table)
                    .col(ColumnDef::new(CrewLoad::CrewId).uuid().not_null())
                    .col(ColumnDef::new(CrewLoad::Day).date().not_null())
                    .col(ColumnDef::new(CrewLoad::Booked).integer().not_null())
                    .primary_key(Index::create().col(CrewLoad::CrewId).col(CrewLoad::Day))
                    .foreign_key(&mut fk(
                        "fk_crew_load_crew",
                        (CrewLoad::Table, CrewLoad::CrewId),
                        (Crews::Table, Crews::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Orders::Table)
                    .col(ColumnDef::new(Orders::Id).uuid().not_null().primary_key())
                    // One order per quote version: accepting twice cannot make two orders.
                    .col(ColumnDef::new(Orders::QuoteId).uuid().not_null().unique_key())
                    .col(ColumnDef::new(Orders::SiteId).uuid().not_null())
                    .col(ColumnDef::new(Orders::OwnerId).uuid().not_null())
                    .col(ColumnDef::new(Orders::PriceCents).big_integer().not_null())
                    .col(ColumnDef::new(Orders::DepositCents).big_integer().not_null())
                    .col(ColumnDef::new(Orders::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(Orders::SystemKw).double().not_null())
                    .col(ColumnDef::new(Orders::Panels).integer().not_null())
                    .col(ColumnDef::new(Orders::NeedsBattery).boolean().not_null())
                    .col(utc_timestamp(backend, Orders::CreatedAt).not_null())
                    .foreign_key(&mut fk(
                        "fk_orders_quote",
                        (Orders::Table, Orders::QuoteId),
                        (Quotes::Table, Quotes::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_orders_site",
                        (Orders::Table, Orders::SiteId),
                        (Sites::Table, Sites::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_orders_owner",
                        (Orders::Table, Orders::OwnerId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_orders_owner",
            Orders::Table,
            vec![Orders::OwnerId.into_iden(), Orders::CreatedAt.into_iden()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .col(ColumnDef::new(Jobs::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Jobs::OrderId).uuid().not_null().unique_key())
                    .col(ColumnDef::new(Jobs::OwnerId).uuid().not_null())
                    .col(ColumnDef::new(Jobs::SiteId).uuid().not_null())
                    .col(ColumnDef::new(Jobs::State).string_len(24).not_null())
                    .col(ColumnDef::new(Jobs::CrewId).uuid().null())
                    .col(ColumnDef::new(Jobs::SurveyBookingId).uuid().null())
                    .col(ColumnDef::new(Jobs::InstallBookingId).uuid().null())
                    .col(utc_timestamp(backend, Jobs::CreatedAt).not_null())
                    .col(utc_timestamp(backend, Jobs::UpdatedAt).not_null())
                    .foreign_key(&mut fk(
                        "fk_jobs_order",
                        (Jobs::Table, Jobs::OrderId),
                        (Orders::Table, Orders::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_jobs_crew",
                        (Jobs::Table, Jobs::CrewId),
                        (Crews::Table, Crews::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_jobs_owner",
            Jobs::Table,
            vec![Jobs::OwnerId.into_iden()],
        )
        .await?;
        index(
            manager,
            "ix_jobs_crew",
            Jobs::Table,
            vec![Jobs::CrewId.into_iden(), Jobs::State.into_iden()],
        )
        .await?;
        index(
            manager,
            "ix_jobs_state",
            Jobs::Table,
            vec![Jobs::State.into_iden(), Jobs::UpdatedAt.into_iden()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(JobEvents::Table)
                    .col(ColumnDef::new(JobEvents::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(JobEvents::JobId).uuid().not_null())
                    .col(ColumnDef::new(JobEvents::FromState).string_len(24).null())
                    .col(ColumnDef::new(JobEvents::ToState).string_len(24).not_null())
                    .col(ColumnDef::new(JobEvents::ActorId).uuid().null())
                    .col(ColumnDef::new(JobEvents::ActorRole).string_len(16).null())
                    // Free text from the person who made the step (encrypted with the other
                    // free-text notes by the security-operations work).
                    .col(ColumnDef::new(JobEvents::Note).text().null())
                    .col(utc_timestamp(backend, JobEvents::At).not_null())
                    .foreign_key(&mut fk(
                        "fk_job_events_job",
                        (JobEvents::Table, JobEvents::JobId),
                        (Jobs::Table, Jobs::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_job_events_job",
            JobEvents::Table,
            vec![JobEvents::JobId.into_iden(), JobEvents::At.into_iden()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Payments::Table)
                    .col(ColumnDef::new(Payments::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Payments::OrderId).uuid().not_null())
                    .col(ColumnDef::new(Payments::Provider).string_len(20).not_null())
                    .col(
                        ColumnDef::new(Payments::CheckoutId)
                            .string_len(255)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Payments::CheckoutUrl).string_len(2000).not_null())
                    .col(ColumnDef::new(Payments::AmountCents).big_integer().not_null())
                    .col(ColumnDef::new(Payments::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(Payments::Status).string_len(12).not_null())
                    .col(utc_timestamp(backend, Payments::CreatedAt).not_null())
                    .col(utc_timestamp(backend, Payments::PaidAt).null())
                    .foreign_key(&mut fk(
                        "fk_payments_order",
                        (Payments::Table, Payments::OrderId),
                        (Orders::Table, Orders::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_payments_order",
            Payments::Table,
            vec![Payments::OrderId.into_iden()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(PaymentEvents::Table)
                    // The provider's event id: a replayed event meets this key and changes nothing.
                    .col(
                        ColumnDef::new(PaymentEvents::EventId)
                            .string_len(255)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(PaymentEvents::Provider).string_len(20).not_null())
                    .col(ColumnDef::new(PaymentEvents::Outcome).string_len(24).not_null())
                    .col(utc_timestamp(backend, PaymentEvents::ReceivedAt).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Bookings::Table)
                    .col(ColumnDef::new(Bookings::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Bookings::JobId).uuid().not_null())
                    .col(ColumnDef::new(Bookings::Kind).string_len(8).not_null())
                    .col(ColumnDef::new(Bookings::Day).date().not_null())
                    .col(ColumnDef::new(Bookings::CrewId).uuid().null())
                    .col(ColumnDef::new(Bookings::Status).string_len(12).not_null())
                    .col(utc_timestamp(backend, Bookings::CreatedAt).not_null())
                    .foreign_key(&mut fk(
                        "fk_bookings_job",
                        (Bookings::Table, Bookings::JobId),
                        (Jobs::Table, Jobs::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_bookings_job",
            Bookings::Table,
            vec![Bookings::JobId.into_iden()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Offers::Table)
                    .col(ColumnDef::new(Offers::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Offers::BookingId).uuid().not_null())
                    .col(ColumnDef::new(Offers::CrewId).uuid().not_null())
                    .col(ColumnDef::new(Offers::Status).string_len(12).not_null())
                    .col(utc_timestamp(backend, Offers::OfferedAt).not_null())
                    .col(utc_timestamp(backend, Offers::ExpiresAt).not_null())
                    .col(utc_timestamp(backend, Offers::RespondedAt).null())
                    .col(ColumnDef::new(Offers::RespondedBy).uuid().null())
                    .foreign_key(&mut fk(
                        "fk_offers_booking",
                        (Offers::Table, Offers::BookingId),
                        (Bookings::Table, Bookings::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_offers_crew",
                        (Offers::Table, Offers::CrewId),
                        (Crews::Table, Crews::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_offers_crew",
            Offers::Table,
            vec![Offers::CrewId.into_iden(), Offers::Status.into_iden()],
        )
        .await?;
        index(
            manager,
            "ix_offers_expiry",
            Offers::Table,
            vec![Offers::Status.into_iden(), Offers::ExpiresAt.into_iden()],
        )
        .await?;
        index(
            manager,
            "ix_offers_booking",
            Offers::Table,
            vec![Offers::BookingId.into_iden()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(JobPhotos::Table)
                    .col(ColumnDef::new(JobPhotos::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(JobPhotos::JobId).uuid().not_null())
                    .col(ColumnDef::new(JobPhotos::UploadedBy).uuid().not_null())
                    .col(ColumnDef::new(JobPhotos::Kind).string_len(12).not_null())
                    .col(ColumnDef::new(JobPhotos::ContentType).string_len(20).not_null())
                    .col(ColumnDef::new(JobPhotos::Bytes).big_integer().not_null())
                    .col(ColumnDef::new(JobPhotos::Width).integer().not_null())
                    .col(ColumnDef::new(JobPhotos::Height).integer().not_null())
                    // A random name in the file store; never derived from the upload.
                    .col(ColumnDef::new(JobPhotos::StorageKey).string_len(100).not_null())
                    .col(utc_timestamp(backend, JobPhotos::CreatedAt).not_null())
                    .foreign_key(&mut fk(
                        "fk_job_photos_job",
                        (JobPhotos::Table, JobPhotos::JobId),
                        (Jobs::Table, Jobs::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_job_photos_job",
            JobPhotos::Table,
            vec![JobPhotos::JobId.into_iden(), JobPhotos::CreatedAt.into_iden()],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            JobPhotos::Table.into_iden(),
            Offers::Table.into_iden(),
            Bookings::Table.into_iden(),
            PaymentEvents::Table.into_iden(),
            Payments::Table.into_iden(),
            JobEvents::Table.into_iden(),
            Jobs::Table.into_iden(),
            Orders::Table.into_iden(),
            CrewLoad::Table.into_iden(),
            CrewDaysOff::Table.into_iden(),
            CrewMembers::Table.into_iden(),
            Crews::Table.into_iden(),
            InstallerCompanies::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
