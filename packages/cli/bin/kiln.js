#!/usr/bin/env node
// Entry point for `npx kiln`: Node 24 (pinned by the root package.json) strips the types.
import "../src/main.ts";
