/**
 * Logging for every program of the suite: one line per event in syslog's format.
 *
 * Owns: the Logger type and its one implementation. Lines look like
 *   `<22>Nov 28 15:49:47 host cyrus/imap[1234]: session=ab12cd34 login user=fred`
 * (RFC 3164). Node cannot write to the datagram socket /dev/log without a native addon,
 * so lines go to stderr, where systemd's journal or master's log file collects them; a
 * program run by cyr_master writes to master's stderr. `CYRUS_VERBOSE` or imapd.conf
 * `debug: yes` lets debug lines through.
 *
 * Imports: node built-ins only.
 */
import { hostname } from 'node:os';

export type Severity = 'emerg' | 'alert' | 'crit' | 'err' | 'warning' | 'notice' | 'info' | 'debug';

const SEVERITY_CODE: Record<Severity, number> = {
  emerg: 0, alert: 1, crit: 2, err: 3, warning: 4, notice: 5, info: 6, debug: 7,
};

/** syslog facility codes by the names imapd.conf's `syslog_facility` accepts. */
export const FACILITY_CODE: Record<string, number> = {
  USER: 1, MAIL: 2, DAEMON: 3, NEWS: 7,
  LOCAL0: 16, LOCAL1: 17, LOCAL2: 18, LOCAL3: 19, LOCAL4: 20, LOCAL5: 21, LOCAL6: 22, LOCAL7: 23,
};

export interface Logger {
  readonly ident: string;
  debug(msg: string): void;
  info(msg: string): void;
  notice(msg: string): void;
  warning(msg: string): void;
  error(msg: string): void;
  crit(msg: string): void;
  /** A logger whose lines carry `session=<id>` (or another key=value prefix). */
  child(prefix: string): Logger;
}

export interface LoggerOptions {
  /** syslog facility name; default LOCAL6 as Cyrus. */
  facility?: string;
  /** let debug lines through */
  debug?: boolean;
  /** where lines go; default process.stderr */
  write?: (line: string) => void;
  /** syslog_prefix from imapd.conf or CYRUS_SYSLOG_PREFIX */
  prefix?: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function timestamp(d: Date): string {
  const day = String(d.getDate()).padStart(2, ' ');
  const t = [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  return `${MONTHS[d.getMonth()]} ${day} ${t}`;
}

/** Make a logger for a program or service; `ident` is the cyrus.conf entry name or the tool name. */
export function createLogger(ident: string, opts: LoggerOptions = {}): Logger {
  const prefix = process.env.CYRUS_SYSLOG_PREFIX ?? opts.prefix;
  const fullIdent = prefix ? `${prefix}/${ident}` : ident;
  const facility = FACILITY_CODE[(opts.facility ?? 'LOCAL6').toUpperCase()] ?? 22;
  const debug = opts.debug ?? Number(process.env.CYRUS_VERBOSE ?? '0') > 0;
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const host = hostname();
  const make = (linePrefix: string): Logger => {
    const emit = (sev: Severity, msg: string): void => {
      if (sev === 'debug' && !debug) return;
      // one event, one line: never let a client-supplied CR/LF split a log line
      const clean = msg.replace(/[\r\n]+/g, ' ');
      const pri = facility * 8 + SEVERITY_CODE[sev];
      write(`<${pri}>${timestamp(new Date())} ${host} ${fullIdent}[${process.pid}]: ${linePrefix}${clean}`);
    };
    return {
      ident: fullIdent,
      debug: (m) => emit('debug', m),
      info: (m) => emit('info', m),
      notice: (m) => emit('notice', m),
      warning: (m) => emit('warning', m),
      error: (m) => emit('err', m),
      crit: (m) => emit('crit', m),
      child: (p) => make(`${linePrefix}${p} `),
    };
  };
  return make('');
}

/** A logger that keeps its lines in memory: for tests. */
export function memoryLogger(ident = 'test'): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = createLogger(ident, { debug: true, write: (l) => lines.push(l) });
  return Object.assign(log, { lines });
}
