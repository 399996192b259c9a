// Lives in the store (it deletes store paths too); re-exported for the sandbox code.
export * from "@kiln/store/remove-tree";
