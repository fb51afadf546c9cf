//! The engine every SIMD variant shares: vectors in flight, a deferred escape test, exact replays.
//!
//! The shape of the loop, outermost first:
//! - `S` *slots* each hold one vector of `WIDTH` consecutive pixels of a row. When every lane
//!   of a slot is done, the slot is refilled with the next vector, so the `S` independent
//!   dependency chains stay busy until the rows run out.
//! - While any slot is younger than [`YOUNG`] iterations, blocks are *tested*: the escape test
//!   runs after every step (most pixels escape early, and this is where they do).
//! - Otherwise blocks of [`BLOCK`] steps run *untested*, the hot loop [`Orbits::step`], and
//!   `|z|²` is looked at only at the end of the block. If a lane may have escaped inside it,
//!   the block is rewound to its saved start and replayed tested, which gives the exact count.
//!
//! Invariants (each one is what keeps the output bit-identical to the reference):
//! - Lane `k` of a vector holds pixel `i0 + k` of one row, with `c` from `Grid::cx`/`Grid::cy`,
//!   the reference's own formula; lanes past the row's end hold `c = 0`.
//! - Every step is the reference's arithmetic, operation for operation, with nothing fused.
//! - A lane is *live* until its count is written. A lane whose count is written is frozen:
//!   `z`, `c` (and the squares) become 0, so it stays at 0 (never escapes, never overflows)
//!   while its neighbours go on. Lanes past the row's end start frozen.
//! - An untested block is kept only if no live lane can have escaped inside it (see
//!   [`REPLAY_ABOVE`]); otherwise it is replayed from its saved start, testing every step.
//!   Values may overflow to infinity or NaN inside an untested block; the test counts a NaN
//!   `|z|²` as outside, and the replay starts again from finite values.

use std::ops::Range;

use mandel_core::{Grid, Real};

use crate::Lanes;

/// Steps in an untested block (K). Measured on the classic frame (f64x8, 4 in flight):
/// 8 and 16 within 1% of each other, 32 about 5% slower (replays get longer).
pub const BLOCK: u32 = 16;

/// A slot younger than this many iterations makes its blocks tested: 71% of the classic
/// frame's pixels escape within 8 iterations, and replaying their blocks would cost more than
/// the tests. Measured: 8, 16 and 24 within 2%; 0 (replays only) about 4% slower.
pub const YOUNG: u32 = 16;

/// After an untested block, the slots are replayed when any lane has `|z|² > REPLAY_ABOVE`
/// (or NaN). `4` would do if an escaped orbit never came back inside the radius-2 disc by the
/// end of the block. In exact arithmetic it cannot (for `|z| > 2` and `|c| <= |z|`,
/// `|z² + c| >= |z|² - |c| > |z|`); with rounding, a scan of the ulp-scale neighbourhood of
/// `c = -2` (the one point where that bound is tight) and of the circle `|c| = 2`, in f32 and
/// f64, found no orbit whose computed `|z|²` fell back to 4 or below within 16 steps of
/// escaping (the smallest was 4 plus a few ulps). The margin to 3.5 is insurance that costs
/// nothing measurable: live orbits rarely end a block in that ring.
pub const REPLAY_ABOVE: f64 = 3.5;

/// The vector state of `S` vectors in flight ("slots"), as one value: the hot loops copy it
/// into a local, so that it lives in registers rather than behind a reference.
#[derive(Clone, Copy)]
struct Orbits<L, const S: usize> {
    zr: [L; S],
    zi: [L; S],
    cr: [L; S],
    ci: [L; S],
}

/// `zr²` and `zi²` of each slot, carried from one tested step to the next.
struct Squares<L, const S: usize> {
    zr2: [L; S],
    zi2: [L; S],
}

/// The slots: their orbits, and for each the bookkeeping that stays scalar.
struct Slots<L, const S: usize> {
    orbits: Orbits<L, S>,
    /// Iterations done by each slot's vector.
    done: [u32; S],
    /// Lanes still iterating: bit `k` is lane `k`.
    live: [u32; S],
    /// Index in the output of each slot's lane 0.
    at: [usize; S],
}

/// The next vector of pixels to load: row `j`, columns `i0..i0 + lanes`, at `at` in the output.
pub(crate) struct Vector {
    pub(crate) j: u32,
    pub(crate) i0: u32,
    pub(crate) lanes: usize,
    pub(crate) at: usize,
}

/// The frame's pixels, row by row, `WIDTH` at a time; the last vector of a row may be short.
/// Both engines take their vectors from it.
pub(crate) struct Vectors {
    width: u32,
    first_row: u32,
    rows: Range<u32>,
    i: u32,
    lanes: u32,
}

impl Vectors {
    /// The vectors of `rows` (a frame `width` pixels wide), `lanes` pixels each; `at` counts
    /// from the first of `rows`.
    pub(crate) fn new(width: u32, rows: Range<u32>, lanes: usize) -> Vectors {
        Vectors { width, first_row: rows.start, rows, i: 0, lanes: lanes as u32 }
    }
}

