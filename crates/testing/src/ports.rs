//! Ports for the servers tests start as processes, which must be told their
//! port before they bind it.
//!
//! Asking the kernel for a free port (bind port 0, read it, close) and
//! handing it on races with everything else that takes a port meanwhile:
//! another test's listener, and every outgoing connection, whose local port
//! comes from the same ephemeral range. A service process then failed with
//! "Address already in use". So these ports come from below the kernel's
//! ephemeral range, which neither port 0 nor a connection ever picks, and
//! each is held with a lock file for as long as its server may use it (its
//! restarts included), so two tests, in one process or two, never pick the
//! same one.

use std::{
    fs::{File, OpenOptions, TryLockError},
    net::TcpListener,
    path::PathBuf,
    sync::OnceLock,
};

/// How many ports below the ephemeral range tests draw from.
const SPAN: u16 = 8192;

/// A port of 127.0.0.1 reserved for one test server until dropped.
#[derive(Debug)]
pub struct Port {
    number: u16,
    _held: File,
}

impl Port {
    /// Reserves a port no other test holds and nothing listens on.
    pub fn reserve() -> Self {
        let (low, high) = range();
        let span = u32::from(high - low);
        let start = (uuid::Uuid::new_v4().as_u128() % u128::from(span)) as u32;
        (0..span)
            .map(|i| low + u16::try_from((start + i) % span).expect("within the span"))
            .find_map(|number| {
                let held = hold(number)?;
                // Something outside the tests may listen there.
                TcpListener::bind(("127.0.0.1", number)).ok()?;
                Some(Self {
                    number,
                    _held: held,
                })
            })
            .expect("a free port below the ephemeral range")
    }

    pub fn number(&self) -> u16 {
        self.number
    }
}

/// `[low, high)`: the [`SPAN`] ports below the kernel's ephemeral range.
fn range() -> (u16, u16) {
    let ephemeral_start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let high = ephemeral_start.max(SPAN + 1024);
    (high - SPAN, high)
}

/// The lock of `number`'s file, if no other test holds it.
fn hold(number: u16) -> Option<File> {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join("hellowork-test-ports");
        std::fs::create_dir_all(&dir).expect("create the test ports' directory");
        dir
    });
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(number.to_string()))
        .expect("open a port's lock file");
    match file.try_lock() {
        Ok(()) => Some(file),
        Err(TryLockError::WouldBlock) => None,
        Err(TryLockError::Error(error)) => panic!("cannot lock a port's file: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_ports_are_distinct_outside_the_ephemeral_range_and_free() {
        let (low, high) = range();
        let ports: Vec<Port> = (0..32).map(|_| Port::reserve()).collect();
        let mut numbers: Vec<u16> = ports.iter().map(Port::number).collect();
        assert!(numbers.iter().all(|n| (low..high).contains(n)));
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), ports.len(), "no port reserved twice");
        for port in &ports {
            TcpListener::bind(("127.0.0.1", port.number())).expect("a reserved port is free");
        }
    }

    #[test]
    fn a_port_held_by_one_test_is_not_handed_to_another() {
        let port = Port::reserve();
        assert!(hold(port.number()).is_none());
        let number = port.number();
        drop(port);
        assert!(hold(number).is_some(), "released on drop");
    }
}
