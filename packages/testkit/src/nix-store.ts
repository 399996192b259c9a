/**
 * A private Nix store for differential tests: real Nix with a chosen logical store
 * directory (`/nix/store` or `/gnu/store`) kept physically in a scratch directory,
 * as `local?store=…&real=…`. Nothing touches the machine's own /nix.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface PrivateNixStore {
  /** Logical store directory, e.g. `/gnu/store`. */
  readonly storeDir: string;
  /** Where the store's files really are. */
  readonly realStoreDir: string;
  /** The `--store` URI to pass to nix commands. */
  readonly uri: string;
  /** Runs a nix command (`nix-store`, `nix-instantiate`, `nix`) against this store; throws on failure. */
  run(command: string, args: readonly string[], input?: string | Uint8Array): Buffer;
  dispose(): void;
}

const NIX_OPTIONS = [
  "--option",
  "substituters",
  "",
  "--extra-experimental-features",
  "nix-command",
];

export function createPrivateNixStore(storeDir = "/nix/store"): PrivateNixStore {
  const root = mkdtempSync(join(tmpdir(), "kiln-nix-"));
  const realStoreDir = join(root, "store");
  const uri = `local?store=${storeDir}&state=${root}/state&log=${root}/log&real=${realStoreDir}`;
  return {
    storeDir,
    realStoreDir,
    uri,
    run(command, args, input) {
      const extra = command === "nix" ? NIX_OPTIONS : NIX_OPTIONS.slice(0, 3);
      const result = spawnSync(command, ["--store", uri, ...extra, ...args], {
        input,
        maxBuffer: 1 << 30,
        env: { ...process.env, NIX_CONF_DIR: root, NIX_REMOTE: "" },
      });
      if (result.status !== 0) {
        throw new Error(`${command} ${args.join(" ")} failed (${result.status}): ${result.stderr}`);
      }
      return result.stdout;
    },
    dispose() {
      spawnSync("chmod", ["-R", "u+w", root]);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
