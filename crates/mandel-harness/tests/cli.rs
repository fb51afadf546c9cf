//! The `mandel` command end to end: what a person types, what they get back.

use std::path::Path;
use std::process::{Command, Output};

fn mandel(args: &[&str], dir: &Path) -> Output {
    mandel_with_env(args, &[], dir)
}

/// [`mandel`] with these environment variables set.
fn mandel_with_env(args: &[&str], env: &[(&str, &str)], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mandel"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .expect("run mandel")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn list_shows_every_kernel_with_precision_exactness_and_availability() {
    let dir = tempfile::tempdir().unwrap();
    let output = mandel(&["list"], dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("PRECISION") && text.contains("EXACT") && text.contains("AVAILABLE"));
    for name in ["reference ", "reference-f32", "naive", "hoisted"] {
        assert!(text.lines().any(|line| line.starts_with(name)), "{name} missing from:\n{text}");
    }
    assert!(text.lines().any(|line| line.starts_with("reference-f32") && line.contains("f32")));
    assert!(text.contains("classic") && text.contains("deep"), "scenes are listed");
}

#[test]
fn render_classic_counts_have_the_golden_work_and_the_image_is_a_png() {
    let dir = tempfile::tempdir().unwrap();
    let output = mandel(
        &["render", "--kernel", "hoisted", "--scene", "classic", "--counts", "c.npy", "--image", "c.png"],
        dir.path(),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("205,785,865 pixel-iterations"), "{}", stdout(&output));

    let bytes = std::fs::read(dir.path().join("c.npy")).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    assert_eq!(npy.shape(), &[1000, 1000]);
    assert_eq!(npy.dtype().descr(), "'<u4'");
    let counts = npy.into_vec::<u32>().unwrap();
    assert_eq!(mandel_core::pixel_iterations(&counts, 1000), 205_785_865);

    let decoder =
        png::Decoder::new(std::io::BufReader::new(std::fs::File::open(dir.path().join("c.png")).unwrap()));
    let info = decoder.read_info().unwrap().info().clone();
    assert_eq!((info.width, info.height), (1000, 1000));
}

#[test]
fn render_matches_the_reference_for_custom_bounds_and_f32() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["render", "--bounds", "-0.8,-0.7,0.05,0.15", "--size", "64x48", "--max-iter", "300"];
    for kernel in ["naive", "reference-f32"] {
        let file = format!("{kernel}.npy");
        let output = mandel(&[&args[..], &["--kernel", kernel, "--counts", &file]].concat(), dir.path());
        assert!(output.status.success(), "{}", stderr(&output));
        let bytes = std::fs::read(dir.path().join(&file)).unwrap();
        let counts = npyz::NpyFile::new(&bytes[..]).unwrap().into_vec::<u32>().unwrap();
        let frame = mandel_core::Frame::new(
            mandel_core::Viewport::from_bounds(-0.8, -0.7, 0.05, 0.15, 64, 48).unwrap(),
            300,
        );
        let precision =
            if kernel.ends_with("f32") { mandel_core::Precision::F32 } else { mandel_core::Precision::F64 };
        assert_eq!(counts, mandel_core::reference_counts(&frame, precision).unwrap(), "{kernel}");
    }
}

