import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createPrivateNixStore, requirePeer } from "@kiln/testkit";
import { runKiln } from "./run-kiln.ts";

const fixtures = new URL("../../formats/test/fixtures/", import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), "kiln-cli-"));

function sampleTree(): string {
  const dir = join(scratch, `tree-${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(dir, "sub"), { recursive: true });
  writeFileSync(join(dir, "hello"), "hello\n");
  writeFileSync(join(dir, "run.sh"), "#!/bin/sh\n", { mode: 0o755 });
  writeFileSync(join(dir, "sub", "data"), Buffer.alloc(3000, 7));
  symlinkSync("../hello", join(dir, "sub", "link"));
  return dir;
}

test("every verb answers --help with its usage", () => {
  for (const verb of [
    [],
    ["hash"],
    ["store"],
    ["store", "path"],
    ["derivation", "show"],
    ["derivation", "check"],
    ["narinfo", "verify"],
    ["nar", "dump"],
    ["nar", "restore"],
    ["nar", "ls"],
    ["nar", "cat"],
  ]) {
    const run = runKiln([...verb, "--help"]);
    assert.equal(run.status, 0, `${verb.join(" ")} --help: ${run.stderr}`);
    assert.ok(
      run.stdout.startsWith(`Usage: ${["kiln", ...verb].join(" ")} `),
      `${verb.join(" ")}: ${run.stdout.slice(0, 80)}`,
    );
  }
});

test("bad usage exits 2 and bad input exits non-zero, each with one line on stderr", () => {
  const unknown = runKiln(["hash", "--bogus", "x"]);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown option '--bogus'/);
  const missing = runKiln(["hash", join(scratch, "does-not-exist")]);
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /^kiln: error: .*does-not-exist/);
  const badAlgo = runKiln(["hash", "-H", "sha3", "README.md"]);
  assert.equal(badAlgo.status, 1);
  assert.match(badAlgo.stderr, /unknown hash algorithm "sha3"/);
  const badStoreDir = runKiln(["--store-dir", "relative", "store", "path", "README.md"]);
  assert.notEqual(badStoreDir.status, 0);
  assert.match(badStoreDir.stderr, /must be an absolute path/);
});

test("kiln hash of a file's bytes in every format", () => {
  const file = join(scratch, "bytes");
  writeFileSync(file, "hello\n");
  const digest = createHash("sha512").update("hello\n").digest();
  assert.equal(
    runKiln(["hash", "-H", "sha512", "-f", "base16", file]).stdout,
    `${digest.toString("hex")}\n`,
  );
  assert.equal(
    runKiln(["hash", "-H", "sha512", "-f", "base64", file]).stdout,
    `${digest.toString("base64")}\n`,
  );
  assert.equal(
    runKiln(["hash", "-H", "sha512", "-f", "sri", file]).stdout,
    `sha512-${digest.toString("base64")}\n`,
  );
});

test("kiln hash -S nar equals nix hash path, in every algorithm", (t) => {
  if (!requirePeer(t, "nix")) return;
  const dir = sampleTree();
  const nix = createPrivateNixStore();
  try {
    for (const algo of ["sha256", "sha512", "sha1", "md5"]) {
      const expected = nix.run("nix", ["hash", "path", "--type", algo, "--base32", dir]).toString();
      assert.equal(runKiln(["hash", "-S", "nar", "-H", algo, dir]).stdout, expected, algo);
    }
    const sri = nix.run("nix", ["hash", "path", "--sri", dir]).toString();
    assert.equal(runKiln(["hash", "-S", "nar", "-f", "sri", dir]).stdout, sri);
  } finally {
    nix.dispose();
  }
});

test("the plain kiln hash -S nar (its fast path) prints and fails as the full command does", () => {
  const dir = sampleTree();
  const missing = join(scratch, "no-such-tree");
  // `-f nix-base32` is the default, but naming it sends the line through the full CLI.
  const full = runKiln(["hash", "-S", "nar", "-f", "nix-base32", dir, dir]);
  const fast = runKiln(["hash", "-S", "nar", dir, dir]);
  assert.equal(fast.status, 0);
  assert.equal(fast.stdout, full.stdout);
  assert.match(fast.stdout, /^[0-9a-df-np-sv-z]{52}\n[0-9a-df-np-sv-z]{52}\n$/);
  const fullMissing = runKiln(["hash", "-S", "nar", "-f", "nix-base32", dir, missing]);
  const fastMissing = runKiln(["hash", "-r", dir, missing]);
  assert.notEqual(fastMissing.status, 0);
  assert.equal(fastMissing.status, fullMissing.status);
  assert.equal(fastMissing.stdout, fullMissing.stdout);
  assert.equal(fastMissing.stderr, fullMissing.stderr);
  assert.match(fastMissing.stderr, /no-such-tree/);
});

test("kiln store path predicts what nix-store --add and --add-fixed produce, in /nix/store and /gnu/store", (t) => {
  if (!requirePeer(t, "nix-store")) return;
  const dir = sampleTree();
  const file = join(scratch, "flat.txt");
  writeFileSync(file, "flat contents\n");
  for (const storeDir of ["/nix/store", "/gnu/store"]) {
    const nix = createPrivateNixStore(storeDir);
    try {
      const added = nix.run("nix-store", ["--add", dir]).toString().trim();
      assert.equal(runKiln(["--store-dir", storeDir, "store", "path", dir]).stdout.trim(), added);
      const flat = nix.run("nix-store", ["--add-fixed", "sha1", file]).toString().trim();
      assert.equal(
        runKiln([
          "--store-dir",
          storeDir,
          "store",
          "path",
          "--method",
          "flat",
          "--algo",
          "sha1",
          file,
        ]).stdout.trim(),
        flat,
      );
      const rec512 = nix
        .run("nix-store", ["--add-fixed", "--recursive", "sha512", dir])
        .toString()
        .trim();
      assert.equal(
        runKiln(["store", "path", "--method", "recursive", "--algo", "sha512", dir], {
          env: { KILN_STORE_DIR: storeDir },
        }).stdout.trim(),
        rec512,
      );
      const text = nix
        .run("nix-instantiate", [
          "--eval",
          "--expr",
          'builtins.toFile "flat.txt" "flat contents\\n"',
        ])
        .toString()
        .trim();
      assert.equal(
        `"${runKiln(["--store-dir", storeDir, "store", "path", "--method", "text", file]).stdout.trim()}"`,
        text,
      );
    } finally {
      nix.dispose();
    }
  }
});

test("kiln derivation show and check agree with Nix; a tampered .drv is reported", (t) => {
  if (!requirePeer(t, "nix-instantiate")) return;
  const nix = createPrivateNixStore("/gnu/store");
  try {
    const expr = `let dep = derivation { name = "dep"; system = "x86_64-linux"; builder = "/bin/sh"; outputs = [ "out" "dev" ]; };
      in derivation { name = "top"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo \\"hi\\"\\n" ]; inherit dep; devOut = dep.dev; }`;
    const drvPath = nix
      .run("nix-instantiate", ["--expr", expr])
      .toString()
      .trim()
      .split("\n")
      .pop() as string;
    const real = ["--store-dir", "/gnu/store", "--real-store-dir", nix.realStoreDir];
    const shown = runKiln([...real, "derivation", "show", drvPath]);
    assert.equal(shown.status, 0, shown.stderr);
    assert.deepEqual(
      JSON.parse(shown.stdout),
      JSON.parse(nix.run("nix", ["show-derivation", drvPath]).toString()),
    );
    const checked = runKiln([...real, "derivation", "check", drvPath]);
    assert.equal(checked.status, 0, checked.stderr);
    assert.equal(checked.stdout, `${drvPath}: ok\n`);

    const text = readFileSync(nix.realStoreDir + drvPath.slice("/gnu/store".length), "utf8");
    const out = JSON.parse(shown.stdout)[drvPath].outputs.out.path as string;
    const tampered = join(scratch, drvPath.slice("/gnu/store/".length));
    writeFileSync(tampered, text.replaceAll(out, out.replace(/-top$/, "-tip")));
    const bad = runKiln([...real, "derivation", "check", tampered]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /output out is \/gnu\/store\/\S+-tip, expected \/gnu\/store\/\S+-top/);
  } finally {
    nix.dispose();
  }
});

