//! Rung 6, many machines: the frame shared out over the processes of an MPI job, on one host or
//! many, bit-exact. The kernels are `mpi-simd` (f64) and `mpi-simd-f32`.
//!
//! The 2011 tutorial's step after multiprocessing was Parallel Python: a `ppserver.py` left
//! running on each machine, jobs submitted to it. MPI is the established engine for the same
//! job on clusters, and Rust reaches it through the `mpi` crate (rsmpi). The shape is the same as
//! ppserver's, done properly:
//!
//! - **A persistent job.** The first call starts `mpirun` (the race shows that in its *first
//!   call* column); every later frame reuses the job, which waits between frames without
//!   keeping a core busy. [`job`] is the harness's side.
//! - **Dynamic work.** Rank 0 hands out tasks of whole rows as ranks ask for them, because the
//!   work of a frame is so uneven that equal bands leave most ranks idle; each rank computes its
//!   tasks with the parallel rung's routine over its own threads. [`worker`] is the MPI program.
//! - **A cheap way back.** Rows travel from the ranks to rank 0 through MPI and from rank 0 to
//!   the harness over a local socket as soon as each task is done, so the transfer overlaps the
//!   computation, and the harness reads them straight into the caller's buffer.
//!
//! # Building it
//! MPI is optional: without this crate's `mpi` feature (the harness's `mpi` feature turns it on:
//! `cargo build --release -p mandel-harness --features mpi`) nothing links MPI, and the kernels
//! say what to install. With it, the `mandel` binary is also the MPI program (`mandel
//! mpi-worker`, which `mpirun` starts on every rank).
//!
//! # Configuration
//! `MANDEL_MPI_RANKS` (default 2, or the hostfile's slots), `MANDEL_MPI_HOSTFILE` (passed to
//! `mpirun --hostfile`), `MANDEL_MPI_THREADS` (threads per rank; default: each host's cores
//! shared among its ranks), `MANDEL_MPI_TIMEOUT` (seconds of silence before the job is given
//! up, default 30), `MANDEL_MPI_LAUNCHER` (a command that replaces `mpirun` and its arguments,
//! e.g. `srun --mpi=pmix`), `MANDEL_MPI_ARGS` (more arguments for `mpirun`, such as MCA
//! parameters), `MANDEL_MPI_ADDRESS` (the address ranks on other hosts reach this host at,
//! default its host name), `MANDEL_MPI_WORKER` (the program the ranks run, default this one).

pub mod job;
pub mod wire;
#[cfg(feature = "mpi")]
pub mod worker;

use std::borrow::Cow;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use mandel_core::{Availability, Frame, Grid, KernelError, MandelKernel, Precision, Real};

use crate::job::Job;
use crate::wire::FrameRequest;

/// Ranks in the job.
pub const ENV_RANKS: &str = "MANDEL_MPI_RANKS";
/// An `mpirun --hostfile`.
pub const ENV_HOSTFILE: &str = "MANDEL_MPI_HOSTFILE";
/// Threads per rank.
pub const ENV_THREADS: &str = "MANDEL_MPI_THREADS";
/// Seconds of silence before the job is given up.
pub const ENV_TIMEOUT: &str = "MANDEL_MPI_TIMEOUT";
/// A command that starts the ranks instead of `mpirun -n RANKS`.
pub const ENV_LAUNCHER: &str = "MANDEL_MPI_LAUNCHER";
/// The program every rank runs, with `mpi-worker` as its argument.
pub const ENV_WORKER: &str = "MANDEL_MPI_WORKER";
/// Extra arguments for `mpirun` (MCA parameters, say), split at white space.
pub const ENV_ARGS: &str = "MANDEL_MPI_ARGS";
/// The address ranks on other hosts reach the harness's host at (default: its host name).
pub const ENV_ADDRESS: &str = "MANDEL_MPI_ADDRESS";
/// Set by the harness: where the ranks connect back (`unix:PATH,HOST:PORT,...`).
pub const ENV_CONTACT: &str = "MANDEL_MPI_CONTACT";
/// Set by the harness: its host's name; only ranks on a host of that name use the Unix socket.
pub const ENV_HARNESS_HOST: &str = "MANDEL_MPI_HARNESS_HOST";
/// Set by the harness: how many ranks it asked for.
pub const ENV_EXPECT: &str = "MANDEL_MPI_EXPECT";
/// For tests of faults: a rank other than 0 that is given this row panics.
pub const ENV_TEST_PANIC_ROW: &str = "MANDEL_MPI_TEST_PANIC_ROW";

