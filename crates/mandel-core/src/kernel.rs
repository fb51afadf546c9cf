//! The `MandelKernel` trait every rung implements, and its errors.

use crate::frame::FrameError;
use crate::real::Precision;

/// How far a kernel that does not promise exactness may stray: it may differ from the reference
/// of its precision on at most this fraction of a frame's pixels. The conformance kit and the
/// race both hold inexact kernels to it; an exact kernel may differ on none.
pub const INEXACT_TOLERANCE: f64 = 0.01;

/// Whether a kernel can run on this machine now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Availability {
    /// It can run.
    Ready,
    /// It cannot; the reason says what a person could do about it
    /// (for example which driver to install).
    Unavailable(String),
}

/// Why a kernel could not compute a frame.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum KernelError {
    /// The frame cannot be computed in the kernel's precision.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The output buffer does not have one slot per pixel.
    #[error("the output buffer holds {actual} counts but the frame has {expected} pixels")]
    OutputLength {
        /// Pixels in the frame.
        expected: usize,
        /// Length of the buffer given.
        actual: usize,
    },
    /// The kernel cannot run here.
    #[error("kernel {kernel} is unavailable: {reason}")]
    Unavailable {
        /// The kernel's name.
        kernel: String,
        /// Why, and what to do about it.
        reason: String,
    },
    /// The kernel's own working memory could not be allocated.
    #[error("kernel {kernel} cannot allocate {mib} MiB of working memory for this frame")]
    OutOfMemory {
        /// The kernel's name.
        kernel: String,
        /// How much it asked for, in MiB.
        mib: usize,
    },
    /// A device (GPU) failed while computing.
    #[error("device error: {0}")]
    Device(String),
    /// An external program (a Python script) failed or gave an answer that cannot be read.
    #[error("{0}")]
    Program(String),
}

/// A Mandelbrot kernel: one way of computing escape counts under the numeric contract.
///
/// Object-safe, so the harness holds `Box<dyn MandelKernel>`; `Send + Sync`, so one instance
/// may serve several threads. The caller owns the output buffer: a fast kernel allocates
/// nothing per call in the steady state.
pub trait MandelKernel: Send + Sync {
    /// Short kebab-case id that starts with the rung's name: `hoisted`, `simd-f64x8`, `gpu-f32`.
    fn name(&self) -> &str;

    /// One line: the lesson of this rung.
    fn description(&self) -> &str;

    /// The precision the kernel computes in; it is compared with the reference of that precision.
    fn precision(&self) -> Precision;

    /// Whether the kernel promises output bit-identical to the reference of its precision.
    fn is_exact(&self) -> bool;

    /// Whether the kernel skips iterations it proves cannot change a count (the algorithmic
    /// rung): its pixel-iterations per second are then *effective*, the frame's work over its
    /// time, and the race says so.
    fn skips_work(&self) -> bool {
        false
    }

    /// Whether the kernel can run here (a GPU kernel may lack a device).
    fn availability(&self) -> Availability {
        Availability::Ready
    }

    /// Whether the kernel spreads its work over the threads of the rayon pool that calls it,
    /// so that its time depends on the thread count (`mandel race --threads 1,2,4` races these
    /// at each count).
    fn uses_threads(&self) -> bool {
        false
    }

    /// The accelerator the kernel runs on, if it is not the CPU: adapter name, backend and
    /// driver (`NVIDIA H200 (Vulkan, driver 570.1)`). The race prints it in its header.
    fn device(&self) -> Option<String> {
        None
    }

    /// Writes the escape count of every pixel of `frame` into `out`, row-major
    /// (`out.len() == frame.pixel_count()`, row `frame.rows().start` first).
    ///
    /// A frame the kernel's precision cannot represent, a buffer of the wrong length or an
    /// unavailable device is an `Err`, never a panic.
    fn compute(&self, frame: &crate::Frame, out: &mut [u32]) -> Result<(), KernelError>;

    /// For a kernel that runs outside this process and times itself (the tutorial's Python
    /// scripts, raced by `mandel race --python`): computes `frame` `runs` times into `out` (the
    /// last run's counts) and returns each run's seconds as the program measured them, without
    /// its start-up. `None`, the default, means the caller times [`compute`](Self::compute).
    fn timed_runs(
        &self,
        frame: &crate::Frame,
        runs: usize,
        out: &mut [u32],
    ) -> Option<Result<Vec<f64>, KernelError>> {
        let _ = (frame, runs, out);
        None
    }
}

/// Whether `name` is a valid kernel id: lowercase ASCII letters and digits in
/// dash-separated words (`simd-f64x8`), starting with a letter.
pub fn is_valid_kernel_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.split('-').all(|word| {
            !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_names_are_kebab_case() {
        for good in ["naive", "hoisted", "simd-f64x8", "gpu-f32", "reference-f32", "parallel-simd"] {
            assert!(is_valid_kernel_name(good), "{good}");
        }
        for bad in ["", "Naive", "simd_f64", "-simd", "simd-", "simd--x", "8bit", "gpu f32", "ünï"] {
            assert!(!is_valid_kernel_name(bad), "{bad}");
        }
    }
}
