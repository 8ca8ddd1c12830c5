// Copies Swagger UI's prebuilt files (the swagger-ui-dist package) into the
// dashboard's build, where the server's /api/docs page loads them from:
// the API docs need nothing from outside the installation.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const from = dirname(require.resolve('swagger-ui-dist/package.json'));
const to = join(import.meta.dirname, '..', 'dist', 'docs-ui');
mkdirSync(to, { recursive: true });
for (const file of ['swagger-ui-bundle.js', 'swagger-ui.css', 'LICENSE']) {
  copyFileSync(join(from, file), join(to, file));
}
