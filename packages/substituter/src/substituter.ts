/**
 * The substituter: fetches store paths from binary caches instead of building them.
 *
 * Caches are asked in order of their `Priority:` (then the order given); narinfo lookups
 * run in parallel, bounded, and their answers are cached in SQLite with positive and
 * negative TTLs. A narinfo is used only when a trusted key signed it (`acceptNarinfo`).
 * Substituting a path first substitutes its missing references, so paths become valid
 * bottom-up as the store requires; downloads run in parallel, bounded, and a path that
 * fails from one cache is tried from the next.
 */
import { join } from "node:path";
import { KilnError } from "@kiln/formats/kiln-error";
import { parseStorePath } from "@kiln/formats/store-path";
import type { TrustedKey } from "@kiln/formats/verify-narinfo";
import { kilnStateDir } from "@kiln/store/store-config";
import { acceptNarinfo, type NarinfoAcceptance } from "./accept-narinfo.ts";
import type { CacheInfo } from "./cache-info.ts";
import { normaliseCacheUrl } from "./cache-url.ts";
import { createLimiter, type Limiter } from "./create-limiter.ts";
import { downloadNar, type SubstituteStore } from "./download-nar.ts";
import { fetchCacheInfo } from "./fetch-cache-info.ts";
import { fetchNarinfo } from "./fetch-narinfo.ts";
import { NarinfoCache } from "./narinfo-cache.ts";
import { createResourceFetcher, type ResourceFetcher } from "./resource-fetcher.ts";
import { SubstituterError } from "./substituter-error.ts";
import type {
  CacheList,
  MissingPaths,
  PathQuery,
  SubstituteOffer,
  SubstituteResult,
  SubstituterOptions,
} from "./substituter-types.ts";

const CACHE_INFO_TTL_MS = 3600_000;

export class Substituter {
  readonly storeDir: string;
  readonly #store: SubstituteStore;
  readonly #urls: readonly string[];
  readonly #keys: readonly TrustedKey[];
  readonly #narinfos: NarinfoCache;
  readonly #fetcher: ResourceFetcher;
  readonly #ownsFetcher: boolean;
  readonly #queryLimit: Limiter;
  readonly #downloadLimit: Limiter;
  readonly #options: SubstituterOptions;
  readonly #clock: () => number;
  readonly #inFlight = new Map<string, Promise<string | undefined>>();
  #caches: { list: Promise<CacheList>; at: number } | undefined;

