//! NREL's PVWatts API (v8) for regions without a weather file: the same model, run by NREL on
//! its own weather data for the home's coordinates. Optional: it needs an API key
//! (`nrel_api_key`), and the call goes through the outbound guard like every outgoing call
//! (S-SF-1). Answers are kept in memory per place and roof, so a home's quotes ask once.
//! When the API cannot answer, quotes fall back to the region's specific yield and say so.

use std::collections::HashMap;
use std::sync::Mutex;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use crate::outbound::OutboundClient;

/// AC energy of a 1 kW system, by month and by hour of a typical year.
#[derive(Clone, Debug, PartialEq)]
pub struct PerKw {
    pub monthly_kwh: [f64; 12],
    /// 8,760 values when the API sent them.
    pub hourly_kwh: Option<Vec<f64>>,
}

pub struct PvWattsApi {
    url: Url,
    key: SecretString,
    client: OutboundClient,
    cache: Mutex<HashMap<String, PerKw>>,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    errors: Vec<String>,
    outputs: Option<Outputs>,
}

#[derive(Deserialize)]
struct Outputs {
    ac_monthly: Vec<f64>,
    /// Hourly AC output in W, with `timeframe=hourly`.
    #[serde(default)]
    ac: Vec<f64>,
}

impl PvWattsApi {
    pub fn new(url: Url, key: SecretString, client: OutboundClient) -> Self {
        Self {
            url,
            key,
            client,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// 1 kW at this place and roof, with PVWatts' defaults matching ours (14.08 % losses,
    /// DC/AC 1.2, inverter 96 %, fixed open rack).
    pub async fn per_kw(&self, lat: f64, lon: f64, tilt: f64, azimuth: f64) -> anyhow::Result<PerKw> {
        let cache_key = format!("{lat:.3},{lon:.3},{tilt:.0},{azimuth:.0}");
        if let Some(hit) = self.cache.lock().ok().and_then(|c| c.get(&cache_key).cloned()) {
            return Ok(hit);
        }
        let mut url = self.url.clone();
        url.query_pairs_mut()
            .append_pair("api_key", self.key.expose_secret())
            .append_pair("system_capacity", "1")
            .append_pair("module_type", "0")
            .append_pair("losses", "14.08")
            .append_pair("array_type", "0")
            .append_pair("dc_ac_ratio", "1.2")
            .append_pair("inv_eff", "96")
            .append_pair("tilt", &format!("{tilt:.1}"))
            .append_pair("azimuth", &format!("{azimuth:.1}"))
            .append_pair("lat", &format!("{lat:.4}"))
            .append_pair("lon", &format!("{lon:.4}"))
            .append_pair("timeframe", "hourly");
        let answer = self
            .client
            .get(&url)
            .await
            .map_err(|e| anyhow::anyhow!("PVWatts API: {e}"))?;
        anyhow::ensure!(
            answer.status == 200,
            "PVWatts API answered HTTP {}",
            answer.status
        );
        let parsed: Answer = serde_json::from_slice(&answer.body)
            .map_err(|_| anyhow::anyhow!("PVWatts API: unreadable answer"))?;
        anyhow::ensure!(parsed.errors.is_empty(), "PVWatts API refused the request");
        let outputs = parsed
            .outputs
            .ok_or_else(|| anyhow::anyhow!("PVWatts API: no outputs"))?;
        let monthly_kwh: [f64; 12] = outputs
            .ac_monthly
            .try_into()
            .map_err(|_| anyhow::anyhow!("PVWatts API: not twelve months"))?;
        anyhow::ensure!(
            monthly_kwh
                .iter()
                .all(|v| v.is_finite() && (0.0..1_000.0).contains(v)),
            "PVWatts API: implausible monthly figures"
        );
        // Hourly AC comes in W for each hour: kWh per hour is W ÷ 1,000.
        let hourly_kwh = (outputs.ac.len() == 8760 && outputs.ac.iter().all(|v| v.is_finite()))
            .then(|| outputs.ac.iter().map(|w| (w / 1000.0).max(0.0)).collect());
        let result = PerKw {
            monthly_kwh,
            hourly_kwh,
        };
        if let Ok(mut c) = self.cache.lock() {
            c.insert(cache_key, result.clone());
        }
        Ok(result)
    }
}
