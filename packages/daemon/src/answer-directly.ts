/**
 * The hot path. A QueryPathInfo or IsValidPath request that arrives whole, alone, in
 * one socket chunk while its connection is idle is answered right in the socket's data
 * handler, without the general loop's chain of promises, which costs about as much as
 * the query itself (this is what clients do most, thousands of times per evaluation).
 * Anything else — other operations, split or batched frames, a path that is not in the
 * store — returns false and goes the general way, which also produces the errors.
 */
import { isStorePath } from "@kiln/formats/store-path";
import type { OperationContext } from "./operation-context.ts";
import { MAX_PATH_LENGTH } from "./wire-path-info.ts";
import { WorkerOp } from "./worker-protocol.ts";

/** Answers `chunk` if it is one complete fast-path request; returns whether it did. */
export function answerDirectly(chunk: Buffer, ctx: OperationContext): boolean {
  if (chunk.length < 24 || chunk.length > 16 + MAX_PATH_LENGTH + 8) return false;
  if (chunk.readUInt32LE(4) !== 0 || chunk.readUInt32LE(12) !== 0) return false;
  const op = chunk.readUInt32LE(0);
  if (op !== WorkerOp.QueryPathInfo && op !== WorkerOp.IsValidPath) return false;
  const length = chunk.readUInt32LE(8);
  if (16 + ((length + 7) & ~7) !== chunk.length) return false;
  for (let i = 16 + length; i < chunk.length; i++) if (chunk[i] !== 0) return false;
  const path = chunk.toString("utf8", 16, 16 + length);
  const { store, metrics, pathInfo } = ctx.daemon;
  if (!isStorePath(path, store.config.storeDir)) return false;
  const { format } = ctx.session;
  if (op === WorkerOp.IsValidPath) {
    metrics.operation("IsValidPath");
    const valid = pathInfo.isValid(path);
    ctx.stderr.startWork();
    ctx.stderr.stopWork();
    ctx.out.frame.bool(valid);
  } else {
    const info = pathInfo.encoded(path, format);
    if (info === undefined && format.minor < 17) return false; // an error: the general way
    metrics.operation("QueryPathInfo");
    ctx.stderr.startWork();
    ctx.stderr.stopWork();
    if (format.minor >= 17) ctx.out.frame.bool(info !== undefined);
    if (info !== undefined) ctx.out.frame.raw(info);
  }
  ctx.out.flush();
  return true;
}