/// Whether this build has MPI (the `mpi` feature). Without it the kernels are listed as
/// unavailable, by choice of build rather than by a fault of the machine.
pub const BUILT: bool = cfg!(feature = "mpi");

/// What to install where MPI is missing.
pub const INSTALL_HINT: &str =
    "install Open MPI (Debian/Ubuntu: `apt install openmpi-bin libopenmpi-dev clang`) \
                                and build with `cargo build --release -p mandel-harness --features mpi`";

/// An environment variable that is set and not empty.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.trim().is_empty())
}

/// This host's name, as the other hosts of a job would know it.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .or_else(|| Command::new("hostname").output().ok().and_then(|o| String::from_utf8(o.stdout).ok()))
        .map(|name| name.trim().to_string())
        .unwrap_or_else(|| "localhost".into())
}

static WORKER: OnceLock<(PathBuf, Vec<String>)> = OnceLock::new();

/// Registers the program that runs the MPI side: `mandel` calls this with itself and
/// `mpi-worker` at start-up. Other programs (tests, benches) use `MANDEL_MPI_WORKER`, or a
/// `mandel` beside them.
pub fn register_worker(program: PathBuf, args: Vec<String>) {
    let _ = WORKER.set((program, args));
}

/// How the job is started: read from the environment when the kernel is made.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Ranks asked for.
    pub ranks: u32,
    /// `mpirun --hostfile`.
    pub hostfile: Option<PathBuf>,
    /// Threads per rank (`None`: each rank decides from its host's cores).
    pub threads: Option<usize>,
    /// Silence after which the job is given up.
    pub timeout: Duration,
    /// A command instead of `mpirun` (its words).
    pub launcher: Option<Vec<String>>,
    /// The program the ranks run and its arguments.
    pub worker: Option<(PathBuf, Vec<String>)>,
    /// More arguments for `mpirun`.
    pub extra_args: Vec<String>,
    /// The address ranks on other hosts reach this host at.
    pub address: Option<String>,
}

