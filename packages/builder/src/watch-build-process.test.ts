import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { Writable } from "node:stream";
import { test } from "node:test";
import { watchBuildProcess } from "./watch-build-process.ts";

// Plain host processes (busybox is statically linked and always there in CI).
function start(script: string) {
  return spawn("/bin/busybox", ["sh", "-c", script], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
}

test("a consumer slower than the builder still gets every byte", async () => {
  const child = start("seq 1 100000; echo done >&2");
  const chunks: Buffer[] = [];
  const slow = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      setTimeout(callback, 20);
    },
  });
  const outcome = await watchBuildProcess(child, { log: slow, kill: () => child.kill() });
  assert.equal(outcome.exitCode, 0);
  const text = Buffer.concat(chunks).toString();
  assert.equal(text.split("\n").filter((line) => /^\d+$/.test(line)).length, 100000);
  assert.match(text, /done/);
});

test("timeouts and aborts call kill once and are reported", async () => {
  for (const [options, flag] of [
    [{ timeoutSeconds: 0.2 }, "timedOut"],
    [{ maxSilentSeconds: 0.2 }, "silentTimedOut"],
    [{ signal: AbortSignal.timeout(200) }, "aborted"],
  ] as const) {
    const child = start("echo hi; sleep 10");
    let kills = 0;
    const outcome = await watchBuildProcess(child, {
      ...options,
      kill: () => {
        kills++;
        process.kill(-child.pid!, "SIGKILL");
      },
    });
    assert.equal(outcome[flag], true, flag);
    assert.equal(kills, 1);
    assert.equal(outcome.signal, "SIGKILL");
  }
});

test("without a sandbox, a process that keeps the pipe open is not waited for", async () => {
  // The escaped process holds stdout for 2 s after the builder exits.
  const child = start("/bin/busybox setsid /bin/busybox sleep 2 & echo builder done");
  const started = performance.now();
  const outcome = await watchBuildProcess(child, { kill: () => {}, drainGraceMs: 100 });
  assert.equal(outcome.exitCode, 0);
  assert.ok(performance.now() - started < 1500, "did not wait for the escaped process");
});
