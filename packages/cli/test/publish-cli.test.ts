/**
 * `kiln publish` and the key verbs of `kiln archive`, run as a user runs them: the real
 * entry point in a child process, over a scratch store with logical /nix/store.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { runKiln } from "./run-kiln.ts";

const MAIN = new URL("../bin/kiln.js", import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), "kiln-publish-cli-"));
const env = {
  KILN_CONFIG_DIR: join(root, "etc"),
  KILN_STORE_DIR: "/nix/store",
  KILN_REAL_STORE_DIR: join(root, "store"),
  KILN_STATE_DIR: join(root, "state"),
};
const keys = {
  pub: join(root, "etc", "signing-key.pub"),
  sec: join(root, "etc", "signing-key.sec"),
};
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) child.kill("SIGKILL");
  spawnSync("chmod", ["-R", "u+w", root]);
  rmSync(root, { recursive: true, force: true });
});

/** Starts `kiln publish` and waits for the line that names its URL. */
async function startPublish(
  args: readonly string[],
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [MAIN, "publish", "--port", "0", ...args], {
    env: { ...process.env, ...env },
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (chunk) => {
      stdout += chunk;
      const match = /^publishing \/nix\/store on (http:\/\/\S+)$/m.exec(stdout);
      if (match) resolve(match[1]);
    });
    child.on("exit", (code) => reject(new Error(`kiln publish exited ${code}: ${stderr}`)));
  });
  return { child, url };
}

test("kiln publish --help lists guix publish's options", () => {
  const help = runKiln(["publish", "--help"]);
  assert.equal(help.status, 0, help.stderr);
  assert.ok(help.stdout.startsWith("Usage: kiln publish "));
  for (const option of [
    "-p, --port",
    "--listen",
    "-u, --user",
    "-C, --compression",
    "-c, --cache",
    "--cache-bypass-threshold",
    "--workers",
    "--serve-processes",
    "--ttl",
    "--negative-ttl",
    "--nar-path",
    "--public-key",
    "--private-key",
    "/nix-cache-info",
    "takes the LAST",
  ]) {
    assert.ok(help.stdout.includes(option), option);
  }
});

