/**
 * `kiln build -S`, as `guix build -S`: a package's source only. A local or text origin is
 * added to the store and its path printed; a URL origin's fixed-output derivation is built
 * (here from a local HTTP server) and its output printed; `-d` prints the origin's `.drv`;
 * a package without a source is an error naming it.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { requirePeer } from "@kiln/testkit";
import { runKiln, runKilnAsync } from "./run-kiln.ts";

const SAMPLE = new URL("../../../channels/sample", import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), "kiln-build-source-"));
after(() => rmSync(root, { recursive: true, force: true }));
const env = {
  KILN_STORE_DIR: "/gnu/store",
  KILN_REAL_STORE_DIR: join(root, "store"),
  KILN_STATE_DIR: join(root, "state"),
};
const real = (path: string) => join(env.KILN_REAL_STORE_DIR, path.slice("/gnu/store/".length));
const seeded = runKiln(["bootstrap", "import"], { env });

test("-S of a package with a local or text source adds it and prints its path", () => {
  assert.equal(seeded.status, 0, seeded.stderr);
  const channel = ["--channel", SAMPLE];
  const local = runKiln(["build", "-S", ...channel, "hello"], { env });
  assert.equal(local.status, 0, local.stderr);
  assert.match(local.stdout, /^\/gnu\/store\/[0-9a-z]{32}-hello-2\.12-source\n$/);
  assert.ok(existsSync(join(real(local.stdout.trim()), "hello.in")));
  const drv = runKiln(["build", "-S", "-d", ...channel, "hello"], { env });
  assert.equal(drv.stdout, local.stdout, "no derivation: -d prints the item itself");
  const text = runKiln(["build", "-S", ...channel, "man-lite"], { env });
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^\/gnu\/store\/[0-9a-z]{32}-pages\.txt\n$/);
  assert.match(readFileSync(real(text.stdout.trim()), "utf8"), /^hello: print a greeting\n/);
});

test("-S of a package without a source is an error naming it; .drv arguments are refused", () => {
  const none = runKiln(["build", "-S", "--channel", SAMPLE, "greeting-data"], { env });
  assert.equal(none.status, 1);
  assert.match(none.stderr, /greeting-data@1\.0: package has no source/);
  const drv = runKiln(["build", "-S", "/gnu/store/x-y.drv"], { env });
  assert.equal(drv.status, 2);
  assert.match(drv.stderr, /not a package name/);
});

test("-S of a URL origin builds its fixed-output derivation; -d prints that .drv", async (t) => {
  if (!requirePeer(t, "bwrap", "bubblewrap")) return;
  const body = "the source tarball, or so\n";
  const server = createServer((request, response) => {
    response.end(request.url === "/src/thing-1.0.txt" ? body : "");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  const { port } = server.address() as { port: number };
  const file = join(root, "thing.ts");
  writeFileSync(
    file,
    `export const thing = { name: "thing", version: "1.0", buildSystem: "trivial", arguments: { builder: "cp $src $out" }, source: { kind: "url", url: "http://127.0.0.1:${port}/src/thing-1.0.txt", sha256: "${createHash("sha256").update(body).digest("hex")}" }, synopsis: "Thing", description: "Thing.", license: [] };\n`,
  );
  const drv = await runKilnAsync(["build", "-S", "-d", "-f", file], { env });
  assert.equal(drv.status, 0, drv.stderr);
  assert.match(drv.stdout, /^\/gnu\/store\/[0-9a-z]{32}-thing-1\.0\.txt\.drv\n$/);
  const built = await runKilnAsync(["build", "-S", "-f", file], { env });
  assert.equal(built.status, 0, built.stderr);
  assert.match(built.stdout, /^\/gnu\/store\/[0-9a-z]{32}-thing-1\.0\.txt\n$/);
  assert.equal(readFileSync(real(built.stdout.trim()), "utf8"), body);
});
