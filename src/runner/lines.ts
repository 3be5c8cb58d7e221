/** Streaming line splitting with bounded memory, and a ring buffer of the last lines. */
import { StringDecoder } from 'node:string_decoder';

/** Longest line kept whole; a longer one is cut (the log file still has all of it). */
export const MAX_LINE_CHARS = 4000;

export class RingBuffer<T> {
  private readonly items: T[] = [];
  constructor(readonly capacity: number) {}
  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.capacity) this.items.shift();
  }
  /** Overwrites the newest item (or adds one to an empty buffer). */
  replaceLast(item: T): void {
    if (this.items.length === 0) this.items.push(item);
    else this.items[this.items.length - 1] = item;
  }
  toArray(): T[] {
    return [...this.items];
  }
}

/**
 * Feeds chunks, calls `onLine` for each complete line (without its ending). A line ends at `\n`
 * (`\r\n` too) or at a lone `\r`: the reference's train.py rewrites its progress line in place with
 * `\r`, so each rewrite is a line of its own, passed with `rewritten` = true (a terminal would show
 * it over the previous one). A line longer than MAX_LINE_CHARS is cut there; the rest of it is dropped.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private overflow = false;
  /** A `\r` was the last character seen: a line end, unless `\n` follows. */
  private carriage = false;
  constructor(private readonly onLine: (line: string, rewritten: boolean) => void) {}

  push(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let from = 0;
    if (this.carriage && text.length > 0) {
      this.carriage = false;
      if (text[0] === '\n') {
        this.emit(false);
        from = 1;
      } else {
        this.emit(true);
      }
    }
    const END = /[\r\n]/g;
    END.lastIndex = from;
    for (let m = END.exec(text); m !== null; m = END.exec(text)) {
      this.append(text.slice(from, m.index));
      from = m.index + 1;
      if (m[0] === '\n') {
        this.emit(false);
      } else if (from === text.length) {
        this.carriage = true; // the next chunk tells whether this is \r\n
      } else if (text[from] === '\n') {
        this.emit(false);
        from += 1;
        END.lastIndex = from;
      } else {
        this.emit(true);
      }
    }
    this.append(text.slice(from));
  }

  end(): void {
    const rest = this.decoder.end();
    if (rest) this.push(rest);
    if (this.carriage) {
      this.carriage = false;
      this.emit(true);
    } else if (this.pending !== '' || this.overflow) {
      this.emit(false);
    }
  }

  private append(text: string): void {
    if (this.overflow || text === '') return;
    this.pending += text;
    if (this.pending.length > MAX_LINE_CHARS) {
      this.pending = this.pending.slice(0, MAX_LINE_CHARS) + ' …[line cut]';
      this.overflow = true;
    }
  }

  private emit(rewritten: boolean): void {
    const line = this.pending;
    this.pending = '';
    this.overflow = false;
    this.onLine(line, rewritten);
  }
}

/** Where a Screen writes its lines: an array, or a RingBuffer. */
interface LineSink {
  push(line: string): void;
  replaceLast(line: string): void;
}

/**
 * Lines as a terminal shows them: a line that follows a `\r` overwrites the one before it, so a
 * progress line rewritten a thousand times is one line, its latest version.
 */
export class Screen {
  private rewriting = false;
  constructor(private readonly sink: LineSink) {}

  write(line: string, rewritten: boolean): void {
    if (!this.rewriting) this.sink.push(line);
    else if (line !== '') this.sink.replaceLast(line); // an empty rewrite overwrites nothing
    this.rewriting = rewritten;
  }
}

/** A whole text as a terminal shows it, one entry per line. */
export function screenLines(text: string): string[] {
  const out: string[] = [];
  const screen = new Screen({ push: (l) => out.push(l), replaceLast: (l) => { out[out.length - 1] = l; } });
  const splitter = new LineSplitter((line, rewritten) => screen.write(line, rewritten));
  splitter.push(text);
  splitter.end();
  return out;
}
