//! The harness's side of the MPI job: start it with `mpirun` once, keep it for every frame,
//! read its rows straight into the caller's buffer, and tear it down when it fails or when the
//! kernel is dropped.
//!
//! Nothing here links MPI: the harness is not an MPI process, it is the job's client. The job's
//! rank 0 connects back to a socket the harness listens on (a Unix socket, and a TCP port when
//! ranks may run on other hosts), and everything after that is [`crate::wire`].
//!
//! Faults, and what bounds the wait for each:
//! - `mpirun` or a rank dies (a panic aborts the job, a killed rank takes it down): the socket
//!   closes, or `mpirun` exits; the wait is checked against the child every read timeout.
//! - The job never connects (a host that does not answer, a wrong program): [`Config::timeout`].
//! - The job stops talking mid-frame: rank 0 says it is alive every half second, so silence
//!   for [`Config::timeout`] is a failure.
//!
//! After any failure the job is torn down (its process group is sent SIGTERM, then killed) and
//! the next frame starts a fresh one.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::sync::atomic::{AtomicBool, Ordering};

use crate::wire::{self, FrameRequest, Greeting, Hello, Reply, Request};
use crate::{Config, ENV_CONTACT, ENV_EXPECT, ENV_HARNESS_HOST, ENV_THREADS};

/// How often a wait looks at whether `mpirun` is still alive.
const POLL: Duration = Duration::from_millis(50);

/// Lines of `mpirun`'s stderr kept for error messages.
const STDERR_LINES: usize = 12;

/// A running job.
pub struct Job {
    child: Child,
    /// Rank 0's socket: requests go out on it, and its rows, heartbeats and verdicts come back.
    link: Link,
    /// The other ranks' sockets, by rank: their rows come back on them.
    workers: Vec<Link>,
    hello: Hello,
    launched_in: Duration,
    socket: Option<PathBuf>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    timeout: Duration,
}

/// The accepted connection from rank 0.
enum Link {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Read for Link {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Link::Unix(s) => s.read(buf),
            Link::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Link {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Link::Unix(s) => s.write(buf),
            Link::Tcp(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Link::Unix(s) => s.flush(),
            Link::Tcp(s) => s.flush(),
        }
    }
}

/// A socket path no other process uses: the temp dir, this process, a counter.
fn socket_path() -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("mandel-mpi-{}-{n}.sock", std::process::id()))
}

