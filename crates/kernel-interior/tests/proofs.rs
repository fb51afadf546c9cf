//! Frames where the certificates' proof is tightest: around the cusp of the cardioid
//! (`c = 1/4`), the root of the period-2 bulb (`c = -3/4`), points on both boundaries, and
//! points on the boundaries of a period-3 and a period-4 bulb (where the orbit's ball is the
//! only certificate), at high `max_iter`, down to pixels one ulp apart; in f64 and f32. The
//! sound kernels must match the reference on every one, and a deliberately wrong certificate
//! must be caught.

use kernel_interior::{Flaw, Interior, InteriorSimd, InteriorSimdF32};
use kernel_simd::{f32x16, f64x8};
use mandel_core::{reference_counts, Frame, MandelKernel, Precision, Viewport};
use proptest::prelude::*;

/// A `size`×`size` frame centred on `(x, y)`, `half` wide on each side.
fn around(x: f64, y: f64, half: f64, size: u32, max_iter: u32) -> Option<Frame> {
    let viewport = Viewport::from_bounds(x - half, x + half, y - half, y + half, size, size).ok()?;
    Some(Frame::new(viewport, max_iter))
}

/// A point on the main cardioid's boundary (multiplier `e^{iθ}`) or the bulb's (`4(c+1) = e^{iθ}`).
fn boundary(bulb: bool, theta: f64) -> (f64, f64) {
    if bulb {
        (-1.0 + theta.cos() / 4.0, theta.sin() / 4.0)
    } else {
        let (c1, s1, c2, s2) = (theta.cos(), theta.sin(), (2.0 * theta).cos(), (2.0 * theta).sin());
        (c1 / 2.0 - c2 / 4.0, s1 / 2.0 - s2 / 4.0)
    }
}

/// Complex numbers as pairs, for the Newton solve of [`bulb_boundary`].
type Complex = (f64, f64);

fn add(a: Complex, b: Complex) -> Complex {
    (a.0 + b.0, a.1 + b.1)
}

fn sub(a: Complex, b: Complex) -> Complex {
    (a.0 - b.0, a.1 - b.1)
}

fn mul(a: Complex, b: Complex) -> Complex {
    (a.0 * b.0 - a.1 * b.1, a.0 * b.1 + a.1 * b.0)
}

fn div(a: Complex, b: Complex) -> Complex {
    let m = b.0 * b.0 + b.1 * b.1;
    ((a.0 * b.0 + a.1 * b.1) / m, (a.1 * b.0 - a.0 * b.1) / m)
}

/// `(F_c^p(z) - z, (F_c^p)'(z) - λ)`: zero where `z` is on a `p`-cycle of multiplier `λ`.
fn cycle_residual(z: Complex, c: Complex, p: u32, lambda: Complex) -> (Complex, Complex) {
    let (mut y, mut d) = (z, (1.0, 0.0));
    for _ in 0..p {
        d = mul((2.0 * y.0, 2.0 * y.1), d);
        y = add(mul(y, y), c);
    }
    (sub(y, z), sub(d, lambda))
}

/// The point `c` of the boundary of the period-`p` bulb centred near `centre` where the cycle's
/// multiplier is `e^{iθ}` (`θ` away from 0, the root, where the cycle meets another), and a
/// point `z` of that cycle: Newton on `(z, c)` from the centre, where 0 is on the cycle, the
/// multiplier walked out in steps.
fn bulb_cycle(centre: Complex, p: u32, theta: f64) -> (Complex, Complex) {
    let (mut z, mut c) = ((0.0, 0.0), centre);
    for step in 1..=64 {
        let t = f64::from(step) / 64.0;
        let lambda = (t * theta.cos(), t * theta.sin());
        for _ in 0..40 {
            let (g1, g2) = cycle_residual(z, c, p, lambda);
            // The Jacobian by differences (the residual is holomorphic in `z` and `c`).
            let h = (1e-7, 0.0);
            let (a1, a2) = cycle_residual(add(z, h), c, p, lambda);
            let (b1, b2) = cycle_residual(z, add(c, h), p, lambda);
            let (j11, j21) = (div(sub(a1, g1), h), div(sub(a2, g2), h));
            let (j12, j22) = (div(sub(b1, g1), h), div(sub(b2, g2), h));
            let det = sub(mul(j11, j22), mul(j12, j21));
            z = sub(z, div(sub(mul(g1, j22), mul(j12, g2)), det));
            c = sub(c, div(sub(mul(j11, g2), mul(g1, j21)), det));
        }
    }
    (z, c)
}

