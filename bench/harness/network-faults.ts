/**
 * A bad network for one caller, made with nftables inside the room network's namespace: random
 * loss of the caller's UDP (its media, both ways) and full blackouts (UDP and its TCP to the
 * server). The kernel here has no `netem`; nftables' `numgen random` drops a share of packets.
 *
 * Every peer of the room network shares one namespace, and traffic between its addresses goes
 * over `lo`, so the caller is told apart by its sockets: those this process (where the callers
 * run) opened after `target()`, read from /proc. The worker and the server are other processes,
 * so their sockets are never in the sets; the stand-ins' sockets are TCP to 127.0.0.1, left out.
 * Rules sit on the output hook only: each packet on `lo` passes it once.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { nodeIp } from './room-network.ts';

export interface FaultCounts {
  /** The caller's packets seen, both ways (UDP, and TCP to the server). */
  packets: number;
  /** Of those, dropped by random loss and by blackouts. */
  lossDrops: number;
  blackoutDrops: number;
}

/** A UDP socket, or a TCP socket to the LiveKit server (signalling, ICE over TCP). */
interface OwnSocket {
  kind: 'udp' | 'tcp';
  port: number;
  inode: string;
}

/** The nft sets holding the caller's ports (`udp` and `tcp` are nft keywords). */
const setOf = { udp: 'uports', tcp: 'tports' } as const;

function nft(script: string): string {
  const r = spawnSync('nft', ['-f', '-'], { input: script, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`nft failed (${r.error?.message ?? r.stderr.trim()}); the lossy-network cases need nftables`);
  }
  return r.stdout;
}

