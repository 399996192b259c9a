/**
 * `readNarFrames`: takes exactly one NAR off a framed byte stream (a daemon socket, an
 * export archive) and yields its bytes, leaving whatever follows unread. It follows the
 * NAR grammar only as far as needed to find the end; full validation (sorting, names) is
 * the job of `parseNar` on the bytes it yields. File contents are passed through in
 * bounded chunks, so a multi-gigabyte file never sits in memory.
 */
import { FormatError } from "./kiln-error.ts";
import { NAR_MAGIC } from "./nar-tokens.ts";
import { type FrameReader, FrameWriter, paddingLength } from "./worker-protocol-framing.ts";

const MAX_TOKEN = 4096;
const CHUNK = 1 << 20;

/**
 * Yields the bytes of the NAR at the reader's position. The consumer must drain the
 * generator before reading anything else from `reader`.
 */
export async function* readNarFrames(reader: FrameReader): AsyncGenerator<Uint8Array, void, void> {
  const out = new FrameWriter();
  const token = async () => {
    const value = await reader.string(MAX_TOKEN);
    out.string(value);
    return value;
  };
  const expect = async (expected: string) => {
    const at = reader.offset;
    const found = await token();
    if (found !== expected) {
      throw new FormatError(
        "nar",
        `expected ${JSON.stringify(expected)}, found ${JSON.stringify(found.slice(0, 40))} at byte ${at} of the stream`,
      );
    }
  };
  await expect(NAR_MAGIC);
  // Iterative walk: depth counts open directories.
  let depth = 0;
  let needNode = true;
  for (;;) {
    if (out.length >= CHUNK) yield out.take();
    if (needNode) {
      await expect("(");
      await expect("type");
      const type = await token();
      if (type === "regular") {
        let next = await token();
        if (next === "executable") {
          await expect("");
          next = await token();
        }
        if (next !== "contents")
          throw new FormatError(
            "nar",
            `expected "contents", found ${JSON.stringify(next.slice(0, 40))}`,
          );
        const size = await reader.u64();
        out.u64(size);
        yield out.take();
        for (let left = size; left > 0; ) {
          const n = Math.min(left, CHUNK);
          yield await reader.bytes(n);
          left -= n;
        }
        const padding = await reader.bytes(paddingLength(size));
        if (padding.some((b) => b !== 0))
          throw new FormatError("nar", "non-zero padding after file contents");
        out.raw(padding);
        await expect(")");
      } else if (type === "symlink") {
        await expect("target");
        await token();
        await expect(")");
      } else if (type === "directory") {
        depth++;
        needNode = false;
        continue;
      } else {
        throw new FormatError("nar", `unknown node type ${JSON.stringify(type.slice(0, 40))}`);
      }
      needNode = false;
      if (depth === 0) break;
      await expect(")"); // closes the directory entry
      continue;
    }
    // Inside a directory: another entry, or its end.
    const next = await token();
    if (next === "entry") {
      await expect("(");
      await expect("name");
      await token();
      await expect("node");
      needNode = true;
    } else if (next === ")") {
      depth--;
      if (depth === 0) break;
      await expect(")"); // closes the entry holding this directory
    } else {
      throw new FormatError(
        "nar",
        `expected "entry" or ")", found ${JSON.stringify(next.slice(0, 40))}`,
      );
    }
  }
  if (out.length > 0) yield out.take();
}
