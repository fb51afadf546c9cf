//! The engine every SIMD kernel runs: vectors in flight, blocks of untested steps, exact replays.
//!
//! The shape of the loop, outermost first:
//! - First, a *young pass* ([`young_pass`]) runs every vector of `WIDTH` consecutive pixels
//!   of a row to [`YOUNG`] iterations, `S` at a time, testing every step: most pixels escape
//!   young, and a test on all slots at once costs less than the replays below (a replay is
//!   one slot's dependency chain, about as long as a block of all of them). The rows go
//!   through it [`CHUNK`] at a time; the vectors still live at its end are set aside and
//!   run on, before the next chunk, in the blocks below.
//! - `S` *slots* each hold one vector. Before a run of blocks, a slot whose lanes are all
//!   done (or that reached `max_iter`) writes its survivors and takes the next vector
//!   ([`load`]), so the `S` independent dependency chains stay busy until the vectors run out.
//! - Every block is `K` *untested* steps on all slots ([`step`]): no escape test inside it.
//!   After it, each slot's live lanes are checked against [`REPLAY_ABOVE`] ([`suspects`]). A
//!   slot with a suspect lane is rewound to the block's start and replayed alone, testing
//!   every step, which finds the exact step each lane escaped at ([`replay`]); the other slots
//!   keep their block. (A limit of [`YOUNG`] or less has no young pass: the blocks take
//!   vectors straight from the rows.)
//! - Blocks run back to back in an inner loop, with the slots' `z` in locals, until a block
//!   is suspect or the slot nearest `max_iter` reaches it. Only then does the engine leave the
//!   loop, replay, write and refill, in cold functions that take and return one slot's values:
//!   every per-slot loop indexes the arrays by a constant once unrolled, so `zr`, `zi`, `cr`
//!   and `ci` of every slot stay in vector registers while the loop runs.
//! - The engine asks for rows one at a time ([`compute_from`]), so one engine per thread can
//!   share a [`RowQueue`] and keep its slots full until the frame's last rows.
//! - With certificates ([`Certify`], the algorithmic rung), two things change. Every few
//!   blocks the certifier is asked which live lanes provably never escape; they get `max_iter`
//!   at once. And since lanes then finish at scattered times, vectors are *packed*: at the
//!   young pass's end and at each cap after it (doubling up to `max_iter`), a vector more
//!   than half live runs on, and one mostly done sets its live lanes aside in that cap's
//!   pool, from which full vectors are packed (with what the certifier knows of each lane).
//!   Without certificates every vector that outlives the young pass runs on whole to
//!   `max_iter`.
//!
//! Invariants (each one is what keeps the output bit-identical to the reference):
//! - Lane `k` of slot `s` holds the pixel at `at[s][k]`, with `c` from `Grid::cx`/`Grid::cy`,
//!   the reference's own formula: pixel `i0 + k` of one row for a vector taken from the rows
//!   (lanes past the row's end hold `c = 0` and are never live); a lane packed from a pool
//!   brings its `c`, `z` and place with it.
//! - Every step is the reference's arithmetic, operation for operation, with nothing fused.
//! - `live[s]` has bit `k` set while lane `k`'s count is unwritten; `done[s]` is the iterations
//!   the slot's vector has run, the same for all its lanes (a pool holds lanes set aside at
//!   one cap, so a vector packed from it starts at that cap's count). A lane leaves `live`
//!   when its count is written: `done + k` at an escape found by a replay or the young pass,
//!   `max_iter` when the slot reaches it or a certificate proves the lane; or when it is set
//!   aside in a pool, live again in the vector it is packed into. Lanes that are not live
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

