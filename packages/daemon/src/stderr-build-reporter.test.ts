import assert from "node:assert/strict";
import { test } from "node:test";
import { LOG_BACKLOG_LIMIT, StderrBuildReporter } from "./stderr-build-reporter.ts";
import type { StderrChannel } from "./stderr-channel.ts";

/** A channel that records what a client would see, with a backlog the test sets. */
function recordingChannel(dialect: "nix" | "guix") {
  const seen: string[] = [];
  let activities = 0;
  const channel = {
    format: { dialect, minor: dialect === "nix" ? 34 : 0x63 },
    backlog: 0,
    startActivity: () => ++activities,
    stopActivity: () => {},
    result: (_id: number, _type: number, fields: readonly (string | number)[]) => {
      if (typeof fields[0] === "string") seen.push(fields[0]);
    },
    log: (line: string) => seen.push(line),
    logRaw: (text: string | Uint8Array) => seen.push(Buffer.from(text).toString()),
    warn: () => {},
  };
  return { channel, seen, reporter: new StderrBuildReporter(channel as unknown as StderrChannel) };
}

for (const dialect of ["nix", "guix"] as const) {
  test(`a ${dialect} client that stops reading misses output and is told how much`, () => {
    const { channel, seen, reporter } = recordingChannel(dialect);
    const drv = "/gnu/store/00000000000000000000000000000000-x.drv";
    reporter.begin();
    reporter.started(drv, "x");
    reporter.output(drv, Buffer.from("first line\n"));
    channel.backlog = LOG_BACKLOG_LIMIT + 1;
    reporter.output(drv, Buffer.from("lost 1\nlost 2\n"));
    reporter.output(drv, Buffer.from("lost 3\n"));
    channel.backlog = 0;
    reporter.output(drv, Buffer.from("after\n"));
    reporter.finished({ drvPath: drv, status: "built" } as Parameters<
      StderrBuildReporter["finished"]
    >[0]);
    const text = seen.join("\n");
    assert.match(text, /first line/);
    assert.doesNotMatch(text, /lost/);
    assert.match(text, /21 bytes of build output were not sent/);
    assert.match(text, /after/);
    assert.ok(text.indexOf("21 bytes") < text.indexOf("after"));
  });
}
