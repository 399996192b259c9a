/**
 * S-expressions as libgcrypt reads and writes them, the container of Guix keys, ACLs
 * and narinfo signatures. An atom is raw bytes (`Uint8Array`), a list is an array.
 *
 * Reading accepts the canonical form (`(10:public-key(3:ecc…))`, lengths counted in
 * bytes) and the advanced form: tokens, `#hex#`, `"quoted strings"` with C escapes,
 * `|base64|`, optional length prefixes, whitespace, plus a whole expression in transport
 * form `{base64 of canonical}`. Display hints (`[…]`) are rejected: libgcrypt has no
 * model for them and Guix never writes them. Printing reproduces libgcrypt's
 * `gcry_sexp_sprint` byte for byte, because Guix signs and publishes that rendering.
 */
import { FormatError } from "./kiln-error.ts";

/** An atom (raw bytes) or a list of S-expressions. */
export type Sexp = Uint8Array | readonly Sexp[];

export type SexpForm = "advanced" | "canonical";

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);
/**
 * Characters libgcrypt allows in a bare token besides letters and digits (a token cannot
 * start with a digit). NUL is among them by accident: libgcrypt tests with `strchr`,
 * which also finds a string's terminator, both when reading and when printing.
 */
const TOKEN_SPECIALS = "-./_:*+=\0";
const MAX_DEPTH = 256;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isTokenChar(c: number): boolean {
  return isAlpha(c) || isDigit(c) || TOKEN_SPECIALS.includes(String.fromCharCode(c));
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Whether a value is a list (rather than an atom). */
export function isSexpList(sexp: Sexp): sexp is readonly Sexp[] {
  return !(sexp instanceof Uint8Array);
}

/** An atom holding the UTF-8 bytes of `text`. */
export function sexpAtom(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** The text of an atom (UTF-8), or undefined for a list. */
export function sexpText(sexp: Sexp | undefined): string | undefined {
  return sexp instanceof Uint8Array ? Buffer.from(sexp).toString("utf8") : undefined;
}

/**
 * Finds the first list, depth first, whose head is the token `name`, as
 * `gcry_sexp_find_token` does.
 * @example findSexp(parseSexp("(a (b 1:x) (c 1:y))"), "c") // [c, y]
 */
export function findSexp(sexp: Sexp, name: string): readonly Sexp[] | undefined {
  if (!isSexpList(sexp)) return undefined;
  if (sexpText(sexp[0]) === name) return sexp;
  for (const item of sexp) {
    const found = findSexp(item, name);
    if (found) return found;
  }
  return undefined;
}

function fail(message: string, offset: number): never {
  throw new FormatError("sexp", `${message} at byte ${offset}`);
}

class Reader {
  readonly bytes: Uint8Array;
  pos = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  skipWhitespace(): void {
    while (this.pos < this.bytes.length && WHITESPACE.has(this.bytes[this.pos])) this.pos++;
  }

  read(depth: number): Sexp {
    this.skipWhitespace();
    if (this.pos >= this.bytes.length) fail("unexpected end of input", this.pos);
    const c = this.bytes[this.pos];
    if (c === 0x28 /* ( */) return this.readList(depth);
    return this.readAtom();
  }

  readList(depth: number): Sexp[] {
    if (depth >= MAX_DEPTH) fail(`lists nested deeper than ${MAX_DEPTH}`, this.pos);
    this.pos++;
    const items: Sexp[] = [];
    for (;;) {
      this.skipWhitespace();
      if (this.pos >= this.bytes.length) fail("unclosed list", this.pos);
      if (this.bytes[this.pos] === 0x29 /* ) */) {
        this.pos++;
        return items;
      }
      items.push(this.read(depth + 1));
    }
  }

  readAtom(): Uint8Array {
    const start = this.pos;
    let length: number | undefined;
    if (isDigit(this.bytes[this.pos])) {
      while (this.pos < this.bytes.length && isDigit(this.bytes[this.pos])) this.pos++;
      const digits = Buffer.from(this.bytes.subarray(start, this.pos)).toString("latin1");
      if (digits.length > 1 && digits.startsWith("0")) fail("length with a leading zero", start);
      length = Number(digits);
      if (this.pos >= this.bytes.length) fail("length prefix without data", start);
      if (this.bytes[this.pos] === 0x3a /* : */) {
        this.pos++;
        if (length > this.bytes.length - this.pos) fail("verbatim string runs past the end", start);
        const data = this.bytes.slice(this.pos, this.pos + length);
        this.pos += length;
        return data;
      }
    }
    const c = this.bytes[this.pos];
    let data: Uint8Array;
    if (c === 0x23 /* # */) data = this.readHex();
    else if (c === 0x22 /* " */) data = this.readQuoted();
    else if (c === 0x7c /* | */) data = this.readBase64();
    else if (length === undefined && isTokenChar(c)) return this.readToken();
    else if (c === 0x5b /* [ */) fail("display hints are not supported", this.pos);
    else fail(`unexpected character ${JSON.stringify(String.fromCharCode(c))}`, this.pos);
    if (length !== undefined && length !== data.length) {
      fail(`length prefix ${length} does not match the ${data.length} bytes that follow`, start);
    }
    return data;
  }

  readToken(): Uint8Array {
    const start = this.pos;
    while (this.pos < this.bytes.length && isTokenChar(this.bytes[this.pos])) this.pos++;
    return this.bytes.slice(start, this.pos);
  }

  readHex(): Uint8Array {
    const start = this.pos++;
    let hex = "";
    for (;;) {
      if (this.pos >= this.bytes.length) fail("unterminated #hex#", start);
      const c = this.bytes[this.pos++];
      if (c === 0x23) break;
      if (isHexDigit(c)) hex += String.fromCharCode(c);
      else if (!WHITESPACE.has(c)) fail("invalid character in #hex#", this.pos - 1);
    }
    if (hex.length % 2 !== 0) fail("odd number of hex digits", start);
    return new Uint8Array(Buffer.from(hex, "hex"));
  }

  readBase64(): Uint8Array {
    const start = this.pos++;
    const end = this.bytes.indexOf(0x7c, this.pos);
    if (end < 0) fail("unterminated |base64|", start);
    const text = Buffer.from(this.bytes.subarray(this.pos, end))
      .toString("latin1")
      .replace(/[ \t\n\v\f\r]/g, "");
    this.pos = end + 1;
    if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
      fail("invalid |base64|", start);
    }
    return new Uint8Array(Buffer.from(text, "base64"));
  }

  /** C-style escapes as libgcrypt's reader accepts them; a backslash-newline is a continuation. */
  readQuoted(): Uint8Array {
    const start = this.pos++;
    const out: number[] = [];
    const simple: Record<string, number> = {
      b: 8,
      t: 9,
      v: 11,
      n: 10,
      f: 12,
      r: 13,
      '"': 0x22,
      "'": 0x27,
      "\\": 0x5c,
    };
    for (;;) {
      if (this.pos >= this.bytes.length) fail("unterminated quoted string", start);
      const c = this.bytes[this.pos++];
      if (c === 0x22) return new Uint8Array(out);
      if (c !== 0x5c) {
        out.push(c);
        continue;
      }
      if (this.pos >= this.bytes.length) fail("unterminated quoted string", start);
      const e = this.bytes[this.pos++];
      const ch = String.fromCharCode(e);
      if (Object.hasOwn(simple, ch)) out.push(simple[ch]);
      else if (e >= 0x30 && e <= 0x37) {
        const oct = Buffer.from(this.bytes.subarray(this.pos - 1, this.pos + 2)).toString("latin1");
        if (!/^[0-7]{3}$/.test(oct) || Number.parseInt(oct, 8) > 255) {
          fail("invalid octal escape", this.pos - 2);
        }
        out.push(Number.parseInt(oct, 8));
        this.pos += 2;
      } else if (e === 0x78 /* x */) {
        const hex = Buffer.from(this.bytes.subarray(this.pos, this.pos + 2)).toString("latin1");
        if (!/^[0-9A-Fa-f]{2}$/.test(hex)) fail("invalid \\x escape", this.pos - 2);
        out.push(Number.parseInt(hex, 16));
        this.pos += 2;
      } else if (e === 0x0a || e === 0x0d) {
        const pair = e === 0x0a ? 0x0d : 0x0a;
        if (this.bytes[this.pos] === pair) this.pos++;
      } else fail(`invalid escape \\${ch}`, this.pos - 2);
    }
  }
}

/**
 * Reads one S-expression in canonical, advanced or transport form. Text is read as
 * UTF-8 bytes, so verbatim lengths count bytes.
 * @example parseSexp("(public-key (ecc (curve Ed25519) (q #8D15…94#)))")
 * @example parseSexp(new Uint8Array(Buffer.from("(3:ecc(5:curve7:Ed25519))")))
 */
export function parseSexp(input: string | Uint8Array): Sexp {
  // A plain Uint8Array view, so that atoms are never Buffers even when the input is one.
  let bytes =
    typeof input === "string"
      ? new TextEncoder().encode(input)
      : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const first = new Reader(bytes);
  first.skipWhitespace();
  if (bytes[first.pos] === 0x7b /* { */) {
    const end = bytes.indexOf(0x7d, first.pos);
    if (end < 0) fail("unterminated {transport}", first.pos);
    const rest = new Reader(bytes);
    rest.pos = end + 1;
    rest.skipWhitespace();
    if (rest.pos !== bytes.length) fail("data after the transport form", rest.pos);
    const text = Buffer.from(bytes.subarray(first.pos + 1, end))
      .toString("latin1")
      .replace(/[ \t\n\v\f\r]/g, "");
    if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
      fail("invalid base64 in {transport}", first.pos);
    }
    bytes = new Uint8Array(Buffer.from(text, "base64"));
  }
  const reader = new Reader(bytes);
  const sexp = reader.read(0);
  reader.skipWhitespace();
  if (reader.pos !== bytes.length) fail("data after the S-expression", reader.pos);
  return sexp;
}