/// With certificates, the hot loop is left for checks alone only after this many check
/// periods ([`Certify::every`]) without an exit; a check due is otherwise made at the next exit
/// the engine makes anyway (a suspect block, a cap where a vector may be set aside, a vector's
/// end). Leaving the loop costs about as much as a check: on seahorse valley the loop was left
/// three times as often with certificates as without (at every period for checks, and at every
/// cap). Now it is left as often as without (74,000 to 84,000 times a frame), for 0 to 3% more
/// vector-steps (checks made later). Measured on an AMD EPYC family 26 (`interior-simd`, the
/// old and new engine run at once on the two cores and swapped, median ratio of 10 pairs):
/// waiting 8 periods but still stopping at every cap was 0.95–0.97× the time of the old engine
/// on classic, seahorse and at `max_iter` 10,000; going past caps as well and waiting 4 periods
/// was another 0.964× on classic, 0.976× on seahorse and 1.00× at 10,000 (2 and 8: the same
/// within the noise). Checks made later do cost proofs: with 4 rather than 1, Brent's exact
/// cycles are found later, and `just census` counts 5.9× fewer pixel-iterations than the
/// frame's on classic instead of 6.5×, 24× at 10,000 instead of 31×. Yet 1 was 1.03× the time
/// of 4 on classic, 1.14× on seahorse and 1.02× at 10,000: an exit costs more than the
/// iterations it saves.
pub const CHECK_WAIT: u32 = 4;

/// Steps of the young pass ([`young_pass`]): every vector runs this far testing every step,
/// on all slots at once, before blocks and replays take over. Most pixels of a frame escape
/// young, and a replay of one slot is one dependency chain (about as slow as a block of all
/// `S` slots), so testing every step costs less here. Measured on the classic frame (AMD
/// EPYC family 26, f64x8; the `prof` runs of issue 17): about 7% faster on one thread than
/// replaying every young vector's first blocks; 16 and 48 were no better.
pub const YOUNG: u32 = 32;

/// Rows the young pass takes before the vectors it set aside run on to `max_iter`
/// ([`compute_certified`]). Engines that share a [`RowQueue`] would otherwise each keep
/// the whole frame's survivors of their young pass to themselves, and the one that took
/// more interior rows would finish last: in chunks, what one engine holds is at most a
/// chunk's. Measured on the classic frame with two threads: 4 and 16 rows were equal, 64
/// slower, the whole frame in one chunk no faster than no young pass at all.
pub const CHUNK: u32 = 16;

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
    /// Each slot's cap is `caps[level]`.
    level: [usize; S],
    /// The iterations at which each slot's next check is due (see [`Certify::every`]).
    next: [u32; S],
    /// Where each slot's lanes go in the output.
    at: [[At; MAX_WIDTH]; S],
}

impl<L: Lanes, const S: usize> State<L, S> {
    /// Every slot empty (no live lanes).
    fn empty() -> Self {
        let zero = L::splat(<L::Real as Real>::ZERO);
        State {
            zr: [zero; S],
            zi: [zero; S],
            cr: [zero; S],
            ci: [zero; S],
            live: [0; S],
            done: [0; S],
            level: [0; S],
            next: [0; S],
            at: [[(0, 0); MAX_WIDTH]; S],
        }
    }
}

/// The widest vector the engine takes (`f32x16`).
pub const MAX_WIDTH: usize = 16;

