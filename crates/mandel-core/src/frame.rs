//! Viewports, frames, row bands and the per-precision pixel grid: where every coordinate comes from.

use std::ops::Range;

use crate::real::{Precision, Real};
use crate::KernelError;

/// The largest frame accepted, in pixels: 2³⁰, a 4 GiB buffer of `u32` counts (32768 × 32768).
pub const MAX_PIXELS: u64 = 1 << 30;

/// Why a viewport or frame was refused. Every message is one line a person can act on.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FrameError {
    /// Width or height is zero.
    #[error("frame size {width}x{height} is empty: width and height must be at least 1")]
    Empty {
        /// Requested width.
        width: u32,
        /// Requested height.
        height: u32,
    },
    /// More pixels than [`MAX_PIXELS`].
    #[error(
        "frame size {width}x{height} has {pixels} pixels, more than the limit of {MAX_PIXELS} \
         (a 4 GiB buffer of counts)"
    )]
    TooLarge {
        /// Requested width.
        width: u32,
        /// Requested height.
        height: u32,
        /// `width * height`.
        pixels: u64,
    },
    /// A coordinate or span is NaN or infinite.
    #[error("{what} is {value:?}: coordinates and spans must be finite numbers")]
    NotFinite {
        /// Which input.
        what: &'static str,
        /// Its value.
        value: f64,
    },
    /// `min >= max` on an axis.
    #[error(
        "{axis} bounds are inverted or empty: {axis}_min ({min:?}) must be less than {axis}_max ({max:?})"
    )]
    Inverted {
        /// `'x'` or `'y'`.
        axis: char,
        /// The lower bound given.
        min: f64,
        /// The upper bound given.
        max: f64,
    },
    /// A span that is not positive.
    #[error("span {value:?} must be greater than zero")]
    NonPositiveSpan {
        /// The span given.
        value: f64,
    },
    /// The axis range cannot be represented in the precision (bounds round together,
    /// overflow, or the pixel step is zero or not finite).
    #[error("the {axis} range [{min:?}, {max:?}] cannot be used in {precision}: {reason} ({advice})", advice = advice(.precision))]
    Unrepresentable {
        /// `'x'` or `'y'`.
        axis: char,
        /// The lower bound given.
        min: f64,
        /// The upper bound given.
        max: f64,
        /// The precision asked for.
        precision: Precision,
        /// What went wrong in that precision.
        reason: &'static str,
    },
    /// A span so small that the bounds around the centre round to the same `f64`.
    #[error("span {span:?} is too small to resolve around {center:?} in f64: the bounds round together")]
    SpanTooSmall {
        /// The span given.
        span: f64,
        /// The centre coordinate on the collapsed axis.
        center: f64,
    },
    /// A band outside its frame, or empty.
    #[error("rows {start}..{end} are not a non-empty part of the frame's rows {frame_start}..{frame_end}")]
    BadBand {
        /// First row asked for.
        start: u32,
        /// One past the last row asked for.
        end: u32,
        /// The frame's first row.
        frame_start: u32,
        /// One past the frame's last row.
        frame_end: u32,
    },
}

/// What to do about a range that `precision` cannot represent: f32 can hand over to f64; f64
/// has nothing more precise to suggest.
fn advice(precision: &Precision) -> &'static str {
    match precision {
        Precision::F32 => "zoom out, or use an f64 kernel",
        Precision::F64 => "f64 cannot resolve it: choose a range that is neither this large nor this narrow",
    }
}

/// A validated rectangle of the complex plane, sampled on `width × height` pixels.
///
/// Fields are private: every `Viewport` in existence has finite, ordered bounds and a size
/// between 1 and [`MAX_PIXELS`] pixels. Whether it can be computed in `f32` is a separate
/// question, answered by [`Frame::grid`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Viewport {
    x_min: f64,
    x_max: f64,
    y_min: f64,
    y_max: f64,
    width: u32,
    height: u32,
}