/** Why faults cannot be injected here, or null. */
export function networkFaultsUnavailable(): string | null {
  if ((process.env.ROOMS_NETWORK ?? 'netns') !== 'netns') {
    return 'network faults run only in the room network’s own namespace (they would change the host’s firewall)';
  }
  const r = spawnSync('nft', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? null : `nft (Debian nftables) is needed for network faults: ${r.error?.message ?? r.stderr}`;
}

/** /proc/net's hex address (little-endian IPv4, or IPv6 holding a mapped IPv4) as dotted IPv4, else ''. */
function ipv4Of(hex: string): string {
  const v4 = hex.length === 32 ? hex.slice(24) : hex;
  if (v4.length !== 8) return '';
  return [6, 4, 2, 0].map((i) => parseInt(v4.slice(i, i + 2), 16)).join('.');
}

/** This process's UDP sockets and its TCP sockets to `server`, with their local ports. */
function ownSockets(server: string): OwnSocket[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // Closed between the listing and the read.
    }
  }
  const out: OwnSocket[] = [];
  for (const [file, kind] of [
    ['udp', 'udp'],
    ['udp6', 'udp'],
    ['tcp', 'tcp'],
    ['tcp6', 'tcp'],
  ] as const) {
    let text: string;
    try {
      text = readFileSync(`/proc/net/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !inodes.has(f[9]!)) continue;
      const [, localPort] = f[1]!.split(':');
      const [remoteHex] = f[2]!.split(':');
      const port = parseInt(localPort ?? '', 16);
      if (!Number.isInteger(port) || port === 0) continue;
      if (kind === 'udp' || ipv4Of(remoteHex ?? '') === server) out.push({ kind, port, inode: f[9]! });
    }
  }
  return out;
}

export class NetworkFaults {
  readonly #table = `lkfault_${process.pid}`;
  readonly #server = nodeIp();
  #baseline = new Set<string>();
  #udp = new Set<number>();
  #tcp = new Set<number>();
  #lossPct = 0;
  #blackout = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor() {
    const why = networkFaultsUnavailable();
    if (why) throw new Error(why);
    const t = this.#table;
    nft(`
table inet ${t} {
  set uports { type inet_service; }
  set tports { type inet_service; }
  counter seen {}
  counter lossdrop {}
  counter blackdrop {}
  chain out { type filter hook output priority 0; policy accept; }
}
`);
    this.#rules();
  }

  /** Creates the (empty) rule table; `close()` removes it. */
  static open(): NetworkFaults {
    return new NetworkFaults();
  }

  /**
   * From now on, sockets this process opens belong to the caller about to join: they are picked
   * up every 200 ms (libwebrtc opens more while it gathers candidates and on reconnection).
   */
  target(): void {
    this.#baseline = new Set(ownSockets(this.#server).map((s) => s.inode));
    this.#udp.clear();
    this.#tcp.clear();
    nft(`flush set inet ${this.#table} uports\nflush set inet ${this.#table} tports\n`);
    clearInterval(this.#timer);
    this.#timer = setInterval(() => this.#refresh(), 200);
    this.#refresh();
  }

  /** Drops this share (0-100 %) of the caller's UDP packets, each way, at random. */
  setLoss(pct: number): void {
    if (!(pct >= 0 && pct <= 100)) throw new Error(`loss must be 0-100 %, not ${pct}`);
    this.#lossPct = Math.round(pct);
    this.#rules();
  }

  /** Drops every packet of the caller (media and signalling) for `ms`, then lets them through again. */
  async blackout(ms: number): Promise<void> {
    this.#refresh();
    this.#blackout = true;
    this.#rules();
    try {
      await new Promise((r) => setTimeout(r, ms));
    } finally {
      this.#blackout = false;
      if (!this.#closed) this.#rules();
    }
  }

  /** The caller's ports under watch. */
  ports(): { udp: number[]; tcp: number[] } {
    return { udp: [...this.#udp], tcp: [...this.#tcp] };
  }

  counts(): FaultCounts {
    const text = nft(`list counters table inet ${this.#table}\n`);
    const read = (name: string) => Number(new RegExp(`counter ${name} \\{\\s*packets (\\d+)`).exec(text)?.[1] ?? 0);
    return { packets: read('seen'), lossDrops: read('lossdrop'), blackoutDrops: read('blackdrop') };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    nft(`delete table inet ${this.#table}\n`);
  }

  #refresh(): void {
    if (this.#closed) return;
    // Only sockets opened since target(): the earlier ones are other callers'.
    const fresh = ownSockets(this.#server).filter((s) => !this.#baseline.has(s.inode));
    const add = (kind: 'udp' | 'tcp', into: Set<number>) => {
      const ports = [...new Set(fresh.filter((s) => s.kind === kind && !into.has(s.port)).map((s) => s.port))];
      for (const p of ports) into.add(p);
      return ports.length ? `add element inet ${this.#table} ${setOf[kind]} { ${ports.join(', ')} }\n` : '';
    };
    const script = add('udp', this.#udp) + add('tcp', this.#tcp);
    if (script) nft(script);
  }

  /** Rebuilds the chain from the current loss and blackout (one atomic nft transaction). */
  #rules(): void {
    const t = this.#table;
    const lines = [
      `flush chain inet ${t} out`,
      `add rule inet ${t} out udp sport @uports counter name seen`,
      `add rule inet ${t} out udp dport @uports counter name seen`,
      `add rule inet ${t} out tcp sport @tports counter name seen`,
      `add rule inet ${t} out tcp dport @tports counter name seen`,
    ];
    if (this.#blackout) {
      for (const rule of ['udp sport @uports', 'udp dport @uports', 'tcp sport @tports', 'tcp dport @tports']) {
        lines.push(`add rule inet ${t} out ${rule} counter name blackdrop drop`);
      }
    } else if (this.#lossPct > 0) {
      for (const rule of ['udp sport @uports', 'udp dport @uports']) {
        lines.push(
          `add rule inet ${t} out ${rule} numgen random mod 100 < ${this.#lossPct} counter name lossdrop drop`,
        );
      }
    }
    nft(`${lines.join('\n')}\n`);
  }
}
