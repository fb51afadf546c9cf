"""Pure Python: the tutorial's first step, the baseline every other script is measured against.

As in 2011: a list `q` of complex points, a list `z` of complex values, and an index loop
over the points with an inner loop over iterations that breaks out when the point escapes.
Every `z[i]`, `q[i]`, `.real` and `.imag` is a lookup the interpreter does again on every
iteration; pure_python_hoisted.py takes them out of the loop.

Retold for the workspace's numeric contract (crates/mandel-core/src/lib.rs), so the counts
match the Rust reference bit for bit:
- the tutorial's `z[i] = z[i]*z[i] + q[i]` becomes real arithmetic in the contract's order,
  because CPython does not promise how its complex product is evaluated (a C compiler may
  fuse a multiply and an add into one FMA, which rounds differently);
- its `abs(z[i]) > 2.0` (a square root, `hypot`) becomes `zr*zr + zi*zi > 4.0`;
- points that never escape get `max_iter` (the tutorial gave them 0).
Written out this way, every iteration does a dozen index and attribute lookups and builds a
`complex`: the unhoisted loop costs more than the tutorial's, so hoisting gains more here.

Usage: python3 pure_python.py --bounds=-2.13,0.77,-1.3,1.3 --size 1000x1000 --max-iter 1000 --counts out.npy
"""

import common


def calculate_z_serial_purepython(q, max_iter, z):
    """The escape count of every point in `q`; `z` holds the iterates (all 0 to start)."""
    output = [max_iter] * len(q)  # a point that never escapes keeps max_iter
    for i in range(len(q)):
        for n in range(max_iter):
            new_zr = (z[i].real * z[i].real - z[i].imag * z[i].imag) + q[i].real
            p = z[i].real * z[i].imag
            z[i] = complex(new_zr, (p + p) + q[i].imag)
            if z[i].real * z[i].real + z[i].imag * z[i].imag > 4.0:
                output[i] = n
                break
    return output


def calculate(grid):
    q = common.coordinates(grid)
    z = [0j] * len(q)
    return calculate_z_serial_purepython(q, grid.max_iter, z)


if __name__ == "__main__":
    common.main(__doc__, calculate)