/// Bad input: one line on stderr, a non-zero exit, no file (not even a partial one).
#[test]
fn bad_input_is_one_line_a_nonzero_exit_and_no_file() {
    let cases: &[(&[&str], &str)] = &[
        (&["--size", "0x10"], "empty"),
        (&["--bounds", "1,0,0,1"], "inverted"),
        (&["--bounds", "nan,1,0,1"], "NaN"),
        (&["--bounds", "0,inf,0,1"], "inf"),
        (&["--bounds", "1,2,3"], "four numbers"),
        (&["--kernel", "nope"], "unknown kernel `nope`"),
        (&["--scene", "nope"], "unknown scene `nope`"),
        (&["--size", "200000x200000"], "limit"),
        (&["--size", "10"], "WIDTHxHEIGHT"),
        (&["--max-iter", "-5"], "-5"),
        (&["--scene", "deep", "--kernel", "reference-f32"], "f32"),
        (&["--scene", "classic", "--bounds", "0,1,0,1"], "cannot be used with"),
        (&["--tile", "5/4"], "from 1 to N"),
        (&["--tile", "0/4"], "from 1 to N"),
        (&["--tile", "x"], "I/N"),
        (&["--size", "10x3", "--tile", "1/4"], "at most 3"),
    ];
    assert_refused(&["render"], cases, &["--counts", "c.npy", "--image", "c.png"]);
    // What the picture's name promises, and an f64 kernel is not told to use f64.
    let cases: &[(&[&str], &str)] = &[
        (&["--image", "c.jpg"], "only PNG"),
        (&["--tile", "1/2", "--image", "c.png"], "--tile needs --counts"),
        (&["--bounds=-1e308,1e308,-1,1", "--image", "c.png"], "f64 cannot resolve it"),
        (
            &["--kernel", "reference-f32", "--bounds=-1e308,1e308,-1,1", "--image", "c.png"],
            "use an f64 kernel",
        ),
    ];
    assert_refused(&["render"], cases, &[]);
    let dir = tempfile::tempdir().unwrap();
    let output = mandel(&["render", "--bounds=-1e308,1e308,-1,1"], dir.path());
    assert!(!stderr(&output).contains("use an f64 kernel"), "{}", stderr(&output));
    let output = mandel(&["render", "--image", "/proc/c.png"], dir.path());
    assert!(stderr(&output).contains("cannot create a file in /proc"), "{}", stderr(&output));
}

#[test]
fn render_without_outputs_says_that_nothing_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let output = mandel(&["render", "--scene", "quick"], dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("nothing written"), "{}", stdout(&output));
}

/// Reads a `.npy` of counts.
fn counts_of(path: &Path) -> (Vec<u64>, Vec<u32>) {
    let bytes = std::fs::read(path).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    (npy.shape().to_vec(), npy.into_vec::<u32>().unwrap())
}

