/**
 * Everything a running publish server uses, resolved once from its options: the store
 * (read side), the signer, the compressions, the narinfo source, the baked cache, the
 * metrics and the logger. The HTTP layers (publish-app.ts, serve-nar.ts) only read it.
 */
import { availableParallelism, hostname as osHostname } from "node:os";
import { formatGuixPublicKey } from "@kiln/formats/guix-key";
import { defaultKeyName } from "@kiln/keys/export-public-key";
import type { SigningKey } from "@kiln/keys/signing-key";
import pino, { type Logger } from "pino";
import {
  type Compression,
  type CompressPrograms,
  checkCompressors,
  DEFAULT_COMPRESSION,
} from "./compression.ts";
import type { NarinfoSigner } from "./make-narinfo.ts";
import { NarCache } from "./nar-cache.ts";
import { NarinfoSource } from "./narinfo-source.ts";
import { PublishError } from "./publish-error.ts";
import { createPublishMetrics, type PublishMetrics } from "./publish-metrics.ts";
import type { PublishStore } from "./publish-store.ts";

export interface PublishCacheOptions {
  /** Where baked nars and narinfos go. */
  readonly dir: string;
  /** NarSize below which an item is served live while it bakes (bytes; default 10 MiB). */
  readonly bypassThreshold?: number;
  /** Items baked at the same time (default: the number of CPUs). */
  readonly workers?: number;
  /**
   * Hands items to bake to another process instead of baking them here: the serving
   * processes other than the first one (publish-processes.ts) bake nothing themselves.
   */
  readonly bakeElsewhere?: (path: string) => void;
  /** Told about each narinfo baked here (besides this process's memory cache). */
  readonly onBaked?: (hashPart: string, text: string) => void;
}

export interface PublishOptions {
  readonly store: PublishStore;
  /** The secret key (already read: it may be unreadable once privileges are dropped). */
  readonly key: SigningKey;
  /** `/signing-key.pub` text (default: the key's q in Guix's form). */
  readonly publicKeyText?: string;
  /** Host name in `Signature:` lines (default: this machine's). */
  readonly hostname?: string;
  /** Nix key name in `Sig:` lines (default: the key's own, else `kiln-<hostname>-1`). */
  readonly keyName?: string;
  /** One narinfo URL group per entry, in this order (default gzip:3, as guix publish). */
  readonly compressions?: readonly Compression[];
  /** URL path prefix of nars (default `nar`). */
  readonly narPath?: string;
  /** `Cache-Control: max-age` of narinfos and nars, in seconds. */
  readonly ttl?: number;
  /** `Cache-Control: max-age` of 404s, in seconds. */
  readonly negativeTtl?: number;
  /** nix-cache-info's Priority (default 100, as guix publish; lower is preferred). */
  readonly priority?: number;
  /** nix-cache-info's WantMassQuery (default false, as guix publish). */
  readonly wantMassQuery?: boolean;
  /** `${stateDir}/kiln/log/drvs`; without it, /log/ answers 404. */
  readonly logDir?: string;
  readonly cache?: PublishCacheOptions;
  readonly logger?: Logger;
  /** How long narinfos stay in memory (ms; default 60 s). */
  readonly narinfoMemoryMs?: number;
  /** Compressor programs (lzip); default found on PATH. */
  readonly programs?: CompressPrograms;
  /**
   * The `/metrics` text (default: this process's registry). Several serving processes
   * answer with the counts of all of them (publish-processes.ts).
   */
  readonly collectMetrics?: () => Promise<string>;
}

export interface PublishContext {
  readonly store: PublishStore;
  readonly signer: NarinfoSigner;
  readonly publicKeyText: string;
  readonly compressions: readonly Compression[];
  readonly programs: CompressPrograms;
  readonly narPath: string;
  readonly ttl: number | undefined;
  readonly negativeTtl: number | undefined;
  readonly cacheInfo: string;
  readonly logDir: string | undefined;
  readonly narinfos: NarinfoSource;
  readonly cache: NarCache | undefined;
  readonly metrics: PublishMetrics;
  /** The `/metrics` text. */
  readonly collectMetrics: () => Promise<string>;
  readonly logger: Logger;
}

const NAR_PATH = /^[A-Za-z0-9_~-][A-Za-z0-9._~-]*(?:\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*$/;

function checkCompressions(compressions: readonly Compression[]): void {
  if (compressions.length === 0) throw new PublishError("COMPRESSION", "no compression given");
  const methods = compressions.map((c) => c.method);
  const repeated = methods.find((method, i) => methods.indexOf(method) !== i);
  if (repeated) {
    throw new PublishError("COMPRESSION", `compression ${repeated} is given twice`, {
      hint: "each method gives one URL group; give it once, with the level you want",
    });
  }
}

/**
 * Resolves options into the context the HTTP layers use.
 * @example createPublishContext({ store: localPublishStore(store), key: readSecretKey(file) })
 */
export function createPublishContext(options: PublishOptions): PublishContext {
  const compressions = options.compressions ?? [DEFAULT_COMPRESSION];
  checkCompressions(compressions);
  const programs = options.programs ?? {};
  checkCompressors(compressions, programs);
  const narPath = options.narPath ?? "nar";
  if (!NAR_PATH.test(narPath)) {
    throw new PublishError(
      "NAR_PATH",
      `--nar-path ${JSON.stringify(narPath)} is not a relative URL path`,
      {
        hint: "use letters, digits, '-', '_', '~' and '.', segments separated by '/', e.g. nar",
      },
    );
  }
  const hostname = options.hostname ?? osHostname();
  const signer: NarinfoSigner = {
    key: options.key,
    hostname,
    keyName: options.keyName ?? options.key.nixName ?? defaultKeyName(hostname),
  };
  const logger = options.logger ?? pino({ level: "silent" });
  const metrics = createPublishMetrics();
  let narinfos: NarinfoSource | undefined;
  const cache = options.cache
    ? new NarCache({
        dir: options.cache.dir,
        compressions,
        programs,
        narPath,
        signer,
        store: options.store,
        bypassThreshold: options.cache.bypassThreshold ?? 10 * 2 ** 20,
        workers: options.cache.workers ?? availableParallelism(),
        metrics,
        logger,
        bakeElsewhere: options.cache.bakeElsewhere,
        onBaked: (hashPart, text) => {
          narinfos?.remember(hashPart, text);
          options.cache?.onBaked?.(hashPart, text);
        },
      })
    : undefined;
  narinfos = new NarinfoSource({
    store: options.store,
    signer,
    compressions,
    narPath,
    cache,
    memoryMs: options.narinfoMemoryMs,
  });
  const cacheInfo =
    `StoreDir: ${options.store.storeDir}\n` +
    `WantMassQuery: ${options.wantMassQuery ? 1 : 0}\n` +
    `Priority: ${options.priority ?? 100}\n`;
  return {
    store: options.store,
    signer,
    publicKeyText: options.publicKeyText ?? formatGuixPublicKey(options.key.q),
    compressions,
    programs,
    narPath,
    ttl: options.ttl,
    negativeTtl: options.negativeTtl,
    cacheInfo,
    logDir: options.logDir,
    narinfos,
    cache,
    metrics,
    collectMetrics: options.collectMetrics ?? (() => metrics.registry.metrics()),
    logger,
  };
}
