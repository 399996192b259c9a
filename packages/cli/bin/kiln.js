#!/usr/bin/env node
// Entry point for `npx kiln`: Node 24 (pinned by the root package.json) strips the types.
// The compile cache keeps Node from re-parsing every module on each start (~30 ms saved).
import module from "node:module";

module.enableCompileCache?.();
const argv = process.argv.slice(2);
const { prewarm, takeNarHashThread } = await import("../src/prewarm.ts");
await prewarm(argv);
// The plain `kiln hash -S nar FILE…` skips the command tree (see fast-hash.ts).
const fast = argv[0] === "hash" ? await import("../src/fast-hash.ts") : undefined;
const files = fast?.plainNarHashFiles(argv);
if (fast && files) process.exitCode = await fast.runPlainNarHash(files, takeNarHashThread());
else await import("../src/main.ts");
