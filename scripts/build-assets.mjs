// Build Linkwork's front-end assets into static/ (run with `npm run build`, or `make assets`).
//
// - assets/scss/linkwork.scss -> static/css/linkwork.css (NHS.UK frontend compiled with local asset paths
//   and no web font, compressed, no source map)
// - nhsuk-frontend's ES module (and its source map, which collectstatic's manifest storage follows)
//   -> static/nhsuk/
// - nhsuk-frontend's icons, favicons and logos -> static/nhsuk/assets/
// - axe-core -> tests/browser/vendor/axe.min.js (browser tests only, never served)
//
// The output depends only on package-lock.json and the sources: running it twice gives identical bytes.
// It fails if the CSS would load anything from another site.

import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const modules = join(root, "node_modules");
const nhsuk = join(modules, "nhsuk-frontend", "dist", "nhsuk");

function log(path) {
  console.log(`built ${relative(root, path)}`);
}

function copy(from, to) {
  mkdirSync(dirname(to), { recursive: true });
  cpSync(from, to, { recursive: true });
  log(to);
}

// CSS
const css = join(root, "static", "css", "linkwork.css");
const result = sass.compile(join(root, "assets", "scss", "linkwork.scss"), {
  style: "compressed",
  sourceMap: false,
  loadPaths: [modules],
  // Deprecation warnings from inside NHS.UK frontend are not ours to fix.
  quietDeps: true,
});
const offSite = result.css.match(/url\(\s*["']?(?:[a-z][a-z0-9+.-]*:|\/\/)[^)]*\)|@import|https?:\/\//gi);
if (offSite) {
  throw new Error(`linkwork.css must not load anything from another site: ${offSite.join(", ")}`);
}
mkdirSync(dirname(css), { recursive: true });
writeFileSync(css, `${result.css}\n`);
log(css);

// NHS.UK frontend JavaScript and assets: replace the folder so no stale file survives an upgrade.
const staticNhsuk = join(root, "static", "nhsuk");
rmSync(staticNhsuk, { recursive: true, force: true });
copy(join(nhsuk, "nhsuk-frontend.min.js"), join(staticNhsuk, "nhsuk-frontend.min.js"));
copy(join(nhsuk, "nhsuk-frontend.min.js.map"), join(staticNhsuk, "nhsuk-frontend.min.js.map"));
copy(join(nhsuk, "assets"), join(staticNhsuk, "assets"));

// axe-core for the accessibility checks in browser tests.
copy(join(modules, "axe-core", "axe.min.js"), join(root, "tests", "browser", "vendor", "axe.min.js"));
