//! The parallel kernels against the reference: the whole conformance kit on rayon's global
//! pool, on a one-thread pool, and on a seven-thread pool (more threads than CI's two cores, so
//! tasks finish in a different order on every run), plus the other ways to cut a frame.

use kernel_parallel::{Parallel, Split};
use mandel_core::{Availability, Frame, KernelError, MandelKernel, Precision};
use rayon::{ThreadPool, ThreadPoolBuilder};

/// A kernel whose every call runs inside its own rayon pool of a fixed size.
struct OnPool<K> {
    kernel: K,
    pool: ThreadPool,
}

fn on_pool<K: MandelKernel>(threads: usize, kernel: K) -> OnPool<K> {
    let pool = ThreadPoolBuilder::new().num_threads(threads).build().expect("a test pool starts");
    OnPool { kernel, pool }
}

impl<K: MandelKernel> MandelKernel for OnPool<K> {
    fn name(&self) -> &str {
        self.kernel.name()
    }
    fn description(&self) -> &str {
        self.kernel.description()
    }
    fn precision(&self) -> Precision {
        self.kernel.precision()
    }
    fn is_exact(&self) -> bool {
        self.kernel.is_exact()
    }
    fn availability(&self) -> Availability {
        self.kernel.availability()
    }
    fn uses_threads(&self) -> bool {
        self.kernel.uses_threads()
    }
    fn compute(&self, frame: &Frame, out: &mut [u32]) -> Result<(), KernelError> {
        self.pool.install(|| self.kernel.compute(frame, out))
    }
}

/// More threads than the CI machine's two cores, and an odd number.
const MANY: usize = 7;

mandel_testkit::conformance!(
    simd => Parallel::simd(),
    simd_one_thread => on_pool(1, Parallel::simd()),
    simd_many_threads => on_pool(MANY, Parallel::simd()),
    simd_f32 => Parallel::simd_f32(),
    simd_f32_one_thread => on_pool(1, Parallel::simd_f32()),
    simd_f32_many_threads => on_pool(MANY, Parallel::simd_f32()),
    hoisted => Parallel::hoisted(),
    hoisted_one_thread => on_pool(1, Parallel::hoisted()),
    hoisted_many_threads => on_pool(MANY, Parallel::hoisted()),
    simd_in_bands => on_pool(3, Parallel::simd().with_split(Split::Bands)),
    simd_in_two_row_tasks => on_pool(MANY, Parallel::simd().with_split(Split::default())),
    hoisted_shared => on_pool(3, Parallel::hoisted().with_split(Split::Shared)),
    simd_one_pixel_tasks => on_pool(MANY, Parallel::simd().with_split(Split::Stealing { pixels_per_task: 1 })),
);
