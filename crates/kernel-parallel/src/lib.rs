//! Rung 4, parallel: a single-core row routine run on every core of rayon's pool.
//!
//! The tutorial split its work into chunks, submitted them with `map_async` and joined the
//! results. Threads share memory, so here there is nothing to pickle or join: the output buffer
//! is cut into tasks of whole rows, each task borrows its own slice, and rayon's idle threads
//! steal tasks that have not started yet.
//!
//! # Why small tasks, and stolen
//! The work of a Mandelbrot frame is very uneven. On the classic frame about 20% of the pixels,
//! nearly all in the middle rows, carry 97% of the iterations, so the frame cut into one
//! contiguous band per thread leaves the threads with the outer bands waiting (`just grain`
//! prints what bands cap each thread count at, from the frame's own counts; docs/parallel.md
//! shows them). Tasks of [`PIXELS_PER_TASK`] pixels are small enough that the last one to
//! finish costs little, and large enough that stealing one (a fraction of a microsecond) is
//! noise beside computing it; `just grain` measures the choice.
//!
//! The rung itself is [`compute_in_parallel`], a dozen lines: rayon's `par_chunks_mut` over
//! whole rows, one task per chunk; the hot loop stays in the row routine each task runs.
//!
//! # Why the output is bit-exact
//! Every task calls its row routine with the *global* row indices of the whole frame's
//! [`Grid`], so each pixel's coordinates are computed by the same formula as in a
//! single-threaded run: splitting changes who computes a pixel, never what.
//!
//! # Threads
//! The kernels run on whichever rayon pool calls them: the global one (`RAYON_NUM_THREADS`,
//! `mandel race --threads N`) or one entered with `ThreadPool::install`.

use std::ops::Range;

use mandel_core::{Frame, Grid, KernelError, MandelKernel, Precision, Real};
use rayon::prelude::*;

/// Pixels per task when tasks are stolen: 1,024, so two rows of a 1000-wide frame and one row
/// of anything 1024 or wider. Chosen with `just grain` (2 threads, `parallel-simd` against
/// `simd-f64x8`; docs/parallel.md has the table): tasks of one to a few dozen rows are within
/// noise of each other on the classic and seahorse frames, and much larger ones lose. Large tasks lose at the end of the frame, when one thread still
/// works on its last task and the other has nothing left to steal. Small ones cost almost
/// nothing here (a steal is well under a microsecond, a row of SIMD work tens of microseconds),
/// and a machine with 64 threads still finds hundreds of tasks in a 1000-row frame. The floor in
/// pixels keeps tasks of very narrow frames from being a handful of pixels each.
pub const PIXELS_PER_TASK: usize = 1024;

/// A single-threaded routine that writes the counts of global rows `rows` of a grid into `out`
/// (`rows.len() * width` counts, row-major): what each task runs.
pub type RowRoutine<R> = fn(&Grid<R>, Range<u32>, &mut [u32]);

/// The routine of a kernel that keeps one engine per thread: it computes the rows `queue`
/// hands out, one at a time as it needs them, until the queue is empty.
pub type QueueRoutine<R> = fn(&Grid<R>, &RowQueue<'_>);

pub use kernel_simd::RowQueue;

/// How the frame is cut into tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// One task per thread, all pulling single rows from one shared [`RowQueue`] (the C
    /// peer's atomic row counter). With a [`QueueRoutine`] each thread keeps one engine
    /// running across rows, so its vectors in flight stay full until the frame's last rows;
    /// a kernel without one runs its row routine on one row at a time.
    Shared,
    /// Tasks of whole rows, about this many pixels each (at least one row), each stealable by
    /// an idle thread.
    Stealing {
        /// Pixels per task, rounded up to whole rows.
        pixels_per_task: usize,
    },
    /// One contiguous band of rows per thread, the tutorial's chunks: shown to be slower on
    /// uneven frames, not used by the kernels the race runs.
    Bands,
}

impl Default for Split {
    fn default() -> Self {
        Split::Stealing { pixels_per_task: PIXELS_PER_TASK }
    }
}

impl Split {
    // ANCHOR: rows-per-task
    /// Rows per task for a grid of `width` columns and `height` rows on `threads` threads.
    pub fn rows_per_task(self, width: u32, height: u32, threads: usize) -> usize {
        let rows = match self {
            Split::Stealing { pixels_per_task } => pixels_per_task.div_ceil(width.max(1) as usize),
            Split::Bands => (height as usize).div_ceil(threads.max(1)),
            Split::Shared => 1,
        };
        // Never more than the frame: a task of absurd size is the whole frame.
        rows.min(height as usize).max(1)
    }
    // ANCHOR_END: rows-per-task
}

/// A parallel kernel: `routine` run over the frame's rows on rayon's pool, cut by `split`.
pub struct Parallel<R> {
    name: String,
    description: String,
    routine: RowRoutine<R>,
    /// The engine-per-thread form of `routine`, used by [`Split::Shared`].
    queue: Option<QueueRoutine<R>>,
    split: Split,
    skips_work: bool,
}

