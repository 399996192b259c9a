import assert from "node:assert/strict";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { LocalStore } from "@kiln/store/local-store";
import { requirePeer } from "@kiln/testkit";
import { runKilnWith as kiln } from "./run-kiln.ts";

function scratch(storeDir = "/gnu/store") {
  const root = mkdtempSync(join(tmpdir(), "kiln-package-cli-"));
  chmodSync(root, 0o755);
  const home = join(root, "home");
  mkdirSync(home);
  const env = {
    KILN_STORE_DIR: storeDir,
    KILN_REAL_STORE_DIR: join(root, "store"),
    KILN_STATE_DIR: join(root, "state"),
    HOME: home,
    USER: "ada",
  };
  const store = LocalStore.open({
    storeDir,
    realStoreDir: env.KILN_REAL_STORE_DIR,
    stateDir: env.KILN_STATE_DIR,
  });
  const item = async (name: string, files: Record<string, string>) => {
    const dir = join(root, "src", name);
    for (const [relative, contents] of Object.entries(files)) {
      mkdirSync(join(dir, relative, ".."), { recursive: true });
      writeFileSync(join(dir, relative), contents, { mode: 0o755 });
    }
    return store.addToStore(dir);
  };
  const profile = join(env.KILN_STATE_DIR, "kiln", "profiles", "per-user", "ada", "kiln-profile");
  return { root, home, env, store, item, profile };
}

test("install, list, search paths, remove, roll back, switch and delete generations", async () => {
  const { home, env, item, profile } = scratch();
  const hello = await item("hello-2.12", { "bin/hello": "hello", "share/man/man1/hello.1": "m" });
  const tool = await item("tool-3", { "sbin/tool": "tool" });
  const k = (...args: string[]) => kiln(["package", ...args], env);

  const first = k("-i", hello);
  assert.equal(first.status, 0, first.stderr);
  assert.equal(first.stdout, "1 package in profile\n");
  assert.match(first.stderr, /hint: .*--search-paths=prefix/);
  assert.equal(readlinkSync(join(home, ".kiln-profile")), profile);
  assert.equal(readlinkSync(profile), "kiln-profile-1-link");
  assert.equal(k("-i", tool).stdout, "2 packages in profile\n");
  const again = k("-i", tool);
  assert.equal(again.status, 0);
  assert.match(again.stderr, /nothing to be done/);
  assert.equal(k("-I").stdout, `hello\t2.12\tout\t${hello}\ntool\t3\tout\t${tool}\n`);
  assert.equal(k("-I", "^to").stdout, `tool\t3\tout\t${tool}\n`);
  const shown = join(home, ".kiln-profile");
  assert.equal(
    k("--search-paths").stdout,
    `export PATH="${shown}/bin:${shown}/sbin"\nexport MANPATH="${shown}/share/man"\n`,
  );
  assert.equal(
    k("--search-paths=prefix").stdout.split("\n")[0],
    `export PATH="${shown}/bin:${shown}/sbin\${PATH:+:}$PATH"`,
  );
  assert.equal(k("--search-paths=sideways").status, 2);

  assert.equal(k("-r", "hello").stdout, "1 package in profile\n");
  const missing = k("-r", "hello");
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /package 'hello' not found in profile/);

  const generations = k("-l");
  assert.match(
    generations.stdout,
    new RegExp(
      `^Generation 1\\t[A-Z][a-z]{2} \\d{2} \\d{4} \\d{2}:\\d{2}:\\d{2}\\n  hello\\t2\\.12\\tout\\t${hello}\\n\\n` +
        `Generation 2\\t.*\\n  hello.*\\n  tool.*\\n\\nGeneration 3\\t.*\\t\\(current\\)\\n  tool.*\\n\\n$`,
    ),
  );
  assert.equal(k("--roll-back").stdout, "switched from generation 3 to 2\n");
  assert.equal(k("-S", "1").stdout, "switched from generation 2 to 1\n");
  assert.equal(k("-S", "+2").stdout, "switched from generation 1 to 3\n");
  const noSuch = k("-S", "9");
  assert.equal(noSuch.status, 1);
  assert.match(noSuch.stderr, new RegExp(`generation 9 of profile ${profile} does not exist`));

  const current = k("-d", "3");
  assert.equal(current.status, 1);
  assert.match(current.stderr, /warning: not removing generation 3, which is current/);
  assert.match(current.stderr, /kiln: error: no matching generation/);
  const deleted = k("-d", "1..3");
  assert.equal(deleted.status, 0, deleted.stderr);
  assert.equal(deleted.stdout, `deleting ${profile}-1-link\ndeleting ${profile}-2-link\n`);
  assert.match(deleted.stderr, /warning: not removing generation 3, which is current/);
  assert.equal(k("-l").stdout.match(/^Generation/gm)?.length, 1);
  // Rolling back from the only generation left lands on the empty generation 0.
  assert.equal(k("--roll-back").stdout, "switched from generation 3 to 0\n");
  assert.equal(k("-I").stdout, "");
  assert.match(k("--roll-back").stderr, /nothing to do: already at the empty profile/);
  // A new generation after that is 1, replacing the deleted one.
  assert.equal(k("-i", hello).stdout, "1 package in profile\n");
  assert.equal(readlinkSync(profile), "kiln-profile-1-link");
});

