/**
 * The web example's build: a static page (index.html, src/main.ts) that calls the API on another origin.
 * `npm run example:web` serves it on http://localhost:5173 (allowed by the API's CORS outside production);
 * VITE_API_URL says where the API is (default http://localhost:4000/graphql).
 */
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  server: { port: 5173, strictPort: true },
  // tests/browser/web-example.test.ts serves the built page as deployments would be, on host names under .test
  // (reserved for testing; Chromium resolves them to this machine); Vite answers only host names it is told of.
  preview: { allowedHosts: ['.test'] },
});
