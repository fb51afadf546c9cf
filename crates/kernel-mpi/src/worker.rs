//! The MPI program: what every rank of the job runs (`mandel mpi-worker`, started by `mpirun`).
//!
//! Every rank connects to the harness's socket. Rank 0 says who the job is and serves the
//! harness's requests: for each frame it hands tasks of whole rows to the other ranks
//! *dynamically* (each holds [`IN_FLIGHT`]; a rank that reports one done gets the next), and
//! computes tasks itself between looking for those reports. Every rank, rank 0 included, writes
//! the rows it computed to its own socket, and the harness reads them all straight into its
//! output buffer.
//!
//! Why the rows do not travel through rank 0: a message of more than a few kilobytes between
//! two ranks is only delivered when the receiver looks for it, and rank 0 is busy computing
//! between looks. Workers sending their rows to rank 0 waited for it about as long as they
//! computed. Over MPI now go only messages of a few bytes (a task, a task done), which Open MPI
//! delivers at once; the rows go over sockets, whose buffers take them at once.
//!
//! Invariants:
//! - Every rank builds the frame from the same request (the bounds as `f64` bit patterns, the
//!   size, the limit) with `Viewport::from_bounds` and `Frame::band`, and computes rows with
//!   their *global* indices, so each pixel's coordinates come from `Grid` exactly as in a
//!   single process: distribution changes who computes a pixel, never what.
//! - A rank writes a task's rows to its socket before it reports the task done, and writes
//!   `Done` when rank 0 ends the frame, after all its rows: when every socket has said `Done`,
//!   the harness has every row.
//! - A rank that panics aborts the whole job (`MPI_Abort`), so no rank is left waiting for a
//!   message that will never come; rank 0 ends the job when the harness's socket closes.
//! - Idle ranks do not spin: between frames they look for a message with a nonblocking probe
//!   and sleep longer and longer, up to [`IDLE_SLEEP_MAX`] (a blocking `MPI_Recv` would keep a
//!   core busy the whole time in Open MPI).

use std::io::Write;
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mandel_core::{Frame, FrameError, Grid, Real, Viewport};
use mpi::topology::{Process, SimpleCommunicator};
use mpi::traits::*;
use mpi::Tag;

use crate::wire::{self, FrameRequest, Greeting, Hello, Reply, Request};
use crate::{env, ENV_CONTACT, ENV_EXPECT, ENV_HARNESS_HOST, ENV_TEST_PANIC_ROW, ENV_THREADS};

/// A task for a worker: `[precision, x_min, x_max, y_min, y_max (bit patterns), width, height,
/// first row, rows, max_iter]`.
const TAG_TASK: Tag = 1;
/// A task done: its number of rows.
const TAG_DONE: Tag = 2;
/// The frame is over: write `Done`.
const TAG_END: Tag = 3;
/// The job is over.
const TAG_STOP: Tag = 4;
/// A rank's host name, for the hello.
const TAG_HOST: Tag = 5;

/// Tasks each worker rank holds at once: while it computes one, the next are already there,
/// and rank 0 may be computing for a while before it looks for reports.
const IN_FLIGHT: usize = 4;

/// Pixels per task per thread of a rank: the parallel rung's task size, so a task keeps every
/// thread of a rank busy and the frame still has hundreds of tasks to share out.
const PIXELS_PER_THREAD: usize = kernel_parallel::PIXELS_PER_TASK;

/// The longest an idle rank sleeps between looks for a message: the most a frame's start can
/// be delayed after a long pause. Between frames that follow each other it spins instead.
const IDLE_SLEEP_MAX: Duration = Duration::from_millis(10);
/// How long a rank spins on the probe before it starts to sleep.
const IDLE_SPIN: Duration = Duration::from_millis(2);

/// How often rank 0 says it is alive while a frame is being computed.
const HEARTBEAT: Duration = Duration::from_millis(500);

/// The size of one write of rows to the harness: every write wakes the harness, which then
/// takes a core from a rank, so rows are sent in a few large writes rather than one per task.
const OUTBOX_BYTES: usize = 256 << 10;

