/**
 * The client's half of the stderr channel: after sending an operation, read messages
 * until STDERR_LAST (the reply follows) or STDERR_ERROR (thrown as RemoteDaemonError),
 * passing log lines and activities to the caller, answering STDERR_READ from a source
 * and delivering STDERR_WRITE data to a sink.
 */
import type { FrameReader, FrameWriter } from "@kiln/formats/worker-protocol-framing";
import { DaemonError } from "./daemon-error.ts";
import { readWireError } from "./wire-error.ts";
import type { WireFormat } from "./wire-format.ts";
import { type ActivityField, Stderr } from "./worker-protocol.ts";

/** What the daemon says while an operation runs. */
export type DaemonEvent =
  | { readonly kind: "log"; readonly text: string }
  | {
      readonly kind: "start";
      readonly id: number;
      readonly level: number;
      readonly type: number;
      readonly text: string;
      readonly fields: readonly ActivityField[];
      readonly parent: number;
    }
  | { readonly kind: "stop"; readonly id: number }
  | {
      readonly kind: "result";
      readonly id: number;
      readonly type: number;
      readonly fields: readonly ActivityField[];
    };

export interface StderrHandlers {
  readonly onEvent?: (event: DaemonEvent) => void;
  /** Answers STDERR_READ: up to `length` bytes, empty at the end. */
  readonly read?: (length: number) => Promise<Uint8Array>;
  /** Takes STDERR_WRITE data. */
  readonly write?: (data: Uint8Array) => Promise<void> | void;
  /** Sends bytes to the daemon (for STDERR_READ answers). */
  readonly send: (frame: FrameWriter) => Promise<void>;
  readonly frame: FrameWriter;
}

async function readFields(reader: FrameReader): Promise<ActivityField[]> {
  const fields: ActivityField[] = [];
  for (let n = await reader.u64(); n > 0; n--) {
    const type = await reader.u64();
    if (type === 0) fields.push(Number(await reader.u64Big()));
    else if (type === 1) fields.push(await reader.string());
    else throw new DaemonError("PROTOCOL", `unknown activity field type ${type}`);
  }
  return fields;
}

/** Reads stderr messages until the operation's reply; throws the daemon's error. */
export async function processStderr(
  reader: FrameReader,
  format: WireFormat,
  handlers: StderrHandlers,
): Promise<void> {
  for (;;) {
    const tag = await reader.u64();
    switch (tag) {
      case Stderr.Last:
        return;
      case Stderr.Error:
        throw await readWireError(reader, format);
      case Stderr.Next: {
        const text = await reader.string();
        handlers.onEvent?.({ kind: "log", text });
        break;
      }
      case Stderr.StartActivity: {
        const id = Number(await reader.u64Big());
        const level = await reader.u64();
        const type = await reader.u64();
        const text = await reader.string();
        const fields = await readFields(reader);
        const parent = Number(await reader.u64Big());
        handlers.onEvent?.({ kind: "start", id, level, type, text, fields, parent });
        break;
      }
      case Stderr.StopActivity: {
        // Read before calling: `onEvent?.(…)` would skip evaluating its argument.
        const id = Number(await reader.u64Big());
        handlers.onEvent?.({ kind: "stop", id });
        break;
      }
      case Stderr.Result: {
        const id = Number(await reader.u64Big());
        const type = await reader.u64();
        const fields = await readFields(reader);
        handlers.onEvent?.({ kind: "result", id, type, fields });
        break;
      }
      case Stderr.Read: {
        const length = await reader.u64();
        const data = handlers.read ? await handlers.read(length) : new Uint8Array(0);
        await handlers.send(handlers.frame.string(data));
        break;
      }
      case Stderr.Write: {
        const data = await reader.byteString();
        if (handlers.write) await handlers.write(data);
        break;
      }
      default:
        throw new DaemonError("PROTOCOL", `unknown message 0x${tag.toString(16)} from the daemon`);
    }
  }
}
