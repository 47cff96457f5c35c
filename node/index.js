'use strict';
// libsegment for Node: the path of the extension built at install time,
// and load(db) for better-sqlite3 (or any database object with a
// loadExtension(path) method, such as node:sqlite's DatabaseSync opened
// with allowExtension: true).
const fs = require('fs');
const path = require('path');

const suffix = process.platform === 'win32' ? 'dll'
  : process.platform === 'darwin' ? 'dylib' : 'so';

// The full file name, suffix included: SQLite loads it as given (it
// would also add the suffix itself if it were left off).
function getLoadablePath() {
  const p = path.join(__dirname, 'build', 'libsegment.' + suffix);
  if (!fs.existsSync(p)) {
    throw new Error(`libsegment: ${p} is missing; the package's install ` +
                    'script builds it (npm rebuild libsegment)');
  }
  return p;
}

function load(db) {
  db.loadExtension(getLoadablePath());
  return db;
}

module.exports = { getLoadablePath, load, suffix };
