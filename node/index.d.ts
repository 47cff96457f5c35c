/** The path of the libsegment extension built for this platform. */
export declare function getLoadablePath(): string;
/** Loads libsegment into a better-sqlite3 database (any object with loadExtension(path)). */
export declare function load<T extends { loadExtension(path: string): unknown }>(db: T): T;
/** The file name suffix of loadable extensions here: so, dylib or dll. */
export declare const suffix: string;
