import assert from "node:assert/strict";
import { test } from "node:test";
import { FrameReader, FrameWriter } from "@kiln/formats/worker-protocol-framing";
import { RemoteDaemonError } from "./daemon-error.ts";
import { readWireError, writeWireError } from "./wire-error.ts";
import { Stderr } from "./worker-protocol.ts";

async function roundTrip(
  message: string,
  format: { minor: number; dialect: "nix" | "guix" },
  status = 1,
) {
  const out = new FrameWriter();
  writeWireError(out, message, format, status);
  const r = new FrameReader();
  r.push(out.take());
  r.end();
  assert.equal(await r.u64(), Stderr.Error);
  const error = await readWireError(r, format);
  assert.equal(r.buffered, 0);
  return error;
}

test("Nix 1.26+ gets the structured error; its bytes start as nix-daemon 2.8's do", async () => {
  const out = new FrameWriter();
  writeWireError(out, "boom", { minor: 34, dialect: "nix" });
  const bytes = out.take();
  // Captured from nix-daemon 2.8: "cxtp" tag, "Error", level 0, "Error", message.
  const expected = new FrameWriter()
    .u64(Stderr.Error)
    .string("Error")
    .u64(0)
    .string("Error")
    .string("boom")
    .take();
  assert.deepEqual(bytes.subarray(0, expected.length), expected);
  const error = await roundTrip("boom", { minor: 34, dialect: "nix" });
  assert.ok(error instanceof RemoteDaemonError);
  assert.equal(error.message, "boom");
});

test("older clients and Guix get the message and the status", async () => {
  for (const format of [
    { minor: 25, dialect: "nix" as const },
    { minor: 34, dialect: "guix" as const },
  ]) {
    const error = await roundTrip("build failed", format, 100);
    assert.equal(error.message, "build failed");
    assert.equal(error.status, 100);
  }
});

test("Nix's colours are taken out of messages read by the client", async () => {
  const r = new FrameReader();
  r.push(
    new FrameWriter()
      .string("Error")
      .u64(0)
      .string("Error")
      .string("path '\u001b[35;1m/x\u001b[0m' is not valid")
      .u64(0)
      .u64(0)
      .take(),
  );
  r.end();
  assert.equal(
    (await readWireError(r, { minor: 34, dialect: "nix" })).message,
    "path '/x' is not valid",
  );
});
