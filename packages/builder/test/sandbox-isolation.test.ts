/**
 * Isolation tests: real bubblewrap sandboxes running the statically linked busybox as a
 * store path. Each test checks from the host side too, so that a sandbox that leaks
 * fails the test rather than passing silently.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { dirname, join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { KilnError } from "@kiln/formats/kiln-error";
import { requirePeer } from "@kiln/testkit";
import { buildEnvironment } from "../src/build-environment.ts";
import type { BuildUser } from "../src/build-users.ts";
import { canonicalisePathMetadata } from "../src/canonicalise.ts";
import { runInSandbox } from "../src/sandbox.ts";
import { sandboxLayout } from "../src/sandbox-layout.ts";
import type { SandboxInput, SandboxOptions, SandboxSpec } from "../src/sandbox-spec.ts";
import { createBusyboxStore, STORE_DIR } from "./busybox-store.ts";

const isRoot = process.getuid?.() === 0;
const store = createBusyboxStore();
after(() => store.dispose());

interface BuildOptions {
  fixedOutput?: boolean;
  inputs?: SandboxInput[];
  drvName?: string;
  spec?: Partial<SandboxSpec>;
  sandbox?: Partial<SandboxOptions>;
}

/** Runs `script` with busybox sh in a sandbox; `$out` is a fresh output path. */
async function build(script: string, options: BuildOptions = {}) {
  const out = store.storePath("out");
  const drvName = options.drvName ?? "isolation-test";
  const fixedOutput = options.fixedOutput ?? false;
  const env = buildEnvironment(
    { out },
    {
      storeDir: STORE_DIR,
      buildTop: sandboxLayout("/", drvName).buildTop,
      cores: 2,
      fixedOutput,
    },
  );
  let log = "";
  const scratchDir = store.scratchDir();
  const result = await runInSandbox(
    {
      storeDir: STORE_DIR,
      inputs: [store.busybox, ...(options.inputs ?? [])],
      outputs: [out],
      builder: store.builder,
      args: ["sh", "-c", script],
      env,
      drvName,
      network: fixedOutput,
      ...options.spec,
    },
    {
      scratchDir,
      log: (chunk) => {
        log += Buffer.from(chunk).toString();
      },
      ...options.sandbox,
    },
  );
  const output = result.outputs.get(out);
  const read = (name = "") => readFileSync(join(output ?? "/nonexistent", name), "utf8");
  return { result, log, out, output, read, scratchDir };
}

/** Host pids whose command line contains `marker`. */
function hostProcessesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes(marker)) pids.push(Number(name));
    } catch {
      // Exited meanwhile.
    }
  }
  return pids;
}

