//! Solar position: the NOAA solar calculator algorithm (after Meeus, *Astronomical
//! Algorithms*, 2nd ed. 1998, ch. 25, as in NOAA's General Solar Position Calculations).
//!
//! Why not the full NREL SPA (Reda and Andreas, 2004): SPA sums some 260 periodic terms per
//! instant and is accurate to ±0.0003°; this algorithm needs about twenty trigonometric
//! functions, and over full years from 1950 to 2090 its zenith stays within 0.015° of SPA's
//! (pvlib `nrel_numpy`; the tests pin a few points), far below what an hourly energy estimate
//! can notice. Azimuth differs by up to 0.06°, only with the sun near overhead, where azimuth
//! hardly moves the angle of incidence. It ignores ΔT (TT − UT ≈ 70 s, a sun longitude error
//! under 0.001°), keeps only the main nutation term and, like the geocentric part of SPA,
//! omits parallax (under 0.0025°). No refraction: the zenith is the true one, which is what the
//! transposition and airmass models here are fed.

/// Julian day at 0 h UT on 1 January of `year` (proleptic Gregorian), Meeus eq. 7.1.
pub fn julian_day_jan1(year: i32) -> f64 {
    let y = f64::from(year - 1);
    let century = (y / 100.0).floor();
    let gregorian = 2.0 - century + (century / 4.0).floor();
    (365.25 * (y + 4716.0)).floor() + (30.6001 * 14.0_f64).floor() + 1.0 + gregorian - 1524.5
}

/// Where the sun is, seen from a site; degrees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SunPosition {
    /// True (unrefracted) zenith angle, 0 overhead, above 90 below the horizon.
    pub zenith_deg: f64,
    /// Clockwise from north: 90 east, 180 south.
    pub azimuth_deg: f64,
}

/// A site, with the trigonometry of its latitude computed once.
#[derive(Clone, Copy, Debug)]
pub struct Site {
    longitude_deg: f64,
    sin_lat: f64,
    cos_lat: f64,
}

impl Site {
    /// Latitude north positive, longitude east positive (TMY3 writes the west as negative).
    pub fn new(latitude_deg: f64, longitude_deg: f64) -> Self {
        let (sin_lat, cos_lat) = latitude_deg.to_radians().sin_cos();
        Self {
            longitude_deg,
            sin_lat,
            cos_lat,
        }
    }

    /// The sun's position at Julian day `jd_ut` (Universal Time).
    pub fn sun_position(&self, jd_ut: f64) -> SunPosition {
        let sun = Geocentric::at(jd_ut);
        let (sin_decl, cos_decl) = sun.declination_rad.sin_cos();
        // Hour angle from the true solar time: UT shifted by longitude (4 min per degree) and
        // the equation of time.
        let minutes_ut = (jd_ut + 0.5).fract() * 1440.0;
        let true_solar_minutes = minutes_ut + sun.equation_of_time_min + 4.0 * self.longitude_deg;
        let hour_angle = (true_solar_minutes / 4.0 - 180.0).to_radians();
        let (sin_ha, cos_ha) = hour_angle.sin_cos();

        let cos_zenith = (self.sin_lat * sin_decl + self.cos_lat * cos_decl * cos_ha).clamp(-1.0, 1.0);
        // Meeus eq. 13.5 gives the azimuth from the south, westward; +180° turns it to the
        // north-clockwise convention PVWatts and pvlib use.
        let from_south = sin_ha.atan2(cos_ha * self.sin_lat - sin_decl / cos_decl * self.cos_lat);
        SunPosition {
            zenith_deg: cos_zenith.acos().to_degrees(),
            azimuth_deg: (from_south.to_degrees() + 180.0).rem_euclid(360.0),
        }
    }
}

/// The sun's declination and the equation of time at one instant.
struct Geocentric {
    declination_rad: f64,
    equation_of_time_min: f64,
}

