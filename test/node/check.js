'use strict';
// node check.js DB SQL...: loads libsegment into a better-sqlite3
// connection on DB through the package's load(), runs each SQL statement
// and prints its rows as the sqlite3 shell does in list mode (columns
// separated by |, NULL as nothing, reals as %!.15g), so that test/node.sh
// can compare the two outputs byte for byte.
const Database = require('better-sqlite3');
const libsegment = require('libsegment');

function shellText(v) {
  if (v === null) return '';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    const s = String(Number(v.toPrecision(15)));
    return /[.eE]|Infinity|NaN/.test(s) ? s : s + '.0';
  }
  return String(v);
}

const [dbPath, ...statements] = process.argv.slice(2);
const db = new Database(dbPath, { readonly: true });
if (libsegment.load(db) !== db) throw new Error('load(db) did not return db');
db.defaultSafeIntegers(true);
for (const sql of statements) {
  for (const row of db.prepare(sql).raw().all()) {
    console.log(row.map(shellText).join('|'));
  }
}
