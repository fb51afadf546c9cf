//! The GPU kernels against the reference of their precision: the whole conformance kit, with
//! the device's own tiles and with tiles small enough that every frame of the kit is cut into
//! many dispatches. Without an adapter they print a loud SKIPPED line (a failure in CI).

use kernel_gpu::tiles::TileLimits;
use kernel_gpu::{GpuF32, GpuF64};

/// Tiles of at most 100 pixels and dispatches of at most 2 x 2 workgroups (32 x 32 pixels).
const SMALL_TILES: TileLimits = TileLimits { max_pixels: 100, max_workgroups: 2, max_iterations: u64::MAX };

mandel_testkit::conformance!(
    f32 => GpuF32::new(),
    f64 => GpuF64::new(),
    f32_small_tiles => GpuF32::with_tile_limits(SMALL_TILES),
    f64_small_tiles => GpuF64::with_tile_limits(SMALL_TILES),
);

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
