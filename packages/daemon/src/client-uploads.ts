/**
 * The client's bulk transfers, on a ClientConnection: content to be added (AddToStore in
 * the framed form of 1.25+, or the old form with a NAR after the arguments), NARs of
 * known paths (AddToStoreNar, AddMultipleToStore), and NARs coming back (NarFromPath).
 * Uploads are framed and written with backpressure; nothing is held whole in memory
 * except a flat file for the old AddToStore, which must be wrapped in a NAR.
 */
import type { HashAlgorithm } from "@kiln/formats/hash";
import { parseHash, toHex } from "@kiln/formats/hash";
import { readNarFrames } from "@kiln/formats/read-nar-frames";
import { FrameWriter } from "@kiln/formats/worker-protocol-framing";
import type { PathInfo } from "@kiln/store/path-info";
import type { ClientConnection } from "./client-connection.ts";
import { DaemonError } from "./daemon-error.ts";
import { frameChunks } from "./framed-stream.ts";
import { readPathInfo, writePathInfo } from "./wire-path-info.ts";
import { WorkerOp } from "./worker-protocol.ts";

type Chunks = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** A path's info and NAR, for AddToStoreNar / AddMultipleToStore. */
export interface NarUpload {
  readonly info: Omit<PathInfo, "registrationTime" | "ultimate" | "sigs"> &
    Partial<Pick<PathInfo, "registrationTime" | "ultimate" | "sigs">>;
  readonly nar: Chunks;
}

/**
 * Sends content to be added under a content address. Resolves with the new path's info
 * (1.25+) or, from older and Guix daemons, only its path.
 */
export function sendDump(
  c: ClientConnection,
  dump: () => Chunks,
  options: {
    name: string;
    method: "recursive" | "flat" | "text";
    algorithm: HashAlgorithm;
    references: readonly string[];
  },
): Promise<PathInfo | string> {
  const { name, method, algorithm, references } = options;
  if (c.format.dialect === "nix" && c.format.minor >= 25) {
    const cam =
      method === "text"
        ? `text:${algorithm}`
        : method === "flat"
          ? `fixed:${algorithm}`
          : `fixed:r:${algorithm}`;
    return c.run(async () => {
      c.frame.u64(WorkerOp.AddToStore).string(name).string(cam).strings(references).bool(false);
      await c.send(c.frame);
      // The daemon reads all the data before it answers: send it all, then read.
      for await (const chunk of frameChunks(dump())) await c.sendRaw(chunk);
      await c.stderr();
      return readPathInfo(c.reader, c.format);
    });
  }
  if (method === "text" || references.length > 0) {
    throw new DaemonError(
      "UNSUPPORTED",
      "this daemon cannot add text or references through AddToStore",
    );
  }
  return c.run(async () => {
    c.frame
      .u64(WorkerOp.AddToStore)
      .string(name)
      .bool(!(method === "recursive" && algorithm === "sha256"))
      .u64(method === "recursive" ? 1 : 0)
      .string(algorithm);
    await c.send(c.frame);
    // The old form always sends a NAR, even of a single flat file.
    for await (const chunk of method === "recursive" ? dump() : flatFileNar(dump())) {
      await c.sendRaw(chunk);
    }
    await c.stderr();
    return c.reader.string();
  });
}

/** AddToStoreNar (protocol 1.23+, framed). */
export function sendNar(
  c: ClientConnection,
  upload: NarUpload,
  options: { dontCheckSigs?: boolean },
): Promise<void> {
  const { info } = upload;
  if (c.format.minor < 23) {
    throw new DaemonError("UNSUPPORTED", "the daemon is too old for AddToStoreNar");
  }
  return c.run(async () => {
    c.frame
      .u64(WorkerOp.AddToStoreNar)
      .string(info.path)
      .string(info.deriver ?? "")
      .string(toHex(parseHash(info.narHash, "sha256").digest))
      .strings(info.references)
      .u64(info.registrationTime ?? 0)
      .u64(info.narSize)
      .bool(info.ultimate ?? false)
      .strings(info.sigs ?? [])
      .string(info.ca ?? "")
      .bool(false)
      .bool(options.dontCheckSigs ?? false);
    await c.send(c.frame);
    for await (const chunk of frameChunks(upload.nar)) await c.sendRaw(chunk);
    await c.stderr();
  });
}

/** AddMultipleToStore (protocol 1.32+): a count, then each path's info and NAR, framed. */
export function sendNars(
  c: ClientConnection,
  uploads: readonly NarUpload[],
  options: { dontCheckSigs?: boolean },
): Promise<void> {
  return c.run(async () => {
    c.frame
      .u64(WorkerOp.AddMultipleToStore)
      .bool(false)
      .bool(options.dontCheckSigs ?? false);
    await c.send(c.frame);
    async function* payload() {
      const header = new FrameWriter();
      yield header.u64(uploads.length).take();
      for (const upload of uploads) {
        writePathInfo(
          header,
          { registrationTime: 0, ultimate: false, sigs: [], ...upload.info },
          { minor: 16, dialect: "nix" },
          { includePath: true },
        );
        yield header.take();
        yield* upload.nar;
      }
    }
    for await (const chunk of frameChunks(payload())) await c.sendRaw(chunk);
    await c.stderr();
  });
}

/** NarFromPath: the NAR follows STDERR_LAST; the connection is held until it is read. */
export function receiveNar(c: ClientConnection, path: string): AsyncIterable<Uint8Array> {
  let release!: () => void;
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  const started = c.run(async () => {
    c.frame.u64(WorkerOp.NarFromPath).string(path);
    await c.send(c.frame);
    await c.stderr();
  });
  c.run(() => done);
  return (async function* () {
    let complete = false;
    try {
      await started;
      yield* readNarFrames(c.reader);
      complete = true;
    } finally {
      if (!complete) c.close();
      release();
    }
  })();
}

/** The NAR of a single regular file whose bytes `contents` yields. */
async function* flatFileNar(contents: Chunks): AsyncGenerator<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of contents) parts.push(chunk);
  yield new FrameWriter()
    .string("nix-archive-1")
    .string("(")
    .string("type")
    .string("regular")
    .string("contents")
    .string(Buffer.concat(parts))
    .string(")")
    .take();
}
