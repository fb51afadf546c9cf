//! The machine's ceiling for the SIMD rung: the bare untested step on lanes that never escape,
//! for each vector type and 1 to 8 vectors in flight (`cargo run --release -p mandel-harness
//! --example ceiling [-- --json FILE]`, or `just ceiling`). No kernel on a real frame can beat
//! these figures.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use kernel_simd::{f32x16, f64x4, f64x8, Lanes};
use mandel_core::Real;
use mandel_harness::variants::{write_json, CeilingRate, CeilingStudy};

/// Steps timed per measurement: long enough (a few hundred ms) to dwarf the clock's resolution.
const STEPS: u64 = 20_000_000;

// ANCHOR: bare-step
/// Steps `S` vectors `steps` times, `z ← z² + c` exactly as the kernels do; c stays inside the
/// main cardioid, so no lane ever escapes. Returns pixel-iterations per second.
#[inline(never)]
fn rate<L: Lanes, const S: usize>(steps: u64) -> f64 {
    let real = <L::Real as Real>::from_f64;
    let cr: [L; S] = std::array::from_fn(|s| L::from_fn(|k| real(-0.1 + 0.001 * (k + 16 * s) as f64)));
    let ci = [L::splat(real(0.1)); S];
    let (mut zr, mut zi) = ([L::splat(real(0.0)); S], [L::splat(real(0.0)); S]);
    let start = Instant::now();
    for _ in 0..black_box(steps) {
        for s in 0..S {
            let p = zr[s] * zi[s];
            zr[s] = (zr[s] * zr[s] - zi[s] * zi[s]) + cr[s];
            zi[s] = (p + p) + ci[s];
        }
    }
    // Without this the compiler may see that z is never used and delete the loop.
    black_box((zr, zi));
    (steps * (S * L::WIDTH) as u64) as f64 / start.elapsed().as_secs_f64()
}
// ANCHOR_END: bare-step

/// The vector counts in flight that are measured.
const IN_FLIGHT: [usize; 5] = [1, 2, 4, 6, 8];

fn rates<L: Lanes>() -> Vec<CeilingRate> {
    let measured = [
        rate::<L, 1>(STEPS),
        rate::<L, 2>(STEPS),
        rate::<L, 4>(STEPS),
        rate::<L, 6>(STEPS),
        rate::<L, 8>(STEPS),
    ];
    let cells: Vec<String> = measured.iter().map(|r| format!("{:>6.2}", r / 1e9)).collect();
    println!("{:<8} {}", L::NAME, cells.join("  "));
    IN_FLIGHT
        .into_iter()
        .zip(measured)
        .map(|(in_flight, rate)| CeilingRate { vector: L::NAME.into(), in_flight, giter_per_s: rate / 1e9 })
        .collect()
}

fn main() -> Result<(), String> {
    let json = match std::env::args().skip(1).collect::<Vec<_>>().as_slice() {
        [] => None,
        [flag, path] if flag == "--json" => Some(PathBuf::from(path)),
        other => return Err(format!("unexpected arguments {other:?}; usage: [--json FILE]")),
    };
    // Which CPU: the ceiling differs between CPUs that a virtual machine names alike.
    let machine = mandel_harness::provenance::Provenance::collect_for_pool(Vec::new(), 1);
    println!("G pixel-iterations/s of the bare untested step, one thread, by vectors in flight");
    println!("on {}, SIMD up to {}", machine.cpu_named(), machine.widest_simd());
    println!("{:<8} {:>6}  {:>6}  {:>6}  {:>6}  {:>6}", "type", 1, 2, 4, 6, 8);
    let all: Vec<CeilingRate> = [rates::<f64x8>(), rates::<f64x4>(), rates::<f32x16>()].concat();
    if let Some(path) = json {
        write_json(&path, &CeilingStudy::new(STEPS, all))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
