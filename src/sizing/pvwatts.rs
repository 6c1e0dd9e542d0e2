//! The production estimate: NREL's PVWatts v5 (Dobos, *PVWatts Version 5 Manual*,
//! NREL/TP-6A20-62641, 2014) as pvlib-python implements it, driven hour by hour by a typical
//! meteorological year. `tools/pvlib_crosscheck.py` runs the same chain in pvlib; the tests pin
//! both results.
//!
//! The chain, for each hour of the TMY file:
//!
//! 1. **Sun position** at the middle of the hour-ending interval (the 13:00 row is the average
//!    over 12:00–13:00, best represented by 12:30 local standard time), converted to UT with the
//!    station's UTC offset. The rows are placed on the calendar of [`TYPICAL_YEAR`] whatever
//!    year each typical month came from, so that the year is one continuous sequence. Algorithm:
//!    NOAA's (see [`super::solar`]); the true zenith, without refraction, is used everywhere, as
//!    the pvlib check does with SPA's `zenith`.
//! 2. **Extraterrestrial irradiance** by Spencer (1971), as `pvlib.irradiance.get_extra_radiation`
//!    (solar constant 1366.1 W/m², integer day of year), and **relative airmass** by Kasten and
//!    Young (1989), as `pvlib.atmosphere.get_relative_airmass`: both feed the Perez model.
//! 3. **Plane-of-array irradiance**: beam DNI·cos(AOI), clipped at zero; ground-reflected
//!    GHI·albedo·(1 − cos tilt)/2 with a constant albedo (0.2 by default, PVWatts' value when the
//!    weather file has none; the file's own albedo is not used, so that every site is treated
//!    alike); sky diffuse by Perez et al. (1990), `allsitescomposite1990` coefficients, which is
//!    the transposition PVWatts v5 uses, exactly as `pvlib.irradiance.perez` (including its
//!    zero sky diffuse with the sun below the horizon, where airmass is undefined).
//! 4. **Reflection loss** on the beam component only, with the physical glass-cover model
//!    (De Soto et al., 2006; n = 1.526, K = 4 /m, L = 2 mm), as `pvlib.iam.physical`, the
//!    angle-of-incidence correction of PVWatts v5.
//! 5. **Cell temperature** by the Sandia (SAPM) model, King et al. (2004), open-rack
//!    glass/polymer (a = −3.56, b = −0.075, ΔT = 3 °C) from the POA global irradiance, air
//!    temperature and wind speed, as `pvlib.temperature.sapm_cell`. PVWatts v5 uses the Fuentes
//!    (1987) thermal model; SAPM is a deliberate simplification (closed form, no thermal
//!    history, no iteration), and the pvlib check uses SAPM too. On the two test files it gives
//!    0.7–0.8 % less annual energy than pvlib's Fuentes with an installed NOCT of 45 °C.
//! 6. **DC power**, `pvlib.pvsystem.pvwatts_dc`: P = E_eff/1000 · P_dc0 · (1 + γ(T_cell − 25)),
//!    with γ = −0.47 %/°C, PVWatts' "standard" module.
//! 7. **System losses**: DC × (1 − 14.08 %), the total of `pvlib.pvsystem.pvwatts_losses`'
//!    defaults (soiling, shading, mismatch, wiring, connections, LID, nameplate, availability).
//! 8. **Inverter**, `pvlib.inverter.pvwatts`: AC rating P_ac0 = P_dc0 / (DC/AC ratio 1.2), DC
//!    input limit P_ac0/η_nom, part-load efficiency curve with η_nom = 0.96 and η_ref = 0.9637,
//!    output clipped to P_ac0 and never negative.
//!
//! Hours with no irradiance at all (night, nearly half the year) produce nothing and skip the
//! sun position; nothing is allocated but the result.

use serde::Serialize;

use super::solar::{Site, julian_day_jan1};
use super::tmy::{Tmy, WeatherHour};

