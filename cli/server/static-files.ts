import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';

export interface StaticFile {
  body: Buffer;
  type: string;
}

/** The page's files: URL path -> file name in public/. Nothing else is ever read. */
const PAGE_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};

/** Where the page lives: cli/server/public in a checkout and in the published package. */
export function publicDir(root = packageRoot()): string {
  return join(root, 'cli', 'server', 'public');
}

/**
 * Reads the page once at start. Requests are answered from this fixed table,
 * so no part of a URL is ever joined into a file path.
 */
export function loadStaticFiles(dir = publicDir()): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const [path, { file, type }] of Object.entries(PAGE_FILES)) files.set(path, { body: readFileSync(join(dir, file)), type });
  files.set('/index.html', files.get('/')!);
  return files;
}

export function sendStatic(req: IncomingMessage, res: ServerResponse, file: StaticFile): void {
  res.writeHead(200, {
    'content-type': file.type,
    'content-length': file.body.length,
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    // The page loads nothing from elsewhere: everything is served from here (works offline).
    'content-security-policy': "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  });
  res.end(req.method === 'HEAD' ? undefined : file.body);
}
