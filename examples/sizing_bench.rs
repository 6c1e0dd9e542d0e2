//! In-process timing of the sizing core: Green Button import of a one-year hourly file and a
//! full-year hourly PVWatts simulation. Run by `bench/sizing.sh` (release build); prints the
//! median and the fastest of many runs. Targets: import ≤ 30 ms, simulation ≤ 5 ms.

use std::time::{Duration, Instant};

use sunbridge::sizing::greenbutton::{self, Limits};
use sunbridge::sizing::pvwatts::{SystemSpec, simulate};
use sunbridge::sizing::tmy::Tmy;

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(f());
            started.elapsed()
        })
        .collect();
    times.sort();
    (times[times.len() / 2], times[0])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage_file = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: sizing_bench GREEN_BUTTON.xml TMY3.csv"))?;
    let tmy_file = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: sizing_bench GREEN_BUTTON.xml TMY3.csv"))?;

    let bytes = std::fs::read(&usage_file)?;
    let usage = greenbutton::import(&bytes, Limits::default())?;
    let (median, best) = time(50, || greenbutton::import(&bytes, Limits::default()));
    println!(
        "import   {:>8.2} ms median, {:>8.2} ms best  ({} readings, {:.1} kWh, {:.2} MB)  target <= 30 ms",
        ms(median),
        ms(best),
        usage.readings,
        usage.delivered_kwh,
        bytes.len() as f64 / 1e6
    );

    let weather = std::fs::read(&tmy_file)?;
    let (median, best) = time(20, || Tmy::parse(weather.as_slice()));
    println!(
        "tmy parse {:>7.2} ms median, {:>8.2} ms best  (no target)",
        ms(median),
        ms(best)
    );

    let tmy = Tmy::parse(weather.as_slice())?;
    let spec = SystemSpec::new(7.5, 25.0, 180.0)?;
    let production = simulate(&tmy, &spec);
    let (median, best) = time(200, || simulate(&tmy, &spec));
    println!(
        "simulate {:>8.2} ms median, {:>8.2} ms best  (8760 h, 7.5 kW: {:.0} kWh/year)  target <= 5 ms",
        ms(median),
        ms(best),
        production.annual_kwh
    );
    Ok(())
}