impl Config {
    /// The configuration the environment describes; `Err` says which variable is wrong.
    pub fn from_env() -> Result<Config, String> {
        let hostfile = env(ENV_HOSTFILE).map(PathBuf::from);
        let slots = match &hostfile {
            Some(path) => Some(hostfile_slots(path)?),
            None => None,
        };
        let ranks = match env(ENV_RANKS) {
            Some(text) => {
                text.trim().parse::<u32>().ok().filter(|&n| (1..=65_536).contains(&n)).ok_or_else(|| {
                    format!("{ENV_RANKS} must be a whole number from 1 to 65536, not `{text}`")
                })?
            }
            None => slots.unwrap_or(2),
        };
        let threads = match env(ENV_THREADS) {
            Some(text) => {
                Some(text.trim().parse::<usize>().ok().filter(|&n| (1..=1024).contains(&n)).ok_or_else(
                    || format!("{ENV_THREADS} must be a whole number from 1 to 1024, not `{text}`"),
                )?)
            }
            None => None,
        };
        let timeout = match env(ENV_TIMEOUT) {
            Some(text) => text
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && (0.1..=86_400.0).contains(s))
                .map(Duration::from_secs_f64)
                .ok_or_else(|| {
                    format!("{ENV_TIMEOUT} must be a number of seconds from 0.1 to 86400, not `{text}`")
                })?,
            None => Duration::from_secs(30),
        };
        let launcher = env(ENV_LAUNCHER).map(|text| text.split_whitespace().map(String::from).collect());
        let worker = env(ENV_WORKER).map(|path| (PathBuf::from(path), vec!["mpi-worker".to_string()]));
        let extra_args =
            env(ENV_ARGS).map_or_else(Vec::new, |text| text.split_whitespace().map(String::from).collect());
        let address = env(ENV_ADDRESS);
        Ok(Config { ranks, hostfile, threads, timeout, launcher, worker, extra_args, address })
    }

    /// The program the ranks run: the configured one, the registered one, or a `mandel` beside
    /// this program (or one directory up, where cargo puts binaries beside test executables).
    pub fn worker(&self) -> Option<(PathBuf, Vec<String>)> {
        if let Some(worker) = self.worker.clone().or_else(|| WORKER.get().cloned()) {
            return Some(worker);
        }
        let exe = std::env::current_exe().ok()?;
        let dir = exe.parent()?;
        [dir.join("mandel"), dir.parent()?.join("mandel")]
            .into_iter()
            .find(|candidate| candidate.is_file())
            .map(|program| (program, vec!["mpi-worker".to_string()]))
    }

    /// More ranks than this host has cores, with no hostfile.
    pub fn oversubscribed(&self) -> bool {
        self.hostfile.is_none()
            && self.launcher.is_none()
            && self.ranks as usize > std::thread::available_parallelism().map_or(1, |n| n.get())
    }

    /// `mpirun`, or the configured launcher's first word.
    pub fn launcher_name(&self) -> String {
        self.launcher.as_ref().and_then(|words| words.first().cloned()).unwrap_or_else(|| "mpirun".into())
    }

    /// The command that starts the job (without the variables the harness adds).
    pub fn command(&self) -> Command {
        let (program, args) =
            self.worker().unwrap_or_else(|| (PathBuf::from("mandel"), vec!["mpi-worker".into()]));
        let mut command;
        if let Some(words) = &self.launcher {
            command = Command::new(&words[0]);
            command.args(&words[1..]);
        } else {
            command = Command::new("mpirun");
            command.args(["-n", &self.ranks.to_string()]);
            // Ranks compute with threads of their own: do not pin each to one core.
            command.args(["--bind-to", "none"]);
            // A killed rank takes the job down at once rather than after a second.
            command.args(["--mca", "odls_base_sigkill_timeout", "0"]);
            if let Some(hostfile) = &self.hostfile {
                command.arg("--hostfile").arg(hostfile);
            }
            if self.oversubscribed() {
                command.arg("--oversubscribe");
            }
            // Open MPI refuses root unless told; CI and containers run as root.
            if is_root() {
                command.arg("--allow-run-as-root");
            }
            command.args(&self.extra_args);
            // What the ranks need from the harness's environment, on every host.
            for name in [ENV_CONTACT, ENV_EXPECT, ENV_HARNESS_HOST] {
                command.args(["-x", name]);
            }
            for name in [ENV_THREADS, ENV_TEST_PANIC_ROW] {
                if env(name).is_some() || (name == ENV_THREADS && self.threads.is_some()) {
                    command.args(["-x", name]);
                }
            }
        }
        command.arg(program).args(args);
        command
    }

    /// `2 ranks × 1 thread on this host`, for the device line.
    pub fn describe(&self) -> String {
        let threads = match self.threads {
            Some(1) => "1 thread".to_string(),
            Some(n) => format!("{n} threads"),
            None if self.hostfile.is_none() => {
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
                let each = (cores / self.ranks as usize).max(1);
                if each == 1 {
                    "1 thread".into()
                } else {
                    format!("{each} threads")
                }
            }
            None => "each host's cores shared among its ranks".into(),
        };
        let ranks = plural(self.ranks, "rank");
        let place = match &self.hostfile {
            Some(path) => match hostfile_hosts(path) {
                Ok(hosts) => format!("on {}", hosts.join(", ")),
                Err(_) => format!("on the hosts of {}", path.display()),
            },
            None if self.launcher.is_some() => {
                format!("started by `{}`", self.launcher.as_deref().unwrap_or_default().join(" "))
            }
            None => "on this host".into(),
        };
        let over = if self.oversubscribed() { ", oversubscribed (more ranks than cores)" } else { "" };
        format!("{ranks} × {threads} {place}{over}")
    }
}

/// `1 rank`, `2 ranks`.
fn plural(n: u32, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// Open MPI hostfile lines: `host [slots=N] ...`, `#` comments.
fn hostfile_lines(path: &Path) -> Result<Vec<(String, u32)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the hostfile {}: {e}", path.display()))?;
    let mut hosts = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        let mut words = line.split_whitespace();
        let Some(host) = words.next() else { continue };
        let slots = words
            .find_map(|word| word.strip_prefix("slots="))
            .map(|n| n.parse::<u32>().map_err(|_| format!("{}: `slots={n}` is not a number", path.display())))
            .transpose()?
            .unwrap_or(1);
        hosts.push((host.to_string(), slots));
    }
    if hosts.is_empty() {
        return Err(format!("the hostfile {} names no host", path.display()));
    }
    Ok(hosts)
}

fn hostfile_slots(path: &Path) -> Result<u32, String> {
    Ok(hostfile_lines(path)?.iter().map(|(_, slots)| *slots).sum::<u32>().max(1))
}

fn hostfile_hosts(path: &Path) -> Result<Vec<String>, String> {
    Ok(hostfile_lines(path)?.into_iter().map(|(host, _)| host).collect())
}

