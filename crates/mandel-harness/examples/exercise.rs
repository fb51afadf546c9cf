//! A worked answer to the book's exercise (docs/new-kernel.md): the hoisted loop, but several
//! pixels of a row stepped in lockstep so their dependency chains overlap. Raced against
//! `hoisted` with 1, 2, 4 and 8 pixels in flight (`just exercise [scene] [--json FILE]`), and
//! proven exact by the conformance kit (`cargo test -p mandel-harness --example exercise`).

use mandel_core::{Frame, Grid, KernelError, MandelKernel, Precision};
use mandel_harness::race::Contestant;
use mandel_harness::variants::{print, race_variants, StudyArgs};

/// `interleave-xN`: the hoisted kernel with `N` pixels in flight.
#[derive(Clone, Debug)]
struct Interleaved<const N: usize> {
    name: String,
}

impl<const N: usize> Interleaved<N> {
    fn new() -> Self {
        Interleaved { name: format!("interleave-x{N}") }
    }
}

impl<const N: usize> MandelKernel for Interleaved<N> {
    fn name(&self) -> &str {
        &self.name
    }
    fn description(&self) -> &str {
        "The hoisted loop with several pixels of a row in flight: independent chains overlap"
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
            let ci = grid.cy(j);
            let done = (row.len() / N * N) as u32;
            let mut pixels = row.chunks_exact_mut(N);
            for (group, first) in pixels.by_ref().zip((0..).step_by(N)) {
                let cr = std::array::from_fn(|k| grid.cx(first + k as u32));
                group.copy_from_slice(&escape_counts::<N>(cr, ci, grid.max_iter()));
            }
            // The last few pixels of a row that do not fill a group: one at a time.
            for (pixel, i) in pixels.into_remainder().iter_mut().zip(done..) {
                *pixel = kernel_hoisted::escape_count(grid.cx(i), ci, grid.max_iter());
            }
        }
        Ok(())
    }
}

// ANCHOR: interleaved
/// `N` pixels stepped in lockstep: each iteration of the inner loop is independent of the
/// others, so the core overlaps their multiplies instead of waiting on one chain. A pixel that
/// has escaped keeps stepping (its values run off to infinity) until all `N` have.
fn escape_counts<const N: usize>(cr: [f64; N], ci: f64, max_iter: u32) -> [u32; N] {
    let (mut zr, mut zi, mut zr2, mut zi2) = ([0.0f64; N], [0.0f64; N], [0.0f64; N], [0.0f64; N]);
    let mut counts = [max_iter; N];
    let mut running = N;
    for n in 0..max_iter {
        for k in 0..N {
            let p = zr[k] * zi[k];
            zi[k] = (p + p) + ci;
            zr[k] = (zr2[k] - zi2[k]) + cr[k];
            zr2[k] = zr[k] * zr[k];
            zi2[k] = zi[k] * zi[k];
            if zr2[k] + zi2[k] > 4.0 && counts[k] == max_iter {
                counts[k] = n;
                running -= 1;
            }
        }
        if running == 0 {
            break;
        }
    }
    counts
}
// ANCHOR_END: interleaved

fn main() -> Result<(), String> {
    let args = StudyArgs::parse("classic")?;
    let kernels: [Box<dyn MandelKernel>; 5] = [
        Box::new(kernel_hoisted::Hoisted),
        Box::new(Interleaved::<1>::new()),
        Box::new(Interleaved::<2>::new()),
        Box::new(Interleaved::<4>::new()),
        Box::new(Interleaved::<8>::new()),
    ];
    let contestants: Vec<Contestant> =
        kernels.into_iter().map(|kernel| Contestant { crate_name: "exercise".into(), kernel }).collect();
    let report = race_variants(args.scene, &contestants, "hoisted")?;
    print(&report);
    args.write_json(&report)
}

#[cfg(test)]
mod tests {
    use super::Interleaved;

    mandel_testkit::conformance!(x1 => Interleaved::<1>::new(), x3 => Interleaved::<3>::new(),
        x4 => Interleaved::<4>::new());
}
