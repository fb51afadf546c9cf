//! The interleaving sweep: every SIMD vector type with 1, 2, 4, 6 and 8 vectors in flight,
//! raced on one scene (`cargo run --release -p mandel-harness --example interleave [scene]`).
//!
//! Speedups are against `simd-f64x8-x1`, one vector in flight: how much of the core a single
//! dependency chain leaves idle.

use mandel_harness::race::Contestant;
use mandel_harness::variants::{print, race_variants, scene_from_args};

fn main() -> Result<(), String> {
    let scene = scene_from_args("classic")?;
    let contestants: Vec<Contestant> = kernel_simd::interleave_sweep()
        .into_iter()
        .map(|kernel| Contestant { crate_name: "kernel-simd".into(), kernel })
        .collect();
    print(&race_variants(scene, &contestants, "simd-f64x8-x1")?);
    Ok(())
}
