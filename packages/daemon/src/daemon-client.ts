/**
 * DaemonClient: Kiln's client of the worker protocol, for `kiln daemon`, nix-daemon
 * (Nix 2.8, protocol 1.34) and guix-daemon (0x163, spoken as 1.34 with Guix's
 * encodings). Operations run one at a time per connection; open several clients for
 * parallelism.
 *
 * @example
 * const client = await DaemonClient.connect("/var/kiln/daemon-socket/socket");
 * const info = await client.queryPathInfo("/gnu/store/…-hello-2.12");
 * client.close();
 */
import { createReadStream, lstatSync } from "node:fs";
import type { Derivation } from "@kiln/formats/derivation";
import type { HashAlgorithm } from "@kiln/formats/hash";
import { dumpPath } from "@kiln/formats/nar-writer";
import type { FrameWriter } from "@kiln/formats/worker-protocol-framing";
import type { PathInfo } from "@kiln/store/path-info";
import { ClientConnection, type DaemonAddress } from "./client-connection.ts";
import type { DaemonEvent } from "./client-stderr.ts";
import { type NarUpload, receiveNar, sendDump, sendNar, sendNars } from "./client-uploads.ts";
import { DaemonError } from "./daemon-error.ts";
import {
  type KeyedWireBuildResult,
  readBuildResult,
  readKeyedBuildResults,
  type WireBuildResult,
} from "./wire-build-result.ts";
import { writeBasicDerivation } from "./wire-derivation.ts";
import { readPathInfo } from "./wire-path-info.ts";
import { BuildMode, GcAction, Verbosity, WorkerOp } from "./worker-protocol.ts";

export interface ClientOptions {
  keepFailed?: boolean;
  keepGoing?: boolean;
  tryFallback?: boolean;
  verbosity?: number;
  maxBuildJobs?: number;
  maxSilentTime?: number;
  buildCores?: number;
  useSubstitutes?: boolean;
  /** Named settings (`build-timeout`, `substituters`, …). */
  overrides?: Readonly<Record<string, string>>;
}

export interface AddToStoreOptions {
  /** Store name; default the source's base name. */
  readonly name?: string;
  /** `recursive` (a NAR of the tree, default), `flat` (a file's bytes) or `text`. */
  readonly method?: "recursive" | "flat" | "text";
  readonly algorithm?: HashAlgorithm;
  readonly references?: readonly string[];
}

export interface MissingPaths {
  readonly willBuild: string[];
  readonly willSubstitute: string[];
  readonly unknown: string[];
  readonly downloadSize: number;
  readonly narSize: number;
}

export class DaemonClient {
  readonly #connection: ClientConnection;

  private constructor(connection: ClientConnection) {
    this.#connection = connection;
  }

  /**
   * Connects, shakes hands and sends the build options (as Nix's client does).
   * `onEvent` receives log lines and activities while operations run.
   */
  static async connect(
    address: DaemonAddress,
    options: ClientOptions & { onEvent?: (event: DaemonEvent) => void } = {},
  ): Promise<DaemonClient> {
    const connection = await ClientConnection.open(address);
    connection.onEvent = options.onEvent;
    const client = new DaemonClient(connection);
    try {
      await client.setOptions(options);
    } catch (error) {
      client.close();
      throw error;
    }
    return client;
  }

  /** The negotiated protocol minor version and dialect. */
  get format() {
    return this.#connection.format;
  }

  get daemonVersion(): number {
    return this.#connection.daemonVersion;
  }

  get daemonNixVersion(): string | undefined {
    return this.#connection.daemonNixVersion;
  }

  set onEvent(handler: ((event: DaemonEvent) => void) | undefined) {
    this.#connection.onEvent = handler;
  }

  close(): void {
    this.#connection.close();
  }