/** Waits (up to 1 s) for a host process with `marker` in its command line. */
async function seeHostProcess(marker: string): Promise<number | undefined> {
  for (let i = 0; i < 100; i++) {
    const [pid] = hostProcessesWith(marker);
    if (pid !== undefined) return pid;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return undefined;
}

/** A TCP server on the host's 127.0.0.1 that counts connections and closes them. */
async function hostServer(t: { after: (fn: () => void) => void }) {
  const counter = { port: 0, connections: 0 };
  const server: Server = createServer((socket) => {
    counter.connections++;
    socket.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  counter.port = (server.address() as { port: number }).port;
  t.after(() => server.close());
  return counter;
}

/** Whether the host itself can connect to 127.0.0.1:`port` (PostgreSQL is expected on 5432). */
function hostCanConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

const uniqueMarker = () => `kiln-marker-${randomBytes(6).toString("hex")}`;

// The tests are independent (each its own scratch directory, markers and server), and
// most of their time is spent sleeping, so they run concurrently.
describe("sandbox isolation", { concurrency: true }, () => {
  test("cannot read host files outside its inputs", async (t) => {
    if (!requirePeer(t, "bwrap", "bubblewrap")) return;
    assert.ok(existsSync("/etc/shadow") && existsSync("/usr/bin"), "the host has these");
    const { result, log, read } = await build(
      `cat /etc/shadow; echo "shadow=$?"
       ls /root; echo "root=$?"
       ls /usr/bin; echo "usr=$?"
       ls /bin; echo "bin=$?"
       ls -A / > $out`,
    );
    assert.equal(result.exitCode, 0, log);
    for (const what of ["shadow", "root", "usr", "bin"]) {
      assert.match(log, new RegExp(`^${what}=[1-9]`, "m"), `${what} must be unreadable`);
    }
    assert.deepEqual(read().split("\n").filter(Boolean), ["dev", "etc", "gnu", "proc", "tmp"]);
  });

  test("a non-fixed-output build reaches neither host services nor the outside", async (t) => {
    if (!requirePeer(t, "bwrap", "bubblewrap")) return;
    const server = await hostServer(t);
    const { result, log } = await build(
      `nc -w 2 127.0.0.1 ${server.port} </dev/null && echo test-server=open || echo test-server=closed
       nc -w 2 127.0.0.1 5432 </dev/null && echo postgres=open || echo postgres=closed
       nc -w 2 1.1.1.1 53 </dev/null && echo outside=open || echo outside=closed
       cat /proc/net/dev > $out`,
    );
    assert.equal(result.exitCode, 0, log);
    assert.match(log, /test-server=closed/);
    assert.match(log, /postgres=closed/);
    assert.match(log, /outside=closed/);
    assert.equal(server.connections, 0, "the host server saw no connection");
  });

  test("a fixed-output build reaches the host network and gets resolv.conf", async (t) => {
    if (!requirePeer(t, "bwrap", "bubblewrap")) return;
    const server = await hostServer(t);
    const { result, log } = await build(
      `nc -w 2 127.0.0.1 ${server.port} </dev/null && echo test-server=open || echo test-server=closed
       nc -w 2 127.0.0.1 5432 </dev/null && echo postgres=open || echo postgres=closed
       cat /etc/resolv.conf > $out || true`,
      { fixedOutput: true },
    );
    assert.equal(result.exitCode, 0, log);
    assert.match(log, /test-server=open/);
    assert.equal(server.connections, 1, "the host server saw the build connect");
    if (await hostCanConnect(5432)) assert.match(log, /postgres=open/);
    if (existsSync("/etc/resolv.conf")) {
      const { read } = await build("cat /etc/resolv.conf > $out", { fixedOutput: true });
      assert.equal(read(), readFileSync("/etc/resolv.conf", "utf8"));
    }
  });

  test("cannot see host processes", async (t) => {
    if (!requirePeer(t, "bwrap", "bubblewrap")) return;
    const marker = uniqueMarker();
    // `; :` keeps sh from exec'ing sleep, which would drop the marker from the argv.
    const sleeper: ChildProcess = spawn("/bin/busybox", ["sh", "-c", "sleep 30; :", marker], {
      stdio: "ignore",
    });
    t.after(() => sleeper.kill("SIGKILL"));
    assert.ok(await seeHostProcess(marker), "the host sees its own process");
    const { result, log, read } = await build(
      `cat /proc/[0-9]*/cmdline | tr '\\0' ' '; echo
       echo "pid=$$"
       ls /proc | grep '^[0-9]' > $out`,
    );
    assert.equal(result.exitCode, 0, log);
    assert.doesNotMatch(log, new RegExp(marker));
    const pids = read().split("\n").filter(Boolean).map(Number);
    assert.match(log, /^pid=1$/m, "the builder is PID 1, as with guix-daemon");
    assert.ok(pids.length <= 4, `only the build's own processes: ${pids}`);
  });

  test("sees only its inputs, read-only, and its outputs under the store", async (t) => {
    if (!requirePeer(t, "bwrap", "bubblewrap")) return;
    const file = store.addInput("data.txt", "input contents\n");
    const link = store.addInput("link", { symlinkTo: store.busybox.path });
    const { result, log, read, out } = await build(
      `mkdir $out
       cat ${file.path} > $out/file
       readlink ${link.path} > $out/link
       echo x > ${file.path} && echo file=writable || echo file=read-only
       touch ${store.busybox.path}/new && echo dir=writable || echo dir=read-only
       ls -A $NIX_STORE > $out/listing`,
      { inputs: [file, link] },
    );
    assert.equal(result.exitCode, 0, log);
    const names = [store.busybox.path, file.path, link.path, out].map((p) => p.slice(11)).sort();
    assert.deepEqual(read("listing").split("\n").filter(Boolean).sort(), names);
    assert.equal(read("file"), "input contents\n");
    assert.equal(read("link"), `${store.busybox.path}\n`);
    assert.match(log, /file=read-only/);
    assert.match(log, /dir=read-only/);
    assert.equal(readFileSync(file.realPath, "utf8"), "input contents\n");
  });

  test("build tree, environment, hostname, /dev, /tmp and /etc are guix-daemon's", async (t) => {
    if (!requirePeer(t, "bwrap", "bubblewrap")) return;
    const top = "/tmp/kiln-build-hello-2.12.drv-0";
    const { result, log, read } = await build(
      `mkdir $out; cd $out
       env > env
       hostname > hostname; ls -A /dev > dev; stat -c %a /tmp > tmp-mode
       cat /etc/passwd > passwd; cat /etc/group > group; cat /etc/hosts > hosts
       cd $NIX_BUILD_TOP && pwd -P > $out/physical-pwd`,
      { drvName: "hello-2.12" },
    );
    assert.equal(result.exitCode, 0, log);
    const env = Object.fromEntries(
      read("env")
        .split("\n")
        .filter(Boolean)
        .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    );
    assert.equal(env.PATH, "/path-not-set");
    assert.equal(env.HOME, "/homeless-shelter");
    assert.equal(env.NIX_STORE, STORE_DIR);
    assert.equal(env.NIX_BUILD_CORES, "2");
    for (const name of ["NIX_BUILD_TOP", "TMPDIR", "TEMPDIR", "TMP", "TEMP"]) {
      assert.equal(env[name], top, name);
    }
    assert.equal(read("physical-pwd"), `${top}\n`);
    assert.equal(read("hostname"), "localhost\n");
    const dev = read("dev").split("\n").filter(Boolean);
    for (const name of [
      "null",
      "zero",
      "full",
      "random",
      "urandom",
      "tty",
      "ptmx",
      "pts",
      "shm",
      "fd",
    ]) {
      assert.ok(dev.includes(name), `/dev/${name}`);
    }
    assert.ok(
      dev.every((name) => !/^(sd|vd|nvme|loop|mem$|kmsg$)/.test(name)),
      `no host devices: ${dev}`,
    );
    assert.equal(read("tmp-mode"), "1777\n");
    const uid = process.getuid!();
    const gid = process.getgid!();
    assert.equal(
      read("passwd"),
      `kilnbuild:x:${uid}:${gid}:Kiln build user:/homeless-shelter:/noshell\n` +
        "nobody:x:65534:65534:Nobody:/:/noshell\n",
    );
    assert.equal(read("group"), `kilnbuild:!:${gid}:\nnogroup:x:65534:\n`);
    assert.equal(read("hosts"), "127.0.0.1 localhost\n::1 localhost\n");
  });

  test("the build starts in its build tree, whose files stay on the host while it runs", async (t) => {
    if (!requirePeer(t, "bwrap", "bubblewrap")) return;
    const { result, log, scratchDir } = await build(`pwd; echo kept > in-tree; ls -la; exit 7`, {
      drvName: "kept",
      sandbox: { keepFailed: true },
    });
    assert.equal(result.exitCode, 7);
    assert.match(log, /^\/tmp\/kiln-build-kept\.drv-0$/m);
    assert.equal(result.buildTreeKept, sandboxLayout(scratchDir, "kept").hostBuildTop);
    assert.equal(readFileSync(join(result.buildTreeKept!, "in-tree"), "utf8"), "kept\n");
  });

  test("a successful build's tree is removed, its outputs are returned", async (t) => {
    if (!requirePeer(t, "bwrap", "bubblewrap")) return;
    const { result, read, scratchDir, output } = await build("echo ok > $out; touch junk", {
      sandbox: { keepFailed: true },
    });
    assert.equal(result.exitCode, 0);
    assert.equal(result.buildTreeKept, undefined);
    assert.equal(existsSync(sandboxLayout(scratchDir, "isolation-test").hostBuildTop), false);
    assert.equal(output, join(sandboxLayout(scratchDir, "x").hostStoreDir, output!.slice(-36)));
    assert.equal(read(), "ok\n");
  });

  test("a setuid or setgid file left by the build is stripped by canonicalisation", async (t) => {
    if (!requirePeer(t, "bwrap", "bubblewrap")) return;
    const { result, log, output } = await build(
      `mkdir $out; echo '#!/bin/sh' > $out/escalate; chmod 6755 $out/escalate; chmod 3777 $out`,
    );
    assert.equal(result.exitCode, 0, log);
    const escalate = join(output!, "escalate");
    assert.equal(statSync(escalate).mode & 0o7777, 0o6755, "the build did set the bits");
    canonicalisePathMetadata(output!, isRoot ? { owner: { uid: 0, gid: 0 } } : {});
    assert.equal(statSync(escalate).mode & 0o7777, 0o555);
    assert.equal(statSync(output!).mode & 0o7777, 0o555);
  });

  test("a timeout kills the whole build and says so", async (t) => {
    if (!requirePeer(t, "bwrap", "bubblewrap")) return;
    const marker = uniqueMarker();
    const started = performance.now();
    const running = build(`sh -c 'sleep 30; :' ${marker} & echo started; sleep 30`, {
      sandbox: { timeoutSeconds: 0.5 },
    });
    assert.ok(await seeHostProcess(marker), "the background process ran");
    const { result } = await running;
    assert.ok(performance.now() - started < 5000, "returned promptly");
    assert.equal(result.timedOut, true);
    assert.equal(result.silentTimedOut, false);
    assert.notEqual(result.exitCode, 0);
    assert.deepEqual(hostProcessesWith(marker), []);
  });

  test("max-silent-time kills a quiet build but not a chatty one", async (t) => {
    if (!requirePeer(t, "bwrap", "bubblewrap")) return;
    const quiet = await build("echo started; sleep 30", { sandbox: { maxSilentSeconds: 0.5 } });
    assert.equal(quiet.result.silentTimedOut, true);
    assert.equal(quiet.result.timedOut, false);
    assert.match(quiet.log, /started/);
    const chatty = await build("for i in 1 2 3 4 5 6; do echo tick; sleep 0.1; done; echo > $out", {
      sandbox: { maxSilentSeconds: 0.5 },
    });
    assert.equal(chatty.result.silentTimedOut, false);
    assert.equal(chatty.result.exitCode, 0);
  });

  test("aborting kills the build", async (t) => {
    if (!requirePeer(t, "bwrap", "bubblewrap")) return;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const { result } = await build("sleep 30", { sandbox: { signal: controller.signal } });
    assert.equal(result.aborted, true);
    assert.notEqual(result.exitCode, 0);
  });

  test("a fixed-output build keeps no handle on its output once it returns", async (t) => {
    if (!requirePeer(t, "bwrap", "bubblewrap")) return;
    // The background process holds the output open and means to rewrite it after the
    // builder has exited, i.e. after the daemon would have registered the output.
    const { result, log, out, read } = await build(
      `echo original > $out
       ${store.builder} sh -c 'exec 3>>"$0"; echo holding; sleep 0.5; echo tampered >&3' $out &
       sleep 0.2; echo builder done`,
      { fixedOutput: true },
    );
    assert.equal(result.exitCode, 0, log);
    assert.match(log, /holding/, "the background process did start and open the output");
    assert.deepEqual(hostProcessesWith(out), [], "no process of the build is left");
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.equal(read(), "original\n");
  });

  test("a slow log consumer gets all the output, in order", async (t) => {
    if (!requirePeer(t, "bwrap", "bubblewrap")) return;
    const chunks: Buffer[] = [];
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        setTimeout(callback, 1);
      },
    });
    const { result } = await build("seq 1 40000; echo > $out", { sandbox: { log: slow } });
    assert.equal(result.exitCode, 0);
    const lines = Buffer.concat(chunks).toString().split("\n").filter(Boolean);
    assert.equal(lines.length, 40000);
    assert.equal(lines.at(-1), "40000");
    assert.ok(lines.every((line, i) => line === String(i + 1)));
    assert.equal(slow.writableEnded, false, "the caller's stream is left open");
  });

  test("chroot directories make host paths visible read-only", async (t) => {
    if (!requirePeer(t, "bwrap", "bubblewrap")) return;
    const spec = { builder: "/bin/busybox", inputs: [] };
    const without = await build("echo > $out", { spec });
    assert.notEqual(without.result.exitCode, 0, "the host's /bin/busybox is not there by default");
    const { result, log } = await build(
      "echo > $out; touch /bin/busybox && echo writable || echo read-only",
      { spec: { ...spec, chrootDirs: ["/bin/busybox"] } },
    );
    assert.equal(result.exitCode, 0, log);
    assert.match(log, /read-only/);
  });

  test("--disable-chroot runs on the host, with a warning", async () => {
    const realStore = join(dirname(store.busybox.realPath), "unisolated");
    mkdirSync(realStore, { recursive: true });
    const out = join(realStore, "abc-out");
    let log = "";
    const scratchDir = store.scratchDir();
    const layout = sandboxLayout(scratchDir, "unisolated");
    const result = await runInSandbox(
      {
        storeDir: realStore,
        inputs: [],
        outputs: [out],
        builder: "/bin/busybox",
        args: ["sh", "-c", "pwd; echo $NIX_BUILD_TOP; echo hi > $out"],
        env: buildEnvironment(
          { out },
          { storeDir: realStore, buildTop: layout.hostBuildTop, cores: 1, fixedOutput: false },
        ),
        drvName: "unisolated",
        network: false,
        disableChroot: true,
      },
      { scratchDir, log: (chunk) => (log += Buffer.from(chunk).toString()) },
    );
    assert.equal(result.exitCode, 0, log);
    assert.match(result.warnings.join("\n"), /without isolation/);
    assert.equal(log, `${layout.hostBuildTop}\n${layout.hostBuildTop}\n`);
    assert.equal(result.outputs.get(out), out);
    assert.equal(readFileSync(out, "utf8"), "hi\n");
  });
});

