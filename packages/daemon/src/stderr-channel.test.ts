import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { test } from "node:test";
import { FrameReader } from "@kiln/formats/worker-protocol-framing";
import { type DaemonEvent, processStderr } from "./client-stderr.ts";
import { ConnectionOutput } from "./connection-output.ts";
import { StderrChannel } from "./stderr-channel.ts";
import type { WireFormat } from "./wire-format.ts";
import { ActivityType, ResultType, Verbosity } from "./worker-protocol.ts";

/** A channel writing into memory, and a way to read back what it sent as a client would. */
function channel(format: WireFormat) {
  const sent: Uint8Array[] = [];
  const socket = {
    destroyed: false,
    writable: true,
    writableNeedDrain: false,
    write(bytes: Uint8Array) {
      sent.push(bytes);
      return true;
    },
    end() {},
  } as unknown as Socket;
  const out = new ConnectionOutput(socket);
  const stderr = new StderrChannel(out, new FrameReader(), format);
  const received = async () => {
    out.flush();
    const reader = new FrameReader();
    reader.push(Buffer.concat(sent.splice(0)));
    reader.end();
    const events: DaemonEvent[] = [];
    await processStderr(reader, format, {
      onEvent: (event) => events.push(event),
      frame: out.frame,
      send: async () => {},
    });
    return events;
  };
  return { stderr, received };
}

test("activities, results and log lines reach a Nix client in order", async () => {
  const { stderr, received } = channel({ minor: 34, dialect: "nix" });
  stderr.startWork();
  const build = stderr.startActivity(ActivityType.Build, "building 'x.drv'", {
    fields: ["x.drv", "", 1, 1],
  });
  stderr.result(build, ResultType.BuildLogLine, ["hello"]);
  stderr.stopActivity(build);
  stderr.log("a line");
  stderr.log("too chatty", Verbosity.Debug);
  stderr.stopWork();
  const events = await received();
  assert.deepEqual(
    events.map((e) => e.kind),
    ["start", "result", "stop", "log"],
  );
  const [start, result] = events;
  assert.ok(
    start.kind === "start" &&
      start.type === ActivityType.Build &&
      start.text === "building 'x.drv'",
  );
  assert.deepEqual(start.fields, ["x.drv", "", 1, 1]);
  assert.ok(result.kind === "result" && result.fields[0] === "hello" && result.id === start.id);
  assert.deepEqual(events[3], { kind: "log", text: "a line\n" });
});

test("Guix clients get activity texts as log lines and no results", async () => {
  const { stderr, received } = channel({ minor: 34, dialect: "guix" });
  stderr.startWork();
  const id = stderr.startActivity(ActivityType.Build, "building 'x.drv'");
  assert.equal(id, 0);
  stderr.result(id, ResultType.BuildLogLine, ["dropped"]);
  stderr.stopActivity(id);
  stderr.stopWork();
  assert.deepEqual(await received(), [{ kind: "log", text: "building 'x.drv'...\n" }]);
});

test("what is logged between operations waits for the next one", async () => {
  const { stderr, received } = channel({ minor: 34, dialect: "nix" });
  stderr.warn("between operations");
  stderr.startWork();
  stderr.stopWork();
  assert.deepEqual(await received(), [{ kind: "log", text: "warning: between operations\n" }]);
});
