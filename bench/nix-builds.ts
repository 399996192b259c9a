/**
 * Shared by the build benchmarks: a private Nix store (logical directory /nix/store) with
 * a static busybox added as a store path, and Nix expressions for trivial derivations
 * whose builder is that busybox, so that no host directory is bound into any sandbox.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const scratch = mkdtempSync(join(tmpdir(), "kiln-bench-build-"));
const nixUri = `local?store=/nix/store&state=${scratch}/nix/state&log=${scratch}/nix/log&real=${scratch}/nix/store`;
const nixEnv = { ...process.env, NIX_CONF_DIR: scratch };

export function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  input?: Buffer,
): Buffer {
  const result = spawnSync(command, args, { env, input, maxBuffer: 1 << 30 });
  if (result.status !== 0)
    throw new Error(`${command} ${args.slice(0, 3).join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}

/** Runs a Nix command against the private store. */
export const nix = (command: string, args: string[], input?: Buffer) =>
  run(command, ["--store", nixUri, "--option", "substituters", "", ...args], nixEnv, input);

// busybox picks its applet from argv[0], so it must be called `busybox`: <path>/bin/busybox.
/** A tree holding bin/busybox, ready to add to a store. */
export const busyboxTree = join(scratch, "busybox");
mkdirSync(join(busyboxTree, "bin"), { recursive: true });
copyFileSync("/bin/busybox", join(busyboxTree, "bin", "busybox"));
/** Its store path in the private Nix store. */
export const busybox = nix("nix-store", ["--add", busyboxTree]).toString().trim();

/**
 * 200 independent derivations, or a chain of 50 (each writes the path of the one before
 * into its output); `salt` makes them new.
 */
export function expression(kind: "independent" | "chain", salt: string): string {
  const bb = `"\${builtins.storePath "${busybox}"}/bin/busybox"`;
  if (kind === "independent") {
    return `builtins.genList (i: derivation { name = "t-${salt}-\${toString i}"; system = "x86_64-linux"; builder = ${bb}; args = [ "sh" "-c" "echo \${toString i} > $out" ]; }) 200`;
  }
  return `let step = i: prev: derivation { name = "c-${salt}-\${toString i}"; system = "x86_64-linux"; builder = ${bb}; inherit prev; args = [ "sh" "-c" "echo $prev > $out" ]; };
      chain = n: if n == 0 then "none" else step n (chain (n - 1));
    in [ (chain 50) ]`;
}

/** Instantiates `expression(kind, salt)` in the private store; the .drv paths. */
export function instantiate(kind: "independent" | "chain", salt: string): string[] {
  return nix("nix-instantiate", ["--expr", expression(kind, salt)])
    .toString()
    .trim()
    .split("\n");
}

/** Builds `drvs` with Nix, sandboxed, --max-jobs 2; milliseconds. */
export function realiseWithNix(drvs: readonly string[]): number {
  const start = performance.now();
  nix("nix-store", ["--realise", "--max-jobs", "2", "--option", "sandbox", "true", ...drvs]);
  return performance.now() - start;
}