/// The program of every rank. Exit status 0 after the harness said quit or went away.
pub fn main() -> ExitCode {
    let Some(universe) = mpi::initialize() else {
        eprintln!("error: mandel mpi-worker: MPI was already initialised");
        return ExitCode::FAILURE;
    };
    let world = universe.world();
    // A panic anywhere ends the whole job at once instead of leaving ranks waiting.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default_hook(info);
        SimpleCommunicator::world().abort(101);
    }));
    let threads = threads_per_rank();
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool,
        Err(e) => {
            eprintln!("error: mandel mpi-worker: cannot start {threads} threads: {e}");
            world.abort(4);
        }
    };
    let mut link = match Link::connect(&env(ENV_CONTACT).unwrap_or_default()) {
        Ok(link) => link,
        Err(e) => {
            eprintln!("error: mandel mpi-worker (rank {}): {e}", world.rank());
            world.abort(5);
        }
    };
    let host = mpi::environment::processor_name().unwrap_or_else(|_| "unknown".into());
    if world.rank() == 0 {
        let (mut hosts, mut pids) = (vec![host], vec![std::process::id()]);
        for rank in 1..world.size() {
            let (said, _) = world.process_at_rank(rank).receive_vec_with_tag::<u8>(TAG_HOST);
            let (pid, name) = said.split_at(4.min(said.len()));
            pids.push(u32::from_le_bytes(pid.try_into().unwrap_or([0; 4])));
            hosts.push(String::from_utf8_lossy(name).into_owned());
        }
        coordinate(&world, &pool, threads, hosts, pids, link)
    } else {
        let said: Vec<u8> = std::process::id().to_le_bytes().into_iter().chain(host.bytes()).collect();
        world.process_at_rank(0).send_with_tag(&said[..], TAG_HOST);
        if Greeting::Worker(world.rank() as u32).write(&mut link).is_err() {
            world.abort(5);
        }
        serve(&world, &pool, link);
        ExitCode::SUCCESS
    }
}

