//! Rung 3, SIMD: many pixels per instruction with `wide`, and several vectors in flight per core.
//!
//! Lanes are consecutive pixels of a row, and every lane runs the reference's arithmetic (no
//! FMA, `p + p`, coordinates from `Grid::cx`/`Grid::cy`), so the output is bit-identical to the
//! reference of the kernel's precision. [`engine`] shapes the loop: `S` independent vectors in
//! flight to hide the latency of the `z ← z² + c` chain, an escape test deferred to the end of
//! blocks of `K` steps, and a block replayed exactly, for its own vector, when it fires.
//!
//! `wide` picks its instructions when the crate is compiled: built for a CPU with AVX-512 an
//! `f64x8` is one 512-bit register, and otherwise two or four narrower ones (the race's header
//! says what the binary was built for). No `unsafe` and no intrinsics here.

pub mod engine;
mod lanes;

use std::marker::PhantomData;
use std::ops::Range;

use mandel_core::{Frame, Grid, KernelError, MandelKernel, Precision, Real};

pub use engine::RowQueue;
pub use lanes::Lanes;
pub use wide::{f32x16, f64x4, f64x8};

/// A SIMD kernel: vectors of type `L`, `S` of them in flight, untested blocks of `K` steps.
pub struct Simd<L, const S: usize, const K: u32 = { engine::BLOCK }> {
    name: String,
    description: String,
    lanes: PhantomData<L>,
}

impl<L: Lanes, const S: usize, const K: u32> Default for Simd<L, S, K> {
    fn default() -> Self {
        Simd::new()
    }
}

impl<L: Lanes, const S: usize, const K: u32> Simd<L, S, K> {
    /// The kernel; named `simd-f64x8` at the type's chosen interleave ([`Lanes::INTERLEAVE`])
    /// and [`engine::BLOCK`], `simd-f64x8-x2` at other interleaves, `simd-f64x8-k16` at other
    /// blocks.
    pub fn new() -> Self {
        let mut name = format!("simd-{}", L::NAME);
        if S != L::INTERLEAVE {
            name += &format!("-x{S}");
        }
        if K != engine::BLOCK {
            name += &format!("-k{K}");
        }
        let register = match (L::WIDTH, <L::Real as Real>::PRECISION) {
            (4, Precision::F64) => "AVX2",
            _ => "AVX-512 where built for it",
        };
        let description = format!(
            "{} {} lanes per vector ({register}), {S} vectors in flight, blocks of {K} untested steps",
            L::WIDTH,
            <L::Real as Real>::PRECISION
        );
        Simd { name, description, lanes: PhantomData }
    }
}

/// Eight f64 lanes: one AVX-512 register where compiled for it, two AVX2 halves otherwise.
pub type SimdF64x8 = Simd<f64x8, { <f64x8 as Lanes>::INTERLEAVE }>;
/// Four f64 lanes: one AVX2 register.
pub type SimdF64x4 = Simd<f64x4, { <f64x4 as Lanes>::INTERLEAVE }>;
/// Sixteen f32 lanes: one AVX-512 register.
pub type SimdF32x16 = Simd<f32x16, { <f32x16 as Lanes>::INTERLEAVE }>;

/// The kernels this crate exports (discovered by the harness).
pub fn kernels() -> Vec<Box<dyn MandelKernel>> {
    vec![Box::new(SimdF64x8::new()), Box::new(SimdF64x4::new()), Box::new(SimdF32x16::new())]
}

/// Every vector type at 1 to 8 vectors in flight, and `f64x8` at blocks of 4, 16 and 32
/// steps: the interleaving sweep.
pub fn interleave_sweep() -> Vec<Box<dyn MandelKernel>> {
    fn each<L: Lanes>() -> Vec<Box<dyn MandelKernel>> {
        vec![
            Box::new(Simd::<L, 1>::new()),
            Box::new(Simd::<L, 2>::new()),
            Box::new(Simd::<L, 3>::new()),
            Box::new(Simd::<L, 4>::new()),
            Box::new(Simd::<L, 5>::new()),
            Box::new(Simd::<L, 6>::new()),
            Box::new(Simd::<L, 8>::new()),
        ]
    }
    let blocks: Vec<Box<dyn MandelKernel>> = vec![
        Box::new(Simd::<f64x8, { <f64x8 as Lanes>::INTERLEAVE }, 4>::new()),
        Box::new(Simd::<f64x8, { <f64x8 as Lanes>::INTERLEAVE }, 16>::new()),
        Box::new(Simd::<f64x8, { <f64x8 as Lanes>::INTERLEAVE }, 32>::new()),
    ];
    [each::<f64x8>(), blocks, each::<f64x4>(), each::<f32x16>()].into_iter().flatten().collect()
}

