//! Rung 7, interior detection: skip the work that provably cannot change a count.
//!
//! On the classic frame the pixels that never escape carry nearly all the iterations. This
//! rung runs the SIMD engine (`kernel_simd::engine::compute_certified`) and, every
//! [`certify::CHECK_EVERY`] steps or soon after (at the engine's next exit from its hot loop;
//! and as soon as a vector set aside at a cap is taken up again), asks three certificates
//! whether a live lane's *computed* orbit (the contract's own rounded arithmetic) can still
//! escape. A lane proven never to escape gets `max_iter` at
//! once, so the output stays bit-identical to the reference. The engine packs the lanes left
//! over into full vectors at each cap (see its module documentation), and carries each lane's
//! discs with it.
//!
//! Entry points: the kernels ([`kernels`]: `interior-simd`, `interior-simd-f32`,
//! `interior-parallel`, `interior-parallel-f32`), [`census_f64`] (what each certificate
//! decided, for `just census`), and [`Interior::flawed`] (a deliberately wrong certificate,
//! for the tests that must catch one).
//!
//! # Certificate 1: exact cycles
//! The contract's step is a deterministic function of `(zr, zi)` for a fixed `c`. If the
//! computed state after `n` iterations equals (`==`) the one saved after `m < n`, the orbit
//! repeats `z_{m+1} … z_n` forever; each of those already passed the escape test (the engine
//! checks only lanes that did), so the count is `max_iter`. `==` treats `-0` and `+0` as equal:
//! states equal up to the signs of zeros have orbits equal up to the signs of zeros (the step
//! squares `zr` and `zi`, and `±0 + x` is `x` for `x ≠ 0`), hence the same escape tests. NaN is
//! never equal. States are saved at Brent's doubling times: at a vector's first check, then
//! whenever its count has doubled since the last save (a packed vector starts afresh).
//!
//! # Certificate 2: trapping discs with a rounding margin
//! Let `F(z) = z² + c` be the exact step (for the float `c`) and `F̂` the computed one. For
//! floats `z` with `|z| <= ρ`, the contract's operations (`zr² - zi²` then `+ cr`; `zr·zi`,
//! doubled exactly, then `+ ci`) each round with relative error at most `u` (`2^-53` in f64,
//! `2^-24` in f32), plus an absolute error below `tiny` where a result is subnormal; summing
//! them, `|F̂(z) − F(z)| <= δ = u(5ρ² + |cr| + |ci|)(1 + 2u) + tiny`.
//!
//! For float centres `w`, `v` and a float radius `r`, if `|z − w| <= r` then
//! `|F(z) − v| = |(z − w)(z + w) + F(w) − v| <= r(2|w| + r) + |F(w) − v|`, so
//! `|F̂(z) − v| <= r(2|w| + r) + e + δ` with `e` an upper bound on `|F(w) − v|` (its computed
//! value plus a bound on the rounding of that computation). When this is `<= r'` the computed
//! step maps the disc `D(w, r)` into `D(v, r')`.
//! - Main cardioid: `w = v` near the fixed point `(1 − √(1 − 4c))/2`, `r' = r`.
//! - Period-2 bulb: `w₁`, `w₂` near the 2-cycle `(−1 ± √(−3 − 4c))/2`; `r₂` is the left side
//!   for `D(w₁, r₁)`, and the disc pair is used when the left side for `D(w₂, r₂)` is `<= r₁`.
//!
//! Every term of the left side is a sum and product of non-negative floats, each operation
//! off by a factor within `(1 ± u)`; the computed value times `1 + 1024u` is therefore above
//! the exact one, and that is what is compared. Both discs must also lie within
//! `|z| <= 1.99`, where the escape test cannot fire. So once the computed `z` is in a disc, all
//! later computed `z` are in the discs and never escape.
//!
//! Membership is tested as `fl(dr² + di²) <= fl(r²)(1 − 1024u) − tiny`, with `dr = fl(zr − wr)`:
//! the rounding of the test (five operations) is far inside the shrink, so a lane that passes
//! is in the disc. Radii below `2^-400` (f64) or `2^-40` (f32) are not used, which keeps `r²`
//! far from underflow, and a negative or NaN radius never passes.
//!
//! # Certificate 3: a ball around a cycle found from the orbit
//! Pixels of the smaller components (period 3, 4, …) have no disc, and Brent finds their
//! cycles only once the rounded orbit repeats exactly, often thousands of iterations after it
//! has converged. So, once per doubling of a lane's count (where [`certify::BALL_STEP_COST`]'s
//! cost model says it pays on this frame), a lane without a disc gets a ball:
//! - *Where to look* (any answer will do; nothing here is trusted): the period `p` is the first
//!   `j` at which `|F̂^j(z) − z|` drops far below every earlier one, and the centre `w` is one
//!   Newton step for `F^p(w) = w` from `z`; the radius is `r = 2|z − w|` (plus `1024u`).
//! - *The proof*: let `B_0 = D(w, r)`, `c_0 = w`, and for `j = 1 … p`, `c_j = F̂(c_{j−1})` (the
//!   computed step) and `ρ_j = ρ_{j−1}(2a_{j−1} + ρ_{j−1}) + 2δ(1.99)`, with `ρ_0 = r` and
//!   `a_j >= |c_j|`, every operation rounded up as above. If each `B_j = D(c_j, ρ_j)`, `j < p`,
//!   lies within `|z| <= 1.99`, then for `y` in `B_{j−1}`:
//!   `|F̂(y) − c_j| <= |F̂(y) − F(y)| + |F(y) − F(c_{j−1})| + |F(c_{j−1}) − F̂(c_{j−1})|
//!   <= δ + |y − c_{j−1}||y + c_{j−1}| + δ <= ρ_j`, so `F̂` maps `B_{j−1}` into `B_j`. If also
//!   `|c_p − w| + ρ_p <= r` (the distance rounded up), `B_p` lies in `B_0`: a computed orbit that
//!   enters `B_0` goes round the balls forever, inside `|z| <= 1.99`, and never escapes. The lane
//!   is proved when its `z` is in `B_0`, tested as for the discs.
//! - For `p = 1` this is the cardioid's disc again, centred by Newton instead of a square root;
//!   for `p = 2`, the bulb's pair. It is used only where a lane has no disc.
//!
//! # The exterior's floor (measured)
//! On the classic frame (AMD EPYC family 26, one thread, scratch builds of the engine before `cr`
//! was computed once per frame): `simd-f64x8` took 24 to 26 ms for the frame and 6.5 ms for the
//! same frame at `max_iter` 33 (the exterior and the interior's first 32 iterations; 5.2 to
//! 5.5 ms after that change); a certifier that proved every lane in the cardioid or the period-2
//! bulb at iteration 0, by the real-number test and at no cost, still took 9.5 to 10 ms, about
//! 2.5x faster than `simd-f64x8`: the exterior and the interior the discs do not cover are paid
//! in both kernels.
//! Testing the discs from iteration 0 in the young pass, for real, saved 3.9M of the frame's
//! 34M pixel-iterations but cost more in discs computed for vectors that then escape young
//! (14.4 ms against 13.0 ms): the engine runs it no more.
//!
//! # What does not qualify
//! Periodicity checking with a tolerance ("close enough"), real-number component tests
//! (`c` is in the cardioid) without the rounding argument, and border tracing or solid guessing
//! can all change a count; none of them is used. The tests hold one of them
//! ([`Flaw::CloseEnough`]: the orbit's period search with a tolerance in place of the ball)
//! and show that it changes counts near the bulbs.