impl Iterator for Vectors {
    type Item = Vector;
    fn next(&mut self) -> Option<Vector> {
        if self.i >= self.width {
            self.rows.start += 1;
            self.i = 0;
        }
        if self.rows.is_empty() {
            return None;
        }
        let j = self.rows.start;
        let i0 = self.i;
        let lanes = self.lanes.min(self.width - i0);
        self.i += lanes;
        let at = (j - self.first_row) as usize * self.width as usize + i0 as usize;
        Some(Vector { j, i0, lanes: lanes as usize, at })
    }
}

/// Escape counts of rows `rows` of `grid` into `out` (row-major, `rows.len() * width` long),
/// with `S` vectors of type `L` in flight. `rows` must lie within `grid.rows()` (indexing
/// `out` panics otherwise).
pub fn compute_rows<L: Lanes, const S: usize>(grid: &Grid<L::Real>, rows: Range<u32>, out: &mut [u32]) {
    debug_assert!(rows.start >= grid.rows().start && rows.end <= grid.rows().end);
    debug_assert_eq!(out.len(), rows.len() * grid.width() as usize);
    let max_iter = grid.max_iter();
    let mut vectors = Vectors::new(grid.width(), rows, L::WIDTH);
    let mut slots = Slots::<L, S>::new();
    loop {
        // Give every slot a vector with work left: write the counts of lanes that reached
        // max_iter, load the next vector, or leave the slot empty once the rows are done.
        for s in 0..S {
            while slots.live[s] == 0 || slots.done[s] == max_iter {
                slots.write_survivors(s, max_iter, out);
                match vectors.next() {
                    Some(vector) => slots.load(s, grid, &vector),
                    None => {
                        slots.clear(s);
                        break;
                    }
                }
            }
        }
        let Some(left) = slots.iterations_left(max_iter) else { return };
        if slots.youngest() < YOUNG {
            let len = left.min(BLOCK);
            slots.tested_block(len, out);
            slots.advance(len);
        } else {
            // Whole blocks until the first slot is due; then one short block to finish it.
            let (blocks, len) = if left >= BLOCK { (left / BLOCK, BLOCK) } else { (1, left) };
            let (kept, suspect) = slots.untested_blocks(blocks, len);
            slots.advance(kept * len);
            if suspect {
                slots.tested_block(len, out);
                slots.advance(len);
            }
        }
    }
}

impl<L: Lanes, const S: usize> Slots<L, S> {
    fn new() -> Self {
        let zero = L::splat(<L::Real as Real>::ZERO);
        let orbits = Orbits { zr: [zero; S], zi: [zero; S], cr: [zero; S], ci: [zero; S] };
        Slots { orbits, done: [0; S], live: [0; S], at: [0; S] }
    }

    /// Starts slot `s` on `vector`: `z = 0`, `c` by the grid's formula, padding lanes frozen.
    fn load(&mut self, s: usize, grid: &Grid<L::Real>, vector: &Vector) {
        let zero = <L::Real as Real>::ZERO;
        let ci = grid.cy(vector.j);
        let orbits = &mut self.orbits;
        orbits.cr[s] = L::from_fn(|k| if k < vector.lanes { grid.cx(vector.i0 + k as u32) } else { zero });
        orbits.ci[s] = L::from_fn(|k| if k < vector.lanes { ci } else { zero });
        orbits.zr[s] = L::splat(zero);
        orbits.zi[s] = L::splat(zero);
        self.done[s] = 0;
        self.live[s] = (1u32 << vector.lanes) - 1;
        self.at[s] = vector.at;
    }

    /// Empties slot `s`: every lane frozen at zero.
    fn clear(&mut self, s: usize) {
        let zero = L::splat(<L::Real as Real>::ZERO);
        let orbits = &mut self.orbits;
        (orbits.zr[s], orbits.zi[s], orbits.cr[s], orbits.ci[s]) = (zero, zero, zero, zero);
        self.live[s] = 0;
    }

    /// Writes `max_iter` for the live lanes of slot `s` (called once it has run them all).
    fn write_survivors(&mut self, s: usize, max_iter: u32, out: &mut [u32]) {
        for lane in bits(self.live[s]) {
            out[self.at[s] + lane] = max_iter;
        }
        self.live[s] = 0;
    }

    /// Iterations until the first busy slot reaches `max_iter`; `None` when every slot is empty.
    fn iterations_left(&self, max_iter: u32) -> Option<u32> {
        (0..S).filter(|&s| self.live[s] != 0).map(|s| max_iter - self.done[s]).min()
    }

    /// Iterations done by the youngest busy slot.
    fn youngest(&self) -> u32 {
        (0..S).filter(|&s| self.live[s] != 0).map(|s| self.done[s]).min().unwrap_or(u32::MAX)
    }

    /// Adds `iterations` to the count of every busy slot.
    fn advance(&mut self, iterations: u32) {
        for s in 0..S {
            if self.live[s] != 0 {
                self.done[s] += iterations;
            }
        }
    }

