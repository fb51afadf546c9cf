//! The race engine and its exports, on kernels made for the purpose: right, wrong, inexact,
//! failing, unavailable, non-deterministic. A race that ranks a wrong kernel proves nothing.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use mandel_core::{reference, Frame, KernelError, Precision, Viewport};
use mandel_harness::chart::{speedup_chart, F32_COLOUR, F64_COLOUR};
use mandel_harness::exports::{publish, Exports, Format, Verdict};
use mandel_harness::provenance::Provenance;
use mandel_harness::race::{race, Contestant, Event, KernelResult, RacePlan, References, Status};
use mandel_harness::report::{self, FrameInfo, Order, RaceReport};
use mandel_testkit::FnKernel;

/// Every kernel here is one of these, varied by struct update.
type TestKernel = FnKernel;

/// The f64 reference, under another name.
fn right(name: &'static str) -> TestKernel {
    TestKernel {
        name,
        description: "a kernel made for the race's tests",
        precision: Precision::F64,
        exact: true,
        unavailable: None,
        compute: Box::new(reference::<f64>),
    }
}

/// The f64 reference with the first `n` pixels off by one.
fn off_by_one(name: &'static str, n: usize) -> TestKernel {
    TestKernel {
        compute: Box::new(move |frame, out| {
            reference::<f64>(frame, out)?;
            out.iter_mut().take(n).for_each(|count| *count ^= 1);
            Ok(())
        }),
        ..right(name)
    }
}

fn frame() -> Frame {
    Frame::new(Viewport::from_bounds(-2.13, 0.77, -1.3, 1.3, 64, 48).unwrap(), 200)
}

const PLAN: RacePlan =
    RacePlan { warmup: Duration::ZERO, min_runs: 3, min_time: Duration::ZERO, max_runs: 5 };

fn run(kernels: Vec<TestKernel>, frame: &Frame, baseline: &str) -> RaceReport {
    let contestants: Vec<Contestant> = kernels
        .into_iter()
        .map(|k| Contestant { crate_name: "kernel-test".into(), kernel: Box::new(k) })
        .collect();
    let stop = AtomicBool::new(false);
    let references = References::compute(frame, true, &mut |_| {}).unwrap();
    let frame_info = FrameInfo::new("custom", frame, references.pixel_iterations);
    let outcome = race(&contestants, frame, &references, &PLAN, baseline, &stop, &mut |_| {});
    RaceReport::new(frame_info, PLAN, baseline, outcome, Provenance::collect(Vec::new()))
}

fn result<'a>(report: &'a RaceReport, name: &str) -> &'a KernelResult {
    report.kernels.iter().find(|k| k.name == name).unwrap()
}

fn row<'a>(table: &'a str, name: &str) -> &'a str {
    table.lines().find(|line| line.starts_with(name)).unwrap_or_else(|| panic!("no row {name} in\n{table}"))
}

#[test]
fn a_wrong_kernel_is_flagged_untimed_and_never_ranked() {
    let report = run(vec![right("base"), off_by_one("wrong", 7), right("fast")], &frame(), "base");
    let wrong = result(&report, "wrong");
    assert_eq!(wrong.status, Status::Wrong);
    assert_eq!(wrong.mismatched_pixels, Some(7));
    assert!(wrong.reason.as_deref().unwrap().contains("7 pixels differ"), "{:?}", wrong.reason);
    assert_eq!((wrong.rank, wrong.speedup, wrong.median_s, wrong.runs), (None, None, None, 0));
    assert!(wrong.samples_s.is_empty());

    let base = result(&report, "base");
    assert_eq!((base.status, base.mismatched_pixels, base.speedup), (Status::Verified, Some(0), Some(1.0)));
    let ranks: Vec<_> = report.kernels.iter().filter_map(|k| k.rank).collect();
    assert_eq!(ranks.len(), 2, "only the two right kernels are ranked");
    assert_eq!(report.broken().len(), 1);

    let table = report::table(&report, Order::Time);
    assert!(row(&table, "wrong").contains("WRONG, not ranked"), "{table}");
    assert!(table.lines().last().unwrap().starts_with("wrong"), "unranked kernels sort last:\n{table}");
    assert!(report::markdown(&report, Order::Rung).contains("WRONG"));
    assert_eq!(bars(&speedup_chart(&report).unwrap()), 2, "no bar for the wrong kernel");
}

