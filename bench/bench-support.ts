/**
 * Shared by the benchmarks: the ~100 MiB, ~4,000-file test tree (built once, cached in
 * .bench-data/, git-ignored), timing of whole commands, medians.
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
import { seededRandom } from "@kiln/packages/seeded-random";

export const REPO = dirname(dirname(fileURLToPath(import.meta.url)));
export const DATA = join(REPO, ".bench-data");
export const TREE = join(DATA, "nar-hash-tree");
const MARKER = `${TREE}.json`;
const SOURCE = "/usr/lib/python3.11";
const TARGET_FILES = 4000;
const TARGET_BYTES = 100 * 2 ** 20;
export const RUNS = 7;

export interface TreeInfo {
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

/** Adds generated files under `dir` until the tree has the target file count and size. */
function topUp(dir: string, have: { files: number; bytes: number }): void {
  const next = seededRandom(42);
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

export function ensureTree(): TreeInfo {
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

export function run(
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

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
