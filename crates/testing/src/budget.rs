//! The suite's connection budget: however many tests run at once, the
//! connections they open to one PostgreSQL server stay bounded.
//!
//! Tests of one binary run in parallel (`cargo nextest` even runs each in a
//! process of its own), and every test world starts services whose pools
//! open connections on demand. Left alone, enough of them at once exceed the
//! server's `max_connections`, and a test fails by chance with "too many
//! clients". So each test that takes a database resource from this crate (a
//! [`crate::TestSchema`], a [`crate::TestDatabase`], a service configured by
//! a [`crate::ServiceEnv`]) first holds one of the server's *slots*: a file
//! locked with `flock`, one of [`budget`]` / `[`SHARE`] per server. The lock
//! is the kernel's, so the budget holds across test threads and processes,
//! and a test that is killed gives its slot back.
//!
//! A slot is the test's until its thread ends (after the test's runtime and
//! the services in it are gone), and the test's resources declare what they
//! open within it: a test that declares more than its [`SHARE`] panics and
//! says to run [`exclusive`]ly instead, taking every slot of the server.

use std::{
    cell::RefCell,
    fs::{File, OpenOptions, TryLockError},
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, Instant},
};

/// Connections one test may declare (one slot's worth).
pub const SHARE: u32 = 36;

/// The budget of one server when `HELLOWORK_TEST_CONNECTIONS` does not set
/// one: 72 of the 100 connections a default PostgreSQL allows, leaving room
/// for the connections tests open by hand, `psql` and the server's
/// superuser reserve.
pub const DEFAULT_BUDGET: u32 = 72;

/// The pool size every service under test gets
/// (`HELLOWORK_DATABASE_MAX_CONNECTIONS`).
pub const SERVICE_POOL: u32 = 2;

/// The event store writers' connections of every service under test
/// (`HELLOWORK_DATABASE_WRITER_CONNECTIONS`).
pub const SERVICE_WRITER_CONNECTIONS: u32 = 1;

/// What one service may hold outside its pool: the writers' connection, the
/// relay's leadership session, and the store's one `LISTEN` session the
/// relay and every tailing projection share (while it starts, fewer: the
/// migration lock and the schema's set-up connection).
pub const SERVICE_SESSIONS: u32 = SERVICE_WRITER_CONNECTIONS + 2;

/// What one service under test may open at most.
pub const SERVICE_CONNECTIONS: u32 = SERVICE_POOL + SERVICE_SESSIONS;

/// How long a test waits for a slot before it fails, saying why.
const SLOT_WAIT: Duration = Duration::from_secs(600);

/// The budget of every server: `HELLOWORK_TEST_CONNECTIONS`, else
/// [`DEFAULT_BUDGET`]; never less than one share.
pub fn budget() -> u32 {
    std::env::var("HELLOWORK_TEST_CONNECTIONS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(DEFAULT_BUDGET)
        .max(SHARE)
}

fn slots() -> u32 {
    budget() / SHARE
}

/// The slots one test thread holds on one server.
#[derive(Debug)]
struct Ticket {
    server: String,
    slots: Vec<File>,
    declared: AtomicU32,
}

impl Ticket {
    fn capacity(&self) -> u32 {
        u32::try_from(self.slots.len()).unwrap_or(u32::MAX) * SHARE
    }

    fn declare(&self, connections: u32) {
        let declared = self.declared.fetch_add(connections, Ordering::SeqCst) + connections;
        assert!(
            declared <= self.capacity(),
            "this test declares {declared} connections to {server}, more than its share of \
             {capacity} (hellowork_testing::budget): call `hellowork_testing::budget::exclusive()` \
             first in the test so it runs alone with the whole budget, or use a private server",
            server = self.server,
            capacity = self.capacity(),
        );
    }

    fn release(&self, connections: u32) {
        self.declared.fetch_sub(connections, Ordering::SeqCst);
    }
}

thread_local! {
    /// The tickets of the test running on this thread, by server; dropped
    /// (slots unlocked) when the thread ends.
    static TICKETS: RefCell<Vec<Arc<Ticket>>> = const { RefCell::new(Vec::new()) };
}

/// Connections a resource declared against its test's slot, given back on
/// drop.
#[derive(Debug)]
pub struct Reservation {
    ticket: Arc<Ticket>,
    connections: AtomicU32,
}

impl Reservation {
    /// Declares `connections` more (another service configured).
    pub fn grow(&self, connections: u32) {
        self.ticket.declare(connections);
        self.connections.fetch_add(connections, Ordering::SeqCst);
    }

    /// Gives `connections` back (a set-up step is over).
    pub fn shrink(&self, connections: u32) {
        let held = self.connections.load(Ordering::SeqCst);
        let given = connections.min(held);
        self.connections.fetch_sub(given, Ordering::SeqCst);
        self.ticket.release(given);
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.ticket.release(self.connections.load(Ordering::SeqCst));
    }
}

/// Declares `connections` to the server of `url`, taking a slot first if
/// this test holds none there (waiting while every slot is taken).
pub fn reserve(url: &str, connections: u32) -> Reservation {
    let ticket = ticket_for(&server_of(url), Want::Any);
    ticket.declare(connections);
    Reservation {
        ticket,
        connections: AtomicU32::new(connections),
    }
}

/// Takes the whole budget of the test database server for the calling
/// test: call it on the test's first line (before any database resource),
/// and no other test uses that server until this one's thread ends.
pub fn exclusive() {
    exclusive_at(&crate::database_url());
}

/// The same for the server of `url`.
pub fn exclusive_at(url: &str) {
    ticket_for(&server_of(url), Want::All);
}

#[derive(Clone, Copy, PartialEq)]
enum Want {
    Any,
    All,
}

fn ticket_for(server: &str, want: Want) -> Arc<Ticket> {
    TICKETS.with(|tickets| {
        let mut tickets = tickets.borrow_mut();
        if let Some(index) = tickets.iter().position(|t| t.server == server) {
            let held = &tickets[index];
            let has_all = held.slots.len() == slots() as usize;
            if want == Want::Any || has_all {
                return held.clone();
            }
            // Upgrading: give the one slot back and take all in order, so two
            // tests upgrading at once cannot each hold what the other waits
            // for. Only safe while nothing of this test uses the slot.
            assert_eq!(
                held.declared.load(Ordering::SeqCst),
                0,
                "hellowork_testing::budget::exclusive() must be taken before the test's first \
                 database resource"
            );
            tickets.remove(index);
        }
        let files = match want {
            Want::Any => vec![take_any_slot(server)],
            Want::All => (0..slots()).map(|i| take_slot(server, i)).collect(),
        };
        let ticket = Arc::new(Ticket {
            server: server.to_owned(),
            slots: files,
            declared: AtomicU32::new(0),
        });
        tickets.push(ticket.clone());
        ticket
    })
}

/// `host:port` of a connection URL (`postgres://user@host:port/db?…`).
fn server_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if host_port.contains(':') && !host_port.ends_with(']') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    }
}

