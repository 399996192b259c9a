/**
 * Benchmark: sandboxed builds per second, `kiln build` against `nix-store --realise` with
 * Nix's sandbox on, in the same run, both with --max-jobs 2:
 *   - 200 trivial independent derivations;
 *   - a chain of 50 (each depends on the one before).
 * The builder is a static busybox added to both stores as a store path, so neither side
 * binds host directories into its sandboxes. Each round instantiates fresh derivations
 * (a salt in the name) with real Nix, imports them into the Kiln store (untimed), then
 * times the two builds, wall clock and CPU (user + system of the whole process tree, from
 * this process's children times). Medians over the rounds.
 *
 *   npm run bench:build
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { median, REPO } from "./bench-support.ts";
import {
  busybox,
  busyboxTree,
  instantiate,
  nix,
  realiseWithNix,
  run,
  scratch,
} from "./nix-builds.ts";

const ROUNDS = 5;

/** CPU seconds (user + system) of this process's waited-for children so far. */
function childrenCpu(): number {
  // /proc/self/stat: fields 16 and 17 are cutime and cstime, in clock ticks (100/s).
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
  return (Number(fields[13]) + Number(fields[14])) / 100;
}
const kilnEnv = {
  ...process.env,
  KILN_STORE_DIR: "/nix/store",
  KILN_REAL_STORE_DIR: join(scratch, "kiln", "store"),
  KILN_STATE_DIR: join(scratch, "kiln", "state"),
};
const kiln = join(REPO, "packages/cli/bin/kiln.js");
const kilnBusybox = run(process.execPath, [kiln, "store", "add", busyboxTree], kilnEnv)
  .toString()
  .trim();
if (busybox !== kilnBusybox) throw new Error(`busybox paths differ: ${busybox} vs ${kilnBusybox}`);

interface Series {
  kiln: number[];
  nix: number[];
  kilnCpu: number[];
  nixCpu: number[];
  count: number;
}
const series = (count: number): Series => ({ kiln: [], nix: [], kilnCpu: [], nixCpu: [], count });
const results: Record<string, Series> = {
  "200 independent": series(200),
  "chain of 50": series(50),
};
for (let round = 0; round < ROUNDS; round++) {
  for (const [label, kind] of [
    ["200 independent", "independent"],
    ["chain of 50", "chain"],
  ] as const) {
    const drvs = instantiate(kind, `${round}${Date.now()}`);
    // The chain's build set is the whole closure of its top derivation.
    const closure = nix("nix-store", ["-qR", ...drvs])
      .toString()
      .trim()
      .split("\n");
    run(
      process.execPath,
      [kiln, "archive", "--import"],
      kilnEnv,
      nix("nix-store", ["--export", ...closure]),
    );
    const start = performance.now();
    let cpu = childrenCpu();
    run(process.execPath, [kiln, "build", "--max-jobs", "2", ...drvs], kilnEnv);
    results[label].kiln.push(performance.now() - start);
    results[label].kilnCpu.push(childrenCpu() - cpu);
    cpu = childrenCpu();
    results[label].nix.push(realiseWithNix(drvs));
    results[label].nixCpu.push(childrenCpu() - cpu);
  }
}
for (const [label, { kiln: k, nix: n, kilnCpu, nixCpu, count }] of Object.entries(results)) {
  const kilnRate = count / (median(k) / 1000);
  const nixRate = count / (median(n) / 1000);
  console.log(
    `${label.padEnd(16)} kiln ${kilnRate.toFixed(1).padStart(6)} builds/s   nix ${nixRate.toFixed(1).padStart(6)} builds/s   ratio kiln/nix = ${(kilnRate / nixRate).toFixed(2)} (target >= 2.00; median of ${ROUNDS})`,
  );
  console.log(
    `${"".padEnd(16)} cpu: kiln ${median(kilnCpu).toFixed(2)} s   nix ${median(nixCpu).toFixed(2)} s   ratio nix/kiln = ${(median(nixCpu) / median(kilnCpu)).toFixed(2)}`,
  );
}