/// A live lane set aside when its slot reaches a pass's cap (see [`Certify::PACK`]):
/// its exact state after the cap's iterations, its `c` and its place in the output.
#[derive(Clone, Copy)]
struct Survivor<R, X> {
    z: (R, R),
    c: (R, R),
    at: At,
    /// What the certifier keeps for the lane ([`Certify::Lane`]).
    x: X,
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
pub fn compute_from<'a, L: Lanes, const S: usize, const K: u32>(
    grid: &Grid<L::Real>,
    next_row: impl FnMut() -> Option<(u32, &'a mut [u32])>,
) {
    compute_certified::<L, S, K, Never>(grid, next_row, &mut Never)
}

/// A way to prove, for some lanes of a slot, that their orbits never escape, so that the
/// engine writes `max_iter` for them at once instead of iterating to `max_iter`: the hook of
/// the algorithmic rung (`kernel-interior`). [`compute_certified`] asks every
/// [`every`](Self::every) steps, between blocks, for each slot with live lanes.
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
    /// Steps from a check of `slot`, whose vector has run `done` iterations, to its next
    /// check. The engine checks a slot whose next check is due at its next exit from the hot
    /// loop, between blocks, and leaves the loop at least every [`CHECK_WAIT`] times
    /// `every(&Slot::default(), 0)` steps. `u32::MAX` never checks.
    fn every(slot: &Self::Slot, done: u32) -> u32;
    /// Whether vectors are packed: at each *cap* (the young pass's end at [`YOUNG`], then
    /// every doubling, the last cap `max_iter`), a vector mostly done sets its live lanes
    /// aside, and they are packed 8 (or 16) to a vector to run on to the next cap.
    /// Certificates free lanes at scattered times; without packing, a vector with one lane
    /// left would run it alone. `false`: every vector that leaves the young pass runs on
    /// whole to `max_iter`.
    const PACK: bool;
    /// What one lane carries from its slot to the vector it is packed into at a cap.
    type Lane: Copy + Default;
    /// Lane `k` of a slot whose vector reached a cap.
    fn lane(slot: &Self::Slot, k: usize) -> Self::Lane;
    /// The slot of a vector packed from `lanes` (lane `k` of the vector is `lanes[k]`; any
    /// further lanes are not live).
    fn pack(lanes: &[Self::Lane]) -> Self::Slot;
    /// The lanes of `live` that provably never escape, given the slot's `z` after `done`
    /// iterations and its `c`.
    fn check(&mut self, slot: &mut Self::Slot, z: (L, L), c: (L, L), live: u32, done: u32) -> u32;
}

/// No certificate: every lane iterates until it escapes or reaches `max_iter`.
pub struct Never;

impl<L: Lanes> Certify<L> for Never {
    type Slot = ();
    fn every(_: &(), _: u32) -> u32 {
        u32::MAX
    }
    const PACK: bool = false;
    type Lane = ();
    fn lane(_: &(), _: usize) {}
    fn pack(_: &[()]) {}
    fn check(&mut self, _: &mut (), _: (L, L), _: (L, L), _: u32, _: u32) -> u32 {
        0
    }
}

/// [`compute_from`] with certificates: every [`Certify::every`] steps, the lanes that `cert`
/// proves never escape get `max_iter` at once and leave their slot, which takes the next
/// vector as soon as its last lane is done. A young pass runs every vector to [`YOUNG`]
/// testing every step, and the vectors still live go on to the blocks and certificates:
/// whole, or with packing ([`Certify::PACK`]) the mostly live ones whole and the lanes of the
/// others set aside, to be packed into full vectors (at each later cap too).
pub fn compute_certified<'a, L: Lanes, const S: usize, const K: u32, C: Certify<L>>(
    grid: &Grid<L::Real>,
    next_row: impl FnMut() -> Option<(u32, &'a mut [u32])>,
    cert: &mut C,
) {
    const { assert!(K >= 1 && K <= MAX_BLOCK, "a block is 1 to MAX_BLOCK steps") };
    const { assert!(L::WIDTH <= MAX_WIDTH, "vectors are at most MAX_WIDTH lanes") };
    let max_iter = grid.max_iter();
    // The caps: `caps[0]` is the young pass's end and the last is `max_iter`; with packing,
    // each cap between them is twice the one before.
    let mut caps = vec![YOUNG.min(max_iter)];
    while caps[caps.len() - 1] < max_iter {
        let last = caps[caps.len() - 1];
        caps.push(if C::PACK { last.saturating_mul(2).min(max_iter) } else { max_iter });
    }
    let young = caps[0] < max_iter;
    // Every row has the same `cr`: computed once, a vector per `WIDTH` columns.
    let zero = <L::Real as Real>::ZERO;
    let cx = (0..grid.width().div_ceil(L::WIDTH as u32))
        .map(|v| {
            L::from_fn(|k| {
                let i = v * L::WIDTH as u32 + k as u32;
                if i < grid.width() {
                    grid.cx(i)
                } else {
                    zero
                }
            })
        })
        .collect();
    let mut vectors = Vectors {
        cx,
        next_row,
        rows: Vec::new(),
        row_of: Vec::new(),
        i: grid.width(),
        width: grid.width(),
        rows_done: false,
        young,
        budget: 0,
        whole: Vec::new(),
        pools: vec![Vec::new(); caps.len()],
        pooled: 0,
        caps,
    };
    if !young {
        run_pass::<L, S, K, C, _>(grid, &mut vectors, cert);
    }
    // With a young pass, rows go through it a chunk at a time, and what it sets aside runs
    // on before the next chunk.
    while young && !vectors.rows_done {
        vectors.budget = CHUNK;
        young_pass::<L, S, C, _>(grid, &mut vectors);
        run_pass::<L, S, K, C, _>(grid, &mut vectors, cert);
    }
    debug_assert!(vectors.whole.is_empty() && vectors.pooled == 0);
}