#[test]
fn tiles_merge_into_the_whole_render_and_bad_parts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let frame = ["render", "--scene", "seahorse", "--size", "97x61", "--kernel", "simd-f64x8"];
    for i in 1..=5 {
        let tile = format!("{i}/5");
        let part = format!("part-{i}.npy");
        let output = mandel(&[&frame[..], &["--tile", &tile, "--counts", &part]].concat(), dir.path());
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(dir.path().join(format!("{part}.json")).is_file(), "a sidecar beside {part}");
    }
    let output = mandel(&[&frame[..], &["--counts", "whole.npy"]].concat(), dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    let merge = |parts: &[&str]| {
        mandel(&[&["merge", "--counts", "merged.npy", "--image", "m.png"], parts].concat(), dir.path())
    };
    let output = merge(&["part-3.npy", "part-5.npy", "part-1.npy", "part-2.npy", "part-4.npy"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(counts_of(&dir.path().join("merged.npy")), counts_of(&dir.path().join("whole.npy")));
    assert!(dir.path().join("m.png").is_file());

    // A part of another frame, a missing part, a part twice, a part that changed, no sidecar.
    let other = mandel(&["render", "--scene", "quick", "--tile", "2/5", "--counts", "other.npy"], dir.path());
    assert!(other.status.success(), "{}", stderr(&other));
    // Tiles of 61 rows in 5: 12, 12, 12, 12 and 13 rows.
    std::fs::copy(dir.path().join("part-3.npy"), dir.path().join("changed.npy")).unwrap();
    std::fs::copy(dir.path().join("part-2.npy.json"), dir.path().join("changed.npy.json")).unwrap();
    std::fs::copy(dir.path().join("part-5.npy"), dir.path().join("longer.npy")).unwrap();
    std::fs::copy(dir.path().join("part-2.npy.json"), dir.path().join("longer.npy.json")).unwrap();
    std::fs::copy(dir.path().join("part-4.npy"), dir.path().join("bare.npy")).unwrap();
    for (parts, expected) in [
        (
            &["part-1.npy", "other.npy", "part-3.npy", "part-4.npy", "part-5.npy"][..],
            "not a tile of the same render",
        ),
        (&["part-1.npy", "part-2.npy", "part-3.npy", "part-5.npy"][..], "tile 4 of 5 is missing"),
        (
            &["part-1.npy", "part-2.npy", "part-2.npy", "part-3.npy", "part-4.npy", "part-5.npy"][..],
            "given twice",
        ),
        (&["part-1.npy", "changed.npy", "part-3.npy", "part-4.npy", "part-5.npy"][..], "checksum"),
        (
            &["part-1.npy", "longer.npy", "part-3.npy", "part-4.npy", "part-5.npy"][..],
            "holds counts of shape",
        ),
        (&["part-1.npy", "part-2.npy", "part-3.npy", "bare.npy", "part-5.npy"][..], "no bare.npy.json"),
    ] {
        std::fs::remove_file(dir.path().join("merged.npy")).unwrap_or_default();
        let output = merge(parts);
        let err = stderr(&output);
        assert!(!output.status.success() && err.contains(expected), "{parts:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(!dir.path().join("merged.npy").exists(), "{parts:?}: nothing written");
    }
}

/// A long render stopped by Ctrl-C or SIGTERM: one line, status 130, and no file left behind,
/// not even a temporary one.
#[test]
fn an_interrupted_render_leaves_no_file() {
    for signal in ["INT", "TERM"] {
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_mandel"))
            .args(["render", "--kernel", "hoisted", "--size", "8x8", "--max-iter", "4294967295"])
            .args(["--image", "x.png", "--counts", "x.npy"])
            .current_dir(dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The temporary files appear when the render starts.
        let started = std::time::Instant::now();
        while std::fs::read_dir(dir.path()).unwrap().count() < 2 {
            assert!(started.elapsed().as_secs() < 30, "the render did not start");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap()
            .success());
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(130), "SIG{signal}");
        let err = stderr(&output);
        assert!(err.contains("interrupted") && err.trim().lines().count() == 1, "SIG{signal}: {err}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(left.is_empty(), "SIG{signal} left {left:?}");
    }
}

/// Runs `before ARGS after` for each case: one line on stderr starting `error:` and containing
/// the expected text, a non-zero exit, no panic, and nothing left in the directory.
fn assert_refused(before: &[&str], cases: &[(&[&str], &str)], after: &[&str]) {
    for (args, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let output = mandel(&[before, *args, after].concat(), dir.path());
        let err = stderr(&output);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: one line, got:\n{err}");
        assert!(err.starts_with("error:") && err.contains(expected), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{args:?} left files behind: {left:?}");
    }
}

#[test]
fn an_unwritable_destination_fails_before_computing() {
    let dir = tempfile::tempdir().unwrap();
    let output = mandel(&["render", "--counts", "missing/dir/c.npy"], dir.path());
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(err.contains("missing/dir/c.npy") && err.contains("does not exist"), "{err}");
    assert!(stdout(&output).is_empty(), "nothing was computed");
}

/// `mandel list | head -1`: a reader that goes away is not a crash.
#[test]
fn a_closed_stdout_is_not_a_panic() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mandel"))
        .arg("list")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
}

/// The race on the quick scene, with every export: what a person and a script get back.
#[test]
fn race_quick_prints_a_verified_table_and_writes_every_export() {
    let dir = tempfile::tempdir().unwrap();
    let output = mandel(
        &["race", "--quick", "--json", "r.json", "--markdown", "r.md", "--csv", "r.csv", "--chart", "r.svg"],
        dir.path(),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let quick = mandel_core::Scene::by_name("quick").unwrap().frame();
    let work = mandel_core::pixel_iterations(
        &mandel_core::reference_counts(&quick, mandel_core::Precision::F64).unwrap(),
        quick.max_iter(),
    );
    let work32 = mandel_core::pixel_iterations(
        &mandel_core::reference_counts(&quick, mandel_core::Precision::F32).unwrap(),
        quick.max_iter(),
    );
    assert!(text.contains(&format!("{} pixel-iterations", thousands(work))), "{text}");
    for header in ["cpu", "simd", "build", "rustc", "timing"] {
        assert!(text.contains(header), "{header} missing from the header:\n{text}");
    }
    // Every discovered kernel races by default, in rung order, and all of them are exact; one
    // that cannot run here (a GPU kernel without a driver) is skipped, saying why.
    let discovered: Vec<(String, mandel_core::Precision)> = mandel_harness::registry::discovered_kernels()
        .iter()
        .map(|(_, kernel)| (kernel.name().to_string(), kernel.precision()))
        .collect();
    let unavailable: Vec<String> = mandel_harness::registry::discovered_kernels()
        .iter()
        .filter(|(_, kernel)| kernel.availability() != mandel_core::Availability::Ready)
        .map(|(_, kernel)| kernel.name().to_string())
        .collect();
    if !unavailable.is_empty() {
        eprintln!("NOTE: unavailable here, checked as skipped: {unavailable:?}");
    }
    assert!(
        discovered.len() >= 2 && discovered[0].0 == "naive" && discovered[1].0 == "hoisted",
        "{discovered:?}"
    );
    for (kernel, _) in &discovered {
        let row = text
            .lines()
            .find(|line| line.split_whitespace().next() == Some(kernel.as_str()))
            .unwrap_or_else(|| panic!("no row for {kernel}:\n{text}"));
        let expected = if unavailable.contains(kernel) { "skipped: " } else { "exact" };
        assert!(row.contains(expected), "{row}");
    }
    assert!(!text.lines().any(|line| line.starts_with("reference")), "references race only on request");
    assert!(stderr(&output).is_empty(), "no progress or driver noise on stderr: {}", stderr(&output));

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    let kernels = json["kernels"].as_array().unwrap();
    let names: Vec<&str> = kernels.iter().map(|k| k["name"].as_str().unwrap()).collect();
    let expected: Vec<&str> = discovered.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, expected, "rung order");
    for (kernel, (name, precision)) in kernels.iter().zip(&discovered) {
        if unavailable.contains(name) {
            assert_eq!(kernel["status"], "skipped", "{kernel}");
            continue;
        }
        let own_work = match precision {
            mandel_core::Precision::F64 => work,
            mandel_core::Precision::F32 => work32,
        };
        assert_eq!(kernel["pixel_iterations"], own_work, "{kernel}");
        assert_eq!(kernel["mismatched_pixels"], 0);
        assert_eq!(kernel["exact"], true);
        assert_eq!(kernel["precision"], precision.as_str());
        let runs = kernel["samples_s"].as_array().unwrap().len();
        assert!((3..=20).contains(&runs), "--quick takes 3 to 20 runs, not {runs}");
        let median = kernel["median_s"].as_f64().unwrap();
        let giter = kernel["giter_per_s"].as_f64().unwrap();
        assert!((giter * 1e9 * median / own_work as f64 - 1.0).abs() < 1e-9);
    }
    assert_eq!(kernels[0]["speedup"], 1.0, "naive is the baseline");
    assert_eq!(json["frame"]["pixel_iterations"], work);
    assert_eq!(json["frame"]["scene"], "quick");

    let markdown = std::fs::read_to_string(dir.path().join("r.md")).unwrap();
    assert_eq!(
        markdown.lines().filter(|line| line.starts_with("| `")).count(),
        discovered.len(),
        "{markdown}"
    );
    let csv = std::fs::read_to_string(dir.path().join("r.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + discovered.len(), "{csv}");
    let svg = std::fs::read_to_string(dir.path().join("r.svg")).unwrap();
    let document = roxmltree::Document::parse(&svg).expect("the chart is valid XML");
    for (precision, colour) in
        [(mandel_core::Precision::F64, "#4477AA"), (mandel_core::Precision::F32, "#EE7733")]
    {
        let bars = document
            .descendants()
            .filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some(colour))
            .count();
        let kernels =
            discovered.iter().filter(|(name, p)| *p == precision && !unavailable.contains(name)).count();
        assert_eq!(bars, kernels, "one {precision} bar per {precision} kernel");
    }
    // Nothing else is left in the directory (no temporary files).
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 4);
}

#[test]
fn race_with_several_thread_counts_reports_the_scaling_of_the_threaded_kernels() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["race", "--quick", "--threads", "2,1,2", "--json", "s.json", "--markdown", "s.md"];
    let output = mandel(&args, dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("rayon pools of 1, 2 threads, one after the other"), "{text}");
    let threaded: Vec<String> = mandel_harness::registry::discovered_kernels()
        .iter()
        .filter(|(_, kernel)| kernel.uses_threads())
        .map(|(_, kernel)| kernel.name().to_string())
        .collect();
    let parallel_rung: Vec<String> = mandel_harness::registry::discovered_kernels()
        .iter()
        .map(|(_, kernel)| kernel.name().to_string())
        .filter(|name| name.starts_with("parallel-") || name.starts_with("interior-parallel"))
        .collect();
    assert_eq!(threaded, parallel_rung, "exactly the parallel rung and interior-parallel use threads");
    assert!(threaded.iter().any(|name| name == "parallel-simd"), "{threaded:?}");

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("s.json")).unwrap()).unwrap();
    assert_eq!(json["kind"], "scaling");
    assert_eq!(json["provenance"]["threads"], 2, "the largest pool, not rayon's global one");
    let pools: Vec<u64> =
        json["races"].as_array().unwrap().iter().map(|r| r["threads"].as_u64().unwrap()).collect();
    assert_eq!(pools, [1, 2], "sorted, each size once");
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2 * threaded.len(), "every threaded kernel on both pools, and nothing else");
    for (pair, name) in rows.chunks(2).zip(&threaded) {
        for (row, threads) in pair.iter().zip([1, 2]) {
            assert_eq!(
                (row["kernel"].as_str(), row["threads"].as_u64()),
                (Some(name.as_str()), Some(threads))
            );
            assert_eq!(row["status"], "verified", "{row}");
        }
        assert_eq!(pair[0]["speedup"], 1.0);
        assert_eq!(pair[0]["efficiency"], 1.0);
        let (speedup, efficiency) =
            (pair[1]["speedup"].as_f64().unwrap(), pair[1]["efficiency"].as_f64().unwrap());
        let median = |row: &serde_json::Value| row["median_s"].as_f64().unwrap();
        assert!((speedup - median(&pair[0]) / median(&pair[1])).abs() < 1e-12, "{pair:?}");
        assert!((efficiency - speedup / 2.0).abs() < 1e-12, "{pair:?}");
        let line = text
            .lines()
            .find(|line| line.starts_with(name.as_str()) && line.split_whitespace().nth(1) == Some("2"))
            .unwrap_or_else(|| panic!("no row for {name} on 2 threads:\n{text}"));
        assert!(line.contains(&format!("{speedup:.2}×")) && line.contains("exact"), "{line}");
    }
    for race in json["races"].as_array().unwrap() {
        for kernel in race["kernels"].as_array().unwrap() {
            assert_eq!(kernel["mismatched_pixels"], 0, "verified on every pool: {kernel}");
        }
    }
    let markdown = std::fs::read_to_string(dir.path().join("s.md")).unwrap();
    assert_eq!(
        markdown
            .lines()
            .filter(|line| line.starts_with("| `parallel-") || line.starts_with("| `interior-parallel"))
            .count(),
        rows.len(),
        "{markdown}"
    );
    assert!(markdown.contains("| vs 1 thread | efficiency |"), "{markdown}");

    // --scaling picks the pools itself (1, 2, 4, … and every core), and the global pool's
    // environment variable neither matters nor starts a pool.
    let args = ["race", "--quick", "--scaling", "-k", "parallel-simd", "--max-runs", "3"];
    let output = mandel_with_env(&args, &[("RAYON_NUM_THREADS", "100000")], dir.path());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores == 1 {
        assert!(stderr(&output).contains("more than one logical core"), "{}", stderr(&output));
    } else {
        assert!(output.status.success(), "{}", stderr(&output));
        let rows = stdout(&output).lines().filter(|line| line.starts_with("parallel-simd ")).count();
        assert_eq!(rows, mandel_harness::scaling::default_pools(cores).len(), "{}", stdout(&output));
    }
}

