/**
 * A bare-bytes client for tests: speaks exactly the frames a test writes, so it can play
 * Guix's client (version 0x163, old encodings) or send garbage, truncated frames and
 * absurd lengths.
 */
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { FrameReader, FrameWriter } from "@kiln/formats/worker-protocol-framing";
import { Stderr, WORKER_MAGIC_1 } from "../src/worker-protocol.ts";

export class RawClient {
  readonly socket: Socket;
  readonly reader = new FrameReader();
  readonly frame = new FrameWriter();
  /** Resolves when the daemon closes the connection. */
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => this.reader.push(chunk));
    this.closed = new Promise((resolve) => {
      socket.on("close", () => {
        this.reader.end();
        resolve();
      });
      socket.on("error", () => {});
    });
  }

  static async connect(path: string): Promise<RawClient> {
    const socket = connect(path);
    await once(socket, "connect");
    return new RawClient(socket);
  }

  send(bytes?: Uint8Array): void {
    this.socket.write(bytes ?? this.frame.take());
  }

  /** The handshake as a client announcing `version`; returns the daemon's version. */
  async handshake(version: number): Promise<number> {
    this.send(this.frame.u64(WORKER_MAGIC_1).take());
    await this.reader.u64(); // magic 2
    const daemonVersion = await this.reader.u64();
    this.frame.u64(version).u64(0).u64(0);
    this.send();
    return daemonVersion;
  }

  /** Reads stderr messages up to STDERR_LAST; returns the log text and the error, if any. */
  async stderr(
    options: {
      structuredErrors?: boolean;
      write?: (data: Uint8Array) => void;
      read?: (n: number) => Uint8Array;
    } = {},
  ): Promise<{ log: string; error?: { message: string; status?: number } }> {
    let log = "";
    for (;;) {
      const tag = await this.reader.u64();
      if (tag === Stderr.Last) return { log };
      if (tag === Stderr.Next) log += await this.reader.string();
      else if (tag === Stderr.Write) options.write?.(await this.reader.byteString());
      else if (tag === Stderr.Read) {
        const n = await this.reader.u64();
        this.send(this.frame.string(options.read?.(n) ?? new Uint8Array(0)).take());
      } else if (tag === Stderr.Error) {
        if (options.structuredErrors) {
          await this.reader.string();
          await this.reader.u64();
          await this.reader.string();
          const message = await this.reader.string();
          await this.reader.u64();
          await this.reader.u64();
          return { log, error: { message } };
        }
        const message = await this.reader.string();
        return { log, error: { message, status: await this.reader.u64() } };
      } else {
        throw new Error(`unexpected stderr message 0x${tag.toString(16)}`);
      }
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