/// The calendar the typical year is laid on: a non-leap year near the middle of the leap
/// cycle, so that the sun's calendar-date positions are close to their four-year average.
pub const TYPICAL_YEAR: i32 = 2022;

pub const DEFAULT_LOSSES_PERCENT: f64 = 14.08;
pub const DEFAULT_GAMMA_PDC: f64 = -0.0047;
pub const DEFAULT_DC_AC_RATIO: f64 = 1.2;
pub const DEFAULT_INVERTER_EFFICIENCY: f64 = 0.96;
pub const DEFAULT_ALBEDO: f64 = 0.2;

/// PVWatts' reference inverter efficiency, which normalises its part-load curve.
const INVERTER_EFFICIENCY_REF: f64 = 0.9637;
/// Spencer's solar constant as pvlib uses it, W/m².
const SOLAR_CONSTANT: f64 = 1366.1;
/// SAPM open-rack glass/polymer coefficients (King et al., 2004).
const SAPM_A: f64 = -3.56;
const SAPM_B: f64 = -0.075;
const SAPM_DELTA_T: f64 = 3.0;
/// PVWatts v5's glass cover: refractive index, extinction coefficient (/m), thickness (m).
const GLASS_INDEX: f64 = 1.526;
const GLASS_EXTINCTION: f64 = 4.0;
const GLASS_THICKNESS: f64 = 0.002;

/// Cumulative days before each month of a non-leap year.
const DAYS_BEFORE_MONTH: [u16; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

/// A rooftop system, as PVWatts describes one.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SystemSpec {
    /// DC nameplate, kW.
    pub dc_kw: f64,
    /// Degrees from horizontal.
    pub tilt_deg: f64,
    /// Degrees clockwise from north: 180 faces south.
    pub azimuth_deg: f64,
    /// Total DC system losses, percent.
    pub losses_percent: f64,
    /// Power temperature coefficient, per °C.
    pub gamma_pdc: f64,
    pub dc_ac_ratio: f64,
    /// Nominal inverter efficiency, 0–1.
    pub inverter_efficiency: f64,
    /// Ground reflectance, 0–1.
    pub albedo: f64,
}

/// Why a system description was refused.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum SpecError {
    #[error("the system size must be more than 0 and at most 1,000 kW, not {0}")]
    Size(f64),
    #[error("the tilt must be between 0° (flat) and 90° (vertical), not {0}")]
    Tilt(f64),
    #[error("the azimuth must be between 0° and 360° (180° faces south), not {0}")]
    Azimuth(f64),
    #[error("the {name} must be between {min} and {max}, not {value}")]
    Parameter {
        name: &'static str,
        value: f64,
        min: f64,
        max: f64,
    },
}

impl SystemSpec {
    /// A system with PVWatts' defaults for everything but size and orientation.
    pub fn new(dc_kw: f64, tilt_deg: f64, azimuth_deg: f64) -> Result<Self, SpecError> {
        let spec = Self {
            dc_kw,
            tilt_deg,
            azimuth_deg,
            losses_percent: DEFAULT_LOSSES_PERCENT,
            gamma_pdc: DEFAULT_GAMMA_PDC,
            dc_ac_ratio: DEFAULT_DC_AC_RATIO,
            inverter_efficiency: DEFAULT_INVERTER_EFFICIENCY,
            albedo: DEFAULT_ALBEDO,
        };
        spec.validate()?;
        Ok(spec)
    }

    /// Checks every field; `new` does, and so should anyone who changes a field after.
    pub fn validate(&self) -> Result<(), SpecError> {
        if !(self.dc_kw > 0.0 && self.dc_kw <= 1000.0) {
            return Err(SpecError::Size(self.dc_kw));
        }
        if !(0.0..=90.0).contains(&self.tilt_deg) {
            return Err(SpecError::Tilt(self.tilt_deg));
        }
        if !(0.0..=360.0).contains(&self.azimuth_deg) {
            return Err(SpecError::Azimuth(self.azimuth_deg));
        }
        // PVWatts' own input limits where it has them.
        check("losses percentage", self.losses_percent, -5.0, 99.0)?;
        check("temperature coefficient", self.gamma_pdc, -0.02, 0.0)?;
        check("DC/AC ratio", self.dc_ac_ratio, 0.5, 3.0)?;
        check("inverter efficiency", self.inverter_efficiency, 0.9, 0.995)?;
        check("albedo", self.albedo, 0.0, 1.0)
    }
}