impl Geocentric {
    fn at(jd_ut: f64) -> Self {
        let t = (jd_ut - 2_451_545.0) / 36_525.0;
        let mean_longitude = (280.46646 + t * (36000.76983 + t * 0.0003032))
            .rem_euclid(360.0)
            .to_radians();
        let mean_anomaly = (357.52911 + t * (35999.05029 - 0.0001537 * t)).to_radians();
        let eccentricity = 0.016708634 - t * (0.000042037 + 0.0000001267 * t);
        let center = mean_anomaly.sin() * (1.914602 - t * (0.004817 + 0.000014 * t))
            + (2.0 * mean_anomaly).sin() * (0.019993 - 0.000101 * t)
            + (3.0 * mean_anomaly).sin() * 0.000289;
        // Longitude of the Moon's ascending node: drives the main nutation term.
        let node = (125.04 - 1934.136 * t).to_radians();
        let apparent_longitude =
            (mean_longitude.to_degrees() + center - 0.00569 - 0.00478 * node.sin()).to_radians();
        let mean_obliquity =
            23.0 + (26.0 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60.0) / 60.0;
        let obliquity = (mean_obliquity + 0.00256 * node.cos()).to_radians();

        let declination_rad = (obliquity.sin() * apparent_longitude.sin()).asin();
        Self {
            declination_rad,
            equation_of_time_min: equation_of_time(obliquity, mean_longitude, mean_anomaly, eccentricity),
        }
    }
}

/// Equation of time in minutes (Smart, *Textbook on Spherical Astronomy*, as in Meeus eq. 28.3).
fn equation_of_time(obliquity: f64, mean_longitude: f64, mean_anomaly: f64, eccentricity: f64) -> f64 {
    let y = (obliquity / 2.0).tan().powi(2);
    let (l0, m, e) = (mean_longitude, mean_anomaly, eccentricity);
    let radians = y * (2.0 * l0).sin() - 2.0 * e * m.sin() + 4.0 * e * y * m.sin() * (2.0 * l0).cos()
        - 0.5 * y * y * (4.0 * l0).sin()
        - 1.25 * e * e * (2.0 * m).sin();
    4.0 * radians.to_degrees()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jd(year: i32, day_of_year: u32, hours_ut: f64) -> f64 {
        julian_day_jan1(year) + f64::from(day_of_year - 1) + hours_ut / 24.0
    }

    #[test]
    fn julian_day_of_known_dates() {
        assert_eq!(julian_day_jan1(2000), 2_451_544.5);
        assert_eq!(julian_day_jan1(1988), 2_447_161.5);
        assert_eq!(julian_day_jan1(2022), 2_459_580.5);
    }

    /// The worked example of the SPA report (Reda and Andreas, NREL/TP-560-34302, table A5.1):
    /// 17 October 2003, 12:30:30 at UTC−7, Golden CO, azimuth 194.34024°. The report's zenith,
    /// 50.11162°, includes refraction at 820 mbar and 11 °C; without it SPA gives 50.12795°
    /// (pvlib `zenith` with the report's inputs).
    #[test]
    fn spa_report_example() {
        let site = Site::new(39.742476, -105.1786);
        let sun = site.sun_position(jd(2003, 290, 19.0 + 30.5 / 60.0));
        assert!((sun.zenith_deg - 50.12795).abs() < 0.005, "{sun:?}");
        assert!((sun.azimuth_deg - 194.34024).abs() < 0.005, "{sun:?}");
    }

    /// pvlib 0.16.1 `get_solarposition` (NREL SPA, `nrel_numpy`, ΔT 67 s), `zenith` and
    /// `azimuth`, at Greensboro NC (36.1, −79.95, 273 m) and Sand Point AK (55.317, −160.517,
    /// 7 m) in 2022, at mid-hour local standard time.
    #[test]
    fn agrees_with_pvlib_spa() {
        // (lat, lon, UTC offset, day of year, local hour, zenith, azimuth)
        let cases = [
            (36.1, -79.95, -5.0, 1, 12.5, 59.081865, 181.758643),
            (36.1, -79.95, -5.0, 80, 7.5, 77.116609, 99.159483),
            (36.1, -79.95, -5.0, 172, 13.5, 19.442717, 234.059056),
            (36.1, -79.95, -5.0, 265, 17.5, 81.436177, 263.746272),
            (55.317, -160.517, -9.0, 172, 20.5, 77.113653, 292.725689),
            (55.317, -160.517, -9.0, 355, 14.5, 79.470029, 191.574841),
        ];
        for (lat, lon, offset, doy, hour, zenith, azimuth) in cases {
            let sun = Site::new(lat, lon).sun_position(jd(2022, doy, hour - offset));
            assert!(
                (sun.zenith_deg - zenith).abs() < 0.02,
                "day {doy} {hour}h: {sun:?}"
            );
            assert!(
                (sun.azimuth_deg - azimuth).abs() < 0.02,
                "day {doy} {hour}h: {sun:?}"
            );
        }
    }
}
