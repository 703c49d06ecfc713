//! The transparency log's bars on an existing store (made by the
//! `projections` benchmark or `pacta generate`): building the Merkle tree
//! of a store from before it, a consistency check from an old checkpoint
//! against the full walk of the chain, an inclusion proof with its
//! verification, and the size of a proof bundle.
//!
//! ```sh
//! cargo build --release -p pacta-bench
//! ./target/release/proofs /tmp/bench100k 200
//! ```

use std::time::Instant;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use pacta_bench::median;
use pacta_store::Store;
use pacta_tlog::checkpoint::Checkpoint;
use pacta_tlog::note;
use pacta_tlog::proof::TlogProof;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "bench-data".into());
    let rounds: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(200);
    let started = Instant::now();
    let store = Store::open(&dir)?;
    let opened = started.elapsed().as_secs_f64();
    let head = store.head().position;
    anyhow::ensure!(
        head > 1,
        "{dir} holds no log: run the projections benchmark first"
    );
    while store.tree_size()? < head {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    println!("log: {head} events; open (building the tree if missing) {opened:.2} s");

    let signer = note::Signer::new("bench.example/pacta", &[7; 32])?;
    let verifier = signer.verifier();
    let root = store.tree_root(head)?;
    let signed = note::sign(
        &Checkpoint::new("bench.example/pacta", head, root).to_body()?,
        &[&signer],
    )?;

    // Consistency from an old checkpoint (sizes spread over the log):
    // the proof, its check and the old root, as `verify --checkpoint`.
    let mut consistency = Vec::new();
    for i in 0..rounds {
        let old = 1 + (i * 7_919_993) % (head - 1);
        let t = Instant::now();
        let old_root = store.tree_root(old)?;
        let proof = store.prove_consistency(old, head)?;
        pacta_tlog::check_tree(&proof, head, root, old, old_root)?;
        consistency.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    // Inclusion: proof, leaf bytes, and the check against the root.
    let mut inclusion = Vec::new();
    let mut bundle_sizes = Vec::new();
    for i in 0..rounds {
        let position = 1 + (i * 104_729) % head;
        let t = Instant::now();
        let leaf = store.leaf_bytes(position)?.expect("a record");
        let proof = store.prove_inclusion(position, head)?;
        pacta_tlog::check_record(
            &proof,
            head,
            root,
            position - 1,
            pacta_tlog::leaf_hash(&leaf),
        )?;
        inclusion.push(t.elapsed().as_secs_f64() * 1000.0);
        let bundle = TlogProof {
            extra: Some(leaf.clone()),
            index: position - 1,
            hashes: proof,
            checkpoint_note: signed.clone(),
        }
        .to_text()?;
        if i < 20 {
            // The whole offline check of the bundle too.
            TlogProof::parse(&bundle)?.verify(&leaf, &[&verifier], "bench.example/pacta")?;
        }
        bundle_sizes.push(bundle.len() as f64);
    }
    let t = Instant::now();
    let report = store.verify(&mut |_, _| {})?;
    let walk = t.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(report.ok, "the chain does not verify");

    let max = |v: &[f64]| v.iter().cloned().fold(0.0, f64::max);
    println!(
        "consistency from an old checkpoint: median {:.3} ms, max {:.3} ms (bar < 50 ms)",
        median(consistency.clone()),
        max(&consistency)
    );
    println!("full walk of the chain: {walk:.0} ms");
    println!(
        "full walk / consistency check: {:.0}x",
        walk / median(consistency.clone())
    );
    println!(
        "inclusion proof + verification: median {:.3} ms, max {:.3} ms (bar < 5 ms)",
        median(inclusion.clone()),
        max(&inclusion)
    );
    println!(
        "proof bundle: median {:.0} bytes, max {:.0} bytes (bar < 4096)",
        median(bundle_sizes.clone()),
        max(&bundle_sizes)
    );
    Ok(())
}
