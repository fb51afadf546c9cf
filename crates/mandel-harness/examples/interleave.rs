//! The interleaving sweep: every SIMD vector type with 1, 2, 4, 6 and 8 vectors in flight,
//! raced on one scene (`cargo run --release -p mandel-harness --example interleave [scene]
//! [--json FILE]`, or `just sweep`).
//!
//! Speedups are against `simd-f64x8-x1`, one vector in flight: how much of the core a single
//! dependency chain leaves idle.

use mandel_harness::race::Contestant;
use mandel_harness::variants::{print, race_variants, StudyArgs};

fn main() -> Result<(), String> {
    let args = StudyArgs::parse("classic")?;
    let contestants: Vec<Contestant> = kernel_simd::interleave_sweep()
        .into_iter()
        .map(|kernel| Contestant { crate_name: "kernel-simd".into(), kernel })
        .collect();
    let report = race_variants(args.scene, &contestants, "simd-f64x8-x1")?;
    print(&report);
    args.write_json(&report)
}
