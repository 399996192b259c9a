/**
 * The export archive format of `nix-store --export` / `guix archive --export`: for each
 * store item, `1`, its NAR, the magic "NIXE", its path, references and deriver, then an
 * optional signature (Guix signs the SHA-256 of everything from the NAR up to the
 * deriver); a final `0` ends the archive.
 */
import { createHash } from "node:crypto";
import { FormatError } from "./kiln-error.ts";
import { readNarFrames } from "./read-nar-frames.ts";
import { type FrameReader, FrameWriter } from "./worker-protocol-framing.ts";

/** "NIXE" read as a little-endian u64. */
export const EXPORT_MAGIC = 0x4558494e;

/** What follows an item's NAR in the archive. */
export interface ExportTrailer {
  readonly path: string;
  readonly references: readonly string[];
  /** Empty when unknown. */
  readonly deriver: string;
  /** Guix's signature (libgcrypt S-expression text), when the item is signed. */
  readonly signature?: string;
  /** SHA-256 of the item's NAR, magic, path, references and deriver: what Guix signs. */
  readonly signedDigest: Uint8Array;
}

export interface ExportArchiveItem {
  /** The item's NAR bytes; drain it before calling `trailer()`. */
  readonly nar: AsyncIterable<Uint8Array>;
  trailer(): Promise<ExportTrailer>;
}

export interface ExportItemSource {
  readonly nar: AsyncIterable<Uint8Array>;
  readonly path: string;
  readonly references: readonly string[];
  readonly deriver?: string;
  /** Given the digest Guix signs, returns the signature text to embed (or undefined for none). */
  readonly sign?: (digest: Uint8Array) => string | undefined;
}

/**
 * Writes an export archive of the given items, in order.
 * @example Readable.from(writeExportArchive(items)).pipe(process.stdout)
 */
export async function* writeExportArchive(
  items: AsyncIterable<ExportItemSource> | Iterable<ExportItemSource>,
) {
  const frame = new FrameWriter();
  for await (const item of items) {
    yield frame.u64(1).take();
    const hash = createHash("sha256");
    for await (const chunk of item.nar) {
      hash.update(chunk);
      yield chunk;
    }
    const trailer = frame
      .u64(EXPORT_MAGIC)
      .string(item.path)
      .strings([...item.references].sort())
      .string(item.deriver ?? "")
      .take();
    hash.update(trailer);
    yield trailer;
    const signature = item.sign?.(new Uint8Array(hash.digest()));
    yield signature === undefined ? frame.u64(0).take() : frame.u64(1).string(signature).take();
  }
  yield frame.u64(0).take();
}

/**
 * Reads an export archive item by item. For each item, drain `nar` (e.g. restore it into
 * a temporary directory while hashing) and then await `trailer()` to learn where it goes.
 */
export async function* readExportArchive(
  reader: FrameReader,
): AsyncGenerator<ExportArchiveItem, void, void> {
  for (;;) {
    const at = reader.offset;
    const marker = await reader.u64();
    if (marker === 0) return;
    if (marker !== 1)
      throw new FormatError("export archive", `expected 0 or 1 at byte ${at}, found ${marker}`);
    const hash = createHash("sha256");
    let drained = false;
    const nar = (async function* () {
      for await (const chunk of readNarFrames(reader)) {
        hash.update(chunk);
        yield chunk;
      }
      drained = true;
    })();
    let trailerPromise: Promise<ExportTrailer> | undefined;
    yield {
      nar,
      trailer() {
        trailerPromise ??= (async () => {
          if (!drained)
            throw new FormatError(
              "export archive",
              "the NAR of an item must be read before its trailer",
            );
          const magicAt = reader.offset;
          const magic = await reader.u64();
          if (magic !== EXPORT_MAGIC) {
            throw new FormatError(
              "export archive",
              `bad item magic ${magic.toString(16)} at byte ${magicAt}`,
            );
          }
          const path = await reader.string(4096);
          const references = await reader.strings(4096);
          const deriver = await reader.string(4096);
          hash.update(
            new FrameWriter()
              .u64(EXPORT_MAGIC)
              .string(path)
              .strings(references)
              .string(deriver)
              .take(),
          );
          const signedDigest = new Uint8Array(hash.digest());
          const signed = await reader.u64();
          if (signed > 1)
            throw new FormatError("export archive", `bad signature marker ${signed} for ${path}`);
          const signature = signed === 1 ? await reader.string(1 << 16) : undefined;
          return { path, references, deriver, signature, signedDigest };
        })();
        return trailerPromise;
      },
    };
    await trailerPromise;
    if (!trailerPromise)
      throw new FormatError("export archive", "an item's trailer was never read");
  }
}
