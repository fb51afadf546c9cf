//! The GPU kernels against the reference of their precision: the whole conformance kit, with
//! the device's own tiles and chunks, and with tiles and chunks small enough that every frame of
//! the kit is cut into many dispatches and nearly every orbit is resumed many times. Without an
//! adapter they print a loud SKIPPED line (a failure in CI).

use kernel_gpu::tiles::{Shape, TileLimits};
use kernel_gpu::{Carrier, GpuF32, GpuF64};

/// Tiles of at most 100 pixels, dispatches of at most 2 x 2 workgroups, and orbits resumed
/// every 997 iterations (a prime: the long orbits are resumed hundreds of times, and every
/// scene but `quick` at least once).
const SMALL_TILES: TileLimits =
    TileLimits { max_pixels: 100, max_workgroups: 2, max_iterations: u64::MAX, chunk: 997 };

/// Orbits resumed after every 3 iterations, in tiles as large as the device allows: chunk ends
/// fall everywhere in the kit's counts.
const TINY_CHUNKS: TileLimits =
    TileLimits { max_pixels: u64::MAX, max_workgroups: u32::MAX, max_iterations: u64::MAX, chunk: 3 };

mandel_testkit::conformance!(
    f32 => GpuF32::new(),
    f64 => GpuF64::new(),
    f32_small_tiles => GpuF32::with_tile_limits(SMALL_TILES),
    f64_small_tiles => GpuF64::with_tile_limits(SMALL_TILES),
    f32_rows_of_64 => GpuF32::with_shape(Shape::ROW_64),
    f64_rows_of_256 => GpuF64::with_shape(Shape::ROW_256),
    // f32's rounding on the f64 units, which gpu-f32 uses where the device flushes f32
    // subnormals: checked wherever the device has 64-bit floats, whatever gpu-f32 chose.
    f32_on_f64 => GpuF32::with_carrier(Carrier::F64),
);

/// Resumed every 3 iterations: every kit frame but the long orbits, which would take hundreds
/// of thousands of steps (the small tiles resume those every 997).
mod tiny_chunks {
    use super::*;
    use mandel_core::MandelKernel;

    fn run_all_but_long_orbits(kernel: &dyn MandelKernel) {
        for spec in mandel_testkit::CHECKS.iter().filter(|spec| spec.name != "long_orbits") {
            mandel_testkit::run(kernel, spec);
        }
    }

    #[test]
    fn f32() {
        run_all_but_long_orbits(&GpuF32::with_tile_limits(TINY_CHUNKS));
    }

    #[test]
    fn f64() {
        run_all_but_long_orbits(&GpuF64::with_tile_limits(TINY_CHUNKS));
    }
}

/// The plain shader (for `just gpu-cost`) says it is not exact, and runs: how far it strays
/// depends on the driver (on lavapipe, a fraction of a percent of the classic frame in f32 and
/// more of seahorse; `just gpu-cost` measures it), so only its sanity is checked here, and the
/// differences are printed.
mod plain {
    use kernel_gpu::{GpuF32, GpuF64};
    use mandel_core::{reference_counts, Availability, MandelKernel, Scene};

    #[test]
    fn plain_arithmetic_declares_itself_inexact_and_runs() {
        for kernel in [&GpuF32::plain() as &dyn MandelKernel, &GpuF64::plain()] {
            assert!(!kernel.is_exact() && kernel.name().ends_with("-plain"), "{}", kernel.name());
            if let Availability::Unavailable(reason) = kernel.availability() {
                eprintln!("SKIPPED: {} is unavailable here: {reason}", kernel.name());
                assert!(!mandel_testkit::require_all(), "{reason}");
                continue;
            }
            let frame = Scene::by_name("classic").unwrap().frame();
            let mut counts = vec![u32::MAX; frame.pixel_count()];
            kernel.compute(&frame, &mut counts).unwrap();
            assert!(counts.iter().all(|&count| count <= frame.max_iter()), "every pixel written");
            let reference = reference_counts(&frame, kernel.precision()).unwrap();
            let differing = counts.iter().zip(&reference).filter(|(a, b)| a != b).count();
            eprintln!(
                "{} differs from the reference on {differing} of {} pixels",
                kernel.name(),
                counts.len()
            );
        }
    }
}

/// The frames of the report that found the 65,535-iteration cap (issue 15), as a user would
/// render them: five slow escapes right of c = 1/4 at max_iter 300,000, where lavapipe gave
/// 65,535 for all five, and the period-3 minibrot at max_iter 100,000, every pixel interior,
/// where both kernels gave 65,536.
mod capped_at_65535 {
    use kernel_gpu::{GpuF32, GpuF64};
    use mandel_core::{reference_counts, Availability, Frame, MandelKernel, Viewport};

    fn matches_the_reference(kernel: &dyn MandelKernel, bounds: [f64; 4], size: (u32, u32), max_iter: u32) {
        if let Availability::Unavailable(reason) = kernel.availability() {
            eprintln!("SKIPPED: {} is unavailable here: {reason}", kernel.name());
            assert!(!mandel_testkit::require_all(), "{reason}");
            return;
        }
        let [x_min, x_max, y_min, y_max] = bounds;
        let frame =
            Frame::new(Viewport::from_bounds(x_min, x_max, y_min, y_max, size.0, size.1).unwrap(), max_iter);
        let expected = reference_counts(&frame, kernel.precision()).unwrap();
        let mut counts = vec![u32::MAX; frame.pixel_count()];
        kernel.compute(&frame, &mut counts).unwrap();
        assert_eq!(counts, expected, "{} on {frame}", kernel.name());
    }

    #[test]
    fn slow_escapes_right_of_a_quarter() {
        matches_the_reference(
            &GpuF64::new(),
            [0.2500000009, 0.2500000019, -0.0000000001, 0.0],
            (5, 1),
            300_000,
        );
    }

    #[test]
    fn the_interior_of_a_minibrot() {
        let minibrot = [-1.7551, -1.7547, -0.0002, 0.0002];
        matches_the_reference(&GpuF32::new(), minibrot, (20, 20), 100_000);
        matches_the_reference(&GpuF64::new(), minibrot, (20, 20), 100_000);
    }
}
