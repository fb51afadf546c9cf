//! Rung 2, hoisted: the tutorial's "hoist the lookups" step, done the way Rust needs it.
//!
//! No lists of points: coordinates come straight from the grid, a row at a time. The
//! iteration keeps `z` in locals and reuses `zr²` and `zi²` for both the escape test and the
//! next step, and the loops walk the output with iterators, so there is no bounds check inside.
//! It is only a little faster than `naive` (docs/hoisted.md has the race): the compiler already hoisted most of what Python
//! could not, and each iteration waits on the previous one (a dependency chain of about 10 cycles).

use mandel_core::{Frame, Grid, KernelError, MandelKernel, Precision};

/// The hoisted scalar kernel (`hoisted`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Hoisted;

/// The kernels this crate exports (discovered by the harness).
pub fn kernels() -> Vec<Box<dyn MandelKernel>> {
    vec![Box::new(Hoisted)]
}

impl MandelKernel for Hoisted {
    fn name(&self) -> &str {
        "hoisted"
    }
    fn description(&self) -> &str {
        "Locals instead of lists, squares reused, no bounds checks: what Rust's compiler mostly did already"
    }
    fn precision(&self) -> Precision {
        Precision::F64
    }
    fn is_exact(&self) -> bool {
        true
    }
    fn compute(&self, frame: &Frame, out: &mut [u32]) -> Result<(), KernelError> {
        let grid = Grid::<f64>::checked(frame, out)?;
        for (row, j) in out.chunks_exact_mut(grid.width() as usize).zip(grid.rows()) {
            compute_row(&grid, j, row);
        }
        Ok(())
    }
}

/// Escape counts of global row `j` into `row` (`row.len() == grid.width()`); public so that
/// later rungs (the parallel one) can reuse this routine rather than copy it.
pub fn compute_row(grid: &Grid<f64>, j: u32, row: &mut [u32]) {
    debug_assert_eq!(row.len(), grid.width() as usize, "a row has one slot per column");
    debug_assert!(grid.rows().contains(&j), "row {j} is outside the grid's rows");
    let ci = grid.cy(j);
    // ANCHOR: row
    for (pixel, i) in row.iter_mut().zip(0..) {
        *pixel = escape_count(grid.cx(i), ci, grid.max_iter());
    }
    // ANCHOR_END: row
}

// ANCHOR: hot-loop
/// The hot loop: one point, `z` in registers, each square computed once.
#[inline]
pub fn escape_count(cr: f64, ci: f64, max_iter: u32) -> u32 {
    let (mut zr, mut zi, mut zr2, mut zi2) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for n in 0..max_iter {
        let p = zr * zi;
        zi = (p + p) + ci;
        zr = (zr2 - zi2) + cr;
        zr2 = zr * zr;
        zi2 = zi * zi;
        if zr2 + zi2 > 4.0 {
            return n;
        }
    }
    max_iter
}
// ANCHOR_END: hot-loop
