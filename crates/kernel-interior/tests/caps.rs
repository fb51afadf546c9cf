//! The engine's caps, where vectors are set aside whole, packed from pools or run on: every
//! `max_iter` just below, at and just above a cap (32, 64, 128, ...), on frames whose vectors
//! mix escaping, proved and undecided lanes, must give the reference's counts exactly.

use kernel_interior::{interior_parallel, InteriorSimd, InteriorSimdF32};
use mandel_core::{reference_counts, Frame, MandelKernel, Viewport};

fn check(kernel: &dyn MandelKernel, bounds: [f64; 4], size: (u32, u32), max_iter: u32) {
    let [x0, x1, y0, y1] = bounds;
    let viewport = Viewport::from_bounds(x0, x1, y0, y1, size.0, size.1).unwrap();
    let frame = Frame::new(viewport, max_iter);
    let expected = reference_counts(&frame, kernel.precision()).unwrap();
    let mut out = vec![u32::MAX; frame.pixel_count()];
    kernel.compute(&frame, &mut out).unwrap();
    let wrong = expected.iter().zip(&out).filter(|(a, b)| a != b).count();
    for (k, (a, b)) in expected.iter().zip(&out).enumerate().filter(|(_, (a, b))| a != b).take(5) {
        eprintln!("pixel {k}: expected {a} got {b}");
    }
    assert_eq!(wrong, 0, "{}: {wrong} pixels differ at max_iter {max_iter} on {bounds:?}", kernel.name());
}

#[test]
fn every_max_iter_around_a_cap_is_exact() {
    let kernels: Vec<Box<dyn MandelKernel>> =
        vec![Box::new(InteriorSimd::new()), Box::new(InteriorSimdF32::new()), Box::new(interior_parallel())];
    let mut limits = vec![0, 1, 7, 8, 9, 1000, 1500];
    for cap in [32u32, 64, 128, 256, 512] {
        limits.extend([cap - 1, cap, cap + 1]);
    }
    for kernel in &kernels {
        for &max_iter in &limits {
            // The whole set (every kind of lane), and seahorse valley (slow escapes and
            // undecided interior, so vectors run on, are set aside and packed at every cap).
            check(kernel.as_ref(), [-2.13, 0.77, -1.3, 1.3], (61, 47), max_iter);
            check(kernel.as_ref(), [-0.7565, -0.7365, 0.0915, 0.1115], (53, 41), max_iter);
        }
    }
}
