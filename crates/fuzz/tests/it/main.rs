//! CI's fuzz smoke: every target over its committed corpus (`fuzz/corpus/<target>/`), then a
//! seeded mutation run over that corpus for a bounded time. A panic is a finding: the failing
//! input is written to `target/fuzz-smoke/<target>-<n>` for `scripts/fuzz.sh --replay`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Mutations per target at most, and the time after which a target's smoke stops early.
const MUTATIONS: usize = 4_000;
const BUDGET: Duration = Duration::from_millis(1_000);

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

fn corpus(name: &str) -> Vec<Vec<u8>> {
    let dir = corpus_root().join(name);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (every target has a committed corpus)",
                dir.display()
            )
        })
        .map(|e| e.expect("corpus entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{}: the corpus is empty", dir.display());
    files
        .iter()
        .map(|p| std::fs::read(p).expect("corpus file"))
        .collect()
}

/// Runs `target` on `input`; on a panic, saves the input and fails naming the saved file.
fn run_saving(target: &trustspace_fuzz::Target, input: &[u8], n: usize) {
    let outcome = std::panic::catch_unwind(|| (target.run)(input));
    if let Err(panic) = outcome {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/fuzz-smoke");
        std::fs::create_dir_all(&dir).expect("target/fuzz-smoke");
        let path = dir.join(format!("{}-{n}", target.name));
        std::fs::write(&path, input).expect("saving the failing input");
        std::panic::resume_unwind(Box::new(format!(
            "target {} failed on {} ({} bytes): {:?}",
            target.name,
            path.display(),
            input.len(),
            panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
        )));
    }
}

/// One of the byte-level mutations AFL++ starts with: flips, interesting values, deletions,
/// insertions, duplications and splices with another corpus entry.
fn mutate(rng: &mut ChaCha8Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..rng.gen_range(1..=4) {
        let len = out.len();
        match rng.gen_range(0..7) {
            0 if len > 0 => {
                let i = rng.gen_range(0..len);
                out[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.gen_range(0..len);
                out[i] = *[0u8, 1, 0x7f, 0x80, 0xff, b'"', b'{', b'-', b'9']
                    .get(rng.gen_range(0..9))
                    .expect("index in range");
            }
            2 if len > 0 => {
                let i = rng.gen_range(0..len);
                let j = rng.gen_range(i..=len.min(i + 16));
                out.drain(i..j);
            }
            3 => {
                let i = rng.gen_range(0..=len);
                let b: u8 = rng.r#gen();
                out.insert(i, b);
            }
            4 if len > 0 => {
                let i = rng.gen_range(0..len);
                let j = rng.gen_range(i..=len.min(i + 32));
                let chunk = out[i..j].to_vec();
                let at = rng.gen_range(0..=out.len());
                out.splice(at..at, chunk);
            }
            5 if !other.is_empty() => {
                let cut = rng.gen_range(0..=out.len());
                let from = rng.gen_range(0..other.len());
                out.truncate(cut);
                out.extend_from_slice(&other[from..]);
            }
            _ => {
                let cut = rng.gen_range(0..=len);
                out.truncate(cut);
            }
        }
    }
    out
}

#[test]
fn every_target_has_a_corpus_and_every_corpus_a_target() {
    let mut dirs: Vec<String> = std::fs::read_dir(corpus_root())
        .expect("fuzz/corpus")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut names: Vec<String> = trustspace_fuzz::targets()
        .map(|t| t.name.to_string())
        .collect();
    names.sort();
    let mut unique = names.clone();
    unique.dedup();
    assert_eq!(unique, names, "two targets share a name");
    assert_eq!(dirs, names, "fuzz/corpus/ and the targets differ");
}

/// The corpus and the mutation smoke of one target; returns its report line.
fn smoke(target: &'static trustspace_fuzz::Target) -> String {
    let inputs = corpus(target.name);
    for (n, input) in inputs.iter().enumerate() {
        run_saving(target, input, n);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(0x5EED_F022);
    let start = Instant::now();
    let mut done = 0;
    while done < MUTATIONS && start.elapsed() < BUDGET {
        let input = &inputs[rng.gen_range(0..inputs.len())];
        let other = &inputs[rng.gen_range(0..inputs.len())];
        let m = mutate(&mut rng, input, other);
        run_saving(target, &m, inputs.len() + done);
        done += 1;
    }
    format!(
        "{:<28} {} corpus inputs, {done} mutations in {:.2} s",
        target.name,
        inputs.len(),
        start.elapsed().as_secs_f64()
    )
}

#[test]
fn every_target_survives_its_corpus_and_a_seeded_mutation_smoke() {
    // The targets run side by side, one per core, each on its own deterministic stream.
    let targets: Vec<&'static trustspace_fuzz::Target> = trustspace_fuzz::targets().collect();
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let lines = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while let Some(t) = targets.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let line = smoke(t);
                    lines.lock().unwrap_or_else(|e| e.into_inner()).push(line);
                }
            });
        }
    });
    let mut lines = lines.into_inner().unwrap_or_else(|e| e.into_inner());
    lines.sort();
    assert_eq!(lines.len(), targets.len(), "every target reported");
    for line in lines {
        println!("{line}");
    }
}
