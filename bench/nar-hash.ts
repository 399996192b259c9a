/**
 * Benchmark: `kiln hash -S nar` (hashPath) against `nix hash path`, measured as a user runs
 * them: one process per hash, wall time including start-up.
 *
 * Kiln is timed as the real CLI (`packages/cli/bin/kiln.js hash -S nar`, start-up and all),
 * with the native NAR walker (the default when `npm ci` built it) and with it turned off
 * (KILN_NATIVE_NAR=0: the JavaScript walker and a hashing worker thread), then its library
 * alone in a warm process: `hashPath` (native walker), the JavaScript walk hashed on one
 * thread, and the two-thread `NarHashWorker`.
 *
 * The tree (~100 MiB, ~4,000 files) is built once and cached in .bench-data/ (git-ignored):
 * a copy of /usr/lib/python3.11 when present, topped up with generated files. Each tool gets
 * one warm-up run, then 7 timed runs alternating between them; we print the medians.
 *
 *   npm run bench:nar-hash
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { hashPath } from "../packages/formats/src/hash-path.ts";
import { narChunks } from "../packages/formats/src/nar-chunks.ts";
import { NarHashWorker } from "../packages/formats/src/nar-hash-worker.ts";
import { nativeNarAvailable } from "../packages/formats/src/nar-native.ts";
import { ensureTree, median, REPO, RUNS, run, TREE } from "./bench-support.ts";

const info = ensureTree();
if (!nativeNarAvailable())
  console.warn("!!! the native NAR walker is not built (npm run build:native): both runs use JS");
const { narSize } = await hashPath(TREE);
const kilnCli = join(REPO, "packages", "cli", "bin", "kiln.js");
const javascriptOnly = { ...process.env, KILN_NATIVE_NAR: "0" };
const tools: Record<string, [string, string[], NodeJS.ProcessEnv]> = {
  "kiln hash -S nar": [process.execPath, [kilnCli, "hash", "-S", "nar", TREE], process.env],
  "nix hash path": [
    "nix",
    ["--extra-experimental-features", "nix-command", "hash", "path", "--base32", TREE],
    process.env,
  ],
  "kiln, JavaScript walker": [
    process.execPath,
    [kilnCli, "hash", "-S", "nar", TREE],
    javascriptOnly,
  ],
};
const times: Record<string, number[]> = Object.fromEntries(
  Object.keys(tools).map((name) => [name, []]),
);
const outputs = new Set<string>();
for (let round = 0; round <= RUNS; round++) {
  for (const [name, [command, args, env]] of Object.entries(tools)) {
    const { ms, output } = run(command, args, env);
    outputs.add(output);
    if (round > 0) times[name].push(ms);
  }
}
if (outputs.size !== 1) throw new Error(`kiln and nix disagree: ${[...outputs].join(" vs ")}`);

// The library alone, in a warm process: what a daemon or `kiln store add` pays per tree.
const library: Record<string, number[]> = {
  hashPath: [],
  "JS walk, one thread": [],
  NarHashWorker: [],
};
const worker = NarHashWorker.start();
await new Promise((resolve) => setTimeout(resolve, 200));
for (let round = 0; round <= RUNS; round++) {
  let start = performance.now();
  await hashPath(TREE);
  if (round > 0) library.hashPath.push(performance.now() - start);
  start = performance.now();
  const hash = createHash("sha256");
  for (const chunk of narChunks(TREE, { reuseBuffer: true })) hash.update(chunk);
  hash.digest();
  if (round > 0) library["JS walk, one thread"].push(performance.now() - start);
  start = performance.now();
  await worker.hashPath(TREE);
  if (round > 0) library.NarHashWorker.push(performance.now() - start);
}
await worker.close();

const mib = narSize / 2 ** 20;
console.log(
  `tree: ${info.files} files, ${(info.bytes / 2 ** 20).toFixed(1)} MiB (${info.source}); ` +
    `NAR ${mib.toFixed(1)} MiB; hash ${[...outputs][0]}`,
);
const line = (name: string, ms: number, what: string) =>
  console.log(
    `${name.padEnd(26)} median ${ms.toFixed(1).padStart(6)} ms = ${(mib / (ms / 1000)).toFixed(0).padStart(5)} MiB/s  (${what})`,
  );
for (const name of Object.keys(tools))
  line(name, median(times[name]), `process, ${RUNS} runs alternating`);
for (const name of Object.keys(library))
  line(`in-process ${name}`, median(library[name]), "warm library call");
const ratioOf = (name: string) => median(times["nix hash path"]) / median(times[name]);
console.log(
  `ratio nix/kiln = ${ratioOf("kiln hash -S nar").toFixed(2)} (>= 1.00 means kiln hash -S nar is at least as fast as nix hash path)`,
);
console.log(
  `ratio nix/kiln with the JavaScript walker (KILN_NATIVE_NAR=0) = ${ratioOf("kiln, JavaScript walker").toFixed(2)}`,
);
