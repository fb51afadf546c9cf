//! The conformance kit: every kernel proves itself against the reference with one line.
//!
//! In a kernel crate's `tests/conformance.rs`:
//!
//! ```text
//! mandel_testkit::conformance!(hoisted => kernel_hoisted::Hoisted);
//! ```
//!
//! That line generates one `#[test]` per check below. Each check is an ordinary function
//! that returns `Result<(), Failure>`, so the kit's own tests can call them on deliberately
//! wrong kernels and assert that they are rejected (see `tests/wrong_kernels.rs`).
//!
//! Counts are compared with the reference of the kernel's own precision. A kernel that
//! declares itself exact must match bit for bit; one that does not may differ on at most
//! [`INEXACT_TOLERANCE`] of the pixels of a frame, but must still write every pixel with a
//! count no larger than `max_iter`.
//!
//! A kernel that is unavailable here (no GPU) skips its checks with a loud line on stderr;
//! with `MANDEL_REQUIRE_ALL=1` (CI sets it) the skip is a failure instead.

use std::collections::HashMap;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe, RefUnwindSafe};
use std::sync::{Arc, Mutex, OnceLock};

use mandel_core::{
    reference_counts, Availability, Frame, KernelError, MandelKernel, Precision, Viewport, SCENES,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};

#[doc(hidden)]
pub use mandel_core as __core;

/// How an [`FnKernel`] computes: any closure over a frame and its output buffer.
pub type Compute = dyn Fn(&Frame, &mut [u32]) -> Result<(), KernelError> + Send + Sync + RefUnwindSafe;

/// A kernel made of a closure, for tests that need a kernel with a particular flaw (the kit's
/// own self-tests, the race's) or a quick sketch of an idea. Vary one by struct update:
/// `FnKernel { exact: false, ..kernel }`.
pub struct FnKernel {
    /// Its name.
    pub name: &'static str,
    /// Its one-line description.
    pub description: &'static str,
    /// The precision it claims.
    pub precision: Precision,
    /// Whether it claims bit-exact output.
    pub exact: bool,
    /// `Some(reason)` to claim it cannot run here.
    pub unavailable: Option<&'static str>,
    /// What it does.
    pub compute: Box<Compute>,
}

impl MandelKernel for FnKernel {
    fn name(&self) -> &str {
        self.name
    }
    fn description(&self) -> &str {
        self.description
    }
    fn precision(&self) -> Precision {
        self.precision
    }
    fn is_exact(&self) -> bool {
        self.exact
    }
    fn availability(&self) -> Availability {
        self.unavailable.map_or(Availability::Ready, |reason| Availability::Unavailable(reason.into()))
    }
    fn compute(&self, frame: &Frame, out: &mut [u32]) -> Result<(), KernelError> {
        (self.compute)(frame, out)
    }
}

/// The fraction of a frame's pixels on which a kernel that is *not* exact may differ
/// (part of the contract, so it lives in `mandel-core`; the race applies it too).
pub use mandel_core::INEXACT_TOLERANCE;

/// The value output buffers are filled with before a kernel runs: no count can equal it,
/// since every frame checked here has `max_iter < u32::MAX`.
pub const SENTINEL: u32 = u32::MAX;

/// How many differing pixels a report lists.
const REPORTED: usize = 8;

/// The environment variable that turns a skipped (unavailable) kernel into a failure.
pub const REQUIRE_ALL_VAR: &str = "MANDEL_REQUIRE_ALL";

/// Why a kernel failed a check: a message that names the kernel, the frame and what differed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure(pub String);

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failure {}

/// The result of one check.
pub type Outcome = Result<(), Failure>;

/// A check: one property every kernel must have.
pub type Check = fn(&dyn MandelKernel) -> Outcome;

/// A named check, and whether it needs the kernel to be able to run here.
#[derive(Clone, Copy, Debug)]
pub struct CheckSpec {
    /// Its name, which is also the name of the test the macro generates.
    pub name: &'static str,
    /// The check.
    pub check: Check,
    /// `false` for checks that only read what a kernel says of itself, which run even when
    /// the kernel is unavailable here.
    pub needs_device: bool,
}

