//! The 2011 tutorial's Python programs as race rows (`mandel race --python`): where the ladder
//! starts for a reader who comes from Python.
//!
//! Each row is a script of `python/tutorial/` run as a subprocess with the frame on its command
//! line. The script writes its counts to a `.npy` file, which the race verifies against the
//! reference like any kernel's (a row that differs is WRONG, never ranked), and prints one line
//! of JSON with the seconds of each run, measured by the script around the computation alone:
//! the interpreter's start-up and imports are not in the race's median, and the *first call*
//! column, timed from here around the whole subprocess, shows them.
//!
//! Invariants:
//! - A row is exact: the scripts follow the contract (real arithmetic in its order, the
//!   reference's coordinates), and the race holds them to it.
//! - A row that cannot run (no interpreter, no numpy for the numpy row, scripts missing) is
//!   unavailable with one line saying what to install; it never fails the race.

use std::path::{Path, PathBuf};
use std::process::Command;

use mandel_core::{Availability, Frame, KernelError, MandelKernel, Precision};

/// The tutorial's scripts in this checkout.
pub fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../python/tutorial")
}

/// One script of the tutorial, run by one interpreter.
pub struct PythonRow {
    name: &'static str,
    description: &'static str,
    script: &'static str,
    needs_numpy: bool,
    python: PathBuf,
    dir: PathBuf,
}

/// The rows `mandel race --python` adds, in the tutorial's order, run by `python`.
pub fn rows(python: &Path) -> Vec<PythonRow> {
    let row = |name, script, needs_numpy, description| PythonRow {
        name,
        description,
        script,
        needs_numpy,
        python: python.to_path_buf(),
        dir: scripts_dir(),
    };
    vec![
        row(
            "python-pure",
            "pure_python.py",
            false,
            "The tutorial's first step: lists of points and iterates, an index loop, a break per point",
        ),
        row(
            "python-hoisted",
            "pure_python_hoisted.py",
            false,
            "The same with z, q and their parts read once per point: fewer lookups, same counts",
        ),
        row(
            "python-numpy",
            "numpy_vector.py",
            true,
            "numpy over whole arrays, escaped pixels dropped with masks: vectors cannot break out early",
        ),
    ]
}

impl PythonRow {
    fn script_path(&self) -> PathBuf {
        self.dir.join(self.script)
    }

    /// Runs the script on `frame` `runs` times; returns the last run's counts (the whole frame)
    /// and the seconds of each run as the script measured them.
    fn run(&self, frame: &Frame, runs: usize) -> Result<(Vec<u32>, Vec<f64>), KernelError> {
        let fail = |what: String| KernelError::Program(format!("{}: {what}", self.name));
        let dir = tempfile::tempdir().map_err(|e| fail(format!("cannot make a scratch directory: {e}")))?;
        let counts_path = dir.path().join("counts.npy");
        let v = frame.viewport();
        let output = Command::new(&self.python)
            .arg(self.script_path())
            .arg(format!("--bounds={:?},{:?},{:?},{:?}", v.x_min(), v.x_max(), v.y_min(), v.y_max()))
            .arg(format!("--size={}x{}", v.width(), v.height()))
            .arg(format!("--max-iter={}", frame.max_iter()))
            .arg(format!("--runs={runs}"))
            .arg("--counts")
            .arg(&counts_path)
            .output()
            .map_err(|e| fail(format!("cannot run {}: {e}", self.python.display())))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let last = stderr.lines().last().unwrap_or("no message").trim();
            return Err(fail(format!("{} exited with {}: {last}", self.script, output.status)));
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let report: serde_json::Value = stdout
            .lines()
            .last()
            .and_then(|line| serde_json::from_str(line).ok())
            .ok_or_else(|| fail(format!("{} printed no JSON line of timings", self.script)))?;
        let times: Vec<f64> = report["runs_s"]
            .as_array()
            .map(|runs| runs.iter().filter_map(serde_json::Value::as_f64).collect())
            .unwrap_or_default();
        if times.len() != runs || times.iter().any(|t| !t.is_finite() || *t < 0.0) {
            return Err(fail(format!("{} reported {} run times for {runs} runs", self.script, times.len())));
        }
        let bytes = std::fs::read(&counts_path).map_err(|e| fail(format!("no counts written: {e}")))?;
        let array = npyz::NpyFile::new(&bytes[..])
            .map_err(|e| fail(format!("its counts are not a .npy file: {e}")))?;
        let shape = array.shape().to_vec();
        let counts: Vec<u32> =
            array.into_vec().map_err(|e| fail(format!("its counts are not uint32: {e}")))?;
        let expected = [u64::from(v.height()), u64::from(v.width())];
        if shape != expected || counts.len() as u64 != expected[0] * expected[1] {
            return Err(fail(format!("its counts have shape {shape:?}, not {expected:?}")));
        }
        Ok((counts, times))
    }

    /// Copies the rows of `frame` (which may be a band) out of the whole frame's counts.
    fn copy_rows(frame: &Frame, whole: &[u32], out: &mut [u32]) -> Result<(), KernelError> {
        if out.len() != frame.pixel_count() {
            return Err(KernelError::OutputLength { expected: frame.pixel_count(), actual: out.len() });
        }
        let width = frame.viewport().width() as usize;
        let start = frame.rows().start as usize * width;
        out.copy_from_slice(&whole[start..start + out.len()]);
        Ok(())
    }
}

impl MandelKernel for PythonRow {
    fn name(&self) -> &str {
        self.name
    }
    fn description(&self) -> &str {
        self.description
    }
    fn precision(&self) -> Precision {
        Precision::F64
    }
    fn is_exact(&self) -> bool {
        true
    }
    fn availability(&self) -> Availability {
        if !self.script_path().is_file() {
            return Availability::Unavailable(format!(
                "{} is not in this checkout (the Python rows run the scripts of python/tutorial/)",
                self.script_path().display()
            ));
        }
        let probe = if self.needs_numpy { "import numpy" } else { "import sys" };
        match Command::new(&self.python).args(["-c", probe]).output() {
            Err(e) => Availability::Unavailable(format!(
                "cannot run {} ({e}): install Python 3 (Debian: apt install python3) or give --python PATH",
                self.python.display()
            )),
            Ok(out) if !out.status.success() && self.needs_numpy => Availability::Unavailable(format!(
                "{} has no numpy: pip install numpy (Debian: apt install python3-numpy)",
                self.python.display()
            )),
            Ok(out) if !out.status.success() => {
                Availability::Unavailable(format!("{} does not run Python code", self.python.display()))
            }
            Ok(_) => Availability::Ready,
        }
    }
    fn compute(&self, frame: &Frame, out: &mut [u32]) -> Result<(), KernelError> {
        let (whole, _) = self.run(frame, 1)?;
        Self::copy_rows(frame, &whole, out)
    }
    fn timed_runs(
        &self,
        frame: &Frame,
        runs: usize,
        out: &mut [u32],
    ) -> Option<Result<Vec<f64>, KernelError>> {
        Some(self.run(frame, runs.max(1)).and_then(|(whole, times)| {
            Self::copy_rows(frame, &whole, out)?;
            Ok(times)
        }))
    }
}
