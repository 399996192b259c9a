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
import { spawnSync } from "node:child_process";
import { createCipheriv } from "node:crypto";
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { hashPath } from "../packages/formats/src/hash-path.ts";
import { NarHashWorker } from "../packages/formats/src/nar-hash-worker.ts";

const REPO = dirname(dirname(fileURLToPath(import.meta.url)));
const DATA = join(REPO, ".bench-data");
const TREE = join(DATA, "nar-hash-tree");
const MARKER = `${TREE}.json`;
const SOURCE = "/usr/lib/python3.11";
const TARGET_FILES = 4000;
const TARGET_BYTES = 100 * 2 ** 20;
const RUNS = 7;

interface TreeInfo {
  readonly files: number;
  readonly bytes: number;
  readonly source: string;
}

function measure(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (stat.isDirectory()) {
      const inner = measure(path);
      files += inner.files;
      bytes += inner.bytes;
    } else {
      files += 1;
      bytes += stat.isFile() ? stat.size : 0;
    }
  }
  return { files, bytes };
}

/** Deterministic 32-bit generator (mulberry32), so every machine builds the same tree. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Adds generated files under `dir` until the tree has the target file count and size. */
function topUp(dir: string, have: { files: number; bytes: number }): void {
  const next = random(42);
  // AES-CTR keystream: incompressible, reproducible and fast to produce.
  const stream = createCipheriv("aes-128-ctr", Buffer.alloc(16, 7), Buffer.alloc(16));
  const sizes: number[] = [];
  const files = Math.max(0, TARGET_FILES - have.files);
  // Mostly small files (64 B to 32 KiB, log-uniform), like a source tree...
  for (let i = 0; i < files - 8; i++) sizes.push(Math.round(64 * 512 ** next()));
  // ...and a few large ones carrying the remaining bytes.
  let rest = TARGET_BYTES - have.bytes - sizes.reduce((a, b) => a + b, 0);
  while (rest > 0) {
    const size = Math.min(rest, 8 * 2 ** 20);
    sizes.push(size);
    rest -= size;
  }
  sizes.forEach((size, i) => {
    const sub = join(dir, `d${String(i % 40).padStart(2, "0")}`);
    mkdirSync(sub, { recursive: true });
    const mode = i % 10 === 0 ? 0o755 : 0o644;
    writeFileSync(join(sub, `f${i}.bin`), stream.update(Buffer.alloc(size)), { mode });
    if (i % 100 === 0) symlinkSync(`f${i}.bin`, join(sub, `link${i}`));
  });
}

function ensureTree(): TreeInfo {
  if (existsSync(MARKER)) return JSON.parse(readFileSync(MARKER, "utf8")) as TreeInfo;
  mkdirSync(DATA, { recursive: true });
  const building = `${TREE}.tmp-${process.pid}`;
  rmSync(TREE, { recursive: true, force: true });
  mkdirSync(building);
  let source = "generated";
  if (existsSync(SOURCE)) {
    cpSync(SOURCE, join(building, "python3.11"), { recursive: true, verbatimSymlinks: true });
    source = `copy of ${SOURCE} + generated`;
  }
  topUp(join(building, "generated"), measure(building));
  renameSync(building, TREE);
  const info: TreeInfo = { ...measure(TREE), source };
  writeFileSync(MARKER, `${JSON.stringify(info, null, 1)}\n`);
  return info;
}

function run(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): { ms: number; output: string } {
  const start = performance.now();
  const result = spawnSync(command, args, { encoding: "utf8", env });
  const ms = performance.now() - start;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (${result.status}): ${result.stderr}`);
  }
  return { ms, output: result.stdout.trim() };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

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