/// Every vector `vectors` hands out runs until its lanes are done or it reaches its cap;
/// there a vector still mostly live goes on to the next cap, and one mostly done sets its
/// live lanes aside in a pool; at `max_iter` its live lanes get `max_iter`.
// Every per-slot loop indexes all the arrays by the same `s`: once unrolled, each index is a
// constant, which is what lets the state live in registers (measured: rewriting a loop with
// iterators changed the hot loop's register allocation and cost several percent).
#[allow(clippy::needless_range_loop)]
fn run_pass<'a, L: Lanes, const S: usize, const K: u32, C: Certify<L>, F>(
    grid: &Grid<L::Real>,
    vectors: &mut Vectors<'a, L, C::Lane, F>,
    cert: &mut C,
) where
    F: FnMut() -> Option<(u32, &'a mut [u32])>,
{
    let bound = <L::Real as Real>::from_f64(REPLAY_ABOVE);
    let max_iter = grid.max_iter();
    let mut st = State::<L, S>::empty();
    let mut slots = [C::Slot::default(); S];
    let every = C::every(&C::Slot::default(), 0);
    loop {
        for s in 0..S {
            // Until the slot has a vector to run, or there are none left (the check below
            // may prove every lane of the one it took).
            loop {
                // A vector more than half live runs past the caps it would run on at (see
                // `rem` below); the first cap at or past its count is its cap now.
                while st.live[s] != 0 && vectors.caps[st.level[s]] < st.done[s] {
                    st.level[s] += 1;
                }
                let cap = vectors.caps[st.level[s]];
                if !((st.live[s] == 0 && vectors.more()) || (st.live[s] != 0 && st.done[s] == cap)) {
                    break;
                }
                load::<L, S, C, _>(&mut st, &mut slots, s, vectors, grid);
                // A vector that arrives with iterations behind it (set aside by the young
                // pass or packed from a pool) is checked at once: many of its lanes are
                // already in a disc.
                if every != u32::MAX && st.live[s] != 0 && st.next[s] == 0 && st.done[s] > 0 {
                    check_slot(&mut st, &mut slots, s, cert, &mut vectors.rows, max_iter);
                }
            }
        }
        let mut rem = u32::MAX;
        let mut busy = 0;
        for s in 0..S {
            busy |= st.live[s];
            // Lanes leave a slot only between runs of blocks, so a vector more than half
            // live now would run on at its cap: only `max_iter` stops it.
            if st.live[s] != 0 {
                let cap = if runs_on::<L>(st.live[s]) { max_iter } else { vectors.caps[st.level[s]] };
                rem = rem.min(cap - st.done[s]);
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
        // With certificates, a run of blocks also ends after `CHECK_WAIT` check periods
        // (never before one whole block), so that checks due are never put off longer;
        // without, `until` is huge and this is `rem / K`.
        let until = every.saturating_mul(CHECK_WAIT).max(K);
        let full = rem.min(until) / K;
        let (len, blocks, start) = if full == 0 {
            let start = (st.zr, st.zi);
            for _ in 0..rem {
                step(&mut st.zr, &mut st.zi, &st.cr, &st.ci);
            }
            (rem, 1, start)
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
                if any_suspect(&zr, &zi, &live, bound) || blocks == full {
                    (st.zr, st.zi) = (zr, zi);
                    break (K, blocks, start);
                }
                let start = (zr, zi);
                for _ in 0..K {
                    step(&mut zr, &mut zi, &cr, &ci);
                }
                blocks += 1;
                if any_suspect(&zr, &zi, &live, bound) || blocks == full {
                    (st.zr, st.zi) = (zr, zi);
                    break (K, blocks, start);
                }
            }
            // ANCHOR_END: hot-loop
        };
        let (suspect, any) = suspects(&st.zr, &st.zi, &st.live, bound);
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
                        replay::<L>(slot, st.live[s], from, &st.at[s], len, &mut vectors.rows);
                }
            }
        }
        // Checks due are made at every exit, whatever its cause.
        if every != u32::MAX {
            for s in 0..S {
                if st.live[s] != 0 && st.done[s] >= st.next[s] {
                    check_slot(&mut st, &mut slots, s, cert, &mut vectors.rows, max_iter);
                }
            }
        }
    }
}

