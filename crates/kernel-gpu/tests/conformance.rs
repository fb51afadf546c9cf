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
