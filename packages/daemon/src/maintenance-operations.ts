/**
 * Roots, garbage collection and store upkeep: AddTempRoot, AddIndirectRoot, SyncWithGC,
 * FindRoots, CollectGarbage, VerifyStore, OptimiseStore, AddBuildLog, and Guix's
 * SubstituteURLs and BuiltinBuilders.
 */
import { createHash } from "node:crypto";
import { mkdirSync, renameSync, symlinkSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { BUILTIN_BUILDERS } from "@kiln/builder/builtin-builders";
import { encodeNix32 } from "@kiln/formats/nix32";
import { collectGarbage } from "@kiln/gc/collect-garbage";
import { optimiseStore } from "@kiln/gc/optimise-store";
import { verifyStore } from "@kiln/store/verify-store";
import { storeBuildLog } from "./builder-adapter.ts";
import { DaemonError } from "./daemon-error.ts";
import { findRoots, gcRootsDir } from "./find-roots.ts";
import { drainFramedStream, readFramedStream, unclosable } from "./framed-stream.ts";
import {
  checkStorePath,
  checkValidPath,
  readPath,
  readPaths,
  requireTrusted,
} from "./operation-args.ts";
import type { OperationHandler } from "./operation-context.ts";
import { WorkerOp } from "./worker-protocol.ts";

const addTempRoot: OperationHandler = async (ctx) => {
  const path = await readPath(ctx.reader);
  ctx.stderr.startWork();
  ctx.session.tempRoots.add(checkStorePath(ctx, path));
  ctx.stderr.stopWork();
  ctx.out.frame.u64(1);
};

/**
 * Records `link` (a symlink the client made, e.g. `./result`) as an indirect root:
 * `gcroots/auto/<nix32 of sha1(link)>` → link, as Nix names it.
 */
const addIndirectRoot: OperationHandler = async (ctx) => {
  const link = await ctx.reader.string(4096);
  ctx.stderr.startWork();
  if (!isAbsolute(link))
    throw new DaemonError("BAD_ROOT", `indirect root '${link}' is not an absolute path`);
  const auto = join(gcRootsDir(ctx.daemon.store.config), "auto");
  mkdirSync(auto, { recursive: true });
  const name = encodeNix32(createHash("sha1").update(link).digest());
  const temporary = join(auto, `.${name}.tmp-${process.pid}`);
  symlinkSync(link, temporary);
  renameSync(temporary, join(auto, name));
  ctx.stderr.stopWork();
  ctx.out.frame.u64(1);
};

const syncWithGC: OperationHandler = async (ctx) => {
  ctx.stderr.startWork();
  ctx.stderr.stopWork();
  ctx.out.frame.u64(1);
};

const findRootsOperation: OperationHandler = async (ctx) => {
  ctx.stderr.startWork();
  const roots = findRoots(ctx.daemon.store.config, {
    tempRoots: ctx.daemon.tempRoots.all(),
    censor: !ctx.session.trusted,
  });
  ctx.stderr.stopWork();
  const pairs = [...roots].flatMap(([path, links]) => [...links].map((link) => [link, path]));
  ctx.out.frame.u64(pairs.length);
  for (const [link, path] of pairs) ctx.out.frame.string(link).string(path);
};

/** Nix's GCAction numbers. */
const GC_ACTIONS = ["return-live", "return-dead", "delete-dead", "delete-specific"] as const;

const collectGarbageOperation: OperationHandler = async (ctx) => {
  const { reader } = ctx;
  const action = await reader.u64();
  const pathsToDelete = await readPaths(reader);
  const ignoreLiveness = await reader.bool();
  const maxFreedBig = await reader.u64Big();
  // Obsolete fields: max links, use atime, max atime.
  await reader.u64Big();
  if (ctx.session.format.minor >= 5) {
    await reader.u64Big();
    await reader.u64Big();
  }
  ctx.stderr.startWork();
  if (ignoreLiveness)
    throw new DaemonError("NOT_TRUSTED", "you are not allowed to ignore liveness");
  for (const path of pathsToDelete) checkStorePath(ctx, path);
  const { store, options, gcLock } = ctx.daemon;
  // One collector for the daemon and `kiln gc` alike (@kiln/gc): it takes the store's GC
  // lock, reads every client's temporary roots (this daemon's are in files too) and never
  // deletes a locked path. Pausing this daemon's own adds meanwhile is belt and braces.
  const release = await gcLock.exclusive();
  let result: Awaited<ReturnType<typeof collectGarbage>>;
  try {
    result = await collectGarbage(store, {
      action: GC_ACTIONS[action] ?? "delete-dead",
      paths: pathsToDelete,
      minFreed:
        maxFreedBig === 0n || maxFreedBig > BigInt(Number.MAX_SAFE_INTEGER)
          ? 0
          : Number(maxFreedBig),
      keepOutputs: options.gcKeepOutputs,
      keepDerivations: options.gcKeepDerivations,
    });
  } finally {
    release();
  }
  for (const path of result.paths) {
    if (action >= 2) ctx.stderr.log(`deleting '${path}'`, 4);
  }
  ctx.stderr.stopWork();
  ctx.out.frame.strings(result.paths).u64(result.bytesFreed).u64(0);
};

const verifyStoreOperation: OperationHandler = async (ctx) => {
  const checkContents = await ctx.reader.bool();
  const repair = await ctx.reader.bool();
  ctx.stderr.startWork();
  if (repair) requireTrusted(ctx, "repair paths");
  ctx.stderr.log("reading the store...", 2);
  const report = await ctx.daemon.gcLock.withShared(() =>
    verifyStore(ctx.daemon.store, { checkContents, repair }),
  );
  for (const path of report.missing)
    ctx.stderr.log(`error: path '${path}' disappeared, but it still has valid referrers!`, 0);
  for (const line of report.corrupted) ctx.stderr.log(`error: path ${line}`, 0);
  ctx.stderr.stopWork();
  ctx.out.frame.bool(!report.clean);
};

const optimiseStoreOperation: OperationHandler = async (ctx) => {
  ctx.stderr.startWork();
  const release = await ctx.daemon.gcLock.exclusive();
  try {
    const { filesLinked, bytesSaved } = await optimiseStore(ctx.daemon.store);
    ctx.stderr.log(
      `${(bytesSaved / 1048576).toFixed(2)} MiB freed by hard-linking ${filesLinked} files`,
      2,
    );
  } finally {
    release();
  }
  ctx.stderr.stopWork();
  ctx.out.frame.u64(1);
};

const addBuildLog: OperationHandler = async (ctx) => {
  // Nix's client sends the path's base name here (StorePath::to_string), not the full path.
  const sent = await ctx.reader.string();
  const drvPath = sent.startsWith("/") ? sent : `${ctx.daemon.store.config.storeDir}/${sent}`;
  ctx.stderr.startWork();
  const framed = readFramedStream(ctx.reader, { maxTotal: 1 << 30 });
  try {
    requireTrusted(ctx, "add logs");
    checkValidPath(ctx, drvPath);
    await storeBuildLog(ctx.daemon.store, drvPath, unclosable(framed));
  } finally {
    await drainFramedStream(framed);
  }
  ctx.stderr.stopWork();
  ctx.out.frame.u64(1);
};

const substituteUrls: OperationHandler = async (ctx) => {
  ctx.stderr.startWork();
  ctx.stderr.stopWork();
  ctx.out.frame.strings(ctx.daemon.options.substituteUrls);
};

const builtinBuilders: OperationHandler = async (ctx) => {
  ctx.stderr.startWork();
  ctx.stderr.stopWork();
  // Guix clients use builtin:git-download for git origins only when it is listed here.
  ctx.out.frame.strings([...BUILTIN_BUILDERS]);
};

export const maintenanceOperations: ReadonlyMap<number, OperationHandler> = new Map([
  [WorkerOp.AddTempRoot, addTempRoot],
  [WorkerOp.AddIndirectRoot, addIndirectRoot],
  [WorkerOp.SyncWithGC, syncWithGC],
  [WorkerOp.FindRoots, findRootsOperation],
  [WorkerOp.CollectGarbage, collectGarbageOperation],
  [WorkerOp.VerifyStore, verifyStoreOperation],
  [WorkerOp.OptimiseStore, optimiseStoreOperation],
  [WorkerOp.AddBuildLog, addBuildLog],
  [WorkerOp.SubstituteURLs, substituteUrls],
  [WorkerOp.BuiltinBuilders, builtinBuilders],
]);
