import { defineConfig } from "vite";

// The gateway serves the built site at "/" (index.html) and "/assets/*".
// `npm run build` writes straight into the Python package so `hftsim serve`
// ships it; the folder is build output only (git-ignored).
export default defineConfig({
  base: "/",
  build: {
    outDir: "../server/src/hftsim/web/static",
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `npm run dev` proxies the protocol to a local `hftsim serve`.
    proxy: {
      "/auth": "http://127.0.0.1:8000",
      "/api": "http://127.0.0.1:8000",
      "/healthz": "http://127.0.0.1:8000",
      "/ws": { target: "ws://127.0.0.1:8000", ws: true },
    },
  },
});