/// The seed of the random frames unless `PROPTEST_RNG_SEED` is set: fixed, so that a run is
/// reproducible and CI is not at the mercy of luck. Set the variable to explore other frames.
pub const DEFAULT_SEED: u64 = 0x6d61_6e64_656c; // "mandel"

macro_rules! fail {
    ($($arg:tt)*) => { Err(Failure(format!($($arg)*))) };
}

/// Every check, in the order the macro generates their tests (a generated test,
/// `every_check_has_a_test`, fails if the macro's list and this one drift apart).
pub const CHECKS: &[CheckSpec] = &[
    CheckSpec { name: "metadata", check: check_metadata, needs_device: false },
    CheckSpec { name: "bad_buffers", check: check_bad_buffers, needs_device: true },
    CheckSpec { name: "iteration_limits", check: check_iteration_limits, needs_device: true },
    CheckSpec { name: "long_orbits", check: check_long_orbits, needs_device: true },
    CheckSpec { name: "awkward_shapes", check: check_awkward_shapes, needs_device: true },
    CheckSpec { name: "every_pixel_written", check: check_every_pixel_written, needs_device: true },
    CheckSpec { name: "bands", check: check_bands, needs_device: true },
    CheckSpec { name: "scenes", check: check_scenes, needs_device: true },
    CheckSpec { name: "random_frames", check: check_random_frames, needs_device: true },
];

/// The check called `name`.
pub fn check_named(name: &str) -> Option<&'static CheckSpec> {
    CHECKS.iter().find(|spec| spec.name == name)
}

/// Runs every check and returns the first failure.
pub fn check_all(kernel: &dyn MandelKernel) -> Outcome {
    CHECKS.iter().try_for_each(|spec| (spec.check)(kernel))
}

/// The kernel's name is a kebab-case id and its description one non-empty line.
pub fn check_metadata(kernel: &dyn MandelKernel) -> Outcome {
    let name = kernel.name();
    if !mandel_core::is_valid_kernel_name(name) {
        return fail!(
            "kernel name `{name}` is not a kebab-case id (lowercase words and digits joined by '-')"
        );
    }
    let description = kernel.description();
    if description.trim().is_empty() || description.contains('\n') {
        return fail!("kernel `{name}`: the description must be one non-empty line, got {description:?}");
    }
    Ok(())
}

/// A buffer of the wrong length is an `Err`, not a panic and not a partial write.
pub fn check_bad_buffers(kernel: &dyn MandelKernel) -> Outcome {
    let frame = Frame::new(viewport(-2.0, 1.0, -1.5, 1.5, 7, 5), 50);
    for len in [0, 1, 34, 36, 70] {
        let mut out = vec![SENTINEL; len];
        let result = catch_unwind(AssertUnwindSafe(|| kernel.compute(&frame, &mut out)));
        match result {
            Err(_) => {
                return fail!("kernel `{}` panicked on a {len}-slot buffer for 35 pixels", kernel.name())
            }
            Ok(Ok(())) => {
                return fail!("kernel `{}` accepted a {len}-slot buffer for 35 pixels", kernel.name())
            }
            Ok(Err(_)) if out.iter().any(|&count| count != SENTINEL) => {
                return fail!(
                    "kernel `{}` returned Err for a {len}-slot buffer but wrote into it first",
                    kernel.name()
                )
            }
            Ok(Err(_)) => {}
        }
    }
    Ok(())
}

/// `max_iter` at its edges: 0 (every count 0), 1 and 2, and `u32::MAX` on points that escape at
/// once (a kernel that computes `max_iter + 1`, or counts in `i32`, fails here).
pub fn check_iteration_limits(kernel: &dyn MandelKernel) -> Outcome {
    let whole_set = viewport(-2.13, 0.77, -1.3, 1.3, 37, 23);
    for max_iter in [0, 1, 2, 3] {
        let frame = Frame::new(whole_set, max_iter);
        let expected = fresh_reference(&frame, kernel.precision())?;
        compare(kernel, &format!("max_iter {max_iter}"), &frame, &expected)?;
    }
    // Outside radius 2 every point escapes at n = 0, so this is instant for a correct kernel.
    let outside = Frame::new(viewport(3.0, 4.0, 2.5, 3.5, 19, 5), u32::MAX);
    let mut out = vec![1; outside.pixel_count()];
    compute(kernel, &outside, &mut out)?;
    if let Some(k) = out.iter().position(|&count| count != 0) {
        return fail!(
            "kernel `{}` gave count {} (expected 0) at pixel {k} of frame {outside}",
            kernel.name(),
            out[k]
        );
    }
    Ok(())
}