/// What the command does after a race with a wrong kernel: the table, every export, then a
/// failing verdict that names the kernel (the command exits 1 with it).
#[test]
fn a_wrong_kernel_fails_the_race_after_everything_is_printed_and_exported() {
    let report = run(vec![right("base"), off_by_one("wrong", 2)], &frame(), "base");
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| Some(dir.path().join(name));
    let exports = Exports::new([
        (at("r.json"), Format::Json),
        (at("r.md"), Format::Markdown),
        (at("r.csv"), Format::Csv),
        (at("r.svg"), Format::Chart),
    ])
    .unwrap();
    let mut out = Vec::new();
    let verdict = publish(&report, &exports, Order::Rung, &mut out);
    assert_eq!(verdict, Verdict::Broken("wrong or failed: wrong".into()));
    let text = String::from_utf8(out).unwrap();
    assert!(row(&text, "wrong").contains("WRONG"), "{text}");
    assert_eq!(text.matches("\nwrote ").count(), 4, "{text}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 4);

    // A chart that cannot be drawn (no timed baseline) costs only itself.
    let report = run(vec![off_by_one("base", 2), right("other")], &frame(), "base");
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| Some(dir.path().join(name));
    let exports = Exports::new([(at("r.json"), Format::Json), (at("r.svg"), Format::Chart)]).unwrap();
    let Verdict::Broken(message) = publish(&report, &exports, Order::Rung, &mut Vec::new()) else {
        panic!("a wrong baseline and a missing chart are failures");
    };
    assert!(message.contains("wrong or failed: base") && message.contains("r.svg"), "{message}");
    assert!(dir.path().join("r.json").exists() && !dir.path().join("r.svg").exists());
}

#[test]
fn timing_follows_the_plan_and_the_numbers_hang_together() {
    let report = run(vec![right("base")], &frame(), "base");
    let base = result(&report, "base");
    assert!((PLAN.min_runs..=PLAN.max_runs).contains(&base.runs), "{}", base.runs);
    assert_eq!(base.samples_s.len(), base.runs);
    let (median, min, max) = (base.median_s.unwrap(), base.min_s.unwrap(), base.max_s.unwrap());
    assert!(min <= median && median <= max && min > 0.0);
    assert_eq!(base.pixel_iterations, Some(report.frame.pixel_iterations));
    let giter = base.giter_per_s.unwrap();
    assert!((giter - report.frame.pixel_iterations as f64 / median / 1e9).abs() < 1e-9 * giter.max(1.0));
    assert!(base.first_call_s.unwrap() > 0.0);
    assert_eq!(base.rank, Some(1));
}

#[test]
fn inexact_kernels_are_ranked_within_the_tolerance_and_wrong_beyond_it() {
    let pixels = frame().pixel_count(); // 3072: 1% is 30 pixels
    let slightly = TestKernel { exact: false, ..off_by_one("slightly", 30) };
    let badly = TestKernel { exact: false, ..off_by_one("badly", 31) };
    assert_eq!(pixels, 3072);
    let report = run(vec![right("base"), slightly, badly], &frame(), "base");
    let slightly = result(&report, "slightly");
    assert_eq!((slightly.status, slightly.mismatched_pixels), (Status::Verified, Some(30)));
    assert!(slightly.rank.is_some());
    assert!(report::check(slightly).contains("inexact: 30 px differ"));
    assert_eq!(result(&report, "badly").status, Status::Wrong);
}

#[test]
fn errors_panics_and_missing_devices_are_reported_not_raised() {
    let erring = TestKernel {
        compute: Box::new(|_, _| Err(KernelError::Device("the device was lost".into()))),
        ..right("erring")
    };
    let panicking =
        TestKernel { compute: Box::new(|_, _| panic!("index out of bounds")), ..right("panicking") };
    let absent =
        TestKernel { unavailable: Some("no Vulkan driver; install mesa-vulkan-drivers"), ..right("absent") };
    let calls = AtomicUsize::new(0);
    let late = TestKernel {
        compute: Box::new(move |frame, out| {
            if calls.fetch_add(1, Ordering::Relaxed) == 2 {
                return Err(KernelError::Device("timeout".into()));
            }
            reference::<f64>(frame, out)
        }),
        ..right("late")
    };
    let report = run(vec![right("base"), erring, panicking, absent, late], &frame(), "base");
    let erring = result(&report, "erring");
    assert_eq!(erring.status, Status::Failed);
    assert!(erring.reason.as_deref().unwrap().contains("the device was lost"));
    let panicking = result(&report, "panicking");
    assert_eq!(panicking.status, Status::Failed);
    assert!(panicking.reason.as_deref().unwrap().contains("panicked: index out of bounds"));
    let absent = result(&report, "absent");
    assert_eq!(absent.status, Status::Skipped);
    assert!(report::check(absent).contains("skipped: no Vulkan driver"));
    let late = result(&report, "late");
    assert_eq!(late.status, Status::Failed, "a failure after verification still counts");
    assert!(late.reason.as_deref().unwrap().contains("timeout"), "{:?}", late.reason);
    let broken: Vec<&str> = report.broken().iter().map(|k| k.name.as_str()).collect();
    assert_eq!(broken, ["erring", "panicking", "late"], "skipping is not breaking");
}

#[test]
fn a_kernel_whose_answer_changes_between_runs_is_wrong() {
    let calls = AtomicUsize::new(0);
    let racy = TestKernel {
        compute: Box::new(move |frame, out| {
            reference::<f64>(frame, out)?;
            if calls.fetch_add(1, Ordering::Relaxed) > 0 {
                out[5] += 1;
            }
            Ok(())
        }),
        ..right("racy")
    };
    let report = run(vec![right("base"), racy], &frame(), "base");
    let racy = result(&report, "racy");
    assert_eq!(racy.status, Status::Wrong);
    assert!(racy.reason.as_deref().unwrap().contains("not deterministic"), "{:?}", racy.reason);
    assert_eq!(racy.rank, None);
}

#[test]
fn f32_kernels_are_checked_against_f32_and_show_their_distance_from_f64() {
    let f32_kernel =
        TestKernel { precision: Precision::F32, compute: Box::new(reference::<f32>), ..right("single") };
    // Seahorse valley at 96x96: f32 rounding changes some escape counts there.
    let frame = Frame::new(Viewport::from_bounds(-0.7565, -0.7365, 0.0915, 0.1115, 96, 96).unwrap(), 1000);
    let report = run(vec![right("base"), f32_kernel], &frame, "base");
    let single = result(&report, "single");
    assert_eq!((single.status, single.mismatched_pixels), (Status::Verified, Some(0)));
    let versus_f64 = single.mismatched_vs_f64.unwrap();
    assert!(versus_f64 > 0, "f32 should differ from f64 somewhere here");
    assert!(report::check(single).contains("px differ from f64"));
    assert_eq!(result(&report, "base").mismatched_vs_f64, None);
    assert_eq!(bars_of(&speedup_chart(&report).unwrap(), F32_COLOUR), 1);
}

#[test]
fn f32_kernels_skip_frames_f32_cannot_resolve() {
    let f32_kernel = TestKernel { precision: Precision::F32, ..right("single") };
    let deep = mandel_core::Scene::by_name("deep").unwrap().frame().band(0..4).unwrap();
    let report = run(vec![right("base"), f32_kernel], &deep, "base");
    assert_eq!(result(&report, "single").status, Status::Skipped);
    assert_eq!(result(&report, "base").status, Status::Verified);
}

#[test]
fn ctrl_c_keeps_what_was_measured_and_marks_the_rest() {
    let contestants: Vec<Contestant> = ["first", "second", "third"]
        .into_iter()
        .map(|name| Contestant { crate_name: "kernel-test".into(), kernel: Box::new(right(name)) })
        .collect();
    let frame = frame();
    let stop = AtomicBool::new(false);
    let references = References::compute(&frame, false, &mut |_| {}).unwrap();
    // Raised while the first kernel is being timed, as Ctrl-C would be.
    let mut observe = |event: Event<'_>| {
        if matches!(event, Event::Timed { runs: 1, .. }) {
            stop.store(true, Ordering::Relaxed);
        }
    };
    let outcome = race(&contestants, &frame, &references, &PLAN, "first", &stop, &mut observe);
    assert!(outcome.interrupted);
    let first = &outcome.results[0];
    assert_eq!((first.status, first.runs), (Status::Verified, 1), "its one run is kept");
    assert!(first.median_s.is_some() && first.rank == Some(1));
    assert!(outcome.results[1..].iter().all(|k| k.status == Status::Interrupted));
}

