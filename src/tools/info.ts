/**
 * cyr_info: show the configuration and the live connections, as Cyrus's cyr_info does.
 *
 *   cyr_info [-C imapd.conf] [-M cyrus.conf] [-n service] [-s version] <command>
 *     conf          options whose value differs from the default, then overflow keys (`key: value`)
 *     conf-all      every option with its effective value, then overflow keys
 *     conf-default  every option's default
 *     conf-lint     lines Cyrus would not accept, unknown keys, a missing partition, cyrus.conf
 *                   findings; exit 1 if any
 *     services      check that every listen= of cyrus.conf resolves; print missing /etc/services lines
 *     proc          one line per live connection: pid service host [user] [mailbox] [command]
 *
 * Owns: this program's behaviour only; reading is done by src/config.
 * Exit codes: 0 fine, 1 findings (conf-lint, services), 64 usage, 78 configuration error.
 *
 * Imports: src/config, node:fs.
 */
import { parseProcFile, type ProcRecord } from '../master/procfile.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type CyrusConf } from '../config/api.js';
import { defaultCyrusConfPath, loadCyrusConf } from '../config/cyrus-conf.js';
import {
  defaultImapdConfPath,
  defaultPartition,
  impliedPath,
  isOverflowFamily,
  loadImapdConf,
  nearestOption,
  splitServicePrefix,
  type LoadedImapdConf,
} from '../config/imapd-conf.js';
import { optionNames, optionSpec, type OptionSpec } from '../config/imapoptions.js';
import { DEFAULT_SERVICES_FILE, resolveListen, servicesLineFor } from '../config/services.js';
import { EX_CONFIG, EX_USAGE } from '../config/tool.js';
import { parseBytesize, parseDuration } from '../config/values.js';

const USAGE = `usage: cyr_info [-C imapd.conf] [-M cyrus.conf] [-n servicename] [-s version] <command>
commands:
  conf          settings that differ from the defaults
  conf-all      every setting with its effective value
  conf-default  every setting's default value
  conf-lint     report lines Cyrus would not accept and unknown keys (exit 1 if any)
  services      check that every listen= in cyrus.conf resolves (exit 1 if not)
  proc          list live connections (proc files)
options:
  -C file       imapd.conf (default ${defaultImapdConfPath()})
  -M file       cyrus.conf (default ${defaultCyrusConfPath()})
  -n service    evaluate <service>_<option> overrides as this service
  -s version    mark options added or changed after this Cyrus version
  -h            this help
`;

export interface InfoIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** /etc/services replacement (tests) */
  servicesFile?: string;
}

const defaultIO: InfoIO = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

/** Program identities (besides cyrus.conf entry names) that may prefix `<ident>_<option>`. */
const PROGRAM_IDENTS = [
  'master',
  'imapd',
  'pop3d',
  'lmtpd',
  'nntpd',
  'timsieved',
  'httpd',
  'smmapd',
  'mupdate',
  'idled',
  'notifyd',
  'fud',
  'sync_server',
  'sync_client',
  'sync_reset',
  'ctl_cyrusdb',
  'ctl_mboxlist',
  'ctl_deliver',
  'ctl_conversationsdb',
  'ctl_zoneinfo',
  'cyr_expire',
  'cyr_info',
  'cyr_dbtool',
  'cyr_deny',
  'cyr_df',
  'cyr_ls',
  'cyr_synclog',
  'cyr_userseen',
  'cyr_virusscan',
  'deliver',
  'ipurge',
  'quota',
  'reconstruct',
  'mbpath',
  'mbexamine',
  'mbtool',
  'squatter',
  'tls_prune',
  'unexpunge',
  'arbitron',
  'chk_cyrus',
  'ptloader',
  'ptexpire',
  'ptdump',
  'fetchnews',
  'relocate_by_id',
  'sievec',
];
/** Service names assumed when there is no cyrus.conf to read. */
const USUAL_SERVICES = [
  'imap',
  'imaps',
  'pop3',
  'pop3s',
  'lmtp',
  'lmtpunix',
  'sieve',
  'nntp',
  'nntps',
  'smmap',
  'mupdate',
  'csync',
  'syncserver',
  'http',
  'https',
  'fud',
  'notify',
  'idled',
];