impl Job {
    /// Starts the job described by `config` and waits for its rank 0 to say hello.
    pub fn launch(config: &Config) -> Result<Job, String> {
        let started = Instant::now();
        let path = socket_path();
        let _ = std::fs::remove_file(&path);
        let unix =
            UnixListener::bind(&path).map_err(|e| format!("cannot listen on {}: {e}", path.display()))?;
        unix.set_nonblocking(true).map_err(|e| e.to_string())?;
        let mut contact = vec![format!("unix:{}", path.display())];
        // Ranks on other hosts (or started by another launcher) reach the harness over TCP, at
        // this host's name or the configured address.
        let tcp = if config.hostfile.is_some() || config.launcher.is_some() || config.address.is_some() {
            let listener =
                TcpListener::bind("0.0.0.0:0").map_err(|e| format!("cannot listen on TCP: {e}"))?;
            listener.set_nonblocking(true).map_err(|e| e.to_string())?;
            let port = listener.local_addr().map_err(|e| e.to_string())?.port();
            let address = config.address.clone().unwrap_or_else(crate::hostname);
            contact.push(format!("{address}:{port}"));
            Some(listener)
        } else {
            None
        };
        let mut command = config.command();
        command
            .env(ENV_CONTACT, contact.join(","))
            .env(ENV_EXPECT, config.ranks.to_string())
            .env(ENV_HARNESS_HOST, crate::hostname())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            // Its own process group: Ctrl-C in the terminal reaches the harness, which ends the
            // job itself, and teardown can signal every process of the job at once.
            .process_group(0);
        if let Some(threads) = config.threads {
            command.env(ENV_THREADS, threads.to_string());
        }
        let mut child =
            command.spawn().map_err(|e| format!("cannot start {}: {e}", config.launcher_name()))?;
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(pipe) = child.stderr.take() {
            let lines = Arc::clone(&stderr);
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut lines = lines.lock().unwrap_or_else(|e| e.into_inner());
                    if lines.len() == STDERR_LINES {
                        lines.pop_front();
                    }
                    lines.push_back(line);
                }
            });
        }
        let mut job = Job {
            child,
            link: Link::Unix(UnixStream::pair().map_err(|e| e.to_string())?.0),
            workers: Vec::new(),
            hello: Hello {
                world_size: 0,
                threads: 0,
                hosts: Vec::new(),
                pids: Vec::new(),
                library: String::new(),
            },
            launched_in: Duration::ZERO,
            socket: Some(path),
            stderr,
            timeout: config.timeout,
        };
        // Every rank connects and greets; rank 0's greeting says how many will.
        let deadline = started + config.timeout;
        let mut hello = None;
        let mut workers: Vec<(u32, Link)> = Vec::new();
        while hello.as_ref().is_none_or(|h: &Hello| workers.len() + 1 < h.world_size as usize) {
            let mut link = job.accept(&unix, tcp.as_ref(), deadline)?;
            let timeout = deadline.saturating_duration_since(Instant::now());
            let greeting = Greeting::read(&mut Patient {
                link: &mut link,
                child: &mut job.child,
                timeout,
                silent_since: None,
            });
            let greeting = greeting.map_err(|e| job.lost("a rank's greeting", e))?;
            match greeting {
                Greeting::Coordinator(_) if hello.is_some() => {
                    return Err(job.fail("two ranks said they were rank 0".into()))
                }
                Greeting::Coordinator(said) => {
                    if said.world_size != config.ranks {
                        return Err(job.fail(format!(
                            "the job has {} rank(s), not the {} asked for: `{}` and the MPI library the worker \
                             was built with do not match",
                            said.world_size,
                            config.ranks,
                            config.launcher_name()
                        )));
                    }
                    hello = Some(said);
                    job.link = link;
                }
                Greeting::Worker(rank) if rank >= config.ranks || workers.iter().any(|(r, _)| *r == rank) => {
                    return Err(job.fail(format!("a rank said it was rank {rank} of {}", config.ranks)))
                }
                Greeting::Worker(rank) => workers.push((rank, link)),
            }
        }
        workers.sort_by_key(|(rank, _)| *rank);
        job.workers = workers.into_iter().map(|(_, link)| link).collect();
        job.hello = hello.expect("rank 0 greeted");
        job.launched_in = started.elapsed();
        Ok(job)
    }

    /// The next connection, watching mpirun and the deadline; blocking, with read timeouts.
    fn accept(
        &mut self,
        unix: &UnixListener,
        tcp: Option<&TcpListener>,
        deadline: Instant,
    ) -> Result<Link, String> {
        loop {
            if let Ok((stream, _)) = unix.accept() {
                stream.set_nonblocking(false).map_err(|e| e.to_string())?;
                stream.set_read_timeout(Some(POLL)).map_err(|e| e.to_string())?;
                return Ok(Link::Unix(stream));
            }
            if let Some(Ok((stream, _))) = tcp.map(TcpListener::accept) {
                stream.set_nonblocking(false).map_err(|e| e.to_string())?;
                stream.set_read_timeout(Some(POLL)).map_err(|e| e.to_string())?;
                let _ = stream.set_nodelay(true);
                return Ok(Link::Tcp(stream));
            }
            self.check_alive("before all its ranks connected")?;
            if Instant::now() >= deadline {
                return Err(self.fail(format!(
                    "not every rank connected within {} s (a host that does not answer, or MPI that cannot start)",
                    self.timeout.as_secs_f64()
                )));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Who the job is.
    pub fn hello(&self) -> &Hello {
        &self.hello
    }

    /// How long the launch took.
    pub fn launched_in(&self) -> Duration {
        self.launched_in
    }

    /// Computes `request` into `out` (`rows * width` counts, row-major, the request's first row
    /// first): rank 0's rows are read on this thread, every other rank's on a thread of its own,
    /// all straight into `out`.
    pub fn compute(&mut self, request: &FrameRequest, out: &mut [u32]) -> Result<(), String> {
        let total = u64::from(request.rows.1 - request.rows.0);
        debug_assert_eq!(out.len() as u64, total * u64::from(request.width));
        if let Err(e) = self.link.write_all(&Request::Frame(*request).encode()) {
            return Err(self.fail(format!("sending the frame: {e}")));
        }
        let out = Mutex::new(out);
        let abort = AtomicBool::new(false);
        let Job { link, workers, child, timeout, .. } = self;
        let (rank0, others) = std::thread::scope(|scope| {
            let readers: Vec<_> = workers
                .iter_mut()
                .map(|link| {
                    let (out, abort) = (&out, &abort);
                    scope.spawn(move || read_frame(&mut Waiting { link, abort }, request, out))
                })
                .collect();
            let mut patient = Patient { link, child, timeout: *timeout, silent_since: None };
            let rank0 = read_frame(&mut patient, request, &out);
            if rank0.is_err() {
                abort.store(true, Ordering::SeqCst);
            }
            let others: Vec<_> = readers.into_iter().map(|reader| reader.join()).collect();
            (rank0, others)
        });
        let mut received = match rank0 {
            Ok(rows) => rows,
            Err(Ending::Failed(why)) => return Err(why),
            Err(Ending::Protocol(why)) => return Err(self.fail(why)),
            Err(Ending::Io(e)) => return Err(self.lost("rank 0's rows", e)),
        };
        for (rank, reader) in others.into_iter().enumerate() {
            match reader {
                Ok(Ok(rows)) => received += rows,
                Ok(Err(Ending::Io(e))) => return Err(self.lost(&format!("rank {}'s rows", rank + 1), e)),
                Ok(Err(Ending::Protocol(why) | Ending::Failed(why))) => return Err(self.fail(why)),
                Err(_) => return Err(self.fail(format!("reading rank {}'s rows panicked", rank + 1))),
            }
        }
        if received != total {
            return Err(self.fail(format!("the job sent {received} of the frame's {total} rows")));
        }
        Ok(())
    }

    /// The job is gone or silent: why, from mpirun if it has finished; and teardown.
    fn lost(&mut self, what: &str, e: std::io::Error) -> String {
        let why = match e.kind() {
            std::io::ErrorKind::TimedOut => format!(
                "the MPI job said nothing for {} s while the harness waited for {what}",
                self.timeout.as_secs_f64()
            ),
            std::io::ErrorKind::Other => {
                format!("the MPI job ended while the harness waited for {what}: {e}")
            }
            _ => {
                let until = Instant::now() + Duration::from_secs(2);
                while Instant::now() < until && matches!(self.child.try_wait(), Ok(None)) {
                    std::thread::sleep(Duration::from_millis(10));
                }
                match self.child.try_wait() {
                    Ok(Some(status)) => format!(
                        "the MPI job ended while the harness waited for {what}: mpirun {}",
                        describe(status)
                    ),
                    _ => format!("lost the MPI job while waiting for {what}: {e}"),
                }
            }
        };
        self.fail(why)
    }

    /// `Err` (and teardown) if mpirun has exited.
    fn check_alive(&mut self, when: &str) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => {
                Err(self.fail(format!("the MPI job ended {when}: mpirun {}", describe(status))))
            }
            Err(e) => Err(self.fail(format!("cannot watch mpirun: {e}"))),
        }
    }

    /// Tears the job down and returns `why` with the last of mpirun's stderr, on one line.
    fn fail(&mut self, why: String) -> String {
        self.teardown();
        // The stderr reader may still be collecting the last lines.
        std::thread::sleep(Duration::from_millis(20));
        let lines = self.stderr.lock().map(|l| l.iter().cloned().collect::<Vec<_>>()).unwrap_or_default();
        let said: Vec<&str> =
            lines.iter().map(|l| l.trim()).filter(|l| !l.is_empty() && !l.starts_with("----")).collect();
        // A rank's panic says most in its first two lines (where, then what); otherwise the
        // last lines mpirun wrote.
        let panic = said.iter().position(|line| line.contains("panicked at"));
        let error = said.iter().find(|line| line.starts_with("error:"));
        let quoted = match (panic, error) {
            (Some(at), _) => said[at..said.len().min(at + 2)].join(" "),
            (None, Some(line)) => line.to_string(),
            (None, None) => said[said.len().saturating_sub(3)..].join(" | "),
        };
        if quoted.is_empty() {
            why
        } else {
            format!("{why} (mpirun said: {quoted})")
        }
    }

    /// Ends the job: quit, then SIGTERM to its process group and to every process it started
    /// (a launcher agent may have left the group), then SIGKILL, each after a short wait.
    /// Idempotent.
    fn teardown(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            self.remove_socket();
            return;
        }
        let _ = self.link.write_all(&Request::Quit.encode());
        if !self.exited_within(Duration::from_millis(500)) {
            let mpirun = self.child.id();
            let started = descendants(mpirun);
            let signal = |name: &str, pids: &[u32]| {
                let mut targets = vec![format!("-{mpirun}")];
                targets.extend(pids.iter().map(u32::to_string));
                let _ = Command::new("kill")
                    .arg(format!("-{name}"))
                    .arg("--")
                    .args(&targets)
                    .stderr(Stdio::null())
                    .status();
            };
            signal("TERM", &started);
            if !self.exited_within(Duration::from_millis(1500)) {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
            signal("KILL", &started);
        }
        self.remove_socket();
    }

    fn exited_within(&mut self, wait: Duration) -> bool {
        let until = Instant::now() + wait;
        loop {
            if matches!(self.child.try_wait(), Ok(Some(_)) | Err(_)) {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn remove_socket(&mut self) {
        if let Some(path) = self.socket.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Every process descended from `pid`, from the parents in `/proc` (Linux).
fn descendants(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    let parents: Vec<(u32, u32)> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|child| {
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).ok()?;
            let parent = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()?;
            Some((child, parent))
        })
        .collect();
    let mut found = vec![pid];
    let mut k = 0;
    while k < found.len() {
        let parent = found[k];
        found.extend(parents.iter().filter(|(_, p)| *p == parent).map(|(child, _)| *child));
        k += 1;
    }
    found.remove(0);
    found
}

/// `exited with status 3`, `was killed by signal 9`.
fn describe(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(signal)) => format!("was killed by signal {signal}"),
        _ => format!("ended ({status})"),
    }
}

/// Rank 0's socket, read patiently: a read timeout is a chance to check on mpirun, and the read
/// goes on where it was (so a message that arrives slowly is still whole), until nothing has
/// come for `timeout`. Rank 0 says it is alive twice a second, so silence means trouble.
struct Patient<'a> {
    link: &'a mut Link,
    child: &'a mut Child,
    timeout: Duration,
    /// Since when nothing has come (set at the first read timeout of a silence).
    silent_since: Option<Instant>,
}

