import assert from "node:assert/strict";
import { test } from "node:test";
import type { DownloadProgress } from "@kiln/substituter/download-nar";
import { formatBytes } from "./format-bytes.ts";
import { SubstitutionProgress } from "./substitution-progress.ts";

const HELLO = "/gnu/store/ykyykp577wb1yhpcm4g1iiy9kvp0fwzr-hello-2.12";
const LIBC = "/gnu/store/9g6pk1ymm1x7k6r1ghi8c4ybb2kqpyw8-glibc-2.35";

function event(path: string, received: number, more: Partial<DownloadProgress> = {}) {
  return {
    path,
    cacheUrl: "http://c",
    url: "http://c/nar/x",
    received,
    total: 4 << 20,
    done: false,
    ...more,
  };
}

/** A terminal that applies what is written: \r, clear to end, cursor up; shows the screen. */
class FakeTerminal {
  readonly isTTY = true;
  columns = 200;
  lines: string[] = [""];
  row = 0;
  raw = "";
  write(text: string): void {
    this.raw += text;
    const tokens = text.split(/(\r|\n|\u001b\[\d*A|\u001b\[J)/);
    for (const token of tokens) {
      if (token === "\r") this.lines[this.row] = this.lines[this.row].slice(0, 0);
      else if (token === "\n") {
        this.row++;
        this.lines[this.row] ??= "";
      } else if (token === "\u001b[J") this.lines.length = this.row + 1;
      else if (/^\u001b\[\d*A$/.test(token)) this.row -= Number(token.slice(2, -1) || 1);
      else this.lines[this.row] += token;
    }
  }
  screen(): string[] {
    return this.lines.filter((line, i) => line !== "" || i < this.row);
  }
}

test("on a terminal: a live line per download with rate, time, size, bar; an overall count", () => {
  let now = 0;
  const terminal = new FakeTerminal();
  const progress = new SubstitutionProgress(terminal, { now: () => now });
  progress.plan(2, 8 << 20);
  progress.update(event(HELLO, 0));
  progress.update(event(LIBC, 0));
  now = 2000;
  progress.update(event(HELLO, 2 << 20));
  now = 4000;
  progress.update(event(LIBC, 2 << 20));
  assert.deepEqual(terminal.screen(), [
    `substituting ${HELLO}...`,
    `substituting ${LIBC}...`,
    `substituting ${HELLO}  512.0KiB/s 00:04 | 2.0MiB [##########          ] 50%`,
    `substituting ${LIBC}  512.0KiB/s 00:04 | 2.0MiB [##########          ] 50%`,
    "[0/2 substituted] 4.0MiB/8.0MiB",
  ]);
  // Redrawn at most every 100 ms: an event 10 ms later changes nothing on screen.
  const before = terminal.raw.length;
  now = 4010;
  progress.update(event(HELLO, 3 << 20));
  assert.equal(terminal.raw.length, before);
  now = 8000;
  progress.update(event(HELLO, 4 << 20, { done: true }));
  assert.deepEqual(terminal.screen(), [
    `substituting ${HELLO}...`,
    `substituting ${LIBC}...`,
    `downloaded ${HELLO} (4.0MiB)`,
    `substituting ${LIBC}  256.0KiB/s 00:08 | 2.0MiB [##########          ] 50%`,
    "[1/2 substituted] 6.0MiB/8.0MiB",
  ]);
  progress.interject(() => terminal.write("warning: something\n"));
  progress.update(event(LIBC, 1 << 20, { error: "HTTP status 500" }));
  progress.close();
  assert.deepEqual(terminal.screen(), [
    `substituting ${HELLO}...`,
    `substituting ${LIBC}...`,
    `downloaded ${HELLO} (4.0MiB)`,
    "warning: something",
    `download of ${LIBC} failed: HTTP status 500`,
  ]);
});

test("long paths are cut to the terminal's width, keeping the numbers", () => {
  const terminal = new FakeTerminal();
  terminal.columns = 80;
  const progress = new SubstitutionProgress(terminal, { now: () => 1000 });
  progress.update(event(HELLO, 1 << 20));
  const live = terminal.screen()[1];
  assert.equal(live.length, 79);
  assert.match(live, /^substituting \/gnu\/store\/yk.*… {2}.* \| 1\.0MiB \[#####/);
});

test("elsewhere: only plain lines, when a download starts and when it is over", () => {
  let text = "";
  const progress = new SubstitutionProgress({ write: (chunk: string) => (text += chunk) });
  progress.plan(1);
  progress.update(event(HELLO, 0));
  progress.update(event(HELLO, 1234));
  progress.update(event(HELLO, 5000, { done: true }));
  progress.close();
  assert.equal(text, `substituting ${HELLO}...\ndownloaded ${HELLO} (4.9KiB)\n`);
});

test("sizes print as Guix prints them", () => {
  assert.equal(formatBytes(512), "512B");
  assert.equal(formatBytes(1536), "1.5KiB");
  assert.equal(formatBytes(3.4 * 2 ** 20), "3.4MiB");
  assert.equal(formatBytes(5 * 2 ** 30), "5.0GiB");
});
