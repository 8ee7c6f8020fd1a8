// Builds the console into dist/: one ES module bundle (app.js), the stylesheet it imports
// (app.css, uPlot's included) and index.html. No inline code anywhere: the page runs under a CSP
// without 'unsafe-inline'. `npm run build`; Nms.Functions.csproj runs it on every build.
import { build } from "esbuild";
import { copyFile, mkdir, rm } from "node:fs/promises";

const dist = new URL("./dist/", import.meta.url);
await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await build({
  entryPoints: { app: "src/main.ts" },
  outdir: "dist",
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  legalComments: "none",
  logLevel: "warning",
});
await copyFile(new URL("./index.html", import.meta.url), new URL("index.html", dist));
