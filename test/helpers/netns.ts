/**
 * A small internet on one machine: network namespaces joined by veth pairs, a bridge as the
 * public internet, and home routers that masquerade with nftables. Everything carries a per-run
 * prefix, so parallel runs never clash, and `destroy()` removes all of it (namespaces take their
 * interfaces, rules and processes' sockets with them).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const run = (cmd: string, args: string[], input?: string): string =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...(input === undefined ? {} : { input }) });

/** Why namespaces cannot be built here, or null when they can. */
export function netnsUnavailable(): string | null {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  if (process.getuid?.() !== 0) return 'building network namespaces needs root (CI runs as root)';
  for (const tool of ['ip', 'nft']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      return `${tool} is missing (bash scripts/setup.sh --test installs iproute2 and nftables)`;
    }
  }
  const probe = `swprobe${randomBytes(3).toString('hex')}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.status !== 0) return `ip netns add failed: ${add.stderr.trim()}`;
  const nft = spawnSync('ip', ['netns', 'exec', probe, 'nft', 'add', 'table', 'ip', 'probe'], { encoding: 'utf8' });
  spawnSync('ip', ['netns', 'del', probe]);
  if (nft.status !== 0) return `nftables does not work in a namespace here: ${nft.stderr.trim()}`;
  return null;
}

export interface HomeRouter {
  /** The router's address on the internet (its public IP). */
  wan: string;
  /** The box's address on the home network. */
  lan: string;
}

export class NetLab {
  readonly prefix = `sw${randomBytes(3).toString('hex')}`;
  private readonly spaces: string[] = [];
  private readonly children = new Set<ChildProcess>();
  private bridgePorts = 0;

  /** Builds the internet: namespace `inet`, a bridge `br0` for 11.0.0.0/24 (not a private range, so libp2p treats it as public). */
  init(): void {
    this.addNs('inet');
    this.ip('inet', 'link', 'add', 'br0', 'type', 'bridge');
    this.ip('inet', 'link', 'set', 'br0', 'up');
  }

  ns(name: string): string {
    return `${this.prefix}-${name}`;
  }

  private addNs(name: string): void {
    run('ip', ['netns', 'add', this.ns(name)]);
    this.spaces.push(this.ns(name));
    this.ip(name, 'link', 'set', 'lo', 'up');
  }

  private ip(name: string, ...args: string[]): void {
    run('ip', ['-n', this.ns(name), ...args]);
  }

  /** A box on the internet with a public address 11.0.0.<host>. */
  publicBox(name: string, host: number): string {
    this.addNs(name);
    this.plugIntoInternet(name, 'eth0');
    const addr = `11.0.0.${host}`;
    this.ip(name, 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
    return addr;
  }

  /** The internet namespace itself gets an address too (the relay runs there). */
  internetAddress(host: number): string {
    const addr = `11.0.0.${host}`;
    this.ip('inet', 'addr', 'add', `${addr}/24`, 'dev', 'br0');
    return addr;
  }

  private plugIntoInternet(name: string, iface: string): void {
    const port = `p${this.bridgePorts++}`;
    this.ip('inet', 'link', 'add', port, 'type', 'veth', 'peer', 'name', iface, 'netns', this.ns(name));
    this.ip('inet', 'link', 'set', port, 'master', 'br0', 'up');
    this.ip(name, 'link', 'set', iface, 'up');
  }

  /**
   * A home: router namespace `<name>-gw` (public 11.0.0.<host>, LAN 192.168.<host>.1, masquerade,
   * no unsolicited inbound) and the box namespace `<name>` (192.168.<host>.2). `forwardTcp` adds a
   * port forward of that TCP port to the box, as a user sets up on a home router.
   */
  home(name: string, host: number, forwardTcp?: number): HomeRouter {
    const gw = `${name}-gw`;
    const wan = `11.0.0.${host}`;
    const lan = `192.168.${host}.2`;
    this.addNs(gw);
    this.addNs(name);
    this.plugIntoInternet(gw, 'wan');
    this.ip(gw, 'addr', 'add', `${wan}/24`, 'dev', 'wan');
    this.ip(gw, 'link', 'add', 'lan', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.ns(name));
    this.ip(gw, 'addr', 'add', `192.168.${host}.1/24`, 'dev', 'lan');
    this.ip(gw, 'link', 'set', 'lan', 'up');
    this.ip(name, 'addr', 'add', `${lan}/24`, 'dev', 'eth0');
    this.ip(name, 'link', 'set', 'eth0', 'up');
    this.ip(name, 'route', 'add', 'default', 'via', `192.168.${host}.1`);
    run('ip', ['netns', 'exec', this.ns(gw), 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    const forward = forwardTcp === undefined ? '' : `
  chain pre {
    type nat hook prerouting priority dstnat;
    iifname "wan" tcp dport ${forwardTcp} dnat to ${lan}:${forwardTcp}
  }`;
    run('ip', ['netns', 'exec', this.ns(gw), 'nft', '-f', '-'], `table ip nat {
  chain post {
    type nat hook postrouting priority srcnat;
    oifname "wan" masquerade
  }${forward}
}
table ip filter {
  chain routed {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    ct status dnat accept
    iifname "lan" accept
  }
}
`);
    return { wan, lan };
  }

  /** Starts `node args...` inside a namespace; killed by destroy(). */
  spawnNode(name: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.ns(name), process.execPath, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env },
    });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  async destroy(): Promise<void> {
    await Promise.all([...this.children].map((c) => new Promise<void>((res) => {
      if (c.exitCode !== null || c.signalCode !== null) return res();
      const t = setTimeout(() => { c.kill('SIGKILL'); }, 3000);
      c.once('exit', () => { clearTimeout(t); res(); });
      c.kill('SIGTERM');
    })));
    for (const s of this.spaces.splice(0).reverse()) spawnSync('ip', ['netns', 'del', s]);
  }
}
