/**
 * `kiln gc` when a daemon runs, as `guix gc` talks to guix-daemon: collecting, deleting,
 * listing and verifying are the daemon's work (it owns the store, and knows its clients'
 * temporary roots). Returns false for the actions the worker protocol has no operation
 * for (--list-busy, --list-failures, --clear-failures): those use the store directly.
 */
import type { DaemonClient } from "@kiln/daemon/daemon-client";
import { GcAction } from "@kiln/daemon/worker-protocol";
import { KilnError } from "@kiln/formats/kiln-error";
import type { StoreConfig } from "@kiln/store/store-config";

export interface DaemonGcRequest {
  readonly action: string;
  /** Where the roots are (for --list-roots). */
  readonly config: StoreConfig;
  /** Store paths named on the command line (already resolved to store paths). */
  readonly paths: readonly string[];
  /** Bytes to free at least (0: all garbage). */
  readonly minFreed: number;
  /** `--verify` words: `repair`, `contents`. */
  readonly verify: readonly string[];
  readonly out: (line: string) => void;
  readonly info: (line: string) => void;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiBs`;

async function closure(client: DaemonClient, paths: readonly string[]): Promise<string[]> {
  const seen = new Set<string>();
  const pending = [...paths];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    if (seen.has(path)) continue;
    seen.add(path);
    const info = await client.queryPathInfo(path);
    if (!info) throw new KilnError("ERR_PATH_INVALID", `path ${path} is not valid`);
    pending.push(...info.references);
  }
  return [...seen].sort();
}

/** Runs `request` through the daemon; false when the daemon cannot do that action. */
export async function gcThroughDaemon(
  client: DaemonClient,
  request: DaemonGcRequest,
): Promise<boolean> {
  const { out, info, paths } = request;
  switch (request.action) {
    case "collectGarbage":
    case "freeSpace": {
      info("finding garbage collector roots...");
      info("deleting garbage...");
      const result = await client.collectGarbage({
        action: GcAction.DeleteDead,
        maxFreed: request.minFreed > 0 ? request.minFreed : Number.MAX_SAFE_INTEGER,
      });
      info(`freed ${mib(result.bytesFreed)} (${result.paths.length} store paths deleted)`);
      return true;
    }
    case "delete": {
      const result = await client.collectGarbage({
        action: GcAction.DeleteSpecific,
        pathsToDelete: paths,
      });
      for (const path of result.paths) info(`deleting ${path}`);
      info(`freed ${mib(result.bytesFreed)} (${result.paths.length} store paths deleted)`);
      return true;
    }
    case "listDead":
    case "listLive": {
      const result = await client.collectGarbage({
        action: request.action === "listDead" ? GcAction.ReturnDead : GcAction.ReturnLive,
      });
      for (const path of [...result.paths].sort()) out(path);
      return true;
    }
    case "listRoots": {
      // As `guix gc --list-roots`: the roots are read from the file system here (the
      // daemon hides other users' links from an untrusted client), the daemon says which
      // of their targets are valid.
      const { findRoots } = await import("@kiln/gc/find-roots");
      for (const root of findRoots(request.config))
        if (await client.isValidPath(root.target)) out(`${root.link} -> ${root.target}`);
      return true;
    }
    case "references":
    case "referrers":
    case "derivers":
      for (const path of paths) {
        const known = await client.queryPathInfo(path);
        if (!known) throw new KilnError("ERR_PATH_INVALID", `path ${path} is not valid`);
        const related =
          request.action === "references"
            ? known.references
            : request.action === "referrers"
              ? await client.queryReferrers(path)
              : await client.queryValidDerivers(path);
        for (const other of related) out(other);
      }
      return true;
    case "requisites":
      for (const path of await closure(client, paths)) out(path);
      return true;
    case "verify": {
      const problems = await client.verifyStore({
        checkContents: request.verify.includes("contents"),
        repair: request.verify.includes("repair"),
      });
      out(`store is ${problems ? "not consistent" : "clean"} (checked by the daemon)`);
      if (problems)
        throw new KilnError("ERR_STORE_CORRUPT", "the store is not consistent", {
          hint: "run with --verify=repair; the daemon's log names the problems",
        });
      return true;
    }
    case "optimize":
      await client.optimiseStore();
      info("store optimised by the daemon");
      return true;
    default:
      return false;
  }
}
