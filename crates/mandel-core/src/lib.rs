//! The contract of the mandel workspace: the `MandelKernel` trait, frames, scenes, and the
//! reference implementation that defines correct output bit for bit, in f64 and in f32.
//!
//! # The numeric contract
//!
//! Every kernel computes, for each pixel of a frame, the escape count defined here, in its
//! precision `P` (`f64` or `f32`). A kernel that declares itself exact must match
//! [`reference`] bit for bit; the conformance kit (`mandel-testkit`) checks that.
//!
//! 1. **Grid.** Round the four bounds to `P`. Then, in `P`,
//!    `dx = (x_max - x_min) / width` and `dy = (y_max - y_min) / height`.
//! 2. **Coordinates.** Pixel `(i, j)`, row 0 at the top, is
//!    `c = (x_min + P(i)*dx, y_max - P(j)*dy)`: multiply, then add or subtract, each rounded in
//!    `P`. Coordinates are never accumulated (`x += dx`), and a band of rows keeps the whole
//!    frame's origin ([`Grid`] is the one place this is written).
//! 3. **Iteration.** `z = 0`; for `n` in `0..max_iter`:
//!    `zr' = (zr*zr - zi*zi) + cr`, `zi' = (zr*zi + zi*zr) + ci`, every product, sum and
//!    difference rounded separately in `P` (no fused multiply-add, no reassociation).
//!    If `zr'*zr' + zi'*zi' > 4` the count is `n`. `zr*zi + zi*zr` may be written `p + p` with
//!    `p = zr*zi`; beware that `(2*zr)*zi` differs when `p` is subnormal.
//! 4. **Interior.** A pixel that never escapes gets `max_iter`; `max_iter = 0` is valid and
//!    gives 0 everywhere.
//! 5. **Work.** A frame's work is its [`pixel_iterations`]: `count + 1` per escaped pixel,
//!    `max_iter` per interior pixel. Throughput is pixel-iterations per second.
//!
//! A viewport that cannot be represented in `P` (bounds that round together, a pixel step that
//! is zero or not finite) is refused with a [`FrameError`]; it never produces wrong counts.
//!
//! # Code map
//! - [`Viewport`], [`Frame`], [`Grid`]: what to compute and the coordinates of every pixel.
//! - [`MandelKernel`]: what every rung implements; [`Availability`], [`KernelError`].
//! - [`reference`], [`ReferenceKernel`]: the contract as code.
//! - [`SCENES`]: named frames shared by tests, race and benches.

mod frame;
mod kernel;
mod real;
mod reference;
mod scene;
mod work;

pub use frame::{Frame, FrameError, Grid, Viewport, MAX_PIXELS};
pub use kernel::{is_valid_kernel_name, Availability, KernelError, MandelKernel, INEXACT_TOLERANCE};
pub use real::{Precision, Real};
pub use reference::{escape_count, reference, reference_counts, reference_kernels, ReferenceKernel};
pub use scene::{Scene, SCENES};
pub use work::{pixel_iterations, throughput};