fn check(name: &'static str, value: f64, min: f64, max: f64) -> Result<(), SpecError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(SpecError::Parameter {
            name,
            value,
            min,
            max,
        })
    }
}

/// AC energy delivered, kWh.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Production {
    /// One value per row of the weather file (8,760), in its order.
    pub hourly_ac_kwh: Vec<f64>,
    /// January to December.
    pub monthly_kwh: [f64; 12],
    pub annual_kwh: f64,
}

/// Runs the model over every hour of `tmy`. `spec` is taken as given: see
/// [`SystemSpec::validate`].
pub fn simulate(tmy: &Tmy, spec: &SystemSpec) -> Production {
    let model = Model::new(tmy, spec);
    let mut hourly_ac_kwh = Vec::with_capacity(tmy.hours.len());
    let mut monthly_kwh = [0.0; 12];
    for hour in &tmy.hours {
        let kwh = model.ac_power_w(hour) / 1000.0;
        hourly_ac_kwh.push(kwh);
        if let Some(month) = monthly_kwh.get_mut(usize::from(hour.month).wrapping_sub(1)) {
            *month += kwh;
        }
    }
    Production {
        hourly_ac_kwh,
        monthly_kwh,
        annual_kwh: monthly_kwh.iter().sum(),
    }
}

/// Everything about the site and system that does not change from hour to hour.
struct Model {
    site: Site,
    plane: Plane,
    jd_jan1_ut: f64,
    albedo: f64,
    pdc0_w: f64,
    gamma_pdc: f64,
    loss_factor: f64,
    inverter_pdc0_w: f64,
    inverter_efficiency: f64,
}

impl Model {
    fn new(tmy: &Tmy, spec: &SystemSpec) -> Self {
        let pdc0_w = spec.dc_kw * 1000.0;
        let ac_rating_w = pdc0_w / spec.dc_ac_ratio;
        Self {
            site: Site::new(tmy.station.latitude, tmy.station.longitude),
            plane: Plane::new(spec.tilt_deg, spec.azimuth_deg),
            jd_jan1_ut: julian_day_jan1(TYPICAL_YEAR) - tmy.station.utc_offset_hours / 24.0,
            albedo: spec.albedo,
            pdc0_w,
            gamma_pdc: spec.gamma_pdc,
            loss_factor: 1.0 - spec.losses_percent / 100.0,
            inverter_pdc0_w: ac_rating_w / spec.inverter_efficiency,
            inverter_efficiency: spec.inverter_efficiency,
        }
    }

    /// Average AC power over the hour, W (numerically the hour's energy in Wh).
    fn ac_power_w(&self, hour: &WeatherHour) -> f64 {
        // Slightly negative readings are night-time sensor offsets.
        let irradiance = Irradiance {
            ghi: hour.ghi.max(0.0),
            dni: hour.dni.max(0.0),
            dhi: hour.dhi.max(0.0),
        };
        if irradiance.ghi == 0.0 && irradiance.dni == 0.0 && irradiance.dhi == 0.0 {
            return 0.0;
        }
        let day_of_year = day_of_year(hour.month, hour.day);
        let jd_ut = self.jd_jan1_ut + f64::from(day_of_year - 1) + (f64::from(hour.hour) - 0.5) / 24.0;
        let sun = self.site.sun_position(jd_ut);
        let poa = self.plane.irradiance(
            &irradiance,
            sun.zenith_deg,
            sun.azimuth_deg,
            day_of_year,
            self.albedo,
        );
        let temp_cell = sapm_cell_temperature(poa.global, hour.temp_air, hour.wind_speed);
        let dc_w = pvwatts_dc(poa.effective, temp_cell, self.pdc0_w, self.gamma_pdc) * self.loss_factor;
        pvwatts_inverter(dc_w, self.inverter_pdc0_w, self.inverter_efficiency)
    }
}

