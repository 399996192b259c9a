/**
 * `kiln build` substitutes before building: outputs that a cache made by real Nix
 * (`nix copy --to file://…`) offers, signed by a key in the ACL, are fetched and nothing
 * is built; with the key missing from the ACL the substitutes are refused and the
 * derivation is built locally instead.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createPrivateNixStore, requirePeer, serveStaticDirectory } from "@kiln/testkit";
import { exportClosure, realiseIntoNixCache } from "./nix-cache.ts";
import { runKilnAsync } from "./run-kiln.ts";

const _KILN = new URL("../bin/kiln.js", import.meta.url).pathname;
const CHROOT = ["/bin/sh", "/lib", "/lib64", "/usr"].flatMap((path) => [
  "--chroot-directory",
  path,
]);

test("kiln build fetches trusted substitutes instead of building, and builds when they are not trusted", async (t) => {
  if (!requirePeer(t, "nix-store")) return;
  if (!requirePeer(t, "bwrap", "bubblewrap")) return;
  const nix = createPrivateNixStore("/nix/store");
  const scratch = mkdtempSync(join(tmpdir(), "kiln-build-subst-"));
  const cacheDir = join(scratch, "cache");
  const server = await serveStaticDirectory(cacheDir);
  const { url, requests } = server;
  try {
    const drv = nix
      .run("nix-instantiate", [
        "--expr",
        'derivation { name = "subst"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo substituted > $out" ]; }',
      ])
      .toString()
      .trim();
    const { out, publicKeyFile } = realiseIntoNixCache(nix, drv, {
      cacheDir,
      keysDir: scratch,
      keyName: "test-cache-1",
      compression: "zstd",
    });
    const archive = exportClosure(nix, drv);

    for (const trusted of [true, false]) {
      const name = trusted ? "trusted" : "untrusted";
      const configDir = join(scratch, name, "etc");
      mkdirSync(configDir, { recursive: true });
      if (trusted) writeFileSync(join(configDir, "acl"), readFileSync(publicKeyFile));
      const env = {
        KILN_STORE_DIR: "/nix/store",
        KILN_REAL_STORE_DIR: join(scratch, name, "store"),
        KILN_STATE_DIR: join(scratch, name, "state"),
        KILN_CONFIG_DIR: configDir,
      };
      assert.equal(
        (await runKilnAsync(["archive", "--import"], { env, input: archive })).status,
        0,
      );
      requests.length = 0;
      const built = await runKilnAsync(["build", "--substitute-urls", url, ...CHROOT, drv], {
        env,
      });
      assert.equal(built.status, 0, built.stderr);
      assert.equal(built.stdout.trim(), out);
      const log = await runKilnAsync(["build", "--log-file", drv], { env });
      const hash = out.slice("/nix/store/".length, "/nix/store/".length + 32);
      assert.ok(requests.includes(`/${hash}.narinfo`), `narinfo asked for: ${requests.join(" ")}`);
      if (trusted) {
        assert.notEqual(log.status, 0, "nothing was built, so there is no build log");
        // stderr is a pipe here: plain lines, no live progress (no escape sequences).
        const size = /^FileSize: (\d+)$/m.exec(
          readFileSync(join(cacheDir, `${hash}.narinfo`), "utf8"),
        )![1];
        const lines = built.stderr.split("\n");
        const started = lines.indexOf(`substituting ${out}...`);
        assert.ok(started >= 0, built.stderr);
        assert.match(
          lines[started + 1],
          new RegExp(`^downloaded ${out} \\((\\d+B|[\\d.]+KiB)\\)$`),
        );
        assert.ok(Number(size) > 0);
        assert.doesNotMatch(built.stderr, /\u001b\[/);
        assert.ok(
          requests.some((path) => path.startsWith("/nar/")),
          "the nar was downloaded",
        );
        const info = JSON.parse(
          (await runKilnAsync(["store", "path-info", "--json", out], { env })).stdout,
        )[0];
        assert.deepEqual(
          info.narHash,
          JSON.parse(nix.run("nix", ["path-info", "--json", out]).toString())[0].narHash,
        );
      } else {
        assert.equal(log.status, 0, "built locally, so there is a log");
        assert.match(built.stderr, /no trusted keys/);
      }
    }
  } finally {
    await server.close();
    nix.dispose();
  }
});
