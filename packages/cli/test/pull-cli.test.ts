/**
 * `kiln pull`, `kiln describe`, `kiln time-machine` and package names from the current
 * channels, run as a user would, against git repositories made here (file paths and
 * file:// URLs: no network), each test with its own store, state, HOME and cache.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, type TestContext, test } from "node:test";
import { requirePeer } from "@kiln/testkit";
import { runKiln } from "./run-kiln.ts";

const root = mkdtempSync(join(tmpdir(), "kiln-pull-cli-"));
after(() => rmSync(root, { recursive: true, force: true }));

const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: "Kiln Test",
  GIT_AUTHOR_EMAIL: "test@kiln.example.org",
  GIT_COMMITTER_NAME: "Kiln Test",
  GIT_COMMITTER_EMAIL: "test@kiln.example.org",
};

/** A repository with `files` committed on `main`; returns the commit. */
function commit(repo: string, files: Record<string, string>): string {
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", repo, ...args], {
      env: { ...process.env, ...GIT_IDENTITY, HOME: root },
      encoding: "utf8",
    }).trim();
  if (!existsSync(repo)) {
    mkdirSync(repo, { recursive: true });
    git("init", "-q", "-b", "main");
  }
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(repo, path)), { recursive: true });
    writeFileSync(join(repo, path), text);
  }
  git("add", "-A");
  git("commit", "-q", "-m", "change");
  return git("rev-parse", "HEAD");
}

/** A channel of one trivial package NAME@VERSION whose program prints "NAME VERSION". */
function channelFiles(channel: string, name: string, version: string): Record<string, string> {
  return {
    "channel.json": JSON.stringify({ name: channel, modules: [`modules/${name}.ts`] }),
    [`modules/${name}.ts`]: `import { licenses, type Package } from "@kiln/packages";
export const pkg: Package = {
  name: "${name}",
  version: "${version}",
  buildSystem: "trivial",
  arguments: {
    builder: 'mkdir -p "$out/bin"; printf "#!/bin/sh\\\\necho ${name} ${version}\\\\n" > "$out/bin/${name}"; chmod +x "$out/bin/${name}"',
  },
  synopsis: "Say ${name} ${version}",
  description: "This package provides a program that says its name and version.",
  license: licenses.cc0,
  homePage: "https://kiln.example.org/${name}",
};
`,
  };
}

let scratchCount = 0;

/** A user: store, state, HOME with its channels file; `kiln` runs with them. */
function scratch(channels: ReadonlyArray<{ name: string; url: string; commit?: string }>) {
  const dir = join(root, `user-${++scratchCount}`);
  const home = join(dir, "home");
  mkdirSync(join(home, ".config", "kiln"), { recursive: true });
  writeFileSync(join(home, ".config", "kiln", "channels.json"), JSON.stringify(channels));
  const env = {
    HOME: home,
    USER: "ada",
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_CACHE_HOME: join(home, ".cache"),
    ...GIT_IDENTITY,
  };
  const flags = [
    "--store-dir",
    "/gnu/store",
    "--real-store-dir",
    join(dir, "store"),
    "--state-dir",
    join(dir, "state"),
  ];
  const profileDir = join(dir, "state", "kiln", "profiles", "per-user", "ada");
  return {
    home,
    kiln: (...args: string[]) => runKiln([...flags, ...args], { env }),
    /** The generation links of current-kiln. */
    generations: () =>
      existsSync(profileDir)
        ? readdirSync(profileDir)
            .filter((name) => /^current-kiln-\d+-link$/.test(name))
            .sort()
        : [],
  };
}

function ok(run: ReturnType<typeof runKiln>): string {
  assert.equal(run.status, 0, run.stderr);
  return run.stdout;
}

const needGit = (t: TestContext) => requirePeer(t, "git");

