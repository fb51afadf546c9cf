"""`import mandel` against the reference: every available kernel, the tutorial's scripts, bad
input, threads, and the arrays' layout. Run: pytest crates/mandel-python/tests."""

import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest

import mandel

FRAMES = [
    dict(scene="quick"),
    dict(bounds=(-2.13, 0.77, -1.3, 1.3), size=(61, 37), max_iter=300),
    dict(bounds=(-0.7565, -0.7365, 0.0915, 0.1115), size=(33, 17), max_iter=2000),
]

TUTORIAL = Path(__file__).resolve().parents[3] / "python" / "tutorial"


def available():
    return [k for k in mandel.kernels() if k.available]


def test_kernels_are_listed_with_their_promises():
    names = [k.name for k in mandel.kernels()]
    assert names[:2] == ["reference", "reference-f32"]
    for expected in ["naive", "hoisted", "simd-f64x8", "parallel-simd"]:
        assert expected in names
    for k in mandel.kernels():
        assert k.precision in ("f64", "f32")
        assert k.available == (k.reason is None)
        assert k.name in repr(k)


@pytest.mark.parametrize("frame", FRAMES)
def test_every_available_kernel_equals_the_reference(frame):
    for k in available():
        expected = mandel.render("reference-f32" if k.precision == "f32" else "reference", **frame)
        got = mandel.render(k.name, **frame)
        if k.exact:
            assert np.array_equal(got, expected), f"{k.name} differs on {frame}"
        else:
            assert (got != expected).mean() <= 0.01, f"{k.name} is over tolerance on {frame}"


def test_reference_is_the_f64_reference_and_the_array_is_plain():
    counts = mandel.reference(scene="quick")
    assert counts.dtype == np.uint32 and counts.shape == (256, 256)
    assert counts.flags.c_contiguous and counts.flags.writeable
    # It holds the kernel's own buffer, not a view of another NumPy array.
    assert not isinstance(counts.base, np.ndarray)
    assert np.array_equal(counts, mandel.render("reference", scene="quick"))
    assert mandel.pixel_iterations(counts, 256) == int(np.where(counts < 256, counts.astype(np.int64) + 1, 256).sum())


def test_the_classic_frame_has_the_known_work():
    counts = mandel.render("parallel-simd", scene="classic")
    assert counts.shape == (1000, 1000)
    assert mandel.pixel_iterations(counts, 1000) == 205_785_865


@pytest.mark.parametrize("script", ["pure_python_hoisted.py", "numpy_vector.py"])
def test_the_tutorials_scripts_equal_the_reference(script):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "counts.npy"
        run = subprocess.run(
            [sys.executable, str(TUTORIAL / script), "--bounds=-2.13,0.77,-1.3,1.3", "--size=48x36",
             "--max-iter=200", "--counts", str(out)],
            capture_output=True, text=True, check=True)
        assert len(json.loads(run.stdout)["runs_s"]) == 1
        got = np.load(out)
    assert np.array_equal(got, mandel.reference(bounds=(-2.13, 0.77, -1.3, 1.3), size=(48, 36), max_iter=200))


@pytest.mark.parametrize("call, error, message", [
    (lambda: mandel.render("no-such-kernel"), KeyError, "unknown kernel `no-such-kernel`"),
    (lambda: mandel.render("hoisted", scene="nowhere"), KeyError, "unknown scene `nowhere`"),
    (lambda: mandel.render("hoisted", size=(0, 10)), ValueError, "is empty"),
    (lambda: mandel.render("hoisted", bounds=(1.0, -1.0, -1.0, 1.0)), ValueError, "inverted"),
    (lambda: mandel.render("hoisted", bounds=(float("nan"), 1.0, -1.0, 1.0)), ValueError, "finite"),
    (lambda: mandel.render("simd-f32x16", scene="deep"), ValueError, "f32"),
    (lambda: mandel.render("hoisted", scene="quick", bounds=(-1.0, 1.0, -1.0, 1.0)), ValueError, "not both"),
])
def test_bad_input_raises_with_the_commands_message(call, error, message):
    with pytest.raises(error) as raised:
        call()
    assert message in str(raised.value)


def test_an_unavailable_kernel_raises_runtime_error_saying_why():
    missing = [k for k in mandel.kernels() if not k.available]
    if not missing:
        pytest.skip("every kernel is available in this build")
    with pytest.raises(RuntimeError, match="unavailable"):
        mandel.render(missing[0].name, scene="quick")


def test_two_threads_render_at_once():
    results = {}

    def work(name):
        results[name] = mandel.render(name, scene="quick")

    threads = [threading.Thread(target=work, args=(n,)) for n in ("hoisted", "simd-f64x8", "parallel-simd")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = mandel.reference(scene="quick")
    assert all(np.array_equal(r, expected) for r in results.values()) and len(results) == 3


def test_the_gil_is_released_while_a_kernel_runs():
    # A Python thread counts while the main thread renders: with the GIL held for the whole
    # render it could not count at all in that time.
    counting = threading.Event()
    stop = threading.Event()
    count = [0]

    def counter():
        counting.set()
        while not stop.is_set():
            count[0] += 1

    t = threading.Thread(target=counter)
    t.start()
    counting.wait()
    before = count[0]
    mandel.render("hoisted", scene="classic")  # about half a second on one core
    during = count[0] - before
    stop.set()
    t.join()
    assert during > 10_000, f"the counting thread ran only {during} times during the render"


def test_the_package_is_typed():
    import importlib.util
    origin = Path(importlib.util.find_spec("mandel").origin).parent
    assert (origin / "py.typed").exists() and (origin / "__init__.pyi").exists()