test("-p names another profile (-p ~/.kiln-profile is the default one); -m replaces the contents", async () => {
  const { root, home, env, item, profile } = scratch();
  const a = await item("a-1", { "bin/a": "a" });
  const b = await item("b-2", { "bin/b": "b" });
  const custom = join(root, "projects", "dev");
  mkdirSync(join(root, "projects"));
  const k = (...args: string[]) => kiln(["package", ...args], env);
  assert.equal(k("-p", custom, "-i", a, b).status, 0);
  assert.equal(readlinkSync(custom), "dev-1-link");
  assert.equal(
    existsSync(join(home, ".kiln-profile")),
    false,
    "the default profile was not touched",
  );
  assert.equal(k("-p", custom, "-I").stdout, `a\t1\tout\t${a}\nb\t2\tout\t${b}\n`);
  // Its generation is a GC root (indirect, as the profile is outside the state directory).
  const roots = kiln(["gc", "--list-roots"], env).stdout;
  assert.match(roots, new RegExp(`${custom}-1-link -> `));

  const list = join(root, "list.txt");
  writeFileSync(list, `# only b\n${b}\n`);
  assert.equal(k("-m", list).stdout, "1 package in profile\n");
  assert.equal(k("-p", join(home, ".kiln-profile"), "-I").stdout, `b\t2\tout\t${b}\n`);
  writeFileSync(list, JSON.stringify([a, b]));
  assert.equal(k("-m", list, "-p", join(home, ".kiln-profile")).stdout, "2 packages in profile\n");
  assert.equal(readlinkSync(profile), "kiln-profile-2-link");
  const both = k("-m", list, "-i", a);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /-m replaces the whole profile/);
  const notValid = k("-i", "/gnu/store/00000000000000000000000000000000-nothing");
  assert.equal(notValid.status, 1);
  assert.match(notValid.stderr, /is not valid/);
});

test("a profile being changed is locked", async () => {
  const { env, item, profile } = scratch();
  const a = await item("a-1", { "bin/a": "a" });
  mkdirSync(join(profile, ".."), { recursive: true });
  writeFileSync(`${profile}.lock`, `${process.pid}\n`);
  const locked = kiln(["package", "-i", a], env);
  assert.equal(locked.status, 1);
  assert.match(locked.stderr, /profile .*kiln-profile is locked by another process/);
  assert.equal(lstatSync(profile, { throwIfNoEntry: false }), undefined);
});

test("installing a derivation builds it and installs its outputs", async (t) => {
  if (!requirePeer(t, "bwrap", "bubblewrap")) return;
  const { root, env, store } = scratch("/nix/store");
  const source = join(root, "busybox-source");
  mkdirSync(join(source, "bin"), { recursive: true });
  copyFileSync("/bin/busybox", join(source, "bin", "busybox"));
  chmodSync(join(source, "bin", "busybox"), 0o555);
  const busybox = await store.addToStore(source, { name: "busybox" });
  const { computeDerivationOutputs } = await import("@kiln/formats/derivation-outputs");
  const { printDerivation } = await import("@kiln/formats/print-derivation");
  const bare = {
    outputs: new Map([
      ["out", { path: "", hashAlgo: "", hash: "" }],
      ["doc", { path: "", hashAlgo: "", hash: "" }],
    ]),
    inputDrvs: new Map(),
    inputSrcs: [busybox],
    system: "x86_64-linux",
    builder: `${busybox}/bin/busybox`,
    args: [
      "sh",
      "-c",
      "mkdir -p $out/bin $doc/share/doc; echo hi > $out/bin/greet; echo doc > $doc/share/doc/greet",
    ],
    env: new Map([
      ["name", "greet-1.0"],
      ["out", ""],
      ["doc", ""],
    ]),
  };
  const drv = computeDerivationOutputs(bare, { resolve: () => bare, storeDir: "/nix/store" });
  const drvPath = await store.addTextToStore("greet-1.0.drv", printDerivation(drv), [busybox]);
  const run = kiln(["package", "-i", drvPath], env);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, "2 packages in profile\n");
  const out = drv.outputs.get("out")!.path;
  const doc = drv.outputs.get("doc")!.path;
  assert.equal(
    kiln(["package", "-I"], env).stdout,
    `greet\t1.0\tdoc\t${doc}\ngreet\t1.0\tout\t${out}\n`,
  );
  assert.equal(kiln(["package", "-r", "greet:doc"], env).stdout, "1 package in profile\n");
});
