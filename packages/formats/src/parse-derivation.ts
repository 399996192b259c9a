/**
 * Reads a `.drv` file (ATerm, FORMATS.md §4).
 *
 * How strict, compared with Nix 2.8 (which reads into std::map/std::set and re-sorts
 * whenever it prints):
 * - Order: accepted in any order, like Nix. Entries keep the order read; printing
 *   sorts, so only a canonical file prints back byte-identically (every file Nix or
 *   Guix writes is canonical).
 * - Duplicates (output names, input drvs, their output names, sources, env keys):
 *   rejected. Nix silently keeps one of them (the first output, the last env value), so
 *   such a file can only be corrupt or crafted, and what it means is ambiguous.
 * - A derivation without outputs: rejected (Nix cannot produce one).
 * - Trailing bytes after the closing `)`: rejected (Nix ignores them).
 * - List syntax: commas exactly between items (Nix also accepts `[,"a""b",]`).
 * - Fixed-output hashes: lowercase base16 of the right length only, as Nix writes them.
 * - Text must be valid UTF-8; Kiln keeps derivation strings as JavaScript strings.
 */
import type { Derivation, DerivationOutput } from "./derivation.ts";
import { HASH_SIZES, isHashAlgorithm } from "./hash.ts";
import { FormatError } from "./kiln-error.ts";

/** Larger than any real derivation (nixpkgs' biggest are a few MB); guards against garbage input. */
export const MAX_DERIVATION_LENGTH = 64 * 1024 * 1024;

export interface ParseDerivationOptions {
  /** Longest text accepted, in characters. */
  readonly maxLength?: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HEX = /^[0-9a-f]*$/;

/** A cursor over ATerm text that names the position and the expectation when it fails. */
class AtermReader {
  readonly text: string;
  pos = 0;

  constructor(text: string) {
    this.text = text;
  }

  fail(expected: string, at = this.pos): never {
    const found =
      at >= this.text.length ? "the end of the text" : JSON.stringify(this.text.slice(at, at + 12));
    throw new FormatError("derivation", `at character ${at}: expected ${expected}, found ${found}`);
  }

  expect(literal: string, what: string): void {
    if (!this.text.startsWith(literal, this.pos)) this.fail(`${JSON.stringify(literal)} ${what}`);
    this.pos += literal.length;
  }

  /** A quoted string; `\n`, `\r`, `\t` are control characters and `\x` is x for any other x. */
  string(what: string): string {
    if (this.text.charCodeAt(this.pos) !== QUOTE) this.fail(`a quoted string for ${what}`);
    const start = this.pos;
    let i = this.pos + 1;
    let chunkStart = i;
    let out = "";
    for (;;) {
      if (i >= this.text.length)
        this.fail(`the closing quote of the string started at ${start}`, i);
      const c = this.text.charCodeAt(i);
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        out += this.text.slice(chunkStart, i);
        if (i + 1 >= this.text.length) this.fail("a character after the backslash", i + 1);
        const escaped = this.text[i + 1];
        out += escaped === "n" ? "\n" : escaped === "r" ? "\r" : escaped === "t" ? "\t" : escaped;
        i += 2;
        chunkStart = i;
      } else {
        i++;
      }
    }
    out += this.text.slice(chunkStart, i);
    this.pos = i + 1;
    return out;
  }

  /** An absolute path: Nix rejects relative ones when reading store paths from a `.drv`. */
  path(what: string): string {
    const start = this.pos;
    const value = this.string(what);
    if (!value.startsWith("/")) this.fail(`an absolute path for ${what}`, start);
    return value;
  }

  /** `[item,item,…]`, calling `item` for each element. */
  list(what: string, item: () => void): void {
    this.expect("[", `to start ${what}`);
    if (this.text.startsWith("]", this.pos)) {
      this.pos++;
      return;
    }
    for (;;) {
      item();
      if (this.text.startsWith("]", this.pos)) {
        this.pos++;
        return;
      }
      this.expect(",", `or "]" after an element of ${what}`);
    }
  }

  /** `["…",…]`; duplicates are rejected where the list stands for a set. */
  strings(what: string, kind: "list" | "set" | "paths"): string[] {
    const values: string[] = [];
    const seen = new Set<string>();
    this.list(what, () => {
      const start = this.pos;
      const element = `an element of ${what}`;
      const value = kind === "paths" ? this.path(element) : this.string(element);
      if (kind !== "list") {
        if (seen.has(value)) this.fail(`no duplicate in ${what}`, start);
        seen.add(value);
      }
      values.push(value);
    });
    return values;
  }
}

