/**
 * One nar from one cache into the store, in a single pass: the download is counted and
 * hashed (FileSize, FileHash), decompressed, and handed to `addNarToStore`, which
 * restores it while checking NarHash and NarSize and registers the path only when all
 * of that held. Any failure leaves nothing registered and nothing in the store.
 */
import { createHash } from "node:crypto";
import { formatHashNix32, type Hash } from "@kiln/formats/hash";
import type { Narinfo, NarinfoUrl } from "@kiln/formats/narinfo";
import type { LocalStore } from "@kiln/store/local-store";
import { cacheResourceUrl } from "./cache-url.ts";
import { canDecompress, type DecompressPrograms, decompressNar } from "./decompress-nar.ts";
import type { ResourceFetcher } from "./resource-fetcher.ts";
import { selectNarUrls } from "./select-nar-urls.ts";
import { SubstituterError } from "./substituter-error.ts";

/** What the substituter needs of a store: a LocalStore, or a test double of these members. */
export type SubstituteStore = Pick<LocalStore, "config" | "isValidPath" | "addNarToStore">;

/** Progress of one download, in bytes as they come off the wire (compressed). */
export interface DownloadProgress {
  readonly path: string;
  readonly cacheUrl: string;
  readonly url: string;
  readonly received: number;
  /** FileSize from the narinfo, or the Content-Length; undefined when neither is known. */
  readonly total: number | undefined;
  readonly done: boolean;
  /** Set (with `done` false) when this attempt failed; another URL or cache may follow. */
  readonly error?: string;
}

/** An accepted narinfo and where it came from. */
export interface NarDownload {
  readonly path: string;
  readonly cacheUrl: string;
  readonly narinfo: Narinfo;
}

export interface DownloadNarOptions {
  readonly store: SubstituteStore;
  readonly fetcher: ResourceFetcher;
  readonly programs?: DecompressPrograms;
  readonly onProgress?: (progress: DownloadProgress) => void;
}

/**
 * Downloads and adds `download.path`, trying the narinfo's URLs best first. Throws a
 * KilnError saying what was wrong (missing nar, FileHash, truncation, corrupt data,
 * NarHash…); the caller adds which path and cache it was.
 * @example await downloadNar({ path, cacheUrl, narinfo }, { store, fetcher });
 */
export async function downloadNar(
  download: NarDownload,
  options: DownloadNarOptions,
): Promise<void> {
  const { narinfo } = download;
  const urls = selectNarUrls(narinfo.urls, (compression) =>
    canDecompress(compression, options.programs),
  );
  if (urls.length === 0) {
    const offered = narinfo.urls.map((url) => url.compression).join(", ");
    throw new SubstituterError(
      "COMPRESSION",
      `it is only offered as ${offered}, which cannot be decompressed here`,
      { hint: offered.includes("lzip") ? "install lzip" : undefined },
    );
  }
  let failure: unknown;
  for (const url of urls) {
    try {
      await downloadOne(download, url, options);
      return;
    } catch (error) {
      failure = error;
      // A valid path means another process substituted it meanwhile: nothing to retry.
      if (options.store.isValidPath(download.path)) return;
    }
  }
  throw failure;
}

async function downloadOne(
  download: NarDownload,
  narUrl: NarinfoUrl,
  options: DownloadNarOptions,
): Promise<void> {
  const { narinfo, cacheUrl, path } = download;
  const { storeDir } = options.store.config;
  const url = cacheResourceUrl(cacheUrl, narUrl.url);
  const controller = new AbortController();
  const resource = await options.fetcher.get(url, { signal: controller.signal });
  if (resource.status !== 200) {
    throw new SubstituterError(
      resource.status === 404 ? "NAR_MISSING" : "HTTP",
      `${url.href}: HTTP status ${resource.status}`,
    );
  }
  let settled = false;
  let received = 0;
  const total = narUrl.fileSize ?? resource.size;
  try {
    const report = (bytes: number, done: boolean) => {
      received = bytes;
      options.onProgress?.({ path, cacheUrl, url: url.href, received, total, done });
    };
    const file = checkedFile(resource.body, { url: url.href, narUrl, report });
    await options.store.addNarToStore(decompressNar(file, narUrl.compression, options), {
      path,
      narHash: formatHashNix32(narinfo.narHash),
      narSize: narinfo.narSize,
      references: narinfo.references.map((reference) => `${storeDir}/${reference}`).sort(),
      ...(narinfo.deriver === undefined ? {} : { deriver: `${storeDir}/${narinfo.deriver}` }),
      ...(narinfo.ca === undefined ? {} : { ca: narinfo.ca }),
      sigs: narinfo.sigs,
    });
    settled = true;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    options.onProgress?.({
      path,
      cacheUrl,
      url: url.href,
      received,
      total,
      done: false,
      error: message,
    });
    throw error;
  } finally {
    // On failure the body may still be waiting on the server: cut it off.
    if (!settled) controller.abort();
  }
}

/** Passes the downloaded file through, counting and hashing it; checks FileSize and FileHash at its end. */
async function* checkedFile(
  body: AsyncIterable<Uint8Array>,
  options: {
    url: string;
    narUrl: NarinfoUrl;
    report: (received: number, done: boolean) => void;
  },
): AsyncGenerator<Uint8Array> {
  const { fileHash, fileSize } = options.narUrl;
  const hasher = fileHash ? createHash(fileHash.algorithm) : undefined;
  let received = 0;
  options.report(0, false);
  for await (const chunk of body) {
    received += chunk.length;
    if (fileSize !== undefined && received > fileSize) {
      throw new SubstituterError(
        "FILE_SIZE",
        `${options.url} is larger than its FileSize ${fileSize}`,
      );
    }
    hasher?.update(chunk);
    options.report(received, false);
    yield chunk;
  }
  if (fileSize !== undefined && received !== fileSize) {
    throw new SubstituterError(
      "FILE_SIZE",
      `${options.url} is ${received} bytes, but its FileSize is ${fileSize}`,
    );
  }
  if (hasher && fileHash) {
    const actual: Hash = { algorithm: fileHash.algorithm, digest: new Uint8Array(hasher.digest()) };
    if (formatHashNix32(actual) !== formatHashNix32(fileHash)) {
      throw new SubstituterError(
        "FILE_HASH",
        `${options.url} has hash ${formatHashNix32(actual)}, but its FileHash is ${formatHashNix32(fileHash)}`,
      );
    }
  }
  options.report(received, true);
}
