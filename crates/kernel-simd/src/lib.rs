//! Rung 3, SIMD: many pixels per instruction with `wide`, and several vectors in flight per core.
//!
//! Lanes are consecutive pixels of a row, and every lane runs the reference's arithmetic (no
//! FMA, `p + p`, coordinates from `Grid::cx`/`Grid::cy`), so the output is bit-identical to the
//! reference of the kernel's precision. [`engine`] shapes the loop: `S` independent vectors in
//! flight to hide the latency of the `z ← z² + c` chain, escaped lanes frozen with masks, and
//! an escape test deferred to the end of blocks of steps, replayed exactly when it fires.
//!
//! `wide` picks its instructions when the crate is compiled: built for a CPU with AVX-512 an
//! `f64x8` is one 512-bit register, and otherwise two or four narrower ones (the race's header
//! says what the binary was built for). No `unsafe` and no intrinsics here.

pub mod engine;
mod lanes;
pub mod lockstep;

use std::marker::PhantomData;
use std::ops::Range;

use mandel_core::{Frame, Grid, KernelError, MandelKernel, Precision, Real};

pub use lanes::Lanes;
pub use wide::{f32x16, f64x4, f64x8};

/// A SIMD kernel: vectors of type `L`, `S` of them in flight.
pub struct Simd<L, const S: usize> {
    name: String,
    description: String,
    lanes: PhantomData<L>,
}

impl<L: Lanes, const S: usize> Default for Simd<L, S> {
    fn default() -> Self {
        Simd::new()
    }
}

impl<L: Lanes, const S: usize> Simd<L, S> {
    /// The kernel; named `simd-f64x8` at the type's chosen interleave ([`Lanes::INTERLEAVE`]),
    /// `simd-f64x8-x2` at others.
    pub fn new() -> Self {
        let name =
            if S == L::INTERLEAVE { format!("simd-{}", L::NAME) } else { format!("simd-{}-x{S}", L::NAME) };
        let register = match (L::WIDTH, <L::Real as Real>::PRECISION) {
            (4, Precision::F64) => "AVX2",
            _ => "AVX-512 where built for it",
        };
        let description = format!(
            "{} {} lanes per vector ({register}), {S} vectors in flight, deferred escape test",
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

/// Every vector type at 1, 2, 4, 6 and 8 vectors in flight: the interleaving sweep.
pub fn interleave_sweep() -> Vec<Box<dyn MandelKernel>> {
    fn each<L: Lanes>() -> Vec<Box<dyn MandelKernel>> {
        vec![
            Box::new(Simd::<L, 1>::new()),
            Box::new(Simd::<L, 2>::new()),
            Box::new(Simd::<L, 4>::new()),
            Box::new(Simd::<L, 6>::new()),
            Box::new(Simd::<L, 8>::new()),
        ]
    }
    [each::<f64x8>(), each::<f64x4>(), each::<f32x16>()].into_iter().flatten().collect()
}

/// A kernel on the experimental [`lockstep`] engine: `S` vectors of type `L` in flight,
/// untested blocks of `K` steps. Named `simd-f64x8-lockstep-x5k8`; raced by the `lockstep`
/// example, not exported to the harness.
pub struct Lockstep<L, const S: usize, const K: u32> {
    name: String,
    description: String,
    lanes: PhantomData<L>,
}

impl<L: Lanes, const S: usize, const K: u32> Default for Lockstep<L, S, K> {
    fn default() -> Self {
        Lockstep::new()
    }
}

impl<L: Lanes, const S: usize, const K: u32> Lockstep<L, S, K> {
    /// The kernel, named after its type, slots and block: `simd-f64x8-lockstep-x5k8`.
    pub fn new() -> Self {
        let name = format!("simd-{}-lockstep-x{S}k{K}", L::NAME);
        let description = format!(
            "{} {} lanes per vector, {S} in flight refilled at block edges, blocks of {K} untested steps, \
             a suspect block replayed for its slot alone",
            L::WIDTH,
            <L::Real as Real>::PRECISION
        );
        Lockstep { name, description, lanes: PhantomData }
    }
}

/// The lockstep engine at several slot counts and block lengths, with the exported kernels it
/// is measured against: the `lockstep` example's contestants.
pub fn lockstep_sweep() -> Vec<Box<dyn MandelKernel>> {
    vec![
        Box::new(SimdF64x8::new()),
        Box::new(Lockstep::<f64x8, 4, 8>::new()),
        Box::new(Lockstep::<f64x8, 5, 8>::new()),
        Box::new(Lockstep::<f64x8, 5, 16>::new()),
        Box::new(Lockstep::<f64x8, 6, 8>::new()),
        Box::new(SimdF32x16::new()),
        Box::new(Lockstep::<f32x16, 4, 8>::new()),
        Box::new(Lockstep::<f32x16, 5, 8>::new()),
    ]
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

simd_kernel!(impl<S: usize> for Simd<L, S> => engine::compute_rows::<L, S>);
simd_kernel!(impl<S: usize, K: u32> for Lockstep<L, S, K> => lockstep::compute_rows::<L, S, K>);

/// Escape counts of global rows `rows` of `grid` into `out` (`rows.len() * width` long, row-major)
/// with the fastest f64 variant; public so that the parallel rung runs this very routine on each
/// core. For one row `j`, pass `j..j + 1`.
///
/// # Panics
/// If `rows` is not within `grid.rows()` or `out` has the wrong length.
pub fn compute_rows_f64(grid: &Grid<f64>, rows: Range<u32>, out: &mut [u32]) {
    check_rows(grid, &rows, out);
    engine::compute_rows::<f64x8, { <f64x8 as Lanes>::INTERLEAVE }>(grid, rows, out)
}

/// [`compute_rows_f64`] in f32, with the fastest f32 variant.
///
/// # Panics
/// If `rows` is not within `grid.rows()` or `out` has the wrong length.
pub fn compute_rows_f32(grid: &Grid<f32>, rows: Range<u32>, out: &mut [u32]) {
    check_rows(grid, &rows, out);
    engine::compute_rows::<f32x16, { <f32x16 as Lanes>::INTERLEAVE }>(grid, rows, out)
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
