"""Shared by the tutorial scripts: the command line, the contract's pixel grid, timing, .npy output.

Every script in this directory computes the same escape counts as the Rust reference
(`crates/mandel-core/src/reference.rs`), bit for bit, so the harness can check them.
Python floats are IEEE doubles and every `+ - * /` on them is rounded once: the contract's f64.
This module needs only the standard library (numpy_vector.py is the one script that needs numpy).
"""

import argparse
import array
import json
import math
import os
import re
import secrets
import sys
import time
from dataclasses import dataclass

MAX_PIXELS = 1 << 30  # the Rust harness's limit: a 4 GiB buffer of uint32 counts
MAX_U32 = (1 << 32) - 1


class UsageError(Exception):
    """A bad command line or viewport: exit status 2."""


@dataclass(frozen=True)
class Grid:
    """The pixel grid of a frame, as `Grid` in `crates/mandel-core/src/frame.rs`."""

    x_min: float
    y_max: float
    dx: float
    dy: float
    width: int
    height: int
    max_iter: int

    def cx(self, i):
        # multiply, then add, each rounded once; never accumulated (x += dx)
        return self.x_min + i * self.dx

    def cy(self, j):
        # row 0 is the top of the picture
        return self.y_max - j * self.dy


def coordinates(grid, rows=None):
    """The tutorial's `q`: one complex point per pixel, row-major (all rows, or `rows`)."""
    rows = range(grid.height) if rows is None else rows
    return [complex(grid.cx(i), grid.cy(j)) for j in rows for i in range(grid.width)]


def pixel_iterations(counts, max_iter):
    """The work of a frame: count + 1 per escaped pixel, max_iter per interior pixel."""
    return sum(c + 1 if c < max_iter else max_iter for c in counts)


# --- the command line ---------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line on stderr, exit 2 (argparse prints the usage too)
        raise UsageError(message)