#[test]
fn every_export_parses_back() {
    let f32_kernel =
        TestKernel { precision: Precision::F32, compute: Box::new(reference::<f32>), ..right("single") };
    let report =
        run(vec![right("base"), off_by_one("wrong", 1), right("other"), f32_kernel], &frame(), "base");

    let json = serde_json::to_string_pretty(&report).unwrap();
    let back: RaceReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    for kernel in value["kernels"].as_array().unwrap() {
        for key in [
            "name",
            "precision",
            "exact",
            "median_s",
            "pixel_iterations",
            "giter_per_s",
            "speedup",
            "mismatched_pixels",
            "samples_s",
        ] {
            assert!(kernel.get(key).is_some(), "{key} missing from {kernel}");
        }
    }
    assert_eq!(value["kernels"][3]["precision"], "f32");
    assert_eq!(value["provenance"]["rustc"].as_str().unwrap(), report.provenance.rustc);

    let csv = report::csv(&report, Order::Rung).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert!(headers.iter().any(|h| h == "median_s") && headers.iter().any(|h| h == "speedup"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(&rows[1][0], "wrong");
    let status = headers.iter().position(|h| h == "status").unwrap();
    assert_eq!(&rows[1][status], "wrong");

    let markdown = report::markdown(&report, Order::Rung);
    assert_eq!(markdown.lines().filter(|line| line.starts_with("| `")).count(), 4);
    assert!(markdown.contains(&format!("commit {}", report.provenance.commit)));

    let svg = speedup_chart(&report).unwrap();
    assert_eq!(bars(&svg), 3, "one bar per ranked kernel:\n{svg}");
    for name in ["base", "other", "single"] {
        assert!(svg.contains(&format!(">\n{name}\n<")) || svg.contains(&format!(">{name}<")), "{name}");
    }
}

#[test]
fn without_a_timed_baseline_there_are_no_speedups_and_no_chart() {
    let report = run(vec![off_by_one("base", 3), right("other")], &frame(), "base");
    assert!(report.kernels.iter().all(|k| k.speedup.is_none()));
    assert!(result(&report, "other").rank.is_some());
    assert!(report::notes(&report).iter().any(|n| n.contains("no speedups")));
    assert!(speedup_chart(&report).unwrap_err().contains("baseline `base`"));
}

/// Bars in the chart: rectangles filled with a bar colour (valid XML is a precondition).
fn bars(svg: &str) -> usize {
    bars_of(svg, F64_COLOUR) + bars_of(svg, F32_COLOUR)
}

fn bars_of(svg: &str, colour: plotters::style::RGBColor) -> usize {
    let document = roxmltree::Document::parse(svg).expect("the chart is valid XML");
    assert_eq!(document.root_element().tag_name().name(), "svg");
    let fill = format!("#{:02X}{:02X}{:02X}", colour.0, colour.1, colour.2);
    document
        .descendants()
        .filter(|node| node.has_tag_name("rect") && node.attribute("fill") == Some(fill.as_str()))
        .count()
}
