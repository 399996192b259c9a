/**
 * The read-only operations: validity, path info, references and referrers, derivers
 * and derivation outputs, lookups by hash part, and what substitute servers have.
 */

import { readFileSync } from "node:fs";
import { parseHash, toHex } from "@kiln/formats/hash";
import { parseDerivation } from "@kiln/formats/parse-derivation";
import { DaemonError } from "./daemon-error.ts";
import {
  checkStorePath,
  checkValidPath,
  readPath,
  readPaths,
  sortedPaths,
} from "./operation-args.ts";
import type { OperationContext, OperationHandler } from "./operation-context.ts";
import { writePathInfo } from "./wire-path-info.ts";
import { WorkerOp } from "./worker-protocol.ts";

/** A path-taking query answered with a list of paths. */
function pathListQuery(
  answer: (ctx: OperationContext, path: string) => Iterable<string>,
): OperationHandler {
  return async (ctx) => {
    const path = await readPath(ctx.reader);
    ctx.stderr.startWork();
    const result = sortedPaths(answer(ctx, checkStorePath(ctx, path)));
    ctx.stderr.stopWork();
    ctx.out.frame.strings(result);
  };
}

/** Output name → path of a valid derivation: as registered, or read from the file. */
export function derivationOutputMap(ctx: OperationContext, drvPath: string): Map<string, string> {
  checkValidPath(ctx, drvPath);
  const { store } = ctx.daemon;
  const registered = store.db.derivationOutputs(drvPath);
  if (registered.size > 0) return registered;
  const drv = parseDerivation(readFileSync(store.realPath(drvPath)));
  return new Map([...drv.outputs].map(([name, output]) => [name, output.path]));
}

async function substitutable(ctx: OperationContext, paths: readonly string[]) {
  const { substituter, useSubstitutes } = ctx.daemon.options;
  if (!substituter || !useSubstitutes || !ctx.session.settings.useSubstitutes || paths.length === 0)
    return new Map();
  return substituter.querySubstitutable(paths, {
    urls: ctx.session.settings.substituteUrls,
    signal: ctx.session.signal,
  });
}

const isValidPath: OperationHandler = async (ctx) => {
  const path = await readPath(ctx.reader);
  ctx.stderr.startWork();
  const valid = ctx.daemon.pathInfo.isValid(checkStorePath(ctx, path));
  ctx.stderr.stopWork();
  ctx.out.frame.bool(valid);
};

const queryValidPaths: OperationHandler = async (ctx) => {
  const paths = await readPaths(ctx.reader);
  const { format } = ctx.session;
  const substitute = format.dialect === "nix" && format.minor >= 27 && (await ctx.reader.bool());
  ctx.stderr.startWork();
  for (const path of paths) checkStorePath(ctx, path);
  const { store, options } = ctx.daemon;
  const missing = paths.filter((path) => !store.db.isValidPath(path));
  if (substitute && missing.length > 0 && options.substituter && options.useSubstitutes) {
    await ctx.daemon.gcLock.withShared(() =>
      options.substituter!.substitute(missing, {
        urls: ctx.session.settings.substituteUrls,
        signal: ctx.session.signal,
        log: (line) => ctx.stderr.log(line),
      }),
    );
  }
  const valid = sortedPaths(paths.filter((path) => store.db.isValidPath(path)));
  ctx.stderr.stopWork();
  ctx.out.frame.strings(valid);
};

const queryPathInfo: OperationHandler = async (ctx) => {
  const path = await readPath(ctx.reader);
  ctx.stderr.startWork();
  checkStorePath(ctx, path);
  const info = ctx.daemon.pathInfo.get(path);
  const { format } = ctx.session;
  if (info === undefined && format.minor < 17) {
    throw new DaemonError("INVALID_PATH", `path '${path}' is not valid`);
  }
  ctx.stderr.stopWork();
  if (format.minor >= 17) ctx.out.frame.bool(info !== undefined);
  if (info !== undefined) writePathInfo(ctx.out.frame, info, format);
};

const queryPathHash: OperationHandler = async (ctx) => {
  const path = await readPath(ctx.reader);
  ctx.stderr.startWork();
  checkValidPath(ctx, path);
  const info = ctx.daemon.store.requirePathInfo(path);
  ctx.stderr.stopWork();
  ctx.out.frame.string(toHex(parseHash(info.narHash, "sha256").digest));
};

const queryDeriver: OperationHandler = async (ctx) => {
  const path = await readPath(ctx.reader);
  ctx.stderr.startWork();
  checkValidPath(ctx, path);
  const info = ctx.daemon.store.requirePathInfo(path);
  ctx.stderr.stopWork();
  ctx.out.frame.string(info.deriver ?? "");
};

const queryPathFromHashPart: OperationHandler = async (ctx) => {
  const hashPart = await ctx.reader.string(64);
  ctx.stderr.startWork();
  const { store } = ctx.daemon;
  const found =
    /^[0-9a-z]{32}$/.test(hashPart) &&
    store.db.queryPathFromHashPart(store.config.storeDir, hashPart);
  ctx.stderr.stopWork();
  ctx.out.frame.string(found || "");
};

const queryAllValidPaths: OperationHandler = async (ctx) => {
  ctx.stderr.startWork();
  const paths = ctx.daemon.store.db.allValidPaths();
  ctx.stderr.stopWork();
  ctx.out.frame.strings(paths);
};

