/**
 * Test support: a `kiln daemon` in a child process (run-daemon.ts) serving a scratch
 * store whose logical directory is /nix/store, kept in a temporary directory; real Nix
 * commands pointed at it (`unix://SOCKET?real=…`, so that Nix's client can read files
 * it needs locally); a busybox directory for builders; and, for tests of real Nix
 * clients, all of these with a private Nix store beside them (useDaemonWithNix).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { hostSystem } from "@kiln/builder/host-system";
import type { Derivation } from "@kiln/formats/derivation";
import { computeDerivationOutputs } from "@kiln/formats/derivation-outputs";
import { printDerivation } from "@kiln/formats/print-derivation";
import { createPrivateNixStore, hasCommand, type PrivateNixStore } from "@kiln/testkit";
import type { DaemonClient } from "../src/daemon-client.ts";
import type { DaemonOptions, ListenEndpoint } from "../src/daemon-options.ts";

const RUN_DAEMON = new URL("./run-daemon.ts", import.meta.url).pathname;

export interface DaemonFixture {
  readonly root: string;
  readonly storeDir: string;
  readonly realStoreDir: string;
  readonly stateDir: string;
  /** The untrusted socket every test client uses. */
  readonly socket: string;
  /** A trusted socket beside it. */
  readonly trustedSocket: string;
  /** `--store` for Nix commands. */
  readonly uri: string;
  readonly trustedUri: string;
  /** The daemon's pid (changes on restart). */
  readonly pid: number;
  /** Its stderr so far. */
  log(): string;
  /** Runs a Nix command (`nix-store`, `nix-build`, `nix`, …) against the daemon; throws on failure. */
  nix(command: string, args: readonly string[], options?: NixRunOptions): string;
  /** Like nix(), but returns status and output instead of throwing. */
  nixResult(command: string, args: readonly string[], options?: NixRunOptions): NixResult;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** kill -9, without waiting for anything to be cleaned. */
  kill(): Promise<void>;
  /** Starts the daemon again on the same store (after stop or kill). */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

export interface NixRunOptions {
  input?: string | Uint8Array;
  trusted?: boolean;
  cwd?: string;
}

export interface NixResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export type FixtureDaemonOptions = Omit<
  DaemonOptions,
  "listen" | "logger" | "substituter" | "buildUserPool" | "signArchive"
>;

function waitReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("ready")) {
        child.stdout?.off("data", onData);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) =>
      reject(new Error(`the daemon exited with ${code} before it was ready`)),
    );
  });
}

