//! `Lanes`: the handful of vector operations the SIMD engine needs, for each `wide` type it uses.

use std::ops::{Add, BitAnd, BitOr, Div, Mul, Sub};

use mandel_core::Real;
use wide::{f32x16, f64x4, f64x8};

mod sealed {
    pub trait Sealed {}
}

/// A vector of `WIDTH` reals from `wide` (`f64x8`, `f64x4`, `f32x16`), as the engine uses it.
///
/// Only plain IEEE operations appear here: `+`, `-`, `*` each round once, exactly like the
/// scalar reference, and nothing is fused (`wide`'s `mul_add` would be an FMA: one rounding
/// instead of two, which changes results). Sealed: the engine's exactness argument was made for
/// these types only.
pub trait Lanes:
    sealed::Sealed
    + Copy
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + BitAnd<Output = Self>
    + BitOr<Output = Self>
{
    /// The scalar type of one lane.
    type Real: Real;
    /// Lanes per vector.
    const WIDTH: usize;
    /// Vectors in flight for this type, chosen by measurement: `cargo run --release -p
    /// mandel-harness --example interleave` (`just sweep`) races 1 to 8 of each type
    /// on the classic frame. More chains hide more latency until the vector registers run out.
    const INTERLEAVE: usize;
    /// A mask with every lane set.
    const ALL: Self;
    /// [`ALL`](Self::ALL) as [`mask_bits`](Self::mask_bits) gives it.
    const ALL_BITS: u32 = (1 << Self::WIDTH) - 1;
    /// `wide`'s name for the type, used in kernel names (`f64x8`).
    const NAME: &'static str;
    /// Every lane `x`.
    fn splat(x: Self::Real) -> Self;
    /// Lane `k` is `lane(k)`.
    fn from_fn(lane: impl FnMut(usize) -> Self::Real) -> Self;
    /// A lane mask: all ones where `self <= bound`, all zeros elsewhere, NaN included.
    fn at_most(self, bound: Self::Real) -> Self;
    /// Bit `k` set where lane `k` of the mask `self` is set.
    fn mask_bits(self) -> u32;
    /// A lane mask: all ones where `self <= other`, all zeros elsewhere (NaN included).
    fn le(self, other: Self) -> Self;
    /// A lane mask: all ones where `self == other` (`-0 == +0`; NaN never), zeros elsewhere.
    fn eq(self, other: Self) -> Self;
    /// Lane `k` is that of `yes` where the lane mask `self` is set, of `no` elsewhere.
    fn select(self, yes: Self, no: Self) -> Self;
    /// The correctly rounded square root of every lane (IEEE `sqrt`, as `f64::sqrt`).
    fn sqrt(self) -> Self;
    /// Every lane's absolute value (exact).
    fn abs(self) -> Self;
    /// Lane `k` of `self`.
    fn lane(self, k: usize) -> Self::Real;
}

macro_rules! impl_lanes {
    ($vector:ident, $real:ty, $width:literal, $bits:ident, $interleave:literal) => {
        impl sealed::Sealed for $vector {}
        impl Lanes for $vector {
            type Real = $real;
            const WIDTH: usize = $width;
            const NAME: &'static str = stringify!($vector);
            const INTERLEAVE: usize = $interleave;
            const ALL: Self = $vector::from_bits(wide::$bits::splat(!0));
            #[inline(always)]
            fn splat(x: $real) -> Self {
                $vector::splat(x)
            }
            #[inline(always)]
            fn from_fn(lane: impl FnMut(usize) -> $real) -> Self {
                $vector::new(std::array::from_fn(lane))
            }
            #[inline(always)]
            fn at_most(self, bound: $real) -> Self {
                self.simd_le($vector::splat(bound))
            }
            #[inline(always)]
            fn mask_bits(self) -> u32 {
                self.to_bitmask()
            }
            #[inline(always)]
            fn le(self, other: Self) -> Self {
                self.simd_le(other)
            }
            #[inline(always)]
            fn eq(self, other: Self) -> Self {
                self.simd_eq(other)
            }
            #[inline(always)]
            fn select(self, yes: Self, no: Self) -> Self {
                self.bitselect(yes, no)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                $vector::sqrt(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                $vector::abs(self)
            }
            #[inline(always)]
            fn lane(self, k: usize) -> $real {
                self.to_array()[k]
            }
        }
    };
}

impl_lanes!(f64x8, f64, 8, u64x8, 5);
impl_lanes!(f64x4, f64, 4, u64x4, 5);
impl_lanes!(f32x16, f32, 16, u32x16, 5);