impl Viewport {
    /// A viewport from its bounds: `x_min < x_max`, `y_min < y_max`, all finite.
    pub fn from_bounds(
        x_min: f64,
        x_max: f64,
        y_min: f64,
        y_max: f64,
        width: u32,
        height: u32,
    ) -> Result<Self, FrameError> {
        check_size(width, height)?;
        for (what, value) in [("x_min", x_min), ("x_max", x_max), ("y_min", y_min), ("y_max", y_max)] {
            check_finite(what, value)?;
        }
        for (axis, min, max) in [('x', x_min, x_max), ('y', y_min, y_max)] {
            if min >= max {
                return Err(FrameError::Inverted { axis, min, max });
            }
        }
        Ok(Viewport { x_min, x_max, y_min, y_max, width, height })
    }

    /// A viewport centred on `(center_x, center_y)`, `span_x` wide; the height of the view
    /// follows from the pixel size so that pixels are square.
    pub fn from_center(
        center_x: f64,
        center_y: f64,
        span_x: f64,
        width: u32,
        height: u32,
    ) -> Result<Self, FrameError> {
        check_size(width, height)?;
        check_finite("center x", center_x)?;
        check_finite("center y", center_y)?;
        check_finite("span", span_x)?;
        if span_x <= 0.0 {
            return Err(FrameError::NonPositiveSpan { value: span_x });
        }
        let span_y = span_x * f64::from(height) / f64::from(width);
        let (half_x, half_y) = (span_x / 2.0, span_y / 2.0);
        for (center, half, span) in [(center_x, half_x, span_x), (center_y, half_y, span_y)] {
            if center - half >= center + half {
                return Err(FrameError::SpanTooSmall { span, center });
            }
        }
        Self::from_bounds(
            center_x - half_x,
            center_x + half_x,
            center_y - half_y,
            center_y + half_y,
            width,
            height,
        )
    }

    /// Left edge.
    pub fn x_min(&self) -> f64 {
        self.x_min
    }
    /// Right edge (exclusive: pixel `i` sits at `x_min + i * dx`).
    pub fn x_max(&self) -> f64 {
        self.x_max
    }
    /// Bottom edge (exclusive).
    pub fn y_min(&self) -> f64 {
        self.y_min
    }
    /// Top edge: row 0.
    pub fn y_max(&self) -> f64 {
        self.y_max
    }
    /// Pixels per row.
    pub fn width(&self) -> u32 {
        self.width
    }
    /// Rows.
    pub fn height(&self) -> u32 {
        self.height
    }
    /// `width * height` (fits in `usize`: checked on construction).
    pub fn pixel_count(&self) -> usize {
        self.width as usize * self.height as usize
    }
}

fn check_size(width: u32, height: u32) -> Result<(), FrameError> {
    if width == 0 || height == 0 {
        return Err(FrameError::Empty { width, height });
    }
    let pixels = u64::from(width) * u64::from(height);
    // The buffer must also be addressable: on 32-bit targets usize is the tighter limit.
    let addressable = (usize::MAX / std::mem::size_of::<u32>()) as u64;
    if pixels > MAX_PIXELS || pixels > addressable {
        return Err(FrameError::TooLarge { width, height, pixels });
    }
    Ok(())
}

fn check_finite(what: &'static str, value: f64) -> Result<(), FrameError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(FrameError::NotFinite { what, value })
    }
}

/// One unit of work: a viewport, an iteration limit, and the rows of it to compute.
///
/// A whole frame covers rows `0..height`. A band ([`Frame::band`], [`Frame::bands`]) covers
/// fewer rows but keeps the whole frame's origin and pixel step, so pixel `(i, j)` of a band has
/// exactly the coordinates it has in the whole frame (re-basing a band at its own top edge
/// would change the rounding). The output of a frame is `width * rows().len()` counts, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    viewport: Viewport,
    max_iter: u32,
    rows: Range<u32>,
}

impl Frame {
    /// The whole viewport at `max_iter` iterations (`0` is valid: every count is then 0).
    pub fn new(viewport: Viewport, max_iter: u32) -> Self {
        let rows = 0..viewport.height;
        Frame { viewport, max_iter, rows }
    }

    /// The viewport this frame samples (the whole one, also for a band).
    pub fn viewport(&self) -> &Viewport {
        &self.viewport
    }
    /// The iteration limit; a pixel that never escapes gets this count.
    pub fn max_iter(&self) -> u32 {
        self.max_iter
    }
    /// Pixels per row.
    pub fn width(&self) -> u32 {
        self.viewport.width
    }
    /// The rows this frame covers, as global row indices (row 0 is the top of the viewport).
    pub fn rows(&self) -> Range<u32> {
        self.rows.clone()
    }
    /// Whether this frame covers every row of its viewport.
    pub fn is_whole(&self) -> bool {
        self.rows == (0..self.viewport.height)
    }
    /// Pixels in this frame (or band): the length its output buffer must have.
    pub fn pixel_count(&self) -> usize {
        self.width() as usize * self.rows.len()
    }

