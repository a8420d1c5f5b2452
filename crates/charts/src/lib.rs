//! caredesk's charts, drawn as SVG with plotters: the report pages serve them as images
//! beside the table of the same numbers (an image runs nothing whatever a label holds,
//! prints, and needs no script in the page), and the monthly report attaches one to its mail.

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One panel of bars: a title and a share (0 to 100) per group, none where nothing counts.
pub struct Panel<'a> {
    pub title: &'a str,
    pub values: Vec<Option<f64>>,
}

/// The most groups a chart draws; the table beside it has them all.
const MOST_GROUPS: usize = 24;

const WIDTH: u32 = 1080;
const HEIGHT: u32 = 420;
/// The policy's three clocks, each its own colour (dark enough on white for text contrast).
const COLOURS: [RGBColor; 3] = [
    RGBColor(0x1f, 0x5f, 0x99),
    RGBColor(0x2e, 0x7d, 0x32),
    RGBColor(0x8e, 0x44, 0x00),
];

/// Bars of a share in percent per group, one panel per series, side by side; `unit` names
/// the vertical axis.
pub fn share_bars(groups: &[String], panels: &[Panel<'_>], unit: &str) -> Result<String, String> {
    let shown = groups.len().clamp(1, MOST_GROUPS);
    let labels: Vec<String> = groups
        .iter()
        .take(shown)
        .map(|label| short(label))
        .collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|error| error.to_string())?;
        let areas = root.split_evenly((1, panels.len().max(1)));
        for ((area, panel), colour) in areas.iter().zip(panels).zip(COLOURS.iter().cycle()) {
            let mut chart = ChartBuilder::on(area)
                .caption(panel.title, ("sans-serif", 16))
                .margin(10)
                .x_label_area_size(112)
                .y_label_area_size(44)
                // A segmented range of 0..n has n + 1 segments: one per group.
                .build_cartesian_2d((0..shown - 1).into_segmented(), 0f64..108f64)
                .map_err(|error| error.to_string())?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(shown)
                .x_label_formatter(&|_| String::new())
                .y_desc(unit)
                .y_labels(6)
                .light_line_style(TRANSPARENT)
                .y_label_formatter(&|value| {
                    if *value <= 100.0 {
                        format!("{value:.0}%")
                    } else {
                        String::new()
                    }
                })
                .draw()
                .map_err(|error| error.to_string())?;
            chart
                .draw_series(
                    Histogram::vertical(&chart)
                        .style(colour.filled())
                        .margin(4)
                        .data(
                            panel
                                .values
                                .iter()
                                .take(shown)
                                .enumerate()
                                .filter_map(|(index, value)| value.map(|share| (index, share))),
                        ),
                )
                .map_err(|error| error.to_string())?;
            // Each bar says its share, so that a printout needs no gridlines to read.
            chart
                .draw_series(panel.values.iter().take(shown).enumerate().filter_map(
                    |(index, value)| {
                        value.map(|share| {
                            Text::new(
                                format!("{share:.0}%"),
                                (SegmentValue::CenterOf(index), share + 1.0),
                                TextStyle::from(("sans-serif", 11).into_font())
                                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
                            )
                        })
                    },
                ))
                .map_err(|error| error.to_string())?;
            // Each group's name reads downwards from under its bar (the axis's own labels
            // would be centred on the axis once turned).
            let name_style = TextStyle::from(
                ("sans-serif", 11)
                    .into_font()
                    .transform(FontTransform::Rotate90),
            )
            .pos(Pos::new(HPos::Left, VPos::Center));
            for (index, label) in labels.iter().enumerate() {
                let (x, y) = chart.backend_coord(&(SegmentValue::CenterOf(index), 0.0));
                root.draw(&Text::new(label.as_str(), (x, y + 8), name_style.clone()))
                    .map_err(|error| error.to_string())?;
            }
        }
        root.present().map_err(|error| error.to_string())?;
    }
    Ok(svg)
}

/// One series of counts: its name (in the legend) and a count per group.
pub struct Series<'a> {
    pub name: &'a str,
    pub values: Vec<u64>,
}

/// The most groups a chart of counts draws (over a year of weeks): the last ones, the most
/// recent periods; the table has them all.
const MOST_COUNTED_GROUPS: usize = 60;

