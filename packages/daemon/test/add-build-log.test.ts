/**
 * AddBuildLog from a real Nix 2.8 client: `nix store copy-log` takes the log of a build
 * made by real Nix (in a private store) and hands it to `kiln daemon`, which keeps it
 * where Kiln's own build logs go. Only trusted clients may add logs.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { test } from "node:test";
import { readBuildLog } from "@kiln/builder/read-build-log";
import { requirePeer } from "@kiln/testkit";
import { busyboxExpression, useDaemonWithNix } from "./daemon-harness.ts";

const setup = useDaemonWithNix();

test("nix store copy-log hands a Nix build's log to the daemon; untrusted clients are refused", async (t) => {
  if (!requirePeer(t, "nix-store") || !requirePeer(t, "bwrap", "bubblewrap")) return;
  const file = join(setup.work, "logged.nix");
  writeFileSync(
    file,
    busyboxExpression("logged", 'echo "a line from the build of logged"; echo done > "$out"'),
  );
  const drv = setup.nix.run("nix-instantiate", [file]).toString().trim();
  setup.nix.run("nix-store", ["--realise", drv]);
  assert.equal(setup.daemon.nix("nix-instantiate", [file], { cwd: setup.work }).trim(), drv);
  const noLog = { queryPathInfo: () => undefined };
  assert.equal(readBuildLog({ stateDir: setup.daemon.stateDir }, noLog, drv), undefined);

  const refused = setup.daemon.nixResult("nix", [
    "store",
    "copy-log",
    "--from",
    setup.nix.uri,
    drv,
  ]);
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /not (allowed|privileged|trusted)/i);
  assert.equal(readBuildLog({ stateDir: setup.daemon.stateDir }, noLog, drv), undefined);

  const copied = setup.daemon.nixResult(
    "nix",
    ["store", "copy-log", "--from", setup.nix.uri, drv],
    {
      trusted: true,
    },
  );
  assert.equal(copied.status, 0, `${copied.stderr}\n${setup.daemon.log().slice(-2000)}`);
  const log = readBuildLog({ stateDir: setup.daemon.stateDir }, noLog, drv);
  assert.ok(log, "the daemon kept no log");
  assert.match(await text(log), /a line from the build of logged/);
});