/** libgcrypt's choice of rendering for an atom: 0 = #hex#, 1 = "string", 2 = token. */
function suitableEncoding(data: Uint8Array): 0 | 1 | 2 {
  if (data.length === 0) return 1;
  // A set top bit looks like a negative number and a leading zero like binary.
  if (data[0] & 0x80 || data[0] === 0) return 0;
  let maybeToken = true;
  for (const c of data) {
    const control = c < 0x20 || (c >= 0x7f && c <= 0xa0);
    // NUL counts as escapable, by the same strchr accident as in TOKEN_SPECIALS.
    if (control && !"\0\b\t\v\n\f\r\"'\\".includes(String.fromCharCode(c))) return 0;
    if (maybeToken && !isTokenChar(c)) maybeToken = false;
  }
  return maybeToken && !isDigit(data[0]) ? 2 : 1;
}

const ESCAPES: Record<number, string> = {
  8: "\\b",
  9: "\\t",
  11: "\\v",
  10: "\\n",
  12: "\\f",
  13: "\\r",
  34: '\\"',
  39: "\\'",
  92: "\\\\",
};

function renderAtom(data: Uint8Array, hexStrings = false): Uint8Array {
  let encoding = suitableEncoding(data);
  if (encoding === 1 && hexStrings) encoding = 0;
  if (encoding === 2) return data;
  if (encoding === 0) return sexpAtom(`#${Buffer.from(data).toString("hex").toUpperCase()}#`);
  const out: number[] = [0x22];
  for (const c of data) {
    const escaped = ESCAPES[c];
    if (escaped !== undefined) for (const ch of escaped) out.push(ch.charCodeAt(0));
    else if (c < 0x20 || (c >= 0x7f && c <= 0xa0)) {
      for (const ch of `\\x${c.toString(16).padStart(2, "0")}`) out.push(ch.charCodeAt(0));
    } else out.push(c);
  }
  out.push(0x22);
  return new Uint8Array(out);
}

