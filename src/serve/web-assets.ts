/**
 * The page's files, shipped with the package and read once at start-up: nothing is fetched from
 * elsewhere, so the page works offline. `web/` holds the HTML and CSS as written; the page's
 * TypeScript (web/src) is compiled by `tsconfig.web.json` (part of `npm run build` and `prepare`) into
 * `dist/web/web/src/*.js`, served under `/js/`. Only these files are served: a request never reaches the
 * file system by its path.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../util/package-root';

/** The page cannot be served as installed (its scripts were never compiled). */
export class WebAssetsError extends Error {}

export interface WebAsset {
  body: Buffer;
  contentType: string;
}

export interface WebAssetDirs {
  /** index.html and style.css. */
  pageDir: string;
  /** The compiled page scripts. */
  scriptsDir: string;
}

export function defaultWebAssetDirs(root: string = packageRoot()): WebAssetDirs {
  return { pageDir: join(root, 'web'), scriptsDir: join(root, 'dist', 'web', 'web', 'src') };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

/** URL path -> file contents. Throws with what to do when the page scripts were never built. */
export function loadWebAssets(dirs: WebAssetDirs = defaultWebAssetDirs()): Map<string, WebAsset> {
  const assets = new Map<string, WebAsset>();
  const add = (url: string, file: string): void => {
    const ext = file.slice(file.lastIndexOf('.'));
    assets.set(url, { body: readFileSync(file), contentType: TYPES[ext] ?? 'application/octet-stream' });
  };
  add('/', join(dirs.pageDir, 'index.html'));
  add('/style.css', join(dirs.pageDir, 'style.css'));
  const scripts = existsSync(dirs.scriptsDir) ? readdirSync(dirs.scriptsDir).filter((f) => /^[\w-]+\.js$/.test(f)) : [];
  if (!scripts.includes('main.js')) {
    throw new WebAssetsError(`the page's scripts are not built (no ${join(dirs.scriptsDir, 'main.js')}): run \`npm run build\``);
  }
  for (const f of scripts) add(`/js/${f}`, join(dirs.scriptsDir, f));
  return assets;
}