interface Args {
  imapdConf?: string;
  cyrusConf?: string;
  service?: string;
  since?: string;
  command?: string;
}

class Usage extends Error {}

function parseArgs(argv: readonly string[]): Args | 'help' {
  const a: Args = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^-([CMns])(.*)$/.exec(arg);
    if (m) {
      const v = m[2] !== '' ? m[2] : argv[++i];
      if (v === undefined) throw new Usage(`option -${m[1]} needs a value`);
      if (m[1] === 'C') a.imapdConf = v;
      else if (m[1] === 'M') a.cyrusConf = v;
      else if (m[1] === 'n') a.service = v;
      else {
        if (!/^(cyrus-imapd[- ])?[0-9]+(\.[0-9]+){0,2}$/.test(v))
          throw new Usage(`-s wants a version like 3.6.1, not '${v}'`);
        a.since = v.replace(/^cyrus-imapd[- ]/, '');
      }
    } else if (arg === '-h' || arg === '--help') {
      return 'help';
    } else if (arg.startsWith('-')) {
      throw new Usage(`unknown option ${arg}`);
    } else if (a.command === undefined) {
      a.command = arg;
    } else {
      throw new Usage(`unexpected argument '${arg}'`);
    }
  }
  if (a.command === undefined) throw new Usage('no command given');
  if (!['conf', 'conf-all', 'conf-default', 'conf-lint', 'services', 'proc'].includes(a.command)) {
    throw new Usage(`unknown command '${a.command}'`);
  }
  return a;
}

/** Run cyr_info; returns the exit code. */
export async function main(argv: string[], io: InfoIO = defaultIO): Promise<number> {
  let args: Args | 'help';
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof Usage)) throw e;
    io.stderr(`cyr_info: ${e.message}\n${USAGE}`);
    return EX_USAGE;
  }
  if (args === 'help') {
    io.stdout(USAGE);
    return 0;
  }
  const service = args.service ?? 'cyr_info';
  const imapdPath = args.imapdConf ?? defaultImapdConfPath();
  try {
    if (args.command === 'conf-lint') return lint(imapdPath, args, service, io);
    const conf = loadImapdConf(imapdPath, { service, warn: (m) => io.stderr(`cyr_info: warning: ${m}\n`) });
    switch (args.command) {
      case 'conf':
        printConf(conf, true, args.since, io);
        return 0;
      case 'conf-all':
        printConf(conf, false, args.since, io);
        return 0;
      case 'conf-default':
        printDefaults(args.since, io);
        return 0;
      case 'services':
        return checkServices(args.cyrusConf ?? defaultCyrusConfPath(), io);
      case 'proc':
        printProc(conf, io);
        return 0;
    }
    return EX_USAGE;
  } catch (e) {
    if (e instanceof ConfigError) {
      io.stderr(`cyr_info: ${e.message}\n`);
      return EX_CONFIG;
    }
    throw e;
  }
}

function versionNumber(v: string): number {
  const [a = 0, b = 0, c = 0] = v.split('.').map((x) => parseInt(x, 10));
  return a * 65536 + b * 256 + c;
}

function mark(spec: OptionSpec, since: string | undefined): string {
  return since !== undefined && versionNumber(spec.since) > versionNumber(since) ? `(${spec.since}) ` : '';
}

/** Values as Cyrus prints them: switches yes/no, the rest as text. */
function defaultText(spec: OptionSpec): string {
  if (spec.type === 'switch') return spec.default === true ? 'yes' : 'no';
  return spec.default === null ? '' : String(spec.default);
}

