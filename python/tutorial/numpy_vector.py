"""numpy whole-array vectors: the tutorial's numpy step, with the live pixels compacted.

One array element per pixel, and each line of the loop is one numpy call over the whole array:
the per-pixel Python loop is gone. The 2011 lesson was that "vectors cannot break out early":
the tutorial's whole-array version kept iterating every pixel to max_iter, so it did several
times the useful work and ran no faster than pure Python. The answer here: after each iteration,
record the pixels that escaped and drop them from the arrays (boolean masks, plus an index
array that remembers where each live pixel belongs), so a finished pixel stops costing work.

Bit for bit with the Rust reference: REAL arithmetic only, in the contract's order. Each
operator below is one separate numpy ufunc call over the array, and each element of its result
is rounded once (numpy never fuses `a*b + c` into an FMA). No complex dtype: numpy's SIMD
complex multiply may evaluate the product its own way (numpy 2.4 on an AVX-512 CPU uses a fused
multiply-subtract for the real part) and then differs in the last bit, and so in some counts.

Usage: python3 numpy_vector.py --bounds=-2.13,0.77,-1.3,1.3 --size 1000x1000 --max-iter 1000 --counts out.npy
"""

import sys

import common

try:
    import numpy as np
except ImportError:
    print("error: numpy_vector.py needs numpy (pip install numpy)", file=sys.stderr)
    sys.exit(3)


def calculate(grid):
    # The contract's coordinates, one row or column at a time, then spread over the frame.
    cr_row = grid.x_min + np.arange(grid.width, dtype=np.float64) * grid.dx
    ci_col = grid.y_max - np.arange(grid.height, dtype=np.float64) * grid.dy
    cr = np.broadcast_to(cr_row, (grid.height, grid.width)).ravel()
    ci = np.broadcast_to(ci_col[:, None], (grid.height, grid.width)).ravel()

    counts = np.full(grid.width * grid.height, grid.max_iter, dtype=np.uint32)
    live = np.arange(counts.size)  # where each element of the live arrays belongs in `counts`
    zr = np.zeros(counts.size)
    zi = np.zeros(counts.size)
    for n in range(grid.max_iter):
        new_zr = (zr * zr - zi * zi) + cr
        p = zr * zi
        zi = (p + p) + ci
        zr = new_zr
        escaped = zr * zr + zi * zi > 4.0
        if escaped.any():
            counts[live[escaped]] = n
            kept = ~escaped  # compact: only the pixels still iterating go on
            zr, zi, cr, ci, live = zr[kept], zi[kept], cr[kept], ci[kept], live[kept]
            if live.size == 0:
                break
    return counts


def save(f, counts, grid):
    np.save(f, counts.reshape(grid.height, grid.width).astype("<u4"))


def pixel_iterations(counts, max_iter):
    return int(np.where(counts < max_iter, counts.astype(np.uint64) + 1, max_iter).sum())


if __name__ == "__main__":
    np.seterr(over="ignore")  # a far-out pixel's |z|^2 may overflow to inf: that is > 4, not an error
    common.main(__doc__, calculate, save=save, work=pixel_iterations)