impl Read for Patient<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            match self.link.read(buf) {
                Err(e)
                    if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
                {
                    if let Ok(Some(status)) = self.child.try_wait() {
                        return Err(std::io::Error::other(format!("mpirun {}", describe(status))));
                    }
                    // The first timeout of a silence counts as one read timeout into it.
                    let since = *self.silent_since.get_or_insert_with(|| Instant::now() - POLL);
                    if since.elapsed() >= self.timeout {
                        return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "nothing received"));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Ok(n) => {
                    self.silent_since = None;
                    return Ok(n);
                }
                other => return other,
            }
        }
    }
}

/// Another rank's socket, read until `abort` is raised (by the thread that reads rank 0, which
/// watches mpirun and the silence): such a rank may have nothing to say for a long time.
struct Waiting<'a> {
    link: &'a mut Link,
    abort: &'a AtomicBool,
}

impl Read for Waiting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            match self.link.read(buf) {
                Err(e)
                    if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
                {
                    if self.abort.load(Ordering::SeqCst) {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::Interrupted,
                            "the frame was abandoned",
                        ));
                    }
                }
                Err(e)
                    if e.kind() == std::io::ErrorKind::Interrupted && !self.abort.load(Ordering::SeqCst) => {}
                other => return other,
            }
        }
    }
}

