//! The MPI rung across two "hosts" on this machine: two network namespaces joined by a veth
//! pair, each with its own address and host name, Open MPI's TCP transport between them, and a
//! launcher agent in place of ssh that enters the other namespace. The output must be the
//! reference's, bit for bit; a host that does not answer must fail the frame within the
//! timeout. Needs the `mpi` feature and root (CI runs it as root); if the namespaces cannot be
//! made, the test fails: it never skips.

#![cfg(feature = "mpi")]

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use mandel_core::{reference_counts, Frame, Precision, Viewport};

fn sh(line: &str) -> Output {
    Command::new("sh").arg("-c").arg(line).output().expect("sh runs")
}

fn must(line: &str) {
    let output = sh(line);
    assert!(
        output.status.success(),
        "`{line}` failed ({}): {} (the two-host test needs root and iproute2: CI runs it as root)",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
}

/// Three namespaces, `a` and `b` joined by a veth pair, `c` with a veth of its own that is
/// down (a host that does not answer); removed, with anything left running in them, on drop.
struct Hosts {
    namespaces: [String; 3],
    net: String,
    dir: tempfile::TempDir,
}

impl Hosts {
    fn new() -> Hosts {
        let id = std::process::id() % 100_000;
        let namespaces = ["a", "b", "c"].map(|host| format!("mandel{id}{host}"));
        let net = format!("10.77.{}", id % 250);
        let hosts = Hosts { namespaces, net, dir: tempfile::tempdir().unwrap() };
        let [a, b, c] = &hosts.namespaces;
        let net = &hosts.net;
        for ns in [a, b, c] {
            must(&format!("ip netns add {ns}"));
            must(&format!("ip -n {ns} link set lo up"));
        }
        must(&format!("ip link add mva{id} netns {a} type veth peer name mvb{id} netns {b}"));
        must(&format!("ip -n {a} addr add {net}.1/24 dev mva{id} && ip -n {a} link set mva{id} up"));
        must(&format!("ip -n {b} addr add {net}.2/24 dev mvb{id} && ip -n {b} link set mvb{id} up"));
        // Host c: an address on the same subnet, but its link to a is down.
        must(&format!("ip link add mvc{id} netns {c} type veth peer name mvd{id} netns {a}"));
        must(&format!("ip -n {c} addr add {net}.3/24 dev mvc{id}"));
        // mpirun's "ssh": run the command on host A, B or C, in its namespace, with its name.
        let agent = hosts.dir.path().join("agent");
        std::fs::write(
            &agent,
            format!(
                "#!/bin/sh\nhost=\"$1\"; shift\ncase \"$host\" in\n  hostA) ns={a} ;;\n  hostB) ns={b} ;;\n  \
                 hostC) ns={c} ;;\n  hostD) exec sleep 3600 ;;\n  *) echo \"no host $host\" >&2; exit 255 ;;\nesac\n\
                 exec ip netns exec \"$ns\" unshare --uts /bin/sh -c \"hostname $host && $*\"\n"
            ),
        )
        .unwrap();
        must(&format!("chmod +x {}", agent.display()));
        hosts
    }

    /// Renders `frame` with `mpi-simd` (or `mpi-simd-f32`) from namespace a on the hosts of
    /// `hostfile`; the exit status, stderr and counts.
    fn render(
        &self,
        hostfile: &str,
        kernel: &str,
        frame: &Frame,
        timeout_s: u32,
    ) -> (Output, Vec<u32>, Duration) {
        let hostfile_path = self.dir.path().join(format!("hosts-{}", hostfile.len()));
        std::fs::write(&hostfile_path, hostfile).unwrap();
        let counts = self.dir.path().join("counts.npy");
        let _ = std::fs::remove_file(&counts);
        let v = frame.viewport();
        let net = &self.net;
        let args = format!(
            "--mca plm_rsh_agent {} --mca btl tcp,self --mca btl_tcp_if_include {net}.0/24 \
             --mca oob_tcp_if_include {net}.0/24",
            self.dir.path().join("agent").display()
        );
        let started = Instant::now();
        let output = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.namespaces[0],
                env!("CARGO_BIN_EXE_mandel"),
                "render",
                "--kernel",
                kernel,
            ])
            .arg(format!("--bounds={},{},{},{}", v.x_min(), v.x_max(), v.y_min(), v.y_max()))
            .args(["--size", &format!("{}x{}", v.width(), v.height())])
            .args(["--max-iter", &frame.max_iter().to_string()])
            .arg("--counts")
            .arg(&counts)
            .env("MANDEL_MPI_HOSTFILE", &hostfile_path)
            .env("MANDEL_MPI_ADDRESS", format!("{net}.1"))
            .env("MANDEL_MPI_ARGS", args)
            .env("MANDEL_MPI_TIMEOUT", timeout_s.to_string())
            .env("MANDEL_MPI_THREADS", "1")
            .output()
            .expect("ip netns exec runs");
        let took = started.elapsed();
        (output, read_npy(&counts), took)
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for ns in &self.namespaces {
            let _ = sh(&format!("ip netns pids {ns} | xargs -r kill -9; ip netns del {ns}"));
        }
    }
}

