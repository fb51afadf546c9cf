//! The engine every SIMD kernel runs: vectors in flight, blocks of untested steps, exact replays.
//!
//! The shape of the loop, outermost first:
//! - `S` *slots* each hold one vector of `WIDTH` consecutive pixels of a row. Before a run of
//!   blocks, a slot whose lanes are all done (or that reached `max_iter`) writes its survivors
//!   and takes the next vector ([`load`]), so the `S` independent dependency chains stay busy
//!   until the rows run out.
//! - Every block is `K` *untested* steps on all slots ([`step`]): no escape test inside it.
//!   After it, each slot's live lanes are checked against [`REPLAY_ABOVE`] ([`suspects`]). A
//!   slot with a suspect lane is rewound to the block's start and replayed alone, testing
//!   every step, which finds the exact step each lane escaped at ([`replay`]); the other slots
//!   keep their block. There is no tested phase for young vectors: a fresh vector's first
//!   block is usually replayed (most pixels escape in it), and that costs less than testing
//!   every slot whenever one of them is young.
//! - Blocks run back to back in an inner loop, with the slots' `z` in locals, until a block
//!   is suspect or the slot nearest `max_iter` reaches it. Only then does the engine leave the
//!   loop, replay, write and refill, in cold functions that take and return one slot's values:
//!   every per-slot loop indexes the arrays by a constant once unrolled, so `zr`, `zi`, `cr`
//!   and `ci` of every slot stay in vector registers while the loop runs.
//! - The engine asks for rows one at a time ([`compute_from`]), so one engine per thread can
//!   share a [`RowQueue`] and keep its slots full until the frame's last rows.
//!
//! Invariants (each one is what keeps the output bit-identical to the reference):
//! - Lane `k` of a slot holds pixel `i0 + k` of one row, with `c` from `Grid::cx`/`Grid::cy`,
//!   the reference's own formula; lanes past the row's end hold `c = 0` and are never live.
//! - Every step is the reference's arithmetic, operation for operation, with nothing fused.
//! - `live[s]` has bit `k` set while lane `k`'s count is unwritten; `done[s]` is the iterations
//!   the slot's vector has run. A lane leaves `live` when its count is written: `done + k` at
//!   an escape found by a replay, `max_iter` when the slot reaches it. Lanes that are not live
//!   keep iterating (they may overflow to infinity or NaN) and every test masks them out.
//! - A block is kept for a slot only if every live lane ends it with `|z|² <= REPLAY_ABOVE`
//!   (NaN is not): by the argument at [`REPLAY_ABOVE`], no live lane escaped inside it. A
//!   replay starts from the block's saved start, where every live lane was finite and inside.

use std::ops::Range;
use std::sync::Mutex;

use mandel_core::{Grid, Real};

use crate::Lanes;

/// Steps in an untested block (K). Measured on the classic frame (f64x8, 5 in flight; the
/// `interleave` example): 8 is best; 16 replays twice as many steps per escape, 4 checks
/// twice as often.
pub const BLOCK: u32 = 8;

/// After an untested block, the slots are replayed when any lane has `|z|² > REPLAY_ABOVE`
/// (or NaN). `4` would do if an escaped orbit never came back inside the radius-2 disc by the
/// end of the block. In exact arithmetic it cannot (for `|z| > 2` and `|c| <= |z|`,
/// `|z² + c| >= |z|² - |c| > |z|`); with rounding, a scan of the ulp-scale neighbourhood of
/// `c = -2` (the one point where that bound is tight) and of the circle `|c| = 2`, in f32 and
/// f64, found no orbit whose computed `|z|²` fell back to 4 or below within 16 steps of
/// escaping (the smallest was 4 plus a few ulps). The margin to 3.5 is insurance that costs
/// nothing measurable: live orbits rarely end a block in that ring.
pub const REPLAY_ABOVE: f64 = 3.5;

/// The longest block `K` may be (the size of a replay's log).
pub const MAX_BLOCK: u32 = 32;

