/**
 * One client connection, start to end: the handshake (magic numbers, version
 * negotiation, the obsolete CPU-affinity and reserve-space fields, the daemon's version
 * from 1.33), then operations one after another until the client hangs up.
 *
 * Input is read through a FrameReader with limits, so garbage, absurd lengths and
 * truncated frames end in a protocol error: the client gets an error message (when the
 * handshake got that far) and is disconnected, and nothing else is affected. An unknown
 * operation is answered the same way, never with silence.
 */
import type { Socket } from "node:net";
import { FormatError } from "@kiln/formats/kiln-error";
import { FrameReader } from "@kiln/formats/worker-protocol-framing";
import { addOperations } from "./add-operations.ts";
import { answerDirectly } from "./answer-directly.ts";
import { buildOperations } from "./build-operations.ts";
import {
  applyClientOptions,
  DEFAULT_CLIENT_SETTINGS,
  readClientOptions,
} from "./client-settings.ts";
import { ConnectionOutput } from "./connection-output.ts";
import { DaemonError } from "./daemon-error.ts";
import { exportOperations } from "./export-operations.ts";
import { maintenanceOperations } from "./maintenance-operations.ts";
import type {
  ClientSession,
  DaemonContext,
  OperationContext,
  OperationHandler,
} from "./operation-context.ts";
import { queryOperations } from "./query-operations.ts";
import { StderrChannel } from "./stderr-channel.ts";
import { writeWireError } from "./wire-error.ts";
import type { WireFormat } from "./wire-format.ts";
import {
  GUIX_MINOR_FLOOR,
  MINIMUM_CLIENT_VERSION,
  PROTOCOL_VERSION,
  protocolMajor,
  protocolMinor,
  WORKER_MAGIC_1,
  WORKER_MAGIC_2,
  WORKER_OP_NAMES,
  WorkerOp,
} from "./worker-protocol.ts";

/** Socket input buffered beyond this pauses the socket until the handlers catch up. */
const HIGH_WATER = 8 << 20;
const LOW_WATER = 1 << 20;

const setOptions: OperationHandler = async (ctx) => {
  const options = await readClientOptions(ctx.reader, ctx.session.format);
  ctx.stderr.startWork();
  const { settings, warnings } = applyClientOptions(options, { trusted: ctx.session.trusted });
  ctx.session.settings = settings;
  ctx.stderr.verbosity = settings.verbosity;
  for (const warning of warnings) ctx.stderr.warn(warning);
  ctx.stderr.stopWork();
};

const OPERATIONS: ReadonlyMap<number, OperationHandler> = new Map([
  [WorkerOp.SetOptions, setOptions],
  ...queryOperations,
  ...addOperations,
  ...buildOperations,
  ...exportOperations,
  ...maintenanceOperations,
]);

let connections = 0;

/**
 * Feeds the reader from the socket, pausing the socket while too much is buffered. While
 * the connection waits for its next operation, `direct` may answer a chunk itself.
 */
function pump(socket: Socket, reader: FrameReader, direct: (chunk: Buffer) => boolean): void {
  socket.on("data", (chunk: Buffer) => {
    if (reader.buffered === 0 && direct(chunk)) return;
    reader.push(chunk);
    if (reader.buffered > HIGH_WATER && !socket.isPaused()) {
      socket.pause();
      reader.drained(LOW_WATER).then(() => socket.resume());
    }
  });
  socket.on("end", () => reader.end());
  socket.on("close", () => reader.end());
  socket.on("error", () => reader.end());
}

/**
 * Serves `socket` until the client disconnects or breaks the protocol. Resolves when
 * the connection is over; never rejects.
 */