def _bounds(text):
    parts = text.split(",")
    if len(parts) != 4:
        raise argparse.ArgumentTypeError(f"expected X_MIN,X_MAX,Y_MIN,Y_MAX, got {text!r}")
    try:
        return [float(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"bounds must be numbers, got {text!r}") from None


def _size(text):
    m = re.fullmatch(r"(\d+)x(\d+)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1000x1000, got {text!r}")
    return int(m[1]), int(m[2])


def whole_number(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _axis(name, lo, hi, pixels):
    """The pixel step of one axis, or why there is none (as the Rust `Frame::grid` refuses)."""
    for what, v in ((f"{name}_min", lo), (f"{name}_max", hi)):
        if not math.isfinite(v):
            raise UsageError(f"{what} is {v}: coordinates must be finite numbers")
    if lo >= hi:
        raise UsageError(f"{name} bounds are inverted or empty: {name}_min ({lo!r}) must be less than {name}_max ({hi!r})")
    step = (hi - lo) / pixels
    if not math.isfinite(step):
        raise UsageError(f"the {name} range [{lo!r}, {hi!r}] cannot be used in f64: the pixel step overflows")
    if step <= 0.0:
        raise UsageError(f"the {name} range [{lo!r}, {hi!r}] cannot be used in f64: the pixel step rounds to zero")
    return step


def parse_args(description, argv=None, extra=None):
    """The command line shared by all the scripts; `extra(parser)` may add options."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # argparse takes `--bounds -2.13,...` for an option; glue a value that starts with '-' on.
    for k in range(len(argv) - 1):
        if argv[k] == "--bounds" and re.match(r"-[\d.]", argv[k + 1]):
            argv[k : k + 2] = [f"--bounds={argv[k + 1]}", None]
    argv = [a for a in argv if a is not None]

    p = _Parser(description=description.splitlines()[0])
    p.add_argument("--bounds", type=_bounds, default=[-2.13, 0.77, -1.3, 1.3], metavar="X_MIN,X_MAX,Y_MIN,Y_MAX",
                   help="the rectangle of the complex plane (default: the classic -2.13,0.77,-1.3,1.3)")
    p.add_argument("--size", type=_size, default=(1000, 1000), metavar="WxH", help="pixels (default: 1000x1000)")
    p.add_argument("--max-iter", type=whole_number, default=1000, metavar="N", help="iteration limit (default: 1000)")
    p.add_argument("--counts", metavar="OUT.npy", help="write the last run's counts here (uint32, shape (H, W))")
    p.add_argument("--runs", type=whole_number, default=1, metavar="R", help="compute the frame R times (default: 1)")
    if extra:
        extra(p)
    args = p.parse_args(argv)

    width, height = args.size
    if width == 0 or height == 0:
        raise UsageError(f"frame size {width}x{height} is empty: width and height must be at least 1")
    if width * height > MAX_PIXELS:
        raise UsageError(f"frame size {width}x{height} has more than {MAX_PIXELS} pixels")
    if not 0 <= args.max_iter <= MAX_U32:
        raise UsageError(f"--max-iter must be between 0 and {MAX_U32}, got {args.max_iter}")
    if args.runs < 1:
        raise UsageError(f"--runs must be at least 1, got {args.runs}")
    x_min, x_max, y_min, y_max = args.bounds
    dx = _axis("x", x_min, x_max, width)
    dy = _axis("y", y_min, y_max, height)
    args.grid = Grid(x_min, y_max, dx, dy, width, height, args.max_iter)
    return args


# --- the .npy file --------------------------------------------------------------------


def npy_header(height, width):
    """A NumPy .npy version 1.0 header for a C-order little-endian uint32 array (height, width)."""
    text = "{'descr': '<u4', 'fortran_order': False, 'shape': (%d, %d), }" % (height, width)
    total = 10 + len(text) + 1  # magic (6) + version (2) + header length (2), then text, '\n'
    text += " " * (-total % 64) + "\n"  # pad so the data starts on a 64-byte boundary
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode("latin1")


def write_npy(f, counts, grid):
    """Write a flat list of counts to the open binary file `f`, without numpy."""
    data = array.array("I", counts)
    if data.itemsize != 4:
        raise RuntimeError(f"array('I') has {data.itemsize}-byte items here, not 4")
    if sys.byteorder == "big":
        data.byteswap()
    f.write(npy_header(grid.height, grid.width))
    f.write(data.tobytes())


def write_atomically(path, write, *args):
    """Call `write(f, *args)` on a temporary file next to `path`, then rename it over `path`:
    an interrupted run leaves no partial file."""
    directory, name = os.path.split(os.path.abspath(path))
    tmp = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.tmp")
    f = open(tmp, "xb")  # a fresh name (mode 0o666 less the umask, like any new file)
    try:
        with f:
            write(f, *args)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


# --- running a script -----------------------------------------------------------------


def run(args, compute, save=write_npy, work=pixel_iterations):
    """Compute the frame `args.runs` times, timing only `compute(grid)`; write the last counts;
    print one line of JSON: {"runs_s": [...], "pixel_iterations": W}."""
    grid = args.grid
    runs_s = []
    for _ in range(args.runs):
        start = time.perf_counter()
        counts = compute(grid)
        runs_s.append(time.perf_counter() - start)
    if args.counts:
        try:
            write_atomically(args.counts, save, counts, grid)
        except OSError as e:
            raise OSError(f"cannot write {args.counts}: {e.strerror or e}") from None
    print(json.dumps({"runs_s": runs_s, "pixel_iterations": int(work(counts, grid.max_iter))}))


def guarded(main):
    """Run `main()`, turning failures into one line on stderr and the harness's exit statuses:
    2 bad arguments, 130 interrupted, 1 anything else."""
    try:
        main()
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as e:  # OSError writing the file, MemoryError, a bug, ...
        message = str(e) if isinstance(e, OSError) else f"{type(e).__name__}: {e}"
        print(f"error: {message}".replace("\n", " "), file=sys.stderr)
        sys.exit(1)


def main(description, compute, **options):
    """The whole program for a script whose kernel is `compute(grid) -> counts`."""
    guarded(lambda: run(parse_args(description), compute, **options))