describe("setup errors", () => {
  const spec = (out = store.storePath("out")): SandboxSpec => ({
    storeDir: STORE_DIR,
    inputs: [store.busybox],
    outputs: [out],
    builder: store.builder,
    args: ["true"],
    env: {},
    drvName: "setup",
    network: false,
  });
  const setupError = (pattern: RegExp) => (error: unknown) =>
    error instanceof KilnError && error.code === "ERR_SANDBOX_SETUP" && pattern.test(error.message);

  test("a missing bwrap, input or non-store path is a setup error, not a build failure", async () => {
    await assert.rejects(
      runInSandbox(spec(), { scratchDir: store.scratchDir(), bwrap: "/nonexistent/bwrap" }),
      setupError(/cannot start \/nonexistent\/bwrap/),
    );
    const missing = { path: store.storePath("gone"), realPath: "/nonexistent/gone" };
    await assert.rejects(
      runInSandbox({ ...spec(), inputs: [missing] }, { scratchDir: store.scratchDir() }),
      setupError(/is missing at \/nonexistent\/gone/),
    );
    await assert.rejects(
      runInSandbox(spec("/etc/passwd"), { scratchDir: store.scratchDir() }),
      setupError(/not a store path directly under/),
    );
  });

  test("a scratch directory cannot be used twice", async (t) => {
    if (!requirePeer(t, "bwrap", "bubblewrap")) return;
    const scratchDir = store.scratchDir();
    assert.equal((await runInSandbox(spec(), { scratchDir })).exitCode, 0);
    await assert.rejects(runInSandbox(spec(), { scratchDir }), setupError(/cannot create/));
  });
});