/// What `mpirun --version` says, once per process (`Open MPI 4.1.4`), or why it cannot run.
fn launcher_version(config: &Config) -> Result<String, String> {
    static VERSION: OnceLock<Result<String, String>> = OnceLock::new();
    VERSION
        .get_or_init(|| {
            if config.launcher.is_some() {
                return Ok(String::new());
            }
            let output = Command::new("mpirun")
                .arg("--version")
                .output()
                .map_err(|_| format!("mpirun is not installed: {INSTALL_HINT}"))?;
            let text = String::from_utf8_lossy(&output.stdout).into_owned()
                + &String::from_utf8_lossy(&output.stderr);
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("mpirun").trim();
            // `mpirun (Open MPI) 4.1.4` -> `Open MPI 4.1.4`
            Ok(first.replace("mpirun (", "").replace(") ", " "))
        })
        .clone()
}

/// The MPI kernel in precision `R`.
pub struct Mpi<R> {
    name: Cow<'static, str>,
    config: Result<Config, String>,
    job: Mutex<Option<Job>>,
    precision: PhantomData<R>,
}

/// `mpi-simd`.
pub type MpiSimd = Mpi<f64>;
/// `mpi-simd-f32`.
pub type MpiSimdF32 = Mpi<f32>;

/// The kernels this crate exports (discovered by the harness).
pub fn kernels() -> Vec<Box<dyn MandelKernel>> {
    vec![Box::new(MpiSimd::new()), Box::new(MpiSimdF32::new())]
}

impl<R: Real> Default for Mpi<R> {
    fn default() -> Self {
        Mpi::new()
    }
}

impl<R: Real> Mpi<R> {
    /// The kernel, configured from the environment.
    pub fn new() -> Self {
        Mpi::with_config(Config::from_env())
    }

    /// The kernel with a configuration of its own (tests: 3 ranks, a given worker), named
    /// after its ranks (`mpi-simd-r3`) if they are not the environment's.
    pub fn with_config(config: Result<Config, String>) -> Self {
        let name = match R::PRECISION {
            Precision::F64 => "mpi-simd",
            Precision::F32 => "mpi-simd-f32",
        };
        Mpi { name: Cow::Borrowed(name), config, job: Mutex::new(None), precision: PhantomData }
    }

    /// The process ids of the running job's ranks, by rank (`None` before the first frame):
    /// for tests of faults, and diagnostics.
    pub fn rank_pids(&self) -> Option<Vec<u32>> {
        self.job().as_ref().map(|job| job.hello().pids.clone())
    }

    /// The same kernel under another name.
    pub fn named(self, name: String) -> Self {
        Mpi { name: Cow::Owned(name), ..self }
    }

    fn job(&self) -> MutexGuard<'_, Option<Job>> {
        // A panic while the lock was held leaves the job in an unknown state: drop it.
        self.job.lock().unwrap_or_else(|poisoned| {
            let mut job = poisoned.into_inner();
            *job = None;
            job
        })
    }

    /// Whether the kernel can run here, and its configuration if so.
    fn ready(&self) -> Result<&Config, String> {
        if !BUILT {
            return Err(format!("this build has no MPI: {INSTALL_HINT}"));
        }
        let config = self.config.as_ref().map_err(Clone::clone)?;
        launcher_version(config)?;
        if config.worker().is_none() {
            return Err(format!(
                "no MPI worker program: run it from `mandel` built with `--features mpi`, or set {ENV_WORKER}"
            ));
        }
        Ok(config)
    }
}