/// The iteration count a loop cap or watchdog budget is most likely to sit at: Mesa's llvmpipe
/// stops every shader loop after 65,535 iterations (`LP_MAX_TGSI_LOOP_ITERATIONS`), so a GPU
/// kernel that runs a whole orbit in one dispatch gets 65,535 where the reference counts on.
pub const LOOP_CAP: u32 = 65_535;

/// A frame of the long-orbit check: what it is for, its bounds, its size and its `max_iter`.
pub struct LongOrbitFrame {
    /// What its pixels are.
    pub label: &'static str,
    /// `[x_min, x_max, y_min, y_max]`.
    pub bounds: [f64; 4],
    /// `(width, height)`.
    pub size: (u32, u32),
    /// The iteration limit.
    pub max_iter: u32,
}

/// The long-orbit check's frames in `precision`: 16 pixels, about 5 million pixel-iterations,
/// so tens of milliseconds even for the naive rung. Near a parabolic point an orbit lingers
/// before it escapes: c = 1/4 + e escapes after about pi/sqrt(e) iterations, c = -3/4 + ei after
/// about pi/e. In f32 the rounded orbits near -3/4 mostly fall into cycles; the columns below
/// were chosen (with the f32 reference) because some of their pixels escape late all the same.
/// The check itself verifies, on the reference's counts, that every frame still has what it is
/// here for: escapes after more than [`LOOP_CAP`] iterations, or interior pixels far beyond it.
pub fn long_orbit_frames(precision: Precision) -> Vec<LongOrbitFrame> {
    let frame = |label, bounds, size, max_iter| LongOrbitFrame { label, bounds, size, max_iter };
    let mut frames = match precision {
        Precision::F64 => vec![
            // 104,717, 94,720, 87,129, 81,113, 76,192 iterations.
            frame(
                "slow escapes right of c = 1/4",
                [0.2500000009, 0.2500000019, -1e-10, 0.0],
                (5, 1),
                300_000,
            ),
            // 78,540, 104,720 and 157,080 iterations: pi's digits, c = -3/4 + ei.
            frame("slow escapes above c = -3/4", [-0.75, -0.7499999, 1e-5, 4e-5], (1, 3), 400_000),
        ],
        Precision::F32 => vec![
            // 49,606, 16,755, 67,939, 240,987 iterations.
            frame("slow escapes above c = -3/4", [-0.75, -0.7499999, 0.00018, 0.00019], (1, 4), 300_000),
            // 46,668, 140,310, 31,259, 78,352 iterations.
            frame("more slow escapes above c = -3/4", [-0.75, -0.7499999, 0.0002, 0.000202], (1, 4), 300_000),
        ],
    };
    // Interior in both precisions: the main cardioid and the period-2 bulb.
    frames.push(frame("interior of the main cardioid", [-0.3, 0.1, -0.2, 0.2], (2, 2), 1_000_000));
    frames.push(frame("interior of the period-2 bulb", [-1.1, -0.9, -0.1, 0.1], (2, 2), 100_000));
    frames
}