describe("build users (as root)", { skip: !isRoot && "needs root" }, () => {
  let user: BuildUser;
  const name = `kilntest${randomBytes(3).toString("hex")}`;

  before(() => {
    const run = (command: string, args: string[]) => {
      const result = spawnSync(command, args, { encoding: "utf8" });
      assert.equal(result.status, 0, `${command}: ${result.stderr}`);
      return result.stdout.trim();
    };
    run("groupadd", ["--system", name]);
    run("useradd", [
      "--system",
      "-g",
      name,
      "-M",
      "-d",
      "/var/empty",
      "-s",
      "/usr/sbin/nologin",
      name,
    ]);
    user = { name, uid: Number(run("id", ["-u", name])), gid: Number(run("id", ["-g", name])) };
  });
  after(() => {
    spawnSync("userdel", [name]);
    spawnSync("groupdel", [name]);
  });

  test("the build runs as the build user, as seen from the host", async (t) => {
    if (!requirePeer(t, "bwrap", "bubblewrap")) return;
    const marker = uniqueMarker();
    const running = build(
      `mkdir $out; id -u > $out/uid; id -g > $out/gid; cat /etc/passwd > $out/passwd
       sh -c 'sleep 0.5; :' ${marker}`,
      { spec: { buildUser: user } },
    );
    const pid = await seeHostProcess(marker);
    const seenUid = pid === undefined ? undefined : statSync(`/proc/${pid}`).uid;
    const { result, log, output, read, scratchDir } = await running;
    assert.equal(result.exitCode, 0, log);
    assert.equal(seenUid, user.uid, "the host sees the build's process as the build user");
    assert.equal(statSync(join(output!, "uid")).uid, user.uid, "and its files");
    assert.equal(read("uid"), `${user.uid}\n`);
    assert.equal(read("gid"), `${user.gid}\n`);
    assert.match(read("passwd"), new RegExp(`^kilnbuild:x:${user.uid}:${user.gid}:`));
    const privateDir = statSync(sandboxLayout(scratchDir, "x").hostPrivateDir);
    assert.deepEqual([privateDir.uid, privateDir.mode & 0o777], [0, 0o700]);
  });

  test("a kept failed build tree is unreadable by other users", async (t) => {
    if (!requirePeer(t, "bwrap", "bubblewrap")) return;
    // The build tries to publish its tree: world-writable, with a setuid file in it.
    const { result, log } = await build(
      `echo secret > secret; cp ${store.builder} sh; chmod 4755 sh; chmod 777 .; exit 3`,
      { spec: { buildUser: user }, sandbox: { keepFailed: true } },
    );
    assert.equal(result.exitCode, 3, log);
    const top = result.buildTreeKept!;
    assert.equal(readFileSync(join(top, "secret"), "utf8"), "secret\n", "root can read it");
    const parent = statSync(dirname(top));
    assert.deepEqual([parent.uid, parent.mode & 0o777], [0, 0o700]);
    for (const target of [top, join(top, "secret"), dirname(top)]) {
      const attempt = spawnSync("su", ["nobody", "-s", "/bin/sh", "-c", `ls ${target}`], {
        encoding: "utf8",
      });
      assert.notEqual(attempt.status, 0, `nobody must not list ${target}`);
      assert.match(attempt.stderr, /Permission denied/);
    }
    const running = spawnSync("su", ["nobody", "-s", "/bin/sh", "-c", join(top, "sh")]);
    assert.notEqual(running.status, 0, "nobody cannot run the setuid file");
  });

  test("a scratch directory the build user cannot reach is refused up front", async () => {
    const hidden = store.scratchDir();
    chmodSync(hidden, 0o700);
    await assert.rejects(
      build("true", { spec: { buildUser: user }, sandbox: { scratchDir: join(hidden, "b") } }),
      (error: unknown) =>
        error instanceof KilnError && new RegExp(`${hidden} is not searchable`).test(error.message),
    );
  });

  test("a normal failed build tree is 0700 and owned by the build user", async (t) => {
    if (!requirePeer(t, "bwrap", "bubblewrap")) return;
    const { result } = await build("touch partial; exit 1", {
      spec: { buildUser: user },
      sandbox: { keepFailed: true },
    });
    const top = statSync(result.buildTreeKept!);
    assert.deepEqual([top.uid, top.mode & 0o777], [user.uid, 0o700]);
  });
});
