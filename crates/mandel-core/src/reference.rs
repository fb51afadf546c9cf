//! The reference implementation: the numeric contract written as plainly as possible.
//!
//! Performance is irrelevant here; obviousness is everything. Every other kernel is judged
//! against this code, bit for bit.

use std::marker::PhantomData;

use crate::{Frame, Grid, KernelError, MandelKernel, Precision, Real};

// ANCHOR: reference-frame
/// Fills `out` with the escape counts of `frame`, computed in precision `R`, by the contract.
pub fn reference<R: Real>(frame: &Frame, out: &mut [u32]) -> Result<(), KernelError> {
    let grid = Grid::<R>::checked(frame, out)?;
    let width = grid.width() as usize;
    for (k, j) in grid.rows().enumerate() {
        for i in 0..grid.width() {
            out[k * width + i as usize] = escape_count(grid.cx(i), grid.cy(j), grid.max_iter());
        }
    }
    Ok(())
}
// ANCHOR_END: reference-frame

// ANCHOR: escape-count
/// The contract's iteration for one point `c = cr + ci·i`: the escape count, or `max_iter`.
pub fn escape_count<R: Real>(cr: R, ci: R, max_iter: u32) -> u32 {
    let (mut zr, mut zi) = (R::ZERO, R::ZERO);
    for n in 0..max_iter {
        // Every product, difference and sum is rounded on its own, in this order.
        let new_zr = (zr * zr - zi * zi) + cr;
        // zr*zi + zi*zr, written as p + p: the same value bit for bit. (`(2*zr)*zi` is not:
        // it rounds differently when the product is subnormal.)
        let p = zr * zi;
        let new_zi = (p + p) + ci;
        zr = new_zr;
        zi = new_zi;
        if zr * zr + zi * zi > R::FOUR {
            return n;
        }
    }
    max_iter
}
// ANCHOR_END: escape-count

/// The reference as a kernel, so the harness and the race can run it like any other.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReferenceKernel<R>(PhantomData<R>);

impl<R: Real> ReferenceKernel<R> {
    /// The reference in precision `R`.
    pub fn new() -> Self {
        ReferenceKernel(PhantomData)
    }
}

impl<R: Real> MandelKernel for ReferenceKernel<R> {
    fn name(&self) -> &str {
        match R::PRECISION {
            Precision::F64 => "reference",
            Precision::F32 => "reference-f32",
        }
    }
    fn description(&self) -> &str {
        match R::PRECISION {
            Precision::F64 => "The numeric contract in f64, written plainly: it defines correct output",
            Precision::F32 => "The numeric contract in f32, written plainly: it defines correct f32 output",
        }
    }
    fn precision(&self) -> Precision {
        R::PRECISION
    }
    fn is_exact(&self) -> bool {
        true
    }
    fn compute(&self, frame: &Frame, out: &mut [u32]) -> Result<(), KernelError> {
        reference::<R>(frame, out)
    }
}

/// Both references, f64 first.
pub fn reference_kernels() -> Vec<Box<dyn MandelKernel>> {
    vec![Box::new(ReferenceKernel::<f64>::new()), Box::new(ReferenceKernel::<f32>::new())]
}

/// The reference counts of `frame` in `precision`, in a new buffer (an `Err`, not an abort,
/// if that buffer cannot be allocated).
pub fn reference_counts(frame: &Frame, precision: Precision) -> Result<Vec<u32>, KernelError> {
    let mut out = Vec::new();
    out.try_reserve_exact(frame.pixel_count()).map_err(|_| KernelError::OutOfMemory {
        kernel: format!("reference-{precision}"),
        mib: (frame.pixel_count() * 4) >> 20,
    })?;
    out.resize(frame.pixel_count(), 0);
    match precision {
        Precision::F64 => reference::<f64>(frame, &mut out)?,
        Precision::F32 => reference::<f32>(frame, &mut out)?,
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Viewport;

    #[test]
    fn known_points() {
        // c = 0 never escapes; c = 1: z = 1, 2, 5 → |z|² = 25 > 4 at n = 2; c = 2: |z|² = 4 is not > 4, then 36.
        assert_eq!(escape_count(0.0f64, 0.0, 50), 50);
        assert_eq!(escape_count(1.0f64, 0.0, 50), 2);
        assert_eq!(escape_count(2.0f64, 0.0, 50), 1);
        assert_eq!(escape_count(3.0f64, 0.0, 50), 0);
        assert_eq!(escape_count(-2.0f64, 0.0, 50), 50);
        assert_eq!(escape_count(0.0f64, 1.0, 50), 50); // c = i is periodic
        assert_eq!(escape_count(1.0f32, 0.0, 50), 2);
        assert_eq!(escape_count(1.0f64, 0.0, 0), 0);
        // Huge c: |z|² overflows to infinity, which is > 4.
        assert_eq!(escape_count(1e300f64, 1e300, 10), 0);
    }

    #[test]
    fn output_is_row_major_from_the_top() {
        // 3×2 frame: top row at y = 1 (c = x + i), bottom row at y = 0.
        let v = Viewport::from_bounds(-2.0, 1.0, -1.0, 1.0, 3, 2).unwrap();
        let frame = Frame::new(v, 20);
        let counts = reference_counts(&frame, Precision::F64).unwrap();
        let expected: Vec<u32> = [(-2.0, 1.0), (-1.0, 1.0), (0.0, 1.0), (-2.0, 0.0), (-1.0, 0.0), (0.0, 0.0)]
            .iter()
            .map(|&(x, y)| escape_count(x, y, 20))
            .collect();
        assert_eq!(counts, expected);
        assert_eq!(counts[3..], [20, 20, 20]);
    }

    #[test]
    fn wrong_buffer_is_an_error() {
        let frame = Frame::new(Viewport::from_bounds(-2.0, 1.0, -1.0, 1.0, 3, 2).unwrap(), 20);
        let mut short = [0u32; 5];
        assert!(ReferenceKernel::<f64>::new().compute(&frame, &mut short).is_err());
    }
}