/// A machine with no Vulkan driver (here: the loader pointed at none) lists the GPU kernels as
/// unavailable with what to install, and races everything else with a skip line for them.
#[test]
fn without_a_gpu_driver_the_gpu_kernels_are_skipped_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let no_driver =
        [("VK_ICD_FILENAMES", "/nonexistent/icd.json"), ("VK_DRIVER_FILES", "/nonexistent/icd.json")];
    let without_driver = |args: &[&str]| mandel_with_env(args, &no_driver, dir.path());
    let output = without_driver(&["list"]);
    assert!(output.status.success(), "{}", stderr(&output));
    for kernel in ["gpu-f32", "gpu-f64"] {
        let text = stdout(&output);
        let row = text.lines().find(|line| line.starts_with(kernel)).unwrap_or_else(|| panic!("{text}"));
        assert!(row.contains("no (no GPU adapter") && row.contains("mesa-vulkan-drivers"), "{row}");
    }
    let output =
        without_driver(&["race", "--quick", "-k", "hoisted,gpu-f32,gpu-f64", "--baseline", "hoisted"]);
    assert!(output.status.success(), "a skipped kernel is not a failure: {}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("devices  none raced"), "{text}");
    for kernel in ["gpu-f32", "gpu-f64"] {
        let row = text.lines().find(|line| line.starts_with(kernel)).unwrap_or_else(|| panic!("{text}"));
        assert!(row.contains("skipped: no GPU adapter"), "{row}");
    }
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
}