/// Asks `cert` about slot `s`'s live lanes, writes `max_iter` for those it proves, and sets
/// the slot's next check.
fn check_slot<L: Lanes, const S: usize, C: Certify<L>>(
    st: &mut State<L, S>,
    slots: &mut [C::Slot; S],
    s: usize,
    cert: &mut C,
    rows: &mut [&mut [u32]],
    max_iter: u32,
) {
    if st.done[s] >= max_iter {
        return;
    }
    let (z, c) = ((st.zr[s], st.zi[s]), (st.cr[s], st.ci[s]));
    let proved = cert.check(&mut slots[s], z, c, st.live[s], st.done[s]) & st.live[s];
    st.next[s] = st.done[s].saturating_add(C::every(&slots[s], st.done[s]));
    write(rows, &st.at[s], proved, max_iter);
    st.live[s] &= !proved;
}

/// Steps per round of [`young_pass`].
const ROUND: usize = 8;

/// The young pass: every vector of the next [`CHUNK`] rows runs from `z = 0` to the first
/// cap ([`YOUNG`], or until its lanes are all done) in rounds of [`ROUND`] steps that test
/// every step, logging each step's escapes without a branch, on all `S` slots at once. Most
/// pixels escape young, and testing every step costs less than replaying the first block of
/// nearly every vector one slot at a time. At the cap, a vector is set aside whole, or with
/// packing, if it is mostly done, its live lanes go to the first pool ([`set_aside`]).
#[allow(clippy::needless_range_loop)]
#[inline(never)]
fn young_pass<'a, L: Lanes, const S: usize, C: Certify<L>, F>(
    grid: &Grid<L::Real>,
    vectors: &mut Vectors<'a, L, C::Lane, F>,
) where
    F: FnMut() -> Option<(u32, &'a mut [u32])>,
{
    let four = <L::Real as Real>::FOUR;
    let cap = vectors.caps[0];
    let mut st = State::<L, S>::empty();
    loop {
        for s in 0..S {
            if st.live[s] != 0 && st.done[s] == cap {
                if !C::PACK || runs_on::<L>(st.live[s]) {
                    let (zr, zi, live, at) = (st.zr[s], st.zi[s], st.live[s], st.at[s][0]);
                    vectors.whole.push(Whole { zr, zi, live, at });
                } else {
                    set_aside::<L, S, C>(&st, &C::Slot::default(), s, 0, vectors);
                }
                st.live[s] = 0;
            }
            if st.live[s] == 0 && !vectors.rows_done && (vectors.budget > 0 || vectors.i < vectors.width) {
                take_row_vector(&mut st, s, vectors, grid);
            }
        }
        let mut busy = 0;
        for s in 0..S {
            busy |= st.live[s];
        }
        if busy == 0 {
            return;
        }
        // Every live slot is a multiple of `ROUND` short of the cap, or the cap is shorter.
        let n = ROUND.min(cap as usize);
        let (mut zr, mut zi, mut live) = (st.zr, st.zi, st.live);
        let mut log = [[0u32; ROUND]; S];
        for k in 0..n {
            step(&mut zr, &mut zi, &st.cr, &st.ci);
            for s in 0..S {
                let inside = (zr[s] * zr[s] + zi[s] * zi[s]).at_most(four).mask_bits();
                log[s][k] = live[s] & !inside;
                live[s] &= inside;
            }
        }
        for s in 0..S {
            if st.live[s] & !live[s] != 0 {
                for k in 0..n {
                    if log[s][k] != 0 {
                        write(&mut vectors.rows, &st.at[s], log[s][k], st.done[s] + k as u32);
                    }
                }
            }
            st.done[s] = st.done[s].wrapping_add(n as u32);
        }
        (st.zr, st.zi, st.live) = (zr, zi, live);
    }
}

/// Whether a live lane of any slot ends a block above [`REPLAY_ABOVE`] (or NaN): the hot loop's
/// test, after every block. The slots' lanes are folded with a rotation, a chain LLVM leaves
/// scalar (`kmov`, `andn`, `rorx`, `or`). Folded with a plain OR, the same reduction was
/// vectorised in some of the engine's instances (the masks gathered into a vector register,
/// reduced with shuffles), which made the interior rung's hot loop about 4% slower on seahorse
/// valley (measured by building without LLVM's SLP vectorizer: 0.96x the time).
#[inline(always)]
fn any_suspect<L: Lanes, const S: usize>(zr: &[L; S], zi: &[L; S], live: &[u32; S], bound: L::Real) -> bool {
    let mut any = 0u64;
    for s in 0..S {
        let outside = live[s] & !(zr[s] * zr[s] + zi[s] * zi[s]).at_most(bound).mask_bits();
        // A rotation is a bijection, so `any` is non-zero exactly when some `outside` is.
        any = any.rotate_left(16) | u64::from(outside);
    }
    any != 0
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

/// Where the engine's vectors come from, and where a vector goes at a cap. Without a young
/// pass, every vector comes from the rows (`WIDTH` pixels at a time; the last vector of a row
/// may be short). With one, the run after it takes the vectors it set aside whole first,
/// then vectors packed from the pools: pool `l` holds lanes set aside at `caps[l]`, all of
/// which ran exactly that many iterations. A lane's place in the output is `(row, column)`:
/// its row's index in `rows` (every row taken so far, kept until the engine returns) and its
/// column.
struct Vectors<'a, L: Lanes, X, F> {
    /// `cr` of the vector at columns `v * WIDTH ..`, `Grid::cx`'s values (0 past the row's end).
    cx: Vec<L>,
    next_row: F,
    rows: Vec<&'a mut [u32]>,
    /// The grid row of each of `rows`.
    row_of: Vec<u32>,
    /// The next vector's first column in the last row taken; `width` when that row is done.
    i: u32,
    width: u32,
    /// `next_row` returned `None`.
    rows_done: bool,
    /// Only the young pass takes vectors from the rows (there is one).
    young: bool,
    /// Rows the young pass may still start in this chunk ([`CHUNK`]).
    budget: u32,
    /// Vectors the young pass set aside whole, at `caps[0]` iterations.
    whole: Vec<Whole<L>>,
    pools: Vec<Vec<Survivor<L::Real, X>>>,
    /// The lanes in all the pools.
    pooled: usize,
    caps: Vec<u32>,
}

impl<L: Lanes, X, F> Vectors<'_, L, X, F> {
    /// Whether a slot that asks can get a vector.
    fn more(&self) -> bool {
        (!self.young && !self.rows_done) || !self.whole.is_empty() || self.pooled > 0
    }
}