type Event = "open" | "close" | Uint8Array;

function flatten(sexp: Sexp, events: Event[]): void {
  if (!isSexpList(sexp)) {
    events.push(sexp);
    return;
  }
  events.push("open");
  for (const item of sexp) flatten(item, events);
  events.push("close");
}

/**
 * Prints an S-expression. `canonical` gives the length-prefixed form; `advanced` follows
 * libgcrypt's `GCRYSEXP_FMT_ADVANCED` exactly: a nested list starts on a new line indented
 * by its depth, an atom is followed by a space unless a `)` follows, a `)` that does not
 * end a run of closings goes on its own line, and the text ends with a newline.
 * @example printSexp([sexpAtom("a"), [sexpAtom("b")]]) // "(a \n (b)\n )\n"
 */
export function printSexp(
  sexp: Sexp,
  options: {
    form?: SexpForm;
    /**
     * Advanced form: write as #hex# what libgcrypt would write as a "quoted string".
     * Binary key material (q, d) can happen to be all printable bytes, and a quoted
     * string of raw bytes is not text; libgcrypt reads #hex# the same.
     */
    hexStrings?: boolean;
  } = {},
): Uint8Array {
  const events: Event[] = [];
  flatten(sexp, events);
  const chunks: Uint8Array[] = [];
  const push = (text: string) => chunks.push(sexpAtom(text));
  if (options.form === "canonical") {
    for (const event of events) {
      if (event === "open") push("(");
      else if (event === "close") push(")");
      else {
        push(`${event.length}:`);
        chunks.push(event);
      }
    }
    return concat(chunks);
  }
  let indent = 0;
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    const next = events[i + 1];
    if (event === "open") {
      if (indent > 0) push(`\n${" ".repeat(indent)}`);
      push("(");
      indent++;
    } else if (event === "close") {
      push(")");
      indent--;
      if (next !== undefined && next !== "open") push(`\n${" ".repeat(indent)}`);
    } else {
      chunks.push(renderAtom(event, options.hexStrings));
      if (next !== "close") push(" ");
    }
  }
  push("\n");
  return concat(chunks);
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(chunks));
}