#[test]
fn race_selection_list_and_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let output = mandel(&["race", "--list", "hoist", "-k", "reference-f32"], dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    let lines: Vec<String> = stdout(&output).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(lines[0].starts_with("reference-f32 (mandel-core, f32, exact"), "{lines:?}");
    assert!(lines[1].starts_with("naive (kernel-naive, f64, exact, baseline"), "{lines:?}");
    assert!(lines[2].starts_with("hoisted (kernel-hoisted"), "{lines:?}");
    assert!(lines[3].starts_with("parallel-hoisted (kernel-parallel"), "{lines:?}");

    // One run is a valid plan: --max-runs lowers the default minimum with it.
    let args =
        ["race", "--quick", "--sort", "time", "-k", "hoisted", "--baseline", "hoisted", "--max-runs", "1"];
    let output = mandel(&args, dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let rows: Vec<&str> =
        text.lines().skip_while(|l| !l.starts_with("kernel")).skip(1).take_while(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), 1, "only hoisted, which is also the baseline:\n{text}");
    assert!(rows[0].contains("1.00×"), "{text}");
    let runs: Vec<&str> = rows[0].split_whitespace().collect();
    assert_eq!(runs[runs.len() - 4], "1", "one run: {}", rows[0]);
}

/// Bad race input: one line on stderr, a non-zero exit, and no export (not even a partial one).
#[test]
fn bad_race_input_is_one_line_a_nonzero_exit_and_no_file() {
    let cases: &[(&[&str], &str)] = &[
        (&["-k", "hoisterd"], "unknown kernel `hoisterd`"),
        (&["--skip", "nope"], "unknown kernel `nope`"),
        (&["--baseline", "nope"], "unknown kernel `nope`"),
        (&["gpu-f128"], "no kernel name contains `gpu-f128`"),
        (&["-k", "naive", "--skip", "naive"], "nothing left"),
        (&["--skip", "naive"], "--skip leaves out"),
        (&["--threads", "0"], "--threads must be from 1 to 1024, not 0"),
        (&["--threads", "100000"], "--threads must be from 1 to 1024, not 100000"),
        (&["--threads", "1,0"], "--threads must be from 1 to 1024, not 0"),
        (&["--threads", "1,2"], "exports --json and --markdown only"),
        (&["--threads", "1,2", "-k", "naive,hoisted"], "none is selected"),
        (&["--scaling", "--threads", "2"], "cannot be used with"),
        (&["--csv", "r.json"], "two exports"),
        (&["--scene", "deep", "--baseline", "reference-f32"], "cannot run this frame"),
        (&["--min-runs", "0"], "--min-runs"),
        (&["--min-runs", "9", "--max-runs", "3"], "--max-runs"),
        (&["--min-time", "nan"], "--min-time"),
        (&["--warmup", "-1"], "--warmup"),
        (&["--scene", "nope"], "unknown scene `nope`"),
        (&["--size", "0x0"], "empty"),
        (&["--bounds", "0,1,1,0"], "inverted"),
        (&["--sort", "random"], "random"),
    ];
    assert_refused(&["race", "--quick"], cases, &["--json", "r.json", "--chart", "r.svg"]);
    // Absurd thread counts from the environment are refused too, not left to abort.
    let dir = tempfile::tempdir().unwrap();
    let output = mandel_with_env(&["race", "--quick"], &[("RAYON_NUM_THREADS", "100000")], dir.path());
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("RAYON_NUM_THREADS must be at most 1024"), "{}", stderr(&output));
    // An export into a missing directory fails before anything is raced.
    let dir = tempfile::tempdir().unwrap();
    let output = mandel(&["race", "--quick", "--csv", "no/such/r.csv"], dir.path());
    assert!(!output.status.success());
    assert!(stderr(&output).contains("does not exist") && stdout(&output).is_empty(), "{}", stderr(&output));
}

