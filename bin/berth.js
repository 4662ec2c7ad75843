#!/usr/bin/env -S node --max-semi-space-size=4 --optimize-for-size --initial-old-space-size=64
// V8 tuned for a long-running server that should stay small: a registry
// makes short-lived garbage on every request, and by default V8 lets the
// heap grow to four times what is live before a full collection (live ~25 MiB,
// heap ~105 MiB under wrk). These flags keep peak RSS near 100 MiB at the same
// req/s (docs/BENCHMARKS.md). But with them the old generation's limit sits
// ~8 MiB above the live heap, the slack V8 keeps for a young collection's
// promotions, so a blob streaming through started a full mark every 12 MiB
// or so (22 per 256 MiB pulled through the pull-through cache, 21 per 512 MiB
// pushed); a 64 MiB floor under that limit leaves 1-3, for a third less CPU
// per byte streamed, at ~15 MiB more peak RSS on a push and ~40 MiB more over
// the whole bench. The bench reads these flags from this line, so it runs
// Berth as the installed `berth` command does.
import '../dist/src/cli/main.js';
