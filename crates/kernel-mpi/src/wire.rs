//! What the harness and rank 0 of the MPI job say to each other over their socket, as bytes.
//!
//! Everything is little-endian. Every rank connects to the harness and speaks first: rank 0
//! with a `Hello` that says who the job is, the others with their rank ([`Greeting`]). Then the
//! harness sends requests to rank 0, and every rank answers each frame on its own socket with
//! the rows it computed (`Rows`, read straight into the harness's output buffer) and `Done`;
//! rank 0 also says `Alive` while nothing else is said, or `Failed`. The ranks talk to each
//! other through MPI, not through this module.

use std::io::{self, Read, Write};

/// The first bytes of every hello: a wrong program on the other end is refused at once.
pub const MAGIC: [u8; 4] = *b"MNDL";
/// Bumped when a message changes.
pub const VERSION: u32 = 1;

/// What a rank says first: rank 0 says who the job is, the others only their rank.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Greeting {
    /// Rank 0.
    Coordinator(Hello),
    /// Any other rank.
    Worker(u32),
}

/// Rank 0's first message: who the job is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hello {
    /// Processes in `MPI_COMM_WORLD`.
    pub world_size: u32,
    /// Threads each rank computes with.
    pub threads: u32,
    /// The host name of each rank, by rank.
    pub hosts: Vec<String>,
    /// The process id of each rank on its host, by rank (for diagnostics and tests).
    pub pids: Vec<u32>,
    /// What MPI says it is (`Open MPI v4.1.4, ...`).
    pub library: String,
}

/// A frame to compute: the viewport's bounds as given, its size, its rows and its limit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrameRequest {
    /// 32 or 64.
    pub precision_bits: u8,
    /// `[x_min, x_max, y_min, y_max]`.
    pub bounds: [f64; 4],
    /// Columns.
    pub width: u32,
    /// Rows of the whole frame.
    pub height: u32,
    /// The rows to compute, `first..end`.
    pub rows: (u32, u32),
    /// The iteration limit.
    pub max_iter: u32,
}

/// What the harness asks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Request {
    /// Compute a frame.
    Frame(FrameRequest),
    /// End the job.
    Quit,
}

/// How rank 0 answers a frame: a header, followed for `Rows` by the counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `count` rows from global row `first` follow: `count * width` counts.
    Rows {
        /// The first row.
        first: u32,
        /// How many.
        count: u32,
    },
    /// Still working (sent when nothing else has been for a while).
    Alive,
    /// Every row has been sent.
    Done,
    /// The frame could not be computed; why.
    Failed(String),
}

const REQUEST_FRAME: u8 = 1;
const REQUEST_QUIT: u8 = 2;
const REPLY_ROWS: u8 = 1;
const REPLY_ALIVE: u8 = 2;
const REPLY_DONE: u8 = 3;
const REPLY_FAILED: u8 = 4;

/// The most bytes a string in a message may have: a corrupt length is an error, not a huge
/// allocation.
const MAX_STRING: u32 = 1 << 16;

fn u32_of(bytes: &[u8]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

fn read_u32(from: &mut impl Read) -> io::Result<u32> {
    let mut bytes = [0; 4];
    from.read_exact(&mut bytes)?;
    Ok(u32::from_le_bytes(bytes))
}

fn read_string(from: &mut impl Read) -> io::Result<String> {
    let len = read_u32(from)?;
    if len > MAX_STRING {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("a string of {len} bytes")));
    }
    let mut bytes = vec![0; len as usize];
    from.read_exact(&mut bytes)?;
    String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

fn push_string(out: &mut Vec<u8>, text: &str) {
    let bytes = &text.as_bytes()[..text.len().min(MAX_STRING as usize)];
    out.extend((bytes.len() as u32).to_le_bytes());
    out.extend(bytes);
}