/// [`bulb_cycle`]'s `c`.
fn bulb_boundary(centre: Complex, p: u32, theta: f64) -> (f64, f64) {
    bulb_cycle(centre, p, theta).1
}

/// The centres of the bulbs whose boundaries the orbit's ball is tested on: the period-3
/// bulb above the cardioid and the period-4 bulb at its internal angle 1/4.
const BULBS: [(Complex, u32); 2] =
    [((-0.122_561_166, 0.744_861_767), 3), ((0.282_271_391, 0.530_060_618), 4)];

/// Pixels that differ from the reference of the kernel's precision (`None`: the frame cannot
/// be computed in it).
fn mismatches(kernel: &dyn MandelKernel, frame: &Frame) -> Option<usize> {
    let expected = reference_counts(frame, kernel.precision()).ok()?;
    let mut out = vec![0; frame.pixel_count()];
    kernel.compute(frame, &mut out).ok()?;
    Some(expected.iter().zip(&out).filter(|(a, b)| a != b).count())
}

/// The fixed frames: the cusp and the root at spans from 1e-2 down to a few ulps, and points
/// of both boundaries.
fn tight_frames(precision: Precision) -> Vec<Frame> {
    let ulp = ulp(precision);
    let mut frames = Vec::new();
    for (x, y) in [(0.25, 0.0), (-0.75, 0.0), (-0.75, 0.1), boundary(false, 1.0), boundary(true, 2.0)] {
        for half in [1e-2, 1e-4, 1e-6, 24.0 * ulp] {
            frames.extend(around(x, y, half, 48, 6000));
        }
    }
    frames.extend(cycle_frames(precision));
    frames
}

/// The spacing of floats near 1 in `precision`.
fn ulp(precision: Precision) -> f64 {
    match precision {
        Precision::F64 => f64::EPSILON,
        Precision::F32 => f32::EPSILON as f64,
    }
}

/// Frames on the boundaries of the period-3 and period-4 bulbs.
fn cycle_frames(precision: Precision) -> Vec<Frame> {
    let ulp = ulp(precision);
    let mut frames = Vec::new();
    for (centre, p) in BULBS {
        for theta in [1.0, 2.5, 4.0] {
            let (x, y) = bulb_boundary(centre, p, theta);
            for half in [1e-3, 1e-5, 1e-7, 24.0 * ulp] {
                frames.extend(around(x, y, half, 48, 6000));
            }
        }
    }
    frames
}

#[test]
fn the_bulb_boundaries_are_where_the_tests_think() {
    // Each centre is superattracting (0 is on its cycle), and each solved point has a cycle
    // of the right period whose multiplier is `e^{iθ}`, so that the frames straddle the bulb's
    // boundary.
    for (centre, p) in BULBS {
        let (g, _) = cycle_residual((0.0, 0.0), centre, p, (0.0, 0.0));
        assert!(g.0.hypot(g.1) < 1e-8, "{centre:?} is not a centre of period {p}");
        for theta in [1.0, 2.5, 4.0] {
            let (z, c) = bulb_cycle(centre, p, theta);
            let (g1, g2) = cycle_residual(z, c, p, (theta.cos(), theta.sin()));
            assert!(g1.0.hypot(g1.1) < 1e-12 && g2.0.hypot(g2.1) < 1e-9, "no {p}-cycle at {c:?}");
        }
    }
}

#[test]
fn the_bulb_frames_exercise_the_orbits_ball() {
    // Otherwise the frames below would test nothing of it.
    let (mut orbit, mut interior) = (0, 0);
    for frame in cycle_frames(Precision::F64) {
        let mut out = vec![0; frame.pixel_count()];
        orbit += kernel_interior::census_f64(&frame, &mut out).unwrap().orbit;
        interior += out.iter().filter(|&&n| n == frame.max_iter()).count() as u64;
    }
    assert!(orbit * 10 > interior, "the ball proved {orbit} of {interior} interior pixels");
}