/// How reading a rank's part of a frame ended, when not with `Done`.
enum Ending {
    /// The socket failed or went silent.
    Io(std::io::Error),
    /// The rank said something that cannot be right.
    Protocol(String),
    /// Rank 0 said the frame could not be computed.
    Failed(String),
}

/// Reads one rank's messages for `request` until its `Done`, copying its rows into `out`;
/// returns how many rows it sent.
fn read_frame(from: &mut impl Read, request: &FrameRequest, out: &Mutex<&mut [u32]>) -> Result<u64, Ending> {
    let width = request.width as usize;
    let (first_row, end_row) = request.rows;
    let mut rows_read = 0u64;
    let mut counts = Vec::new();
    loop {
        match Reply::read(from).map_err(Ending::Io)? {
            Reply::Rows { first, count } => {
                let Some(end) = first.checked_add(count).filter(|&end| first >= first_row && end <= end_row)
                else {
                    return Err(Ending::Protocol(format!(
                        "rows {first}+{count} are outside the frame's {first_row}..{end_row}"
                    )));
                };
                counts.resize(count as usize * width, 0);
                wire::read_counts(from, &mut counts).map_err(Ending::Io)?;
                let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
                out[(first - first_row) as usize * width..(end - first_row) as usize * width]
                    .copy_from_slice(&counts);
                rows_read += u64::from(count);
            }
            Reply::Alive => {}
            Reply::Done => return Ok(rows_read),
            Reply::Failed(why) => return Err(Ending::Failed(why)),
        }
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        self.teardown();
    }
}