/** Starts a daemon on a fresh scratch store. */
export async function startDaemonFixture(
  options: FixtureDaemonOptions & { extraListen?: ListenEndpoint[] } = {},
): Promise<DaemonFixture> {
  const root = mkdtempSync(join(tmpdir(), "kiln-daemon-test-"));
  chmodSync(root, 0o755);
  const storeDir = "/nix/store";
  const realStoreDir = join(root, "store");
  const stateDir = join(root, "state");
  const socket = join(root, "socket");
  const trustedSocket = join(root, "trusted-socket");
  const nixConf = join(root, "nix-conf");
  mkdirSync(nixConf);
  const { extraListen, ...daemonOptions } = options;
  const argument = JSON.stringify({
    storeDir,
    realStoreDir,
    stateDir,
    listen: [
      { kind: "unix", path: socket },
      { kind: "unix", path: trustedSocket, trusted: true },
      ...(extraListen ?? []),
    ],
    options: daemonOptions,
    debug: true,
  });
  let child!: ChildProcess;
  let stderr = "";
  const launch = async () => {
    child = spawn(process.execPath, [RUN_DAEMON, argument], { stdio: ["ignore", "pipe", "pipe"] });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await waitReady(child);
  };
  await launch();
  const uri = `unix://${socket}?real=${realStoreDir}`;
  const trustedUri = `unix://${trustedSocket}?real=${realStoreDir}`;
  const nixResult = (
    command: string,
    args: readonly string[],
    run: NixRunOptions = {},
  ): NixResult => {
    const extra = command === "nix" ? ["--extra-experimental-features", "nix-command"] : [];
    const result = spawnSync(
      command,
      ["--store", run.trusted ? trustedUri : uri, ...extra, ...args],
      {
        input: run.input,
        cwd: run.cwd,
        maxBuffer: 1 << 30,
        env: { ...process.env, NIX_CONF_DIR: nixConf, NIX_REMOTE: "", NIX_PATH: "" },
      },
    );
    return {
      status: result.status,
      stdout: result.stdout.toString(),
      stderr: result.stderr.toString(),
    };
  };
  const exited = () =>
    new Promise<number | null>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
      else child.once("exit", (code) => resolve(code));
    });
  return {
    root,
    storeDir,
    realStoreDir,
    stateDir,
    socket,
    trustedSocket,
    uri,
    trustedUri,
    get pid() {
      return child.pid ?? 0;
    },
    log: () => stderr,
    nix(command, args, run) {
      const result = nixResult(command, args, run);
      if (result.status !== 0) {
        throw new Error(`${command} ${args.join(" ")} failed (${result.status}): ${result.stderr}`);
      }
      return result.stdout;
    },
    nixResult,
    async stop() {
      child.kill("SIGTERM");
      return exited();
    },
    async kill() {
      child.kill("SIGKILL");
      await exited();
    },
    restart: launch,
    async dispose() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await exited();
      }
      spawnSync("chmod", ["-R", "u+w", root]);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A daemon fixture and a work directory beside its store holding `bb/bin/busybox`. */
export async function startDaemonWithBusybox(
  options: FixtureDaemonOptions = {},
): Promise<{ daemon: DaemonFixture; work: string }> {
  const daemon = await startDaemonFixture(options);
  const work = join(daemon.root, "work");
  busyboxDirectory(work);
  return { daemon, work };
}

/** A directory holding `bin/busybox` (static), to be copied into a store as a builder. */
export function busyboxDirectory(parent: string): string {
  const dir = join(parent, "bb");
  mkdirSync(join(dir, "bin"), { recursive: true });
  copyFileSync("/bin/busybox", join(dir, "bin", "busybox"));
  chmodSync(join(dir, "bin", "busybox"), 0o555);
  return dir;
}

/** A Nix expression building with busybox from `./bb`; `script` runs under `sh -c`. */
export function busyboxExpression(name: string, script: string, extra = ""): string {
  return `derivation { name = ${JSON.stringify(name)}; system = builtins.currentSystem; builder = "\${./bb}/bin/busybox"; args = [ "sh" "-c" ${JSON.stringify(script)} ]; ${extra} }\n`;
}

export interface NixDaemonFixture {
  /** The listening nix-daemon; it forks one worker per connection. */
  readonly pid: number;
  readonly root: string;
  readonly socket: string;
  readonly realStoreDir: string;
  /** `--store` for Nix commands going through it. */
  readonly uri: string;
  dispose(): Promise<void>;
}

/**
 * A real `nix-daemon` (Nix 2.8) on a private socket and store: logical /nix/store kept
 * in a scratch directory, no build users (it runs as root here), no substituters.
 */
export async function startNixDaemon(): Promise<NixDaemonFixture> {
  const root = mkdtempSync(join(tmpdir(), "kiln-nix-daemon-"));
  chmodSync(root, 0o755);
  const realStoreDir = join(root, "store");
  const socket = join(root, "socket");
  const store = `local?store=/nix/store&real=${realStoreDir}&state=${root}/state&log=${root}/log`;
  const child = spawn(
    "nix-daemon",
    ["--store", store, "--option", "build-users-group", "", "--option", "substituters", ""],
    {
      stdio: ["ignore", "ignore", "pipe"],
      env: {
        ...process.env,
        NIX_DAEMON_SOCKET_PATH: socket,
        NIX_STATE_DIR: join(root, "state"),
        NIX_CONF_DIR: root,
      },
    },
  );
  child.stderr?.resume();
  for (let i = 0; i < 200 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 10));
  if (!existsSync(socket)) throw new Error("nix-daemon did not create its socket");
  return {
    pid: child.pid ?? 0,
    root,
    socket,
    realStoreDir,
    uri: `unix://${socket}?real=${realStoreDir}`,
    async dispose() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise((resolve) => child.once("exit", resolve));
      }
      spawnSync("chmod", ["-R", "u+w", root]);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * A busybox derivation (`sh -c script`) with its output paths computed, as nix-instantiate
 * would write it; `inputs` are derivations it depends on (their `out`).
 */