fn slot_path(server: &str, index: u32) -> PathBuf {
    let dir: String = server
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let dir = std::env::temp_dir()
        .join("hellowork-test-connections")
        .join(dir);
    std::fs::create_dir_all(&dir).expect("create the connection budget's directory");
    dir.join(format!("slot-{index}"))
}

fn open_slot(server: &str, index: u32) -> File {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(slot_path(server, index))
        .expect("open a connection slot")
}

fn try_slot(server: &str, index: u32) -> Option<File> {
    let file = open_slot(server, index);
    match file.try_lock() {
        Ok(()) => Some(file),
        Err(TryLockError::WouldBlock) => None,
        Err(TryLockError::Error(error)) => panic!("cannot lock a connection slot: {error}"),
    }
}

/// The first free slot, polling while all are taken.
fn take_any_slot(server: &str) -> File {
    let started = Instant::now();
    loop {
        if let Some(file) = (0..slots()).find_map(|index| try_slot(server, index)) {
            return file;
        }
        wait_a_little(server, started);
    }
}

/// Slot `index`, waiting for it.
fn take_slot(server: &str, index: u32) -> File {
    let started = Instant::now();
    loop {
        if let Some(file) = try_slot(server, index) {
            return file;
        }
        wait_a_little(server, started);
    }
}

fn wait_a_little(server: &str, started: Instant) {
    assert!(
        started.elapsed() < SLOT_WAIT,
        "no connection slot of {server} came free in {SLOT_WAIT:?}: some test holds its slot \
         for that long (a test that spawns a thread which takes another slot can wait for itself)"
    );
    std::thread::sleep(Duration::from_millis(20));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_are_named_by_host_and_port() {
        assert_eq!(
            server_of("postgres://postgres@127.0.0.1:5432/test"),
            "127.0.0.1:5432"
        );
        assert_eq!(
            server_of("postgres://u:p@db:6543/x?sslmode=disable"),
            "db:6543"
        );
        assert_eq!(server_of("postgres://localhost/test"), "localhost:5432");
        assert_eq!(server_of("postgres://u@[::1]:5433/t"), "[::1]:5433");
    }

    /// A server no other test uses, so slots here are this test's alone.
    fn private_server() -> String {
        format!("postgres://u@budget-{}:1/x", crate::unique_suffix())
    }

    #[test]
    fn one_test_shares_one_slot_among_its_resources() {
        let url = private_server();
        let first = reserve(&url, 10);
        let second = reserve(&url, 20);
        assert!(Arc::ptr_eq(&first.ticket, &second.ticket));
        assert_eq!(first.ticket.slots.len(), 1);
        second.shrink(5);
        assert_eq!(first.ticket.declared.load(Ordering::SeqCst), 25);
        drop(second);
        assert_eq!(first.ticket.declared.load(Ordering::SeqCst), 10);
    }

    #[test]
    #[should_panic(expected = "more than its share")]
    fn declaring_more_than_a_share_fails_loudly() {
        let url = private_server();
        let _first = reserve(&url, SHARE);
        let _more = reserve(&url, 1);
    }

    #[test]
    fn an_exclusive_test_holds_every_slot_and_may_declare_them_all() {
        let url = private_server();
        exclusive_at(&url);
        let all = reserve(&url, slots() * SHARE);
        assert_eq!(all.ticket.slots.len(), slots() as usize);
    }

    #[test]
    fn slots_are_taken_across_threads_until_the_thread_ends() {
        let url = private_server();
        let server = server_of(&url);
        let holders: Vec<_> = (0..slots())
            .map(|_| {
                let url = url.clone();
                let (taken, hold) = (std::sync::mpsc::channel(), std::sync::mpsc::channel());
                let thread = std::thread::spawn(move || {
                    let _reservation = reserve(&url, 1);
                    taken.0.send(()).unwrap();
                    hold.1.recv().unwrap();
                });
                taken.1.recv().unwrap();
                (thread, hold.0)
            })
            .collect();
        assert!(
            (0..slots()).all(|index| try_slot(&server, index).is_none()),
            "every slot is held by one thread"
        );
        for (thread, hold) in holders {
            hold.send(()).unwrap();
            thread.join().unwrap();
        }
        assert!(
            try_slot(&server, 0).is_some(),
            "slots come back as threads end"
        );
    }
}