/// Orbits longer than any loop cap or watchdog budget: escapes after more than [`LOOP_CAP`]
/// iterations, and interior pixels at `max_iter` 100,000 and 1,000,000 ([`long_orbit_frames`]).
/// A kernel that stops its loop early (a GPU shader run in one dispatch on llvmpipe), keeps its
/// count in 16 bits, or resumes an interrupted orbit from the wrong state fails here; the other
/// checks use `max_iter` of at most a few thousand.
pub fn check_long_orbits(kernel: &dyn MandelKernel) -> Outcome {
    for spec in long_orbit_frames(kernel.precision()) {
        let [x_min, x_max, y_min, y_max] = spec.bounds;
        let frame = Frame::new(viewport(x_min, x_max, y_min, y_max, spec.size.0, spec.size.1), spec.max_iter);
        let expected = cached_reference(&format!("long orbits: {}", spec.label), &frame, kernel.precision());
        // The kit's own premise: a frame that no longer holds long orbits would prove nothing.
        let long = expected.iter().any(|&n| n > LOOP_CAP);
        if !long {
            return fail!(
                "the kit's long-orbit frame `{}` has no orbit longer than {LOOP_CAP} iterations in {} \
                 (a bug in the kit, not in kernel `{}`)",
                spec.label,
                kernel.precision(),
                kernel.name()
            );
        }
        compare(kernel, &format!("long orbits: {}", spec.label), &frame, &expected)?;
    }
    Ok(())
}

/// Every named scene the kernel's precision can represent matches the reference; a scene it
/// cannot represent (the deep zoom in f32) is refused with an `Err`.
pub fn check_scenes(kernel: &dyn MandelKernel) -> Outcome {
    for scene in SCENES {
        let frame = scene.frame();
        if scene.supports(kernel.precision()) {
            let expected = cached_reference(&format!("scene {}", scene.name()), &frame, kernel.precision());
            compare(kernel, &format!("scene `{}`", scene.name()), &frame, &expected)?;
        } else {
            let mut out = vec![SENTINEL; frame.pixel_count()];
            let result = catch_unwind(AssertUnwindSafe(|| kernel.compute(&frame, &mut out)));
            match result {
                Ok(Err(_)) => {}
                Ok(Ok(())) => {
                    return fail!(
                        "kernel `{}` computed scene `{}`, which {} cannot represent: it must return Err",
                        kernel.name(),
                        scene.name(),
                        kernel.precision()
                    )
                }
                Err(_) => {
                    return fail!(
                        "kernel `{}` panicked on scene `{}` instead of returning Err",
                        kernel.name(),
                        scene.name()
                    )
                }
            }
        }
    }
    Ok(())
}

/// 1×1, 1×N, N×1, and every width from 1 to 17 plus widths around vector sizes.
pub fn check_awkward_shapes(kernel: &dyn MandelKernel) -> Outcome {
    let mut shapes: Vec<(u32, u32)> =
        vec![(1, 1), (1, 2), (1, 7), (1, 64), (2, 1), (7, 1), (64, 1), (100, 1)];
    shapes.extend((1..=17).map(|width| (width, 3)));
    shapes.extend([31, 33, 47, 63, 65, 127, 129].map(|width| (width, 2)));
    // A whole view of the set and a boundary-rich zoom.
    let regions = [(-2.13, 0.77, -1.3, 1.3), (-0.7565, -0.7365, 0.0915, 0.1115)];
    for (x_min, x_max, y_min, y_max) in regions {
        for &(width, height) in &shapes {
            let frame = Frame::new(viewport(x_min, x_max, y_min, y_max, width, height), 700);
            let expected = fresh_reference(&frame, kernel.precision())?;
            compare(kernel, &format!("a {width}x{height} frame"), &frame, &expected)?;
        }
    }
    // Extreme coordinates: imaginary parts so small that orbits pass through subnormal numbers
    // (hardware that flushes them to zero, as many GPUs may, gets other counts), and points
    // whose squares overflow to infinity (which must count as escaped).
    let (tiny, huge) = match kernel.precision() {
        Precision::F32 => (1e-40, 1e38),
        Precision::F64 => (1e-310, 1e307),
    };
    for (label, bounds, max_iter) in
        [("subnormal", [-2.0, -1.9, -tiny, tiny], 3000), ("overflowing", [-huge, huge, -huge, huge], 10)]
    {
        let [x_min, x_max, y_min, y_max] = bounds;
        let frame = Frame::new(viewport(x_min, x_max, y_min, y_max, 4, 4), max_iter);
        let expected = fresh_reference(&frame, kernel.precision())?;
        compare(kernel, &format!("a frame of {label} coordinates"), &frame, &expected)?;
    }
    Ok(())
}