pub mod certify;

use std::marker::PhantomData;
use std::ops::Range;

use kernel_parallel::Parallel;
use kernel_simd::engine::{compute_certified, BLOCK};
use kernel_simd::{f32x16, f64x8, Lanes, RowQueue};
use mandel_core::{Frame, Grid, KernelError, MandelKernel, Precision, Real};

pub use certify::{Census, Certificates, Flaw};

/// One thread: the SIMD engine with certificates, vectors of type `L`, `S` in flight.
pub struct Interior<L, const S: usize> {
    name: String,
    description: String,
    flaw: Flaw,
    lanes: PhantomData<L>,
}

impl<L: Lanes, const S: usize> Interior<L, S> {
    /// `interior-simd` (f64) or `interior-simd-f32`.
    pub fn new() -> Self {
        let name = match <L::Real as Real>::PRECISION {
            Precision::F64 => "interior-simd".to_string(),
            Precision::F32 => "interior-simd-f32".to_string(),
        };
        let description = format!(
            "simd-{}'s engine, interior pixels proven never to escape (trapping discs, exact cycles)",
            L::NAME
        );
        Interior { name, description, flaw: Flaw::None, lanes: PhantomData }
    }

    /// The same kernel with a deliberately wrong certificate (for tests that must catch it).
    pub fn flawed(flaw: Flaw) -> Self {
        Interior { name: "interior-flawed".into(), flaw, ..Interior::new() }
    }
}