    // ANCHOR: untested-blocks
    /// The hot loop: up to `blocks` blocks of `len` untested steps. Stops at the first block
    /// after which a live lane may have escaped, and rewinds it. Returns the blocks kept, and
    /// whether the next one must be replayed with tests.
    fn untested_blocks(&mut self, blocks: u32, len: u32) -> (u32, bool) {
        let bound = <L::Real as Real>::from_f64(REPLAY_ABOVE);
        let mut orbits = self.orbits;
        let mut kept = 0;
        let mut suspect = false;
        while kept < blocks {
            let start = (orbits.zr, orbits.zi);
            for _ in 0..len {
                orbits.step();
            }
            if !orbits.all_at_most(bound) {
                (orbits.zr, orbits.zi) = start;
                suspect = true;
                break;
            }
            kept += 1;
        }
        self.orbits = orbits;
        (kept, suspect)
    }
    // ANCHOR_END: untested-blocks

    // ANCHOR: tested-block
    /// `len` steps testing every one: a lane that escapes at step `k` gets `done + k` and freezes.
    fn tested_block(&mut self, len: u32, out: &mut [u32]) {
        let four = <L::Real as Real>::FOUR;
        let mut orbits = self.orbits;
        let mut squares = orbits.squares();
        for k in 0..len {
            let inside = orbits.tested_step(&mut squares, four);
            if !all_set(&inside) {
                self.retire(&inside, k, out);
                orbits.freeze(&inside, &mut squares);
            }
        }
        self.orbits = orbits;
    }
    // ANCHOR_END: tested-block

    /// Writes `done + k` for the live lanes outside `inside`, which escaped at step `k`.
    #[inline(never)]
    fn retire(&mut self, inside: &[L; S], k: u32, out: &mut [u32]) {
        for s in 0..S {
            let escaped = !inside[s].mask_bits() & L::ALL_BITS;
            for lane in bits(escaped) {
                out[self.at[s] + lane] = self.done[s] + k;
            }
            self.live[s] &= !escaped;
        }
    }
}

/// Whether every lane of every mask is set.
#[inline(always)]
fn all_set<L: Lanes, const S: usize>(masks: &[L; S]) -> bool {
    masks.iter().fold(L::ALL, |all, &mask| all & mask).mask_bits() == L::ALL_BITS
}

impl<L: Lanes, const S: usize> Orbits<L, S> {
    // ANCHOR: step
    /// One step on every slot, rounded exactly like the reference (`p + p`, never `2·zr·zi`).
    #[inline(always)]
    fn step(&mut self) {
        for s in 0..S {
            let (zr, zi) = (self.zr[s], self.zi[s]);
            let p = zr * zi;
            self.zr[s] = (zr * zr - zi * zi) + self.cr[s];
            self.zi[s] = (p + p) + self.ci[s];
        }
    }
    // ANCHOR_END: step

    /// `zr²` and `zi²` of every slot.
    #[inline(always)]
    fn squares(&self) -> Squares<L, S> {
        Squares {
            zr2: std::array::from_fn(|s| self.zr[s] * self.zr[s]),
            zi2: std::array::from_fn(|s| self.zi[s] * self.zi[s]),
        }
    }

    // ANCHOR: tested-step
    /// [`step`](Self::step) followed by the escape test, reusing the squares both need (the
    /// hoisted rung's trick). Returns each slot's mask of lanes still inside radius 2; frozen
    /// lanes are at 0, so they always are.
    #[inline(always)]
    fn tested_step(&mut self, squares: &mut Squares<L, S>, four: L::Real) -> [L; S] {
        std::array::from_fn(|s| {
            let p = self.zr[s] * self.zi[s];
            self.zr[s] = (squares.zr2[s] - squares.zi2[s]) + self.cr[s];
            self.zi[s] = (p + p) + self.ci[s];
            squares.zr2[s] = self.zr[s] * self.zr[s];
            squares.zi2[s] = self.zi[s] * self.zi[s];
            (squares.zr2[s] + squares.zi2[s]).at_most(four)
        })
    }
    // ANCHOR_END: tested-step

    /// Whether every lane has `|z|² <= bound` (NaN is not).
    #[inline(always)]
    fn all_at_most(&self, bound: L::Real) -> bool {
        let squares = self.squares();
        let inside: [L; S] = std::array::from_fn(|s| (squares.zr2[s] + squares.zi2[s]).at_most(bound));
        all_set(&inside)
    }

    /// Freezes the lanes outside `inside`: `z`, `c` and the squares become 0 and stay 0.
    #[inline(always)]
    fn freeze(&mut self, inside: &[L; S], squares: &mut Squares<L, S>) {
        for (s, &keep) in inside.iter().enumerate() {
            self.zr[s] = self.zr[s] & keep;
            self.zi[s] = self.zi[s] & keep;
            self.cr[s] = self.cr[s] & keep;
            self.ci[s] = self.ci[s] & keep;
            squares.zr2[s] = squares.zr2[s] & keep;
            squares.zi2[s] = squares.zi2[s] & keep;
        }
    }
}

/// The indices of the set bits of `mask`, lowest first.
fn bits(mut mask: u32) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (mask != 0).then(|| {
            let lane = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            lane
        })
    })
}