/// Day of the year, 1 for 1 January, on a non-leap calendar.
fn day_of_year(month: u8, day: u8) -> u16 {
    let before = DAYS_BEFORE_MONTH
        .get(usize::from(month).wrapping_sub(1))
        .copied()
        .unwrap_or(0);
    before + u16::from(day.max(1))
}

/// Horizontal irradiance components, W/m².
#[derive(Clone, Copy, Debug)]
struct Irradiance {
    ghi: f64,
    dni: f64,
    dhi: f64,
}

/// Irradiance on the plane of the array, W/m².
#[derive(Clone, Copy, Debug, PartialEq)]
struct PlaneOfArray {
    beam: f64,
    sky_diffuse: f64,
    ground: f64,
    /// Beam + sky diffuse + ground: what heats the module.
    global: f64,
    /// `global` with the beam reduced by reflection at the glass: what the cells convert.
    effective: f64,
}

/// The array's orientation, with its trigonometry computed once.
#[derive(Clone, Copy, Debug)]
struct Plane {
    azimuth_deg: f64,
    sin_tilt: f64,
    cos_tilt: f64,
}

impl Plane {
    fn new(tilt_deg: f64, azimuth_deg: f64) -> Self {
        let (sin_tilt, cos_tilt) = tilt_deg.to_radians().sin_cos();
        Self {
            azimuth_deg,
            sin_tilt,
            cos_tilt,
        }
    }

    /// Cosine of the angle of incidence, as `pvlib.irradiance.aoi_projection`.
    fn cos_aoi(&self, zenith_deg: f64, azimuth_deg: f64) -> f64 {
        let (sin_z, cos_z) = zenith_deg.to_radians().sin_cos();
        let cos_relative_azimuth = (azimuth_deg - self.azimuth_deg).to_radians().cos();
        (self.cos_tilt * cos_z + self.sin_tilt * sin_z * cos_relative_azimuth).clamp(-1.0, 1.0)
    }

    fn irradiance(
        &self,
        irradiance: &Irradiance,
        zenith_deg: f64,
        azimuth_deg: f64,
        day_of_year: u16,
        albedo: f64,
    ) -> PlaneOfArray {
        let cos_aoi = self.cos_aoi(zenith_deg, azimuth_deg);
        let beam = (irradiance.dni * cos_aoi).max(0.0);
        let ground = irradiance.ghi * albedo * (1.0 - self.cos_tilt) / 2.0;
        let sky_diffuse = relative_airmass(zenith_deg).map_or(0.0, |airmass| {
            let sky = Sky {
                dhi: irradiance.dhi,
                dni: irradiance.dni,
                dni_extra: extra_radiation(day_of_year),
                zenith_deg,
                airmass,
            };
            perez_sky_diffuse(&sky, self, cos_aoi)
        });
        let diffuse = sky_diffuse + ground;
        PlaneOfArray {
            beam,
            sky_diffuse,
            ground,
            global: beam + diffuse,
            effective: beam * iam_physical(cos_aoi) + diffuse,
        }
    }
}

/// Extraterrestrial normal irradiance, W/m²: Spencer (1971) for the Earth–Sun distance.
fn extra_radiation(day_of_year: u16) -> f64 {
    let b = std::f64::consts::TAU / 365.0 * f64::from(day_of_year.saturating_sub(1));
    let distance_factor = 1.00011
        + 0.034221 * b.cos()
        + 0.00128 * b.sin()
        + 0.000719 * (2.0 * b).cos()
        + 0.000077 * (2.0 * b).sin();
    SOLAR_CONSTANT * distance_factor
}

