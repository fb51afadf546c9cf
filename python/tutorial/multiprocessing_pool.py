"""multiprocessing: the tutorial's pure-Python loop shared out over a pool of processes.

The frame's points `q` are cut into chunks of whole rows; `map_async` pickles each chunk, sends
it to a worker process, runs the (hoisted) pure-Python loop there, and pickles the counts back.
The lessons of 2011:
- chunks: more chunks than processes, because the work is uneven (the middle rows of the
  classic frame carry most of it: four equal chunks would cap four processes at about 2.1x);
- pickling overhead: every point goes out and every count comes back through a pipe;
- check that the chunked result equals the serial one. Here it does by construction: the
  coordinates are made once, for the whole frame, in the parent (a chunk never re-bases its
  rows), and pickle carries floats exactly.

The pool is started before the timed runs (like the interpreter itself); each run's time is
cutting, sending, computing, receiving and joining the chunks.

Usage: python3 multiprocessing_pool.py --bounds=-2.13,0.77,-1.3,1.3 --size 1000x1000 --max-iter 1000 --counts out.npy --processes 2
"""

import multiprocessing
import os
import signal

import common
from pure_python_hoisted import calculate_z_serial_purepython

CHUNKS_PER_PROCESS = 8  # small enough chunks that an uneven frame still keeps every process busy


def worker(chunk):
    q, max_iter = chunk
    return calculate_z_serial_purepython(q, max_iter, [0j] * len(q))


def calculate(grid, pool, processes):
    rows_per_chunk = -(-grid.height // (processes * CHUNKS_PER_PROCESS))  # rounded up
    chunks = [
        (common.coordinates(grid, range(start, min(start + rows_per_chunk, grid.height))), grid.max_iter)
        for start in range(0, grid.height, rows_per_chunk)
    ]
    results = pool.map_async(worker, chunks).get()  # in chunk order, whatever order they finish in
    return [count for counts in results for count in counts]


def ignore_interrupts():
    # Ctrl-C goes to the whole process group; let only the parent handle it (quietly).
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def add_processes_option(parser):
    parser.add_argument("--processes", type=common.whole_number, default=os.cpu_count() or 1, metavar="N",
                        help="worker processes (default: the number of CPUs)")


def main():
    args = common.parse_args(__doc__, extra=add_processes_option)
    if args.processes < 1:
        raise common.UsageError(f"--processes must be at least 1, got {args.processes}")
    with multiprocessing.Pool(args.processes, initializer=ignore_interrupts) as pool:
        common.run(args, lambda grid: calculate(grid, pool, args.processes))


if __name__ == "__main__":
    common.guarded(main)