#[test]
fn sound_kernels_match_the_reference_where_the_proof_is_tightest() {
    let kernels: [(Box<dyn MandelKernel>, Precision); 2] =
        [(Box::new(InteriorSimd::new()), Precision::F64), (Box::new(InteriorSimdF32::new()), Precision::F32)];
    for (kernel, precision) in &kernels {
        for frame in tight_frames(*precision) {
            if let Some(bad) = mismatches(kernel.as_ref(), &frame) {
                assert_eq!(bad, 0, "{} differs on {bad} pixels of {frame:?}", kernel.name());
            }
        }
    }
}

/// Asserts that `flaw`, in f64 and in f32, changes some count of `frames`.
fn assert_caught(flaw: Flaw, frames: fn(Precision) -> Vec<Frame>) {
    let flawed: [Box<dyn MandelKernel>; 2] =
        [Box::new(Interior::<f64x8, 5>::flawed(flaw)), Box::new(Interior::<f32x16, 5>::flawed(flaw))];
    for kernel in &flawed {
        let caught: usize =
            frames(kernel.precision()).iter().filter_map(|frame| mismatches(kernel.as_ref(), frame)).sum();
        assert!(caught > 0, "the frames did not catch {flaw:?} in {:?}", kernel.precision());
    }
}

#[test]
fn periodicity_with_a_tolerance_is_caught() {
    // "Close enough" in place of the orbit's ball: it takes pixels just outside the bulbs,
    // whose orbits linger near the weakly repelling cycle and then escape, as periodic.
    assert_caught(Flaw::CloseEnough(1e-3), cycle_frames);
}

#[test]
fn a_disc_without_its_margin_is_caught() {
    // The real-number disc, no rounding margin, stretched by 1e-3: it certifies pixels just
    // outside the components, whose orbits linger near the cycle and then escape.
    assert_caught(Flaw::Loose(1e-3), tight_frames);
}

/// The sound kernels on a 24x24 frame around `(x, y)`, `10^-exponent` wide each side (at least a
/// few ulps), in f64 and, if `f32_too`, in f32.
fn check_around(
    (x, y): (f64, f64),
    exponent: f64,
    max_iter: u32,
    f32_too: bool,
) -> Result<(), TestCaseError> {
    let half = 10f64.powf(-exponent).max(16.0 * f64::EPSILON);
    if let Some(frame) = around(x, y, half, 24, max_iter) {
        let bad = mismatches(&InteriorSimd::new(), &frame);
        prop_assert!(bad.is_none_or(|bad| bad == 0), "f64 differs on {bad:?} pixels of {frame:?}");
        if f32_too {
            let bad = mismatches(&InteriorSimdF32::new(), &frame);
            prop_assert!(bad.is_none_or(|bad| bad == 0), "f32 differs on {bad:?} pixels of {frame:?}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random points of both boundaries, at random scales down to a few ulps, at high `max_iter`.
    #[test]
    fn sound_kernels_match_near_random_boundary_points(
        bulb in any::<bool>(),
        theta in 0.0..std::f64::consts::TAU,
        exponent in 2.0f64..15.0,
        max_iter in 1000u32..12000,
        f32_too in any::<bool>(),
    ) {
        check_around(boundary(bulb, theta), exponent, max_iter, f32_too)?;
    }

    /// Random points of the period-3 and period-4 bulbs' boundaries (the orbit's ball), at
    /// random scales down to a few ulps, at high `max_iter`.
    #[test]
    fn sound_kernels_match_near_random_bulb_boundary_points(
        bulb in 0usize..BULBS.len(),
        theta in 0.3..std::f64::consts::TAU - 0.3,
        exponent in 2.0f64..15.0,
        max_iter in 1000u32..12000,
        f32_too in any::<bool>(),
    ) {
        let (centre, p) = BULBS[bulb];
        check_around(bulb_boundary(centre, p, theta), exponent, max_iter, f32_too)?;
    }
}