/// Relative (not pressure-corrected) airmass, Kasten and Young (1989); none with the sun below
/// the horizon.
fn relative_airmass(zenith_deg: f64) -> Option<f64> {
    (zenith_deg <= 90.0).then(|| {
        1.0 / (zenith_deg.to_radians().cos() + 0.50572 * (6.07995 + (90.0 - zenith_deg)).powf(-1.6364))
    })
}

/// What the Perez model needs to know about the sky in one hour.
#[derive(Clone, Copy, Debug)]
struct Sky {
    dhi: f64,
    dni: f64,
    dni_extra: f64,
    zenith_deg: f64,
    airmass: f64,
}

/// Upper bounds of the Perez sky clearness (ε) bins 1–7; bin 8 is everything clearer.
const PEREZ_EPSILON_BINS: [f64; 7] = [1.065, 1.23, 1.5, 1.95, 2.8, 4.5, 6.2];
/// Perez et al. (1990), all-sites composite: f11 f12 f13 f21 f22 f23 per clearness bin.
const PEREZ_1990: [[f64; 6]; 8] = [
    [-0.008, 0.588, -0.062, -0.060, 0.072, -0.022],
    [0.130, 0.683, -0.151, -0.019, 0.066, -0.029],
    [0.330, 0.487, -0.221, 0.055, -0.064, -0.026],
    [0.568, 0.187, -0.295, 0.109, -0.152, -0.014],
    [0.873, -0.392, -0.362, 0.226, -0.462, 0.001],
    [1.132, -1.237, -0.412, 0.288, -0.823, 0.056],
    [1.060, -1.600, -0.359, 0.264, -1.127, 0.131],
    [0.678, -0.327, -0.250, 0.156, -1.377, 0.251],
];

/// Sky diffuse irradiance on the plane, W/m²: the Perez (1990) anisotropic model (isotropic
/// dome, circumsolar disc and horizon band), as `pvlib.irradiance.perez`.
fn perez_sky_diffuse(sky: &Sky, plane: &Plane, cos_aoi: f64) -> f64 {
    if sky.dhi <= 0.0 {
        return 0.0;
    }
    // Perez's κ = 1.041 is for the zenith in radians.
    let z = sky.zenith_deg.to_radians();
    let kz3 = 1.041 * z.powi(3);
    let clearness = ((sky.dhi + sky.dni) / sky.dhi + kz3) / (1.0 + kz3);
    let brightness = sky.dhi * sky.airmass / sky.dni_extra;
    let bin = PEREZ_EPSILON_BINS
        .iter()
        .take_while(|&&upper| clearness >= upper)
        .count();
    let [f11, f12, f13, f21, f22, f23] = PEREZ_1990.get(bin).copied().unwrap_or(PEREZ_1990[7]);
    let f1 = (f11 + f12 * brightness + f13 * z).max(0.0);
    let f2 = f21 + f22 * brightness + f23 * z;
    // The circumsolar ratio a/b, with b kept from vanishing at the horizon (85°).
    let a = cos_aoi.max(0.0);
    let b = z.cos().max(85.0_f64.to_radians().cos());
    let isotropic = 0.5 * (1.0 - f1) * (1.0 + plane.cos_tilt);
    (sky.dhi * (isotropic + f1 * a / b + f2 * plane.sin_tilt)).max(0.0)
}

