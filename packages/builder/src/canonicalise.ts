// Canonicalisation belongs to the store (everything entering it is canonicalised); kept
// here as a re-export so builder code can import it beside the sandbox.
export * from "@kiln/store/canonicalise";
