//! The MPI rung for real, on this host: the conformance kit with 2 and 3 ranks, in both
//! precisions, and ranks that do not spin between frames. Needs the `mpi` feature and Open MPI:
//! `cargo test -p mandel-harness --features mpi` (CI runs it). Without the feature, one test
//! says loudly that these were not built.

#[cfg(feature = "mpi")]
mod with_mpi {
    use std::time::Duration;

    use kernel_mpi::{Config, Mpi, MpiSimd};
    use mandel_core::{MandelKernel, Real};

    /// `ranks` ranks of this test's `mandel` (built with the feature), on this host.
    pub fn config(ranks: u32) -> Config {
        Config {
            ranks,
            hostfile: None,
            threads: Some(1),
            timeout: Duration::from_secs(60),
            launcher: None,
            worker: Some((env!("CARGO_BIN_EXE_mandel").into(), vec!["mpi-worker".into()])),
            extra_args: Vec::new(),
            address: None,
        }
    }

    pub fn on_ranks<R: Real>(ranks: u32) -> Mpi<R> {
        let kernel = Mpi::<R>::with_config(Ok(config(ranks)));
        let name = format!("{}-r{ranks}", kernel.name());
        kernel.named(name)
    }

    mandel_testkit::conformance!(
        two_ranks => on_ranks::<f64>(2),
        three_ranks => on_ranks::<f64>(3),
        two_ranks_f32 => on_ranks::<f32>(2),
    );

    /// CPU time (user + system, in clock ticks) of a process, from `/proc`.
    fn cpu_ticks(pid: u32) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the rank is running");
        // Fields after the command name (which may contain spaces) start after the last ')'.
        let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    }

    #[test]
    fn ranks_waiting_for_the_next_frame_leave_the_cores_to_others() {
        let kernel: MpiSimd = on_ranks(2);
        let frame = mandel_core::Scene::by_name("quick").unwrap().frame();
        let mut out = vec![0; frame.pixel_count()];
        kernel.compute(&frame, &mut out).unwrap();
        let pids = kernel.rank_pids().expect("a running job");
        std::thread::sleep(Duration::from_millis(200)); // past the short spin after a frame
        let before: Vec<u64> = pids.iter().map(|&pid| cpu_ticks(pid)).collect();
        std::thread::sleep(Duration::from_secs(2));
        let used: Vec<u64> = pids.iter().zip(&before).map(|(&pid, before)| cpu_ticks(pid) - before).collect();
        // Clock ticks are hundredths of a second: 2 s of a spinning rank would be 200.
        assert!(used.iter().all(|&ticks| ticks <= 10), "idle ranks used {used:?} ticks in 2 s");
    }
}

#[cfg(not(feature = "mpi"))]
#[test]
fn the_mpi_tests_need_the_mpi_feature() {
    use std::io::Write;
    // Straight to stderr, past the test harness's capture, like the kit's skips.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: the MPI rung's tests were built without the `mpi` feature: run \
         `cargo test -p mandel-harness --features mpi` with Open MPI installed (CI does)"
    );
}