export async function serveConnection(
  socket: Socket,
  daemon: DaemonContext,
  options: { trusted: boolean },
): Promise<void> {
  const id = ++connections;
  const reader = new FrameReader();
  const out = new ConnectionOutput(socket);
  const closed = new AbortController();
  socket.once("close", () => closed.abort());
  let idle: OperationContext | undefined;
  pump(socket, reader, (chunk) => {
    if (idle === undefined || !answerDirectly(chunk, idle)) return false;
    daemon.busyPoll.answered();
    return true;
  });
  const log = daemon.logger;
  daemon.metrics.connections.inc();
  let session: ClientSession | undefined;
  let stderr: StderrChannel | undefined;
  try {
    const format = await handshake(reader, out, daemon);
    if (format === undefined) return;
    session = {
      id,
      trusted: options.trusted,
      format,
      settings: DEFAULT_CLIENT_SETTINGS,
      tempRoots: daemon.tempRoots.open(),
      signal: closed.signal,
    };
    stderr = new StderrChannel(out, reader, format);
    log.debug(
      { connection: id, trusted: options.trusted, minor: format.minor, dialect: format.dialect },
      "client connected",
    );
    stderr.startWork();
    stderr.stopWork();
    out.flush();
    const ctx: OperationContext = { reader, out, stderr, session, daemon };
    for (;;) {
      let op: number;
      try {
        idle = ctx;
        op = await reader.u64();
      } catch {
        return; // the client hung up between operations
      } finally {
        idle = undefined;
      }
      const handler = OPERATIONS.get(op);
      const name = WORKER_OP_NAMES.get(op) ?? String(op);
      if (handler === undefined) {
        daemon.metrics.protocolErrors.inc();
        stderr.stopWorkWithError(`invalid operation ${op}`);
        log.warn({ connection: id, op }, "unknown operation");
        return;
      }
      daemon.metrics.operation(name);
      try {
        await handler(ctx);
      } catch (error) {
        daemon.metrics.failures.inc({ op: name });
        const working = stderr.working;
        const message = error instanceof Error ? error.message : String(error);
        stderr.stopWorkWithError(message, error instanceof DaemonError ? error.status : 1);
        if (!working || out.closed) {
          daemon.metrics.protocolErrors.inc();
          log.warn(
            { connection: id, op: WORKER_OP_NAMES.get(op) ?? op, error: message },
            "protocol error",
          );
          return;
        }
        log.debug(
          { connection: id, op: WORKER_OP_NAMES.get(op) ?? op, error: message },
          "operation failed",
        );
      }
      out.flush();
      daemon.busyPoll.answered();
    }
  } catch (error) {
    // The handshake or the framing broke: tell the client if we can, then drop it.
    const message = error instanceof Error ? error.message : String(error);
    if (stderr !== undefined) stderr.stopWorkWithError(message);
    daemon.metrics.protocolErrors.inc();
    log.warn({ connection: id, error: message }, "protocol error");
  } finally {
    out.end();
    reader.end();
    if (session !== undefined) session.tempRoots.close();
    closed.abort();
    daemon.metrics.connections.dec();
    log.debug({ connection: id }, "client disconnected");
  }
}

async function handshake(
  reader: FrameReader,
  out: ConnectionOutput,
  daemon: DaemonContext,
): Promise<WireFormat | undefined> {
  const magic = await reader.u64Big();
  if (magic !== BigInt(WORKER_MAGIC_1)) {
    throw new FormatError(
      "worker protocol",
      "protocol mismatch: the client did not greet as a Nix/Guix client",
    );
  }
  out.frame.u64(WORKER_MAGIC_2).u64(PROTOCOL_VERSION);
  out.flush();
  const clientVersion = await reader.u64();
  if (
    protocolMajor(clientVersion) !== protocolMajor(PROTOCOL_VERSION) ||
    clientVersion < MINIMUM_CLIENT_VERSION
  ) {
    writeWireError(out.frame, "the Nix client version is too old", { minor: 0, dialect: "nix" });
    throw new DaemonError(
      "PROTOCOL",
      `unsupported client protocol version ${clientVersion.toString(16)}`,
    );
  }
  const clientMinor = protocolMinor(clientVersion);
  const format: WireFormat = {
    minor: Math.min(clientMinor, protocolMinor(PROTOCOL_VERSION)),
    dialect: clientMinor >= GUIX_MINOR_FLOOR ? "guix" : "nix",
  };
  if (format.minor >= 14 && (await reader.u64Big()) !== 0n) await reader.u64Big(); // CPU affinity
  if (format.minor >= 11) await reader.u64Big(); // reserve space
  if (format.minor >= 33 && format.dialect === "nix") out.frame.string(daemon.options.nixVersion);
  return format;
}
