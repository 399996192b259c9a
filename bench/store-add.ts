/**
 * Benchmark: `kiln store add` of an unchanged ~100 MiB, ~4,000-file tree, against
 * `nix-store --add` of the same tree into a private Nix store, in the same run.
 *
 * Both stores already hold the tree (one untimed add each), so this measures the common
 * case of re-adding unchanged sources: Nix serialises and restores the tree into a
 * temporary location before it finds the path valid; Kiln hashes it once (on two threads)
 * and stops when the database says the path is valid.
 *
 *   npm run bench:store-add
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureTree, median, REPO, RUNS, run, TREE } from "./bench-support.ts";

const info = ensureTree();
const scratch = mkdtempSync(join(tmpdir(), "kiln-bench-store-add-"));
const kilnEnv = {
  ...process.env,
  KILN_STORE_DIR: "/nix/store",
  KILN_REAL_STORE_DIR: join(scratch, "kiln", "store"),
  KILN_STATE_DIR: join(scratch, "kiln", "state"),
};
const nixUri = `local?store=/nix/store&state=${scratch}/nix/state&log=${scratch}/nix/log&real=${scratch}/nix/store`;
const tools: Record<string, [string, string[], NodeJS.ProcessEnv]> = {
  "kiln store add": [
    process.execPath,
    [join(REPO, "packages/cli/bin/kiln.js"), "store", "add", TREE],
    kilnEnv,
  ],
  "nix-store --add": [
    "nix-store",
    ["--store", nixUri, "--add", TREE],
    { ...process.env, NIX_CONF_DIR: scratch },
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
console.log(
  `tree: ${info.files} files, ${(info.bytes / 2 ** 20).toFixed(1)} MiB; store path ${[...outputs][0]}`,
);
for (const name of Object.keys(tools)) {
  console.log(
    `${name.padEnd(16)} median ${median(times[name]).toFixed(1).padStart(7)} ms over ${RUNS} runs (already valid)`,
  );
}
const ratio = median(times["nix-store --add"]) / median(times["kiln store add"]);
console.log(`ratio nix/kiln = ${ratio.toFixed(2)} (target >= 2.00)`);
