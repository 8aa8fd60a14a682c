#!/usr/bin/env python3
"""Checks the workspace's dependency rules over `cargo metadata`; CI fails when one breaks.

The rules (issue 17; README "Layout"):
- `trustspace-data` imports no cryptography: no proof system, curve, signature, encryption or TLS
  library. (sha2 gives the schema's content digest and rand_chacha the generators' seeded
  streams; neither protects anything, so both are allowed.)
- `trustspace-zk`, `trustspace-mpc`, `trustspace-he` import `trustspace-data` and not each other.
- `trustspace-ledger-verifier` imports `trustspace-zk`.
- Only `trustspace-cli` imports clap, anyhow or indicatif (binaries' concerns).
- Nothing imports `trustspace-cli`.

Every kind of dependency (normal, build, dev) counts: a test that needs another crate's internals
is a sign the code sits in the wrong crate. Run from anywhere in the workspace:
`python3 scripts/check-deps.py`.
"""

import json
import subprocess
import sys

CRYPTO_PREFIXES = ("ark-", "tfhe", "curve25519-", "ed25519-", "x25519-", "elastic-elgamal",
                   "merlin", "rustls", "rcgen", "ring", "aws-lc", "alloy-", "k256", "p256",
                   "sm2", "sm3", "blake", "poseidon")
BINARY_ONLY = ("clap", "anyhow", "indicatif")
CORE = ("trustspace-zk", "trustspace-mpc", "trustspace-he")


def check(deps):
    """Returns the broken rules (one line each) for `deps`: crate -> [(dependency, kind)]."""
    broken = []

    def forbid(crate, pred, why):
        for name, kind in deps.get(crate, []):
            if pred(name):
                broken.append(f"{crate} depends on {name} ({kind}): {why}")

    def require(crate, dep, why):
        if crate in deps and all(name != dep for name, _ in deps[crate]):
            broken.append(f"{crate} does not depend on {dep}: {why}")

    forbid("trustspace-data", lambda n: n.startswith(CRYPTO_PREFIXES),
           "the dataset model imports no cryptography")
    forbid("trustspace-data", lambda n: n.startswith("trustspace-"),
           "the dataset model is the root of the workspace")
    for crate in CORE:
        require(crate, "trustspace-data", "zk, mpc and he build on the dataset model")
        forbid(crate, lambda n, c=crate: n in CORE and n != c,
               "zk, mpc and he do not import each other")
    require("trustspace-ledger-verifier", "trustspace-zk", "the ledger verifies zk proofs")
    for crate in deps:
        if crate != "trustspace-cli":
            forbid(crate, lambda n: n in BINARY_ONLY, "only the CLI crate is a binaries' crate")
        forbid(crate, lambda n: n == "trustspace-cli", "nothing imports the CLI")
    for crate in ("trustspace-data", "trustspace-ledger-verifier", "trustspace-cli", *CORE):
        if crate not in deps:
            broken.append(f"{crate} is not a workspace member any more: update scripts/check-deps.py")
    return broken


def self_test():
    """The checker itself: a graph that breaks each rule once must be reported rule by rule."""
    good = {
        "trustspace-data": [("sha2", "normal")],
        "trustspace-zk": [("trustspace-data", "normal"), ("ark-groth16", "normal")],
        "trustspace-mpc": [("trustspace-data", "normal"), ("rustls", "normal")],
        "trustspace-he": [("trustspace-data", "normal"), ("tfhe", "normal")],
        "trustspace-ledger-verifier": [("trustspace-zk", "normal")],
        "trustspace-cli": [("clap", "normal"), ("anyhow", "normal"), ("trustspace-mpc", "normal")],
    }
    assert check(good) == [], check(good)
    bad = {k: list(v) for k, v in good.items()}
    bad["trustspace-data"].append(("ark-ff", "normal"))
    bad["trustspace-zk"].append(("trustspace-mpc", "dev"))
    bad["trustspace-he"] = [("tfhe", "normal")]
    bad["trustspace-ledger-verifier"] = [("anyhow", "normal")]
    bad["trustspace-mpc"].append(("trustspace-cli", "dev"))
    found = check(bad)
    expected = [
        "trustspace-data depends on ark-ff",
        "trustspace-zk depends on trustspace-mpc",
        "trustspace-he does not depend on trustspace-data",
        "trustspace-ledger-verifier does not depend on trustspace-zk",
        "trustspace-ledger-verifier depends on anyhow",
        "trustspace-mpc depends on trustspace-cli",
    ]
    for e in expected:
        assert any(line.startswith(e) for line in found), (e, found)
    assert len(found) == len(expected), found


def main() -> int:
    self_test()
    out = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps", "--locked"],
        check=True, capture_output=True, text=True).stdout
    meta = json.loads(out)
    members = set(meta["workspace_members"])
    deps = {pkg["name"]: [(d["name"], d["kind"] or "normal") for d in pkg["dependencies"]]
            for pkg in meta["packages"] if pkg["id"] in members}
    broken = check(deps)
    for line in broken:
        print(f"dependency rule broken: {line}", file=sys.stderr)
    if not broken:
        print(f"dependency rules hold for {len(deps)} workspace members")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
