/**
 * The daemon's half of the stderr channel. Between `startWork` and `stopWork` an
 * operation may send log lines, Nix activities and results, and tunnel data (STDERR_READ
 * asks the client for bytes, STDERR_WRITE sends it some); the operation ends with
 * STDERR_LAST or STDERR_ERROR, after which its reply follows. Messages logged while no
 * operation is running wait for the next one, as in Nix.
 *
 * Clients older than 1.20 and Guix clients know nothing of activities: an activity's
 * text becomes a log line for them, and results are dropped.
 */
import type { FrameReader } from "@kiln/formats/worker-protocol-framing";
import type { ConnectionOutput } from "./connection-output.ts";
import { writeWireError } from "./wire-error.ts";
import type { WireFormat } from "./wire-format.ts";
import { type ActivityField, Stderr, Verbosity } from "./worker-protocol.ts";

/** Activity ids are unique per daemon process; Nix puts its pid in the high bits too. */
let nextActivity = (process.pid % (1 << 20)) * 2 ** 32;

export class StderrChannel {
  readonly format: WireFormat;
  readonly #out: ConnectionOutput;
  readonly #reader: FrameReader;
  #open = false;
  #pending: Uint8Array[] = [];
  /** The client's verbosity (SetOptions); log lines above it are not sent. */
  verbosity: number = Verbosity.Info;

  constructor(out: ConnectionOutput, reader: FrameReader, format: WireFormat) {
    this.#out = out;
    this.#reader = reader;
    this.format = format;
  }

  /** Bytes sent to the client that it has not read yet. */
  get backlog(): number {
    return this.#out.backlog;
  }

  /** True between startWork and stopWork: the operation's input has been read. */
  get working(): boolean {
    return this.#open;
  }

  get #activities(): boolean {
    return this.format.dialect === "nix" && this.format.minor >= 20;
  }

  startWork(): void {
    this.#open = true;
    for (const message of this.#pending) this.#out.frame.raw(message);
    this.#pending = [];
    this.#out.flush();
  }

  /** Ends the operation successfully; its reply is appended after this. */
  stopWork(): void {
    this.#open = false;
    this.#out.frame.u64(Stderr.Last);
  }

  /** Ends the operation with an error (no reply follows). */
  stopWorkWithError(message: string, status = 1): void {
    this.#open = false;
    writeWireError(this.#out.frame, message, this.format, status);
  }

  #send(build: (out: ConnectionOutput["frame"]) => void): void {
    if (this.#open) {
      build(this.#out.frame);
      this.#out.flush();
      return;
    }
    const frame = this.#out.frame;
    // Assemble the message on its own, then queue it for the next operation.
    const before = frame.take();
    build(frame);
    this.#pending.push(frame.take());
    frame.raw(before);
  }

  /** A log line (a newline is added), sent if the client's verbosity admits `level`. */
  log(line: string, level: number = Verbosity.Info): void {
    if (level > this.verbosity) return;
    this.#send((out) => out.u64(Stderr.Next).string(`${line}\n`));
  }

  /** Raw text for the client's log (Guix clients show build output this way). */
  logRaw(text: string | Uint8Array): void {
    this.#send((out) => out.u64(Stderr.Next).string(text));
  }

  warn(message: string): void {
    this.log(`warning: ${message}`, Verbosity.Warn);
  }

  /** Starts a Nix activity; returns its id (0 when the client cannot show activities). */
  startActivity(
    type: number,
    text: string,
    options: { level?: number; fields?: readonly ActivityField[]; parent?: number } = {},
  ): number {
    const level = options.level ?? Verbosity.Info;
    if (!this.#activities) {
      if (text !== "") this.log(`${text}...`, level);
      return 0;
    }
    const id = ++nextActivity;
    this.#send((out) => {
      out.u64(Stderr.StartActivity).u64(id).u64(level).u64(type).string(text);
      writeFields(out, options.fields ?? []);
      out.u64(options.parent ?? 0);
    });
    return id;
  }

  stopActivity(id: number): void {
    if (!this.#activities || id === 0) return;
    this.#send((out) => out.u64(Stderr.StopActivity).u64(id));
  }

  result(id: number, type: number, fields: readonly ActivityField[]): void {
    if (!this.#activities || id === 0) return;
    this.#send((out) => {
      out.u64(Stderr.Result).u64(id).u64(type);
      writeFields(out, fields);
    });
  }

  /** Sends bytes for the client's sink (STDERR_WRITE), waiting while the socket is full. */
  async write(data: Uint8Array): Promise<void> {
    this.#out.frame.u64(Stderr.Write).string(data);
    this.#out.flush();
    await this.#out.drained();
  }

  /**
   * Asks the client for up to `length` bytes of its source (STDERR_READ) and returns
   * what it sends; an empty answer means its source is exhausted.
   */
  async read(length: number): Promise<Uint8Array> {
    this.#out.frame.u64(Stderr.Read).u64(length);
    this.#out.flush();
    return this.#reader.byteString(length);
  }
}

function writeFields(out: ConnectionOutput["frame"], fields: readonly ActivityField[]): void {
  out.u64(fields.length);
  for (const field of fields) {
    if (typeof field === "number") out.u64(0).u64(field);
    else out.u64(1).string(field);
  }
}