const queryDerivationOutputMap: OperationHandler = async (ctx) => {
  const drvPath = await readPath(ctx.reader);
  ctx.stderr.startWork();
  const outputs = [...derivationOutputMap(ctx, drvPath)].sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  ctx.stderr.stopWork();
  ctx.out.frame.u64(outputs.length);
  for (const [name, path] of outputs) ctx.out.frame.string(name).string(path);
};

const queryDerivationOutputNames: OperationHandler = async (ctx) => {
  const drvPath = await readPath(ctx.reader);
  ctx.stderr.startWork();
  const names = [...derivationOutputMap(ctx, drvPath).keys()].sort();
  ctx.stderr.stopWork();
  ctx.out.frame.strings(names);
};

const querySubstitutablePaths: OperationHandler = async (ctx) => {
  const paths = await readPaths(ctx.reader);
  ctx.stderr.startWork();
  for (const path of paths) checkStorePath(ctx, path);
  const found = await substitutable(ctx, paths);
  ctx.stderr.stopWork();
  ctx.out.frame.strings(sortedPaths(found.keys()));
};

const hasSubstitutes: OperationHandler = async (ctx) => {
  const path = await readPath(ctx.reader);
  ctx.stderr.startWork();
  const found = await substitutable(ctx, [checkStorePath(ctx, path)]);
  ctx.stderr.stopWork();
  ctx.out.frame.bool(found.has(path));
};

const querySubstitutablePathInfo: OperationHandler = async (ctx) => {
  const path = await readPath(ctx.reader);
  ctx.stderr.startWork();
  const info = (await substitutable(ctx, [checkStorePath(ctx, path)])).get(path);
  ctx.stderr.stopWork();
  if (info === undefined) {
    ctx.out.frame.u64(0);
    return;
  }
  ctx.out.frame
    .u64(1)
    .string(info.deriver ?? "")
    .strings(info.references)
    .u64(info.downloadSize)
    .u64(info.narSize);
};

const querySubstitutablePathInfos: OperationHandler = async (ctx) => {
  const { format } = ctx.session;
  const paths: string[] = [];
  if (format.dialect === "guix" || format.minor < 22) {
    paths.push(...(await readPaths(ctx.reader)));
  } else {
    for (let n = await ctx.reader.u64(); n > 0; n--) {
      paths.push(await readPath(ctx.reader));
      await ctx.reader.string(1024); // content address, unused
    }
  }
  ctx.stderr.startWork();
  for (const path of paths) checkStorePath(ctx, path);
  const found = [...(await substitutable(ctx, paths))].sort(([a], [b]) => (a < b ? -1 : 1));
  ctx.stderr.stopWork();
  ctx.out.frame.u64(found.length);
  for (const [path, info] of found) {
    ctx.out.frame
      .string(path)
      .string(info.deriver ?? "")
      .strings(info.references)
      .u64(info.downloadSize)
      .u64(info.narSize);
  }
};

const queryFailedPaths: OperationHandler = async (ctx) => {
  ctx.stderr.startWork();
  const paths = ctx.daemon.store.db.failedPaths();
  ctx.stderr.stopWork();
  ctx.out.frame.strings(paths);
};

const clearFailedPaths: OperationHandler = async (ctx) => {
  const paths = await readPaths(ctx.reader);
  ctx.stderr.startWork();
  ctx.daemon.store.db.clearFailedPaths(paths);
  ctx.stderr.stopWork();
  ctx.out.frame.u64(1);
};

const queryRealisation: OperationHandler = async (ctx) => {
  await ctx.reader.string(1024); // DrvOutput id
  ctx.stderr.startWork();
  // Realisations exist for content-addressed derivations only, which Kiln does not build.
  ctx.stderr.stopWork();
  ctx.out.frame.u64(0);
};

export const queryOperations: ReadonlyMap<number, OperationHandler> = new Map([
  [WorkerOp.IsValidPath, isValidPath],
  [WorkerOp.QueryValidPaths, queryValidPaths],
  [WorkerOp.QueryPathInfo, queryPathInfo],
  [WorkerOp.QueryPathHash, queryPathHash],
  [
    WorkerOp.QueryReferences,
    pathListQuery((ctx, path) => ctx.daemon.store.requirePathInfo(path).references),
  ],
  [WorkerOp.QueryReferrers, pathListQuery((ctx, path) => ctx.daemon.store.db.referrers(path))],
  [
    WorkerOp.QueryValidDerivers,
    pathListQuery((ctx, path) => ctx.daemon.store.db.validDerivers(path)),
  ],
  [
    WorkerOp.QueryDerivationOutputs,
    pathListQuery((ctx, path) => derivationOutputMap(ctx, path).values()),
  ],
  [WorkerOp.QueryDerivationOutputNames, queryDerivationOutputNames],
  [WorkerOp.QueryDerivationOutputMap, queryDerivationOutputMap],
  [WorkerOp.QueryDeriver, queryDeriver],
  [WorkerOp.QueryPathFromHashPart, queryPathFromHashPart],
  [WorkerOp.QueryAllValidPaths, queryAllValidPaths],
  [WorkerOp.QuerySubstitutablePaths, querySubstitutablePaths],
  [WorkerOp.HasSubstitutes, hasSubstitutes],
  [WorkerOp.QuerySubstitutablePathInfo, querySubstitutablePathInfo],
  [WorkerOp.QuerySubstitutablePathInfos, querySubstitutablePathInfos],
  [WorkerOp.QueryFailedPaths, queryFailedPaths],
  [WorkerOp.ClearFailedPaths, clearFailedPaths],
  [WorkerOp.QueryRealisation, queryRealisation],
]);