function printConf(conf: LoadedImapdConf, onlyChanged: boolean, since: string | undefined, io: InfoIO): void {
  const out: string[] = [];
  for (const s of conf.describe()) {
    if (onlyChanged && !differs(conf, s.name, s.value, s.spec)) continue;
    out.push(`${mark(s.spec, since)}${s.name}: ${s.value}`);
  }
  for (const l of conf.overflowEntries()) out.push(`${l.key}: ${l.value}`);
  io.stdout(out.map((l) => `${l}\n`).join(''));
}

/** Does the effective value differ from the default (compared as values, as Cyrus does)? */
function differs(conf: LoadedImapdConf, name: string, value: string, spec: OptionSpec): boolean {
  if (!conf.isSet(name)) return false;
  switch (spec.type) {
    case 'switch':
      return conf.getSwitch(name) !== (spec.default === true);
    case 'int':
      return conf.getInt(name) !== spec.default;
    case 'duration':
      return spec.default === null || conf.getDuration(name) !== durationOf(String(spec.default), spec);
    case 'bytesize':
      return conf.getBytes(name) !== bytesOf(String(spec.default), spec);
    case 'enum':
    case 'stringlist':
      return conf.getEnum(name) !== (spec.default === null ? '' : String(spec.default));
    case 'bitfield': {
      const d = defaultText(spec).split(/\s+/).filter(Boolean).sort().join(' ');
      return conf.getBits(name).slice().sort().join(' ') !== d;
    }
    default: {
      const d =
        spec.default === null
          ? null
          : String(spec.default).replace(/^\{configdirectory\}/, conf.configDirectory);
      return conf.getString(name) !== d;
    }
  }
}

function durationOf(text: string, spec: OptionSpec): number {
  const r = parseDuration(text, spec.unit);
  return r.ok ? r.value : NaN;
}

function bytesOf(text: string, spec: OptionSpec): number {
  const r = parseBytesize(text, spec.unit);
  return r.ok ? r.value : NaN;
}

function printDefaults(since: string | undefined, io: InfoIO): void {
  const out: string[] = [];
  for (const name of optionNames()) {
    const spec = optionSpec(name)!;
    out.push(`${mark(spec, since)}${name}: ${defaultText(spec)}`);
  }
  io.stdout(out.map((l) => `${l}\n`).join(''));
}

/** conf-lint: fatal lines, unknown keys, cyrus.conf findings. Exit 1 when anything is found. */
function lint(imapdPath: string, args: Args, service: string, io: InfoIO): number {
  const findings: string[] = [];
  const errors: ConfigError[] = [];
  const conf = loadImapdConf(imapdPath, { service, warn: () => {}, onError: (e) => errors.push(e) });
  for (const e of errors) findings.push(`error: ${e.message}`);
  // a Murder frontend (mupdate_server set, no partitions) stores no mail and needs no partition
  const frontend = conf.partitions().size === 0 && conf.getString('mupdate_server') !== null;
  try {
    if (!frontend) defaultPartition(conf);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    findings.push(`error: ${e.message}`);
  }

  // which <ident>_ prefixes are legitimate: cyrus.conf entry names, program identities, channels
  const idents = new Set(PROGRAM_IDENTS);
  const cyrusPath = args.cyrusConf ?? defaultCyrusConfPath();
  let cyrus: CyrusConf | undefined;
  if (args.cyrusConf !== undefined || existsSync(cyrusPath)) {
    try {
      cyrus = loadCyrusConf(cyrusPath);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      findings.push(`error: ${e.message}`);
    }
  } else {
    io.stderr(`cyr_info: note: ${cyrusPath} not found; assuming the usual service names\n`);
    for (const s of USUAL_SERVICES) idents.add(s);
  }
  if (cyrus) {
    for (const e of [...cyrus.start, ...cyrus.services, ...cyrus.events, ...cyrus.daemons])
      idents.add(e.name);
    for (const w of cyrus.warnings) findings.push(`warning: ${w}`);
  }
  const channels = (conf.getString('sync_log_channels') ?? '')
    .split(/\s+/)
    .filter((c) => c !== '' && c !== '""');

  for (const l of conf.overflowEntries()) {
    if (isOverflowFamily(l.key)) continue;
    if (knownPrefixed(l.key, idents, channels)) continue;
    const near = nearestOption(l.key);
    const split = splitServicePrefix(l.key);
    const hint = split
      ? `  (no service or program '${split.prefix}' in ${cyrus ? cyrus.path : 'the usual names'})`
      : near
        ? `  (did you mean '${near}'?)`
        : '';
    findings.push(`unknown: ${l.file}:${l.line}: ${l.key}: ${l.value}${hint}`);
  }
  for (const w of conf.warnings) {
    if (w.kind === 'deprecated' || w.kind === 'dbmap') io.stderr(`cyr_info: note: ${w.message}\n`);
  }
  io.stdout(findings.map((f) => `${f}\n`).join(''));
  return findings.length > 0 ? 1 : 0;
}