/// The slots, as one value the hot loop keeps in registers.
#[derive(Clone, Copy)]
struct State<L, const S: usize> {
    zr: [L; S],
    zi: [L; S],
    cr: [L; S],
    ci: [L; S],
    /// Lanes still iterating: bit `k` is lane `k`.
    live: [u32; S],
    /// Iterations run by each slot's vector.
    done: [u32; S],
    /// Where each slot's lane 0 goes in the output.
    at: [At; S],
}

/// Escape counts of rows `rows` of `grid` into `out` (row-major, `rows.len() * width` long),
/// with `S` vectors of type `L` in flight and untested blocks of `K` steps. `rows` must lie
/// within `grid.rows()`.
pub fn compute_rows<L: Lanes, const S: usize, const K: u32>(
    grid: &Grid<L::Real>,
    rows: Range<u32>,
    out: &mut [u32],
) {
    debug_assert!(rows.start >= grid.rows().start && rows.end <= grid.rows().end);
    debug_assert_eq!(out.len(), rows.len() * grid.width() as usize);
    let mut rows = rows.zip(out.chunks_exact_mut(grid.width() as usize));
    compute_from::<L, S, K>(grid, || rows.next());
}

/// Escape counts of the rows that `next_row` hands out, one `(j, counts of row j)` at a time,
/// until it returns `None`: the engine asks for a row only when a slot needs a vector, so
/// several engines (one per thread) can share one [`RowQueue`] and none of them drains its
/// slots before the frame's last row. Every row `j` must lie within `grid.rows()` and its
/// slice be `grid.width()` long.
// Every per-slot loop indexes all the arrays by the same `s`: once unrolled, each index is a
// constant, which is what lets the state live in registers (measured: rewriting a loop with
// iterators changed the hot loop's register allocation and cost several percent).
#[allow(clippy::needless_range_loop)]
pub fn compute_from<'a, L: Lanes, const S: usize, const K: u32>(
    grid: &Grid<L::Real>,
    next_row: impl FnMut() -> Option<(u32, &'a mut [u32])>,
) {
    compute_certified::<L, S, K, Never>(grid, next_row, &mut Never)
}

/// A way to prove, for some lanes of a slot, that their orbits never escape, so that the
/// engine writes `max_iter` for them at once instead of iterating to `max_iter`: the hook of
/// the algorithmic rung (`kernel-interior`). [`compute_certified`] asks every
/// [`EVERY`](Self::EVERY) steps, between blocks, for each slot with live lanes.
///
/// The engine's side of the contract: when it calls [`check`](Self::check), `z` is the slot's
/// exact state after `done` iterations of the reference's arithmetic, and every live lane has
/// passed the escape test at every one of those iterations (a block is kept only when none of
/// its live lanes escaped in it). The certifier's side: a lane it returns must be one whose
/// computed orbit, continued from `z` with the reference's arithmetic, never fails the escape
/// test; the engine writes `max_iter` for it, which is then the reference's count.
pub trait Certify<L: Lanes> {
    /// What the certifier keeps per slot; reset (to its `Default`) when the slot takes a vector.
    type Slot: Copy + Default;
    /// Steps between checks: a multiple of the block length `K` is checked exactly that often,
    /// others at the first block end past it. `u32::MAX` never checks.
    const EVERY: u32;
    /// The lanes of `live` that provably never escape, given the slot's `z` after `done`
    /// iterations and its `c`.
    fn check(&mut self, slot: &mut Self::Slot, z: (L, L), c: (L, L), live: u32, done: u32) -> u32;
}

/// No certificate: every lane iterates until it escapes or reaches `max_iter`.
pub struct Never;

impl<L: Lanes> Certify<L> for Never {
    type Slot = ();
    const EVERY: u32 = u32::MAX;
    fn check(&mut self, _: &mut (), _: (L, L), _: (L, L), _: u32, _: u32) -> u32 {
        0
    }
}

