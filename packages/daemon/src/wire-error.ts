/**
 * Errors on the stderr channel (STDERR_ERROR). Clients from protocol 1.26 on read Nix's
 * structured form (type "Error", level, name, message, position, traces); older ones,
 * and every Guix client, read the message and an exit status.
 */
import type { FrameReader, FrameWriter } from "@kiln/formats/worker-protocol-framing";
import { RemoteDaemonError } from "./daemon-error.ts";
import type { WireFormat } from "./wire-format.ts";
import { Stderr, Verbosity } from "./worker-protocol.ts";

/** Whether this connection carries errors in Nix's structured form. */
export function usesStructuredErrors(format: WireFormat): boolean {
  return format.dialect === "nix" && format.minor >= 26;
}

/** Appends a complete STDERR_ERROR message. */
export function writeWireError(
  out: FrameWriter,
  message: string,
  format: WireFormat,
  status = 1,
): void {
  out.u64(Stderr.Error);
  if (!usesStructuredErrors(format)) {
    out.string(message).u64(status);
    return;
  }
  // type, level, name (unused since 2.4), message, no position, no traces.
  out.string("Error").u64(Verbosity.Error).string("Error").string(message).u64(0).u64(0);
}

/** Reads the body of a STDERR_ERROR message (its tag already read). */
export async function readWireError(
  reader: FrameReader,
  format: WireFormat,
): Promise<RemoteDaemonError> {
  if (!usesStructuredErrors(format)) {
    const message = await reader.string();
    const status = await reader.u64();
    return new RemoteDaemonError(message, status);
  }
  await reader.string(64); // "Error"
  await reader.u64(); // level
  await reader.string(1024); // name
  const message = await reader.string();
  const havePos = await reader.u64();
  if (havePos !== 0) await reader.string(); // a position, which Nix 2.8 never sends
  const traces: string[] = [];
  for (let n = await reader.u64(); n > 0; n--) {
    if ((await reader.u64()) !== 0) await reader.string();
    traces.push(await reader.string());
  }
  const text = traces.length === 0 ? message : `${message}\n${traces.join("\n")}`;
  return new RemoteDaemonError(stripAnsi(text));
}

/** Nix colours the paths in its messages; a library caller wants plain text. */
function stripAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}
