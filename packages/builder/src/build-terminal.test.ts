import assert from "node:assert/strict";
import { test } from "node:test";
import type { BuildResult } from "./build-options.ts";
import { BuildTerminal } from "./build-terminal.ts";
import { BuilderError } from "./builder-error.ts";

function fakeStream(isTTY: boolean, columns = 80) {
  const writes: string[] = [];
  return {
    writes,
    text: () => writes.join(""),
    write: (s: string) => writes.push(s),
    isTTY,
    columns,
  };
}

const result = (
  drvPath: string,
  status: BuildResult["status"],
  error?: BuilderError,
): BuildResult => ({
  drvPath,
  name: drvPath.replace(/^.*-|\.drv$/g, ""),
  requested: true,
  status,
  outputs: {},
  warnings: [],
  ...(error ? { error } : {}),
});
const bytes = (text: string) => new TextEncoder().encode(text);

test("off a terminal: plain lines, whole lines only, no status line", () => {
  const stream = fakeStream(false);
  const terminal = new BuildTerminal(stream, { maxJobs: 1 });
  terminal.planned(1);
  terminal.started("/s/x-foo.drv", "foo");
  terminal.output("/s/x-foo.drv", bytes("one\ntw"));
  terminal.output("/s/x-foo.drv", bytes("o\nthr"));
  terminal.finished(result("/s/x-foo.drv", "built"));
  terminal.close();
  assert.equal(stream.text(), "building '/s/x-foo.drv'...\none\ntwo\nthr\n");
  assert.ok(!stream.text().includes("\u001b"), "no escape sequences in a pipe");
});

test("several builds at once: each line names its derivation, UTF-8 split across chunks survives", () => {
  const stream = fakeStream(false);
  const terminal = new BuildTerminal(stream, { maxJobs: 2 });
  terminal.planned(2);
  terminal.started("/s/a-foo.drv", "foo");
  terminal.started("/s/b-bar.drv", "bar");
  const check = bytes("✓ ok\n");
  terminal.output("/s/a-foo.drv", check.subarray(0, 1));
  terminal.output("/s/b-bar.drv", bytes("from bar\n"));
  terminal.output("/s/a-foo.drv", check.subarray(1));
  terminal.finished(
    result(
      "/s/a-foo.drv",
      "failed",
      new BuilderError("ERR_BUILD_FAILED", "builder for /s/a-foo.drv failed with exit code 1"),
    ),
  );
  terminal.finished(result("/s/b-bar.drv", "built"));
  terminal.finished(
    result(
      "/s/c-baz.drv",
      "dependency-failed",
      new BuilderError(
        "ERR_DEPENDENCY_FAILED",
        "cannot build /s/c-baz.drv: its dependency /s/a-foo.drv failed",
      ),
    ),
  );
  const lines = stream.text().split("\n");
  assert.ok(lines.includes("error: cannot build /s/c-baz.drv: its dependency /s/a-foo.drv failed"));
  assert.ok(lines.includes("bar> from bar"));
  assert.ok(lines.includes("foo> ✓ ok"));
  assert.ok(lines.includes("error: builder for /s/a-foo.drv failed with exit code 1"));
});

test("on a terminal: one status line, redrawn below the output and cleared at the end", () => {
  const stream = fakeStream(true, 40);
  const terminal = new BuildTerminal(stream, { maxJobs: 2 });
  terminal.planned(7);
  terminal.started("/s/a-foo.drv", "foo");
  assert.match(stream.writes.at(-1)!, /^\r\u001b\[K\[0\/7 built, 1 running\] building foo$/);
  terminal.started("/s/b-a-rather-long-name.drv", "a-rather-long-name");
  const status = stream.writes.at(-1)!;
  assert.ok(status.length - "\r\u001b[K".length <= 39, "fits the terminal's width");
  assert.ok(status.endsWith("…"));
  terminal.output("/s/a-foo.drv", bytes("hello\n"));
  // The log line is printed on a cleared line, then the status comes back.
  const tail = stream.writes.slice(-3);
  assert.deepEqual(tail.slice(0, 2), ["\r\u001b[K", "foo> hello\n"]);
  assert.match(tail[2], /\[0\/7 built, 2 running\]/);
  terminal.finished(result("/s/a-foo.drv", "built"));
  assert.match(stream.writes.at(-1)!, /\[1\/7 built, 1 running\] building a-rath/);
  terminal.warning("careful");
  terminal.finished(result("/s/b-a-rather-long-name.drv", "built"));
  terminal.close();
  assert.ok(stream.text().includes("warning: careful\n"));
  assert.equal(stream.writes.at(-1), "\r\u001b[K", "the status line is gone");
});

test("showOutput false keeps the builders' output off the screen", () => {
  const stream = fakeStream(false);
  const terminal = new BuildTerminal(stream, { showOutput: false });
  terminal.planned(1);
  terminal.started("/s/a-foo.drv", "foo");
  terminal.output("/s/a-foo.drv", bytes("noise\n"));
  terminal.finished(result("/s/a-foo.drv", "built"));
  assert.equal(stream.text(), "building '/s/a-foo.drv'...\n");
});
