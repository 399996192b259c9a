/**
 * `kiln package` and `kiln pull` through the daemon, as `guix package` and `guix pull` go
 * through guix-daemon: the unprivileged user nobody (who cannot write the store or its
 * database) pulls a channel from a local git repository, installs a store item and a
 * package of that channel by name in a profile of their own, lists and rolls back its
 * generations; the daemon builds the profiles (builtin:buildenv) and the package. Every
 * generation points at a valid store item, which `kiln gc` through the daemon keeps.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { requirePeer } from "@kiln/testkit";
import { asNobody, kilnScratch, requireRoot, startKilnDaemon } from "./start-kiln-daemon.ts";

const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: "Kiln Test",
  GIT_AUTHOR_EMAIL: "test@kiln.example.org",
  GIT_COMMITTER_NAME: "Kiln Test",
  GIT_COMMITTER_EMAIL: "test@kiln.example.org",
};

/** A one-package channel `one` (greet 1.0, trivial build system) in a new git repository. */
function makeChannelRepository(repo: string, home: string): void {
  const files: Record<string, string> = {
    "channel.json": JSON.stringify({ name: "one", modules: ["modules/greet.ts"] }),
    "modules/greet.ts": `import { licenses, type Package } from "@kiln/packages";
export const pkg: Package = {
  name: "greet",
  version: "1.0",
  buildSystem: "trivial",
  arguments: {
    builder: 'mkdir -p "$out/bin"; printf "#!/bin/sh\\\\necho greet\\\\n" > "$out/bin/greet"; chmod +x "$out/bin/greet"',
  },
  synopsis: "Say greet",
  description: "This package provides a program that greets.",
  license: licenses.cc0,
  homePage: "https://kiln.example.org/greet",
};
`,
  };
  mkdirSync(repo, { recursive: true });
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", repo, ...args], {
      env: { ...process.env, ...GIT_IDENTITY, HOME: home },
    });
  git("init", "-q", "-b", "main");
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(repo, path)), { recursive: true });
    writeFileSync(join(repo, path), text);
  }
  git("add", "-A");
  git("commit", "-q", "-m", "greet 1.0");
}

test("nobody pulls, installs, lists and rolls back through the daemon; gc keeps it", async (t) => {
  if (!requirePeer(t, "bwrap", "bubblewrap") || !requirePeer(t, "git")) return;
  if (!requireRoot(t, "run the daemon as its owner and the client as nobody")) return;
  const { root: scratch, env: storeEnv } = kilnScratch("kiln-profiles-daemon-");
  t.after(() => rmSync(scratch, { recursive: true, force: true }));
  const daemon = await startKilnDaemon(storeEnv);
  try {
    // nobody's own files: a HOME with the channels file, a directory for a profile, the
    // per-user profiles directory (made by the administrator, as for Guix), the channel.
    const home = join(scratch, "home");
    const repo = join(scratch, "repo");
    const mine = join(scratch, "mine");
    const perUser = join(storeEnv.KILN_STATE_DIR, "kiln", "profiles", "per-user", "nobody");
    mkdirSync(join(home, ".config", "kiln"), { recursive: true });
    writeFileSync(
      join(home, ".config", "kiln", "channels.json"),
      JSON.stringify([{ name: "one", url: `file://${repo}` }]),
    );
    makeChannelRepository(repo, scratch);
    mkdirSync(mine);
    mkdirSync(perUser, { recursive: true });
    const item = join(scratch, "item");
    mkdirSync(join(item, "bin"), { recursive: true });
    writeFileSync(join(item, "bin", "tool"), "#!/bin/sh\n", { mode: 0o755 });
    for (const dir of [home, repo, mine, perUser]) execFileSync("chown", ["-R", "nobody", dir]);
    const env = {
      ...storeEnv,
      HOME: home,
      USER: "nobody",
      XDG_CONFIG_HOME: join(home, ".config"),
      XDG_CACHE_HOME: join(home, ".cache"),
    };
    const kiln = (...args: string[]) => {
      const run = asNobody(args, env);
      assert.equal(run.status, 0, `kiln ${args.join(" ")}: ${run.stderr}\n${daemon.log()}`);
      return run.stdout;
    };
    const real = (path: string) =>
      join(storeEnv.KILN_REAL_STORE_DIR, path.slice("/gnu/store/".length));

    assert.ok(kiln("bootstrap", "import").trim().startsWith("/gnu/store/"));

    // kiln pull: the checkout goes in with AddToStore, the daemon builds the profile.
    assert.equal(kiln("pull"), "switched from generation 0 to 1\n");
    const pulled = join(perUser, "current-kiln-1-link");
    assert.match(kiln("pull", "-l"), /^Generation 1\t.*\(current\)\n {2}one [0-9a-f]{7}\n/);
    assert.ok(existsSync(real(`${readlinkSync(pulled)}/manifest`)));

    // kiln package, in a profile outside the profiles directory (an indirect root).
    const profile = join(mine, "profile");
    const toolItem = kiln("store", "add", item).trim();
    assert.equal(kiln("package", "-p", profile, "-i", toolItem), "1 package in profile\n");
    assert.equal(kiln("package", "-p", profile, "-i", "greet"), "2 packages in profile\n");
    const second = readlinkSync(`${profile}-2-link`);
    // Links to logical store paths: follow them through the real store directory.
    const target = (link: string) => real(readlinkSync(real(link)));
    assert.match(target(`${second}/bin/greet`), /-greet-1\.0\/bin\/greet$/);
    assert.ok(existsSync(target(`${second}/bin/greet`)), "greet is in the profile");
    assert.equal(readlinkSync(real(`${second}/bin/tool`)), `${toolItem}/bin/tool`);
    const listed = kiln("package", "-p", profile, "-l");
    assert.match(listed, /^Generation 1\t[^\n]*\n {2}item\t/);
    assert.match(listed, /\nGeneration 2\t[^\n]*\t\(current\)\n/);
    assert.match(listed, /\n {2}greet\t1\.0\tout\t\/gnu\/store\/[0-9a-z]{32}-greet-1\.0\n/);
    assert.match(kiln("package", "-p", profile, "-I", "greet"), /^greet\t1\.0\tout\t/);
    assert.equal(
      kiln("package", "-p", profile, "--roll-back"),
      "switched from generation 2 to 1\n",
    );
    assert.equal(readlinkSync(profile), "profile-1-link");

    // The collector, through the daemon, keeps every generation and what it holds.
    kiln("gc");
    const first = readlinkSync(`${profile}-1-link`);
    for (const path of [readlinkSync(pulled), first, second, toolItem]) {
      assert.ok(existsSync(real(path)), `${path} survived the collection`);
    }
    const live = kiln("gc", "--list-live").split("\n");
    for (const path of [readlinkSync(pulled), first, second]) assert.ok(live.includes(path), path);
  } finally {
    await daemon.stop();
  }
});