export function busyboxDerivation(
  busybox: string,
  name: string,
  script: string,
  inputs: readonly { drvPath: string; drv: Derivation }[] = [],
): Derivation {
  const builder = `${busybox}/bin/busybox`;
  const system = hostSystem();
  const known = new Map(inputs.map(({ drvPath, drv }) => [drvPath, drv]));
  return computeDerivationOutputs(
    {
      outputs: new Map([["out", { path: "", hashAlgo: "", hash: "" }]]),
      inputDrvs: new Map(inputs.map(({ drvPath }) => [drvPath, ["out"]])),
      inputSrcs: [busybox],
      system,
      builder,
      args: ["sh", "-c", script],
      env: new Map([
        ["builder", builder],
        ["name", name],
        ["out", ""],
        ["system", system],
      ]),
    },
    {
      resolve: (path) => {
        const found = known.get(path);
        if (found === undefined) throw new Error(`unknown input derivation ${path}`);
        return found;
      },
      storeDir: "/nix/store",
    },
  );
}

/**
 * Writes a busybox derivation (`sh -c script`) into a store through `client`, as
 * nix-instantiate would; `inputs` are derivations written by earlier calls.
 */
export async function addBusyboxDerivation(
  client: DaemonClient,
  busybox: string,
  name: string,
  script: string,
  inputs: readonly { drvPath: string; drv: Derivation }[] = [],
): Promise<{ drvPath: string; drv: Derivation; out: string }> {
  const drv = busyboxDerivation(busybox, name, script, inputs);
  const drvPath = await client.addTextToStore(`${name}.drv`, printDerivation(drv), [
    busybox,
    ...inputs.map((input) => input.drvPath),
  ]);
  return { drvPath, drv, out: drv.outputs.get("out")!.path };
}

export interface DaemonWithNix {
  /** Whether real Nix and bubblewrap are here; without them nothing was started. */
  readonly available: boolean;
  readonly daemon: DaemonFixture;
  /** A private Nix store (logical /nix/store) for what real Nix computes alone. */
  readonly nix: PrivateNixStore;
  /** A scratch directory holding `./bb` (busybox), for Nix expressions. */
  readonly work: string;
}

/**
 * Registers before/after hooks that start a daemon fixture, a private Nix store and a
 * work directory with busybox, then dispose of them; call it at the top of a test file.
 * The getters are for the tests, once the hooks have run.
 *
 * @example
 * const setup = useDaemonWithNix();
 * test("…", () => setup.daemon.nix("nix-store", ["--add", join(setup.work, "file")]));
 */
export function useDaemonWithNix(): DaemonWithNix {
  const available = hasCommand("nix-store") && hasCommand("bwrap");
  let daemon: DaemonFixture | undefined;
  let nix: PrivateNixStore | undefined;
  let work: string | undefined;
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("useDaemonWithNix: the before hook has not run");
    return value;
  };
  before(async () => {
    if (!available) return;
    ({ daemon, work } = await startDaemonWithBusybox());
    nix = createPrivateNixStore("/nix/store");
  });
  after(async () => {
    await daemon?.dispose();
    nix?.dispose();
  });
  return {
    available,
    get daemon() {
      return started(daemon);
    },
    get nix() {
      return started(nix);
    },
    get work() {
      return started(work);
    },
  };
}
