import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { StateError } from '../core/index.js';

/** The real path of `p` (links resolved) as far as it exists, with the part that does not exist yet appended. */
async function realPrefix(p: string): Promise<string> {
  let head = resolve(p);
  const tail: string[] = [];
  for (;;) {
    try {
      return join(await realpath(head), ...tail.reverse());
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const up = dirname(head);
      if (up === head) return join(head, ...tail.reverse());
      tail.push(head.slice(up.length).replace(/^[/\\]+/, ''));
      head = up;
    }
  }
}

/**
 * `root/name`, after checking that it stays inside `root` once every link is resolved. Every path
 * built from something that is not a constant (an id, a hash, a name) goes through here, so neither
 * `..` nor a planted symlink can take a write elsewhere (a run folder inside the git repository).
 */
export async function pathInside(root: string, name: string): Promise<string> {
  const base = await realPrefix(root);
  const full = await realPrefix(join(root, name));
  const rel = relative(base, full);
  if (isAbsolute(name) || rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new StateError(`refusing the path ${JSON.stringify(name).slice(0, 120)}: it leads outside ${root}`, {
      hint: 'a name from a peer or a link inside the state folder points elsewhere; nothing was written. Remove unexpected links from the state folder',
    });
  }
  return full;
}