/// Fraction of the beam that passes the glass cover (Fresnel reflection and absorption), as
/// `pvlib.iam.physical` without anti-reflective coating: 1 at normal incidence.
fn iam_physical(cos_aoi: f64) -> f64 {
    let cos_incidence = cos_aoi.max(0.0);
    let sin_incidence = (1.0 - cos_incidence * cos_incidence).sqrt();
    let sin_refracted = sin_incidence / GLASS_INDEX;
    let cos_refracted = (1.0 - sin_refracted * sin_refracted).sqrt();
    let n = GLASS_INDEX;
    let reflect_s = ((cos_incidence - n * cos_refracted) / (cos_incidence + n * cos_refracted)).powi(2);
    let reflect_p = ((cos_refracted - n * cos_incidence) / (cos_refracted + n * cos_incidence)).powi(2);
    let reflect_normal = ((1.0 - n) / (1.0 + n)).powi(2);
    let absorbed = (-GLASS_EXTINCTION * GLASS_THICKNESS / cos_refracted).exp();
    let absorbed_normal = (-GLASS_EXTINCTION * GLASS_THICKNESS).exp();
    let transmitted = (2.0 - reflect_s - reflect_p) / 2.0 * absorbed;
    transmitted / ((1.0 - reflect_normal) * absorbed_normal)
}

/// Cell temperature, °C: the SAPM module back temperature plus its conduction difference.
fn sapm_cell_temperature(poa_global: f64, temp_air: f64, wind_speed: f64) -> f64 {
    poa_global * (SAPM_A + SAPM_B * wind_speed).exp() + temp_air + poa_global / 1000.0 * SAPM_DELTA_T
}

/// DC power, W, from effective irradiance (W/m²) and cell temperature (°C), reference 25 °C.
fn pvwatts_dc(effective_irradiance: f64, temp_cell: f64, pdc0_w: f64, gamma_pdc: f64) -> f64 {
    effective_irradiance / 1000.0 * pdc0_w * (1.0 + gamma_pdc * (temp_cell - 25.0))
}