/// [`compute_from`] with certificates: every [`Certify::EVERY`] steps, the lanes that `cert`
/// proves never escape get `max_iter` at once and leave their slot, which takes the next
/// vector as soon as its last lane is done.
#[allow(clippy::needless_range_loop)]
pub fn compute_certified<'a, L: Lanes, const S: usize, const K: u32, C: Certify<L>>(
    grid: &Grid<L::Real>,
    next_row: impl FnMut() -> Option<(u32, &'a mut [u32])>,
    cert: &mut C,
) {
    const { assert!(K >= 1 && K <= MAX_BLOCK, "a block is 1 to MAX_BLOCK steps") };
    let zero = L::splat(<L::Real as Real>::ZERO);
    let bound = <L::Real as Real>::from_f64(REPLAY_ABOVE);
    let max_iter = grid.max_iter();
    let mut vectors = RowVectors { next_row, rows: Vec::new(), j: 0, i: grid.width(), width: grid.width() };
    let mut st = State::<L, S> {
        zr: [zero; S],
        zi: [zero; S],
        cr: [zero; S],
        ci: [zero; S],
        live: [0; S],
        done: [0; S],
        at: [(0, 0); S],
    };
    let mut slots = [C::Slot::default(); S];
    // Steps since the last check, counted only when there are certificates.
    let mut since_check = 0u32;
    // Once the rows run out, empty slots stay empty: no more loads.
    let mut exhausted = false;
    loop {
        for s in 0..S {
            if (st.live[s] == 0 && !exhausted) || (st.live[s] != 0 && st.done[s] == max_iter) {
                let (cr, ci, live, at) = load::<L, _>(st.live[s], st.at[s], &mut vectors, grid);
                (st.zr[s], st.zi[s], st.cr[s], st.ci[s]) = (zero, zero, cr, ci);
                (st.live[s], st.done[s], st.at[s]) = (live, 0, at);
                slots[s] = C::Slot::default();
                exhausted |= live == 0;
            }
        }
        let mut rem = u32::MAX;
        let mut busy = 0;
        for s in 0..S {
            busy |= st.live[s];
            if st.live[s] != 0 {
                rem = rem.min(max_iter - st.done[s]);
            }
        }
        if busy == 0 {
            return;
        }
        // Whole blocks run back to back in an inner loop with `z` in locals; it leaves after
        // the first suspect block, or when the slot nearest `max_iter` reaches it. Only then
        // are slots replayed, written and refilled, out of line: a call inside the loop would
        // push every vector register of the slots to memory (the calling convention saves
        // none of them), and so would a replay inlined there (measured: about 1.2x slower).
        // With certificates, a run of blocks also ends at the next check (never before one
        // whole block); without, `until` is huge and this is `rem / K`.
        let until = C::EVERY.saturating_sub(since_check).max(K);
        let full = rem.min(until) / K;
        let (len, blocks, start, suspect, any) = if full == 0 {
            let start = (st.zr, st.zi);
            for _ in 0..rem {
                step(&mut st.zr, &mut st.zi, &st.cr, &st.ci);
            }
            let (suspect, any) = suspects(&st.zr, &st.zi, &st.live, bound);
            (rem, 1, start, suspect, any)
        } else {
            let (mut zr, mut zi) = (st.zr, st.zi);
            let (cr, ci, live) = (st.cr, st.ci, st.live);
            let mut blocks = 0;
            // ANCHOR: hot-loop
            // Two blocks per turn, so that the saved start of one block and the end of the
            // next can share registers: with one, the compiler copied all of `z` twice per block.
            loop {
                let start = (zr, zi);
                for _ in 0..K {
                    step(&mut zr, &mut zi, &cr, &ci);
                }
                blocks += 1;
                let (suspect, any) = suspects(&zr, &zi, &live, bound);
                if any != 0 || blocks == full {
                    (st.zr, st.zi) = (zr, zi);
                    break (K, blocks, start, suspect, any);
                }
                let start = (zr, zi);
                for _ in 0..K {
                    step(&mut zr, &mut zi, &cr, &ci);
                }
                blocks += 1;
                let (suspect, any) = suspects(&zr, &zi, &live, bound);
                if any != 0 || blocks == full {
                    (st.zr, st.zi) = (zr, zi);
                    break (K, blocks, start, suspect, any);
                }
            }
            // ANCHOR_END: hot-loop
        };
        // Every live slot ran `blocks` blocks; the last one is replayed where it is suspect,
        // from the iteration it started at.
        for s in 0..S {
            // Only live slots need their count, and theirs cannot pass `max_iter`; an empty
            // slot's may wrap, unread.
            st.done[s] = st.done[s].wrapping_add(len * blocks);
        }
        if any != 0 {
            for s in 0..S {
                if suspect[s] != 0 {
                    let slot = (start.0[s], start.1[s], st.cr[s], st.ci[s]);
                    let from = st.done[s].wrapping_sub(len);
                    (st.zr[s], st.zi[s], st.live[s]) =
                        replay::<L>(slot, st.live[s], from, st.at[s], len, &mut vectors.rows);
                }
            }
        }
        if C::EVERY != u32::MAX {
            since_check += len * blocks;
            if since_check >= C::EVERY {
                since_check = 0;
                for s in 0..S {
                    if st.live[s] != 0 && st.done[s] < max_iter {
                        let z = (st.zr[s], st.zi[s]);
                        let proved =
                            cert.check(&mut slots[s], z, (st.cr[s], st.ci[s]), st.live[s], st.done[s]);
                        let proved = proved & st.live[s];
                        write(&mut vectors.rows, st.at[s], proved, max_iter);
                        st.live[s] &= !proved;
                    }
                }
            }
        }
    }
}

