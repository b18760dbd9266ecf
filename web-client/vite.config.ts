import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The gateway serves the built app from the classpath under web/, so the build writes straight into
// Maven's output directory. `npm run dev` proxies the API and the WebSocket to a local gateway.
const gateway = process.env.PARLEY_DEV_GATEWAY ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "target/classes/web",
    emptyOutDir: true,
    sourcemap: true,
  },
  server: {
    host: "127.0.0.1",
    proxy: {
      "/api": gateway,
      "/healthz": gateway,
      "/ws": { target: gateway.replace(/^http/, "ws"), ws: true },
    },
  },
  test: {
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
    environment: "node",
  },
});