fn invalid(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

impl Greeting {
    /// Writes the greeting.
    pub fn write(&self, to: &mut impl Write) -> io::Result<()> {
        match self {
            Greeting::Coordinator(hello) => hello.write(to),
            Greeting::Worker(rank) => {
                let mut out = Vec::from(MAGIC);
                out.extend(VERSION.to_le_bytes());
                out.extend(rank.to_le_bytes());
                to.write_all(&out)?;
                to.flush()
            }
        }
    }

    /// Reads a greeting, refusing another program or another version.
    pub fn read(from: &mut impl Read) -> io::Result<Greeting> {
        let mut head = [0; 12];
        from.read_exact(&mut head)?;
        if head[..4] != MAGIC {
            return Err(invalid("the other end is not a mandel MPI job".into()));
        }
        let version = u32_of(&head[4..]);
        if version != VERSION {
            return Err(invalid(format!("the MPI job speaks version {version}, this harness {VERSION}")));
        }
        match u32_of(&head[8..]) {
            0 => Hello::read_rest(from).map(Greeting::Coordinator),
            rank => Ok(Greeting::Worker(rank)),
        }
    }
}

impl Hello {
    /// Writes the hello (rank 0's greeting).
    pub fn write(&self, to: &mut impl Write) -> io::Result<()> {
        let mut out = Vec::from(MAGIC);
        out.extend(VERSION.to_le_bytes());
        out.extend(0u32.to_le_bytes());
        out.extend(self.world_size.to_le_bytes());
        out.extend(self.threads.to_le_bytes());
        push_string(&mut out, &self.library);
        out.extend((self.hosts.len() as u32).to_le_bytes());
        for (host, pid) in self.hosts.iter().zip(&self.pids) {
            push_string(&mut out, host);
            out.extend(pid.to_le_bytes());
        }
        to.write_all(&out)?;
        to.flush()
    }

    /// Reads what follows rank 0's greeting.
    fn read_rest(from: &mut impl Read) -> io::Result<Hello> {
        let mut head = [0; 8];
        from.read_exact(&mut head)?;
        let (world_size, threads) = (u32_of(&head[..]), u32_of(&head[4..]));
        let library = read_string(from)?;
        let count = read_u32(from)?;
        if count != world_size {
            return Err(invalid(format!("{count} host names for {world_size} ranks")));
        }
        let (mut hosts, mut pids) = (Vec::new(), Vec::new());
        for _ in 0..count {
            hosts.push(read_string(from)?);
            pids.push(read_u32(from)?);
        }
        Ok(Hello { world_size, threads, hosts, pids, library })
    }
}

impl Request {
    /// The request's bytes.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Request::Quit => vec![REQUEST_QUIT],
            Request::Frame(frame) => {
                let mut out = vec![REQUEST_FRAME, frame.precision_bits];
                for bound in frame.bounds {
                    out.extend(bound.to_le_bytes());
                }
                for value in [frame.width, frame.height, frame.rows.0, frame.rows.1, frame.max_iter] {
                    out.extend(value.to_le_bytes());
                }
                out
            }
        }
    }

    /// Reads one request; `Ok(None)` when the harness has closed the socket.
    pub fn read(from: &mut impl Read) -> io::Result<Option<Request>> {
        let mut kind = [0];
        match from.read(&mut kind)? {
            0 => return Ok(None),
            _ if kind[0] == REQUEST_QUIT => return Ok(Some(Request::Quit)),
            _ if kind[0] != REQUEST_FRAME => return Err(invalid(format!("unknown request {}", kind[0]))),
            _ => {}
        }
        let mut body = [0; 1 + 32 + 20];
        from.read_exact(&mut body)?;
        let bound = |k: usize| f64::from_le_bytes(body[1 + 8 * k..9 + 8 * k].try_into().expect("8 bytes"));
        let word = |k: usize| u32_of(&body[33 + 4 * k..]);
        Ok(Some(Request::Frame(FrameRequest {
            precision_bits: body[0],
            bounds: [bound(0), bound(1), bound(2), bound(3)],
            width: word(0),
            height: word(1),
            rows: (word(2), word(3)),
            max_iter: word(4),
        })))
    }
}