/// The counts of a `.npy` written by `mandel render` (uint32, little-endian); empty if none.
fn read_npy(path: &Path) -> Vec<u32> {
    let Ok(bytes) = std::fs::read(path) else { return Vec::new() };
    let header = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
    bytes[10 + header..].chunks_exact(4).map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]])).collect()
}

fn frame(bounds: [f64; 4], width: u32, height: u32, max_iter: u32) -> Frame {
    let [x_min, x_max, y_min, y_max] = bounds;
    Frame::new(Viewport::from_bounds(x_min, x_max, y_min, y_max, width, height).unwrap(), max_iter)
}

#[test]
fn two_hosts_compute_the_reference_bit_for_bit_and_a_silent_host_fails_in_time() {
    let hosts = Hosts::new();
    let classic = frame([-2.13, 0.77, -1.3, 1.3], 240, 160, 800);
    let seahorse = frame([-0.7565, -0.7365, 0.0915, 0.1115], 120, 90, 2000);
    for (hostfile, kernel, frame, precision) in [
        ("hostA slots=1\nhostB slots=1\n", "mpi-simd", &classic, Precision::F64),
        ("hostA slots=2\nhostB slots=1\n", "mpi-simd", &seahorse, Precision::F64),
        ("hostA slots=1\nhostB slots=2\n", "mpi-simd-f32", &classic, Precision::F32),
    ] {
        let (output, counts, took) = hosts.render(hostfile, kernel, frame, 60);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{kernel} on {hostfile:?} failed: {stderr}");
        let expected = reference_counts(frame, precision).unwrap();
        let differing = counts.iter().zip(&expected).filter(|(a, b)| a != b).count();
        assert!(
            counts.len() == expected.len() && differing == 0,
            "{kernel} on {hostfile:?}: {differing} pixels differ"
        );
        eprintln!("{kernel} on {}: bit-exact in {took:?}", hostfile.replace('\n', "; "));
    }
    // Host C's link is down: mpirun finds no route to it. Host D takes the connection and never
    // answers (the agent just sleeps): only the harness's timeout ends that one.
    for (hostfile, expected) in
        [("hostA slots=1\nhostC slots=1\n", "mpirun"), ("hostA slots=1\nhostD slots=1\n", "within 5 s")]
    {
        let (output, counts, took) = hosts.render(hostfile, "mpi-simd", &classic, 5);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        assert!(counts.is_empty(), "no file written");
        assert!(took < Duration::from_secs(20), "{hostfile:?} was given up after {took:?}");
        eprintln!("{}: {} ({took:?})", hostfile.replace('\n', "; "), stderr.trim());
    }
    std::thread::sleep(Duration::from_millis(500));
    for ns in &hosts.namespaces[..2] {
        let left = sh(&format!("ip netns pids {ns} | xargs -r ps -o pid,pgid,stat,args -p"));
        let left = String::from_utf8_lossy(&left.stdout);
        assert!(left.trim().is_empty(), "processes left in {ns}: {left}");
    }
}
