#!/usr/bin/env -S node --max-semi-space-size=4 --optimize-for-size
// V8 tuned for a long-running server that should stay small: a registry
// makes short-lived garbage on every request, and by default V8 lets the
// heap grow to four times what is live before a full collection (live ~25 MiB,
// heap ~105 MiB under wrk). These flags keep peak RSS near 100 MiB at the same
// req/s (docs/BENCHMARKS.md). The bench reads them from this line, so it runs
// Berth as the installed `berth` command does.
import '../dist/src/cli/main.js';