impl Reply {
    /// The reply's header (the counts of `Rows` follow it).
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Reply::Rows { first, count } => {
                let mut out = vec![REPLY_ROWS];
                out.extend(first.to_le_bytes());
                out.extend(count.to_le_bytes());
                out
            }
            Reply::Alive => vec![REPLY_ALIVE],
            Reply::Done => vec![REPLY_DONE],
            Reply::Failed(why) => {
                let mut out = vec![REPLY_FAILED];
                push_string(&mut out, why);
                out
            }
        }
    }

    /// Reads one reply's header.
    pub fn read(from: &mut impl Read) -> io::Result<Reply> {
        let mut kind = [0];
        from.read_exact(&mut kind)?;
        match kind[0] {
            REPLY_ROWS => Ok(Reply::Rows { first: read_u32(from)?, count: read_u32(from)? }),
            REPLY_ALIVE => Ok(Reply::Alive),
            REPLY_DONE => Ok(Reply::Done),
            REPLY_FAILED => Ok(Reply::Failed(read_string(from)?)),
            other => Err(invalid(format!("unknown reply {other}"))),
        }
    }
}

/// Writes counts as little-endian bytes.
pub fn write_counts(to: &mut impl Write, counts: &[u32]) -> io::Result<()> {
    if cfg!(target_endian = "little") {
        to.write_all(as_bytes(counts))
    } else {
        let bytes: Vec<u8> = counts.iter().flat_map(|count| count.to_le_bytes()).collect();
        to.write_all(&bytes)
    }
}

/// Reads `out.len()` little-endian counts straight into `out`.
pub fn read_counts(from: &mut impl Read, out: &mut [u32]) -> io::Result<()> {
    from.read_exact(as_bytes_mut(out))?;
    if cfg!(target_endian = "big") {
        for count in out.iter_mut() {
            *count = u32::from_le(*count);
        }
    }
    Ok(())
}

fn as_bytes(counts: &[u32]) -> &[u8] {
    bytemuck::cast_slice(counts)
}

fn as_bytes_mut(counts: &mut [u32]) -> &mut [u8] {
    bytemuck::cast_slice_mut(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_reads_back_as_written() {
        let hello = Hello {
            world_size: 2,
            threads: 3,
            hosts: vec!["a".into(), "b.cluster".into()],
            pids: vec![17, 4_000_000],
            library: "Open MPI v4.1.4".into(),
        };
        for greeting in [Greeting::Coordinator(hello), Greeting::Worker(7)] {
            let mut bytes = Vec::new();
            greeting.write(&mut bytes).unwrap();
            assert_eq!(Greeting::read(&mut bytes.as_slice()).unwrap(), greeting);
        }

        let frame = Request::Frame(FrameRequest {
            precision_bits: 64,
            bounds: [-2.13, 0.77, -1.3, f64::MIN_POSITIVE],
            width: 1000,
            height: 7,
            rows: (2, 5),
            max_iter: u32::MAX,
        });
        for request in [frame, Request::Quit] {
            assert_eq!(Request::read(&mut request.encode().as_slice()).unwrap(), Some(request));
        }
        assert_eq!(Request::read(&mut [].as_slice()).unwrap(), None, "a closed socket");
        for reply in
            [Reply::Rows { first: 3, count: 9 }, Reply::Alive, Reply::Done, Reply::Failed("no".into())]
        {
            assert_eq!(Reply::read(&mut reply.encode().as_slice()).unwrap(), reply);
        }
        let counts = [0, 1, u32::MAX, 1000];
        let mut bytes = Vec::new();
        write_counts(&mut bytes, &counts).unwrap();
        let mut back = [7; 4];
        read_counts(&mut bytes.as_slice(), &mut back).unwrap();
        assert_eq!(back, counts);
    }

    #[test]
    fn another_program_or_version_is_refused() {
        let mut bytes = Vec::new();
        Hello { world_size: 1, threads: 1, hosts: vec!["h".into()], pids: vec![1], library: String::new() }
            .write(&mut bytes)
            .unwrap();
        let mut other = bytes.clone();
        other[0] = b'X';
        assert!(Greeting::read(&mut other.as_slice())
            .unwrap_err()
            .to_string()
            .contains("not a mandel MPI job"));
        bytes[4] = 99;
        assert!(Greeting::read(&mut bytes.as_slice()).unwrap_err().to_string().contains("version 99"));
        assert!(Reply::read(&mut [42u8].as_slice()).is_err());
        let huge = [REPLY_FAILED, 0xff, 0xff, 0xff, 0xff];
        assert!(
            Reply::read(&mut huge.as_slice()).is_err(),
            "a corrupt length is an error, not an allocation"
        );
    }
}