/// AC power, W, from DC power and the inverter's DC input limit `pdc0_w` (its AC rating over
/// the nominal efficiency): PVWatts' part-load curve, which turns negative below about 0.6 % of
/// the limit, hence the floor at zero.
fn pvwatts_inverter(pdc_w: f64, pdc0_w: f64, efficiency_nominal: f64) -> f64 {
    if pdc_w <= 0.0 {
        return 0.0;
    }
    let zeta = pdc_w / pdc0_w;
    let efficiency = efficiency_nominal / INVERTER_EFFICIENCY_REF * (-0.0162 * zeta - 0.0059 / zeta + 0.9858);
    (efficiency * pdc_w).min(efficiency_nominal * pdc0_w).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GREENSBORO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/weather/723170TYA.CSV");
    const SAND_POINT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/weather/703165TY.csv");

    fn close(ours: f64, theirs: f64, tolerance: f64) -> bool {
        (ours - theirs).abs() <= tolerance
    }

    fn annual_kwh(path: &str) -> f64 {
        let tmy = Tmy::parse(std::fs::File::open(path).unwrap()).unwrap();
        let production = simulate(&tmy, &SystemSpec::new(1.0, 20.0, 180.0).unwrap());
        assert_eq!(production.hourly_ac_kwh.len(), 8760);
        let hourly: f64 = production.hourly_ac_kwh.iter().sum();
        assert!(close(hourly, production.annual_kwh, 1e-9));
        assert!(close(
            production.monthly_kwh.iter().sum(),
            production.annual_kwh,
            1e-9
        ));
        production.annual_kwh
    }

    /// Ours within 0.1 % of the value it was pinned at, and within 3 % of pvlib 0.16.1 running
    /// the same chain (`tools/pvlib_crosscheck.py`).
    fn assert_annual(path: &str, pinned: f64, pvlib: f64) {
        let ours = annual_kwh(path);
        assert!(
            (ours / pinned - 1.0).abs() < 0.001,
            "{path}: {ours} kWh, pinned {pinned}"
        );
        assert!(
            (ours / pvlib - 1.0).abs() < 0.03,
            "{path}: {ours} kWh, pvlib {pvlib}"
        );
    }

    #[test]
    fn greensboro_annual_energy() {
        // pvlib: 1349.380 kWh (+0.002 %).
        assert_annual(GREENSBORO, 1349.403, 1349.380);
    }

    #[test]
    fn sand_point_annual_energy() {
        // pvlib: 808.158 kWh (+0.002 %).
        assert_annual(SAND_POINT, 808.174, 808.158);
    }

    #[test]
    fn south_facing_tilt_beats_flat_and_east_in_greensboro() {
        let tmy = Tmy::parse(std::fs::File::open(GREENSBORO).unwrap()).unwrap();
        let annual = |tilt, azimuth| simulate(&tmy, &SystemSpec::new(1.0, tilt, azimuth).unwrap()).annual_kwh;
        let south = annual(20.0, 180.0);
        assert!(south > annual(0.0, 180.0));
        assert!(south > annual(20.0, 90.0));
        let ten_kw = simulate(&tmy, &SystemSpec::new(10.0, 20.0, 180.0).unwrap()).annual_kwh;
        assert!(close(ten_kw, 10.0 * south, 1e-6));
    }

    /// `pvlib.inverter.pvwatts(pdc, 1000/1.2/0.96, 0.96, 0.9637)`, a 1 kW array's inverter.
    #[test]
    fn inverter_curve_matches_pvlib() {
        let pdc0 = 1000.0 / 1.2 / 0.96;
        let cases = [
            (0.0, 0.0),
            (-5.0, 0.0),
            (3.0, 0.0),
            (5.0, 0.0),
            (6.0, 0.789557290),
            (50.0, 43.952416284),
            (200.0, 190.557535720),
            (500.0, 481.258023590),
            (800.0, 768.612176791),
            (860.0, 825.681447271),
            (900.0, 833.333333333),
        ];
        for (pdc, pac) in cases {
            let ours = pvwatts_inverter(pdc, pdc0, 0.96);
            assert!(close(ours, pac, 1e-8), "pdc {pdc}: {ours}, pvlib {pac}");
        }
    }

    /// `pvlib.irradiance.perez` with Kasten–Young airmass, over several clearness bins, a low
    /// sun (the 85° floor on cos zenith) and a vertical west wall.
    #[test]
    fn perez_matches_pvlib() {
        // (tilt, surface azimuth, dhi, dni, dni_extra, zenith, sun azimuth, pvlib)
        let cases = [
            (20.0, 180.0, 200.0, 500.0, 1400.0, 40.0, 150.0, 232.668082058),
            (20.0, 180.0, 150.0, 5.0, 1320.0, 70.0, 240.0, 149.508913624),
            (20.0, 180.0, 60.0, 700.0, 1360.0, 87.0, 100.0, 54.559263221),
            (90.0, 270.0, 300.0, 250.0, 1410.0, 55.0, 250.0, 227.217256379),
            (35.0, 160.0, 80.0, 900.0, 1330.0, 25.0, 170.0, 88.330947325),
        ];
        for (tilt, surface_azimuth, dhi, dni, dni_extra, zenith_deg, sun_azimuth, expected) in cases {
            let plane = Plane::new(tilt, surface_azimuth);
            let sky = Sky {
                dhi,
                dni,
                dni_extra,
                zenith_deg,
                airmass: relative_airmass(zenith_deg).unwrap(),
            };
            let ours = perez_sky_diffuse(&sky, &plane, plane.cos_aoi(zenith_deg, sun_azimuth));
            assert!(
                close(ours, expected, 1e-6),
                "zenith {zenith_deg}: {ours}, pvlib {expected}"
            );
        }
    }

    #[test]
    fn no_sky_diffuse_with_the_sun_down_or_no_diffuse_light() {
        assert_eq!(relative_airmass(90.5), None);
        let plane = Plane::new(20.0, 180.0);
        let horizontal = Irradiance {
            ghi: 10.0,
            dni: 0.0,
            dhi: 10.0,
        };
        let poa = plane.irradiance(&horizontal, 91.0, 250.0, 180, 0.2);
        assert_eq!((poa.beam, poa.sky_diffuse), (0.0, 0.0));
        assert!(close(
            poa.ground,
            10.0 * 0.2 * (1.0 - 20.0_f64.to_radians().cos()) / 2.0,
            1e-12
        ));
        let sky = Sky {
            dhi: 0.0,
            dni: 0.0,
            dni_extra: 1400.0,
            zenith_deg: 60.0,
            airmass: 2.0,
        };
        assert_eq!(perez_sky_diffuse(&sky, &plane, 0.5), 0.0);
    }

    /// `pvlib.iam.physical(aoi, n=1.526, K=4, L=0.002)`.
    #[test]
    fn reflection_loss_matches_pvlib() {
        let cases = [
            (0.0, 1.0),
            (30.0, 0.997886863020),
            (60.0, 0.946002914223),
            (80.0, 0.634116693237),
            (89.0, 0.099225193308),
            (90.0, 0.0),
            (120.0, 0.0),
        ];
        for (aoi, expected) in cases {
            let ours = iam_physical(f64::to_radians(aoi).cos());
            assert!(close(ours, expected, 1e-9), "aoi {aoi}: {ours}, pvlib {expected}");
        }
    }

    /// `pvlib.irradiance.get_extra_radiation(doy)` and
    /// `pvlib.atmosphere.get_relative_airmass(zenith)`.
    #[test]
    fn extraterrestrial_irradiance_and_airmass_match_pvlib() {
        for (day, expected) in [
            (1, 1413.981805),
            (80, 1376.892361219),
            (172, 1321.623592571),
            (355, 1412.708564356),
        ] {
            assert!(close(extra_radiation(day), expected, 1e-6), "day {day}");
        }
        for (zenith, expected) in [
            (0.0, 0.999711992),
            (60.0, 1.994292853),
            (85.0, 10.305791328),
            (90.0, 37.919608378),
        ] {
            assert!(
                close(relative_airmass(zenith).unwrap(), expected, 1e-8),
                "zenith {zenith}"
            );
        }
    }

    /// `pvlib.temperature.sapm_cell(800, 25, 3, -3.56, -0.075, 3)` and
    /// `pvlib.pvsystem.pvwatts_dc(780, 45, 1000, -0.0047)`.
    #[test]
    fn cell_temperature_and_dc_power_match_pvlib() {
        assert!(close(
            sapm_cell_temperature(800.0, 25.0, 3.0),
            45.567090221385065,
            1e-9
        ));
        assert!(close(pvwatts_dc(780.0, 45.0, 1000.0, -0.0047), 706.68, 1e-9));
    }

    #[test]
    fn mid_hour_timestamps_on_the_typical_calendar() {
        assert_eq!(day_of_year(1, 1), 1);
        assert_eq!(day_of_year(3, 1), 60);
        assert_eq!(day_of_year(12, 31), 365);
    }

    #[test]
    fn refuses_impossible_systems() {
        assert!(SystemSpec::new(1.0, 20.0, 180.0).is_ok());
        assert_eq!(SystemSpec::new(0.0, 20.0, 180.0), Err(SpecError::Size(0.0)));
        assert_eq!(SystemSpec::new(1000.5, 20.0, 180.0), Err(SpecError::Size(1000.5)));
        assert!(matches!(
            SystemSpec::new(f64::NAN, 20.0, 180.0),
            Err(SpecError::Size(_))
        ));
        assert_eq!(SystemSpec::new(5.0, 91.0, 180.0), Err(SpecError::Tilt(91.0)));
        assert_eq!(SystemSpec::new(5.0, -1.0, 180.0), Err(SpecError::Tilt(-1.0)));
        assert_eq!(SystemSpec::new(5.0, 20.0, 361.0), Err(SpecError::Azimuth(361.0)));
        let error = SystemSpec::new(5.0, 20.0, -10.0).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the azimuth must be between 0° and 360° (180° faces south), not -10"
        );
        let mut spec = SystemSpec::new(5.0, 20.0, 180.0).unwrap();
        spec.dc_ac_ratio = 0.0;
        assert!(matches!(
            spec.validate(),
            Err(SpecError::Parameter {
                name: "DC/AC ratio",
                ..
            })
        ));
    }
}
