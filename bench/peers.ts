/**
 * The servers our benchmarks are held against: Dovecot and Cyrus from Debian, started on
 * loopback in folders of the benchmark's own, with the same users.
 *
 * Owns: installing or finding them (`ensurePeers`), writing their configs, starting them, and
 * stopping exactly the processes it started (by pid). Dovecot comes from dovecot-imapd,
 * dovecot-pop3d and dovecot-lmtpd; Cyrus's master, lmtpd and tools from cyrus-common, and its
 * imapd/pop3d are unpacked from the cyrus-imapd/cyrus-pop3d .debs with `dpkg-deb -x` into
 * `.bench/cyrus-debs` (Debian marks dovecot-imapd and cyrus-imapd as conflicting). Neither
 * system instance is touched: apt's policy-rc.d keeps them from starting, and we run private
 * instances with their own state folders.
 *
 * Durability is the same for all: Dovecot fsyncs on commit (mail_fsync=optimized, its
 * default), Cyrus fsyncs by default, ours fsyncs before acknowledging.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface Endpoint {
  host: string;
  port: number;
}

export interface PeerServer {
  name: string;
  imap: Endpoint;
  pop3: Endpoint;
  lmtp: Endpoint;
  users: { user: string; pass: string }[];
  /** resident memory (KiB) of every process of this server */
  rssKiB(): number;
  /** the server's whole data directory (removed by stop unless keepData) */
  dataDir: string;
  /** stop every process; the data directory is removed unless `keepData` (then see removeData) */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

/**
 * Remove a stopped server's data directory. The comparisons call this only after the last
 * server ran: on ext4 without a journal (this VM's root file system) the kernel avoids
 * reusing an inode deleted in the last 60 s (6 min while its inode-table block is dirty) and
 * every file creation in that block group scans past all of them. Removing one server's tens
 * of thousands of files right before the next server starts made each of the next server's
 * file creations cost ~0.5 ms instead of ~20 us (measured: create 5,000 files, delete them,
 * create 5,000 more in a new directory), which penalised whichever server ran second.
 */
export function removeData(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface PeerOptions {
  users: number;
  password?: string;
}

const CYRUS_BIN = '/usr/lib/cyrus/bin';
const DEB_DIR = resolve('.bench/cyrus-debs');

/** A free TCP port on 127.0.0.1 (bind 0, read, close). */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

function run(cmd: string, args: string[], input?: string): { status: number; out: string } {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  return { status: r.status ?? 1, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

/** Install (apt) or find the peers; returns which are usable, with a reason for those that are not. */
export function ensurePeers(): { dovecot: string | null; cyrus: string | null } {
  const missing: string[] = [];
  if (
    !existsSync('/usr/sbin/dovecot') ||
    !existsSync('/usr/lib/dovecot/lmtp') ||
    !existsSync('/usr/lib/dovecot/pop3')
  )
    missing.push('dovecot-imapd', 'dovecot-pop3d', 'dovecot-lmtpd');
  if (!existsSync(`${CYRUS_BIN}/master`)) missing.push('cyrus-common');
  if (!existsSync('/usr/sbin/saslpasswd2')) missing.push('sasl2-bin');
  if (missing.length) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
    spawnSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'ignore', env });
  }
  if (!existsSync(join(DEB_DIR, 'root/usr/lib/cyrus/bin/imapd'))) {
    mkdirSync(DEB_DIR, { recursive: true });
    spawnSync('apt-get', ['download', 'cyrus-imapd', 'cyrus-pop3d'], { cwd: DEB_DIR, stdio: 'ignore' });
    for (const f of readdirSync(DEB_DIR).filter((f) => f.endsWith('.deb')))
      spawnSync('dpkg-deb', ['-x', join(DEB_DIR, f), join(DEB_DIR, 'root')], { stdio: 'ignore' });
  }
  return {
    dovecot: existsSync('/usr/sbin/dovecot')
      ? null
      : 'dovecot is not installed (apt-get install dovecot-imapd failed)',
    cyrus:
      existsSync(`${CYRUS_BIN}/master`) && existsSync(join(DEB_DIR, 'root/usr/lib/cyrus/bin/imapd'))
        ? null
        : 'cyrus-common or the cyrus-imapd .deb is not available',
  };
}

/** Sum of VmRSS (KiB) of the given pids and all their descendants. */
export function treeRssKiB(rootPids: number[]): number {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = spawnSync('cat', [`/proc/${d}/stat`], { encoding: 'utf8' }).stdout;
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(d));
      children.set(ppid, list);
    } catch {
      /* process went away */
    }
  }
  let total = 0;
  const stack = [...rootPids];
  const seen = new Set<number>();
  while (stack.length) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const status = spawnSync('cat', [`/proc/${pid}/status`], { encoding: 'utf8' }).stdout ?? '';
    const m = /VmRSS:\s+(\d+)/.exec(status);
    if (m) total += Number(m[1]);
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

async function waitForPort(ep: Endpoint, ms = 10000): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const s = connect(ep.port, ep.host);
      s.once('connect', () => {
        s.destroy();
        res(true);
      });
      s.once('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${ep.host}:${ep.port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopChild(child: ChildProcess, dir: string, keepData = false): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const done = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(t);
  }
  if (!keepData) removeData(dir);
}

