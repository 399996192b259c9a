/**
 * The one `Range: bytes=…` form kiln publish honours: a single range (what download
 * resumption uses). Several ranges are answered with the whole body, which HTTP allows.
 */

export type RangeRequest =
  | { readonly kind: "none" }
  | { readonly kind: "range"; readonly start: number; readonly end: number }
  | { readonly kind: "unsatisfiable" };

/**
 * Reads a Range header against a body of `size` bytes; `end` is inclusive.
 * @example parseRange("bytes=100-", 1000) // { kind: "range", start: 100, end: 999 }
 * @example parseRange("bytes=-100", 1000) // { kind: "range", start: 900, end: 999 }
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: "none" };
  const match = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header);
  // Other units, several ranges or junk: ignore the header and send everything.
  if (!match || (match[1] === "" && match[2] === "")) return { kind: "none" };
  let start: number;
  let end: number;
  if (match[1] === "") {
    const suffix = Number(match[2]);
    if (suffix === 0) return { kind: "unsatisfiable" };
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
    if (match[2] !== "" && Number(match[2]) < start) return { kind: "none" };
  }
  if (start >= size || size === 0) return { kind: "unsatisfiable" };
  return { kind: "range", start, end };
}
