'use strict';
// The extension's version, read from the C sources: the one place it is
// kept.  package.json must carry the same version (scripts/prepack.js
// refuses to pack otherwise, and the Node test checks segment_version()).
const fs = require('fs');
const path = require('path');

function sourceVersion(srcDir) {
  const header = fs.readFileSync(path.join(srcDir, 'segmentInt.h'), 'utf8');
  const m = /^#define\s+SEGMENT_VERSION\s+"([^"]+)"/m.exec(header);
  if (!m) throw new Error('libsegment: no SEGMENT_VERSION in ' + srcDir);
  return m[1];
}

module.exports = { sourceVersion };