test("pull makes a generation per change, describes it, lists and rolls back", async (t) => {
  if (!needGit(t)) return;
  const repo = join(root, "one");
  const first = commit(repo, channelFiles("one", "greet", "1.0"));
  const user = scratch([{ name: "one", url: `file://${repo}` }]);

  const pulled = user.kiln("pull");
  assert.equal(ok(pulled), "switched from generation 0 to 1\n");
  assert.match(pulled.stderr, /Updating channel 'one' from Git repository at 'file:\/\/.*'/);
  assert.match(
    readlinkSync(join(user.home, ".config", "kiln", "current")),
    /\/state\/kiln\/profiles\/per-user\/ada\/current-kiln$/,
  );
  assert.match(ok(user.kiln("show", "greet")), /^name: greet\nversion: 1\.0\n/);

  // Nothing new upstream: nothing to be done, no generation.
  const again = user.kiln("pull");
  assert.equal(ok(again), "");
  assert.match(again.stderr, /nothing to be done/);
  assert.deepEqual(user.generations(), ["current-kiln-1-link"]);

  const text = ok(user.kiln("describe"));
  assert.match(
    text,
    new RegExp(
      `^Generation 1\\t.*\\t\\(current\\)\\n  one ${first.slice(0, 7)}\\n    repository URL: file://${repo}\\n    branch: main\\n    commit: ${first}\\n$`,
    ),
  );
  const json = JSON.parse(ok(user.kiln("describe", "--format=json")));
  assert.equal(json.generation, 1);
  assert.deepEqual(
    json.channels.map(({ item, ...rest }: { item: string }) => rest),
    [{ name: "one", url: `file://${repo}`, branch: "main", commit: first }],
  );
  const pinnedFile = join(root, "pinned.json");
  writeFileSync(pinnedFile, ok(user.kiln("describe", "-f", "channels")));

  const second = commit(repo, channelFiles("one", "greet", "2.0"));
  assert.equal(ok(user.kiln("pull")), "switched from generation 1 to 2\n");
  assert.match(ok(user.kiln("show", "greet")), /^name: greet\nversion: 2\.0\n/);
  const listed = ok(user.kiln("pull", "-l"));
  assert.match(listed, new RegExp(`^Generation 1\\t[^\\n]*\\n  one ${first.slice(0, 7)}\\n`));
  assert.match(
    listed,
    new RegExp(`\\nGeneration 2\\t[^\\n]*\\t\\(current\\)\\n  one ${second.slice(0, 7)}\\n`),
  );
  assert.match(ok(user.kiln("pull", "-l", "2")), /^Generation 2\t/);

  assert.equal(ok(user.kiln("pull", "--roll-back")), "switched from generation 2 to 1\n");
  assert.match(ok(user.kiln("show", "greet")), /^version: 1\.0$/m);
  assert.match(ok(user.kiln("describe")), new RegExp(`commit: ${first}\\n`));

  // A pinned commit (here from describe -f channels): back to the first commit's tree.
  assert.equal(
    ok(user.kiln("pull", "--commit", second.slice(0, 8))),
    "switched from generation 1 to 2\n",
  );
  assert.match(ok(user.kiln("describe")), new RegExp(`commit: ${second}\\n`));
  assert.equal(ok(user.kiln("pull", "-C", pinnedFile)), "switched from generation 2 to 3\n");
  assert.match(ok(user.kiln("show", "greet")), /^version: 1\.0$/m);

  assert.match(
    ok(user.kiln("pull", "--delete-generations", "1")),
    /deleting .*current-kiln-1-link/,
  );
  assert.deepEqual(user.generations(), ["current-kiln-2-link", "current-kiln-3-link"]);
});

test("two channels: package names come from both; describe lists both", async (t) => {
  if (!needGit(t)) return;
  const a = join(root, "two-a");
  const b = join(root, "two-b");
  commit(a, channelFiles("alpha", "apple", "1.0"));
  commit(b, channelFiles("beta", "banana", "3.1"));
  const user = scratch([
    { name: "alpha", url: a },
    { name: "beta", url: `file://${b}` },
  ]);
  // Before any pull, names come from the repository's sample channel.
  assert.match(ok(user.kiln("show", "hello")), /^name: hello\n/);
  ok(user.kiln("pull"));
  assert.match(ok(user.kiln("show", "apple")), /\nlocation: alpha:modules\/apple\.ts\n/);
  assert.match(ok(user.kiln("show", "banana")), /^name: banana\nversion: 3\.1\n/);
  assert.match(
    ok(user.kiln("search", "say")),
    /name: apple[\s\S]*name: banana|name: banana[\s\S]*name: apple/,
  );
  const described = JSON.parse(ok(user.kiln("describe", "-f", "json")));
  assert.deepEqual(
    described.channels.map((c: { name: string }) => c.name),
    ["alpha", "beta"],
  );
  // --channel still overrides the current channels.
  const unknown = user.kiln("show", "--channel", join(root, "two-a"), "banana");
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /unknown package "banana"/);
});

