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
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, REPO } from "./bench-support.ts";

const ROUNDS = 5;

/** CPU seconds (user + system) of this process's waited-for children so far. */
function childrenCpu(): number {
  // /proc/self/stat: fields 16 and 17 are cutime and cstime, in clock ticks (100/s).
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
  return (Number(fields[13]) + Number(fields[14])) / 100;
}
const scratch = mkdtempSync(join(tmpdir(), "kiln-bench-build-"));
const nixUri = `local?store=/nix/store&state=${scratch}/nix/state&log=${scratch}/nix/log&real=${scratch}/nix/store`;
const nixEnv = { ...process.env, NIX_CONF_DIR: scratch };
const kilnEnv = {
  ...process.env,
  KILN_STORE_DIR: "/nix/store",
  KILN_REAL_STORE_DIR: join(scratch, "kiln", "store"),
  KILN_STATE_DIR: join(scratch, "kiln", "state"),
};
const kiln = join(REPO, "packages/cli/bin/kiln.js");

function run(command: string, args: string[], env: NodeJS.ProcessEnv, input?: Buffer): Buffer {
  const result = spawnSync(command, args, { env, input, maxBuffer: 1 << 30 });
  if (result.status !== 0)
    throw new Error(`${command} ${args.slice(0, 3).join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}
const nix = (command: string, args: string[], input?: Buffer) =>
  run(command, ["--store", nixUri, "--option", "substituters", "", ...args], nixEnv, input);

// busybox picks its applet from argv[0], so it must be called `busybox`: <path>/bin/busybox.
const tree = join(scratch, "busybox");
mkdirSync(join(tree, "bin"), { recursive: true });
copyFileSync("/bin/busybox", join(tree, "bin", "busybox"));
const busybox = nix("nix-store", ["--add", tree]).toString().trim();
const kilnBusybox = run(process.execPath, [kiln, "store", "add", tree], kilnEnv).toString().trim();
if (busybox !== kilnBusybox) throw new Error(`busybox paths differ: ${busybox} vs ${kilnBusybox}`);

function expression(kind: "independent" | "chain", salt: string): string {
  const bb = `"\${builtins.storePath "${busybox}"}/bin/busybox"`;
  if (kind === "independent") {
    return `builtins.genList (i: derivation { name = "t-${salt}-\${toString i}"; system = "x86_64-linux"; builder = ${bb}; args = [ "sh" "-c" "echo \${toString i} > $out" ]; }) 200`;
  }
  return `let step = i: prev: derivation { name = "c-${salt}-\${toString i}"; system = "x86_64-linux"; builder = ${bb}; inherit prev; args = [ "sh" "-c" "echo $prev > $out" ]; };
      chain = n: if n == 0 then "none" else step n (chain (n - 1));
    in [ (chain 50) ]`;
}

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
    const drvs = nix("nix-instantiate", ["--expr", expression(kind, `${round}${Date.now()}`)])
      .toString()
      .trim()
      .split("\n");
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
    let start = performance.now();
    let cpu = childrenCpu();
    run(process.execPath, [kiln, "build", "--max-jobs", "2", ...drvs], kilnEnv);
    results[label].kiln.push(performance.now() - start);
    results[label].kilnCpu.push(childrenCpu() - cpu);
    start = performance.now();
    cpu = childrenCpu();
    nix("nix-store", ["--realise", "--max-jobs", "2", "--option", "sandbox", "true", ...drvs]);
    results[label].nix.push(performance.now() - start);
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
