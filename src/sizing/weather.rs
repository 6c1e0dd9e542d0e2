//! Typical-year weather by key: the files built into the binary (see `weather/README.md`) and
//! the TMY3 files admins upload for other regions (stored in `weather_files`). A region names
//! its file by key; regions without one use their specific yield.
//!
//! Parsed files are kept in memory once used. An uploaded file is never replaced under its key
//! (a new file gets a new key), so a replica's cached copy can never go stale.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Utc};
use sea_orm::{DbErr, EntityTrait, QueryOrder, QuerySelect};

use super::tmy::Tmy;

const BUILT_IN: [(&str, &[u8]); 2] = [
    ("723170TYA", include_bytes!("../../weather/723170TYA.CSV")),
    ("703165TY", include_bytes!("../../weather/703165TY.csv")),
];

type Cache = Mutex<HashMap<String, Arc<Tmy>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn cached(key: &str) -> Option<Arc<Tmy>> {
    cache().lock().ok()?.get(key).cloned()
}

fn remember(key: &str, tmy: Tmy) -> Arc<Tmy> {
    let tmy = Arc::new(tmy);
    if let Ok(mut cache) = cache().lock() {
        cache.insert(key.to_owned(), tmy.clone());
    }
    tmy
}

/// Is `key` one of the files built into the binary?
pub fn is_built_in(key: &str) -> bool {
    BUILT_IN.iter().any(|(k, _)| *k == key)
}

/// The parsed built-in file `key`, or `None` for an unknown key (or one that fails to parse,
/// which is logged: a quote then falls back to the region's specific yield).
pub fn built_in(key: &str) -> Option<Arc<Tmy>> {
    let (name, bytes) = BUILT_IN.iter().find(|(k, _)| *k == key)?;
    if let Some(tmy) = cached(name) {
        return Some(tmy);
    }
    match Tmy::parse(*bytes) {
        Ok(tmy) => Some(remember(name, tmy)),
        Err(e) => {
            tracing::error!(key = name, error = %e, "built-in weather file does not parse");
            None
        }
    }
}

/// The weather file `key`, built in or uploaded, parsed off the async workers on first use.
/// `None` when no such file exists.
pub async fn load<C: crate::db::Conn>(conn: &C, key: &str) -> anyhow::Result<Option<Arc<Tmy>>> {
    if let Some(tmy) = cached(key) {
        return Ok(Some(tmy));
    }
    if is_built_in(key) {
        let key = key.to_owned();
        return tokio::task::spawn_blocking(move || built_in(&key))
            .await
            .map_err(|e| anyhow::anyhow!("weather task failed: {e}"));
    }
    let Some(row) = store::Entity::find_by_id(key.to_owned()).one(conn).await? else {
        return Ok(None);
    };
    let owned_key = key.to_owned();
    let parsed = tokio::task::spawn_blocking(move || Tmy::parse(row.content.as_bytes()))
        .await
        .map_err(|e| anyhow::anyhow!("weather task failed: {e}"))?;
    match parsed {
        Ok(tmy) => Ok(Some(remember(&owned_key, tmy))),
        // It parsed when it was uploaded: a failure now is damage in the database.
        Err(e) => Err(anyhow::anyhow!(
            "stored weather file {owned_key} no longer parses: {e}"
        )),
    }
}

/// A weather file as listed to admins.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct WeatherFile {
    pub key: String,
    pub station_name: String,
    pub state: String,
    pub latitude: f64,
    pub longitude: f64,
    pub built_in: bool,
    pub uploaded_at: Option<DateTime<Utc>>,
}

/// Most uploaded files listed (and kept); each holds a station's year of hourly weather.
pub const MAX_UPLOADED: u64 = 500;

/// Every weather file: built-in first, then uploaded ones, newest first.
pub async fn list<C: crate::db::Conn>(conn: &C) -> Result<Vec<WeatherFile>, DbErr> {
    let mut files: Vec<WeatherFile> = BUILT_IN
        .iter()
        .filter_map(|(key, _)| {
            built_in(key).map(|tmy| WeatherFile {
                key: (*key).to_owned(),
                station_name: tmy.station.name.clone(),
                state: tmy.station.state.clone(),
                latitude: tmy.station.latitude,
                longitude: tmy.station.longitude,
                built_in: true,
                uploaded_at: None,
            })
        })
        .collect();
    // The large content column stays in the database.
    let rows = store::Entity::find()
        .select_only()
        .columns([
            store::Column::Key,
            store::Column::StationName,
            store::Column::State,
            store::Column::Latitude,
            store::Column::Longitude,
            store::Column::CreatedAt,
        ])
        .order_by_desc(store::Column::CreatedAt)
        .limit(MAX_UPLOADED)
        .into_tuple::<(String, String, String, f64, f64, DateTime<Utc>)>()
        .all(conn)
        .await?;
    files.extend(rows.into_iter().map(
        |(key, station_name, state, latitude, longitude, at)| WeatherFile {
            key,
            station_name,
            state,
            latitude,
            longitude,
            built_in: false,
            uploaded_at: Some(at),
        },
    ));
    Ok(files)
}

/// Does a weather file `key` exist (built in or uploaded)?
pub async fn exists<C: crate::db::Conn>(conn: &C, key: &str) -> Result<bool, DbErr> {
    if is_built_in(key) {
        return Ok(true);
    }
    Ok(store::Entity::find_by_id(key.to_owned())
        .select_only()
        .column(store::Column::Key)
        .into_tuple::<String>()
        .one(conn)
        .await?
        .is_some())
}

pub(crate) mod store {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "weather_files")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub station_name: String,
        pub state: String,
        pub latitude: f64,
        pub longitude: f64,
        pub content: String,
        pub uploaded_by: Option<Uuid>,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_built_in_files_parse_and_unknown_keys_do_not_exist() {
        for (key, _) in BUILT_IN {
            assert_eq!(built_in(key).unwrap().hours.len(), 8760, "{key}");
            assert!(is_built_in(key));
        }
        assert!(built_in("nowhere").is_none());
        assert!(!is_built_in("nowhere"));
    }
}