test("a failing pull says why in one line and makes no generation", async (t) => {
  if (!needGit(t)) return;
  const good = join(root, "errors-good");
  commit(good, channelFiles("good", "greet", "1.0"));
  const noManifest = join(root, "errors-no-manifest");
  commit(noManifest, { "modules/x.ts": "export {};\n" });
  const user = scratch([{ name: "good", url: good }]);
  ok(user.kiln("pull"));
  const cases: Array<[string[], RegExp]> = [
    [
      ["--url", "example.org:kiln"],
      /^kiln: error: channel good: unsupported repository URL "example\.org:kiln"$/m,
    ],
    [
      ["--url", join(root, "nowhere")],
      /^kiln: error: channel good: cannot fetch .*nowhere: fatal: .*$/m,
    ],
    [
      ["--commit", "0123456789abcdef"],
      /^kiln: error: channel good: commit 0123456789abcdef not found in /m,
    ],
    [
      ["--branch", "no-such-branch"],
      /^kiln: error: channel good: branch no-such-branch not found in /m,
    ],
    [
      ["--url", noManifest],
      /^kiln: error: channel good: no channel\.json in .*errors-no-manifest at commit [0-9a-f]{40}$/m,
    ],
  ];
  for (const [args, message] of cases) {
    const run = user.kiln("pull", ...args);
    assert.equal(run.status, 1, args.join(" "));
    assert.match(run.stderr, message);
    assert.equal(run.stderr.match(/^kiln: error:/gm)?.length, 1);
    assert.deepEqual(user.generations(), ["current-kiln-1-link"], args.join(" "));
  }
  const missingFile = user.kiln("pull", "-C", join(root, "no-such-channels.json"));
  assert.notEqual(missingFile.status, 0);
  assert.match(missingFile.stderr, /no-such-channels\.json/);
  assert.deepEqual(user.generations(), ["current-kiln-1-link"]);
  const nothing = scratch([{ name: "good", url: good }]);
  const described = nothing.kiln("describe");
  assert.equal(described.status, 3);
  assert.match(described.stderr, /no channels pulled in .*current-kiln\nhint: run kiln pull/);
});

test("time-machine builds an older version; package -i by name, then -u after a pull", async (t) => {
  if (!needGit(t) || !requirePeer(t, "bwrap", "bubblewrap")) return;
  const repo = join(root, "machine");
  const old = commit(repo, channelFiles("tiny", "greet", "1.0"));
  const user = scratch([{ name: "tiny", url: repo }]);
  ok(user.kiln("bootstrap", "import"));
  ok(user.kiln("pull"));
  commit(repo, channelFiles("tiny", "greet", "2.0"));

  const built = user.kiln("time-machine", "--commit", old, "--", "build", "greet");
  assert.match(ok(built), /^\/gnu\/store\/[a-z0-9]{32}-greet-1\.0\n$/);
  assert.match(ok(user.kiln("time-machine", "--", "show", "greet")), /^version: 2\.0$/m);
  // The current generation is untouched: still the first pull, still greet 1.0.
  assert.deepEqual(user.generations(), ["current-kiln-1-link"]);
  const refused = user.kiln("time-machine", "--", "gc");
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /time-machine cannot run "gc"/);

  assert.equal(ok(user.kiln("package", "-i", "greet")), "1 package in profile\n");
  assert.match(
    ok(user.kiln("package", "-I")),
    /^greet\t1\.0\tout\t\/gnu\/store\/[a-z0-9]{32}-greet-1\.0\n$/,
  );
  const noUpgrade = user.kiln("package", "-u");
  assert.match(noUpgrade.stderr, /nothing to be done/);
  ok(user.kiln("pull"));
  const upgraded = user.kiln("package", "-u", "^gr");
  assert.match(upgraded.stderr, /upgrading greet 1\.0 → 2\.0/);
  assert.match(
    ok(user.kiln("package", "-I")),
    /^greet\t2\.0\tout\t\/gnu\/store\/[a-z0-9]{32}-greet-2\.0\n$/,
  );
  const unknown = user.kiln("package", "-i", "no-such-package");
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /unknown package "no-such-package"/);
});
