/**
 * Operations that put data into the store: AddToStore (the framed form of 1.25+ with a
 * content-address method string, and the old form with the NAR after the arguments,
 * which Guix uses), AddTextToStore, AddToStoreNar, AddMultipleToStore, ImportPaths, and
 * AddSignatures.
 *
 * Trust: anyone may add content-addressed data, since its path proves what it holds.
 * A path that is not content-addressed needs a trusted client, or a signature by one of
 * the daemon's trusted keys; a trusted client that asks for signature checks gets them
 * too, as with Nix's require-sigs.
 */
import { formatHashNix32, parseHash, parseHashAlgorithm } from "@kiln/formats/hash";
import { parseNar } from "@kiln/formats/nar-reader";
import { narinfoFingerprint } from "@kiln/formats/narinfo-fingerprint";
import { verifyNix } from "@kiln/formats/nix-signature";
import { readNarFrames } from "@kiln/formats/read-nar-frames";
import { FrameReader } from "@kiln/formats/worker-protocol-framing";
import { importPaths } from "@kiln/store/import-paths";
import { DaemonError } from "./daemon-error.ts";
import { drainFramedStream, readFramedStream, unclosable } from "./framed-stream.ts";
import {
  checkStorePath,
  checkValidPath,
  readPath,
  readPaths,
  requireTrusted,
  whileRooting,
} from "./operation-args.ts";
import type { OperationContext, OperationHandler } from "./operation-context.ts";
import {
  type DumpSpec,
  type IncomingNar,
  ingestDump,
  ingestNar,
  isContentAddressed,
} from "./store-ingest.ts";
import { readPathInfo, writePathInfo } from "./wire-path-info.ts";
import { WorkerOp } from "./worker-protocol.ts";

/** Parses AddToStore's method string: `text:sha256`, `fixed:r:sha256`, `fixed:sha1`, … */
function parseDumpMethod(text: string): Pick<DumpSpec, "method" | "algorithm"> {
  if (text.startsWith("text:"))
    return { method: "text", algorithm: parseHashAlgorithm(text.slice(5)) };
  if (text.startsWith("fixed:r:")) {
    return { method: "recursive", algorithm: parseHashAlgorithm(text.slice(8)) };
  }
  if (text.startsWith("fixed:"))
    return { method: "flat", algorithm: parseHashAlgorithm(text.slice(6)) };
  throw new DaemonError("UNSUPPORTED", `unsupported content-address method '${text}'`);
}

/** The contents of the single regular file a NAR holds (the old AddToStore, flat). */
async function* regularFileContents(nar: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let seen = false;
  for await (const event of parseNar(nar)) {
    if (event.type !== "regular" || event.path !== "" || seen) {
      throw new DaemonError("NOT_REGULAR", "flat hashing needs a single regular file");
    }
    seen = true;
    yield* event.contents;
  }
}

const addToStore: OperationHandler = async (ctx) => {
  const { reader, session, daemon } = ctx;
  if (session.format.dialect === "nix" && session.format.minor >= 25) {
    const name = await reader.string(4096);
    const methodText = await reader.string(256);
    const references = await readPaths(reader);
    await reader.bool(); // repair: content-addressed data is checked anyway
    ctx.stderr.startWork();
    const framed = readFramedStream(reader);
    let path: string;
    try {
      const spec = { name, references, ...parseDumpMethod(methodText) };
      for (const reference of references) checkStorePath(ctx, reference);
      path = await whileRooting(
        ctx,
        () => ingestDump(daemon.store, unclosable(framed), spec),
        (added) => [added],
      );
    } catch (error) {
      await drainFramedStream(framed);
      throw error;
    }
    const info = daemon.store.requirePathInfo(path);
    ctx.stderr.stopWork();
    writePathInfo(ctx.out.frame, info, session.format, { includePath: true });
    return;
  }
  // The old form: the NAR follows the arguments, whatever the method.
  const name = await reader.string(4096);
  const fixed = await reader.bool();
  const recursive = (await reader.u64()) !== 0;
  const algorithmText = await reader.string(64);
  const spec: DumpSpec = fixed
    ? {
        name,
        references: [],
        method: recursive ? "recursive" : "flat",
        algorithm: parseHashAlgorithm(algorithmText),
      }
    : { name, references: [], method: "recursive", algorithm: "sha256" };
  const nar = readNarFrames(reader);
  let path: string;
  try {
    const dump = spec.method === "flat" ? regularFileContents(unclosable(nar)) : unclosable(nar);
    path = await whileRooting(
      ctx,
      () => ingestDump(daemon.store, dump, spec),
      (added) => [added],
    );
  } catch (error) {
    // A NAR we could not follow leaves the stream out of step: that ends the connection.
    await drainFramedStream(nar);
    ctx.stderr.startWork();
    throw error;
  }
  ctx.stderr.startWork();
  ctx.stderr.stopWork();
  ctx.out.frame.string(path);
};

const addTextToStore: OperationHandler = async (ctx) => {
  const name = await ctx.reader.string(4096);
  const text = await ctx.reader.byteString();
  const references = await readPaths(ctx.reader);
  ctx.stderr.startWork();
  for (const reference of references) checkStorePath(ctx, reference);
  const { store } = ctx.daemon;
  const path = await whileRooting(
    ctx,
    () => store.addTextToStore(name, text, references),
    (added) => [added],
  );
  ctx.stderr.stopWork();
  ctx.out.frame.string(path);
};

/** Whether this client may add `info` without further checks; the reason when not. */
function refusal(ctx: OperationContext, info: IncomingNar, checkSigs: boolean): string | undefined {
  const { store, options } = ctx.daemon;
  if (ctx.session.trusted && (!checkSigs || !options.requireSignatures)) return undefined;
  if (isContentAddressed(store, info)) return undefined;
  if (hasValidSignature(ctx, info)) return undefined;
  return `cannot add path '${info.path}' because it lacks a valid signature`;
}

