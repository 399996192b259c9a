import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { KilnError } from "@kiln/formats/kiln-error";
import { canonicalisePathMetadata } from "./canonicalise.ts";

const isRoot = process.getuid?.() === 0;

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "kiln-canon-"));
  t.after(() => {
    spawnSync("chmod", ["-R", "u+rwx", dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

const mode = (path: string) => lstatSync(path).mode & 0o7777;

test("files become 0444 or 0555, directories 0555, special bits dropped, times 1 s", (t) => {
  const out = join(scratch(t), "out");
  mkdirSync(join(out, "bin"), { recursive: true });
  writeFileSync(join(out, "data"), "d");
  chmodSync(join(out, "data"), 0o664);
  writeFileSync(join(out, "bin", "suid"), "#!/bin/sh\n");
  chmodSync(join(out, "bin", "suid"), 0o6755);
  writeFileSync(join(out, "group-exec"), "");
  chmodSync(join(out, "group-exec"), 0o610);
  writeFileSync(join(out, "sticky"), "");
  chmodSync(join(out, "sticky"), 0o1644);
  symlinkSync("/nonexistent/target", join(out, "dangling"));
  chmodSync(join(out, "bin"), 0o3777);
  assert.equal(mode(join(out, "bin", "suid")), 0o6755);

  canonicalisePathMetadata(out);

  assert.equal(mode(join(out, "data")), 0o444);
  assert.equal(mode(join(out, "bin", "suid")), 0o555);
  assert.equal(mode(join(out, "group-exec")), 0o555);
  assert.equal(mode(join(out, "sticky")), 0o444);
  assert.equal(mode(join(out, "bin")), 0o555);
  assert.equal(mode(out), 0o555);
  for (const path of ["data", "bin", "bin/suid", "dangling", "."].map((p) => join(out, p))) {
    const stat = lstatSync(path);
    assert.equal(stat.mtimeMs, 1000, path);
    assert.equal(stat.atimeMs, 1000, path);
  }
  // The symlink itself got the time; its (missing) target was never followed.
  assert.ok(lstatSync(join(out, "dangling")).isSymbolicLink());
});

test("a single file and an already-canonical tree are handled", (t) => {
  const dir = scratch(t);
  const file = join(dir, "file");
  writeFileSync(file, "x");
  chmodSync(file, 0o4700);
  canonicalisePathMetadata(file);
  canonicalisePathMetadata(file);
  assert.equal(mode(file), 0o555);
  assert.equal(lstatSync(file).mtimeMs, 1000);
});

test("a directory left unreadable by the build is still walked", (t) => {
  const out = join(scratch(t), "out");
  mkdirSync(join(out, "locked"), { recursive: true });
  writeFileSync(join(out, "locked", "f"), "");
  chmodSync(join(out, "locked", "f"), 0o600);
  chmodSync(join(out, "locked"), 0o000);
  canonicalisePathMetadata(out);
  assert.equal(mode(join(out, "locked")), 0o555);
  assert.equal(mode(join(out, "locked", "f")), 0o444);
});

test("fifos and sockets are refused, naming the path", async (t) => {
  const dir = scratch(t);
  const fifoOut = join(dir, "fifo-out");
  mkdirSync(fifoOut);
  assert.equal(spawnSync("mkfifo", [join(fifoOut, "pipe")]).status, 0);
  assert.throws(
    () => canonicalisePathMetadata(fifoOut),
    (error: unknown) =>
      error instanceof KilnError &&
      error.code === "ERR_UNSUPPORTED_FILE_TYPE" &&
      error.message.includes(join(fifoOut, "pipe")) &&
      error.message.includes("fifo"),
  );
  const socketOut = join(dir, "socket-out");
  mkdirSync(socketOut);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(join(socketOut, "sock"), resolve));
  try {
    assert.throws(() => canonicalisePathMetadata(socketOut), /sock is a socket/);
  } finally {
    server.close();
  }
});

test("as root, every entry is given to the owner", { skip: !isRoot && "needs root" }, (t) => {
  const out = join(scratch(t), "out");
  mkdirSync(out);
  writeFileSync(join(out, "f"), "");
  symlinkSync("f", join(out, "l"));
  for (const name of ["", "f", "l"]) {
    spawnSync("chown", ["-h", "65534:65534", join(out, name)]);
  }
  assert.equal(lstatSync(join(out, "l")).uid, 65534);
  canonicalisePathMetadata(out, { owner: { uid: 0, gid: 0 }, buildUid: 65534 });
  for (const name of ["", "f", "l"]) {
    const stat = lstatSync(join(out, name));
    assert.deepEqual([stat.uid, stat.gid], [0, 0], name);
  }
});

test("a file not owned by the build user is refused", { skip: !isRoot && "needs root" }, (t) => {
  const out = join(scratch(t), "out");
  mkdirSync(out);
  chownSync(out, 65534, 65534);
  writeFileSync(join(out, "hardlinked-from-elsewhere"), "");
  chownSync(join(out, "hardlinked-from-elsewhere"), 12345, 12345);
  assert.throws(
    () => canonicalisePathMetadata(out, { owner: { uid: 0, gid: 0 }, buildUid: 65534 }),
    /hardlinked-from-elsewhere is owned by uid 12345, not by the build user 65534/,
  );
  // Nothing was chmod'ed behind the refused entry's back.
  assert.notEqual(mode(join(out, "hardlinked-from-elsewhere")), 0o444);
});