    /// The band of rows `rows` (global indices), which must be a non-empty part of this frame's.
    pub fn band(&self, rows: Range<u32>) -> Result<Frame, FrameError> {
        if rows.start >= rows.end || rows.start < self.rows.start || rows.end > self.rows.end {
            return Err(FrameError::BadBand {
                start: rows.start,
                end: rows.end,
                frame_start: self.rows.start,
                frame_end: self.rows.end,
            });
        }
        Ok(Frame { viewport: self.viewport, max_iter: self.max_iter, rows })
    }

    /// This frame cut into consecutive bands of `rows_per_band` rows (the last may be shorter;
    /// `0` is taken as 1). Their outputs, concatenated, are this frame's output.
    pub fn bands(&self, rows_per_band: u32) -> impl ExactSizeIterator<Item = Frame> + '_ {
        let step = rows_per_band.max(1);
        let count = self.rows.len().div_ceil(step as usize);
        (0..count).map(move |k| {
            let start = self.rows.start + k as u32 * step;
            let end = start.saturating_add(step).min(self.rows.end);
            Frame { viewport: self.viewport, max_iter: self.max_iter, rows: start..end }
        })
    }

    /// The pixel grid of this frame in precision `R`, or why the viewport cannot be
    /// computed in `R` (for example a deep zoom whose bounds round together in `f32`).
    pub fn grid<R: Real>(&self) -> Result<Grid<R>, FrameError> {
        let v = &self.viewport;
        let (x_min, dx) = axis::<R>('x', v.x_min, v.x_max, v.width)?;
        let (_, dy) = axis::<R>('y', v.y_min, v.y_max, v.height)?;
        Ok(Grid {
            x_min,
            y_max: R::from_f64(v.y_max),
            dx,
            dy,
            width: v.width,
            rows: self.rows.clone(),
            max_iter: self.max_iter,
        })
    }

    /// Whether this frame can be computed in `precision` (see [`Frame::grid`]).
    pub fn check_precision(&self, precision: Precision) -> Result<(), FrameError> {
        match precision {
            Precision::F64 => self.grid::<f64>().map(drop),
            Precision::F32 => self.grid::<f32>().map(drop),
        }
    }

    /// `Ok` when `len` is exactly [`Frame::pixel_count`].
    pub fn check_output_len(&self, len: usize) -> Result<(), KernelError> {
        let expected = self.pixel_count();
        if len == expected {
            Ok(())
        } else {
            Err(KernelError::OutputLength { expected, actual: len })
        }
    }
}

/// `x [x_min, x_max] y [y_min, y_max] WxH max_iter N`, plus `rows a..b` for a band; bounds are
/// printed so that they parse back to the same `f64`.
impl std::fmt::Display for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = &self.viewport;
        write!(
            f,
            "x [{:?}, {:?}] y [{:?}, {:?}] {}x{} max_iter {}",
            v.x_min, v.x_max, v.y_min, v.y_max, v.width, v.height, self.max_iter
        )?;
        if !self.is_whole() {
            write!(f, " rows {}..{}", self.rows.start, self.rows.end)?;
        }
        Ok(())
    }
}

/// One axis in precision `R`: its lower bound rounded to `R` and its pixel step.
fn axis<R: Real>(axis: char, min: f64, max: f64, pixels: u32) -> Result<(R, R), FrameError> {
    let unrepresentable =
        |reason| FrameError::Unrepresentable { axis, min, max, precision: R::PRECISION, reason };
    let (lo, hi) = (R::from_f64(min), R::from_f64(max));
    if !lo.is_finite() || !hi.is_finite() {
        return Err(unrepresentable("a bound overflows"));
    }
    if lo >= hi {
        return Err(unrepresentable("its bounds round to the same value"));
    }
    let step = (hi - lo) / R::from_u32(pixels);
    if !step.is_finite() {
        return Err(unrepresentable("the pixel step overflows"));
    }
    if step <= R::ZERO {
        return Err(unrepresentable("the pixel step rounds to zero"));
    }
    Ok((lo, step))
}

