//! Rung 1, naive: the 2011 tutorial's `pure_python.py` retold in Rust, obvious rather than clever.
//!
//! Like the Python, it first builds the list of points `q` and the list of `z` values, then
//! walks the lists by index: `z[i] = z[i]*z[i] + q[i]` until `|z|² > 4`. `Complex64`
//! multiplication is exactly the contract's `(zr*zr - zi*zi, zr*zi + zi*zr)`, so it is bit-exact.

use mandel_core::{Frame, Grid, KernelError, MandelKernel, Precision};
use num_complex::Complex64;

/// The naive kernel (`naive`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Naive;

/// The kernels this crate exports (discovered by the harness).
pub fn kernels() -> Vec<Box<dyn MandelKernel>> {
    vec![Box::new(Naive)]
}

impl MandelKernel for Naive {
    fn name(&self) -> &str {
        "naive"
    }
    fn description(&self) -> &str {
        "The tutorial's pure Python, retold: lists of points, complex numbers, one index at a time"
    }
    fn precision(&self) -> Precision {
        Precision::F64
    }
    fn is_exact(&self) -> bool {
        true
    }
    fn compute(&self, frame: &Frame, out: &mut [u32]) -> Result<(), KernelError> {
        let grid = Grid::<f64>::checked(frame, out)?;
        // ANCHOR: inputs
        // Build the inputs first, as the tutorial does: one point per pixel, row by row.
        // (32 bytes a pixel: on a huge frame that can fail, which is an error, not an abort.)
        let (mut q, mut z) = (Vec::new(), Vec::new());
        if q.try_reserve_exact(out.len()).and_then(|()| z.try_reserve_exact(out.len())).is_err() {
            let mib = out.len().saturating_mul(2 * std::mem::size_of::<Complex64>()) >> 20;
            return Err(KernelError::OutOfMemory { kernel: self.name().into(), mib });
        }
        for j in grid.rows() {
            for i in 0..grid.width() {
                q.push(Complex64::new(grid.cx(i), grid.cy(j)));
            }
        }
        z.resize(q.len(), Complex64::new(0.0, 0.0));
        calculate_z(&q, grid.max_iter(), &mut z, out);
        // ANCHOR_END: inputs
        Ok(())
    }
}

// ANCHOR: hot-loop
/// The tutorial's `calculate_z_serial_purepython`, with the contract's `max_iter` for the interior.
fn calculate_z(q: &[Complex64], max_iter: u32, z: &mut [Complex64], output: &mut [u32]) {
    for i in 0..q.len() {
        output[i] = max_iter;
        for iteration in 0..max_iter {
            z[i] = z[i] * z[i] + q[i];
            if z[i].norm_sqr() > 4.0 {
                output[i] = iteration;
                break;
            }
        }
    }
}
// ANCHOR_END: hot-loop