test("kiln narinfo verify accepts real Nix and Guix signatures and names what fails", () => {
  const vectors = JSON.parse(readFileSync(join(fixtures, "narinfo.json"), "utf8")) as Array<
    Record<string, string>
  >;
  const key = vectors.find((v) => v.kind === "signing-key") as Record<string, string>;
  const narinfo = vectors.find((v) => v.kind === "narinfo") as Record<string, string>;
  const text = (narinfo.narinfo ?? narinfo.text) as string;
  const keyFile = join(scratch, "nix.pub");
  writeFileSync(keyFile, key.publicKey);
  const good = join(scratch, "good.narinfo");
  writeFileSync(good, text);
  const ok = runKiln(["narinfo", "verify", "--key", keyFile, good]);
  assert.equal(ok.status, 0, ok.stderr);

  const bad = join(scratch, "bad.narinfo");
  writeFileSync(
    bad,
    text.replace(/NarSize: (\d+)/, (_m, n) => `NarSize: ${Number(n) + 1}`),
  );
  const refused = runKiln(["narinfo", "verify", "--key", keyFile, good, bad]);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /bad\.narinfo: .*test-1/);
  assert.doesNotMatch(refused.stderr, /good\.narinfo/);

  const guix = JSON.parse(readFileSync(join(fixtures, "guix-narinfo.json"), "utf8")).cases[0];
  const guixKey = join(scratch, "guix.pub");
  const guixNarinfo = join(scratch, "sed.narinfo");
  writeFileSync(guixKey, guix.publicKey);
  writeFileSync(guixNarinfo, guix.narinfo);
  assert.equal(runKiln(["narinfo", "verify", "--key", guixKey, guixNarinfo]).status, 0);
  writeFileSync(guixNarinfo, guix.narinfo.replace("sed-4.4\nURL", "sed-4.5\nURL"));
  const guixBad = runKiln(["narinfo", "verify", "--key", guixKey, guixNarinfo]);
  assert.equal(guixBad.status, 1);
  assert.match(guixBad.stderr, /Signature/);
  // The Guix key does not vouch for a Nix-signed narinfo.
  assert.equal(runKiln(["narinfo", "verify", "--key", guixKey, good]).status, 1);
});