/// The live lanes of each slot that end a block above [`REPLAY_ABOVE`] (or NaN), and their union.
#[inline(always)]
fn suspects<L: Lanes, const S: usize>(
    zr: &[L; S],
    zi: &[L; S],
    live: &[u32; S],
    bound: L::Real,
) -> ([u32; S], u32) {
    let mut suspect = [0u32; S];
    let mut any = 0;
    for s in 0..S {
        suspect[s] = live[s] & !(zr[s] * zr[s] + zi[s] * zi[s]).at_most(bound).mask_bits();
        any |= suspect[s];
    }
    (suspect, any)
}

// ANCHOR: step
/// One step on every slot, rounded exactly like the reference (`p + p`, never `2·zr·zi`).
#[inline(always)]
fn step<L: Lanes, const S: usize>(zr: &mut [L; S], zi: &mut [L; S], cr: &[L; S], ci: &[L; S]) {
    for s in 0..S {
        let (r, i) = (zr[s], zi[s]);
        let p = r * i;
        zr[s] = (r * r - i * i) + cr[s];
        zi[s] = (p + p) + ci[s];
    }
}
// ANCHOR_END: step

/// The engine's pixels, `WIDTH` at a time, from the rows that `next_row` hands out; the last
/// vector of a row may be short. A slot's place in the output is `(row, column)`: its row's
/// index in `rows` (every row taken so far, kept until the engine returns) and its lane 0's
/// column.
struct RowVectors<'a, F> {
    next_row: F,
    rows: Vec<&'a mut [u32]>,
    /// The row of the last row taken.
    j: u32,
    /// The next vector's first column in the last row taken; `width` when that row is done.
    i: u32,
    width: u32,
}

/// A slot's place in the output: row (in [`RowVectors::rows`]) and column of its lane 0.
type At = (usize, usize);

