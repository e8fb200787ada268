import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { DOCS_PATH, PUBLIC_DOCS_FILES } from './docs-ui.js';

export interface DocsAsset {
  body: Buffer;
  type: string;
}

const TYPES: Readonly<Record<string, string>> = { '.js': 'application/javascript', '.css': 'text/css', '.png': 'image/png' };

/** swagger-ui-dist's directory, found from @nestjs/swagger as SwaggerModule finds it. */
function swaggerUiDir(): string {
  const fromSwagger = createRequire(createRequire(import.meta.url).resolve('@nestjs/swagger'));
  return dirname(fromSwagger.resolve('swagger-ui-dist/absolute-path.js'));
}

/**
 * The UI's files (the public ones that are files rather than the page), read once at start (about
 * 2 MB) and answered from memory. Streaming them from disk leaked a descriptor per queued answer when
 * a pipelining client hung up: Node never closes the answers still queued behind the first.
 */
export function loadDocsAssets(): ReadonlyMap<string, DocsAsset> {
  const dir = swaggerUiDir();
  const assets = new Map<string, DocsAsset>();
  for (const path of PUBLIC_DOCS_FILES) {
    const type = TYPES[extname(path)];
    if (type) assets.set(path, { body: readFileSync(join(dir, path.slice(DOCS_PATH.length + 1))), type });
  }
  return assets;
}