/// A vector set aside whole by the young pass: `z`, live lanes and lane 0's place (its lanes
/// are consecutive pixels of one row, so `c` and the other places follow from it).
#[derive(Clone, Copy)]
struct Whole<L> {
    zr: L,
    zi: L,
    live: u32,
    at: At,
}

/// Whether a vector with these live lanes goes on whole at a cap (more than half of them are
/// live), rather than setting them aside to be packed.
fn runs_on<L: Lanes>(live: u32) -> bool {
    live.count_ones() as usize > L::WIDTH / 2
}

/// A lane's place in the output: row (in [`Vectors::rows`]) and column.
type At = (u32, u32);

/// Sets the live lanes of slot `s` aside in pool `level`, with what the certifier keeps.
fn set_aside<L: Lanes, const S: usize, C: Certify<L>>(
    st: &State<L, S>,
    slot: &C::Slot,
    s: usize,
    level: usize,
    vectors: &mut Vectors<'_, L, C::Lane, impl Sized>,
) {
    let (zr, zi, cr, ci) = (st.zr[s], st.zi[s], st.cr[s], st.ci[s]);
    let mut bits = st.live[s];
    vectors.pooled += bits.count_ones() as usize;
    while bits != 0 {
        let k = bits.trailing_zeros() as usize;
        let (z, c) = ((zr.lane(k), zi.lane(k)), (cr.lane(k), ci.lane(k)));
        vectors.pools[level].push(Survivor { z, c, at: st.at[s][k], x: C::lane(slot, k) });
        bits &= bits - 1;
    }
}

