'use strict';
// install: compile the extension with the system C compiler into
// build/libsegment.<so|dylib|dll>.  The extension does not link Node or
// SQLite; it needs SQLite's header sqlite3ext.h (Debian: libsqlite3-dev).
// Sources: ../ext in a clone of the repository (npm install node/), else
// src/ (a packed tarball; the prepack script copies them there).
// CC and CFLAGS are honoured.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { suffix } = require('..');

const pkgDir = path.join(__dirname, '..');
let srcDir = path.join(pkgDir, '..', 'ext');
if (!fs.existsSync(path.join(srcDir, 'segmentInt.h'))) {
  srcDir = path.join(pkgDir, 'src');
}
if (!fs.existsSync(path.join(srcDir, 'segmentInt.h'))) {
  console.error('libsegment: no C sources in src/ or ../ext');
  process.exit(1);
}
const sources = fs.readdirSync(srcDir).filter((f) => f.endsWith('.c')).sort()
  .map((f) => path.join(srcDir, f));
const outDir = path.join(pkgDir, 'build');
const out = path.join(outDir, 'libsegment.' + suffix);
fs.mkdirSync(outDir, { recursive: true });

const isWin = process.platform === 'win32';
const cc = process.env.CC || (isWin ? 'gcc' : 'cc');
const cflags = (process.env.CFLAGS || '-O2').split(/\s+/).filter(Boolean);
const args = [...cflags, isWin ? '' : '-fPIC',
  process.platform === 'darwin' ? '-dynamiclib' : '-shared',
  '-o', out, ...sources, isWin ? '' : '-lm', isWin ? '' : '-pthread']
  .filter(Boolean);
const r = spawnSync(cc, args, { stdio: 'inherit' });
if (r.error || r.status !== 0) {
  const why = r.error ? r.error.message : 'exit status ' + r.status;
  console.error(`libsegment: building the extension with ${cc} failed (${why}); ` +
                'it needs a C compiler and SQLite\'s header sqlite3ext.h ' +
                '(Debian/Ubuntu: apt-get install gcc libsqlite3-dev)');
  process.exit(1);
}
