//! Built-in typical-year weather, embedded in the binary (see `weather/README.md`), parsed
//! once on first use. A region names its file by key; regions without one use their specific
//! yield.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use super::tmy::Tmy;

const BUILT_IN: [(&str, &[u8]); 2] = [
    ("723170TYA", include_bytes!("../../weather/723170TYA.CSV")),
    ("703165TY", include_bytes!("../../weather/703165TY.csv")),
];

type Cache = std::sync::Mutex<HashMap<&'static str, Arc<Tmy>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The parsed weather file `key`, or `None` for an unknown key (or one that fails to parse,
/// which is logged: a quote then falls back to the region's specific yield).
pub fn built_in(key: &str) -> Option<Arc<Tmy>> {
    let (name, bytes) = BUILT_IN.iter().find(|(k, _)| *k == key)?;
    if let Some(tmy) = cache().lock().ok()?.get(name) {
        return Some(tmy.clone());
    }
    match Tmy::parse(*bytes) {
        Ok(tmy) => {
            let tmy = Arc::new(tmy);
            if let Ok(mut cache) = cache().lock() {
                cache.insert(name, tmy.clone());
            }
            Some(tmy)
        }
        Err(e) => {
            tracing::error!(key = name, error = %e, "built-in weather file does not parse");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_built_in_files_parse_and_unknown_keys_do_not_exist() {
        for (key, _) in BUILT_IN {
            assert_eq!(built_in(key).unwrap().hours.len(), 8760, "{key}");
        }
        assert!(built_in("nowhere").is_none());
    }
}
