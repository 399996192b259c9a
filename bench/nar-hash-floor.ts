/**
 * Benchmark: the floor under `kiln hash -S nar` on the bench tree, from its parts, against
 * `nix hash path` in the same run. It answers "how fast could a Node CLI be here?":
 *
 *   - node start-up: `node -e 0`, a process that starts Node and exits;
 *   - worker boot: in a fresh process, `new Worker` until the worker's first statement;
 *   - SHA-256 of the NAR's size in memory (warm, OpenSSL through node:crypto);
 *   - cold walk: a fresh process walking the tree into NAR chunks (nar-chunks.ts), no hash.
 *
 * Bounds (no parse, no exit, no waiting counted; S start-up, B worker boot, H SHA-256,
 * W cold walk):
 *   - one thread: S + W + H (the walk and the hash take turns);
 *   - hash thread (Kiln's design: this thread walks, a worker hashes): S + B + H, since
 *     the hash runs on one thread from start to end and the worker exists only after B;
 *   - perfect split (this thread hashes everything and walks part of the tree, a reader
 *     thread walks the rest once booted, the two parts balanced exactly): the first thread
 *     needs S + H + w, the reader S + B + (W - w); at best both equal, S + (H + B + W) / 2.
 * Each prints the best ratio nix/kiln it allows. Medians of alternating runs.
 *
 *   npm run bench:nar-hash-floor
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { hashPath } from "../packages/formats/src/hash-path.ts";
import { ensureTree, median, REPO, RUNS, run, TREE } from "./bench-support.ts";

const info = ensureTree();
const { narSize } = await hashPath(TREE);

const workerBoot = `
const { Worker } = require("node:worker_threads");
const shared = new Int32Array(new SharedArrayBuffer(8));
const start = performance.now();
new Worker("const c = new Int32Array(require('node:worker_threads').workerData); Atomics.store(c, 0, 1); Atomics.notify(c, 0);", { eval: true, workerData: shared.buffer });
Atomics.wait(shared, 0, 0, 10000);
console.log((performance.now() - start).toFixed(2));
process.exit(0);`;
const coldWalk = `
import { narChunks } from ${JSON.stringify(join(REPO, "packages/formats/src/nar-chunks.ts"))};
const start = performance.now();
for (const chunk of narChunks(${JSON.stringify(TREE)}, { reuseBuffer: true }));
console.log((performance.now() - start).toFixed(2));`;

const nix = ["--extra-experimental-features", "nix-command", "hash", "path", "--base32", TREE];
const times: Record<string, number[]> = {
  "nix hash path": [],
  "node start-up": [],
  "worker boot": [],
  "SHA-256 in memory": [],
  "cold walk": [],
};
const chunk = Buffer.alloc(1 << 20, 7);
for (let round = 0; round <= RUNS; round++) {
  const sample: Record<string, number> = {
    "nix hash path": run("nix", nix, process.env).ms,
    "node start-up": run(process.execPath, ["-e", "0"], process.env).ms,
    "worker boot": Number(run(process.execPath, ["-e", workerBoot], process.env).output),
    "cold walk": Number(
      run(process.execPath, ["--input-type=module", "-e", coldWalk], process.env).output,
    ),
  };
  const start = performance.now();
  const hash = createHash("sha256");
  for (let left = narSize; left > 0; left -= chunk.length)
    hash.update(left >= chunk.length ? chunk : chunk.subarray(0, left));
  hash.digest();
  sample["SHA-256 in memory"] = performance.now() - start;
  if (round > 0) for (const [name, ms] of Object.entries(sample)) times[name].push(ms);
}

const m = Object.fromEntries(Object.entries(times).map(([name, list]) => [name, median(list)]));
console.log(
  `tree: ${info.files} files, ${(info.bytes / 2 ** 20).toFixed(1)} MiB; NAR ${(narSize / 2 ** 20).toFixed(1)} MiB; medians of ${RUNS} alternating rounds`,
);
for (const [name, ms] of Object.entries(m))
  console.log(`${name.padEnd(20)} ${ms.toFixed(1).padStart(7)} ms`);
const [S, B, H, W] = ["node start-up", "worker boot", "SHA-256 in memory", "cold walk"].map(
  (name) => m[name],
);
const bounds = {
  "one thread": S + W + H,
  "hash thread": S + B + H,
  "perfect split": S + Math.max(H, (H + B + W) / 2),
};
for (const [name, ms] of Object.entries(bounds)) {
  console.log(
    `floor, ${name.padEnd(13)} ${ms.toFixed(1).padStart(7)} ms -> best ratio nix/kiln = ${(m["nix hash path"] / ms).toFixed(2)}`,
  );
}