/// Bars of counts per group, the series side by side in each group, with a legend;
/// `title` above, `unit` naming the vertical axis.
pub fn count_bars(
    groups: &[String],
    series: &[Series<'_>],
    title: &str,
    unit: &str,
) -> Result<String, String> {
    let shown = groups.len().clamp(1, MOST_COUNTED_GROUPS);
    let skipped = groups.len().saturating_sub(MOST_COUNTED_GROUPS);
    let highest = series
        .iter()
        .flat_map(|series| series.values.iter().skip(skipped).take(shown))
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let top = highest as f64 * 1.12;
    let per_series = 0.8 / series.len().max(1) as f64;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|error| error.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(90)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..shown as f64, 0f64..top)
            .map_err(|error| error.to_string())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .x_label_formatter(&|_| String::new())
            .y_desc(unit)
            // Counts are whole: a small scale is labelled at whole numbers only.
            .y_labels(6.min(usize::try_from(highest).unwrap_or(6) + 1))
            .y_label_formatter(&|value| {
                if value.fract().abs() < 1e-9 {
                    format!("{value:.0}")
                } else {
                    String::new()
                }
            })
            .light_line_style(TRANSPARENT)
            .draw()
            .map_err(|error| error.to_string())?;
        let labelled = shown * series.len() <= 24;
        for (index, (one, colour)) in series.iter().zip(COLOURS.iter().cycle()).enumerate() {
            let offset = 0.1 + per_series * index as f64;
            chart
                .draw_series(one.values.iter().skip(skipped).take(shown).enumerate().map(
                    |(group, value)| {
                        let left = group as f64 + offset;
                        Rectangle::new(
                            [(left, 0.0), (left + per_series * 0.92, *value as f64)],
                            colour.filled(),
                        )
                    },
                ))
                .map_err(|error| error.to_string())?
                .label(one.name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled())
                });
            // Few bars say their count, so that a printout needs no gridlines to read.
            if labelled {
                chart
                    .draw_series(one.values.iter().skip(skipped).take(shown).enumerate().map(
                        |(group, value)| {
                            let middle = group as f64 + offset + per_series * 0.46;
                            Text::new(
                                value.to_string(),
                                (middle, *value as f64 + highest as f64 * 0.01),
                                TextStyle::from(("sans-serif", 11).into_font())
                                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
                            )
                        },
                    ))
                    .map_err(|error| error.to_string())?;
            }
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(|error| error.to_string())?;
        let name_style = TextStyle::from(
            ("sans-serif", 11)
                .into_font()
                .transform(FontTransform::Rotate90),
        )
        .pos(Pos::new(HPos::Left, VPos::Center));
        for (index, label) in groups.iter().skip(skipped).take(shown).enumerate() {
            let (x, y) = chart.backend_coord(&(index as f64 + 0.5, 0.0));
            root.draw(&Text::new(short(label), (x, y + 8), name_style.clone()))
                .map_err(|error| error.to_string())?;
        }
        root.present().map_err(|error| error.to_string())?;
    }
    Ok(svg)
}

/// A label short enough to sit under a bar.
fn short(label: &str) -> String {
    const LONGEST: usize = 18;
    if label.chars().count() <= LONGEST {
        label.to_string()
    } else {
        let mut cut: String = label.chars().take(LONGEST - 1).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_draws_its_panels_and_escapes_its_labels() {
        let groups = vec![
            "gold".to_string(),
            "<b>Smith & Sons</b>".to_string(),
            "a very long customer name indeed".to_string(),
        ];
        let panels = [
            Panel {
                title: "First response",
                values: vec![Some(100.0), Some(50.0), None],
            },
            Panel {
                title: "Resolution",
                values: vec![Some(75.0), None, Some(0.0)],
            },
        ];
        let svg = share_bars(&groups, &panels, "Share met").unwrap_or_default();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("First response") && svg.contains("Resolution"));
        assert!(svg.contains("&lt;b&gt;Smith &amp; Sons&lt;/…"), "{svg}");
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("a very long custo…"));
    }

    #[test]
    fn a_chart_of_counts_names_its_series_and_groups() {
        let groups = vec!["2026-10".to_string(), "2026-11".to_string()];
        let series = [
            Series {
                name: "Opened",
                values: vec![120, 95],
            },
            Series {
                name: "Closed & kept",
                values: vec![110, 101],
            },
        ];
        let svg = count_bars(&groups, &series, "Tickets", "Tickets").unwrap_or_default();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("Opened") && svg.contains("Closed &amp; kept"));
        assert!(svg.contains("2026-10") && svg.contains("2026-11"));
        assert!(svg.contains("\n120\n") && svg.contains("\n101\n"), "{svg}");
        // Past sixty periods, the most recent sixty.
        let weeks: Vec<String> = (1..=70).map(|week| format!("week {week}")).collect();
        let counts = [Series {
            name: "Opened",
            values: (1..=70).collect(),
        }];
        let svg = count_bars(&weeks, &counts, "Tickets", "Tickets").unwrap_or_default();
        assert!(svg.contains("week 70") && svg.contains("week 11"), "{svg}");
        assert!(!svg.contains("week 10\n"), "{svg}");
    }

    #[test]
    fn a_small_count_is_scaled_in_whole_numbers() {
        let one = [Series {
            name: "Opened",
            values: vec![1],
        }];
        let svg =
            count_bars(&["2026-11".to_string()], &one, "Tickets", "Tickets").unwrap_or_default();
        // The axis says 0 and 1 once each (the bar says its 1 too): no 0.2 shown as 0.
        assert_eq!(svg.matches("\n0\n").count(), 1, "{svg}");
        assert_eq!(svg.matches("\n1\n").count(), 2, "{svg}");
    }
}
