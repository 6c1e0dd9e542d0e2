//! One set of migrations for every backend. Column types that differ between backends are
//! chosen in `columns`, so a table reads the same everywhere.

mod columns;
mod m20261122_000001_users_and_audit;
mod m20261122_000002_mail_and_email_tokens;
mod m20261122_000003_sessions_and_throttle;
mod m20261122_000004_mfa;
mod m20261122_000005_access;
mod m20261122_000006_sites_and_usage;
mod m20261122_000007_quotes;
mod m20261122_000008_hourly_usage;
mod m20261129_000009_weather_and_options;
mod m20261129_000010_marketplace;
mod m20261129_000011_audit_chain;
mod m20261129_000012_encryption_at_rest;
mod m20261129_000013_ip_blocks;
mod m20261129_000014_webhooks;
mod m20261129_000015_users_by_role;
mod m20261129_000016_user_search_terms;
mod m20261129_000017_stored_files;
mod m20261203_000018_homes_from_zip_codes;
mod m20261203_000019_holidays;
mod m20261203_000020_region_time_zones;
mod m20261207_000021_crew_app;
mod m20261207_000022_push;
mod m20261207_000023_crew_ratings;
mod m20261207_000024_arrival_windows;

use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_users_and_audit::Migration),
            Box::new(m20261122_000002_mail_and_email_tokens::Migration),
            Box::new(m20261122_000003_sessions_and_throttle::Migration),
            Box::new(m20261122_000004_mfa::Migration),
            Box::new(m20261122_000005_access::Migration),
            Box::new(m20261122_000006_sites_and_usage::Migration),
            Box::new(m20261122_000007_quotes::Migration),
            Box::new(m20261122_000008_hourly_usage::Migration),
            Box::new(m20261129_000009_weather_and_options::Migration),
            Box::new(m20261129_000010_marketplace::Migration),
            Box::new(m20261129_000011_audit_chain::Migration),
            Box::new(m20261129_000012_encryption_at_rest::Migration),
            Box::new(m20261129_000013_ip_blocks::Migration),
            Box::new(m20261129_000014_webhooks::Migration),
            Box::new(m20261129_000015_users_by_role::Migration),
            Box::new(m20261129_000016_user_search_terms::Migration),
            Box::new(m20261129_000017_stored_files::Migration),
            Box::new(m20261203_000018_homes_from_zip_codes::Migration),
            Box::new(m20261203_000019_holidays::Migration),
            Box::new(m20261203_000020_region_time_zones::Migration),
            Box::new(m20261207_000021_crew_app::Migration),
            Box::new(m20261207_000022_push::Migration),
            Box::new(m20261207_000023_crew_ratings::Migration),
            Box::new(m20261207_000024_arrival_windows::Migration),
        ]
    }
}