/// Gives slot `s` the next vector of the rows, or no live lanes once the rows are done. With
/// `max_iter` 0 every row is done as it is taken.
fn take_row_vector<'a, L: Lanes, const S: usize, X, F: FnMut() -> Option<(u32, &'a mut [u32])>>(
    st: &mut State<L, S>,
    s: usize,
    vectors: &mut Vectors<'a, L, X, F>,
    grid: &Grid<L::Real>,
) {
    let zero = <L::Real as Real>::ZERO;
    (st.zr[s], st.zi[s], st.done[s], st.level[s], st.live[s]) = (L::splat(zero), L::splat(zero), 0, 0, 0);
    loop {
        if vectors.i == vectors.width {
            vectors.budget = vectors.budget.saturating_sub(1);
            let Some((j, row)) = (vectors.next_row)() else {
                vectors.rows_done = true;
                return;
            };
            assert!(
                grid.rows().contains(&j) && row.len() == vectors.width as usize,
                "row {j} is not a row of the grid"
            );
            if grid.max_iter() == 0 {
                row.fill(0);
                continue;
            }
            vectors.rows.push(row);
            vectors.row_of.push(j);
            vectors.i = 0;
        }
        let i0 = vectors.i;
        let row = vectors.rows.len() - 1;
        let cx = vectors.cx[(i0 / L::WIDTH as u32) as usize];
        vectors.i += set_row_vector(st, s, row as u32, i0, cx, vectors.row_of[row], vectors.width, grid);
        return;
    }
}

/// Gives slot `s` the pixels of grid row `j` from column `i0` (`WIDTH` of them, fewer at the
/// row's end), whose counts go to `rows[row]`: their `c` (`cx`, their `Grid::cx`), places, and
/// all of them live. Returns how many there are.
#[allow(clippy::too_many_arguments)]
fn set_row_vector<L: Lanes, const S: usize>(
    st: &mut State<L, S>,
    s: usize,
    row: u32,
    i0: u32,
    cx: L,
    j: u32,
    width: u32,
    grid: &Grid<L::Real>,
) -> u32 {
    let lanes = (L::WIDTH as u32).min(width - i0);
    st.cr[s] = cx;
    st.ci[s] = L::splat(grid.cy(j));
    for (k, place) in st.at[s].iter_mut().enumerate().take(L::WIDTH) {
        *place = (row, i0 + k as u32);
    }
    st.live[s] = ((1u64 << lanes) - 1) as u32;
    lanes
}