/// Ctrl-C in the middle of a long race prints what was measured, and exits 130.
#[cfg(unix)]
#[test]
fn ctrl_c_prints_the_results_so_far() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mandel"))
        .args(["race", "--quick", "-k", "hoisted", "--baseline", "hoisted", "--min-time", "120"])
        .args(["--max-runs", "1000000", "--json", "r.json"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The header (ending in a blank line) is printed once the handler is in place and the
    // references are computed: from then on, the race is running.
    let mut stdout_reader = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(stdout_reader.read_line(&mut line).unwrap() > 0, "stdout closed early: {seen}");
        seen += &line;
        if line.trim().is_empty() {
            break;
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let killed = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout_reader, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{seen}{rest}");
    let row = rest.lines().find(|line| line.starts_with("hoisted")).unwrap_or_else(|| panic!("{rest}"));
    assert!(row.contains("exact") && row.contains(" ms"), "{row}");
    assert!(rest.contains("interrupted"), "{rest}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(json["interrupted"], true);
}

/// `205785865` → `205,785,865`, as the command prints it.
fn thousands(n: u64) -> String {
    mandel_harness::report::thousands(n)
}

/// The aliases of `.cargo/config.toml` as `(name, expansion)`.
fn cargo_aliases() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let config = std::fs::read_to_string(root.join(".cargo/config.toml")).unwrap();
    let section = config.split("[alias]").nth(1).expect("an [alias] section");
    let section = section.split("\n[").next().unwrap();
    section
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.trim().to_string(), value.trim().trim_matches('"').to_string()))
        .collect()
}

