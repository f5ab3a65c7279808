//! Charts as inline SVG: rectangles, lines and text sized by a `viewBox`, so they scale with
//! the page, print, and need no script or font from anywhere.
//!
//! Geometry is integer arithmetic on yen (`i128` for the products), so no amount passes
//! through floating point; a pixel is fine enough that rounding down is invisible. Each bar
//! carries a `<title>`, which browsers show as a tooltip with the exact amount.

use std::fmt::Write;

use super::html::escape;
use super::yen;

/// One bar: its axis label, the tooltip with exact figures, and its value.
pub struct Bar {
    pub label: String,
    pub tooltip: String,
    pub value_jpy: i64,
    /// Written after the bar in a `rows` chart; unused by `columns`.
    pub caption: String,
    /// Drawn in a quieter colour, such as a weekend day.
    pub quiet: bool,
}

const WIDTH: i64 = 1000;
const TICKS: i64 = 4;

/// The smallest of 1, 2 or 5 times a power of ten that, taken `TICKS` times, reaches `max`.
pub fn nice_step(max_jpy: i64) -> i64 {
    if max_jpy <= 0 {
        return 1;
    }
    let rough = (max_jpy - 1) / TICKS + 1;
    let mut magnitude: i64 = 1;
    while magnitude <= rough / 10 {
        magnitude *= 10;
    }
    [1, 2, 5, 10]
        .into_iter()
        .map(|factor| magnitude.saturating_mul(factor))
        .find(|step| *step >= rough)
        .unwrap_or(rough)
}

/// `value` of `axis_max` as a length of `span` pixels, rounded down.
fn scaled(value_jpy: i64, axis_max_jpy: i64, span_px: i64) -> i64 {
    if axis_max_jpy <= 0 {
        return 0;
    }
    let clamped = i128::from(value_jpy.clamp(0, axis_max_jpy));
    (clamped * i128::from(span_px) / i128::from(axis_max_jpy)) as i64
}

/// Vertical columns over a horizontal axis of labels (the days of a month).
pub fn columns(label: &str, bars: &[Bar], colour: &str) -> String {
    let (left, right, top, bottom) = (104, 12, 12, 30);
    let height = 260;
    let plot_width = WIDTH - left - right;
    let plot_height = height - top - bottom;
    let max_jpy = bars.iter().map(|b| b.value_jpy).max().unwrap_or(0);
    let step = nice_step(max_jpy);
    let axis_max = step * TICKS;
    let slot = plot_width / (bars.len().max(1) as i64);
    let bar_width = (slot * 7 / 10).max(1);

    let mut svg = open_svg(label, height);
    for tick in 0..=TICKS {
        let y = top + plot_height - scaled(step * tick, axis_max, plot_height);
        let _ = write!(
            svg,
            r##"<line x1="{left}" y1="{y}" x2="{}" y2="{y}" stroke="#e4e7eb"/>"##,
            WIDTH - right
        );
        let tick_label = Text {
            x: left - 8,
            y: y + 4,
            anchor: "end",
            size: 12,
            fill: "#616e7c",
        };
        tick_label.write(&mut svg, &yen(step * tick));
    }
    for (index, bar) in bars.iter().enumerate() {
        let slot_left = left + slot * index as i64;
        let bar_height = scaled(bar.value_jpy, axis_max, plot_height);
        let x = slot_left + (slot - bar_width) / 2;
        let y = top + plot_height - bar_height;
        write_rect(
            &mut svg,
            (x, y, bar_width, bar_height),
            colour,
            &bar.tooltip,
        );
        let day_label = Text {
            x: slot_left + slot / 2,
            y: height - bottom + 16,
            anchor: "middle",
            size: 11,
            fill: if bar.quiet { "#9aa5b1" } else { "#3e4c59" },
        };
        day_label.write(&mut svg, &bar.label);
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars, one row per label, each with its value written after it.
pub fn rows(label: &str, bars: &[Bar], colour: &str) -> String {
    let (left, right, top, row_height) = (190, 250, 6, 36);
    let height = top * 2 + row_height * bars.len().max(1) as i64;
    let bar_area = WIDTH - left - right;
    let max_jpy = bars.iter().map(|b| b.value_jpy).max().unwrap_or(0);

    let mut svg = open_svg(label, height);
    for (index, bar) in bars.iter().enumerate() {
        let y = top + row_height * index as i64;
        let length = scaled(bar.value_jpy, max_jpy, bar_area).max(2);
        let baseline = y + row_height / 2 + 5;
        let row_label = Text {
            x: left - 10,
            y: baseline,
            anchor: "end",
            size: 15,
            fill: "#3e4c59",
        };
        row_label.write(&mut svg, &bar.label);
        let bar_box = (left, y + 5, length, row_height - 10);
        write_rect(&mut svg, bar_box, colour, &bar.tooltip);
        let caption = Text {
            x: left + length + 8,
            y: baseline,
            anchor: "start",
            size: 15,
            fill: "#1f2933",
        };
        caption.write(&mut svg, &bar.caption);
    }
    svg.push_str("</svg>");
    svg
}

fn open_svg(label: &str, height: i64) -> String {
    let label = escape(label);
    format!(
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {height}\" width=\"100%\" role=\"img\" \
         aria-label=\"{label}\" xmlns=\"http://www.w3.org/2000/svg\" \
         font-family=\"inherit\"><title>{label}</title>"
    )
}

/// Where and how a piece of text is drawn.
struct Text {
    x: i64,
    y: i64,
    anchor: &'static str,
    size: u32,
    fill: &'static str,
}

impl Text {
    fn write(&self, svg: &mut String, content: &str) {
        let Text {
            x,
            y,
            anchor,
            size,
            fill,
        } = self;
        let _ = write!(
            svg,
            "<text x=\"{x}\" y=\"{y}\" text-anchor=\"{anchor}\" font-size=\"{size}\" \
             fill=\"{fill}\">{}</text>",
            escape(content)
        );
    }
}

/// A bar, `(x, y, width, height)` in pixels, with its exact figures as a tooltip.
fn write_rect(
    svg: &mut String,
    (x, y, width, height): (i64, i64, i64, i64),
    fill: &str,
    tip: &str,
) {
    let _ = write!(
        svg,
        "<rect x=\"{x}\" y=\"{y}\" width=\"{width}\" height=\"{height}\" fill=\"{fill}\" \
         rx=\"2\"><title>{}</title></rect>",
        escape(tip)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_steps_are_round_numbers_that_cover_the_largest_bar() {
        for (max_jpy, step) in [
            (0, 1),
            (3, 1),
            (4, 1),
            (5, 2),
            (1_000, 250 * 2),
            (12_345, 5_000),
            (40_000, 10_000),
            (40_001, 20_000),
            (9_876_543, 5_000_000),
        ] {
            assert_eq!(nice_step(max_jpy), step, "max ¥{max_jpy}");
            assert!(nice_step(max_jpy) * TICKS >= max_jpy, "max ¥{max_jpy}");
        }
    }

    #[test]
    fn a_bar_never_leaves_the_plot() {
        assert_eq!(scaled(50, 100, 200), 100);
        assert_eq!(scaled(-5, 100, 200), 0);
        assert_eq!(scaled(500, 100, 200), 200);
        assert_eq!(scaled(i64::MAX, i64::MAX, 200), 200);
        assert_eq!(scaled(7, 0, 200), 0);
    }
}
