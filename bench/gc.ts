/**
 * Benchmark: collecting 100,000 dead store paths, `kiln gc` against `nix-store --gc`, on
 * the same population in the same run.
 *
 * The population: small text-like paths (one regular file each), described once and
 * written into both stores untimed: an export archive imported into a private Nix store
 * with `nix-store --import`, and the same items written and registered directly into a
 * Kiln store (one transaction per 5,000 paths). Each round copies both populated stores
 * (`cp -a`, then `sync`), then times one collection of each, alternating which goes first,
 * as a user runs them: the real CLI process, start-up included. Both must report every
 * path deleted. We print the medians.
 *
 *   npm run bench:gc            (KILN_BENCH_GC_PATHS=100000, KILN_BENCH_GC_RUNS=3)
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatHashNix32 } from "../packages/formats/src/hash.ts";
import { encodeNix32 } from "../packages/formats/src/nix32.ts";
import { LocalStore } from "../packages/store/src/local-store.ts";
import type { Registration } from "../packages/store/src/store-database.ts";
import { median, REPO } from "./bench-support.ts";

const PATHS = Number(process.env.KILN_BENCH_GC_PATHS ?? 100_000);
const RUNS = Number(process.env.KILN_BENCH_GC_RUNS ?? 3);
const STORE_DIR = "/nix/store";
const scratch = mkdtempSync(join(tmpdir(), "kiln-bench-gc-"));

/** A NAR string: length, bytes, padding to 8. */
function narString(bytes: Buffer): Buffer {
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(bytes.length));
  return Buffer.concat([length, bytes, Buffer.alloc((8 - (bytes.length % 8)) % 8)]);
}
const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
const NAR_HEAD = Buffer.concat(
  ["nix-archive-1", "(", "type", "regular", "contents"].map((s) => narString(Buffer.from(s))),
);
const NAR_TAIL = narString(Buffer.from(")"));

// The population: path i holds "content i\n".
const items = Array.from({ length: PATHS }, (_, i) => {
  const hash = encodeNix32(createHash("sha256").update(`gc-bench-${i}`).digest().subarray(0, 20));
  const contents = Buffer.from(`content ${i}\n`);
  const nar = Buffer.concat([NAR_HEAD, narString(contents), NAR_TAIL]);
  return { path: `${STORE_DIR}/${hash}-item-${i}`, contents, nar };
});

function timed(command: string, args: string[], env: NodeJS.ProcessEnv, input?: Buffer) {
  const start = performance.now();
  const result = spawnSync(command, args, { env, input, encoding: "utf8", maxBuffer: 1 << 30 });
  const ms = performance.now() - start;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (${result.status}): ${result.stderr}`);
  }
  return { ms, stdout: result.stdout, stderr: result.stderr };
}

// Nix: import an export archive of the population.
const nixBase = join(scratch, "nix-base");
const nixUri = (root: string) =>
  `local?store=${STORE_DIR}&state=${root}/state&log=${root}/log&real=${root}/store`;
const nixEnv = { ...process.env, NIX_CONF_DIR: scratch, NIX_REMOTE: "" };
const archive = Buffer.concat([
  ...items.flatMap(({ path, nar }) => [
    u64(1),
    nar,
    u64(0x4558494e),
    narString(Buffer.from(path)),
    u64(0),
    narString(Buffer.alloc(0)),
    u64(0),
  ]),
  u64(0),
]);
timed(
  "nix-store",
  ["--store", nixUri(nixBase), "--option", "substituters", "", "--import"],
  nixEnv,
  archive,
);

// Kiln: the same items, written and registered directly.
const kilnBase = join(scratch, "kiln-base");
const kilnConfig = (root: string) => ({
  storeDir: STORE_DIR,
  realStoreDir: join(root, "store"),
  stateDir: join(root, "state"),
});
{
  const store = LocalStore.open(kilnConfig(kilnBase));
  for (let start = 0; start < items.length; start += 5000) {
    const batch: Registration[] = [];
    for (const { path, contents, nar } of items.slice(start, start + 5000)) {
      const real = store.realPath(path);
      writeFileSync(real, contents);
      chmodSync(real, 0o444);
      utimesSync(real, 1, 1);
      const narHash = formatHashNix32({
        algorithm: "sha256",
        digest: createHash("sha256").update(nar).digest(),
      });
      batch.push({ info: { path, narHash, narSize: nar.length, references: [] } });
    }
    store.db.registerValidPaths(batch);
  }
  store.close();
}

// `kiln gc` through the real entry point, as a user runs it.
const kilnArgs = [join(REPO, "packages/cli/bin/kiln.js"), "gc"];

const tools = {
  "kiln gc": (root: string) => {
    const env = {
      ...process.env,
      KILN_STORE_DIR: STORE_DIR,
      KILN_REAL_STORE_DIR: join(root, "store"),
      KILN_STATE_DIR: join(root, "state"),
    };
    const run = timed(process.execPath, kilnArgs, env);
    if (!run.stderr.includes(`(${PATHS} store paths deleted)`))
      throw new Error(`kiln gc: ${run.stderr}`);
    return run.ms;
  },
  "nix-store --gc": (root: string) => {
    const run = timed(
      "nix-store",
      ["--store", nixUri(root), "--option", "substituters", "", "--gc"],
      nixEnv,
    );
    if (!`${run.stdout}${run.stderr}`.includes(`${PATHS} store paths deleted`)) {
      throw new Error(`nix-store --gc: ${run.stderr}`);
    }
    return run.ms;
  },
};
const bases = { "kiln gc": kilnBase, "nix-store --gc": nixBase };
const times: Record<string, number[]> = { "kiln gc": [], "nix-store --gc": [] };
for (let round = 0; round < RUNS; round++) {
  const order = (
    round % 2 === 0 ? ["kiln gc", "nix-store --gc"] : ["nix-store --gc", "kiln gc"]
  ) as Array<keyof typeof tools>;
  for (const name of order) {
    const work = join(scratch, "work");
    timed("cp", ["-a", bases[name], work], process.env);
    timed("sync", [], process.env);
    times[name].push(tools[name](work));
    timed("chmod", ["-R", "u+w", work], process.env);
    rmSync(work, { recursive: true, force: true });
  }
}
for (const name of Object.keys(times)) {
  console.log(
    `${name.padEnd(15)} median ${(median(times[name]) / 1000).toFixed(2).padStart(7)} s over ${RUNS} runs (${PATHS} dead paths): ${times[name].map((ms) => (ms / 1000).toFixed(2)).join(", ")}`,
  );
}
const ratio = median(times["nix-store --gc"]) / median(times["kiln gc"]);
console.log(`ratio nix/kiln = ${ratio.toFixed(2)} (target >= 1.00)`);
timed("chmod", ["-R", "u+w", scratch], process.env);
rmSync(scratch, { recursive: true, force: true });
