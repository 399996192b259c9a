/**
 * Operations that send store contents to the client: NarFromPath (the NAR right after
 * STDERR_LAST) and ExportPath (one item of an export archive through STDERR_WRITE, as
 * `guix archive --export` asks for it, signed when the client asks and the daemon has a
 * key).
 */
import { createHash } from "node:crypto";
import { EXPORT_MAGIC } from "@kiln/formats/export-archive";
import { dumpPath } from "@kiln/formats/nar-writer";
import { FrameWriter } from "@kiln/formats/worker-protocol-framing";
import { DaemonError } from "./daemon-error.ts";
import { checkValidPath, readPath } from "./operation-args.ts";
import type { OperationHandler } from "./operation-context.ts";
import { WorkerOp } from "./worker-protocol.ts";

const narFromPath: OperationHandler = async (ctx) => {
  const path = await readPath(ctx.reader);
  ctx.stderr.startWork();
  checkValidPath(ctx, path);
  ctx.session.tempRoots.add(path);
  ctx.stderr.stopWork();
  for await (const chunk of dumpPath(ctx.daemon.store.realPath(path))) {
    await ctx.out.writeRaw(chunk);
  }
};

const exportPath: OperationHandler = async (ctx) => {
  const path = await readPath(ctx.reader);
  const sign = await ctx.reader.bool();
  ctx.stderr.startWork();
  checkValidPath(ctx, path);
  const { signArchive } = ctx.daemon.options;
  if (sign && signArchive === undefined) {
    throw new DaemonError(
      "NO_SIGNING_KEY",
      "cannot sign the export: the daemon has no signing key",
      {
        hint: "export without signing, or give the daemon a key",
      },
    );
  }
  const store = ctx.daemon.store;
  const info = store.requirePathInfo(path);
  const digest = createHash("sha256");
  for await (const chunk of dumpPath(store.realPath(path))) {
    digest.update(chunk);
    await ctx.stderr.write(chunk);
  }
  const trailer = new FrameWriter()
    .u64(EXPORT_MAGIC)
    .string(path)
    .strings(info.references)
    .string(info.deriver ?? "")
    .take();
  digest.update(trailer);
  const end = new FrameWriter();
  if (sign && signArchive !== undefined)
    end.u64(1).string(signArchive(new Uint8Array(digest.digest())));
  else end.u64(0);
  await ctx.stderr.write(Buffer.concat([trailer, end.take()]));
  ctx.stderr.stopWork();
  ctx.out.frame.u64(1);
};

export const exportOperations: ReadonlyMap<number, OperationHandler> = new Map([
  [WorkerOp.NarFromPath, narFromPath],
  [WorkerOp.ExportPath, exportPath],
]);
