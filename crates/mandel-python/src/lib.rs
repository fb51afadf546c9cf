//! `import mandel`: every kernel of the workspace, from Python.
//!
//! The tutorial's last Python lesson was "write new fast modules" (Cython, ShedSkin); this is
//! the modern answer, Rust through PyO3. The module is a thin layer over the harness's registry:
//! the same kernels, names, scenes and error messages as the `mandel` command.
//!
//! Invariants:
//! - A render returns a NumPy `uint32` array of shape `(height, width)`, C-contiguous, that
//!   holds the kernel's own output buffer (moved to NumPy, not copied); counts are exactly what
//!   the kernel computed, which the conformance kit proves equal to the reference.
//! - The GIL is released while a kernel runs, so Python threads render concurrently.
//! - Bad input raises, with the command's one-line message: `ValueError` for a frame that
//!   cannot be computed, `KeyError` for an unknown kernel or scene, `RuntimeError` for a kernel
//!   that cannot run here or fails. A kernel that panics raises `RuntimeError`, never aborts.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use mandel_core::{Availability, Frame, MandelKernel, Scene, Viewport};
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray2};
use pyo3::exceptions::{PyKeyError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// The kernels of this build, made once per process: a GPU kernel sets its device up once.
fn registry() -> &'static [Box<dyn MandelKernel>] {
    static KERNELS: OnceLock<Vec<Box<dyn MandelKernel>>> = OnceLock::new();
    KERNELS.get_or_init(mandel_harness::registry::all_kernels)
}

fn find(name: &str) -> PyResult<&'static dyn MandelKernel> {
    registry().iter().find(|k| k.name() == name).map(|k| k.as_ref()).ok_or_else(|| {
        let known: Vec<&str> = registry().iter().map(|k| k.name()).collect();
        PyKeyError::new_err(format!("unknown kernel `{name}`; the kernels are: {}", known.join(", ")))
    })
}

/// A kernel of this build, as `mandel.kernels()` lists it.
#[pyclass(frozen, get_all, module = "mandel")]
pub struct Kernel {
    /// The kernel's name, as `render` takes it (`"parallel-simd"`).
    name: String,
    /// Its one-line lesson.
    description: String,
    /// `"f64"` or `"f32"`.
    precision: String,
    /// Whether its counts are bit-identical to the reference of its precision.
    exact: bool,
    /// Whether it can run here.
    available: bool,
    /// Why not, and what to install, when it cannot.
    reason: Option<String>,
}

#[pymethods]
impl Kernel {
    fn __repr__(&self) -> String {
        let state = if self.available { "available".to_string() } else { "unavailable".to_string() };
        format!(
            "<mandel.Kernel {} ({}, {}, {state})>",
            self.name,
            self.precision,
            if self.exact { "exact" } else { "inexact" }
        )
    }
}

/// Every kernel of this build, the references first, in rung order.
#[pyfunction]
fn kernels() -> Vec<Kernel> {
    registry()
        .iter()
        .map(|k| {
            let reason = match k.availability() {
                Availability::Ready => None,
                Availability::Unavailable(reason) => Some(reason),
            };
            Kernel {
                name: k.name().to_string(),
                description: k.description().to_string(),
                precision: k.precision().to_string(),
                exact: k.is_exact(),
                available: reason.is_none(),
                reason,
            }
        })
        .collect()
}

/// The named scenes: `{name: (bounds, size, max_iter)}`.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn scenes() -> Vec<(String, ([f64; 4], (u32, u32), u32))> {
    mandel_core::SCENES.iter().map(|s| (s.name().to_string(), (s.bounds(), s.size(), s.max_iter()))).collect()
}

/// The frame asked for: a scene (with any part overridden) or bounds with size and max_iter.
fn frame_of(
    scene: Option<&str>,
    bounds: Option<(f64, f64, f64, f64)>,
    size: Option<(u32, u32)>,
    max_iter: Option<u32>,
) -> PyResult<Frame> {
    let (bounds, default_size, default_max_iter) = match (scene, bounds) {
        (Some(_), Some(_)) => return Err(PyValueError::new_err("give a scene or bounds, not both")),
        (None, Some((x_min, x_max, y_min, y_max))) => ([x_min, x_max, y_min, y_max], (1000, 1000), 1000),
        (scene, None) => {
            let name = scene.unwrap_or("classic");
            let scene = Scene::by_name(name).ok_or_else(|| {
                PyKeyError::new_err(format!("unknown scene `{name}`; the scenes are: {}", Scene::names()))
            })?;
            (scene.bounds(), scene.size(), scene.max_iter())
        }
    };
    let (width, height) = size.unwrap_or(default_size);
    let [x_min, x_max, y_min, y_max] = bounds;
    let viewport = Viewport::from_bounds(x_min, x_max, y_min, y_max, width, height)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(Frame::new(viewport, max_iter.unwrap_or(default_max_iter)))
}

