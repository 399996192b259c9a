/**
 * What an encoder needs to know about a connection to frame a value: the protocol minor
 * both sides settled on, and the client family (see worker-protocol.ts).
 */
import type { ProtocolDialect } from "./worker-protocol.ts";

export interface WireFormat {
  /** The negotiated minor version: the lower of the two sides' minors. */
  readonly minor: number;
  readonly dialect: ProtocolDialect;
}

/** Nix 2.8 speaking to Nix 2.8: what Kiln's own client and daemon use together. */
export const NIX_2_8_FORMAT: WireFormat = Object.freeze({ minor: 34, dialect: "nix" });