  constructor(options: SubstituterOptions) {
    this.#options = options;
    this.#store = options.store;
    this.storeDir = options.store.config.storeDir;
    this.#urls = [...new Set(options.urls.map(normaliseCacheUrl))];
    this.#keys = options.trustedKeys;
    this.#clock = options.clock ?? Date.now;
    const file =
      options.cacheFile === undefined
        ? join(kilnStateDir(options.store.config), "substitute-cache.sqlite")
        : (options.cacheFile ?? ":memory:");
    this.#narinfos = new NarinfoCache(file, {
      positiveTtl: options.positiveTtl,
      negativeTtl: options.negativeTtl,
      clock: this.#clock,
    });
    this.#fetcher = options.fetcher ?? createResourceFetcher({ proxy: options.proxy });
    this.#ownsFetcher = options.fetcher === undefined;
    this.#queryLimit = createLimiter(options.queryConcurrency ?? 25);
    this.#downloadLimit = createLimiter(options.downloadConcurrency ?? 8);
  }

  /** Reads every cache's nix-cache-info (once an hour) and orders the usable ones by Priority. */
  caches(): Promise<CacheList> {
    const now = this.#clock();
    if (this.#caches && now - this.#caches.at < CACHE_INFO_TTL_MS) return this.#caches.list;
    type Answer = { url: string; info: CacheInfo } | { url: string; reason: string };
    const list = Promise.all(
      this.#urls.map(async (url): Promise<Answer> => {
        try {
          return { url, info: await fetchCacheInfo(this.#fetcher, url, this.storeDir) };
        } catch (error) {
          if (!isReportable(error)) throw error;
          this.#options.onWarning?.(`not using substitute URL ${url}: ${error.message}`);
          return { url, reason: error.message };
        }
      }),
    ).then(
      (answers): CacheList => ({
        // Array.prototype.sort is stable: equal priorities keep the given order.
        usable: answers
          .flatMap((answer) => ("info" in answer ? [{ url: answer.url, ...answer.info }] : []))
          .sort((a, b) => a.priority - b.priority),
        refused: answers.flatMap((answer) =>
          "reason" in answer ? [{ url: answer.url, reason: answer.reason }] : [],
        ),
      }),
    );
    this.#caches = { list, at: now };
    return list;
  }

  /**
   * What `cacheUrl` offers for `path`: the accepted narinfo, or why not ("not found",
   * a signature problem, an unreachable cache). Answers come from the lookup cache when fresh.
   */
  async lookup(cacheUrl: string, path: string): Promise<NarinfoAcceptance> {
    let text: string | undefined;
    try {
      text = await this.#narinfoText(cacheUrl, parseStorePath(path, this.storeDir).hashPart);
    } catch (error) {
      if (!isReportable(error)) throw error;
      return { accepted: false, reason: error.message };
    }
    if (text === undefined) return { accepted: false, reason: "not found" };
    return acceptNarinfo(text, { path, storeDir: this.storeDir, trustedKeys: this.#keys });
  }

  /**
   * For each path, the first cache (in priority order) with an acceptable narinfo. With
   * `massQuery`, caches whose nix-cache-info says `WantMassQuery: 0` are left out.
   */
  async querySubstitutablePathInfos(
    paths: Iterable<string>,
    options: { massQuery?: boolean } = {},
  ): Promise<PathQuery> {
    const { usable, refused } = await this.caches();
    const caches = options.massQuery ? usable.filter((cache) => cache.wantMassQuery) : usable;
    const found = new Map<string, SubstituteOffer>();
    const missing = new Map<string, string>();
    await Promise.all(
      [...new Set(paths)].map(async (path) => {
        parseStorePath(path, this.storeDir);
        const reasons = refused.map(({ url, reason }) => `${url}: ${reason}`);
        for (const cache of caches) {
          const answer = await this.lookup(cache.url, path);
          if (answer.accepted) {
            found.set(path, offerOf(path, cache.url, answer));
            return;
          }
          reasons.push(`${cache.url}: ${answer.reason}`);
        }
        missing.set(path, reasons.join("; ") || "no substitute URLs");
      }),
    );
    return { found, missing };
  }

  /** The invalid part of the closure of `paths` under the offered references, and what it costs. */
  async queryMissing(paths: Iterable<string>): Promise<MissingPaths> {
    const willSubstitute = new Map<string, SubstituteOffer>();
    const unknown = new Map<string, string>();
    const seen = new Set<string>();
    let pending = [...paths];
    while (pending.length > 0) {
      const fresh = pending.filter((path) => !seen.has(path) && !this.#store.isValidPath(path));
      for (const path of fresh) seen.add(path);
      const { found, missing } = await this.querySubstitutablePathInfos(fresh);
      for (const [path, reason] of missing) unknown.set(path, reason);
      pending = [];
      for (const [path, offer] of found) {
        willSubstitute.set(path, offer);
        for (const reference of offer.narinfo.references)
          pending.push(`${this.storeDir}/${reference}`);
      }
    }
    let downloadSize = 0;
    let narSize = 0;
    for (const { narinfo } of willSubstitute.values()) {
      downloadSize += narinfo.urls[0]?.fileSize ?? 0;
      narSize += narinfo.narSize;
    }
    return { willSubstitute, unknown, downloadSize, narSize };
  }

  /**
   * Makes `paths` valid by substitution, together with their missing references. Paths
   * that are already valid are left alone. Never throws for a path that cannot be
   * substituted: the result lists it with the reasons (one per cache tried).
   * @example const { failed } = await substituter.substitutePaths(["/gnu/store/…-hello-2.12"]);
   */
  async substitutePaths(paths: Iterable<string>): Promise<SubstituteResult> {
    const requested = [...new Set(paths)];
    for (const path of requested) parseStorePath(path, this.storeDir);
    const substituted: string[] = [];
    const failed = new Map<string, string>();
    const jobs = new Map<string, Promise<void>>();
    const run: SubstitutionRun = {
      caches: await this.caches(),
      waitsFor: new Map(),
      ensure: (path) => {
        let job = jobs.get(path);
        if (!job) {
          job = this.#substituteOne(path, run).then(
            (done) => {
              if (done) substituted.push(path);
            },
            (error: unknown) => {
              failed.set(path, (error as Error).message);
              throw error;
            },
          );
          jobs.set(path, job);
        }
        return job;
      },
    };
    const outcomes = await Promise.allSettled(requested.map(run.ensure));
    // Bugs (not KilnErrors or system errors) must not hide among the failures.
    for (const outcome of outcomes)
      if (outcome.status === "rejected" && !isReportable(outcome.reason)) throw outcome.reason;
    return { substituted, failed };
  }

  /** Closes the lookup cache and the connections. */
  close(): void {
    this.#narinfos.close();
    if (this.#ownsFetcher) this.#fetcher.close();
  }

  /** Returns true when it added the path, false when it was already valid. */
  async #substituteOne(path: string, run: SubstitutionRun): Promise<boolean> {
    if (this.#store.isValidPath(path)) return false;
    const { usable, refused } = run.caches;
    const reasons = refused.map(({ url, reason }) => `${url}: ${reason}`);
    for (const cache of usable) {
      const answer = await this.lookup(cache.url, path);
      if (!answer.accepted) {
        reasons.push(`${cache.url}: ${answer.reason}`);
        continue;
      }
      const references = answer.narinfo.references
        .map((reference) => `${this.storeDir}/${reference}`)
        .filter((reference) => reference !== path && !this.#store.isValidPath(reference));
      // Signed narinfos could still claim a reference cycle; waiting on it would hang.
      const cyclic = references.find((reference) => waitsOn(run.waitsFor, reference, path));
      if (cyclic !== undefined) {
        throw new SubstituterError(
          "REFERENCE_CYCLE",
          `cannot substitute ${path}: ${cache.url} says it refers to ${cyclic}, which refers back to it`,
        );
      }
      run.waitsFor.set(path, references);
      const results = await Promise.allSettled(references.map(run.ensure));
      run.waitsFor.delete(path);
      const broken = references.find((_, index) => results[index].status === "rejected");
      if (broken !== undefined) {
        throw new SubstituterError(
          "REFERENCE",
          `cannot substitute ${path}: its reference ${broken} could not be substituted`,
        );
      }
      try {
        await this.#downloadLimit(() =>
          downloadNar(offerOf(path, cache.url, answer), {
            store: this.#store,
            fetcher: this.#fetcher,
            programs: this.#options.programs,
            onProgress: this.#options.onProgress,
          }),
        );
        return true;
      } catch (error) {
        if (!isReportable(error)) throw error;
        if (error instanceof KilnError && error.code === "ERR_SUBSTITUTE_NAR_MISSING") {
          this.#narinfos.forget(cache.url, parseStorePath(path, this.storeDir).hashPart);
        }
        reasons.push(`${cache.url}: ${error.message}`);
        this.#options.onWarning?.(`cannot substitute ${path} from ${cache.url}: ${error.message}`);
      }
    }
    throw new SubstituterError(
      "FAILED",
      `cannot substitute ${path}: ${reasons.join("; ") || "no substitute URLs"}`,
    );
  }

  /** The narinfo text `cacheUrl` has for `hashPart` (undefined: none), cached, one request at a time per key. */
  #narinfoText(cacheUrl: string, hashPart: string): Promise<string | undefined> {
    const cached = this.#narinfos.get(cacheUrl, hashPart);
    if (cached) return Promise.resolve(cached.text);
    const key = `${cacheUrl} ${hashPart}`;
    let request = this.#inFlight.get(key);
    if (!request) {
      request = this.#queryLimit(() => fetchNarinfo(this.#fetcher, cacheUrl, hashPart))
        .then((response) => {
          if (response.text === undefined)
            this.#narinfos.putAbsent(cacheUrl, hashPart, response.maxAge);
          else this.#narinfos.putPresent(cacheUrl, hashPart, response.text);
          return response.text;
        })
        .finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, request);
    }
    return request;
  }
}

/** State shared by the paths of one `substitutePaths` call. */
interface SubstitutionRun {
  readonly caches: CacheList;
  /** Path → the references it is waiting for, to refuse cycles. */
  readonly waitsFor: Map<string, readonly string[]>;
  /** Substitutes a path once per run, however many referrers ask. */
  readonly ensure: (path: string) => Promise<void>;
}

/** True when `from` is, or waits (transitively) for, `target`. */
function waitsOn(
  waitsFor: ReadonlyMap<string, readonly string[]>,
  from: string,
  target: string,
  seen = new Set<string>(),
): boolean {
  if (from === target) return true;
  if (seen.has(from)) return false;
  seen.add(from);
  return (waitsFor.get(from) ?? []).some((next) => waitsOn(waitsFor, next, target, seen));
}

function offerOf(
  path: string,
  cacheUrl: string,
  answer: Extract<NarinfoAcceptance, { accepted: true }>,
): SubstituteOffer {
  return { path, cacheUrl, narinfo: answer.narinfo, validBy: answer.validBy };
}

/** Kiln's own errors and Node's system errors (ENOSPC, ECONNREFUSED…) are reported; others are bugs. */
function isReportable(error: unknown): error is Error {
  return (
    error instanceof KilnError ||
    (error instanceof Error && typeof (error as NodeJS.ErrnoException).code === "string")
  );
}
