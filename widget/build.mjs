// Builds dist/: the minified widget and the pages the server serves.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';

mkdirSync('dist', { recursive: true });
await build({
  entryPoints: ['src/chat-widget.js'],
  outfile: 'dist/chat-widget.js',
  bundle: false,
  minify: true,
  target: ['es2019'],
  legalComments: 'none',
});
for (const page of ['widget-demo.html', 'websocket-test.html']) {
  copyFileSync(`src/${page}`, `dist/${page}`);
}