test("archive --generate-key writes the pair once; --export-key prints it; --authorize adds keys", () => {
  // Into the configuration directory by default ($KILN_CONFIG_DIR here, else /etc/kiln).
  const generate = ["archive", "--generate-key"];
  const first = runKiln(generate, { env });
  assert.equal(first.status, 0, first.stderr);
  assert.equal(statSync(keys.sec).mode & 0o777, 0o400);
  assert.match(readFileSync(keys.pub, "utf8"), /^\(public-key \n \(ecc \n/);
  const again = runKiln([...generate, "--public-key", keys.pub, "--private-key", keys.sec]);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /already exists; not overwriting a signing key/);

  const nix = runKiln([
    "archive",
    "--export-key",
    "--format",
    "nix",
    "--public-key",
    keys.pub,
    "--key-name",
    "farm-1",
  ]);
  assert.equal(nix.status, 0, nix.stderr);
  assert.match(nix.stdout, /^farm-1:[A-Za-z0-9+/]{43}=\n$/);
  const guix = runKiln(["archive", "--export-key", "--format", "guix", "--public-key", keys.pub]);
  assert.equal(guix.stdout, readFileSync(keys.pub, "utf8"));

  const acl = join(root, "etc", "acl");
  const authorize = runKiln(["archive", "--authorize"], { input: nix.stdout, env });
  assert.equal(authorize.status, 0, authorize.stderr);
  const q = Buffer.from(nix.stdout.trim().split(":")[1], "base64").toString("hex").toUpperCase();
  assert.ok(readFileSync(acl, "utf8").includes(`(q #${q}#)`));
  const twice = runKiln(["archive", "--authorize", "--acl", acl], { input: guix.stdout });
  assert.equal(twice.status, 0);
  assert.match(twice.stderr, /already in/);
  const secret = runKiln(["archive", "--authorize", "--acl", acl], {
    input: readFileSync(keys.sec),
  });
  assert.equal(secret.status, 1);
  assert.match(secret.stderr, /secret key/);
  const both = runKiln(["archive", "--export-key", "--generate-key"]);
  assert.equal(both.status, 2);
});

test("kiln publish serves the store; its narinfos pass kiln narinfo verify; SIGTERM stops it", async () => {
  const src = join(root, "src");
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, "hello"), "hello\n");
  const added = runKiln(["store", "add", src], { env });
  assert.equal(added.status, 0, added.stderr);
  const path = added.stdout.trim();
  const { child, url } = await startPublish(["-C", "zstd:6"]); // keys from $KILN_CONFIG_DIR
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(
    await (await fetch(`${url}/nix-cache-info`)).text(),
    "StoreDir: /nix/store\nWantMassQuery: 0\nPriority: 100\n",
  );
  const narinfo = await (await fetch(`${url}/${path.slice(11, 43)}.narinfo`)).text();
  assert.match(narinfo, /^URL: nar\/zstd\//m);
  writeFileSync(join(root, "served.narinfo"), narinfo);
  // Guix's view (the S-expression key: it vouches for Signature: and, being the same key,
  // for Sig: too) and Nix's (the exported name:base64 key, named kiln-<hostname>-1).
  const guixView = runKiln(["narinfo", "verify", "--key", keys.pub, join(root, "served.narinfo")]);
  assert.equal(guixView.status, 0, guixView.stderr);
  assert.match(guixView.stdout, /valid \(Sig kiln-[^,]+-1, Signature [^,]+\)/);
  writeFileSync(
    join(root, "nix.pub"),
    runKiln(["archive", "--export-key", "--public-key", keys.pub]).stdout,
  );
  const nixView = runKiln([
    "narinfo",
    "verify",
    "--key",
    join(root, "nix.pub"),
    join(root, "served.narinfo"),
  ]);
  assert.equal(nixView.status, 0, nixView.stderr);
  assert.match(nixView.stdout, /valid \(Sig kiln-.+-1, Signature /);
  child.kill("SIGTERM");
  const [code] = await once(child, "exit");
  assert.equal(code, 0);
});

test("kiln publish refuses bad options with a message", () => {
  const run = (args: string[]) =>
    runKiln(
      ["publish", "--port", "0", "--public-key", keys.pub, "--private-key", keys.sec, ...args],
      { env },
    );
  const xz = run(["-C", "xz"]);
  assert.equal(xz.status, 1);
  assert.match(xz.stderr, /unknown compression method "xz"/);
  assert.match(xz.stderr, /hint: .*lzip/);
  assert.match(run(["-C", "lzip:10"]).stderr, /lzip level 10 is out of range 1–9/);
  assert.equal(run(["--serve-processes", "0"]).status, 2);
  assert.match(run(["--ttl", "5"]).stderr, /"5" is not a duration/);
  assert.match(
    run(["--cache-bypass-threshold", "lots", "-c", join(root, "c")]).stderr,
    /is not a size/,
  );
  assert.equal(run(["--workers", "4"]).status, 2);
  assert.equal(run(["--port", "70000"]).status, 2);
  const missing = runKiln(["publish", "--private-key", join(root, "nope.sec")], { env });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /no secret key at .*nope\.sec/);
  assert.match(missing.stderr, /hint: .*--generate-key/);
  const other = join(root, "other");
  runKiln([
    "archive",
    "--generate-key",
    "--public-key",
    `${other}.pub`,
    "--private-key",
    `${other}.sec`,
  ]);
  const mismatch = runKiln(["publish", "--public-key", `${other}.pub`, "--private-key", keys.sec], {
    env,
  });
  assert.equal(mismatch.status, 2);
  assert.match(mismatch.stderr, /is not the public half of/);
});

test("kiln publish -u drops root once listening", async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip("needs root to change user");
    return;
  }
  const nobody = spawnSync("id", ["-u", "nobody"], { encoding: "utf8" }).stdout.trim();
  chmodSync(root, 0o755); // so that nobody can read the store's files
  const { child, url } = await startPublish([
    "--public-key",
    keys.pub,
    "--private-key",
    keys.sec,
    "-u",
    "nobody",
    "--serve-processes",
    "2",
  ]);
  // Every serving process (--serve-processes, 2 here) has dropped root.
  const others = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8")
    .trim()
    .split(/\s+/);
  assert.equal(others.length, 1);
  for (const pid of [child.pid, ...others]) {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    assert.match(
      status,
      new RegExp(`^Uid:\\s+${nobody}\\s+${nobody}\\s+${nobody}\\s+${nobody}$`, "m"),
    );
  }
  assert.equal((await fetch(`${url}/nix-cache-info`)).status, 200);
  child.kill("SIGTERM");
  await once(child, "exit");
});