/// Writes `max_iter` for the survivors (`live`) of a finished slot at `at`, and takes the
/// next vector: returns its `cr`, `ci`, live lanes and place, or no live lanes once the rows
/// are done. With `max_iter` 0 every vector is done as it is loaded.
#[cold]
#[inline(never)]
fn load<'a, L: Lanes, F: FnMut() -> Option<(u32, &'a mut [u32])>>(
    live: u32,
    at: At,
    vectors: &mut RowVectors<'a, F>,
    grid: &Grid<L::Real>,
) -> (L, L, u32, At) {
    let zero = <L::Real as Real>::ZERO;
    let max_iter = grid.max_iter();
    write(&mut vectors.rows, at, live, max_iter);
    loop {
        if vectors.i == vectors.width {
            let Some((j, row)) = (vectors.next_row)() else {
                return (L::splat(zero), L::splat(zero), 0, (0, 0));
            };
            assert!(
                grid.rows().contains(&j) && row.len() == vectors.width as usize,
                "row {j} is not a row of the grid"
            );
            if max_iter == 0 {
                row.fill(0);
                continue;
            }
            vectors.rows.push(row);
            vectors.i = 0;
            vectors.j = j;
        }
        let i0 = vectors.i;
        let lanes = (L::WIDTH as u32).min(vectors.width - i0);
        vectors.i += lanes;
        let cr = L::from_fn(|k| if (k as u32) < lanes { grid.cx(i0 + k as u32) } else { zero });
        let at = (vectors.rows.len() - 1, i0 as usize);
        return (cr, L::splat(grid.cy(vectors.j)), ((1u64 << lanes) - 1) as u32, at);
    }
}

// ANCHOR: replay
/// One slot (`z` at the block's start, and `c`) replayed `len` steps from iteration `done`,
/// testing every step: a live lane that escapes at step `k` gets `done + k`. Returns `z` at
/// the block's end and the lanes still live.
#[cold]
#[inline(never)]
fn replay<L: Lanes>(
    slot: (L, L, L, L),
    mut live: u32,
    done: u32,
    at: At,
    len: u32,
    rows: &mut [&mut [u32]],
) -> (L, L, u32) {
    let four = <L::Real as Real>::FOUR;
    let (mut zr, mut zi, cr, ci) = slot;
    // The lanes that escape at each step, logged without a branch (escapes are unpredictable)
    // and written afterwards.
    let mut log = [0u32; MAX_BLOCK as usize];
    for escaped in log.iter_mut().take(len as usize) {
        let p = zr * zi;
        zr = (zr * zr - zi * zi) + cr;
        zi = (p + p) + ci;
        let inside = (zr * zr + zi * zi).at_most(four).mask_bits();
        *escaped = live & !inside;
        live &= inside;
    }
    for (k, &escaped) in log.iter().take(len as usize).enumerate() {
        write(rows, at, escaped, done + k as u32);
    }
    (zr, zi, live)
}
// ANCHOR_END: replay

/// Writes `count` for the lanes of `bits`, of the vector at `at`.
fn write(rows: &mut [&mut [u32]], (row, i0): At, mut bits: u32, count: u32) {
    while bits != 0 {
        rows[row][i0 + bits.trailing_zeros() as usize] = count;
        bits &= bits - 1;
    }
}

/// Rows of one frame's output handed out one at a time, to any thread that asks: the shared
/// source of [`compute_from`] when several engines (one per thread) fill one frame, as the
/// parallel rung does. Each row is handed out once, as a `&mut` slice of the output, so the
/// engines write disjoint rows without `unsafe`.
pub struct RowQueue<'a> {
    rows: Mutex<std::iter::Zip<Range<u32>, std::slice::ChunksExactMut<'a, u32>>>,
}

impl<'a> RowQueue<'a> {
    /// The rows `rows` of a frame `width` pixels wide, whose counts go to `out` (row-major,
    /// `rows.len() * width` long).
    ///
    /// # Panics
    /// If `out` has the wrong length or `width` is 0.
    pub fn new(width: u32, rows: Range<u32>, out: &'a mut [u32]) -> Self {
        let expected = rows.len() * width as usize;
        assert_eq!(out.len(), expected, "rows {rows:?} of width {width} need {expected} counts");
        RowQueue { rows: Mutex::new(rows.zip(out.chunks_exact_mut(width as usize))) }
    }

    /// The next row, `(j, its counts)`, or `None` when every row has been handed out.
    pub fn next_row(&self) -> Option<(u32, &'a mut [u32])> {
        // A thread that panicked while holding the lock cannot have left the iterator half
        // advanced (`next` on it does not panic), so a poisoned lock is still sound.
        self.rows.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).next()
    }
}
