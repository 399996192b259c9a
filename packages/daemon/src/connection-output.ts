/**
 * The daemon's side of one connection's output: replies are assembled in a FrameWriter
 * and written to the socket in one piece per flush (a reply and its STDERR_LAST go out
 * together, which matters for round-trip latency), and large streams wait for the
 * socket to drain.
 */
import type { Socket } from "node:net";
import { FrameWriter } from "@kiln/formats/worker-protocol-framing";
import { socketDrained } from "./socket-drain.ts";

export class ConnectionOutput {
  readonly frame = new FrameWriter();
  readonly #socket: Socket;

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  get closed(): boolean {
    return this.#socket.destroyed || !this.#socket.writable;
  }

  /** Bytes written but not yet taken by the client (queued in the socket). */
  get backlog(): number {
    return this.#socket.writableLength;
  }

  /** Sends what has been assembled so far. */
  flush(): void {
    if (this.frame.length === 0 || this.closed) {
      this.frame.take();
      return;
    }
    this.#socket.write(this.frame.take());
  }

  /** Sends raw bytes after what has been assembled, waiting while the socket is full. */
  async writeRaw(bytes: Uint8Array): Promise<void> {
    this.flush();
    if (this.closed) return;
    if (!this.#socket.write(bytes)) await this.drained();
  }

  /** Resolves when the socket has room again (or is closed). */
  async drained(): Promise<void> {
    if (!this.#socket.writableNeedDrain || this.closed) return;
    await socketDrained(this.#socket);
  }

  /** Sends what is assembled and closes the connection. */
  end(): void {
    const rest = this.frame.take();
    if (this.closed) return;
    this.#socket.end(rest);
  }
}
