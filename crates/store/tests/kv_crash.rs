//! Crash test of keyspace commits: a child process commits in a loop, each
//! commit setting every key to the commit's number and the checkpoint to
//! the same number; the parent kills it with SIGKILL mid-way, reopens the
//! store and finds the keyspace either clean, with every key at its
//! checkpoint, or dirty, with a prefix of the interrupted commit's keys
//! at the next number — never clean with a mix.
//!
//! This file has its own `main` (`harness = false`): run without
//! arguments it is the parent; with `PACTA_KV_CRASH_CHILD_DIR` set it is
//! the child.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pacta_store::Store;
use pacta_store::kv::{Checkpoint, WriteSet};

/// Keys per commit: each commit is this many plain writes plus two.
const KEYS: u64 = 64;

/// Commits the parent waits for before killing.
const COMMITS: u64 = 200;

/// How long the child commits before the kill, at the least: sled writes
/// what it buffers to its file every 500 ms (its `flush_every_ms`), so
/// the recovered state ends wherever the last such write cut a commit.
const RUN: Duration = Duration::from_millis(1200);

/// Kills per run: each one lands on another point of a commit.
const ROUNDS: u32 = 4;

fn key(i: u64) -> [u8; 8] {
    i.to_be_bytes()
}

fn child(dir: &str) {
    let store = Store::open(dir).unwrap();
    let keyspace = store.keyspace("crash").unwrap();
    let from = match keyspace.checkpoint().unwrap() {
        Checkpoint::Clean(n) => n,
        Checkpoint::Dirty { .. } => {
            keyspace.clear().unwrap();
            0
        }
    };
    for n in from + 1.. {
        let mut writes = WriteSet::new();
        for i in 0..KEYS {
            writes.put(key(i), n.to_be_bytes());
        }
        keyspace.commit(&writes, n).unwrap();
        println!("committed {n}");
    }
}

fn value(v: &[u8]) -> u64 {
    u64::from_be_bytes(v.try_into().unwrap())
}

fn parent() {
    let dir = tempfile::tempdir().unwrap();
    let mut outcomes = Vec::new();
    for round in 0..ROUNDS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env("PACTA_KV_CRASH_CHILD_DIR", dir.path())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut seen = 0;
        let started = Instant::now();
        let run = RUN + Duration::from_millis(170) * round;
        for line in BufReader::new(stdout).lines() {
            if line.unwrap().starts_with("committed ") {
                seen += 1;
            }
            if seen >= COMMITS && started.elapsed() >= run {
                // SIGKILL: no destructor runs, nothing more is flushed.
                child.kill().unwrap();
                break;
            }
        }
        child.wait().unwrap();
        assert!(seen >= COMMITS, "the child died before committing enough");

        let store = Store::open(dir.path()).unwrap();
        let keyspace = store.keyspace("crash").unwrap();
        let values: Vec<u64> = keyspace
            .read()
            .iter()
            .map(|item| value(&item.unwrap().1))
            .collect();
        match keyspace.checkpoint().unwrap() {
            Checkpoint::Clean(0) => assert!(values.is_empty(), "{values:?}"),
            Checkpoint::Clean(n) => {
                assert_eq!(values, vec![n; KEYS as usize], "clean at {n}");
            }
            Checkpoint::Dirty { since } => {
                // Keys are written in order: a prefix holds the next number.
                let done = values.iter().take_while(|&&v| v == since + 1).count();
                assert!(
                    values[done..].iter().all(|&v| v == since) && values.len() == KEYS as usize,
                    "dirty since {since}: {values:?}"
                );
            }
        }
        outcomes.push(keyspace.checkpoint().unwrap());
    }
    println!("kv crash test: after each SIGKILL the keyspace was {outcomes:?}");
}

fn main() {
    match std::env::var("PACTA_KV_CRASH_CHILD_DIR") {
        Ok(dir) => child(&dir),
        Err(_) => parent(),
    }
}
