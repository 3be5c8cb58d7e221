/**
 * Which (origin, seq) pairs this node has seen: per origin, the contiguous high-water mark
 * (every seq 1..hw seen) plus the seqs seen above it. The high-water marks are the `known`
 * vector a node sends in sync requests; a gap (a record lost in gossip) keeps hw below it, so
 * the next sync fetches it again.
 */
export class SeqTracker {
  private readonly hw = new Map<string, number>();
  private readonly above = new Map<string, Set<number>>();

  constructor(private readonly maxAbovePerOrigin = 100_000) {}

  /** Marks every seq ≤ `seq` of `peer` seen (e.g. what the local store already holds). */
  seed(known: Record<string, number>): void {
    for (const [peer, seq] of Object.entries(known)) {
      if (!Number.isSafeInteger(seq) || seq <= (this.hw.get(peer) ?? 0)) continue;
      this.hw.set(peer, seq);
      const set = this.above.get(peer);
      if (set) {
        for (const s of set) if (s <= seq) set.delete(s);
        this.compact(peer);
      }
    }
  }

  has(peer: string, seq: number): boolean {
    return seq <= (this.hw.get(peer) ?? 0) || (this.above.get(peer)?.has(seq) ?? false);
  }

  /** Records a seq; true when it was not seen before. */
  add(peer: string, seq: number): boolean {
    if (this.has(peer, seq)) return false;
    let set = this.above.get(peer);
    if (!set) {
      set = new Set();
      this.above.set(peer, set);
    }
    set.add(seq);
    this.compact(peer);
    if (set.size > this.maxAbovePerOrigin) {
      // A peer leaving huge gaps: forget the lowest half at once (they may be emitted twice; harmless),
      // so the sort is paid once per maxAbovePerOrigin / 2 adds rather than on every add.
      const sorted = [...set].sort((a, b) => a - b);
      for (const s of sorted.slice(0, set.size - Math.floor(this.maxAbovePerOrigin / 2))) set.delete(s);
    }
    return true;
  }

  private compact(peer: string): void {
    const set = this.above.get(peer);
    if (!set) return;
    let hw = this.hw.get(peer) ?? 0;
    while (set.delete(hw + 1)) hw++;
    if (hw > 0) this.hw.set(peer, hw);
    if (set.size === 0) this.above.delete(peer);
  }

  /** Contiguous high-water marks, origin → seq. */
  known(): Record<string, number> {
    return Object.fromEntries(this.hw);
  }
}