  /** Sends an operation built by `write`, processes stderr, then reads the reply with `read`. */
  #call<T>(
    write: (frame: FrameWriter) => void,
    read: () => Promise<T>,
    tunnels: Parameters<ClientConnection["stderr"]>[0] = {},
  ): Promise<T> {
    const c = this.#connection;
    return c.run(async () => {
      write(c.frame);
      await c.send(c.frame);
      await c.stderr(tunnels);
      return read();
    });
  }

  setOptions(options: ClientOptions = {}): Promise<void> {
    const overrides = Object.entries(options.overrides ?? {});
    return this.#call(
      (f) => {
        f.u64(WorkerOp.SetOptions)
          .bool(options.keepFailed ?? false)
          .bool(options.keepGoing ?? false)
          .bool(options.tryFallback ?? false)
          .u64(options.verbosity ?? Verbosity.Info)
          .u64(options.maxBuildJobs ?? 1)
          .u64(options.maxSilentTime ?? 0)
          .u64(1) // use build hook, obsolete
          .u64(Verbosity.Error) // build verbosity
          .u64(0) // log type, obsolete
          .u64(0) // print build trace, obsolete
          .u64(options.buildCores ?? 0)
          .bool(options.useSubstitutes ?? true)
          .u64(overrides.length);
        for (const [name, value] of overrides) f.string(name).string(value);
      },
      async () => {},
    );
  }

  isValidPath(path: string): Promise<boolean> {
    const r = this.#connection.reader;
    return this.#call(
      (f) => f.u64(WorkerOp.IsValidPath).string(path),
      () => r.bool(),
    );
  }

  queryValidPaths(
    paths: readonly string[],
    options: { substitute?: boolean } = {},
  ): Promise<string[]> {
    const r = this.#connection.reader;
    const { format } = this.#connection;
    return this.#call(
      (f) => {
        f.u64(WorkerOp.QueryValidPaths).strings(paths);
        if (format.dialect === "nix" && format.minor >= 27) f.bool(options.substitute ?? false);
      },
      () => r.strings(),
    );
  }

  /** The path's info, or undefined when it is not valid. */
  queryPathInfo(path: string): Promise<PathInfo | undefined> {
    const c = this.#connection;
    return this.#call(
      (f) => f.u64(WorkerOp.QueryPathInfo).string(path),
      async () => {
        if (c.format.minor >= 17 && !(await c.reader.bool())) return undefined;
        return readPathInfo(c.reader, c.format, { path });
      },
    );
  }

  async queryPathFromHashPart(hashPart: string): Promise<string | undefined> {
    const r = this.#connection.reader;
    const path = await this.#call(
      (f) => f.u64(WorkerOp.QueryPathFromHashPart).string(hashPart),
      () => r.string(),
    );
    return path === "" ? undefined : path;
  }

  #pathList(op: number, path: string): Promise<string[]> {
    const r = this.#connection.reader;
    return this.#call(
      (f) => f.u64(op).string(path),
      () => r.strings(),
    );
  }

  queryReferrers(path: string): Promise<string[]> {
    return this.#pathList(WorkerOp.QueryReferrers, path);
  }

  queryValidDerivers(path: string): Promise<string[]> {
    return this.#pathList(WorkerOp.QueryValidDerivers, path);
  }

  queryDerivationOutputMap(drvPath: string): Promise<Map<string, string>> {
    const r = this.#connection.reader;
    return this.#call(
      (f) => f.u64(WorkerOp.QueryDerivationOutputMap).string(drvPath),
      async () => {
        const map = new Map<string, string>();
        for (let n = await r.u64(); n > 0; n--) {
          const name = await r.string();
          map.set(name, await r.string());
        }
        return map;
      },
    );
  }

  queryAllValidPaths(): Promise<string[]> {
    const r = this.#connection.reader;
    return this.#call(
      (f) => f.u64(WorkerOp.QueryAllValidPaths),
      () => r.strings(),
    );
  }

  /** `targets` are derived paths: store paths, or `drv!out` / `drv!*`. */
  queryMissing(targets: readonly string[]): Promise<MissingPaths> {
    const r = this.#connection.reader;
    return this.#call(
      (f) => f.u64(WorkerOp.QueryMissing).strings(targets),
      async () => ({
        willBuild: await r.strings(),
        willSubstitute: await r.strings(),
        unknown: await r.strings(),
        downloadSize: await r.u64(),
        narSize: await r.u64(),
      }),
    );
  }

  /**
   * Adds a file or tree (`source` on this machine), content-addressed. Returns the new
   * path's info (from a daemon older than 1.25, or Guix's, only its path is known, so the
   * info is queried after).
   */
  async addToStore(source: string, options: AddToStoreOptions = {}): Promise<PathInfo> {
    const name = options.name ?? source.replace(/\/+$/, "").split("/").pop()!;
    const method = options.method ?? "recursive";
    const algorithm = options.algorithm ?? "sha256";
    const dump = () =>
      method === "recursive"
        ? dumpPath(source)
        : (createReadStream(source) as AsyncIterable<Uint8Array>);
    if (method !== "recursive" && !lstatSync(source).isFile()) {
      throw new DaemonError(
        "NOT_REGULAR",
        `${source} is not a regular file; ${method} hashing needs one`,
      );
    }
    return this.addDumpToStore(dump, { name, method, algorithm, references: options.references });
  }

  /** Adds a dump (a NAR for `recursive`, raw bytes otherwise), content-addressed. */
  async addDumpToStore(
    dump: () => AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    options: AddToStoreOptions & { name: string },
  ): Promise<PathInfo> {
    const c = this.#connection;
    const references = options.references ?? [];
    if (options.method === "text" && (c.format.dialect !== "nix" || c.format.minor < 25)) {
      const parts: Uint8Array[] = [];
      for await (const chunk of dump()) parts.push(chunk);
      const path = await this.addTextToStore(options.name, Buffer.concat(parts), references);
      return (await this.queryPathInfo(path))!;
    }
    const added = await sendDump(c, dump, {
      name: options.name,
      method: options.method ?? "recursive",
      algorithm: options.algorithm ?? "sha256",
      references,
    });
    return typeof added === "string" ? (await this.queryPathInfo(added))! : added;
  }

  addTextToStore(
    name: string,
    text: string | Uint8Array,
    references: readonly string[] = [],
  ): Promise<string> {
    const r = this.#connection.reader;
    return this.#call(
      (f) => f.u64(WorkerOp.AddTextToStore).string(name).string(text).strings(references),
      () => r.string(),
    );
  }

  /** Imports a NAR of a known path; an untrusted connection needs it content-addressed or signed. */
  addToStoreNar(upload: NarUpload, options: { dontCheckSigs?: boolean } = {}): Promise<void> {
    return sendNar(this.#connection, upload, options);
  }

  /** Imports several NARs in one operation (protocol 1.32+), in the order given (references first). */
  async addMultipleToStore(
    uploads: readonly NarUpload[],
    options: { dontCheckSigs?: boolean } = {},
  ): Promise<void> {
    const c = this.#connection;
    if (c.format.dialect === "nix" && c.format.minor >= 32) return sendNars(c, uploads, options);
    for (const upload of uploads) await sendNar(c, upload, options);
  }

  /**
   * The NAR of a valid path, streamed. Read it to its end: the connection waits for it
   * (stopping early closes the connection, which would be out of step).
   */
  narFromPath(path: string): AsyncIterable<Uint8Array> {
    return receiveNar(this.#connection, path);
  }

  buildPaths(targets: readonly string[], mode: number = BuildMode.Normal): Promise<void> {
    const c = this.#connection;
    return this.#call(
      (f) => {
        f.u64(WorkerOp.BuildPaths).strings(targets);
        if (c.format.minor >= 15) f.u64(mode);
      },
      async () => {
        await c.reader.u64();
      },
    );
  }

  buildPathsWithResults(
    targets: readonly string[],
    mode: number = BuildMode.Normal,
  ): Promise<KeyedWireBuildResult[]> {
    const c = this.#connection;
    if (c.format.dialect !== "nix" || c.format.minor < 34) {
      throw new DaemonError("UNSUPPORTED", "the daemon is too old for BuildPathsWithResults");
    }
    return this.#call(
      (f) => f.u64(WorkerOp.BuildPathsWithResults).strings(targets).u64(mode),
      () => readKeyedBuildResults(c.reader),
    );
  }

  buildDerivation(
    drvPath: string,
    derivation: Derivation,
    mode: number = BuildMode.Normal,
  ): Promise<WireBuildResult> {
    const c = this.#connection;
    return this.#call(
      (f) => {
        f.u64(WorkerOp.BuildDerivation).string(drvPath);
        writeBasicDerivation(f, derivation);
        f.u64(mode);
      },
      () => readBuildResult(c.reader, c.format),
    );
  }

  #simple(op: number, write: (f: FrameWriter) => void = () => {}): Promise<void> {
    const r = this.#connection.reader;
    return this.#call(
      (f) => {
        f.u64(op);
        write(f);
      },
      async () => {
        await r.u64();
      },
    );
  }

  ensurePath(path: string): Promise<void> {
    return this.#simple(WorkerOp.EnsurePath, (f) => f.string(path));
  }

  addTempRoot(path: string): Promise<void> {
    return this.#simple(WorkerOp.AddTempRoot, (f) => f.string(path));
  }

  addIndirectRoot(link: string): Promise<void> {
    return this.#simple(WorkerOp.AddIndirectRoot, (f) => f.string(link));
  }

  addSignatures(path: string, sigs: readonly string[]): Promise<void> {
    return this.#simple(WorkerOp.AddSignatures, (f) => f.string(path).strings(sigs));
  }

  optimiseStore(): Promise<void> {
    return this.#simple(WorkerOp.OptimiseStore);
  }

  /** Store path → the links that keep it alive (`{temp:…}` for temporary roots), for every root. */
  findRoots(): Promise<Map<string, string[]>> {
    const r = this.#connection.reader;
    return this.#call(
      (f) => f.u64(WorkerOp.FindRoots),
      async () => {
        const roots = new Map<string, string[]>();
        for (let n = await r.u64(); n > 0; n--) {
          const link = await r.string();
          const path = await r.string();
          roots.set(path, [...(roots.get(path) ?? []), link]);
        }
        return roots;
      },
    );
  }

  collectGarbage(
    options: { action?: number; pathsToDelete?: readonly string[]; maxFreed?: number } = {},
  ): Promise<{ paths: string[]; bytesFreed: number }> {
    const r = this.#connection.reader;
    return this.#call(
      (f) =>
        f
          .u64(WorkerOp.CollectGarbage)
          .u64(options.action ?? GcAction.DeleteDead)
          .strings(options.pathsToDelete ?? [])
          .bool(false)
          .u64(options.maxFreed ?? Number.MAX_SAFE_INTEGER)
          .u64(0)
          .u64(0)
          .u64(0),
      async () => {
        const paths = await r.strings();
        const bytesFreed = Number(await r.u64Big());
        await r.u64Big();
        return { paths, bytesFreed };
      },
    );
  }

  /** Returns true when errors remain. */
  verifyStore(options: { checkContents?: boolean; repair?: boolean } = {}): Promise<boolean> {
    const r = this.#connection.reader;
    return this.#call(
      (f) =>
        f
          .u64(WorkerOp.VerifyStore)
          .bool(options.checkContents ?? false)
          .bool(options.repair ?? false),
      () => r.bool(),
    );
  }
}
