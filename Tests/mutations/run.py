#!/usr/bin/env python3
"""Mutation check: applies each mutation of mutations.py, alone, to a scratch clone of the
repository, rebuilds, runs the tests named for it, and reports whether they caught it.

    python3 Tests/mutations/run.py [NAME-SUBSTRING ...]

The scratch clone lives in /tmp/gradus-mutations (its build folder is reused between
mutations, so only what a mutation touches is rebuilt). Not part of CI: each mutation rebuilds.
Exit status 0 only when every mutation was caught.
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SCRATCH = "/tmp/gradus-mutations"
sys.path.insert(0, HERE)
from mutations import MUTATIONS  # noqa: E402


def sh(args, cwd=SCRATCH, timeout=1800):
    return subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)


def main():
    wanted = sys.argv[1:]
    if not os.path.isdir(SCRATCH):
        subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", ROOT, SCRATCH], check=True)
    sh(["git", "fetch", "--quiet", ROOT, "HEAD"])
    sh(["git", "reset", "--quiet", "--hard", "FETCH_HEAD"])
    base = sh(["swift", "build", "--build-tests"])
    if base.returncode != 0:
        print(base.stdout[-3000:])
        sys.exit("the unmutated tree does not build")
    # Every filter must pass on the unmutated tree, so a failure below is the mutation's doing.
    for tests in sorted({m[4] for m in MUTATIONS if not wanted or any(w in m[0] for w in wanted)}):
        clean = sh(["swift", "test", "--skip-build", "--disable-swift-testing", "--filter", tests])
        if clean.returncode != 0:
            print(clean.stdout[-3000:])
            sys.exit(f"the tests '{tests}' fail without any mutation")
    caught = missed = 0
    for name, path, find, replace, tests in MUTATIONS:
        if wanted and not any(w in name for w in wanted):
            continue
        start = time.time()
        sh(["git", "checkout", "--quiet", "--", "."])
        file = os.path.join(SCRATCH, path)
        text = open(file).read()
        if text.count(find) != 1:
            print(f"STALE   {name}: the text to mutate occurs {text.count(find)} times in {path}")
            missed += 1
            continue
        open(file, "w").write(text.replace(find, replace))
        build = sh(["swift", "build", "--build-tests"])
        if build.returncode != 0:
            outcome, verdict = "does not compile", "STALE"
            missed += 1
        else:
            run = sh(["swift", "test", "--skip-build", "--disable-swift-testing", "--filter", tests])
            if run.returncode != 0:
                outcome, verdict = "tests failed", "CAUGHT"
                caught += 1
            else:
                outcome, verdict = "tests passed", "MISSED"
                missed += 1
        print(f"{verdict:7} {name} ({tests}: {outcome}, {time.time() - start:.0f} s)", flush=True)
    sh(["git", "checkout", "--quiet", "--", "."])
    print(f"{caught} of {caught + missed} mutations caught")
    sys.exit(0 if missed == 0 else 1)


if __name__ == "__main__":
    main()
