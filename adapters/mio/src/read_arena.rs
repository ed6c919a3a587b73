//! Where a loop's connections read into.
//!
//! The core keeps received DATA as `Bytes` slices of what was read, so reads must land in
//! shared buffers it can slice without copying. Two ways, by the size of the read:
//!
//! - A large read (a bulk upload) is taken whole: the scratch buffer it landed in becomes
//!   its `Bytes`, and the next read gets a fresh one. Nothing is copied or cleared.
//! - A small read (a few requests) is copied into an arena filled front to back and split
//!   off, so a hundred small reads share one allocation and a small DATA payload does not
//!   keep a 64 KiB buffer alive.
//!
//! The scratch buffer is read into while uninitialized (through `rustix`, which does the
//! bookkeeping safely), so no read pays for zeroing memory the kernel is about to
//! overwrite. Shared by all the loop's connections: an idle connection holds no read
//! buffer at all.

use bytes::{Bytes, BytesMut};
use mio::net::TcpStream;
use std::io;

/// Bytes offered to one read.
const READ_SIZE: usize = 64 << 10;
/// Reads at least this large are handed over whole rather than copied.
const TAKE_WHOLE: usize = 16 << 10;
/// Bytes of a fresh small-read arena.
const ARENA_SIZE: usize = 64 << 10;

#[derive(Default)]
pub(crate) struct ReadArena {
    /// What the next read lands in (empty, with `READ_SIZE` of capacity once used).
    scratch: Vec<u8>,
    /// Where small reads are copied, front to back.
    small: BytesMut,
}

impl ReadArena {
    /// Reads once from `socket`: `Ok(Some(bytes))`, `Ok(None)` at EOF. The read is offered
    /// [`room`](Self::room) bytes.
    pub(crate) fn read(&mut self, socket: &mut TcpStream) -> io::Result<Option<Bytes>> {
        if self.scratch.capacity() == 0 {
            self.scratch.reserve_exact(READ_SIZE);
        }
        let n = read_spare(socket, &mut self.scratch)?;
        if n == 0 {
            return Ok(None);
        }
        if n >= TAKE_WHOLE {
            return Ok(Some(Bytes::from(std::mem::take(&mut self.scratch))));
        }
        if self.small.capacity() - self.small.len() < n {
            self.small = BytesMut::with_capacity(ARENA_SIZE);
        }
        self.small.extend_from_slice(&self.scratch);
        self.scratch.clear();
        Ok(Some(self.small.split().freeze()))
    }

    /// Bytes offered to each read: a read that returns less has emptied the socket.
    pub(crate) fn room(&self) -> usize {
        READ_SIZE
    }
}

/// Reads into the spare capacity of `buf`, extending it by what was read.
#[cfg(unix)]
fn read_spare(socket: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    Ok(rustix::io::read(&*socket, rustix::buffer::spare_capacity(buf))?)
}

/// Reads into the spare capacity of `buf`, extending it by what was read (zeroing it
/// first: no uninitialized reads here).
#[cfg(not(unix))]
fn read_spare(socket: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    use std::io::Read;
    let start = buf.len();
    buf.resize(buf.capacity(), 0);
    let read = socket.read(&mut buf[start..]);
    buf.truncate(start + *read.as_ref().unwrap_or(&0));
    read
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Small reads are slices of one arena; a large read is its own buffer; EOF is `None`.
    #[test]
    fn small_reads_share_an_arena_and_large_ones_are_taken_whole() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (socket, _) = listener.accept().unwrap();
        let mut socket = TcpStream::from_std(socket);
        let mut arena = ReadArena::default();

        peer.write_all(b"first").unwrap();
        let first = read_blocking(&mut arena, &mut socket).unwrap();
        peer.write_all(b"second").unwrap();
        let second = read_blocking(&mut arena, &mut socket).unwrap();
        assert_eq!((&first[..], &second[..]), (&b"first"[..], &b"second"[..]));
        assert_eq!(first.as_ptr().wrapping_add(5), second.as_ptr(), "one arena, front to back");

        let large: Vec<u8> = (0..TAKE_WHOLE * 2).map(|i| i as u8).collect();
        peer.write_all(&large).unwrap();
        let mut got = Vec::new();
        while got.len() < large.len() {
            got.extend_from_slice(&read_blocking(&mut arena, &mut socket).unwrap());
        }
        assert_eq!(got, large);

        drop(peer);
        assert_eq!(read_blocking(&mut arena, &mut socket), None);
    }

    /// Waits (briefly) for the non-blocking socket to have something.
    fn read_blocking(arena: &mut ReadArena, socket: &mut TcpStream) -> Option<Bytes> {
        for _ in 0..1000 {
            match arena.read(socket) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(std::time::Duration::from_millis(2))
                }
                result => return result.unwrap(),
            }
        }
        panic!("nothing to read after 2 s");
    }
}