impl<R: Real> MandelKernel for Mpi<R> {
    fn name(&self) -> &str {
        &self.name
    }
    fn description(&self) -> &str {
        match R::PRECISION {
            Precision::F64 => "parallel-simd's rows on the ranks of an MPI job, on one host or many, handed out as ranks ask",
            Precision::F32 => "The same in f32",
        }
    }
    fn precision(&self) -> Precision {
        R::PRECISION
    }
    fn is_exact(&self) -> bool {
        true
    }
    fn uses_threads(&self) -> bool {
        // Its threads are the ranks', not the calling pool's.
        false
    }
    fn availability(&self) -> Availability {
        match self.ready() {
            Ok(_) => Availability::Ready,
            Err(reason) => Availability::Unavailable(reason),
        }
    }
    fn device(&self) -> Option<String> {
        let config = self.ready().ok()?;
        let library = launcher_version(config).unwrap_or_default();
        let library = if library.is_empty() { String::new() } else { format!(" ({library})") };
        // Once the job runs, what it is: its ranks by host, as MPI placed them.
        let running = self.job().as_ref().map(|job| {
            let hello = job.hello();
            let mut hosts: Vec<(String, u32)> = Vec::new();
            for host in &hello.hosts {
                match hosts.iter_mut().find(|(name, _)| name == host) {
                    Some((_, ranks)) => *ranks += 1,
                    None => hosts.push((host.clone(), 1)),
                }
            }
            let hosts: Vec<String> =
                hosts.iter().map(|(host, ranks)| format!("{} on {host}", plural(*ranks, "rank"))).collect();
            format!(
                "MPI{library}: {} × {}: {}{}; launched in {:.0} ms",
                plural(hello.world_size, "rank"),
                plural(hello.threads, "thread"),
                hosts.join(", "),
                if config.oversubscribed() { ", oversubscribed (more ranks than cores)" } else { "" },
                job.launched_in().as_secs_f64() * 1e3
            )
        });
        Some(running.unwrap_or_else(|| format!("MPI{library}: {}", config.describe())))
    }
    fn compute(&self, frame: &Frame, out: &mut [u32]) -> Result<(), KernelError> {
        Grid::<R>::checked(frame, out)?;
        let config =
            self.ready().map_err(|reason| KernelError::Unavailable { kernel: self.name().into(), reason })?;
        let viewport = frame.viewport();
        let request = FrameRequest {
            precision_bits: match R::PRECISION {
                Precision::F64 => 64,
                Precision::F32 => 32,
            },
            bounds: [viewport.x_min(), viewport.x_max(), viewport.y_min(), viewport.y_max()],
            width: viewport.width(),
            height: viewport.height(),
            rows: (frame.rows().start, frame.rows().end),
            max_iter: frame.max_iter(),
        };
        if out.is_empty() {
            return Ok(());
        }
        let mut guard = self.job();
        if guard.is_none() {
            *guard = Some(Job::launch(config).map_err(KernelError::Device)?);
        }
        let job = guard.as_mut().expect("just launched");
        job.compute(&request, out).map_err(|e| {
            // The job has torn itself down: the next frame starts a fresh one.
            *guard = None;
            KernelError::Device(e)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(ranks: u32) -> Config {
        Config {
            ranks,
            hostfile: None,
            threads: None,
            timeout: Duration::from_secs(5),
            launcher: None,
            worker: Some(("/bin/w".into(), vec!["mpi-worker".into()])),
            extra_args: vec!["--mca".into(), "btl".into(), "tcp,self".into()],
            address: None,
        }
    }

    #[test]
    fn the_command_is_mpirun_with_what_the_job_needs() {
        let command = config(3).command();
        let args: Vec<String> = command.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(command.get_program(), "mpirun");
        let joined = args.join(" ");
        assert!(joined.starts_with("-n 3 --bind-to none"), "{joined}");
        assert!(joined.contains("--mca btl tcp,self"), "{joined}");
        assert!(joined.ends_with("/bin/w mpi-worker"), "{joined}");
        assert!(joined.contains(&format!("-x {ENV_CONTACT}")), "{joined}");
        let srun = Config { launcher: Some(vec!["srun".into(), "--mpi=pmix".into()]), ..config(4) };
        let args: Vec<String> = srun.command().get_args().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(args, ["--mpi=pmix", "/bin/w", "mpi-worker"]);
        assert_eq!(srun.launcher_name(), "srun");
    }

    #[test]
    fn hostfiles_give_hosts_and_slots() {
        let dir = std::env::temp_dir().join(format!("mandel-mpi-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("hosts");
        std::fs::write(&path, "# the cluster\nnode1 slots=4\nnode2   # one slot\n\n").unwrap();
        assert_eq!(hostfile_slots(&path).unwrap(), 5);
        assert_eq!(hostfile_hosts(&path).unwrap(), ["node1", "node2"]);
        std::fs::write(&path, "# nobody\n").unwrap();
        assert!(hostfile_slots(&path).unwrap_err().contains("names no host"));
        std::fs::write(&path, "node1 slots=many\n").unwrap();
        assert!(hostfile_slots(&path).unwrap_err().contains("slots=many"));
        assert!(hostfile_slots(&dir.join("missing")).unwrap_err().contains("cannot read the hostfile"));
        let _ = std::fs::remove_dir_all(dir);
        let described = Config { threads: Some(2), ..config(3) }.describe();
        assert!(described.starts_with("3 ranks × 2 threads on this host"), "{described}");
    }
}
