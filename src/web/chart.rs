//! Server-rendered SVG bar charts: no script, no inline style (the CSP allows neither); the
//! page's stylesheet colours the series by class. Labels and numbers go through the askama
//! template, so they are escaped like any other text.

/// One series of values, one per label.
pub struct Series {
    pub name: &'static str,
    /// CSS class of its bars (`series-a`, `series-b`, …).
    pub class: &'static str,
    pub values: Vec<u64>,
}

pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    pub class: &'static str,
    /// Tooltip and accessible text: "Week of 2026-11-16: 3 new customers".
    pub title: String,
}

pub struct Tick {
    pub y: f64,
    pub label: u64,
}

pub struct Label {
    pub x: f64,
    pub text: String,
}

/// A grouped bar chart laid out in a fixed viewBox that scales to the page width.
pub struct BarChart {
    pub title: String,
    pub width: f64,
    pub height: f64,
    pub plot_top: f64,
    pub plot_bottom: f64,
    pub plot_left: f64,
    pub bars: Vec<Bar>,
    pub ticks: Vec<Tick>,
    pub labels: Vec<Label>,
    pub legend: Vec<(&'static str, &'static str)>,
}

// A small viewBox: scaled to a phone's width, 14-unit labels stay readable.
const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 210.0;
const LEFT: f64 = 32.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 180.0;

/// A "nice" upper bound for the axis: 1, 2 or 5 times a power of ten, at least `max`.
fn nice_max(max: u64) -> u64 {
    if max <= 4 {
        return 4;
    }
    let mut step = 1u64;
    loop {
        for m in [1, 2, 5] {
            if step * m * 4 >= max {
                return step * m * 4;
            }
        }
        step *= 10;
    }
}

impl BarChart {
    pub fn new(title: impl Into<String>, labels: &[String], series: &[Series]) -> Self {
        let max = series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .max()
            .unwrap_or(0);
        let top = nice_max(max) as f64;
        let groups = labels.len().max(1) as f64;
        let group_width = (WIDTH - LEFT - 8.0) / groups;
        let bar_width = (group_width * 0.8) / series.len().max(1) as f64;
        let scale = (BOTTOM - TOP) / top;
        let mut bars = Vec::new();
        for (g, label) in labels.iter().enumerate() {
            for (i, s) in series.iter().enumerate() {
                let value = s.values.get(g).copied().unwrap_or(0);
                let height = value as f64 * scale;
                bars.push(Bar {
                    x: LEFT + g as f64 * group_width + group_width * 0.1 + i as f64 * bar_width,
                    y: BOTTOM - height,
                    width: bar_width,
                    height,
                    class: s.class,
                    title: format!("{label}: {value} {}", s.name),
                });
            }
        }
        let ticks = (0..=4)
            .map(|i| {
                let value = top as u64 * i / 4;
                Tick {
                    y: BOTTOM - value as f64 * scale,
                    label: value,
                }
            })
            .collect();
        // Every other label, so they do not overlap on a phone.
        let labels = labels
            .iter()
            .enumerate()
            .filter(|(g, _)| g % 2 == 0)
            .map(|(g, text)| Label {
                x: LEFT + g as f64 * group_width + group_width / 2.0,
                text: text.clone(),
            })
            .collect();
        Self {
            title: title.into(),
            width: WIDTH,
            height: HEIGHT,
            plot_top: TOP,
            plot_bottom: BOTTOM,
            plot_left: LEFT,
            bars,
            ticks,
            labels,
            legend: series.iter().map(|s| (s.name, s.class)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_axis_and_stay_inside_the_plot() {
        let labels: Vec<String> = (1..=4).map(|i| format!("W{i}")).collect();
        let chart = BarChart::new(
            "t",
            &labels,
            &[
                Series {
                    name: "a",
                    class: "series-a",
                    values: vec![0, 3, 7, 20],
                },
                Series {
                    name: "b",
                    class: "series-b",
                    values: vec![1, 1, 1, 1],
                },
            ],
        );
        assert_eq!(chart.bars.len(), 8);
        assert_eq!(chart.ticks.last().unwrap().label, 20);
        let tallest = chart.bars.iter().map(|b| b.height).fold(0.0, f64::max);
        assert!((tallest - (BOTTOM - TOP)).abs() < 1e-9);
        assert!(
            chart
                .bars
                .iter()
                .all(|b| b.y >= TOP - 1e-9 && b.x + b.width <= WIDTH)
        );
        assert_eq!(nice_max(0), 4);
        assert_eq!(nice_max(9), 20);
        assert_eq!(nice_max(41), 80);
    }
}
