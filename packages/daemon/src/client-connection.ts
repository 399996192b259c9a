/**
 * The client side of one daemon connection: opening the socket (a unix socket path, or
 * TCP `host:port`), the handshake, writing with backpressure, reading through a
 * FrameReader with limits, and running one operation at a time (the protocol has no
 * request ids: replies come in order).
 */
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { FrameReader, FrameWriter } from "@kiln/formats/worker-protocol-framing";
import { type DaemonEvent, processStderr } from "./client-stderr.ts";
import { DaemonError } from "./daemon-error.ts";
import { socketDrained } from "./socket-drain.ts";
import type { WireFormat } from "./wire-format.ts";
import {
  GUIX_MINOR_FLOOR,
  PROTOCOL_VERSION,
  protocolMajor,
  protocolMinor,
  WORKER_MAGIC_1,
  WORKER_MAGIC_2,
} from "./worker-protocol.ts";

const HIGH_WATER = 8 << 20;
const LOW_WATER = 1 << 20;

/** Where a daemon listens: a unix socket path (or `unix://…`), or TCP `host:port` (or `guix://host:port`). */
export type DaemonAddress =
  | string
  | { readonly path: string }
  | { readonly host: string; readonly port: number };

function openSocket(address: DaemonAddress): Socket {
  if (typeof address !== "string") {
    return "path" in address ? connect(address.path) : connect(address.port, address.host);
  }
  if (address.startsWith("/")) return connect(address);
  if (address.startsWith("unix://")) return connect(address.slice("unix://".length).split("?")[0]);
  const text = address.replace(/^guix:\/\//, "");
  const match = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(text);
  if (!match) throw new DaemonError("CONNECT", `cannot parse daemon address ${address}`);
  return connect(Number(match[2] ?? 44146), match[1]);
}

export class ClientConnection {
  readonly reader = new FrameReader();
  readonly frame = new FrameWriter();
  /** The daemon's protocol version, as it announced it. */
  daemonVersion = 0;
  /** The daemon's software version (protocol 1.33+), when it says. */
  daemonNixVersion: string | undefined;
  format: WireFormat = { minor: 0, dialect: "nix" };
  onEvent: ((event: DaemonEvent) => void) | undefined;
  readonly #socket: Socket;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.reader.push(chunk);
      if (this.reader.buffered > HIGH_WATER && !socket.isPaused()) {
        socket.pause();
        this.reader.drained(LOW_WATER).then(() => socket.resume());
      }
    });
    const end = () => {
      this.#closed = true;
      this.reader.end(new DaemonError("CONNECTION_CLOSED", "the daemon closed the connection"));
    };
    socket.on("end", end);
    socket.on("close", end);
    socket.on("error", end);
  }

  /** Connects and performs the handshake. */
  static async open(address: DaemonAddress): Promise<ClientConnection> {
    const socket = openSocket(address);
    try {
      await Promise.race([
        once(socket, "connect"),
        once(socket, "error").then(([error]) => {
          throw error;
        }),
      ]);
    } catch (cause) {
      socket.destroy();
      const code = (cause as NodeJS.ErrnoException).code;
      throw new DaemonError(
        "CONNECT",
        `cannot connect to the daemon at ${describe(address)}: ${code ?? cause}`,
        {
          cause,
          hint: "is the daemon running? (kiln daemon)",
        },
      );
    }
    socket.setNoDelay?.(true);
    const connection = new ClientConnection(socket);
    try {
      await connection.#handshake();
    } catch (error) {
      connection.close();
      throw error;
    }
    return connection;
  }

  async #handshake(): Promise<void> {
    await this.send(this.frame.u64(WORKER_MAGIC_1));
    const magic = await this.reader.u64Big();
    if (magic !== BigInt(WORKER_MAGIC_2)) {
      throw new DaemonError("PROTOCOL", "protocol mismatch: this is not a Nix or Guix daemon");
    }
    this.daemonVersion = await this.reader.u64();
    if (protocolMajor(this.daemonVersion) !== protocolMajor(PROTOCOL_VERSION)) {
      throw new DaemonError(
        "PROTOCOL",
        `unsupported daemon protocol version ${this.daemonVersion.toString(16)}`,
      );
    }
    const daemonMinor = protocolMinor(this.daemonVersion);
    if (daemonMinor < 10) throw new DaemonError("PROTOCOL", "the daemon version is too old");
    this.format = {
      minor: Math.min(daemonMinor, protocolMinor(PROTOCOL_VERSION)),
      dialect: daemonMinor >= GUIX_MINOR_FLOOR ? "guix" : "nix",
    };
    this.frame.u64(PROTOCOL_VERSION);
    if (this.format.minor >= 14) this.frame.u64(0); // no CPU affinity
    if (this.format.minor >= 11) this.frame.u64(0); // no reserved space
    await this.send(this.frame);
    if (this.format.minor >= 33 && this.format.dialect === "nix") {
      this.daemonNixVersion = await this.reader.string(1024);
    }
    await this.stderr();
  }

  /** Sends what `frame` holds, waiting while the socket is full. */
  async send(frame: FrameWriter): Promise<void> {
    await this.sendRaw(frame.take());
  }

  async sendRaw(bytes: Uint8Array): Promise<void> {
    if (this.#closed)
      throw new DaemonError("CONNECTION_CLOSED", "the connection to the daemon is closed");
    if (!this.#socket.write(bytes)) await socketDrained(this.#socket);
  }

  /** Reads the stderr channel up to the reply, with optional tunnels. */
  stderr(
    handlers: {
      read?: (length: number) => Promise<Uint8Array>;
      write?: (data: Uint8Array) => Promise<void> | void;
    } = {},
  ): Promise<void> {
    return processStderr(this.reader, this.format, {
      ...handlers,
      onEvent: this.onEvent,
      frame: this.frame,
      send: (frame) => this.send(frame),
    });
  }

  /** Runs `body` once the operations before it are done. */
  run<T>(body: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(body, body);
    this.#queue = result.catch(() => {});
    return result;
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#closed = true;
    this.#socket.destroy();
    this.reader.end(new DaemonError("CONNECTION_CLOSED", "the connection to the daemon is closed"));
  }
}

function describe(address: DaemonAddress): string {
  if (typeof address === "string") return address;
  return "path" in address ? address.path : `${address.host}:${address.port}`;
}
