//! The `mandel` command end to end: what a person types, what they get back.

use std::path::Path;
use std::process::{Command, Output};

fn mandel(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mandel")).args(args).current_dir(dir).output().expect("run mandel")
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
    ];
    for (args, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let output =
            mandel(&[&["render"], *args, &["--counts", "c.npy", "--image", "c.png"]].concat(), dir.path());
        let err = stderr(&output);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: one line, got:\n{err}");
        assert!(err.starts_with("error:") && err.contains(expected), "{args:?}: {err}");
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
