//! The AFL++ driver: runs the target named by `TRUSTSPACE_FUZZ_TARGET` in AFL++'s persistent
//! mode. Built and run by `scripts/fuzz.sh` (cargo-afl on the stable toolchain).

fn main() {
    let name = std::env::var("TRUSTSPACE_FUZZ_TARGET").unwrap_or_default();
    let Some(target) = trustspace_fuzz::find(&name) else {
        eprintln!("TRUSTSPACE_FUZZ_TARGET={name:?} names no target; the targets are:");
        for t in trustspace_fuzz::targets() {
            eprintln!("  {:<24} {}", t.name, t.about);
        }
        std::process::exit(2);
    };
    trustspace_fuzz::prepare(target);
    afl::fuzz!(|data: &[u8]| {
        (target.run)(data);
    });
}
