//! The machine's ceiling for this rung: the bare untested step on lanes that never escape, for
//! each vector type and 1 to 8 vectors in flight (`cargo run --release -p kernel-simd --example
//! ceiling`, or `just ceiling`). No kernel on a real frame can beat these figures.

use std::hint::black_box;
use std::time::Instant;

use kernel_simd::{f32x16, f64x4, f64x8, Lanes};
use mandel_core::Real;

/// Steps `S` vectors `steps` times, `z ← z² + c` exactly as the kernels do; c stays inside the
/// main cardioid, so no lane ever escapes. Returns pixel-iterations per second.
#[inline(never)]
fn rate<L: Lanes, const S: usize>(steps: u64) -> f64 {
    let real = <L::Real as Real>::from_f64;
    let cr: [L; S] = std::array::from_fn(|s| L::from_fn(|k| real(-0.1 + 0.001 * (k + 16 * s) as f64)));
    let ci = [L::splat(real(0.1)); S];
    let (mut zr, mut zi) = ([L::splat(real(0.0)); S], [L::splat(real(0.0)); S]);
    let start = Instant::now();
    for _ in 0..steps {
        for s in 0..S {
            let p = zr[s] * zi[s];
            zr[s] = (zr[s] * zr[s] - zi[s] * zi[s]) + cr[s];
            zi[s] = (p + p) + ci[s];
        }
    }
    black_box((zr, zi));
    (steps * (S * L::WIDTH) as u64) as f64 / start.elapsed().as_secs_f64()
}

fn row<L: Lanes>() {
    let steps = 20_000_000;
    let rates = [
        rate::<L, 1>(steps),
        rate::<L, 2>(steps),
        rate::<L, 4>(steps),
        rate::<L, 6>(steps),
        rate::<L, 8>(steps),
    ];
    let cells: Vec<String> = rates.iter().map(|r| format!("{:>6.2}", r / 1e9)).collect();
    println!("{:<8} {}", L::NAME, cells.join("  "));
}

fn main() {
    println!("G pixel-iterations/s of the bare untested step, one thread, by vectors in flight");
    println!("{:<8} {:>6}  {:>6}  {:>6}  {:>6}  {:>6}", "type", 1, 2, 4, 6, 8);
    row::<f64x8>();
    row::<f64x4>();
    row::<f32x16>();
}
