/**
 * The native NAR walker (../native/nar-walk.c): the same archive as `narChunks`, produced
 * on a pthread of its own while this thread consumes it.
 *
 * Why: hashing a 100 MiB tree of ~4,000 files costs ~60 ms of SHA-256 and ~60 ms of walk
 * here. A worker thread to split them boots in ~33 ms before doing anything, so the
 * JavaScript design cannot beat `nix hash path` (bench:nar-hash-floor measures that
 * bound); a pthread starts in microseconds. This thread hashes, the walker reads.
 *
 * The addon is optional: `npm ci` builds it when a C compiler is present
 * (scripts/build-native.ts). Without it, or with KILN_NATIVE_NAR=0, `startNativeNarWalk`
 * returns undefined and callers use `narChunks`. When the native walk meets anything
 * wrong (a missing file, a fifo, a file that shrinks), it throws `NativeWalkFailed` and
 * the caller repeats the walk in JavaScript, so errors come from one place.
 */
import { createRequire } from "node:module";

interface Addon {
  readonly version: number;
  start(path: string, ring: ArrayBuffer, slotSize: number): object;
  next(handle: object): number;
  narSize(handle: object): number;
  message(handle: object): string;
  close(handle: object): void;
}

/** The protocol version this module speaks (NAR_WALK_VERSION in nar-walk.c). */
const ADDON_VERSION = 1;
// Four slots of 1 MiB keep the walker ahead of the hash; a larger ring only costs page
// faults (~3 µs a page here), and smaller slots gain nothing (measured, session 6).
const SLOT_SIZE = 1 << 20;
const SLOTS = 4;

let addon: Addon | null | undefined;
// Rings of finished walks, reused so their pages are faulted in once per process.
const spareRings: ArrayBuffer[] = [];

function loadAddon(): Addon | null {
  if (process.env.KILN_NATIVE_NAR === "0") return null;
  try {
    const loaded = createRequire(import.meta.url)("../native/build/nar-walk.node") as Addon;
    return loaded.version === ADDON_VERSION ? loaded : null;
  } catch {
    return null;
  }
}

/** True when the native walker is built and enabled. */
export function nativeNarAvailable(): boolean {
  addon ??= loadAddon();
  return addon !== null;
}

/** The native walk could not finish; repeat it with `narChunks` to learn why. */
export class NativeWalkFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NativeWalkFailed";
  }
}

export interface NativeNarWalkOptions {
  /** Bytes per ring slot, the largest chunk (default 1 MiB, at least 4 KiB). */
  readonly slotSize?: number;
  /** Number of ring slots (default 4, at least 2). */
  readonly slots?: number;
}

/** A walk in progress on the walker's thread. */
export class NativeNarWalk {
  readonly #addon: Addon;
  readonly #ring: ArrayBuffer;
  readonly #slotSize: number;
  readonly #slots: number;
  #handle: object | undefined;
  #taken = false;

  constructor(addon: Addon, path: string, options: NativeNarWalkOptions = {}) {
    this.#addon = addon;
    this.#slotSize = options.slotSize ?? SLOT_SIZE;
    this.#slots = options.slots ?? SLOTS;
    const standard = this.#slotSize === SLOT_SIZE && this.#slots === SLOTS;
    this.#ring = (standard && spareRings.pop()) || new ArrayBuffer(this.#slotSize * this.#slots);
    this.#handle = addon.start(path, this.#ring, this.#slotSize);
  }

  /**
   * The archive's chunks in order; returns the NAR size. Each chunk is a view of the ring,
   * valid until the next step: use it at once (hash it, copy it). Once only.
   */
  *chunks(): Generator<Uint8Array, number, void> {
    if (this.#taken) throw new Error("a NativeNarWalk is read once");
    this.#taken = true;
    try {
      for (let index = 0; ; index++) {
        // Closed before the first step or while suspended: the archive will never be whole.
        const handle = this.#handle;
        if (handle === undefined) throw new Error("this NativeNarWalk was closed");
        const length = this.#addon.next(handle);
        if (length === -1) return this.#addon.narSize(handle);
        if (length < 0) throw new NativeWalkFailed(this.#addon.message(handle));
        yield new Uint8Array(this.#ring, (index % this.#slots) * this.#slotSize, length);
      }
    } finally {
      this.close();
    }
  }

  /** Stops the walk (if still running) and frees its thread; safe to call twice. */
  close(): void {
    const handle = this.#handle;
    if (handle === undefined) return;
    this.#handle = undefined;
    this.#addon.close(handle);
    if (this.#ring.byteLength === SLOT_SIZE * SLOTS && spareRings.length < 2)
      spareRings.push(this.#ring);
  }
}

/**
 * Starts serialising `path` now, on the walker's thread, or returns undefined when the
 * native walker is not available.
 * @example
 * const walk = startNativeNarWalk("/tmp/tree");
 * if (walk) for (const chunk of walk.chunks()) hash.update(chunk);
 */
export function startNativeNarWalk(
  path: string,
  options: NativeNarWalkOptions = {},
): NativeNarWalk | undefined {
  addon ??= loadAddon();
  return addon ? new NativeNarWalk(addon, path, options) : undefined;
}
