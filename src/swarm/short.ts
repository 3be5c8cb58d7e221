/** A peer id as people read it in logs: its last 8 characters. */
export const short = (peer: string) => peer.slice(-8);