#[test]
fn the_aliases_show_the_build_and_the_docs_quote_them_as_they_are() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let aliases = cargo_aliases();
    assert!(aliases.iter().any(|(name, _)| name == "race"), "the race alias: {aliases:?}");
    for (name, expansion) in &aliases {
        // A fresh clone's first `cargo race` compiles for minutes: cargo must be allowed to say so.
        assert!(
            !expansion.split_whitespace().any(|word| word == "-q"),
            "`cargo {name}` hides the build: {expansion}"
        );
    }
    let race = &aliases.iter().find(|(name, _)| name == "race").unwrap().1;
    for doc in ["README.md", "docs/intro.md"] {
        let text =
            std::fs::read_to_string(root.join(doc)).unwrap().split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(text.contains(&format!("`cargo {race}`")), "{doc} quotes `cargo race` as `cargo {race}`");
    }
}

#[test]
fn a_race_says_when_a_kernels_throughput_is_effective() {
    let dir = tempfile::tempdir().unwrap();
    let output = mandel(
        &["race", "--quick", "--kernels", "simd-f64x8,interior-simd", "--baseline", "simd-f64x8"],
        dir.path(),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let note =
        text.lines().find(|line| line.contains("effective")).unwrap_or_else(|| panic!("no note:\n{text}"));
    assert!(note.contains("interior-simd") && !note.contains("simd-f64x8"), "{note}");
    // Without a kernel that skips work, no such note.
    let output =
        mandel(&["race", "--quick", "--kernels", "simd-f64x8", "--baseline", "simd-f64x8"], dir.path());
    assert!(!stdout(&output).contains("effective"), "{}", stdout(&output));
}