function knownPrefixed(key: string, idents: Set<string>, channels: string[]): boolean {
  for (let i = key.indexOf('_'); i > 0; i = key.indexOf('_', i + 1)) {
    const prefix = key.slice(0, i);
    const rest = key.slice(i + 1);
    const known = optionSpec(rest) !== undefined || isOverflowFamily(rest);
    if (!known) continue;
    if (idents.has(prefix)) return true;
    if (channels.includes(prefix) && rest.startsWith('sync_')) return true;
  }
  return false;
}

/** services: every listen= must resolve. */
function checkServices(cyrusPath: string, io: InfoIO): number {
  const cyrus = loadCyrusConf(cyrusPath);
  const file = io.servicesFile ?? DEFAULT_SERVICES_FILE;
  const missing = new Map<string, string>();
  let bad = 0;
  for (const s of cyrus.services) {
    try {
      const addrs = resolveListen(s.listen, s.proto, file);
      const shown = addrs
        .map((a) =>
          a.kind === 'unix'
            ? `unix:${a.path}`
            : `${a.host === null ? '*' : a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`,
        )
        .join(' ');
      io.stdout(`ok       ${s.name}\tlisten=${s.listen}\t${shown}\n`);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      bad++;
      io.stdout(`MISSING  ${s.name}\tlisten=${s.listen}\t${e.message}\n`);
      if (e.key) missing.set(e.key, servicesLineFor(e.key, s.proto.startsWith('udp') ? 'udp' : 'tcp'));
    }
  }
  if (missing.size > 0) {
    io.stdout(`\nadd these lines to ${file} (or use port numbers in listen=):\n`);
    for (const line of missing.values()) io.stdout(`${line}\n`);
  }
  return bad > 0 ? 1 : 0;
}

/**
 * proc: one file per live connection in proc_path. Cyrus names them by pid; our workers serve
 * many connections each, so ours are `<pid>.<n>` (src/master/procfile.ts). Both are read;
 * files of dead processes are skipped.
 */
function printProc(conf: LoadedImapdConf, io: InfoIO): void {
  const dir = impliedPath(conf, 'proc_path')!;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // no proc directory: nobody connected
  }
  const records: ProcRecord[] = [];
  for (const name of names) {
    let text: string;
    try {
      text = readFileSync(join(dir, name), 'utf8');
    } catch {
      continue; // went away meanwhile
    }
    const rec = parseProcFile(name, text.split('\n')[0] ?? '');
    if (rec && alive(rec.pid)) records.push(rec);
  }
  records.sort((a, b) => a.pid - b.pid || a.file.localeCompare(b.file, 'en', { numeric: true }));
  for (const r of records) {
    const fields = [String(r.pid), r.service, r.host, r.user, r.mailbox, r.command];
    io.stdout(`${fields.filter((f, i) => i < 3 || f !== '').join(' ')}\n`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