function users(opts: PeerOptions): { user: string; pass: string }[] {
  return Array.from({ length: opts.users }, (_, i) => ({
    user: `bench${i + 1}`,
    pass: opts.password ?? 'benchpw',
  }));
}

export async function startDovecot(opts: PeerOptions): Promise<PeerServer> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-dovecot-'));
  chmodSync(dir, 0o755);
  const [imap, pop3, lmtp] = [await freePort(), await freePort(), await freePort()];
  const us = users(opts);
  mkdirSync(join(dir, 'home'));
  mkdirSync(join(dir, 'state'));
  spawnSync('chown', ['nobody:nogroup', join(dir, 'home')]);
  writeFileSync(join(dir, 'passwd'), us.map((u) => `${u.user}:{PLAIN}${u.pass}\n`).join(''));
  writeFileSync(
    join(dir, 'dovecot.conf'),
    `base_dir = ${dir}/run
state_dir = ${dir}/state
protocols = imap pop3 lmtp
listen = 127.0.0.1
log_path = ${dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = sdbox:~/mail
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
default_client_limit = 20000
default_process_limit = 20000
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=${dir}/home/%u
}
service imap-login {
  inet_listener imap {
    port = ${imap}
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = ${pop3}
  }
  inet_listener pop3s {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${lmtp}
  }
}
protocol lmtp {
  postmaster_address = postmaster@localhost
}
# the benchmarks open many sessions per user from one address (default limit: 10)
protocol imap {
  mail_max_userip_connections = 20000
}
protocol pop3 {
  mail_max_userip_connections = 20000
}
`,
  );
  const child = spawn('/usr/sbin/dovecot', ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: 'ignore' });
  const ep = (port: number): Endpoint => ({ host: '127.0.0.1', port });
  await waitForPort(ep(imap));
  return {
    name: 'dovecot',
    imap: ep(imap),
    pop3: ep(pop3),
    lmtp: ep(lmtp),
    users: us,
    rssKiB: () => treeRssKiB([child.pid!]),
    dataDir: dir,
    stop: (o) => stopChild(child, dir, o?.keepData),
  };
}

export async function startCyrus(opts: PeerOptions): Promise<PeerServer> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-cyrus-'));
  chmodSync(dir, 0o755);
  for (const d of ['conf', 'spool', 'sieve', 'run/socket', 'run/proc', 'run/lock'])
    mkdirSync(join(dir, d), { recursive: true });
  const [imap, pop3, lmtp] = [await freePort(), await freePort(), await freePort()];
  const us = users(opts);
  const servername = 'cyrus-bench';
  const conf = join(dir, 'imapd.conf');
  writeFileSync(
    conf,
    `configdirectory: ${dir}/conf
partition-default: ${dir}/spool
defaultpartition: default
sievedir: ${dir}/sieve
proc_path: ${dir}/run/proc
mboxname_lockpath: ${dir}/run/lock
lmtpsocket: ${dir}/run/socket/lmtp
idlesocket: ${dir}/run/socket/idle
notifysocket: ${dir}/run/socket/notify
admins: cyrus
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: ${dir}/sasldb
sasl_mech_list: PLAIN LOGIN
altnamespace: no
unixhierarchysep: no
autocreate_quota: 0
autocreate_post: yes
popminpoll: 0
servername: ${servername}
`,
  );
  const B = join(DEB_DIR, 'root/usr/lib/cyrus/bin');
  writeFileSync(
    join(dir, 'cyrus.conf'),
    `START {
  recover cmd="${CYRUS_BIN}/ctl_cyrusdb -C ${conf} -r"
}
SERVICES {
  imap cmd="${B}/imapd -C ${conf}" listen="127.0.0.1:${imap}" prefork=2
  pop3 cmd="${B}/pop3d -C ${conf}" listen="127.0.0.1:${pop3}" prefork=1
  lmtp cmd="${CYRUS_BIN}/lmtpd -a -C ${conf}" listen="127.0.0.1:${lmtp}" prefork=1
}
`,
  );
  for (const u of [...us, { user: 'cyrus', pass: us[0]?.pass ?? 'benchpw' }])
    run('/usr/sbin/saslpasswd2', ['-f', join(dir, 'sasldb'), '-p', '-c', '-u', servername, u.user], u.pass);
  spawnSync('chown', ['-R', 'cyrus:mail', dir]);
  const child = spawn(
    `${CYRUS_BIN}/master`,
    ['-D', '-C', conf, '-M', join(dir, 'cyrus.conf'), '-p', join(dir, 'run/master.pid')],
    { stdio: 'ignore' },
  );
  const ep = (port: number): Endpoint => ({ host: '127.0.0.1', port });
  await waitForPort(ep(imap));
  return {
    name: 'cyrus',
    imap: ep(imap),
    pop3: ep(pop3),
    lmtp: ep(lmtp),
    users: us,
    rssKiB: () => treeRssKiB([child.pid!]),
    dataDir: dir,
    stop: (o) => stopChild(child, dir, o?.keepData),
  };
}
