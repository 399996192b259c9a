/**
 * Helpers shared by operation handlers: reading paths off the wire with a length limit,
 * checking that a path belongs to this store, and refusing what an untrusted client
 * may not do.
 */
import { parseStorePath } from "@kiln/formats/store-path";
import type { FrameReader } from "@kiln/formats/worker-protocol-framing";
import { DaemonError } from "./daemon-error.ts";
import type { OperationContext } from "./operation-context.ts";
import { MAX_PATH_LENGTH } from "./wire-path-info.ts";

export function readPath(reader: FrameReader): Promise<string> {
  return reader.string(MAX_PATH_LENGTH);
}

export function readPaths(reader: FrameReader): Promise<string[]> {
  return reader.strings(MAX_PATH_LENGTH);
}

/** Throws, naming the path, unless it is a store path of this store. */
export function checkStorePath(ctx: OperationContext, path: string): string {
  parseStorePath(path, ctx.daemon.store.config.storeDir);
  return path;
}

/** Throws unless the path is a valid store path of this store. */
export function checkValidPath(ctx: OperationContext, path: string): string {
  checkStorePath(ctx, path);
  if (!ctx.daemon.store.db.isValidPath(path)) {
    throw new DaemonError("INVALID_PATH", `path '${path}' is not valid`);
  }
  return path;
}

/** Throws unless the client is trusted. */
export function requireTrusted(ctx: OperationContext, what: string): void {
  if (!ctx.session.trusted) {
    throw new DaemonError("NOT_TRUSTED", `you are not privileged to ${what}`, {
      hint: "connect through the daemon's trusted socket",
    });
  }
}

/** Paths sorted bytewise, as Nix's std::set orders them. */
export function sortedPaths(paths: Iterable<string>): string[] {
  return [...new Set(paths)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Runs `body` holding the GC lock shared, and makes the paths `roots` picks from its
 * result the client's temporary roots before letting go of the lock, so that no
 * collection can run between a path becoming valid and its being protected.
 */
export async function whileRooting<T>(
  ctx: OperationContext,
  body: () => Promise<T>,
  roots: (result: T) => Iterable<string>,
): Promise<T> {
  return ctx.daemon.gcLock.withShared(async () => {
    const result = await body();
    for (const path of roots(result)) ctx.session.tempRoots.add(path);
    return result;
  });
}
