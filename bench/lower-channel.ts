/**
 * Evaluating and lowering a 10,000-package synthetic channel to derivations, every `.drv`
 * written to a scratch store: cold (empty store, fresh process) and warm (same store, the
 * `.drv` files already valid). Run: node bench/lower-channel.ts [COUNT [CONCURRENCY]]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeSyntheticChannel } from "@kiln/packages";
import { REPO } from "./bench-support.ts";

const count = Number(process.argv[2] ?? 10_000);
const concurrency = Number(process.argv[3] ?? 64);
const root = mkdtempSync(join(tmpdir(), "kiln-bench-lower-"));
try {
  const channel = join(root, "channel");
  writeSyntheticChannel(channel, count);
  symlinkSync(join(REPO, "node_modules"), join(root, "node_modules"));
  // One process per run: evaluation (module import) is part of what is measured.
  const script = `
    const { LocalStore } = await import("@kiln/store/local-store");
    const p = await import("@kiln/packages");
    const t0 = performance.now();
    const channel = await p.loadChannel(${JSON.stringify(channel)});
    const t1 = performance.now();
    const store = LocalStore.open({ storeDir: "/gnu/store", realStoreDir: ${JSON.stringify(join(root, "store"))}, stateDir: ${JSON.stringify(join(root, "state"))} });
    const bootstrap = await p.importBootstrapSeeds(store);
    const lowered = await p.lowerChannel(channel, { system: "x86_64-linux", storeDir: "/gnu/store", bootstrap, store, concurrency: ${concurrency} });
    const t2 = performance.now();
    store.close();
    console.log(JSON.stringify({ packages: lowered.size, evaluateMs: Math.round(t1 - t0), lowerMs: Math.round(t2 - t1) }));
  `;
  for (const run of ["cold", "warm"]) {
    const started = performance.now();
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: REPO,
      encoding: "utf8",
    });
    if (result.status !== 0) throw new Error(result.stderr);
    const wall = Math.round(performance.now() - started);
    console.log(`${run}: ${result.stdout.trim()} wall ${wall} ms`);
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
