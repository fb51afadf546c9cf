//! The tutorial's Python programs as race rows: exact against the reference on small frames
//! (whole frames and a band), skipped with one line when Python or numpy is missing (a failure
//! when MANDEL_REQUIRE_ALL is set, as in CI), and raced by `mandel race --python`.

use std::path::Path;
use std::process::Command;

use mandel_core::{reference, Frame, MandelKernel, Scene, Viewport};
use mandel_harness::python::rows;
use mandel_testkit::{require_all, skip_line};

/// The interpreter the tests use: `MANDEL_TEST_PYTHON`, or the `python3` on PATH.
fn python() -> String {
    std::env::var("MANDEL_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn frames() -> Vec<Frame> {
    let seahorse = Scene::by_name("seahorse").unwrap();
    let [x_min, x_max, y_min, y_max] = seahorse.bounds();
    vec![
        Frame::new(Viewport::from_bounds(-2.13, 0.77, -1.3, 1.3, 61, 37).unwrap(), 300),
        Frame::new(Viewport::from_bounds(x_min, x_max, y_min, y_max, 23, 19).unwrap(), seahorse.max_iter()),
        // Just outside the set near c = 1/4: orbits that escape late.
        Frame::new(Viewport::from_bounds(0.2501, 0.2601, -0.005, 0.005, 9, 5).unwrap(), 5000),
    ]
}

#[test]
fn every_python_row_is_exact_or_skipped_loudly() {
    for row in rows(Path::new(&python())) {
        if let Some(line) = skip_line(&row, "python rows", require_all()) {
            eprintln!("{line}");
            continue;
        }
        for frame in frames() {
            let mut expected = vec![0; frame.pixel_count()];
            reference::<f64>(&frame, &mut expected).unwrap();
            let mut got = vec![u32::MAX; frame.pixel_count()];
            row.compute(&frame, &mut got).unwrap_or_else(|e| panic!("{}: {e}", row.name()));
            let differing = got.iter().zip(&expected).filter(|(a, b)| a != b).count();
            assert_eq!(
                differing,
                0,
                "{} differs from the reference on {differing} pixels of {frame}",
                row.name()
            );
            // A band: the rows of the whole frame.
            let band = frame.band(2..4).unwrap();
            let mut part = vec![u32::MAX; band.pixel_count()];
            row.compute(&band, &mut part).unwrap();
            let width = frame.width() as usize;
            assert_eq!(part, expected[2 * width..4 * width], "{} on rows 2..4 of {frame}", row.name());
        }
        // It times itself: one number per run, none of them the start-up.
        let frame = &frames()[0];
        let mut out = vec![0; frame.pixel_count()];
        let times = row.timed_runs(frame, 2, &mut out).expect("a Python row times itself").unwrap();
        assert_eq!(times.len(), 2, "{}", row.name());
    }
}

#[test]
fn a_missing_interpreter_makes_the_rows_unavailable_with_what_to_install() {
    for row in rows(Path::new("/nonexistent/python3")) {
        let line = skip_line(&row, "python rows", false).expect("no interpreter: unavailable");
        assert!(line.contains("install Python 3") && line.contains("--python"), "{line}");
    }
}

#[test]
fn the_race_ranks_the_python_rows_first_and_checks_them() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("race.json");
    let output = Command::new(env!("CARGO_BIN_EXE_mandel"))
        .args(["race", "--quick", "--python", &python(), "--kernels", "python-hoisted,python-numpy,hoisted"])
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let kernels = report["kernels"].as_array().unwrap();
    let names: Vec<&str> = kernels.iter().map(|k| k["name"].as_str().unwrap()).collect();
    assert_eq!(
        names[..2],
        ["python-hoisted", "python-numpy"],
        "where the tutorial started, first: {names:?}"
    );
    for k in &kernels[..2] {
        let status = k["status"].as_str().unwrap();
        if status == "skipped" && !require_all() {
            eprintln!("SKIPPED {}: {}", k["name"], k["reason"]);
            continue;
        }
        assert_eq!(status, "verified", "{k}");
        assert_eq!(k["mismatched_pixels"], 0, "{k}");
        let runs = k["runs"].as_u64().unwrap();
        assert!((1..=3).contains(&runs), "a Python row runs once to three times: {k}");
        // The first call includes the interpreter's start-up; the timed runs do not.
        assert!(k["first_call_s"].as_f64().unwrap() >= k["min_s"].as_f64().unwrap(), "{k}");
    }
}

#[test]
fn asking_for_a_python_row_without_python_says_to_add_the_flag() {
    let output = Command::new(env!("CARGO_BIN_EXE_mandel"))
        .args(["race", "--quick", "--kernels", "python-pure"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("unknown kernel `python-pure`") && stderr.contains("need --python"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}