/** Checks the hash fields of an output the way Nix 2.8 interprets them. */
function checkOutput(reader: AtermReader, start: number, output: DerivationOutput): void {
  const { path, hashAlgo, hash } = output;
  if (path !== "" && !path.startsWith("/")) reader.fail('an absolute output path or ""', start);
  if (hashAlgo === "") {
    if (hash !== "") reader.fail('an empty hash when hashAlgo is ""', start);
    return;
  }
  const algorithm = hashAlgo.startsWith("r:") ? hashAlgo.slice(2) : hashAlgo;
  if (!isHashAlgorithm(algorithm)) {
    reader.fail("hashAlgo md5, sha1, sha256 or sha512, optionally with prefix r:", start);
  }
  // "" is a floating content-addressed output, "impure" an impure one: neither has a path yet.
  if (hash === "" || hash === "impure") {
    if (path !== "")
      reader.fail(`an empty path for an output with hash ${JSON.stringify(hash)}`, start);
    return;
  }
  if (hash.length !== HASH_SIZES[algorithm] * 2 || !HEX.test(hash)) {
    reader.fail(`a lowercase base16 ${algorithm} digest in the output's hash field`, start);
  }
}

/**
 * Parses ATerm text (or its UTF-8 bytes) into a Derivation. Throws a FormatError naming
 * the position and what was expected for anything else.
 * @example parseDerivation('Derive([("out","/gnu/store/…-hello","","")],[],[],"x86_64-linux","/bin/sh",[],[])')
 */
export function parseDerivation(
  text: string | Uint8Array,
  options: ParseDerivationOptions = {},
): Derivation {
  const maxLength = options.maxLength ?? MAX_DERIVATION_LENGTH;
  if (text.length > maxLength) {
    const unit = typeof text === "string" ? "characters" : "bytes";
    throw new FormatError("derivation", `${text.length} ${unit} is longer than ${maxLength}`);
  }
  // A derivation is UTF-8 text: a JavaScript string with a lone surrogate has no UTF-8
  // form, so it could be neither written nor hashed (printDerivation refuses it too).
  if (typeof text === "string" && !text.isWellFormed())
    throw new FormatError("derivation", "a string contains a lone UTF-16 surrogate", {
      hint: "derivation strings must be valid Unicode so that their UTF-8 bytes are defined",
    });
  const reader = new AtermReader(typeof text === "string" ? text : decodeUtf8(text));

  reader.expect("Derive(", "at the start of a derivation");

  const outputs = new Map<string, DerivationOutput>();
  reader.list("the outputs", () => {
    const start = reader.pos;
    reader.expect("(", "to start an output");
    const name = reader.string("an output name");
    if (outputs.has(name)) reader.fail(`a new output name, not a second ${JSON.stringify(name)}`);
    reader.expect(",", "after the output name");
    const path = reader.string("the output path");
    reader.expect(",", "after the output path");
    const hashAlgo = reader.string("the output's hashAlgo");
    reader.expect(",", "after the output's hashAlgo");
    const hash = reader.string("the output's hash");
    reader.expect(")", "to end an output");
    const output = { path, hashAlgo, hash };
    checkOutput(reader, start, output);
    outputs.set(name, output);
  });
  if (outputs.size === 0) reader.fail("at least one output", reader.pos - 2);
  reader.expect(",", "after the outputs");

  const inputDrvs = new Map<string, string[]>();
  reader.list("the input derivations", () => {
    reader.expect("(", "to start an input derivation");
    const start = reader.pos;
    const drvPath = reader.path("an input derivation");
    if (inputDrvs.has(drvPath)) reader.fail("no duplicate input derivation", start);
    reader.expect(",", "after the input derivation's path");
    inputDrvs.set(drvPath, reader.strings("the input derivation's output names", "set"));
    reader.expect(")", "to end an input derivation");
  });
  reader.expect(",", "after the input derivations");

  const inputSrcs = reader.strings("the input sources", "paths");
  reader.expect(",", "after the input sources");
  const system = reader.string("the system");
  reader.expect(",", "after the system");
  const builder = reader.string("the builder");
  reader.expect(",", "after the builder");
  const args = reader.strings("the arguments", "list");
  reader.expect(",", "after the arguments");

  const env = new Map<string, string>();
  reader.list("the environment", () => {
    reader.expect("(", "to start an environment variable");
    const start = reader.pos;
    const key = reader.string("an environment variable's name");
    if (env.has(key)) reader.fail(`no second environment variable ${JSON.stringify(key)}`, start);
    reader.expect(",", "after the environment variable's name");
    env.set(key, reader.string("an environment variable's value"));
    reader.expect(")", "to end an environment variable");
  });
  reader.expect(")", "to end the derivation");
  if (reader.pos !== reader.text.length) reader.fail("the end of the text after the derivation");

  return { outputs, inputDrvs, inputSrcs, system, builder, args, env };
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (cause) {
    throw new FormatError("derivation", "the text is not valid UTF-8", { cause });
  }
}
