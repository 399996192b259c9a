/**
 * Benchmark: the floor under a sandboxed chain of 50 builds driven from Node, against
 * `nix-store --realise` of a real chain of 50 (sandbox on, --max-jobs 2) in the same run.
 * It answers "how fast could any Node builder using bubblewrap be here?".
 *
 * The floor is a bare driver, not Kiln: a fresh Node process that starts the 50 sandboxes
 * one after another the way Kiln's builder does at its fastest (the next bwrap is started
 * and held with --block-fd while the current build runs, then released when its input
 * exists), each running the same builder as the Nix chain (busybox sh writing $out from
 * the previous output). No store, no database, no hashing, no logs: whatever Kiln does on
 * top of this is bookkeeping. Its wall time includes Node's start-up, as `kiln build`'s does.
 * Prints the best ratio nix/kiln that such a driver allows (target of `bench:build`: 2.0).
 *
 *   npm run bench:build-floor
 */
import { join } from "node:path";
import { median, run } from "./bench-support.ts";
import { instantiate, realiseWithNix, scratch } from "./nix-builds.ts";

const ROUNDS = 5;
const LENGTH = 50;

const driver = `
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
const base = process.argv[1];
function hold(i) {
  const dir = base + "/" + i;
  mkdirSync(dir, { recursive: true });
  const args = ["--unshare-all", "--die-with-parent", "--tmpfs", "/", "--proc", "/proc", "--dev", "/dev",
    "--ro-bind", "/bin/busybox", "/bin/busybox", "--bind", dir, "/out", "--chdir", "/out",
    "--block-fd", "3", "/bin/busybox", "sh", "-c", "cat in > out 2>/dev/null; echo x >> out"];
  const child = spawn("bwrap", args, { stdio: ["ignore", "inherit", "inherit", "pipe"] });
  return { child, dir, exited: new Promise((resolve) => child.once("exit", resolve)) };
}
let next = hold(0);
for (let i = 0; i < ${LENGTH}; i++) {
  const current = next;
  if (i > 0) writeFileSync(current.dir + "/in", readFileSync(base + "/" + (i - 1) + "/out"));
  current.child.stdio[3].end("x"); // one byte: bwrap reads one
  if (i + 1 < ${LENGTH}) next = hold(i + 1);
  if ((await current.exited) !== 0) throw new Error("sandbox " + i + " failed");
}`;

const times = { nix: [] as number[], floor: [] as number[], node: [] as number[] };
for (let round = 0; round <= ROUNDS; round++) {
  const nixMs = realiseWithNix(instantiate("chain", `f${round}${Date.now()}`));
  const floorMs = run(
    process.execPath,
    ["--input-type=module", "-e", driver, join(scratch, `floor${round}`)],
    process.env,
  ).ms;
  const nodeMs = run(process.execPath, ["-e", "0"], process.env).ms;
  if (round === 0) continue; // warm-up
  times.nix.push(nixMs);
  times.floor.push(floorMs);
  times.node.push(nodeMs);
}
const nixMs = median(times.nix);
const floorMs = median(times.floor);
const nodeMs = median(times.node);
console.log(`chain of ${LENGTH}, medians of ${ROUNDS} alternating rounds`);
console.log(
  `nix-store --realise        ${nixMs.toFixed(0).padStart(5)} ms = ${(nixMs / LENGTH).toFixed(2)} ms a build`,
);
console.log(
  `bare Node + bwrap driver   ${floorMs.toFixed(0).padStart(5)} ms = ${((floorMs - nodeMs) / LENGTH).toFixed(2)} ms a build after ${nodeMs.toFixed(0)} ms of node start-up`,
);
console.log(
  `best ratio nix/kiln such a driver allows = ${(nixMs / floorMs).toFixed(2)} (bench:build target: 2.00); with no start-up at all (a resident builder) = ${(nixMs / (floorMs - nodeMs)).toFixed(2)}`,
);
