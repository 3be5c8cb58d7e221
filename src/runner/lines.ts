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
  toArray(): T[] {
    return [...this.items];
  }
}

/**
 * Feeds chunks, calls `onLine` for each complete line (without the newline). A `\r` inside a line
 * (progress bars) keeps only what follows the last `\r`, as a terminal would show it.
 * A line longer than MAX_LINE_CHARS is cut there; the rest of it is dropped.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private overflow = false;
  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let from = 0;
    for (;;) {
      const nl = text.indexOf('\n', from);
      if (nl < 0) {
        this.append(text.slice(from));
        return;
      }
      this.append(text.slice(from, nl));
      this.emit();
      from = nl + 1;
    }
  }

  end(): void {
    const rest = this.decoder.end();
    if (rest) this.append(rest);
    if (this.pending !== '' || this.overflow) this.emit();
  }

  private append(text: string): void {
    if (this.overflow) return;
    this.pending += text;
    if (this.pending.length > MAX_LINE_CHARS) {
      this.pending = this.pending.slice(0, MAX_LINE_CHARS) + ' …[line cut]';
      this.overflow = true;
    }
  }

  private emit(): void {
    let line = this.pending.endsWith('\r') ? this.pending.slice(0, -1) : this.pending;
    const cr = line.lastIndexOf('\r');
    if (cr >= 0) line = line.slice(cr + 1);
    this.pending = '';
    this.overflow = false;
    this.onLine(line);
  }
}