/// `MANDEL_MPI_THREADS`, or this host's cores shared among the ranks on it.
fn threads_per_rank() -> usize {
    if let Some(threads) = env(ENV_THREADS).and_then(|n| n.parse().ok()).filter(|&n: &usize| n > 0) {
        return threads;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Open MPI and MPICH say how many ranks share this host.
    let local = ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"]
        .iter()
        .find_map(|name| env(name).and_then(|n| n.parse::<usize>().ok()))
        .unwrap_or(1)
        .max(1);
    (cores / local).max(1)
}

/// The socket to the harness: a Unix socket when it is on this host's file system, else TCP.
enum Link {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Link {
    /// The first of the harness's addresses that answers; its Unix socket only from its host.
    fn connect(contact: &str) -> Result<Link, String> {
        let here = crate::hostname();
        let harness_host = env(ENV_HARNESS_HOST).unwrap_or_else(|| here.clone());
        let mut tried = Vec::new();
        for address in contact.split(',').filter(|a| !a.is_empty()) {
            if address.starts_with("unix:") && here != harness_host {
                continue;
            }
            let attempt = match address.strip_prefix("unix:") {
                Some(path) => UnixStream::connect(path).map(Link::Unix),
                None => TcpStream::connect(address).map(|stream| {
                    let _ = stream.set_nodelay(true);
                    Link::Tcp(stream)
                }),
            };
            match attempt {
                Ok(link) => return Ok(link),
                Err(e) => tried.push(format!("{address}: {e}")),
            }
        }
        Err(format!("cannot reach the harness ({})", tried.join("; ")))
    }

    fn try_clone(&self) -> std::io::Result<Link> {
        Ok(match self {
            Link::Unix(s) => Link::Unix(s.try_clone()?),
            Link::Tcp(s) => Link::Tcp(s.try_clone()?),
        })
    }
}

impl std::io::Read for Link {
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

/// Messages to the harness, gathered into writes of about [`OUTBOX_BYTES`] that a thread of
/// their own writes to the socket, in order: a rank never waits for the harness to read (the
/// harness's threads share the cores with the ranks, and a socket's buffer holds less than a
/// frame), it only queues. Rank 0's heartbeat queues through the same outbox.
struct Harness {
    outbox: Mutex<Vec<u8>>,
    queue: std::sync::mpsc::Sender<Vec<u8>>,
    /// When the writer last finished a write.
    last: Arc<Mutex<Instant>>,
    /// Set by the writer when the harness has gone.
    gone: Arc<AtomicBool>,
}

impl Harness {
    fn new(mut link: Link) -> Harness {
        let (queue, writes) = std::sync::mpsc::channel::<Vec<u8>>();
        let last = Arc::new(Mutex::new(Instant::now()));
        let gone = Arc::new(AtomicBool::new(false));
        let (writer_last, writer_gone) = (Arc::clone(&last), Arc::clone(&gone));
        std::thread::spawn(move || {
            for bytes in writes {
                if link.write_all(&bytes).and_then(|()| link.flush()).is_err() {
                    writer_gone.store(true, Ordering::SeqCst);
                    return;
                }
                *writer_last.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
            }
        });
        Harness { outbox: Mutex::new(Vec::with_capacity(OUTBOX_BYTES + (1 << 16))), queue, last, gone }
    }

    /// Queues a message, handing the outbox to the writer when it is full.
    fn push(&self, reply: &Reply, counts: &[u32]) -> std::io::Result<()> {
        let mut outbox = self.outbox.lock().unwrap_or_else(|e| e.into_inner());
        outbox.extend(reply.encode());
        wire::write_counts(&mut *outbox, counts)?;
        if outbox.len() >= OUTBOX_BYTES {
            self.hand_over(&mut outbox)?;
        }
        Ok(())
    }

    /// Queues `reply` after everything before it, and hands the outbox to the writer.
    fn send(&self, reply: &Reply) -> std::io::Result<()> {
        let mut outbox = self.outbox.lock().unwrap_or_else(|e| e.into_inner());
        outbox.extend(reply.encode());
        self.hand_over(&mut outbox)
    }

    fn hand_over(&self, outbox: &mut Vec<u8>) -> std::io::Result<()> {
        let full = std::mem::replace(outbox, Vec::with_capacity(OUTBOX_BYTES + (1 << 16)));
        if self.gone.load(Ordering::SeqCst) || self.queue.send(full).is_err() {
            return Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the harness went away"));
        }
        Ok(())
    }
}

/// Rank 0: says hello, then serves the harness's requests until it says quit or goes away.
fn coordinate(
    world: &SimpleCommunicator,
    pool: &rayon::ThreadPool,
    threads: usize,
    hosts: Vec<String>,
    pids: Vec<u32>,
    mut link: Link,
) -> ExitCode {
    let size = world.size() as u32;
    let expected = env(ENV_EXPECT).and_then(|n| n.parse::<u32>().ok()).unwrap_or(size);
    let library = mpi::environment::library_version().unwrap_or_default();
    let library = library.trim_end_matches('\0').lines().next().unwrap_or_default().trim().to_string();
    let hello = Hello { world_size: size, threads: threads as u32, hosts, pids, library };
    if hello.write(&mut link).is_err() {
        world.abort(5);
    }
    // A launcher that does not match the library starts independent one-rank jobs: refuse.
    if size != expected {
        eprintln!(
            "error: mandel mpi-worker: the job has {size} ranks but {expected} were asked for: \
             mpirun and the MPI library this program was built with do not match"
        );
        world.abort(3);
    }
    let Ok(writer) = link.try_clone() else { world.abort(5) };
    let harness = Arc::new(Harness::new(writer));
    // One heartbeat thread for the job's life: it speaks only while a frame is being computed.
    let busy = Arc::new(AtomicBool::new(false));
    {
        let (harness, busy) = (Arc::clone(&harness), Arc::clone(&busy));
        std::thread::spawn(move || beat(&harness, &busy));
    }
    // Until the harness says quit, closes the socket or says something wrong.
    while let Ok(Some(Request::Frame(request))) = Request::read(&mut link) {
        busy.store(true, Ordering::SeqCst);
        let outcome = run_frame(world, pool, threads, &request, &harness);
        busy.store(false, Ordering::SeqCst);
        // Every rank ends its frame with `Done`, whatever happened here.
        for rank in 1..world.size() {
            world.process_at_rank(rank).send_with_tag(&[0u32][..], TAG_END);
        }
        let sent = match outcome {
            Ok(()) => harness.send(&Reply::Done),
            Err(why) => harness.send(&Reply::Failed(why)),
        };
        if sent.is_err() {
            break; // the harness went away
        }
    }
    for rank in 1..world.size() {
        world.process_at_rank(rank).send_with_tag(&[0u32][..], TAG_STOP);
    }
    ExitCode::SUCCESS
}

/// Sends `Alive` whenever a frame is being computed and nothing has been sent for a heartbeat;
/// ends when the harness has gone.
fn beat(harness: &Harness, busy: &AtomicBool) {
    loop {
        std::thread::sleep(HEARTBEAT / 5);
        let quiet = harness.last.lock().map_or(Duration::ZERO, |last| last.elapsed());
        if harness.gone.load(Ordering::SeqCst)
            || (quiet >= HEARTBEAT && busy.load(Ordering::SeqCst) && harness.send(&Reply::Alive).is_err())
        {
            return;
        }
    }
}

/// The frame a request describes, or why it cannot be computed.
fn frame_of(request: &FrameRequest) -> Result<Frame, FrameError> {
    let [x_min, x_max, y_min, y_max] = request.bounds;
    let viewport = Viewport::from_bounds(x_min, x_max, y_min, y_max, request.width, request.height)?;
    Frame::new(viewport, request.max_iter).band(request.rows.0..request.rows.1)
}

fn task_message(request: &FrameRequest, first: u32, rows: u32) -> [u64; 10] {
    let [a, b, c, d] = request.bounds.map(f64::to_bits);
    let words = [request.width, request.height, first, rows, request.max_iter].map(u64::from);
    [u64::from(request.precision_bits), a, b, c, d, words[0], words[1], words[2], words[3], words[4]]
}

fn request_of(task: &[u64]) -> Option<(FrameRequest, u32, u32)> {
    let word = |k: usize| u32::try_from(task[k]).ok();
    let [precision, a, b, c, d, ..] = task.try_into().ok().map(|t: [u64; 10]| t)?;
    let (first, rows) = (word(7)?, word(8)?);
    let request = FrameRequest {
        precision_bits: u8::try_from(precision).ok()?,
        bounds: [a, b, c, d].map(f64::from_bits),
        width: word(5)?,
        height: word(6)?,
        rows: (first, first.checked_add(rows)?),
        max_iter: word(9)?,
    };
    Some((request, first, rows))
}

/// Computes the request's rows into `out`, on `pool` (or on this thread when it has one).
fn compute(request: &FrameRequest, pool: &rayon::ThreadPool, out: &mut [u32]) -> Result<(), String> {
    fn run<R: Real>(
        frame: &Frame,
        pool: &rayon::ThreadPool,
        out: &mut [u32],
        routine: kernel_parallel::QueueRoutine<R>,
    ) -> Result<(), String> {
        let grid = Grid::<R>::checked(frame, out).map_err(|e| e.to_string())?;
        if pool.current_num_threads() == 1 {
            // One thread: the engine itself, on this thread, with nothing to hand over.
            routine(&grid, &kernel_parallel::RowQueue::new(grid.width(), grid.rows(), out));
        } else {
            // parallel-simd's mechanism: one engine per thread, rows from one shared queue.
            pool.install(|| kernel_parallel::compute_shared(&grid, out, routine));
        }
        Ok(())
    }
    let frame = frame_of(request).map_err(|e| e.to_string())?;
    // The fault tests' hook: the rank that is given this row panics, whichever it is.
    static PANIC_ROW: std::sync::OnceLock<Option<u32>> = std::sync::OnceLock::new();
    let panic_row = *PANIC_ROW.get_or_init(|| env(ENV_TEST_PANIC_ROW).and_then(|row| row.parse().ok()));
    if panic_row.is_some_and(|row| frame.rows().contains(&row)) {
        panic!("{ENV_TEST_PANIC_ROW} asked for a panic at row {}", panic_row.unwrap_or_default());
    }
    match request.precision_bits {
        64 => run::<f64>(&frame, pool, out, kernel_simd::compute_queue_f64),
        32 => run::<f32>(&frame, pool, out, kernel_simd::compute_queue_f32),
        other => Err(format!("no {other}-bit precision")),
    }
}

/// A frame's rows, handed out in tasks of `rows_per_task` from the first.
struct Tasks {
    next: u32,
    end: u32,
    rows_per_task: u32,
}

impl Tasks {
    /// The next task: its first row and its rows.
    fn take(&mut self) -> Option<(u32, u32)> {
        (self.next < self.end).then(|| {
            let rows = self.rows_per_task.min(self.end - self.next);
            self.next += rows;
            (self.next - rows, rows)
        })
    }

    /// Tasks not yet handed out.
    fn remaining(&self) -> u32 {
        (self.end - self.next).div_ceil(self.rows_per_task)
    }
}

/// Tasks rank 0 keeps for itself at the end of a frame: about what each other rank still holds
/// when the last are handed out, so that all finish together rather than rank 0 waiting.
const TAIL: u32 = IN_FLIGHT as u32 - 1;

// ANCHOR: run-frame
/// Rank 0's part of one frame: share out the tasks, compute some, and send its own rows.
fn run_frame(
    world: &SimpleCommunicator,
    pool: &rayon::ThreadPool,
    threads: usize,
    request: &FrameRequest,
    harness: &Harness,
) -> Result<(), String> {
    frame_of(request).map_err(|e| e.to_string())?;
    let width = request.width as usize;
    let rows_per_task = (PIXELS_PER_THREAD * threads).div_ceil(width.max(1)).max(1) as u32;
    let mut tasks = Tasks { next: request.rows.0, end: request.rows.1, rows_per_task };
    let send_task = |rank: i32, (first, rows): (u32, u32)| {
        world.process_at_rank(rank).send_with_tag(&task_message(request, first, rows)[..], TAG_TASK);
    };
    let mut outstanding = 0usize;
    for _ in 0..IN_FLIGHT {
        for rank in 1..world.size() {
            if let Some(task) = tasks.take() {
                send_task(rank, task);
                outstanding += 1;
            }
        }
    }
    let lost = |e: std::io::Error| format!("the harness went away: {e}");
    let mut counts = Vec::new();
    loop {
        // Reports first, so that a rank that finished a task gets the next at once.
        while let Some((message, status)) = world.any_process().immediate_matched_probe_with_tag(TAG_DONE) {
            let (_rows, _) = message.matched_receive::<u32>();
            outstanding -= 1;
            // The last tasks stay with rank 0: by then the others hold as much work as it
            // takes to compute them, and all finish together instead of rank 0 waiting.
            if tasks.remaining() > TAIL {
                if let Some(task) = tasks.take() {
                    send_task(status.source_rank(), task);
                    outstanding += 1;
                }
            }
        }
        if let Some((first, rows)) = tasks.take() {
            let task = FrameRequest { rows: (first, first + rows), ..*request };
            counts.resize(rows as usize * width, 0);
            compute(&task, pool, &mut counts)?;
            harness.push(&Reply::Rows { first, count: rows }, &counts).map_err(lost)?;
        } else if outstanding == 0 {
            return Ok(());
        } else {
            std::hint::spin_loop();
        }
    }
}
// ANCHOR_END: run-frame

/// A worker rank: computes tasks and writes their rows to the harness until told to stop.
fn serve(world: &SimpleCommunicator, pool: &rayon::ThreadPool, link: Link) {
    let root = world.process_at_rank(0);
    let harness = Harness::new(link);
    let mut counts = Vec::new();
    loop {
        let status = wait_for(&root);
        match status.tag() {
            TAG_STOP => {
                let _ = root.receive_vec_with_tag::<u32>(TAG_STOP);
                return;
            }
            TAG_END => {
                let _ = root.receive_vec_with_tag::<u32>(TAG_END);
                if harness.send(&Reply::Done).is_err() {
                    panic!("rank {}: the harness went away", world.rank());
                }
            }
            _ => {
                let (task, _) = root.receive_vec_with_tag::<u64>(TAG_TASK);
                let Some((request, first, rows)) = request_of(&task) else {
                    panic!("a malformed task: {task:?}");
                };
                counts.resize(rows as usize * request.width as usize, 0);
                if let Err(why) = compute(&request, pool, &mut counts) {
                    panic!("rank {}: {why}", world.rank());
                }
                if let Err(e) = harness.push(&Reply::Rows { first, count: rows }, &counts) {
                    panic!("rank {}: the harness went away: {e}", world.rank());
                }
                root.send_with_tag(&rows, TAG_DONE);
            }
        }
    }
}

/// Waits for rank 0's next message without keeping a core busy: spins on a nonblocking probe
/// for [`IDLE_SPIN`], then sleeps between probes, each nap twice the last, up to
/// [`IDLE_SLEEP_MAX`].
fn wait_for(root: &Process<'_>) -> mpi::point_to_point::Status {
    let started = Instant::now();
    let mut nap = Duration::from_micros(50);
    let mut probes = 0u32;
    let mut sleeping = false;
    loop {
        if let Some(status) = root.immediate_probe() {
            return status;
        }
        // The clock only every so often while spinning: reading it costs more than a probe.
        probes = probes.wrapping_add(1);
        sleeping = sleeping || (probes.is_multiple_of(64) && started.elapsed() >= IDLE_SPIN);
        if sleeping {
            std::thread::sleep(nap);
            nap = (nap * 2).min(IDLE_SLEEP_MAX);
        } else {
            std::hint::spin_loop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_carries_its_frame_bit_for_bit() {
        let request = FrameRequest {
            precision_bits: 64,
            bounds: [-2.13, 0.77, -1.3, 1.3 + f64::EPSILON],
            width: 1000,
            height: 999,
            rows: (10, 990),
            max_iter: u32::MAX,
        };
        let (back, first, rows) = request_of(&task_message(&request, 17, 3)).unwrap();
        assert_eq!((first, rows), (17, 3));
        assert_eq!(back, FrameRequest { rows: (17, 20), ..request });
        assert!(request_of(&[1, 2, 3]).is_none());
    }
}
