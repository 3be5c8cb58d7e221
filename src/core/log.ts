/** Where a part of the node reports what happened. The CLI decides how it is shown. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A logger that drops everything (library default). */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