function hasValidSignature(ctx: OperationContext, info: IncomingNar): boolean {
  const keys = ctx.daemon.options.trustedPublicKeys;
  if (keys.length === 0 || (info.sigs ?? []).length === 0 || !info.narSize) return false;
  let fingerprint: string;
  try {
    fingerprint = narinfoFingerprint({
      storePath: info.path,
      narHash: parseHash(info.narHash),
      narSize: info.narSize,
      references: info.references,
    });
  } catch {
    return false;
  }
  return (info.sigs ?? []).some((sig) => verifyNix(keys, fingerprint, sig).valid);
}

/** Adds one NAR of a known path, or refuses it (having read it to its end either way). */
async function addNar(
  ctx: OperationContext,
  info: IncomingNar,
  nar: AsyncIterator<Uint8Array>,
  checkSigs: boolean,
): Promise<void> {
  const refused = refusal(ctx, info, checkSigs);
  try {
    checkStorePath(ctx, info.path);
    if (refused !== undefined) throw new DaemonError("NOT_TRUSTED", refused);
    const incoming = ctx.session.trusted ? info : { ...info, ultimate: false };
    await whileRooting(
      ctx,
      () => ingestNar(ctx.daemon.store, unclosable(nar), incoming),
      () => [info.path],
    );
  } catch (error) {
    await drainFramedStream(nar);
    throw error;
  }
}

/** The client's source, pulled through the stderr channel (STDERR_READ), protocol 1.21–1.22. */
async function* tunnelledSource(ctx: OperationContext): AsyncGenerator<Uint8Array> {
  for (;;) {
    const chunk = await ctx.stderr.read(65536);
    if (chunk.length === 0) return;
    yield chunk;
  }
}

const addToStoreNar: OperationHandler = async (ctx) => {
  const { reader, session } = ctx;
  const path = await readPath(reader);
  const deriver = await readPath(reader);
  const narHashText = await reader.string(256);
  const references = await readPaths(reader);
  const registrationTime = await reader.u64();
  const narSize = await reader.u64();
  const ultimate = await reader.bool();
  const sigs = await readPaths(reader);
  const ca = await reader.string(1024);
  await reader.bool(); // repair
  const dontCheckSigs = await reader.bool();
  const info: IncomingNar = {
    path,
    narHash: formatHashNix32(parseHash(narHashText, "sha256")),
    narSize,
    references,
    registrationTime: registrationTime === 0 ? undefined : registrationTime,
    ultimate,
    sigs,
    ...(deriver === "" ? {} : { deriver }),
    ...(ca === "" ? {} : { ca }),
  };
  const checkSigs = !(session.trusted && dontCheckSigs);
  const { minor } = session.format;
  if (minor >= 23) {
    ctx.stderr.startWork();
    await addNar(ctx, info, readFramedStream(reader), checkSigs);
  } else if (minor >= 21) {
    ctx.stderr.startWork();
    await addNar(ctx, info, tunnelledSource(ctx), checkSigs);
  } else {
    const nar = readNarFrames(reader);
    try {
      await addNar(ctx, info, nar, checkSigs);
    } finally {
      ctx.stderr.startWork();
    }
  }
  ctx.stderr.stopWork();
};

const addMultipleToStore: OperationHandler = async (ctx) => {
  const { reader, session } = ctx;
  await reader.bool(); // repair
  const dontCheckSigs = await reader.bool();
  const checkSigs = !(session.trusted && dontCheckSigs);
  ctx.stderr.startWork();
  const framed = readFramedStream(reader);
  const inner = new FrameReader({ maxStringLength: 1 << 20 });
  const pump = (async () => {
    try {
      for await (const chunk of unclosable(framed)) {
        inner.push(chunk);
        await inner.drained(4 << 20);
      }
      inner.end();
    } catch (error) {
      inner.end(error as Error);
    }
  })();
  try {
    const count = await inner.u64();
    for (let i = 0; i < count; i++) {
      const info = await readPathInfo(inner, { minor: 16, dialect: "nix" });
      await addNar(ctx, { ...info, ultimate: false }, readNarFrames(inner), checkSigs);
    }
  } finally {
    inner.end();
    await pump;
    await drainFramedStream(framed);
  }
  ctx.stderr.stopWork();
};

const importPathsOperation: OperationHandler = async (ctx) => {
  ctx.stderr.startWork();
  requireTrusted(ctx, "import unsigned archives");
  const { store } = ctx.daemon;
  const paths = await whileRooting(
    ctx,
    () => importPaths(store, tunnelledSource(ctx)),
    (added) => added,
  );
  ctx.stderr.stopWork();
  ctx.out.frame.strings(paths);
};

const addSignatures: OperationHandler = async (ctx) => {
  const path = await readPath(ctx.reader);
  const sigs = await readPaths(ctx.reader);
  ctx.stderr.startWork();
  requireTrusted(ctx, "add signatures");
  checkValidPath(ctx, path);
  ctx.daemon.store.db.addSignatures(path, sigs);
  ctx.stderr.stopWork();
  ctx.out.frame.u64(1);
};

export const addOperations: ReadonlyMap<number, OperationHandler> = new Map([
  [WorkerOp.AddToStore, addToStore],
  [WorkerOp.AddTextToStore, addTextToStore],
  [WorkerOp.AddToStoreNar, addToStoreNar],
  [WorkerOp.AddMultipleToStore, addMultipleToStore],
  [WorkerOp.ImportPaths, importPathsOperation],
  [WorkerOp.AddSignatures, addSignatures],
]);
