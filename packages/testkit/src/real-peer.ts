/**
 * Interop tests run against real peers (Nix, PostgreSQL, bubblewrap). On a bare laptop
 * a missing peer skips the test with a loud message; in CI (CI=true) it fails the test,
 * so a broken install step can never pass silently.
 */
import { spawnSync } from "node:child_process";
import type { TestContext } from "node:test";

const found = new Map<string, boolean>();

/** True when `command --version` runs. Cached per process. */
export function hasCommand(command: string): boolean {
  let ok = found.get(command);
  if (ok === undefined) {
    ok = spawnSync(command, ["--version"], { stdio: "ignore" }).status === 0;
    found.set(command, ok);
  }
  return ok;
}

/**
 * Returns true when the peer is there. Otherwise skips the test loudly, or throws when
 * running in CI. Use as `if (!requirePeer(t, "nix-store")) return;`.
 */
export function requirePeer(t: TestContext, command: string, what = command): boolean {
  if (hasCommand(command)) return true;
  const message = `${what} (${command}) is not installed: this interop test cannot run`;
  if (process.env.CI === "true") throw new Error(`${message}; CI must install it (see .ci/run)`);
  process.stderr.write(
    `\n!!! SKIPPED: ${message}. Install it (apt-get install nix-bin) to run it.\n\n`,
  );
  t.skip(message);
  return false;
}
