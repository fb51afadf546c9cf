//! The race as a picture: one horizontal bar per ranked kernel, its speedup over the baseline
//! on a log axis (a ladder of rungs spans three orders of magnitude), drawn as SVG. The bars
//! are the only rectangles in the bar colours, which is how the tests count them.

use mandel_core::Precision;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::report::{thousands, RaceReport};

/// Bar colour of f64 kernels (Paul Tol's colour-blind-safe blue).
pub const F64_COLOUR: RGBColor = RGBColor(0x44, 0x77, 0xAA);
/// Bar colour of f32 kernels (Tol's orange).
pub const F32_COLOUR: RGBColor = RGBColor(0xEE, 0x77, 0x33);

/// The SVG text of the speedup chart. Fails when nothing has a speedup (the baseline was not
/// verified and timed), since an empty chart would mislead.
pub fn speedup_chart(report: &RaceReport) -> Result<String, String> {
    let bars: Vec<(&str, Precision, f64)> =
        report.kernels.iter().filter_map(|k| Some((k.name.as_str(), k.precision, k.speedup?))).collect();
    if bars.is_empty() {
        return Err(format!(
            "cannot draw speedups: the baseline `{}` was not verified and timed",
            report.baseline
        ));
    }
    let smallest = bars.iter().map(|b| b.2).fold(1.0, f64::min);
    let largest = bars.iter().map(|b| b.2).fold(1.0, f64::max);
    // Room on the left for bars below 1x and on the right for the value labels.
    let x_range = (smallest / 2.0).min(0.5)..(largest * 4.0).max(4.0);
    let count = bars.len() as u32;
    let height = 140 + 44 * count;
    // `body` starts 50 pixels down the picture; backend coordinates count from the top.
    let f = &report.frame;
    let caption = format!(
        "Speedup over {} — {} {}x{}, max_iter {}, {} pixel-iterations",
        report.baseline,
        f.scene,
        f.width,
        f.height,
        f.max_iter,
        thousands(f.pixel_iterations)
    );
    let subtitle = format!(
        "{}, {} threads, SIMD up to {}; {}; {}. Bars: blue f64, orange f32; the line marks 1×.",
        report.provenance.cpu_named(),
        report.provenance.threads,
        report.provenance.widest_simd(),
        report.provenance.rustc,
        report.provenance.date
    );
    let label_width = bars.iter().map(|b| b.0.len() as u32).max().unwrap_or(0) * 8 + 20;

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, height)).into_drawing_area();
        let error = |e: DrawingAreaErrorKind<_>| e.to_string();
        root.fill(&WHITE).map_err(error)?;
        let (top, body) = root.split_vertically(50);
        top.draw(&Text::new(caption, (10, 6), ("sans-serif", 17).into_font())).map_err(error)?;
        top.draw(&Text::new(subtitle, (10, 28), ("sans-serif", 12).into_font().color(&BLACK.mix(0.6))))
            .map_err(error)?;
        let mut chart = ChartBuilder::on(&body)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(label_width)
            .build_cartesian_2d(x_range.clone().log_scale(), 0.0..f64::from(count))
            .map_err(error)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc(format!("speedup over {} (× faster, log scale)", report.baseline))
            .x_label_formatter(&|x| format!("{x}×"))
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(error)?;
        // Row k (the first kernel at the top, as in the table) spans y in [top - 1, top).
        let top = |k: usize| f64::from(count) - k as f64;
        for (precision, colour) in [(Precision::F64, F64_COLOUR), (Precision::F32, F32_COLOUR)] {
            let series = bars.iter().enumerate().filter(|(_, b)| b.1 == precision).map(|(k, b)| {
                // From the axis' start, as bars go (one from 1x would make the baseline's
                // invisible); the line at 1x shows which kernels are slower than the baseline.
                Rectangle::new([(x_range.start, top(k) - 0.85), (b.2, top(k) - 0.15)], colour.filled())
            });
            chart.draw_series(series).map_err(error)?;
        }
        let left = TextStyle::from(("sans-serif", 13).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
        chart
            .draw_series(bars.iter().enumerate().map(|(k, b)| {
                Text::new(format!(" {:.1}× ({})", b.2, b.1), (b.2, top(k) - 0.5), left.clone())
            }))
            .map_err(error)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(1.0, 0.0), (1.0, f64::from(count))],
                BLACK.mix(0.5).stroke_width(1),
            )))
            .map_err(error)?;
        // Kernel names to the left of the plot, level with their bars.
        let right = TextStyle::from(("sans-serif", 13).into_font()).pos(Pos::new(HPos::Right, VPos::Center));
        for (k, bar) in bars.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(x_range.start, top(k) - 0.5));
            body.draw(&Text::new(bar.0.to_string(), (x - 8, y - 50), right.clone())).map_err(error)?;
        }
        root.present().map_err(error)?;
    }
    Ok(svg)
}