impl Parallel<f64> {
    // ANCHOR: parallel-simd
    /// `parallel-simd`: the fastest f64 SIMD routine (`kernel_simd::compute_rows_f64`) on every core.
    pub fn simd() -> Self {
        Parallel::shared(
            "parallel-simd",
            "simd-f64x8's engine on every core of rayon's pool, each pulling rows from one shared queue",
            kernel_simd::compute_rows_f64,
            kernel_simd::compute_queue_f64,
        )
    }
    // ANCHOR_END: parallel-simd

    /// `parallel-hoisted`: the scalar hoisted routine (`kernel_hoisted::compute_row`) on every core.
    pub fn hoisted() -> Self {
        Parallel::new(
            "parallel-hoisted",
            "hoisted's rows on every core of rayon's pool, stolen in small tasks",
            hoisted_rows,
        )
    }
}

impl Parallel<f32> {
    /// `parallel-simd-f32`: the fastest f32 SIMD routine (`kernel_simd::compute_rows_f32`) on every core.
    pub fn simd_f32() -> Self {
        Parallel::shared(
            "parallel-simd-f32",
            "simd-f32x16's engine on every core of rayon's pool, each pulling rows from one shared queue",
            kernel_simd::compute_rows_f32,
            kernel_simd::compute_queue_f32,
        )
    }
}

impl<R: Real> Parallel<R> {
    /// A parallel kernel named `name` that runs `routine` on each task, split the default way.
    pub fn new(name: &str, description: &str, routine: RowRoutine<R>) -> Self {
        Parallel {
            name: name.into(),
            description: description.into(),
            routine,
            queue: None,
            split: Split::default(),
            skips_work: false,
        }
    }

    /// A parallel kernel named `name` with one engine per thread ([`Split::Shared`]), running
    /// `queue` on every thread; `routine` is the same engine over a range of rows, for the
    /// other splits.
    pub fn shared(name: &str, description: &str, routine: RowRoutine<R>, queue: QueueRoutine<R>) -> Self {
        Parallel { queue: Some(queue), split: Split::Shared, ..Parallel::new(name, description, routine) }
    }

    /// The same kernel cut differently, its name suffixed with the split (`-px1024`, `-bands`),
    /// for measuring the grain.
    pub fn with_split(self, split: Split) -> Self {
        let suffix = match split {
            Split::Stealing { pixels_per_task } => format!("px{pixels_per_task}"),
            Split::Bands => "bands".into(),
            Split::Shared => "shared".into(),
        };
        Parallel { name: format!("{}-{suffix}", self.name), split, ..self }
    }

    /// The same kernel, saying that its routine skips iterations it proves cannot change a
    /// count ([`MandelKernel::skips_work`]).
    pub fn skipping_work(self) -> Self {
        Parallel { skips_work: true, ..self }
    }

    /// How this kernel cuts a frame.
    pub fn split(&self) -> Split {
        self.split
    }
}

/// The kernels this crate exports (discovered by the harness).
pub fn kernels() -> Vec<Box<dyn MandelKernel>> {
    vec![Box::new(Parallel::simd()), Box::new(Parallel::simd_f32()), Box::new(Parallel::hoisted())]
}

impl<R: Real> MandelKernel for Parallel<R> {
    fn name(&self) -> &str {
        &self.name
    }
    fn description(&self) -> &str {
        &self.description
    }
    fn precision(&self) -> Precision {
        R::PRECISION
    }
    fn is_exact(&self) -> bool {
        true
    }
    fn skips_work(&self) -> bool {
        self.skips_work
    }
    fn uses_threads(&self) -> bool {
        true
    }
    fn compute(&self, frame: &Frame, out: &mut [u32]) -> Result<(), KernelError> {
        let grid = Grid::<R>::checked(frame, out)?;
        match (self.split, self.queue) {
            (Split::Shared, Some(queue)) => compute_shared(&grid, out, queue),
            _ => compute_in_parallel(&grid, out, self.split, self.routine),
        }
        Ok(())
    }
}

// ANCHOR: compute-in-parallel
/// Cuts `out` into tasks of whole rows and runs `routine` on each, in the current rayon pool.
/// Each task passes its global rows, so the output equals `routine(grid, grid.rows(), out)`.
pub fn compute_in_parallel<R: Real>(grid: &Grid<R>, out: &mut [u32], split: Split, routine: RowRoutine<R>) {
    let width = grid.width() as usize;
    let rows = grid.rows();
    debug_assert_eq!(out.len(), rows.len() * width, "one count per pixel");
    if split == Split::Shared {
        // A row routine has no engine to keep between rows: it runs on one row at a time.
        let queue = RowQueue::new(grid.width(), rows, out);
        rayon::broadcast(|_| {
            while let Some((j, row)) = queue.next_row() {
                routine(grid, j..j + 1, row);
            }
        });
        return;
    }
    let rows_per_task = split.rows_per_task(grid.width(), rows.len() as u32, rayon::current_num_threads());
    out.par_chunks_mut(rows_per_task * width)
        // One task per chunk, each stealable: rayon would otherwise hand out runs of chunks.
        .with_max_len(1)
        .enumerate()
        .for_each(|(task, counts)| {
            let first = rows.start + (task * rows_per_task) as u32;
            let last = first + (counts.len() / width) as u32;
            routine(grid, first..last, counts);
        });
}
// ANCHOR_END: compute-in-parallel

