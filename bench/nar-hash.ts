/**
 * Benchmark: `kiln hash -S nar` (hashPath) against `nix hash path`, measured as a user runs
 * them: one process per hash, wall time including start-up.
 *
 * Kiln is timed as the real CLI (`packages/cli/bin/kiln.js hash -S nar`, start-up and all),
 * then its library alone in a warm process (single-threaded `hashPath`, and the two-thread
 * `NarHashWorker` the CLI uses).
 *
 * The tree (~100 MiB, ~4,000 files) is built once and cached in .bench-data/ (git-ignored):
 * a copy of /usr/lib/python3.11 when present, topped up with generated files. Each tool gets
 * one warm-up run, then 7 timed runs alternating between them; we print the medians.
 *
 *   npm run bench:nar-hash
 */
import { join } from "node:path";
import { hashPath } from "../packages/formats/src/hash-path.ts";
import { NarHashWorker } from "../packages/formats/src/nar-hash-worker.ts";
import { ensureTree, median, REPO, RUNS, run, TREE } from "./bench-support.ts";

const info = ensureTree();
const { narSize } = await hashPath(TREE);
const kilnCli = join(REPO, "packages", "cli", "bin", "kiln.js");
const tools: Record<string, [string, string[]]> = {
  "kiln hash -S nar": [process.execPath, [kilnCli, "hash", "-S", "nar", TREE]],
  "nix hash path": [
    "nix",
    ["--extra-experimental-features", "nix-command", "hash", "path", "--base32", TREE],
  ],
};
const times: Record<string, number[]> = Object.fromEntries(
  Object.keys(tools).map((name) => [name, []]),
);
const outputs = new Set<string>();
for (let round = 0; round <= RUNS; round++) {
  for (const [name, [command, args]] of Object.entries(tools)) {
    const { ms, output } = run(command, args, process.env);
    outputs.add(output);
    if (round > 0) times[name].push(ms);
  }
}
if (outputs.size !== 1) throw new Error(`kiln and nix disagree: ${[...outputs].join(" vs ")}`);

// The library alone, in a warm process: what a daemon or `kiln store add` pays per tree.
const library: Record<string, number[]> = { hashPath: [], NarHashWorker: [] };
const worker = NarHashWorker.start();
await new Promise((resolve) => setTimeout(resolve, 200));
for (let round = 0; round <= RUNS; round++) {
  let start = performance.now();
  await hashPath(TREE);
  if (round > 0) library.hashPath.push(performance.now() - start);
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
const ratio = median(times["nix hash path"]) / median(times["kiln hash -S nar"]);
console.log(
  `ratio nix/kiln = ${ratio.toFixed(2)} (>= 1.00 means kiln hash -S nar is at least as fast as nix hash path)`,
);
