//! Server-rendered SVG bar charts: no script, no inline style (the CSP allows neither); the
//! page's stylesheet colours the series by class. Labels and numbers go through the askama
//! template, so they are escaped like any other text. Each chart's title has an id made from
//! the title, so two charts on a page never share one.

use crate::values::group_thousands;

/// One series of values, one per label.
pub struct Series {
    pub name: &'static str,
    /// CSS class of its bars (`series-a`, `series-b`, …).
    pub class: &'static str,
    pub values: Vec<u64>,
}

/// What the values count, for the axis: "2,000", "$1,500", or "2,000" under a "kWh" unit
/// label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Count,
    Dollars,
    Kwh,
}

impl Unit {
    /// A tick's label (kilowatt-hours say their unit once, above the axis, to stay narrow).
    fn tick(self, value: u64) -> String {
        match self {
            Unit::Count | Unit::Kwh => group_thousands(value),
            Unit::Dollars => format!("${}", group_thousands(value)),
        }
    }

    /// A value with its unit, for a bar's text: "820 kWh", "$1,500".
    fn value(self, value: u64) -> String {
        match self {
            Unit::Kwh => crate::values::Kwh(value as f64).to_string(),
            _ => self.tick(value),
        }
    }

    fn axis_label(self) -> Option<&'static str> {
        (self == Unit::Kwh).then_some("kWh")
    }
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
    pub label: String,
}

pub struct Label {
    pub x: f64,
    pub text: String,
}

/// A level drawn across the plot, with what it is: "Net cost $17,500".
pub struct Reference {
    pub y: f64,
    pub text: String,
}

/// A note over one group of bars: "Paid back".
pub struct Mark {
    pub x: f64,
    pub y: f64,
    pub text: String,
}

/// A grouped bar chart laid out in a fixed viewBox that scales to the page width.
pub struct BarChart {
    /// Unique on the page: the title's words (`chart-savings-per-year`).
    pub id: String,
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
    pub reference: Option<Reference>,
    pub mark: Option<Mark>,
    /// The unit, written above the axis ("kWh").
    pub axis_label: Option<&'static str>,
}

/// What a chart shows beyond its bars.
#[derive(Default)]
pub struct Extras {
    pub unit: Option<Unit>,
    /// A level to draw across, and its words.
    pub reference: Option<(u64, String)>,
    /// A group to set apart (its bars in `series-c`), its note, and the legend's words for it.
    pub mark: Option<(usize, String, &'static str)>,
}

// A small viewBox: scaled to a phone's width, 14-unit labels stay readable. The left margin
// holds a label such as "$30,000" or "1,000 kWh".
const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 214.0;
const LEFT: f64 = 74.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 184.0;

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

fn slug(title: &str) -> String {
    let words: Vec<String> = title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    format!("chart-{}", words.join("-"))
}

impl BarChart {
    pub fn new(title: impl Into<String>, labels: &[String], series: &[Series]) -> Self {
        Self::with(title, labels, series, Extras::default())
    }

    pub fn with(title: impl Into<String>, labels: &[String], series: &[Series], extras: Extras) -> Self {
        let title = title.into();
        let unit = extras.unit.unwrap_or(Unit::Count);
        let max = series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .chain(extras.reference.as_ref().map(|(v, _)| *v))
            .max()
            .unwrap_or(0);
        let top = nice_max(max) as f64;
        let groups = labels.len().max(1) as f64;
        let group_width = (WIDTH - LEFT - 8.0) / groups;
        let bar_width = (group_width * 0.8) / series.len().max(1) as f64;
        let scale = (BOTTOM - TOP) / top;
        let marked = extras.mark.as_ref().map(|(g, _, _)| *g);
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
                    class: if marked == Some(g) { "series-c" } else { s.class },
                    title: format!("{label}: {} {}", unit.value(value), s.name),
                });
            }
        }
        let ticks = (0..=4)
            .map(|i| {
                let value = top as u64 * i / 4;
                Tick {
                    y: BOTTOM - value as f64 * scale,
                    label: unit.tick(value),
                }
            })
            .collect();
        let mark = extras.mark.as_ref().and_then(|(g, text, _)| {
            let highest = bars
                .iter()
                .filter(|b| b.class == "series-c")
                .map(|b| b.y)
                .fold(f64::INFINITY, f64::min);
            highest.is_finite().then(|| Mark {
                x: LEFT + *g as f64 * group_width + group_width / 2.0,
                y: (highest - 6.0).max(12.0),
                text: text.clone(),
            })
        });
        let reference = extras.reference.map(|(value, text)| Reference {
            y: BOTTOM - value as f64 * scale,
            text,
        });
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
        let mut legend: Vec<(&'static str, &'static str)> =
            series.iter().map(|s| (s.name, s.class)).collect();
        if let Some((_, _, words)) = extras.mark {
            legend.push((words, "series-c"));
        }
        Self {
            id: slug(&title),
            title,
            width: WIDTH,
            height: HEIGHT,
            plot_top: TOP,
            plot_bottom: BOTTOM,
            plot_left: LEFT,
            bars,
            ticks,
            labels,
            legend,
            reference,
            mark,
            axis_label: unit.axis_label(),
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
        assert_eq!(chart.ticks.last().unwrap().label, "20");
        assert_eq!(chart.id, "chart-t");
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

    #[test]
    fn axes_say_their_unit_and_a_reference_raises_the_axis() {
        let labels: Vec<String> = (1..=3).map(|y| y.to_string()).collect();
        let chart = BarChart::with(
            "Savings so far (dollars)",
            &labels,
            &[Series {
                name: "saved so far",
                class: "series-a",
                values: vec![1_500, 3_000, 4_600],
            }],
            Extras {
                unit: Some(Unit::Dollars),
                reference: Some((9_000, "Net cost $9,000".into())),
                mark: Some((2, "Paid back".into(), "year it pays back")),
            },
        );
        assert_eq!(chart.id, "chart-savings-so-far-dollars");
        let ticks: Vec<&str> = chart.ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(ticks, ["$0", "$5,000", "$10,000", "$15,000", "$20,000"]);
        assert!(chart.reference.as_ref().unwrap().y > TOP);
        assert_eq!(chart.bars[2].class, "series-c");
        assert_eq!(chart.bars[2].title, "3: $4,600 saved so far");
        assert_eq!(chart.legend.last(), Some(&("year it pays back", "series-c")));
        let kwh = BarChart::with(
            "k",
            &labels,
            &[],
            Extras {
                unit: Some(Unit::Kwh),
                ..Extras::default()
            },
        );
        assert_eq!(kwh.ticks.last().unwrap().label, "4");
        assert_eq!(kwh.axis_label, Some("kWh"));
    }
}
