import type { NextConfig } from "next";

const config: NextConfig = {
  // sql.js finds its WebAssembly next to its own files: load it from node_modules, unbundled.
  serverExternalPackages: ["sql.js"],
};

export default config;