// ANCHOR: compute-shared
/// Runs `routine` once on every thread of the current rayon pool, all taking their rows from
/// one queue over `out`: each row is handed out once, with its global index, so the output
/// equals the single-threaded one whatever thread computes a row.
pub fn compute_shared<R: Real>(grid: &Grid<R>, out: &mut [u32], routine: QueueRoutine<R>) {
    let queue = RowQueue::new(grid.width(), grid.rows(), out);
    rayon::broadcast(|_| routine(grid, &queue));
}
// ANCHOR_END: compute-shared

/// `kernel_hoisted::compute_row` over several rows: the scalar routine in [`RowRoutine`]'s shape.
///
/// # Panics
/// If `out` does not hold `rows.len()` rows of the grid's width.
pub fn hoisted_rows(grid: &Grid<f64>, rows: Range<u32>, out: &mut [u32]) {
    let expected = rows.len() * grid.width() as usize;
    assert_eq!(out.len(), expected, "rows {rows:?} of width {} need {expected} counts", grid.width());
    for (row, j) in out.chunks_exact_mut(grid.width() as usize).zip(rows) {
        kernel_hoisted::compute_row(grid, j, row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mandel_core::Viewport;

    /// A routine that writes each pixel's global row index: shows which rows a task was given.
    fn row_numbers(grid: &Grid<f64>, rows: Range<u32>, out: &mut [u32]) {
        assert_eq!(out.len(), rows.len() * grid.width() as usize, "a task's slice fits its rows");
        for (row, j) in out.chunks_exact_mut(grid.width() as usize).zip(rows) {
            row.fill(j);
        }
    }

    #[test]
    fn every_task_gets_its_global_rows_and_together_they_cover_the_frame_once() {
        let frame = Frame::new(Viewport::from_bounds(-2.0, 1.0, -1.5, 1.5, 37, 101).unwrap(), 10);
        let band = frame.band(13..90).unwrap();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(5).build().unwrap();
        for split in [
            Split::Bands,
            Split::Shared,
            Split::default(),
            Split::Stealing { pixels_per_task: 1 },
            Split::Stealing { pixels_per_task: 100 },
            Split::Stealing { pixels_per_task: 1 << 40 },
        ] {
            for frame in [&frame, &band] {
                let grid = frame.grid::<f64>().unwrap();
                let mut out = vec![u32::MAX; frame.pixel_count()];
                pool.install(|| compute_in_parallel(&grid, &mut out, split, row_numbers));
                let expected: Vec<u32> = frame.rows().flat_map(|j| std::iter::repeat_n(j, 37)).collect();
                assert_eq!(out, expected, "{split:?} on rows {:?}", frame.rows());
            }
        }
    }

    #[test]
    fn tasks_are_whole_rows_of_about_the_asked_size() {
        let default = Split::default();
        assert_eq!(default.rows_per_task(1000, 1000, 2), 2, "1024 pixels round up to 2 rows of 1000");
        assert_eq!(default.rows_per_task(1920, 1080, 2), 1);
        assert_eq!(default.rows_per_task(100_000, 10, 2), 1, "a row wider than a task is one task");
        assert_eq!(Split::Stealing { pixels_per_task: 1 }.rows_per_task(7, 10, 2), 1);
        assert_eq!(Split::Bands.rows_per_task(1000, 1000, 3), 334, "three bands");
        assert_eq!(Split::Bands.rows_per_task(1000, 2, 64), 1, "more threads than rows");
        let absurd = Split::Stealing { pixels_per_task: usize::MAX };
        assert_eq!(absurd.rows_per_task(2, 10, 2), 10, "never more than the frame");
    }

    #[test]
    fn names_say_how_the_frame_is_cut() {
        let names: Vec<String> = kernels().iter().map(|k| k.name().to_string()).collect();
        assert_eq!(names, ["parallel-simd", "parallel-simd-f32", "parallel-hoisted"]);
        assert!(kernels().iter().all(|k| k.uses_threads() && k.is_exact()));
        assert_eq!(Parallel::simd().split(), Split::Shared, "one engine per thread");
        let bands = Parallel::simd().with_split(Split::Bands);
        assert_eq!((bands.name(), bands.split()), ("parallel-simd-bands", Split::Bands));
        let small = Parallel::hoisted().with_split(Split::Stealing { pixels_per_task: 64 });
        assert_eq!(small.name(), "parallel-hoisted-px64");
        assert!(mandel_core::is_valid_kernel_name(small.name()));
    }
}