/// Every output slot is overwritten (buffers start as [`SENTINEL`]).
pub fn check_every_pixel_written(kernel: &dyn MandelKernel) -> Outcome {
    for (width, height) in [(1, 1), (13, 11), (64, 8)] {
        let frame = Frame::new(viewport(-2.0, 1.0, -1.2, 1.2, width, height), 300);
        let mut out = vec![SENTINEL; frame.pixel_count()];
        compute(kernel, &frame, &mut out)?;
        let unwritten: Vec<String> = positions(&frame)
            .zip(&out)
            .filter(|&(_, &count)| count == SENTINEL)
            .map(|((i, j), _)| format!("({i}, {j})"))
            .collect();
        if !unwritten.is_empty() {
            return fail!(
                "kernel `{}` left {} of {} pixels unwritten in frame {frame}: {}",
                kernel.name(),
                unwritten.len(),
                frame.pixel_count(),
                first_few(&unwritten)
            );
        }
    }
    Ok(())
}

/// Bands computed separately (uneven heights, single rows) give the whole frame's counts,
/// which are the reference's: a band must keep the whole frame's origin and pixel step.
pub fn check_bands(kernel: &dyn MandelKernel) -> Outcome {
    // Around c = i, a Misiurewicz point: the boundary has structure at every scale with modest
    // counts. The pixel step is one or two ulps of `cy`, so a band whose rows are off by one ulp
    // (re-based at its own top) gets visibly different counts.
    let span = match kernel.precision() {
        Precision::F64 => 3e-14,
        Precision::F32 => 1.5e-5,
    };
    let whole = Frame::new(Viewport::from_center(0.0, 1.0, span, 96, 203).expect("valid"), 1500);
    let expected = cached_reference(&format!("bands {}", kernel.precision()), &whole, kernel.precision());
    for rows_per_band in [1, 7, 64, 200] {
        let mut out = vec![SENTINEL; whole.pixel_count()];
        let width = whole.width() as usize;
        for band in whole.bands(rows_per_band) {
            let start = (band.rows().start - whole.rows().start) as usize * width;
            let slots = &mut out[start..start + band.pixel_count()];
            compute(kernel, &band, slots)?;
        }
        let bands = if rows_per_band == 1 {
            "single rows".to_string()
        } else {
            format!("bands of {rows_per_band} rows")
        };
        diff(kernel, &format!("{bands} stitched together"), &whole, &out, &expected)?;
    }
    // A band on its own, compared with the same rows of the whole frame.
    let band = whole.band(37..41).expect("rows inside the frame");
    let width = whole.width() as usize;
    let rows_of_whole = &expected[37 * width..41 * width];
    compare(kernel, "the band of rows 37..41 alone", &band, rows_of_whole)
}

/// proptest: random frames anywhere in the interesting region, zoomed down to the limit of the
/// precision, 1..=100 pixels each way, `max_iter` from 0 to 2000.
pub fn check_random_frames(kernel: &dyn MandelKernel) -> Outcome {
    let precision = kernel.precision();
    let mut config = Config { failure_persistence: None, max_shrink_iters: 256, ..Config::default() };
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(DEFAULT_SEED);
    }
    let seed = config.rng_seed;
    let mut runner = TestRunner::new(config);
    let result = runner.run(&random_frame(precision), |frame| {
        let expected = reference_counts(&frame, precision).map_err(|e| TestCaseError::fail(e.to_string()))?;
        compare(kernel, "a random frame", &frame, &expected).map_err(|failure| TestCaseError::fail(failure.0))
    });
    match result {
        Ok(()) => Ok(()),
        Err(TestError::Fail(reason, frame)) => {
            fail!("{reason}\n(minimal failing frame: {frame}; PROPTEST_RNG_SEED={seed} reproduces the run)")
        }
        Err(TestError::Abort(reason)) => {
            fail!("random frames aborted for kernel `{}`: {reason}", kernel.name())
        }
    }
}

