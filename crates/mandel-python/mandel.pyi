"""Every Mandelbrot kernel of the mandel workspace, from Python: bit-exact counts as NumPy arrays."""

from typing import Optional, Tuple, List

import numpy as np
import numpy.typing as npt

class Kernel:
    """A kernel of this build, as `kernels()` lists it."""

    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def precision(self) -> str:
        """`"f64"` or `"f32"`."""
    @property
    def exact(self) -> bool:
        """Whether its counts are bit-identical to the reference of its precision."""
    @property
    def available(self) -> bool: ...
    @property
    def reason(self) -> Optional[str]:
        """Why it cannot run here, and what to install; None when it can."""

def kernels() -> List[Kernel]:
    """Every kernel of this build, the references first, in rung order."""

def scenes() -> List[Tuple[str, Tuple[Tuple[float, float, float, float], Tuple[int, int], int]]]:
    """The named scenes: (name, (bounds, (width, height), max_iter))."""

def render(
    kernel: str,
    *,
    scene: Optional[str] = None,
    bounds: Optional[Tuple[float, float, float, float]] = None,
    size: Optional[Tuple[int, int]] = None,
    max_iter: Optional[int] = None,
) -> npt.NDArray[np.uint32]:
    """The escape counts of a frame computed by `kernel`: uint32, shape (height, width), row 0 at
    the top. The frame is a named scene (default "classic") or bounds=(x_min, x_max, y_min, y_max);
    size=(width, height) and max_iter override the scene's (with bounds: 1000x1000, 1000).
    The GIL is released while the kernel runs.

    Raises KeyError for an unknown kernel or scene, ValueError for a frame that cannot be
    computed (empty, huge, NaN, inverted, beyond the kernel's precision), RuntimeError for a
    kernel that cannot run here or fails."""

def reference(
    *,
    scene: Optional[str] = None,
    bounds: Optional[Tuple[float, float, float, float]] = None,
    size: Optional[Tuple[int, int]] = None,
    max_iter: Optional[int] = None,
) -> npt.NDArray[np.uint32]:
    """`render` with the f64 reference: the numeric contract, written plainly."""

def pixel_iterations(counts: npt.NDArray[np.uint32], max_iter: int) -> int:
    """The work in a frame's counts: count + 1 per escaped pixel, max_iter per interior one."""
