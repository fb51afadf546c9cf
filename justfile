# Arguments reach cargo as they were typed (`just race --json "my race.json"`).
set positional-arguments

# Recipes for the mandel workspace. Install just with `cargo install just`;
# every recipe is a plain cargo command you can also type yourself.

# List the recipes.
default:
    @just --list

# Race every kernel on the classic frame (`just race --quick`, `just race simd --json race.json`).
race *args:
    cargo run --release -p mandel-harness -- race "$@"

# Criterion benchmarks, optionally filtered (`just bench classic/hoisted`).
bench *filter:
    cargo bench -p mandel-benches -- "$@"

# The interleaving sweep: every SIMD vector type at 1, 2, 4, 6 and 8 vectors in flight (`just sweep seahorse`, `just sweep classic --json sweep.json`).
sweep *args:
    cargo run --release -p mandel-harness --example interleave -- "$@"

# The machine's ceiling for the SIMD rung: the bare step on lanes that never escape (`just ceiling --json ceiling.json`).
ceiling *args:
    cargo run --release -p mandel-harness --example ceiling -- "$@"

# Run every test: the conformance kit for each kernel, the kit's self-tests, the harness.
test:
    cargo test --workspace

# List every kernel (precision, exactness, availability here) and every scene.
list:
    cargo run --release -p mandel-harness -- list

# Render a scene with a kernel into a PNG, e.g. `just render seahorse naive seahorse.png`.
render scene="classic" kernel="hoisted" image="classic.png":
    cargo run --release -p mandel-harness -- render --scene {{scene}} --kernel {{kernel}} --image {{image}}

# Run each benchmark once, as CI does, so they cannot rot.
bench-check:
    cargo test -p mandel-benches --benches

# Format and lint as CI does.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Everything CI runs, on this checkout.
ci:
    bash .ci/run

# The algorithmic rung's census: how many pixels each certificate proved, on every scene and on classic at max_iter 10,000 (`just census --json census.json`).
census *args:
    cargo run --release -p mandel-harness --example census -- "$@"

# The brute-force kernels and the algorithmic rung side by side (`docs-data` races them).
interior := "simd-f64x8,interior-simd,parallel-simd,interior-parallel,simd-f32x16,interior-simd-f32,parallel-simd-f32,interior-parallel-f32"

# The parallel rung's grain: how uneven a scene's work is, and parallel-simd with tasks of several sizes (`just grain seahorse`).
grain *args:
    cargo run --release -p mandel-harness --example grain -- "$@"

# Scaling: the parallel kernels on pools of 1, 2, 4, … threads up to every core (`just scaling --quick`).
scaling *args:
    cargo run --release -p mandel-harness -- race --scaling "$@"

# What bit-exactness costs on the GPU: gpu-f32/f64 against the same shader with plain arithmetic (`just gpu-cost seahorse`).
gpu-cost *args:
    cargo run --release -p mandel-harness --example gpu_cost -- "$@"

# The GPU kernels' workgroup shape: the first dispatch in 16x16 blocks, 64x1 and 256x1 rows (`just gpu-shape classic --json gpu-shape.json`).
gpu-shape *args:
    cargo run --release -p mandel-harness --example gpu_shape -- "$@"

# The GPU kernels' chunk: iterations per invocation per dispatch, 1,024 to 32,768, on long orbits (`just gpu-chunk [minibrot|slow-escapes]`).
gpu-chunk *args:
    cargo run --release -p mandel-harness --example gpu_chunk -- "$@"

# On a machine with a real GPU: build, list, kernel-gpu's conformance tests (MANDEL_REQUIRE_ALL=1), the race and the GPU studies into docs/race/gpu-<adapter>*.json.
gpu-device *args:
    bash .ci/gpu-device "$@"

# The MPI rung against the parallel rung: ranks 1, 2, 4 and idle jobs beside a race, or a large frame, or the gather alone (`just mpi-study scaling|large|transfer [--json F]`; needs Open MPI).
mpi-study *args:
    cargo build --release -q -p mandel-harness --features mpi
    cargo run --release -p mandel-harness --features mpi --example mpi_study -- "$@"

# The add-a-kernel exercise's worked answer: hoisted with 1, 2, 4 and 8 scalar pixels in flight (docs/new-kernel.md).
exercise *args:
    cargo run --release -p mandel-harness --example exercise -- "$@"

# Add your own kernel: creates crates/kernel-NAME, registered, tested, with a docs page (docs/new-kernel.md).
new-kernel name:
    cargo xtask new-kernel "$1"

# Write every generated table, figure and code excerpt in README.md and docs/ from docs/race/*.json.
docs-tables:
    cargo xtask docs-tables

# Fail if any generated table, figure or excerpt in the docs is stale (CI runs this).
docs-check:
    cargo xtask docs-tables --check

# Measure again everything the docs quote, into docs/race/ (about five minutes; keep the machine quiet), then `just docs-tables`.
docs-data:
    cargo race --json docs/race/classic.json --chart docs/race/classic.svg
    cargo race --scaling --json docs/race/scaling.json
    just ceiling --json docs/race/ceiling.json
    just sweep classic --json docs/race/sweep.json
    just grain classic --json docs/race/grain.json
    just gpu-cost classic --json docs/race/gpu-cost.json
    just exercise classic --json docs/race/exercise.json
    just census --json docs/race/census.json
    cargo race --kernels {{interior}} --baseline simd-f64x8 --min-runs 10 --json docs/race/interior.json
    cargo race --scene seahorse --kernels {{interior}} --baseline simd-f64x8 --min-runs 10 --json docs/race/interior-seahorse.json
    cargo race --max-iter 10000 --kernels simd-f64x8,interior-simd,parallel-simd,interior-parallel --baseline parallel-simd --json docs/race/interior-10k.json