impl<L: Lanes, const S: usize> Default for Interior<L, S> {
    fn default() -> Self {
        Interior::new()
    }
}

/// `interior-simd`: f64, one thread.
pub type InteriorSimd = Interior<f64x8, { <f64x8 as Lanes>::INTERLEAVE }>;
/// `interior-simd-f32`: f32, one thread.
pub type InteriorSimdF32 = Interior<f32x16, { <f32x16 as Lanes>::INTERLEAVE }>;

/// Escape counts of the rows `next_row` hands out, with certificates; returns the census.
pub fn compute_from<'a, L: Lanes, const S: usize>(
    grid: &Grid<L::Real>,
    next_row: impl FnMut() -> Option<(u32, &'a mut [u32])>,
    flaw: Flaw,
) -> Census {
    let mut cert = Certificates::<L>::new(grid.max_iter(), flaw);
    compute_certified::<L, S, BLOCK, _>(grid, next_row, &mut cert);
    cert.census
}

/// The whole frame in f64 on one thread, with the census of what each certificate decided.
pub fn census_f64(frame: &Frame, out: &mut [u32]) -> Result<Census, KernelError> {
    let grid = Grid::<f64>::checked(frame, out)?;
    let mut rows = grid.rows().zip(out.chunks_exact_mut(grid.width() as usize));
    Ok(compute_from::<f64x8, { <f64x8 as Lanes>::INTERLEAVE }>(&grid, || rows.next(), Flaw::None))
}

impl<L: Lanes, const S: usize> MandelKernel for Interior<L, S> {
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
    fn skips_work(&self) -> bool {
        true
    }
    fn compute(&self, frame: &Frame, out: &mut [u32]) -> Result<(), KernelError> {
        let grid = Grid::<L::Real>::checked(frame, out)?;
        let mut rows = grid.rows().zip(out.chunks_exact_mut(grid.width() as usize));
        compute_from::<L, S>(&grid, || rows.next(), self.flaw);
        Ok(())
    }
}

fn rows_f64(grid: &Grid<f64>, rows: Range<u32>, out: &mut [u32]) {
    let mut rows = rows.zip(out.chunks_exact_mut(grid.width() as usize));
    compute_from::<f64x8, { <f64x8 as Lanes>::INTERLEAVE }>(grid, || rows.next(), Flaw::None);
}

fn rows_f32(grid: &Grid<f32>, rows: Range<u32>, out: &mut [u32]) {
    let mut rows = rows.zip(out.chunks_exact_mut(grid.width() as usize));
    compute_from::<f32x16, { <f32x16 as Lanes>::INTERLEAVE }>(grid, || rows.next(), Flaw::None);
}

fn queue_f64(grid: &Grid<f64>, queue: &RowQueue<'_>) {
    compute_from::<f64x8, { <f64x8 as Lanes>::INTERLEAVE }>(grid, || queue.next_row(), Flaw::None);
}

fn queue_f32(grid: &Grid<f32>, queue: &RowQueue<'_>) {
    compute_from::<f32x16, { <f32x16 as Lanes>::INTERLEAVE }>(grid, || queue.next_row(), Flaw::None);
}

/// `interior-parallel`: `interior-simd`'s engine on every core, rows from one shared queue
/// (the parallel rung's mechanism).
pub fn interior_parallel() -> Parallel<f64> {
    Parallel::shared(
        "interior-parallel",
        "interior-simd's engine on every core of rayon's pool, each pulling rows from one shared queue",
        rows_f64,
        queue_f64,
    )
    .skipping_work()
}

/// `interior-parallel-f32`.
pub fn interior_parallel_f32() -> Parallel<f32> {
    Parallel::shared(
        "interior-parallel-f32",
        "interior-simd-f32's engine on every core of rayon's pool, each pulling rows from one shared queue",
        rows_f32,
        queue_f32,
    )
    .skipping_work()
}

/// The kernels this crate exports (discovered by the harness).
pub fn kernels() -> Vec<Box<dyn MandelKernel>> {
    vec![
        Box::new(InteriorSimd::new()),
        Box::new(InteriorSimdF32::new()),
        Box::new(interior_parallel()),
        Box::new(interior_parallel_f32()),
    ]
}