/// `MandelKernel` for a kernel type of this crate: named and described at construction,
/// exact, in its lanes' precision, computing with `$engine` over the whole frame.
macro_rules! simd_kernel {
    (impl<$($generic:ident: $bound:ty),*> for $kernel:ty => $engine:expr) => {
        impl<L: Lanes, $(const $generic: $bound),*> MandelKernel for $kernel {
            fn name(&self) -> &str {
                &self.name
            }
            fn description(&self) -> &str {
                &self.description
            }
            fn precision(&self) -> Precision {
                <L::Real as Real>::PRECISION
            }
            fn is_exact(&self) -> bool {
                true
            }
            fn compute(&self, frame: &Frame, out: &mut [u32]) -> Result<(), KernelError> {
                let grid = Grid::<L::Real>::checked(frame, out)?;
                $engine(&grid, grid.rows(), out);
                Ok(())
            }
        }
    };
}

simd_kernel!(impl<S: usize, K: u32> for Simd<L, S, K> => engine::compute_rows::<L, S, K>);

/// Escape counts of global rows `rows` of `grid` into `out` (`rows.len() * width` long, row-major)
/// with the fastest f64 variant; public so that the parallel rung runs this very routine on each
/// core. For one row `j`, pass `j..j + 1`.
///
/// # Panics
/// If `rows` is not within `grid.rows()` or `out` has the wrong length.
pub fn compute_rows_f64(grid: &Grid<f64>, rows: Range<u32>, out: &mut [u32]) {
    check_rows(grid, &rows, out);
    engine::compute_rows::<f64x8, { <f64x8 as Lanes>::INTERLEAVE }, { engine::BLOCK }>(grid, rows, out)
}

/// [`compute_rows_f64`] in f32, with the fastest f32 variant.
///
/// # Panics
/// If `rows` is not within `grid.rows()` or `out` has the wrong length.
pub fn compute_rows_f32(grid: &Grid<f32>, rows: Range<u32>, out: &mut [u32]) {
    check_rows(grid, &rows, out);
    engine::compute_rows::<f32x16, { <f32x16 as Lanes>::INTERLEAVE }, { engine::BLOCK }>(grid, rows, out)
}

/// The rows that `queue` hands out, computed with [`compute_rows_f64`]'s engine until the
/// queue is empty; public so that the parallel rung runs one such engine per core, all fed
/// from one queue (no engine drains its slots before the frame's last rows).
pub fn compute_queue_f64(grid: &Grid<f64>, queue: &RowQueue<'_>) {
    engine::compute_from::<f64x8, { <f64x8 as Lanes>::INTERLEAVE }, { engine::BLOCK }>(grid, || {
        queue.next_row()
    })
}

/// [`compute_queue_f64`] in f32.
pub fn compute_queue_f32(grid: &Grid<f32>, queue: &RowQueue<'_>) {
    engine::compute_from::<f32x16, { <f32x16 as Lanes>::INTERLEAVE }, { engine::BLOCK }>(grid, || {
        queue.next_row()
    })
}

fn check_rows<R: Real>(grid: &Grid<R>, rows: &Range<u32>, out: &[u32]) {
    let all = grid.rows();
    assert!(
        all.start <= rows.start && rows.start <= rows.end && rows.end <= all.end,
        "rows {rows:?} are not within the grid's rows {all:?}"
    );
    let expected = rows.len() * grid.width() as usize;
    assert_eq!(out.len(), expected, "rows {rows:?} of width {} need {expected} counts", grid.width());
}
