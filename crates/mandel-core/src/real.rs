//! The two precisions of the contract (`f64`, `f32`) behind one small trait.

use std::fmt::{Debug, Display};
use std::ops::{Add, Div, Mul, Sub};

/// The floating-point precision a kernel computes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Precision {
    /// IEEE 754 binary64.
    F64,
    /// IEEE 754 binary32.
    F32,
}

impl Precision {
    /// `"f64"` or `"f32"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::F64 => "f64",
            Precision::F32 => "f32",
        }
    }
}

impl Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f64 {}
    impl Sealed for f32 {}
}

/// A float type the contract is defined in: `f64` or `f32` (sealed).
///
/// Only plain IEEE operations are used through this trait, each rounded on its own:
/// no fused multiply-add, no reassociation.
pub trait Real:
    Copy
    + PartialOrd
    + Debug
    + Display
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Send
    + Sync
    + 'static
    + sealed::Sealed
{
    /// The precision this type stands for.
    const PRECISION: Precision;
    /// Zero.
    const ZERO: Self;
    /// The escape radius squared.
    const FOUR: Self;
    /// The smallest positive normal number: below it lie the subnormals, which the contract
    /// keeps (hardware that flushes them to zero computes other counts).
    const MIN_POSITIVE: Self;
    /// `v` rounded to this precision (exact for `f64`; round-to-nearest for `f32` above 2²⁴).
    fn from_u32(v: u32) -> Self;
    /// `v` rounded to this precision.
    fn from_f64(v: f64) -> Self;
    /// Neither infinite nor NaN.
    fn is_finite(self) -> bool;
}

impl Real for f64 {
    const PRECISION: Precision = Precision::F64;
    const ZERO: Self = 0.0;
    const FOUR: Self = 4.0;
    const MIN_POSITIVE: Self = f64::MIN_POSITIVE;
    #[inline(always)]
    fn from_u32(v: u32) -> Self {
        v as f64
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn is_finite(self) -> bool {
        f64::is_finite(self)
    }
}

impl Real for f32 {
    const PRECISION: Precision = Precision::F32;
    const ZERO: Self = 0.0;
    const FOUR: Self = 4.0;
    const MIN_POSITIVE: Self = f32::MIN_POSITIVE;
    #[inline(always)]
    fn from_u32(v: u32) -> Self {
        v as f32
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn is_finite(self) -> bool {
        f32::is_finite(self)
    }
}
