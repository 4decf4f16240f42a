// The dashboard's build (docs/web.md). CMake runs `vite build --outDir <build>/web/dist`; the
// output is index.html and assets/NAME-HASH.{js,css}, which flowscope serve caches as immutable.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  build: {
    target: 'es2020',
    chunkSizeWarningLimit: 1200,
    sourcemap: false,
  },
});
