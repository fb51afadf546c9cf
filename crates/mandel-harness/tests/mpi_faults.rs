//! The MPI rung when things go wrong: a rank that panics, a rank that is killed, a launcher
//! that does not start one job, a job that never connects. Each must end the frame with a
//! one-line `Err` within a bounded time, tear the job down, and leave the next frame to a fresh
//! job. One test, so that the environment variables it sets reach no other test. Needs the
//! `mpi` feature (CI runs it).

#![cfg(feature = "mpi")]

use std::time::{Duration, Instant};

use kernel_mpi::{Config, MpiSimd, ENV_TEST_PANIC_ROW};
use mandel_core::{reference_counts, MandelKernel, Precision, Scene};

fn config(ranks: u32) -> Config {
    Config {
        ranks,
        hostfile: None,
        threads: Some(1),
        timeout: Duration::from_secs(10),
        launcher: None,
        worker: Some((env!("CARGO_BIN_EXE_mandel").into(), vec!["mpi-worker".into()])),
        extra_args: Vec::new(),
        address: None,
    }
}

/// Computes the quick scene, and how long it took.
fn render(kernel: &MpiSimd) -> (Result<Vec<u32>, String>, Duration) {
    let frame = Scene::by_name("quick").unwrap().frame();
    let mut out = vec![0; frame.pixel_count()];
    let started = Instant::now();
    let result = kernel.compute(&frame, &mut out).map(|()| out).map_err(|e| e.to_string());
    (result, started.elapsed())
}

fn assert_fails_soon(kernel: &MpiSimd, what: &str, within: Duration) -> String {
    let (result, took) = render(kernel);
    let Err(message) = result else { panic!("{what}: the frame was computed") };
    assert!(took < within, "{what}: took {took:?}: {message}");
    assert!(!message.contains('\n'), "{what}: one line: {message}");
    eprintln!("{what}: {message} ({took:?})");
    message
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| !stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')))
}

#[test]
fn faults_end_the_frame_with_an_error_and_the_next_frame_starts_a_fresh_job() {
    let expected = reference_counts(&Scene::by_name("quick").unwrap().frame(), Precision::F64).unwrap();
    let kernel = MpiSimd::with_config(Ok(config(2)));

    // A rank that panics: the job is aborted, the frame fails, the next one works.
    std::env::set_var(ENV_TEST_PANIC_ROW, "128");
    let message = assert_fails_soon(&kernel, "a panicking rank", Duration::from_secs(10));
    assert!(message.contains("mpirun") || message.contains("MPI job"), "{message}");
    std::env::remove_var(ENV_TEST_PANIC_ROW);
    assert_eq!(render(&kernel).0.expect("a fresh job after a panic"), expected);

    // A killed rank: the same.
    let pids = kernel.rank_pids().expect("a running job");
    std::process::Command::new("kill").args(["-KILL", &pids[1].to_string()]).status().unwrap();
    assert_fails_soon(&kernel, "a killed rank", Duration::from_secs(10));
    assert!(pids.iter().all(|&pid| !alive(pid)), "the killed job's ranks are gone: {pids:?}");
    assert_eq!(render(&kernel).0.expect("a fresh job after a kill"), expected);
    let pids = kernel.rank_pids().unwrap();
    drop(kernel);
    std::thread::sleep(Duration::from_millis(300));
    assert!(pids.iter().all(|&pid| !alive(pid)), "dropping the kernel ends its job: {pids:?}");

    // A launcher that starts independent one-rank programs (a launcher that does not match the
    // MPI library does that): refused, not computed twice.
    let dir = tempfile::tempdir().unwrap();
    let launcher = dir.path().join("two-singletons");
    std::fs::write(&launcher, "#!/bin/sh\n\"$@\" &\n\"$@\" &\nwait\n").unwrap();
    std::process::Command::new("chmod").arg("+x").arg(&launcher).status().unwrap();
    let mismatched = MpiSimd::with_config(Ok(Config {
        launcher: Some(vec![launcher.display().to_string()]),
        ..config(2)
    }));
    let message = assert_fails_soon(&mismatched, "a mismatched launcher", Duration::from_secs(10));
    assert!(message.contains("do not match") || message.contains("rank 0"), "{message}");

    // A job that never connects (here: a launcher that starts nothing and waits): the timeout.
    let silent = dir.path().join("silent");
    std::fs::write(&silent, "#!/bin/sh\nsleep 60\n").unwrap();
    std::process::Command::new("chmod").arg("+x").arg(&silent).status().unwrap();
    let never = MpiSimd::with_config(Ok(Config {
        launcher: Some(vec![silent.display().to_string()]),
        timeout: Duration::from_secs(2),
        ..config(2)
    }));
    let message = assert_fails_soon(&never, "a job that never connects", Duration::from_secs(8));
    assert!(message.contains("within 2 s"), "{message}");
}
