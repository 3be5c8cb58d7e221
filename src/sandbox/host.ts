/** Small facts about the host the fence is built from: where its tools are, who the run is. */
import { accessSync, constants, writeFileSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { fenceTmp } from './tmp.js';

/** The uid and gid a run gets when the node is root: nobody/nogroup, which owns nothing on the host. */
export const NOBODY = 65534;

/** A program's absolute path: `name` itself when absolute and executable, else the first on PATH. */
export function findTool(name: string, path = process.env.PATH ?? '/usr/bin:/bin'): string | null {
  const candidates = isAbsolute(name) ? [name] : [...path.split(delimiter).filter(Boolean), '/usr/bin', '/bin', '/usr/sbin', '/sbin'].map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not there
    }
  }
  return null;
}

/**
 * passwd and group files naming root, nobody and the run's uid, shown as /etc/passwd and /etc/group
 * (the host's would list its users; Python's getpass and PyTorch's cache folders look the uid up).
 */
export function identityFiles(uid: number, gid: number): { passwd: string; group: string } {
  const users = new Map([[0, 'root:x:0:0:root:/root:/usr/sbin/nologin'], [NOBODY, `nobody:x:${NOBODY}:${NOBODY}:nobody:/nonexistent:/usr/sbin/nologin`]]);
  if (!users.has(uid)) users.set(uid, `swarm:x:${uid}:${gid}:swarm run:/nonexistent:/usr/sbin/nologin`);
  const groups = new Map([[0, 'root:x:0:'], [NOBODY, `nogroup:x:${NOBODY}:`]]);
  if (!groups.has(gid)) groups.set(gid, `swarm:x:${gid}:`);
  const passwd = join(fenceTmp(), `passwd-${uid}`);
  const group = join(fenceTmp(), `group-${gid}`);
  writeFileSync(passwd, [...users.values()].join('\n') + '\n', { mode: 0o644 });
  writeFileSync(group, [...groups.values()].join('\n') + '\n', { mode: 0o644 });
  return { passwd, group };
}
