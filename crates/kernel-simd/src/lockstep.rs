//! An experimental second engine, *lockstep*: slots refilled only at block edges, no tested
//! young phase, a suspect block replayed for its own slot alone, and the whole state in locals.
//!
//! It is raced beside [`crate::engine`] by the `lockstep` example (issue 17's study); it is not
//! the engine of the exported kernels until it beats it on every scene and the SIMD chapter
//! explains it. The shape, outermost first:
//! - `S` slots each hold one vector of `WIDTH` consecutive pixels of a row. Before every block,
//!   a slot whose lanes are all done (or that reached `max_iter`) writes its survivors and
//!   takes the next vector ([`load`]).
//! - Every block is `K` untested steps on all slots (fewer only where a slot is due at
//!   `max_iter`). After it, each slot's live lanes are checked against [`REPLAY_ABOVE`]; a
//!   slot with a suspect lane is rewound to the block's start and replayed alone, testing every
//!   step ([`replay`]); the other slots keep their block.
//! - The hot loop touches only `S`-element arrays with loops the compiler unrolls, so the
//!   state stays in vector registers; loading and replaying are cold functions that take and
//!   return one slot's values, so that calling them does not force the state into memory.
//!
//! Invariants (each one is what keeps the output bit-identical to the reference):
//! - Lane `k` of a slot holds pixel `i0 + k` of one row, with `c` from `Grid::cx`/`Grid::cy`;
//!   lanes past the row's end hold `c = 0` and are never live.
//! - Every step is the reference's arithmetic, operation for operation, with nothing fused.
//! - `live[s]` has bit `k` set while lane `k`'s count is unwritten; `done[s]` is the iterations
//!   the slot's vector has run. A lane leaves `live` when its count is written: `done + k` at
//!   an escape found by a replay, `max_iter` when the slot reaches it. Lanes that are not live
//!   keep iterating (they may overflow to infinity or NaN) and every test masks them out.
//! - A block is kept for a slot only if every live lane ends it with `|z|² <= REPLAY_ABOVE`
//!   (NaN is not): by the argument at [`REPLAY_ABOVE`], no live lane escaped inside it.

use std::ops::Range;

use mandel_core::{Grid, Real};

use crate::engine::{Vectors, REPLAY_ABOVE};
use crate::Lanes;

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
    /// Index in the output of each slot's lane 0.
    at: [usize; S],
}

