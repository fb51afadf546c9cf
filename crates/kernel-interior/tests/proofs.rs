//! Frames where the certificates' proof is tightest: around the cusp of the cardioid
//! (`c = 1/4`), the root of the period-2 bulb (`c = -3/4`), and points on both boundaries, at
//! high `max_iter`, down to pixels one ulp apart; in f64 and f32. The sound kernels must match
//! the reference on every one, and a deliberately wrong certificate must be caught.

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
    let ulp = match precision {
        Precision::F64 => f64::EPSILON,
        Precision::F32 => f32::EPSILON as f64,
    };
    let mut frames = Vec::new();
    for (x, y) in [(0.25, 0.0), (-0.75, 0.0), (-0.75, 0.1), boundary(false, 1.0), boundary(true, 2.0)] {
        for half in [1e-2, 1e-4, 1e-6, 24.0 * ulp] {
            frames.extend(around(x, y, half, 48, 6000));
        }
    }
    frames
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

#[test]
fn a_disc_without_its_margin_is_caught() {
    // The real-number disc, no rounding margin, stretched by 1e-3: it certifies pixels just
    // outside the components, whose orbits linger near the cycle and then escape.
    let flawed: [Box<dyn MandelKernel>; 2] = [
        Box::new(Interior::<f64x8, 5>::flawed(Flaw::Loose(1e-3))),
        Box::new(Interior::<f32x16, 5>::flawed(Flaw::Loose(1e-3))),
    ];
    for kernel in &flawed {
        let caught: usize = tight_frames(kernel.precision())
            .iter()
            .filter_map(|frame| mismatches(kernel.as_ref(), frame))
            .sum();
        assert!(caught > 0, "the frames near the boundaries did not catch {:?}", kernel.precision());
    }
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
        let (x, y) = boundary(bulb, theta);
        let half = 10f64.powf(-exponent).max(16.0 * f64::EPSILON);
        if let Some(frame) = around(x, y, half, 24, max_iter) {
            let bad = mismatches(&InteriorSimd::new(), &frame);
            prop_assert!(bad.is_none_or(|bad| bad == 0), "f64 differs on {bad:?} pixels of {frame:?}");
            if f32_too {
                let bad = mismatches(&InteriorSimdF32::new(), &frame);
                prop_assert!(bad.is_none_or(|bad| bad == 0), "f32 differs on {bad:?} pixels of {frame:?}");
            }
        }
    }
}