/// The pixel coordinates of a frame in precision `R`: the only place coordinates come from.
///
/// `cx(i) = x_min + R(i) * dx` and `cy(j) = y_max - R(j) * dy`, each operation rounded in `R`,
/// with `j` the global row index. A vectorised kernel may evaluate the same two operations per
/// lane; any other formula (accumulating `x += dx`, re-basing a band) changes the rounding.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid<R> {
    x_min: R,
    y_max: R,
    dx: R,
    dy: R,
    width: u32,
    rows: Range<u32>,
    max_iter: u32,
}

impl<R: Real> Grid<R> {
    /// The grid of `frame` in precision `R`, after checking that `out` fits the frame exactly.
    /// This is the first line of most kernels' `compute`.
    pub fn checked(frame: &Frame, out: &[u32]) -> Result<Self, KernelError> {
        let grid = frame.grid::<R>()?;
        frame.check_output_len(out.len())?;
        Ok(grid)
    }

    /// Real part of the pixels in column `i`.
    #[inline(always)]
    pub fn cx(&self, i: u32) -> R {
        self.x_min + R::from_u32(i) * self.dx
    }
    /// Imaginary part of the pixels in global row `j`.
    #[inline(always)]
    pub fn cy(&self, j: u32) -> R {
        self.y_max - R::from_u32(j) * self.dy
    }
    /// The left edge, rounded to `R`.
    pub fn x_min(&self) -> R {
        self.x_min
    }
    /// The top edge, rounded to `R`.
    pub fn y_max(&self) -> R {
        self.y_max
    }
    /// Pixel step along x, in `R`.
    pub fn dx(&self) -> R {
        self.dx
    }
    /// Pixel step along y, in `R`.
    pub fn dy(&self) -> R {
        self.dy
    }
    /// Pixels per row.
    pub fn width(&self) -> u32 {
        self.width
    }
    /// The global rows covered.
    pub fn rows(&self) -> Range<u32> {
        self.rows.clone()
    }
    /// The iteration limit.
    pub fn max_iter(&self) -> u32 {
        self.max_iter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classic() -> Frame {
        Frame::new(Viewport::from_bounds(-2.13, 0.77, -1.3, 1.3, 1000, 1000).unwrap(), 1000)
    }

    #[test]
    fn bad_viewports_are_typed_errors() {
        let bad = [
            Viewport::from_bounds(-1.0, 1.0, -1.0, 1.0, 0, 10),
            Viewport::from_bounds(-1.0, 1.0, -1.0, 1.0, 10, 0),
            Viewport::from_bounds(1.0, 0.0, 0.0, 1.0, 10, 10),
            Viewport::from_bounds(0.0, 1.0, 1.0, 1.0, 10, 10),
            Viewport::from_bounds(f64::NAN, 1.0, 0.0, 1.0, 10, 10),
            Viewport::from_bounds(0.0, f64::INFINITY, 0.0, 1.0, 10, 10),
            Viewport::from_bounds(0.0, 1.0, f64::NEG_INFINITY, 1.0, 10, 10),
            Viewport::from_bounds(0.0, 1.0, 0.0, 1.0, 200_000, 200_000),
            Viewport::from_bounds(0.0, 1.0, 0.0, 1.0, u32::MAX, u32::MAX),
            Viewport::from_center(0.0, 0.0, 0.0, 10, 10),
            Viewport::from_center(0.0, 0.0, -1.0, 10, 10),
            Viewport::from_center(0.0, f64::NAN, 1.0, 10, 10),
            Viewport::from_center(0.0, 0.0, f64::INFINITY, 10, 10),
        ];
        for result in bad {
            let err = result.unwrap_err();
            let message = err.to_string();
            assert!(!message.contains('\n'), "one line: {message}");
        }
    }

    #[test]
    fn largest_accepted_frame_is_the_limit() {
        assert!(Viewport::from_bounds(0.0, 1.0, 0.0, 1.0, 32768, 32768).is_ok());
        assert!(matches!(
            Viewport::from_bounds(0.0, 1.0, 0.0, 1.0, 32768, 32769),
            Err(FrameError::TooLarge { .. })
        ));
    }

    #[test]
    fn a_span_below_the_resolution_of_f64_says_so() {
        let err = Viewport::from_center(1.0, 0.0, 1e-20, 10, 10).unwrap_err();
        assert_eq!(err, FrameError::SpanTooSmall { span: 1e-20, center: 1.0 });
        assert!(err.to_string().contains("too small"), "{err}");
    }

    #[test]
    fn center_constructor_gives_square_pixels() {
        let v = Viewport::from_center(-0.5, 0.25, 2.0, 200, 100).unwrap();
        assert_eq!((v.x_min(), v.x_max(), v.y_min(), v.y_max()), (-1.5, 0.5, -0.25, 0.75));
    }

    #[test]
    fn grid_follows_the_contract_formula() {
        let frame = classic();
        let g = frame.grid::<f64>().unwrap();
        let dx = (0.77 - -2.13) / 1000.0;
        let dy = (1.3 - -1.3) / 1000.0;
        assert_eq!(g.dx(), dx);
        assert_eq!(g.dy(), dy);
        assert_eq!(g.cx(417), -2.13 + 417.0 * dx);
        assert_eq!(g.cy(999), 1.3 - 999.0 * dy);
        let g32 = frame.grid::<f32>().unwrap();
        let dx32 = (0.77f32 - -2.13f32) / 1000.0f32;
        assert_eq!(g32.cx(417), -2.13f32 + 417.0f32 * dx32);
    }

    #[test]
    fn precision_limits_are_errors_not_garbage() {
        // A 1e-12 span around 0.74 is fine in f64 and vanishes in f32.
        let deep = Frame::new(Viewport::from_center(-0.74, 0.13, 1e-12, 100, 100).unwrap(), 100);
        assert!(deep.check_precision(Precision::F64).is_ok());
        let err = deep.check_precision(Precision::F32).unwrap_err();
        assert!(err.to_string().contains("f32"), "{err}");
        // Bounds that overflow f32.
        let huge = Frame::new(Viewport::from_bounds(-1e39, 1e39, -1.0, 1.0, 10, 10).unwrap(), 10);
        assert!(huge.check_precision(Precision::F32).is_err());
        // A range so wide the step overflows f64.
        let wide = Frame::new(Viewport::from_bounds(-1.7e308, 1.7e308, -1.0, 1.0, 10, 10).unwrap(), 10);
        assert!(wide.check_precision(Precision::F64).is_err());
        // A step that underflows to zero.
        let tiny = Frame::new(Viewport::from_bounds(0.0, 1e-322, 0.0, 1.0, 1000, 10).unwrap(), 10);
        assert!(tiny.check_precision(Precision::F64).is_err());
    }

    #[test]
    fn bands_tile_the_frame_and_keep_global_rows() {
        let frame = classic();
        let bands: Vec<_> = frame.bands(7).collect();
        assert_eq!(bands.len(), 143);
        assert_eq!(bands[0].rows(), 0..7);
        assert_eq!(bands[142].rows(), 994..1000);
        assert_eq!(bands.iter().map(Frame::pixel_count).sum::<usize>(), frame.pixel_count());
        // A band's grid uses global row indices: row 700 of band 100 sits where the contract puts it.
        let band = bands[100].grid::<f64>().unwrap();
        assert_eq!(band.rows(), 700..707);
        assert_eq!(band.cy(700), 1.3 - 700.0 * ((1.3 - -1.3) / 1000.0));
        assert!(!bands[100].is_whole() && frame.is_whole());
        let nested: Vec<_> = bands[1].bands(3).map(|b| b.rows()).collect();
        assert_eq!(nested, vec![7..10, 10..13, 13..14]);
    }

    #[test]
    fn bad_bands_are_refused() {
        let frame = classic();
        assert!(frame.band(10..10).is_err());
        assert!(frame.band(990..1001).is_err());
        let band = frame.band(100..200).unwrap();
        assert!(band.band(50..150).is_err());
        assert!(band.band(150..160).is_ok());
    }

    #[test]
    fn output_length_is_checked() {
        let frame = classic();
        assert!(frame.check_output_len(1_000_000).is_ok());
        assert!(matches!(
            frame.check_output_len(999_999),
            Err(KernelError::OutputLength { expected: 1_000_000, actual: 999_999 })
        ));
    }
}
