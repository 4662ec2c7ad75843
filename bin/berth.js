#!/usr/bin/env -S node --max-semi-space-size=4
// A 4 MiB young generation (Node's default is 16): a registry makes short-lived
// garbage per request, and the default lets up to ~70 MiB of it float before a
// scavenge. Measured in docs/BENCHMARKS.md (peak RSS 215 -> 145 MiB, same req/s).
// The bench reads these flags from this line, so it runs Berth as users do.
import '../dist/src/cli/main.js';