/// Escape counts of rows `rows` of `grid` into `out` (row-major, `rows.len() * width` long),
/// with `S` vectors of type `L` in flight and untested blocks of `K` steps. `rows` must lie
/// within `grid.rows()` (indexing `out` panics otherwise).
// Every per-slot loop indexes all the arrays by the same `s`: once unrolled, each index is a
// constant, which is what lets the state live in registers (measured: rewriting a loop with
// iterators changed the hot loop's register allocation and cost several percent).
#[allow(clippy::needless_range_loop)]
pub fn compute_rows<L: Lanes, const S: usize, const K: u32>(
    grid: &Grid<L::Real>,
    rows: Range<u32>,
    out: &mut [u32],
) {
    debug_assert!(rows.start >= grid.rows().start && rows.end <= grid.rows().end);
    debug_assert_eq!(out.len(), rows.len() * grid.width() as usize);
    const { assert!(K >= 1 && K <= MAX_BLOCK, "a block is 1 to MAX_BLOCK steps") };
    let zero = L::splat(<L::Real as Real>::ZERO);
    let bound = <L::Real as Real>::from_f64(REPLAY_ABOVE);
    let max_iter = grid.max_iter();
    let mut vectors = Vectors::new(grid.width(), rows, L::WIDTH);
    let mut st = State::<L, S> {
        zr: [zero; S],
        zi: [zero; S],
        cr: [zero; S],
        ci: [zero; S],
        live: [0; S],
        done: [0; S],
        at: [0; S],
    };
    // Once the rows run out, empty slots stay empty: no more loads.
    let mut exhausted = false;
    loop {
        for s in 0..S {
            if (st.live[s] == 0 && !exhausted) || (st.live[s] != 0 && st.done[s] == max_iter) {
                let (cr, ci, live, at) = load::<L>(st.live[s], st.at[s], &mut vectors, grid, out);
                (st.zr[s], st.zi[s], st.cr[s], st.ci[s]) = (zero, zero, cr, ci);
                (st.live[s], st.done[s], st.at[s]) = (live, 0, at);
                exhausted |= live == 0;
            }
        }
        let mut len = K;
        let mut busy = 0;
        for s in 0..S {
            busy |= st.live[s];
            if st.live[s] != 0 {
                len = len.min(max_iter - st.done[s]);
            }
        }
        if busy == 0 {
            return;
        }
        let start = (st.zr, st.zi);
        if len == K {
            for _ in 0..K {
                step(&mut st.zr, &mut st.zi, &st.cr, &st.ci);
            }
        } else {
            for _ in 0..len {
                step(&mut st.zr, &mut st.zi, &st.cr, &st.ci);
            }
        }
        let mut suspect = [0u32; S];
        let mut any = 0;
        for s in 0..S {
            suspect[s] = st.live[s] & !(st.zr[s] * st.zr[s] + st.zi[s] * st.zi[s]).at_most(bound).mask_bits();
            any |= suspect[s];
        }
        if any != 0 {
            for s in 0..S {
                if suspect[s] != 0 {
                    let slot = (start.0[s], start.1[s], st.cr[s], st.ci[s]);
                    (st.zr[s], st.zi[s], st.live[s]) =
                        replay::<L>(slot, st.live[s], st.done[s], st.at[s], len, out);
                }
            }
        }
        for s in 0..S {
            // Only live slots need their count, and theirs cannot pass `max_iter`; an empty
            // slot's may wrap, unread.
            st.done[s] = st.done[s].wrapping_add(len);
        }
    }
}

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

/// Writes `max_iter` for the survivors (`live`) of a finished slot whose lane 0 is at `at`,
/// and takes the next vector: returns its `cr`, `ci`, live lanes and place in `out`, or no
/// live lanes once the rows are done. With `max_iter` 0 every vector is done as it is loaded.
#[cold]
#[inline(never)]
fn load<L: Lanes>(
    live: u32,
    at: usize,
    vectors: &mut Vectors,
    grid: &Grid<L::Real>,
    out: &mut [u32],
) -> (L, L, u32, usize) {
    let zero = <L::Real as Real>::ZERO;
    let max_iter = grid.max_iter();
    write(out, at, live, max_iter);
    for vector in vectors.by_ref() {
        if max_iter == 0 {
            out[vector.at..vector.at + vector.lanes].fill(0);
            continue;
        }
        let cr = L::from_fn(|k| if k < vector.lanes { grid.cx(vector.i0 + k as u32) } else { zero });
        return (cr, L::splat(grid.cy(vector.j)), ((1u64 << vector.lanes) - 1) as u32, vector.at);
    }
    (L::splat(zero), L::splat(zero), 0, 0)
}

/// One slot (`z` at the block's start, and `c`) replayed `len` steps from iteration `done`,
/// testing every step: a live lane that escapes at step `k` gets `done + k`. Returns `z` at
/// the block's end and the lanes still live.
#[cold]
#[inline(never)]
fn replay<L: Lanes>(
    slot: (L, L, L, L),
    mut live: u32,
    done: u32,
    at: usize,
    len: u32,
    out: &mut [u32],
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
        write(out, at, escaped, done + k as u32);
    }
    (zr, zi, live)
}

/// Writes `count` for the lanes of `bits`, of the vector whose lane 0 is at `at`.
fn write(out: &mut [u32], at: usize, mut bits: u32, count: u32) {
    while bits != 0 {
        out[at + bits.trailing_zeros() as usize] = count;
        bits &= bits - 1;
    }
}
