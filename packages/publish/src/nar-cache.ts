/**
 * The baked cache (`--cache DIR`): nars compressed ahead of time and their narinfos, as
 * guix publish keeps them. Items are baked in the background by a bounded pool of
 * workers, at most once at a time each; until an item is baked, its narinfo is a 404
 * ("We're baking it") unless the item is small enough to serve live.
 */
import { readFileSync, statSync } from "node:fs";
import { verifyGuixNarinfo } from "@kiln/formats/guix-signature";
import { formatHashNix32 } from "@kiln/formats/hash";
import { parseNarinfo } from "@kiln/formats/parse-narinfo";
import type { PathInfo } from "@kiln/store/path-info";
import type { Logger } from "pino";
import { actualCompressions } from "./actual-compressions.ts";
import { bakedNarFile, bakedNarinfoFile, bakeItem } from "./bake-item.ts";
import type { Compression, CompressionMethod, CompressPrograms } from "./compression.ts";
import type { NarinfoSigner } from "./make-narinfo.ts";
import type { PublishMetrics } from "./publish-metrics.ts";
import type { PublishStore } from "./publish-store.ts";

export interface NarCacheOptions {
  readonly dir: string;
  readonly compressions: readonly Compression[];
  readonly programs?: CompressPrograms;
  readonly narPath: string;
  readonly signer: NarinfoSigner;
  readonly store: PublishStore;
  /** Items whose NarSize is below this are served live while they bake (default 10 MiB). */
  readonly bypassThreshold: number;
  /** Items baked at the same time. */
  readonly workers: number;
  /** Items waiting beyond this are not queued (they are asked for again later). */
  readonly maxQueue?: number;
  readonly metrics: PublishMetrics;
  readonly logger: Logger;
  /** When set, items are handed to it (another process bakes them) instead of baked here. */
  readonly bakeElsewhere?: (path: string) => void;
  /** Told about each narinfo baked, so the server's memory cache can hold it. */
  readonly onBaked?: (hashPart: string, text: string) => void;
}

/** A corrupt item is not re-read on every request for it. */
const FAILURE_BACKOFF_MS = 5 * 60_000;

export class NarCache {
  readonly options: NarCacheOptions;
  readonly #queue: string[] = [];
  readonly #pending = new Set<string>();
  /** Items whose baking failed, and when: not retried for FAILURE_BACKOFF_MS. */
  readonly #failed = new Map<string, number>();
  #active = 0;
  #idle: (() => void)[] = [];

  constructor(options: NarCacheOptions) {
    this.options = options;
  }

  /**
   * The baked narinfo of `info`, when there is one that still fits: same NarHash, the
   * configured compressions in order, and signed by our key (a key change rebakes).
   */
  readNarinfo(info: PathInfo): string | undefined {
    const { dir, signer } = this.options;
    const compressions = actualCompressions(info.path, this.options.compressions);
    const baseName = info.path.slice(info.path.lastIndexOf("/") + 1);
    let text: string;
    try {
      text = readFileSync(bakedNarinfoFile(dir, compressions, baseName), "utf8");
    } catch {
      return undefined;
    }
    try {
      const narinfo = parseNarinfo(text);
      const methods = narinfo.urls.map((url) => url.compression).join(" ");
      if (
        narinfo.storePath !== info.path ||
        formatHashNix32(narinfo.narHash) !== info.narHash ||
        methods !== compressions.map((c) => c.method).join(" ") ||
        !narinfo.sigs.some((sig) => sig.startsWith(`${signer.keyName}:`)) ||
        !verifyGuixNarinfo(text, [signer.key.q]).valid
      ) {
        return undefined;
      }
    } catch {
      return undefined;
    }
    return text;
  }

  /** The baked file of a nar and its size, if it exists. */
  bakedNar(
    method: CompressionMethod,
    baseName: string,
  ): { file: string; size: number } | undefined {
    const file = bakedNarFile(this.options.dir, method, baseName);
    try {
      const stat = statSync(file);
      return stat.isFile() ? { file, size: stat.size } : undefined;
    } catch {
      return undefined;
    }
  }

  /** True when `info` may be served live while it is not baked yet. */
  bypasses(info: PathInfo): boolean {
    return info.narSize < this.options.bypassThreshold;
  }

  /** Queues `path` for baking unless it is already queued or being baked. */
  enqueue(path: string): void {
    if (this.options.bakeElsewhere) {
      this.options.bakeElsewhere(path);
      return;
    }
    if (this.#pending.has(path)) return;
    const failedAt = this.#failed.get(path);
    if (failedAt !== undefined && Date.now() - failedAt < FAILURE_BACKOFF_MS) return;
    this.#failed.delete(path);
    if (this.#queue.length >= (this.options.maxQueue ?? 100_000)) return;
    this.#pending.add(path);
    this.#queue.push(path);
    this.options.metrics.bakeQueued.set(this.#queue.length);
    this.#pump();
  }

  /** Items waiting and items being baked now. */
  stats(): { queued: number; active: number } {
    return { queued: this.#queue.length, active: this.#active };
  }

  /** Resolves when nothing is queued or baking (for tests and orderly shutdown). */
  idle(): Promise<void> {
    if (this.#active === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    while (this.#active < this.options.workers && this.#queue.length > 0) {
      const path = this.#queue.shift()!;
      this.#active++;
      this.options.metrics.bakeQueued.set(this.#queue.length);
      this.options.metrics.bakeActive.set(this.#active);
      this.#bake(path).finally(() => {
        this.#active--;
        this.#pending.delete(path);
        this.options.metrics.bakeActive.set(this.#active);
        this.#pump();
        if (this.#active === 0 && this.#queue.length === 0) {
          for (const resolve of this.#idle.splice(0)) resolve();
        }
      });
    }
  }

  async #bake(path: string): Promise<void> {
    const { store, metrics, logger } = this.options;
    try {
      const info = store.pathInfo(path);
      if (!info) return; // Collected since it was asked for.
      const text = await bakeItem(info, store.realPath(path), this.options);
      for (const { method } of actualCompressions(path, this.options.compressions))
        metrics.baked.inc({ compression: method });
      const hashPart = path.slice(path.lastIndexOf("/") + 1).slice(0, 32);
      this.options.onBaked?.(hashPart, text);
      logger.debug({ storePath: path }, "baked");
    } catch (error) {
      metrics.bakeFailures.inc();
      this.#failed.set(path, Date.now());
      logger.error({ storePath: path, err: error }, "baking failed");
    }
  }
}