/// Finishes slot `s` and gives it its next vector. At its cap, a slot writes `max_iter` for
/// its live lanes if that is the cap; otherwise, if more than half its lanes are live, it
/// keeps its vector and runs on to the next cap, and if not, it sets its live lanes aside in
/// the cap's pool. A slot without a vector takes the rows' next, or one the young pass set
/// aside whole, or one packed from a pool: the lowest pool that fills a vector, else the
/// lowest that is not empty. It gets no live lanes when there is nothing left.
#[cold]
#[inline(never)]
fn load<'a, L: Lanes, const S: usize, C: Certify<L>, F: FnMut() -> Option<(u32, &'a mut [u32])>>(
    st: &mut State<L, S>,
    slots: &mut [C::Slot; S],
    s: usize,
    vectors: &mut Vectors<'a, L, C::Lane, F>,
    grid: &Grid<L::Real>,
) {
    let zero = <L::Real as Real>::ZERO;
    let max_iter = grid.max_iter();
    if st.live[s] != 0 {
        let level = st.level[s];
        if vectors.caps[level] == max_iter {
            write(&mut vectors.rows, &st.at[s], st.live[s], max_iter);
        } else if runs_on::<L>(st.live[s]) {
            st.level[s] += 1;
            return;
        } else {
            set_aside::<L, S, C>(st, &slots[s], s, level, vectors);
        }
        st.live[s] = 0;
    }
    slots[s] = C::Slot::default();
    st.next[s] = 0;
    if !vectors.young && !vectors.rows_done {
        take_row_vector(st, s, vectors, grid);
        if st.live[s] != 0 {
            return;
        }
    }
    if let Some(whole) = vectors.whole.pop() {
        let (row, i0) = whole.at;
        let cx = vectors.cx[(i0 / L::WIDTH as u32) as usize];
        set_row_vector(st, s, row, i0, cx, vectors.row_of[row as usize], vectors.width, grid);
        (st.zr[s], st.zi[s], st.live[s]) = (whole.zr, whole.zi, whole.live);
        (st.done[s], st.level[s]) = (vectors.caps[0], 1);
        return;
    }
    if vectors.pooled == 0 {
        return;
    }
    let level = match vectors.pools.iter().position(|pool| pool.len() >= L::WIDTH) {
        Some(level) => level,
        None => vectors.pools.iter().position(|pool| !pool.is_empty()).expect("a lane is pooled"),
    };
    let pool = &mut vectors.pools[level];
    let n = pool.len().min(L::WIDTH);
    let next = &pool[pool.len() - n..];
    let mut x = [C::Lane::default(); MAX_WIDTH];
    let mut lanes = [[zero; MAX_WIDTH]; 4];
    for (k, lane) in next.iter().enumerate() {
        (st.at[s][k], x[k]) = (lane.at, lane.x);
        (lanes[0][k], lanes[1][k], lanes[2][k], lanes[3][k]) = (lane.z.0, lane.z.1, lane.c.0, lane.c.1);
    }
    slots[s] = C::pack(&x[..n]);
    st.zr[s] = L::from_fn(|k| lanes[0][k]);
    st.zi[s] = L::from_fn(|k| lanes[1][k]);
    st.cr[s] = L::from_fn(|k| lanes[2][k]);
    st.ci[s] = L::from_fn(|k| lanes[3][k]);
    st.live[s] = ((1u64 << n) - 1) as u32;
    (st.done[s], st.level[s]) = (vectors.caps[level], level + 1);
    pool.truncate(pool.len() - n);
    vectors.pooled -= n;
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
    at: &[At; MAX_WIDTH],
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

/// Writes `count` for the lanes of `bits`, whose places are `at`.
fn write(rows: &mut [&mut [u32]], at: &[At; MAX_WIDTH], mut bits: u32, count: u32) {
    while bits != 0 {
        let (row, i) = at[bits.trailing_zeros() as usize];
        rows[row as usize][i as usize] = count;
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
