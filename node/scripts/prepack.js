'use strict';
// prepack: copy the extension's C sources (../ext) into src/, so that the
// packed tarball builds on its own; check that package.json's version is
// the extension's.  With --clean (postpack), remove src/ again.
const fs = require('fs');
const path = require('path');
const { sourceVersion } = require('./version');

const pkgDir = path.join(__dirname, '..');
const extDir = path.join(pkgDir, '..', 'ext');
const srcDir = path.join(pkgDir, 'src');

fs.rmSync(srcDir, { recursive: true, force: true });
if (process.argv[2] === '--clean') process.exit(0);

const pkg = require(path.join(pkgDir, 'package.json'));
const version = sourceVersion(extDir);
if (pkg.version !== version) {
  console.error(`libsegment: node/package.json has version ${pkg.version}, ` +
                `the extension (ext/segmentInt.h) ${version}; make them agree`);
  process.exit(1);
}
fs.mkdirSync(srcDir);
for (const f of fs.readdirSync(extDir)) {
  if (/\.(c|h)$/.test(f)) fs.copyFileSync(path.join(extDir, f), path.join(srcDir, f));
}