/// A strategy for frames that `precision` can represent.
pub fn random_frame(precision: Precision) -> impl Strategy<Value = Frame> {
    // Zoom depth: up to where the pixel step reaches the precision's resolution.
    let deepest: f64 = match precision {
        Precision::F64 => 14.5,
        Precision::F32 => 6.5,
    };
    let max_iter = prop_oneof![0..=16u32, 0..=400u32, 0..=2000u32];
    (-2.2..0.8f64, -1.3..1.3f64, 0.0..deepest, 0.25..4.0f64, 1..=100u32, 1..=100u32, max_iter)
        .prop_filter_map(
            "the viewport must be representable in the kernel's precision",
            move |(cx, cy, depth, aspect, width, height, max_iter)| {
                let span_x = 3.0 * 10f64.powf(-depth);
                let span_y = span_x * aspect;
                let v = Viewport::from_bounds(
                    cx - span_x / 2.0,
                    cx + span_x / 2.0,
                    cy - span_y / 2.0,
                    cy + span_y / 2.0,
                    width,
                    height,
                )
                .ok()?;
                let frame = Frame::new(v, max_iter);
                frame.check_precision(precision).ok()?;
                Some(frame)
            },
        )
}

/// Runs a check on `kernel` as a test: panics with the failure, or, if the check needs the
/// kernel to run and it is unavailable here, prints a loud skip line (or fails when
/// `MANDEL_REQUIRE_ALL=1`).
pub fn run(kernel: &dyn MandelKernel, spec: &CheckSpec) {
    if spec.needs_device {
        if let Some(skip) = skip_line(kernel, spec.name, require_all()) {
            // Written straight to the process's stderr, past the test harness's capture, so
            // that a skip is seen even when every test passes.
            let _ = writeln!(std::io::stderr().lock(), "{skip}");
            return;
        }
    }
    if let Err(failure) = (spec.check)(kernel) {
        panic!("{failure}");
    }
}

/// `Some(line)` when the check must be skipped because the kernel is unavailable; panics
/// instead when `require_all` is set.
pub fn skip_line(kernel: &dyn MandelKernel, check_name: &str, require_all: bool) -> Option<String> {
    let Availability::Unavailable(reason) = kernel.availability() else {
        return None;
    };
    if require_all {
        panic!(
            "kernel `{}` is unavailable and {REQUIRE_ALL_VAR} is set, so its `{check_name}` check fails: {reason}",
            kernel.name()
        );
    }
    Some(format!(
        "SKIPPED: conformance check `{check_name}` of kernel `{}`: unavailable here: {reason} \
         (set {REQUIRE_ALL_VAR}=1 to make this a failure)",
        kernel.name()
    ))
}

/// Whether `MANDEL_REQUIRE_ALL` is set to something other than empty, `0` or `false`.
pub fn require_all() -> bool {
    std::env::var(REQUIRE_ALL_VAR).is_ok_and(|value| !matches!(value.trim(), "" | "0" | "false" | "no"))
}

/// Generates one `#[test]` per check for each `module => kernel` pair.
///
/// ```no_run
/// // One line per crate; a crate with variants lists them all.
/// mandel_testkit::conformance!(
///     reference_f64 => mandel_core::ReferenceKernel::<f64>::new(),
///     reference_f32 => mandel_core::ReferenceKernel::<f32>::new(),
/// );
/// ```
#[macro_export]
macro_rules! conformance {
    ($($module:ident => $kernel:expr),+ $(,)?) => {
        $(
            #[allow(unused_imports)]
            mod $module {
                use super::*;
                fn kernel() -> ::std::boxed::Box<dyn $crate::__core::MandelKernel> {
                    ::std::boxed::Box::new($kernel)
                }
                $crate::conformance!(@tests metadata, bad_buffers, iteration_limits, long_orbits,
                    awkward_shapes, every_pixel_written, bands, scenes, random_frames);
            }
        )+
    };
    (@tests $($check:ident),+) => {
        $(
            #[test]
            fn $check() {
                let spec = $crate::check_named(stringify!($check)).expect("every generated test names a check");
                $crate::run(&*kernel(), spec);
            }
        )+

        #[test]
        fn every_check_has_a_test() {
            let generated = [$(stringify!($check)),+];
            let checks: ::std::vec::Vec<&str> = $crate::CHECKS.iter().map(|spec| spec.name).collect();
            assert_eq!(checks, generated, "the conformance! macro and CHECKS list different checks");
        }
    };
}