/// Computes `frame` with `kernel`, the GIL released; counts as a `(height, width)` array.
fn run<'py>(
    py: Python<'py>,
    kernel: &'static dyn MandelKernel,
    frame: Frame,
) -> PyResult<Bound<'py, PyArray2<u32>>> {
    if let Availability::Unavailable(reason) = kernel.availability() {
        return Err(PyRuntimeError::new_err(format!("kernel `{}` is unavailable: {reason}", kernel.name())));
    }
    frame.check_precision(kernel.precision()).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let shape = (frame.viewport().height() as usize, frame.viewport().width() as usize);
    let counts = py.detach(move || {
        let mut out = Vec::new();
        out.try_reserve_exact(frame.pixel_count())
            .map_err(|_| format!("cannot allocate {} MiB for the counts", (frame.pixel_count() * 4) >> 20))?;
        out.resize(frame.pixel_count(), 0u32);
        match catch_unwind(AssertUnwindSafe(|| kernel.compute(&frame, &mut out))) {
            Ok(Ok(())) => Ok(out),
            Ok(Err(e)) => Err(format!("kernel `{}` failed: {e}", kernel.name())),
            Err(_) => Err(format!("kernel `{}` panicked on {frame}", kernel.name())),
        }
    });
    let counts = counts.map_err(PyRuntimeError::new_err)?;
    let array = Array2::from_shape_vec(shape, counts).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    Ok(array.into_pyarray(py))
}

/// The escape counts of a frame computed by `kernel`, as a `uint32` array of shape
/// `(height, width)`, row 0 at the top. The frame is a named scene (`scene="classic"`, the
/// default) or `bounds=(x_min, x_max, y_min, y_max)`; `size=(width, height)` and `max_iter`
/// override the scene's (with bounds: 1000x1000, 1000).
#[pyfunction]
#[pyo3(signature = (kernel, *, scene=None, bounds=None, size=None, max_iter=None))]
fn render<'py>(
    py: Python<'py>,
    kernel: &str,
    scene: Option<&str>,
    bounds: Option<(f64, f64, f64, f64)>,
    size: Option<(u32, u32)>,
    max_iter: Option<u32>,
) -> PyResult<Bound<'py, PyArray2<u32>>> {
    let kernel = find(kernel)?;
    let frame = frame_of(scene, bounds, size, max_iter)?;
    run(py, kernel, frame)
}

/// `render` with the f64 reference: the numeric contract, written plainly.
#[pyfunction]
#[pyo3(signature = (*, scene=None, bounds=None, size=None, max_iter=None))]
fn reference<'py>(
    py: Python<'py>,
    scene: Option<&str>,
    bounds: Option<(f64, f64, f64, f64)>,
    size: Option<(u32, u32)>,
    max_iter: Option<u32>,
) -> PyResult<Bound<'py, PyArray2<u32>>> {
    render(py, "reference", scene, bounds, size, max_iter)
}

/// The work in a frame's counts: `count + 1` per escaped pixel, `max_iter` per interior one.
#[pyfunction]
fn pixel_iterations(counts: PyReadonlyArray2<'_, u32>, max_iter: u32) -> PyResult<u64> {
    let counts = counts.as_array();
    let work = match counts.as_slice() {
        Some(slice) => mandel_core::pixel_iterations(slice, max_iter),
        None => mandel_core::pixel_iterations(&counts.iter().copied().collect::<Vec<_>>(), max_iter),
    };
    Ok(work)
}

/// Every Mandelbrot kernel of the mandel workspace, from Python.
#[pymodule]
mod mandel {
    #[pymodule_export]
    use super::{kernels, pixel_iterations, reference, render, scenes, Kernel};
}
