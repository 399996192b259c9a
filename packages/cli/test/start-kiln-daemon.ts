/**
 * Test support for the CLI through a daemon, as root: a scratch store, `kiln daemon` in a
 * child process owning it, and the `kiln` client run as the unprivileged user nobody, who
 * cannot touch that store and so must go through the daemon's socket.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

const KILN = new URL("../bin/kiln.js", import.meta.url).pathname;

export interface KilnScratch {
  /** A temporary directory that every user may search. */
  readonly root: string;
  /** The environment naming a store kept in it: `KILN_STORE_DIR` and the rest. */
  readonly env: {
    KILN_STORE_DIR: string;
    KILN_REAL_STORE_DIR: string;
    KILN_STATE_DIR: string;
  };
}

/** A scratch directory named from `prefix` for a store whose logical directory is `storeDir`. */
export function kilnScratch(prefix: string, storeDir = "/gnu/store"): KilnScratch {
  const root = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(root, 0o755);
  return {
    root,
    env: {
      KILN_STORE_DIR: storeDir,
      KILN_REAL_STORE_DIR: join(root, "store"),
      KILN_STATE_DIR: join(root, "state"),
    },
  };
}

export interface KilnDaemon {
  /** The daemon's socket (in `KILN_STATE_DIR/kiln/daemon-socket`). */
  readonly socket: string;
  /** Its stderr so far. */
  log(): string;
  /** SIGTERM, then waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts `kiln daemon` (with `args` after it) on the store `env` names, waits for its
 * socket, and opens the state directories to other users so that they reach it.
 *
 * @example
 * const daemon = await startKilnDaemon(env);
 * try {
 *   asNobody(["store", "add", file], env);
 * } finally {
 *   await daemon.stop();
 * }
 */
export async function startKilnDaemon(
  env: Record<string, string> & { KILN_STATE_DIR: string },
  args: readonly string[] = [],
): Promise<KilnDaemon> {
  const child = spawn(process.execPath, [KILN, "daemon", ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  child.stderr?.on("data", (chunk) => (log += chunk));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  };
  const socket = join(env.KILN_STATE_DIR, "kiln", "daemon-socket", "socket");
  for (let i = 0; i < 200 && !existsSync(socket); i++) await sleep(50);
  if (!existsSync(socket)) {
    await stop();
    throw new Error(`the daemon did not start: ${log}`);
  }
  for (const dir of [env.KILN_STATE_DIR, join(env.KILN_STATE_DIR, "kiln")]) chmodSync(dir, 0o755);
  return { socket, log: () => log, stop };
}

/**
 * Whether the test runs as root, which it must to own the daemon's store and to run
 * clients as nobody; otherwise skips it, saying `needs root, to WHY`.
 */
export function requireRoot(t: TestContext, why: string): boolean {
  if (process.getuid?.() === 0) return true;
  t.skip(`needs root, to ${why}`);
  return false;
}

/** Runs kiln as the unprivileged user nobody (the test runs as root), from /tmp. */
export function asNobody(args: readonly string[], env: Record<string, string>) {
  const assignments = Object.entries(env).map(([key, value]) => `${key}='${value}'`);
  const quoted = [process.execPath, KILN, ...args].map((arg) => `'${arg}'`).join(" ");
  return spawnSync(
    "su",
    ["nobody", "-s", "/bin/sh", "-c", `cd /tmp && env ${assignments.join(" ")} ${quoted}`],
    { encoding: "utf8" },
  );
}