fn viewport(x_min: f64, x_max: f64, y_min: f64, y_max: f64, width: u32, height: u32) -> Viewport {
    Viewport::from_bounds(x_min, x_max, y_min, y_max, width, height).expect("the kit's own frames are valid")
}

fn compute(kernel: &dyn MandelKernel, frame: &Frame, out: &mut [u32]) -> Outcome {
    kernel
        .compute(frame, out)
        .map_err(|e| Failure(format!("kernel `{}` failed on frame {frame}: {e}", kernel.name())))
}

/// Runs the kernel on `frame` into a sentinel-filled buffer and compares with `expected`.
fn compare(kernel: &dyn MandelKernel, label: &str, frame: &Frame, expected: &[u32]) -> Outcome {
    let mut out = vec![SENTINEL; frame.pixel_count()];
    compute(kernel, frame, &mut out)?;
    diff(kernel, label, frame, &out, expected)
}

/// Compares a kernel's counts with the reference's and reports the first differences.
fn diff(kernel: &dyn MandelKernel, label: &str, frame: &Frame, got: &[u32], expected: &[u32]) -> Outcome {
    let differing: Vec<String> = positions(frame)
        .zip(got.iter().zip(expected))
        .filter(|(_, (got, want))| got != want)
        .map(|((i, j), (got, want))| {
            let got = if *got == SENTINEL { "unwritten".to_string() } else { got.to_string() };
            format!("({i}, {j}): {got} vs {want}")
        })
        .collect();
    if differing.is_empty() {
        return Ok(());
    }
    let tolerated = !kernel.is_exact()
        && (differing.len() as f64) <= INEXACT_TOLERANCE * got.len() as f64
        && got.iter().all(|&count| count <= frame.max_iter());
    if tolerated {
        return Ok(());
    }
    let share = 100.0 * differing.len() as f64 / got.len() as f64;
    let promise = if kernel.is_exact() {
        "exact: no pixel may differ".to_string()
    } else {
        // The share is printed with enough digits that "over" never reads as "equal".
        format!(
            "inexact: over the tolerance of {}% of the pixels with {share:.3}% differing{}",
            100.0 * INEXACT_TOLERANCE,
            if got.iter().all(|&count| count <= frame.max_iter()) {
                ""
            } else {
                ", or a count past max_iter"
            }
        )
    };
    fail!(
        "kernel `{}` ({}, {promise}) differs from the {} reference on {} of {} pixels ({share:.3}%) of {label}, \
         frame {frame}; (i, j): kernel vs reference: {}",
        kernel.name(),
        kernel.precision(),
        kernel.precision(),
        differing.len(),
        got.len(),
        first_few(&differing)
    )
}

/// `(i, j)` of every pixel of `frame`, in output order (global row indices).
fn positions(frame: &Frame) -> impl Iterator<Item = (u32, u32)> {
    let width = frame.width();
    frame.rows().flat_map(move |j| (0..width).map(move |i| (i, j)))
}

fn first_few(items: &[String]) -> String {
    let mut text = items.iter().take(REPORTED).cloned().collect::<Vec<_>>().join("; ");
    if items.len() > REPORTED {
        text.push_str("; ...");
    }
    text
}

fn fresh_reference(frame: &Frame, precision: Precision) -> Result<Vec<u32>, Failure> {
    reference_counts(frame, precision)
        .map_err(|e| Failure(format!("the reference cannot compute {frame}: {e}")))
}

/// The reference counts of a fixed frame, computed once per test process.
fn cached_reference(key: &str, frame: &Frame, precision: Precision) -> Arc<Vec<u32>> {
    type Cache = Mutex<HashMap<(String, Precision), Arc<OnceLock<Arc<Vec<u32>>>>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let slot = {
        let mut cache = CACHE.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
        cache.entry((key.to_string(), precision)).or_default().clone()
    };
    // Computed outside the map's lock, so tests of different frames do not wait on each other.
    slot.get_or_init(|| {
        Arc::new(reference_counts(frame, precision).expect("the kit's fixed frames are valid"))
    })
    .clone()
}
